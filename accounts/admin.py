from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import Consent, FaceCheck, Identity, PhoneChange, PhoneCheck, SmsMessage, User
from accounts.policies import TITLES
from accounts.roles import ROLES, group_label
from accounts.services.login import login_lockout_lift
from lending.admin_tools import AccessLoggedAdminMixin, ClosedAccountsRestrictedMixin, ReadOnlyAdminMixin
from lending.errors import DomainError
from lending.pii import mask_name


class FrozenFilter(admin.SimpleListFilter):
    title = _("frozen")
    parameter_name = "frozen"

    def lookups(self, request, model_admin):
        return (("yes", _("Yes")), ("no", _("No")))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(frozen_at__isnull=self.value() == "no")
        return queryset


class RoleFilter(admin.SimpleListFilter):
    """Staff roles by their translated names (the groups' stored names are codes)."""

    title = _("role")
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return [(role.group, role.label) for role in ROLES.values()]

    def queryset(self, request, queryset):
        return queryset.filter(groups__name=self.value()) if self.value() else queryset


@admin.register(User)
class UserAdmin(
    ClosedAccountsRestrictedMixin, AccessLoggedAdminMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin
):
    borrower_path = ""
    list_display = ("__str__", "is_staff", "is_active", "frozen_at", "date_joined")
    list_filter = ("is_staff", "is_active", FrozenFilter, RoleFilter)
    search_fields = ("=username",)
    search_help_text = _("Search by exact username")
    fields = (
        "username",
        "masked_phone",
        "is_staff",
        "is_active",
        "frozen_at",
        "frozen_reason",
        "language",
        "roles",
        "date_joined",
        "last_login",
    )
    readonly_fields = fields
    history_list_display = ("username", "is_staff", "is_active", "frozen_at")
    change_form_template = "admin/revealable_change_form.html"
    revealable = {"phone": (_("Full mobile number"), lambda user: str(user.phone or ""))}

    actions = ["lift_lockout"]

    @admin.display(description=_("mobile number"))
    def masked_phone(self, obj):
        return obj.masked_phone

    @admin.display(description=_("roles"))
    def roles(self, obj):
        return gettext(", ").join(group_label(group.name) for group in obj.groups.all()) or "—"

    def has_unlock_permission(self, request):
        return request.user.has_perm("accounts.unlock_user")

    @admin.action(description=_("Lift the sign-in lock-out of the selected users"), permissions=["unlock"])
    def lift_lockout(self, request, queryset):
        for user in queryset:
            try:
                login_lockout_lift(actor=request.user, user=user)
            except DomainError as exc:
                self.message_user(request, f"{user}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, gettext("%(object)s: done.") % {"object": user}, messages.SUCCESS)


@admin.register(Identity)
class IdentityAdmin(
    ClosedAccountsRestrictedMixin, AccessLoggedAdminMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin
):
    list_display = ("user", "masked_name", "id_number_masked", "verified_at")
    fields = ("user", "masked_name", "id_number_masked", "birth_date", "verified_at")
    readonly_fields = fields
    history_list_display = ("id_number_masked",)
    change_form_template = "admin/revealable_change_form.html"
    revealable = {
        "real_name": (_("Full real name"), lambda identity: identity.real_name),
        "id_number": (_("Full ID number"), lambda identity: identity.id_number),
    }

    @admin.display(description=_("real name"))
    def masked_name(self, obj):
        return mask_name(obj.real_name)


@admin.register(PhoneChange)
class PhoneChangeAdmin(ClosedAccountsRestrictedMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = (
        "user",
        "path",
        "status",
        "old_phone_masked",
        "new_phone_masked",
        "started_at",
        "completed_at",
    )
    list_filter = ("path", "status", ("started_at", admin.DateFieldListFilter))
    fields = ("user", "path", "status", "old_phone_masked", "new_phone_masked", "started_at", "completed_at")
    readonly_fields = fields
    list_select_related = ("user",)
    show_full_result_count = False


class DocumentFilter(admin.SimpleListFilter):
    title = _("document")
    parameter_name = "document"

    def lookups(self, request, model_admin):
        return list(TITLES.items())

    def queryset(self, request, queryset):
        return queryset.filter(document=self.value()) if self.value() else queryset


@admin.register(Consent)
class ConsentAdmin(ClosedAccountsRestrictedMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "document_title", "version", "language", "accepted_at", "ip")
    list_filter = (DocumentFilter, "version")
    fields = (
        "user",
        "document_title",
        "version",
        "language",
        "text_sha256",
        "accepted_at",
        "ip",
        "user_agent",
    )
    readonly_fields = fields

    @admin.display(description=_("document"), ordering="document")
    def document_title(self, consent):
        return TITLES.get(consent.document, consent.document)

    list_select_related = ("user",)
    show_full_result_count = False


@admin.register(FaceCheck)
class FaceCheckAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Results only: the provider's page keeps no picture and neither does the platform."""

    list_display = ("user", "purpose", "status", "similarity", "started_at", "checked_at")
    list_filter = ("purpose", "status")
    fields = (
        "user",
        "purpose",
        "phone_change",
        "consent",
        "status",
        "similarity",
        "start_request_id",
        "result_request_id",
        "started_at",
        "checked_at",
    )
    readonly_fields = fields
    list_select_related = ("user",)
    show_full_result_count = False


@admin.register(PhoneCheck)
class PhoneCheckAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "purpose", "phone_masked", "outcome", "checked_at")
    list_filter = ("purpose", "outcome")
    fields = (
        "user",
        "purpose",
        "phone_change",
        "phone_masked",
        "outcome",
        "provider_request_id",
        "checked_at",
    )
    readonly_fields = fields
    list_select_related = ("user",)
    show_full_result_count = False


@admin.register(SmsMessage)
class SmsMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Delivery state only: the text may hold a live code and is never shown here."""

    list_display = (
        "id",
        "to_masked",
        "template",
        "status",
        "attempts",
        "created_at",
        "sent_at",
        "last_error",
    )
    list_filter = ("status", "template")
    fields = (
        "to_masked",
        "template",
        "status",
        "attempts",
        "last_error",
        "provider_reference",
        "created_at",
        "sent_at",
    )
    readonly_fields = fields
    show_full_result_count = False
