from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEvent
from lending.admin_tools import ReadOnlyAdminMixin, TextInputFilter


class ActorFilter(TextInputFilter):
    title = _("actor (username or masked phone)")
    parameter_name = "actor_label"

    def queryset(self, request, queryset):
        return queryset.filter(actor_label=self.value()) if self.value() else queryset


class SubjectIdFilter(TextInputFilter):
    title = _("subject id")
    parameter_name = "subject"

    def queryset(self, request, queryset):
        return queryset.filter(subject_id=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("occurred_at", "action", "actor_kind", "actor_label", "subject", "ip", "request_id")
    list_filter = (
        ("occurred_at", admin.DateFieldListFilter),
        "action",
        "actor_kind",
        ActorFilter,
        "subject_type",
        SubjectIdFilter,
    )
    search_fields = ("=request_id",)
    search_help_text = _("Search by request id")
    show_full_result_count = False
    fields = (
        "occurred_at",
        "action",
        "actor_kind",
        "actor_label",
        "subject_type",
        "subject_id",
        "ip",
        "user_agent",
        "request_id",
        "data",
    )


from audit import admin_reviews  # noqa: E402, F401 - registers the review queue and risk alerts
