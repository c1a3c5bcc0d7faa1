from django.conf import settings


def portal(request):
    """The signed-in borrower (both factors passed) and their unread notifications, for the header.

    ``dev_sms`` points newcomers to the development SMS page while DEBUG is on.
    """
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated and user.is_borrower and user.is_verified()):
        return {"borrower": None, "dev_sms": settings.DEBUG}
    return {"borrower": user, "unread_notifications": user.unread_notifications, "dev_sms": settings.DEBUG}
