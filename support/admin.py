"""The support queue: help requests worked by the support role and officers.

Personal data is masked in the queue and on the page (the contact number masked, messages
masked when stored). Every action is a POST to ``<id>/act/`` that calls one service.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lending.admin_tools import (
    AccessLoggedAdminMixin,
    ClosedAccountsRestrictedMixin,
    ReadOnlyAdminMixin,
    object_pk,
    warn_if_masked,
)
from lending.errors import DomainError
from lending.ids import parse_id
from support import selectors
from support.models import SupportCase
from support.services import (
    overdue_q,
    support_case_assign,
    support_case_note,
    support_case_reopen,
    support_case_reply,
    support_case_resolve,
    support_case_to_review,
)


class OverdueFilter(admin.SimpleListFilter):
    title = _("SLA")
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        return (("overdue", _("Past a deadline")), ("mine", _("Assigned to me")))

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return queryset.exclude(status=SupportCase.Status.RESOLVED).filter(overdue_q(timezone.now()))
        if self.value() == "mine":
            return queryset.filter(assigned_to=request.user)
        return queryset


@admin.register(SupportCase)
class SupportCaseAdmin(
    ClosedAccountsRestrictedMixin, AccessLoggedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin
):
    borrower_path = "borrower"
    list_display = (
        "id",
        "category",
        "is_complaint",
        "status",
        "borrower",
        "contact_phone_masked",
        "assigned_to",
        "opened_at",
        "first_answer_due_at",
        "resolve_due_at",
        "escalated_at",
    )
    list_filter = (OverdueFilter, "status", "category", "is_complaint", "signed_out")
    list_select_related = ("borrower", "assigned_to")
    show_full_result_count = False
    fields = (
        "category",
        "is_complaint",
        "signed_out",
        "status",
        "borrower",
        "contact_phone_masked",
        "card",
        "loan",
        "about_review_case",
        "review_case",
        "assigned_to",
        "opened_at",
        "first_answer_due_at",
        "first_answered_at",
        "resolve_due_at",
        "resolved_at",
        "escalated_at",
    )
    change_form_template = "admin/support/supportcase/change_form.html"

    def get_queryset(self, request):
        """Open first, the closest deadline first; closed accounts' requests stay with officers."""
        queryset = (
            super()
            .get_queryset(request)
            .annotate(
                open_first=Case(
                    When(status=SupportCase.Status.RESOLVED, then=Value(1)),
                    default=Value(0),
                    output_field=IntegerField(),
                )
            )
        )
        return queryset.order_by("open_first", "first_answer_due_at", "-id")

    def has_work_permission(self, request):
        return request.user.has_perm("support.change_supportcase")

    def get_urls(self):
        act = self.admin_site.admin_view(self.act_view)
        return [path("<id:case_id>/act/", act, name="support_supportcase_act"), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        case = get_object_or_404(self.get_queryset(request), pk=object_pk(SupportCase, object_id))
        extra = {
            "case": case,
            "thread": case.messages.select_related("author"),
            "can_work": self.has_work_permission(request),
            "act_url": reverse("admin:support_supportcase_act", args=[case.pk]),
            "assignees": selectors.support_staff(),
        }
        return super().change_view(
            request, object_id, form_url, extra_context={**extra, **(extra_context or {})}
        )

    @staticmethod
    def _assignee(request):
        return get_object_or_404(
            selectors.support_staff(), pk=parse_id(request.POST.get("assignee", "")) or 0
        )

    def act_view(self, request, case_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_work_permission(request):
            raise PermissionDenied
        case = get_object_or_404(self.get_queryset(request), pk=case_id)
        action, text = request.POST.get("action", ""), request.POST.get("text", "")
        actions = {
            "reply": lambda: support_case_reply(actor=request.user, case=case, text=text),
            "note": lambda: support_case_note(actor=request.user, case=case, text=text),
            "assign_me": lambda: support_case_assign(actor=request.user, case=case, assignee=request.user),
            "assign": lambda: support_case_assign(
                actor=request.user, case=case, assignee=self._assignee(request)
            ),
            "resolve": lambda: support_case_resolve(actor=request.user, case=case),
            "reopen": lambda: support_case_reopen(actor=request.user, case=case),
            "review": lambda: support_case_to_review(actor=request.user, case=case),
        }
        if action not in actions:
            self.message_user(request, _("Choose an action."), messages.ERROR)
            return redirect("admin:support_supportcase_change", case.pk)
        try:
            actions[action]()
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            if text:
                warn_if_masked(request, text)
            self.message_user(request, _("Done."), messages.SUCCESS)
        return redirect("admin:support_supportcase_change", case.pk)
