from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from lending.admin_tools import ClosedAccountsRestrictedMixin, ReadOnlyAdminMixin, note_action
from lending.errors import DomainError
from lending.forms import LoanDisburseForm
from lending.models import DebitAttempt, Installment, Loan, OutboxMessage
from lending.services import installment_retry, loan_create


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "task", "status", "created_at", "published_at", "attempts", "last_error")
    list_filter = ("status",)
    show_full_result_count = False


class InstallmentInline(admin.TabularInline):
    model = Installment
    fields = (
        "number",
        "due_date",
        "principal_due",
        "interest_due",
        "paid_amount",
        "status",
        "next_attempt_at",
        "soft_failures",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class PaymentInline(admin.TabularInline):
    """Every debit of the loan's installments, the borrower's own payments among them (trigger)."""

    model = DebitAttempt
    fk_name = "installment"
    fields = ("created_at", "installment", "trigger", "amount", "card", "status", "gateway_reference")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = gettext_lazy("payments and debits")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Loan)
class LoanAdmin(ClosedAccountsRestrictedMixin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    borrower_path = "borrower"
    list_display = (
        "__str__",
        "borrower",
        "principal",
        "annual_rate",
        "term_months",
        "status",
        "disbursed_at",
    )
    list_filter = ("product", "status")
    list_select_related = ("borrower",)
    show_full_result_count = False
    fields = (
        "borrower",
        "product",
        "principal",
        "annual_rate",
        "term_months",
        "status",
        "disbursed_at",
        "balance",
        "paid",
        "days_past_due",
        "payments",
    )
    readonly_fields = fields
    inlines = [InstallmentInline]

    @admin.display(description=gettext_lazy("balance (unpaid installments)"))
    def balance(self, loan):
        return loan.outstanding

    @admin.display(description=gettext_lazy("paid so far"))
    def paid(self, loan):
        return sum((i.paid_amount for i in loan.installments.all()), 0)

    @admin.display(description=gettext_lazy("days past due"))
    def days_past_due(self, loan):
        return loan.days_past_due

    @admin.display(description=gettext_lazy("payments and debits"))
    def payments(self, loan):
        """Each debit of the loan, newest first: when, installment, trigger, amount, card, outcome."""
        from django.utils.html import format_html_join

        attempts = (
            DebitAttempt.objects.filter(installment__loan=loan)
            .select_related("installment", "card")
            .order_by("-created_at", "-pk")
        )
        rows = (
            (
                attempt.created_at.strftime("%Y-%m-%d %H:%M"),
                attempt.installment.number,
                attempt.get_trigger_display(),
                attempt.amount,
                attempt.card.masked_number if attempt.card else "-",
                attempt.get_status_display(),
                attempt.gateway_reference or "-",
            )
            for attempt in attempts
        )
        return format_html_join("\n", "<div>{} · #{} · {} · ¥{} · {} · {} · {}</div>", rows) or "-"

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm("lending.add_loan")

    def add_view(self, request, form_url="", extra_context=None):
        """Disbursing goes through ``loan_create`` (identity, phone and repayment card checked there)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = LoanDisburseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                loan = loan_create(actor=request.user, **form.loan_terms())
            except DomainError as exc:
                form.add_error(None, exc.as_form_error())
            else:
                self.message_user(request, _("%(loan)s disbursed.") % {"loan": loan}, messages.SUCCESS)
                return redirect(reverse("admin:lending_loan_change", args=[loan.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Disburse a loan"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/lending/loan_disburse.html", context)


class SentAgainFilter(admin.SimpleListFilter):
    """Attempts the bank had not received (a worker died before sending them), sent again."""

    title = gettext_lazy("sent again")
    parameter_name = "sent_again"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(resent_count__gt=0)
        if self.value() == "no":
            return queryset.filter(resent_count=0)
        return queryset


class FailureCodeFilter(admin.SimpleListFilter):
    """Why debits failed, by what the code means (the stored code stays in exports)."""

    title = gettext_lazy("failure code")
    parameter_name = "failure_code"

    def lookups(self, request, model_admin):
        return list(DebitAttempt.FAILURE_REASONS.items())

    def queryset(self, request, queryset):
        return queryset.filter(failure_code=self.value()) if self.value() else queryset


@admin.register(DebitAttempt)
class DebitAttemptAdmin(ClosedAccountsRestrictedMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    borrower_path = "installment__loan__borrower"
    list_display = (
        "created_at",
        "loan",
        "installment_number",
        "number",
        "amount",
        "card",
        "status",
        "failure_label",
        "trigger",
        "resent_count",
    )
    list_filter = (
        "status",
        FailureCodeFilter,
        "trigger",
        SentAgainFilter,
        ("created_at", admin.DateFieldListFilter),
    )
    list_select_related = ("installment__loan", "card")
    show_full_result_count = False
    actions = ["retry"]
    fields = (
        "installment",
        "number",
        "amount",
        "card",
        "status",
        "failure_label",
        "gateway_reference",
        "idempotency_key",
        "trigger",
        "payment_ref",
        "created_at",
        "resent_count",
        "resent_at",
        "settled_at",
    )
    readonly_fields = fields

    @admin.display(description=gettext_lazy("failure code"), ordering="failure_code")
    def failure_label(self, attempt):
        return attempt.failure_reason if attempt.failure_code else "—"

    @admin.display(description=gettext_lazy("loan"))
    def loan(self, attempt):
        return attempt.installment.loan

    @admin.display(description=gettext_lazy("installment"))
    def installment_number(self, attempt):
        return attempt.installment.number

    def has_retry_permission(self, request):
        return request.user.has_perm("lending.retry_debitattempt")

    @admin.action(description=gettext_lazy("Debit these installments again now"), permissions=["retry"])
    def retry(self, request, queryset):
        return note_action(
            self,
            request,
            queryset.select_related("installment__loan"),
            title=_("Debit again"),
            apply=lambda attempt, note: installment_retry(
                actor=request.user, installment_id=attempt.installment_id, note=note
            ),
        )
