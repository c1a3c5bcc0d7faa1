import json
from urllib.parse import urlencode

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from cards.models import BankNotice, Card, CardBindRequest, Mandate, ReconciliationBreak, ReconciliationRun
from cards.services.reconciliation import reconciliation_break_resolve
from lending.admin_tools import (
    AccessLoggedAdminMixin,
    CappedCountPaginator,
    ClosedAccountsRestrictedMixin,
    ReadOnlyAdminMixin,
    note_action,
)
from lending.pii import mask_name


@admin.register(Card)
class CardAdmin(
    ClosedAccountsRestrictedMixin, AccessLoggedAdminMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin
):
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
class MandateAdmin(ClosedAccountsRestrictedMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    borrower_path = "card__user"
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
class CardBindRequestAdmin(ClosedAccountsRestrictedMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
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


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Each settlement date's reconciliation with the bank: totals, and the files' proofs."""

    list_display = (
        "settle_date",
        "status",
        "lines",
        "matched",
        "matched_amount",
        "agreements",
        "breaks_link",
        "statement_final",
        "finished_at",
    )
    list_filter = ("status",)
    date_hierarchy = "settle_date"
    fields = (
        "settle_date",
        "status",
        "error",
        "started_at",
        "finished_at",
        "lines",
        "matched",
        "matched_amount",
        "agreements",
        "breaks_link",
        "statement_final",
        "statement_sha256",
        "statement_signature",
        "agreement_sha256",
        "agreement_signature",
    )
    readonly_fields = fields

    @admin.display(description=_("differences"), ordering="breaks")
    def breaks_link(self, obj):
        url = reverse("admin:cards_reconciliationbreak_changelist")
        query = urlencode({"settle_date__exact": obj.settle_date.isoformat()})
        return format_html('<a href="{}?{}">{}</a>', url, query, obj.breaks)


@admin.register(ReconciliationBreak)
class ReconciliationBreakAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    """Differences between the bank's statement and our records; officers resolve them with a note."""

    list_display = (
        "settle_date",
        "kind",
        "order_no",
        "our_amount",
        "bank_amount",
        "status",
        "found_at",
        "resolved_by",
    )
    list_filter = ("status", "kind", "settle_date")
    list_select_related = ("resolved_by",)
    date_hierarchy = "settle_date"
    search_fields = ("=order_no",)
    paginator = CappedCountPaginator
    show_full_result_count = False
    actions = ["resolve"]
    fields = (
        "settle_date",
        "kind",
        "order_no",
        "attempt",
        "mandate",
        "our_amount",
        "bank_amount",
        "evidence_shown",
        "status",
        "found_at",
        "resolution_note",
        "resolved_by",
        "resolved_at",
    )
    readonly_fields = fields
    history_list_display = ("status",)

    @admin.display(description=_("evidence"))
    def evidence_shown(self, obj):
        return format_html(
            "<pre>{}</pre>", json.dumps(obj.evidence, ensure_ascii=False, indent=2, sort_keys=True)
        )

    def has_resolve_permission(self, request):
        return request.user.has_perm("cards.resolve_reconciliationbreak")

    @admin.action(description=_("Resolve the selected differences"), permissions=["resolve"])
    def resolve(self, request, queryset):
        return note_action(
            self,
            request,
            queryset,
            title=_("Resolve"),
            apply=lambda item, note: reconciliation_break_resolve(
                actor=request.user, reconciliation_break=item, note=note
            ),
        )
