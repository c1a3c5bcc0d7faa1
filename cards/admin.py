from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from cards.models import BankNotice, Card, CardBindRequest, Mandate
from lending.admin_tools import AccessLoggedAdminMixin, ReadOnlyAdminMixin
from lending.pii import mask_name


@admin.register(Card)
class CardAdmin(AccessLoggedAdminMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("__str__", "user", "card_type", "status", "is_repayment", "bound_at", "unbound_at")
    list_filter = ("status", "card_type", "is_repayment", "bank_code")
    list_select_related = ("user",)
    show_full_result_count = False
    fields = (
        "user",
        "bank_code",
        "bin",
        "last4",
        "card_type",
        "masked_holder",
        "reserved_phone_masked",
        "status",
        "is_repayment",
        "bound_at",
        "unbound_at",
    )
    readonly_fields = fields
    history_list_display = ("status", "is_repayment")

    @admin.display(description=_("holder"))
    def masked_holder(self, obj):
        return mask_name(obj.holder_name)


@admin.register(Mandate)
class MandateAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("card", "status", "agreement_version", "created_at", "revoked_at", "revoked_at_bank")
    list_filter = ("status",)
    list_select_related = ("card",)
    fields = ("card", "status", "agreement_version", "created_at", "revoked_at", "revoked_at_bank")
    readonly_fields = fields


class BindFailureFilter(admin.SimpleListFilter):
    title = _("failure code")
    parameter_name = "failure_code"

    def lookups(self, request, model_admin):
        return list(CardBindRequest.FAILURE_LABELS.items())

    def queryset(self, request, queryset):
        return queryset.filter(failure_code=self.value()) if self.value() else queryset


@admin.register(CardBindRequest)
class CardBindRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "user", "bank_code", "status", "failure", "wrong_tries", "created_at")
    list_filter = ("status", BindFailureFilter)
    list_select_related = ("user",)
    show_full_result_count = False
    fields = (
        "user",
        "bank_code",
        "bin",
        "last4",
        "card_type",
        "status",
        "failure",
        "wrong_tries",
        "created_at",
        "card",
    )
    readonly_fields = fields

    @admin.display(description=_("failure code"), ordering="failure_code")
    def failure(self, bind_request):
        return bind_request.failure_label or "—"


@admin.register(BankNotice)
class BankNoticeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What the bank told us (applied by a task); a conflict is a reconciliation break."""

    list_display = ("notice_id", "kind", "status", "received_at", "applied_at", "note")
    list_filter = ("status", "kind")
    search_fields = ("notice_id",)
    show_full_result_count = False
    fields = ("notice_id", "kind", "status", "received_at", "applied_at", "note", "payload")
    readonly_fields = fields
