from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import selectors
from accounts.decorators import borrower_required
from accounts.notifications import render as render_notification
from accounts.services import notifications_mark_read
from lending.paging import ReadFirstPaginator


@borrower_required
def inbox(request):
    notifications = ReadFirstPaginator(selectors.notifications_to_page(request.user), 20)
    page = notifications.get_page(request.GET.get("page"))
    items = [(n, *render_notification(n.kind, n.params)) for n in page]
    return render(request, "accounts/notifications.html", {"page": page, "items": items})


@require_POST
@borrower_required
def mark_read(request):
    notifications_mark_read(actor=request.user)
    return redirect("notifications")
