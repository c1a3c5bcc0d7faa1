from django.contrib import admin

from lending.admin_tools import ReadOnlyAdminMixin
from lending.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "task", "status", "created_at", "published_at", "attempts", "last_error")
    list_filter = ("status",)
    show_full_result_count = False
