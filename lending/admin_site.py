from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite


class BackOfficeSite(OTPAdminSite):
    """Staff reach the back office only after a second factor (TOTP or a backup code)."""

    site_header = _("Lending back office")
    site_title = _("Back office")
    index_title = _("Compliance and audit")

    def __init__(self, name="admin"):
        super().__init__(name)
