from django.conf import settings
from django.utils.translation import ngettext

from accounts.decorators import is_signed_in_borrower


def portal(request):
    """The signed-in borrower (both factors passed) and their unread notifications, for the header.

    ``dev_sms`` points newcomers to the development SMS page while DEBUG is on.
    """
    user = getattr(request, "user", None)
    if not is_signed_in_borrower(user):
        return {"borrower": None, "dev_sms": settings.DEBUG}
    unread = user.unread_notifications
    return {
        "borrower": user,
        "unread_notifications": unread,
        # The badge's label, said in the header and the tab bar: worked out once per page.
        "unread_label": ngettext("%(counter)s unread", "%(counter)s unread", unread) % {"counter": unread},
        "dev_sms": settings.DEBUG,
    }
