from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from lending.admin_tools import ReadOnlyAdminMixin
from lending.models import Installment, Loan, OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "task", "status", "created_at", "published_at", "attempts", "last_error")
    list_filter = ("status",)
    show_full_result_count = False


class InstallmentInline(admin.TabularInline):
    model = Installment
    fields = ("number", "due_date", "principal_due", "interest_due", "paid_amount", "status")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Loan)
class LoanAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
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
    fields = ("borrower", "product", "principal", "annual_rate", "term_months", "status", "disbursed_at")
    readonly_fields = fields
    inlines = [InstallmentInline]
