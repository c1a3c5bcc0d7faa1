from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite

from accounts.forms_staff import BackOfficeLoginForm


class BackOfficeSite(OTPAdminSite):
    """Staff reach the back office only after a second factor (TOTP or a backup code), and the
    password step before it locks like the borrowers' (accounts.services.login)."""

    site_header = _("Lending back office")
    site_title = _("Back office")
    index_title = _("Compliance and audit")
    login_template = "admin/back_office_login.html"
    login_form = BackOfficeLoginForm

    def __init__(self, name="admin"):
        super().__init__(name)

    def each_context(self, request):
        """Adds how many open review cases the officer has not opened yet (the unread marker)."""
        from audit.selectors import unseen_open_cases

        context = super().each_context(request)
        user = request.user
        if user.is_authenticated and user.is_staff and user.has_perm("audit.decide_reviewcase"):
            context["new_review_cases"] = unseen_open_cases(user).count()
        return context
