from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import User
from lending.admin_tools import ReadOnlyAdminMixin


@admin.register(User)
class UserAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("__str__", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_active", "groups")
    search_fields = ("=username",)
    search_help_text = _("Search by exact username")
    fields = ("username", "masked_phone", "is_staff", "is_active", "groups", "date_joined", "last_login")
    readonly_fields = fields
    history_list_display = ("username", "is_staff", "is_active")

    @admin.display(description=_("mobile number"))
    def masked_phone(self, obj):
        return obj.masked_phone
