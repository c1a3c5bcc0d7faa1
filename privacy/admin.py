"""Closed accounts' restricted records: officers only; the kept identification is shown in full
only to staff who may reveal personal data, each reveal audited."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from lending.admin_tools import AccessLoggedAdminMixin, ReadOnlyAdminMixin
from lending.pii import mask_id_number, mask_name, mask_phone
from privacy.models import AccountClosure


@admin.register(AccountClosure)
class AccountClosureAdmin(AccessLoggedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "user", "status", "requested_at", "effective_at", "closed_at", "retain_until")
    list_filter = ("status",)
    list_select_related = ("user",)
    fields = (
        "user",
        "status",
        "requested_at",
        "effective_at",
        "cancelled_at",
        "closed_at",
        "retain_until",
        "kept_phone",
        "kept_name",
        "kept_id_number",
        "summary",
    )
    readonly_fields = fields
    change_form_template = "admin/revealable_change_form.html"
    revealable = {
        "phone": (_("Kept mobile number"), lambda closure: closure.restricted("phone")),
        "real_name": (_("Kept real name"), lambda closure: closure.restricted("real_name")),
        "id_number": (_("Kept ID number"), lambda closure: closure.restricted("id_number")),
    }

    @admin.display(description=_("kept mobile number"))
    def kept_phone(self, obj):
        return mask_phone(obj.restricted("phone")) if obj.phone_encrypted else "—"

    @admin.display(description=_("kept real name"))
    def kept_name(self, obj):
        return mask_name(obj.restricted("real_name")) if obj.real_name_encrypted else "—"

    @admin.display(description=_("kept ID number"))
    def kept_id_number(self, obj):
        return mask_id_number(obj.restricted("id_number")) if obj.id_number_encrypted else "—"
