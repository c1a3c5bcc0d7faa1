from functools import partial

from django.apps import apps
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite

from accounts.forms_staff import BackOfficeLoginForm

# The lists officers and auditors work in, linked from the header of every back-office page.
WORK_LISTS = (
    "audit.ReviewCase",
    "audit.RiskAlert",
    "support.SupportCase",
    "audit.AuditEvent",
    "audit.AuditExport",
)


class BackOfficeSite(OTPAdminSite):
    """Staff reach the back office only after a second factor (TOTP or a backup code), and the
    password step before it locks like the borrowers' (accounts.services.login).

    Django's nav sidebar, every registered model on every page, is off: building and printing it
    was about 30 % of a list page's work (bench/instructions.py). The header links the work lists
    instead, and the home page still lists everything."""

    site_header = _("Lending back office")
    site_title = _("Back office")
    index_title = _("Compliance and audit")
    login_template = "admin/back_office_login.html"
    login_form = BackOfficeLoginForm
    enable_nav_sidebar = False

    def __init__(self, name="admin"):
        super().__init__(name)

    def get_app_list(self, request, app_label=None):
        """Built when a page reads it (the home and app pages); each_context asks for it on
        every page only for the nav sidebar."""
        return SimpleLazyObject(partial(super().get_app_list, request, app_label))

    def each_context(self, request):
        """Adds the work lists the user may see, and how many open review cases the officer has
        not opened yet (the unread marker)."""
        from audit.selectors import unseen_open_case_count

        context = super().each_context(request)
        user = request.user
        if context["has_permission"]:
            context["work_lists"] = work_lists(user, request.path)
        if user.is_authenticated and user.is_staff and user.has_perm("audit.decide_reviewcase"):
            context["new_review_cases"] = unseen_open_case_count(user.pk)
        return context


def work_lists(user, path: str) -> list[dict]:
    """Name, address and whether it is the current page, for each work list ``user`` may view."""
    lists = []
    for label in WORK_LISTS:
        opts = apps.get_model(label)._meta
        if user.has_perm(f"{opts.app_label}.view_{opts.model_name}"):
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            lists.append({"name": opts.verbose_name_plural, "url": url, "current": path.startswith(url)})
    return lists
