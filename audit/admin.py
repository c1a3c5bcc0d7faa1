from datetime import timedelta
from urllib.parse import urlencode

from django.apps import apps
from django.contrib import admin
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.services.login import LOGIN_PHONE, LOGIN_USERNAME
from audit.actions import Action
from audit.models import AuditArchive, AuditBlock, AuditEvent
from lending.admin_tools import CappedCountPaginator, ReadOnlyAdminMixin, TextInputFilter


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


# What an action is about: the part of its code before the dot.
ACTION_FAMILIES = {
    "staff": _("staff accounts"),
    "sms_code": _("SMS codes"),
    "sms": _("text messages"),
    "user": _("borrower accounts"),
    "consent": _("consents"),
    "login": _("sign-in"),
    "device_token": _("app devices"),
    "password": _("passwords"),
    "identity": _("identity"),
    "phone_change": _("phone changes"),
    "phone_lost": _("lost phones"),
    "phone_check": _("carrier checks"),
    "face_check": _("face checks"),
    "step_up": _("step-up checks"),
    "account": _("frozen accounts"),
    "card": _("cards"),
    "mandate": _("debit authorisations"),
    "bank_notice": _("bank notices"),
    "reconciliation": _("reconciliation"),
    "loan": _("loans"),
    "debit": _("debits"),
    "installment": _("installments"),
    "review": _("review cases"),
    "access": _("record access"),
    "export": _("exports"),
    "audit": _("audit chain"),
    "risk": _("risk alerts"),
    "support": _("help requests"),
    "data_copy": _("data copies"),
    "closure": _("account closures"),
}


def family_of(action: str) -> str:
    return action.partition(".")[0]


def actions_of(family: str) -> list[tuple[str, str]]:
    return [(value, label) for value, label in Action.choices if family and family_of(value) == family]


class ActionFamilyFilter(admin.SimpleListFilter):
    """Actions in two steps: first what they are about, then (ActionFilter) the action. One list
    of all 115 actions was a wall to read and a fifth of the event list's rendering."""

    title = _("action about")
    parameter_name = "action_family"

    def lookups(self, request, model_admin):
        return list(ACTION_FAMILIES.items())

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        # IN, not LIKE 'card.%': the (action, occurred_at) index serves it
        return queryset.filter(action__in=[value for value, _label in actions_of(self.value())])


class ActionFilter(admin.SimpleListFilter):
    """The actions of the chosen family (or of the chosen action's family); none before that."""

    title = _("action")
    parameter_name = "action__exact"

    def lookups(self, request, model_admin):
        return actions_of(request.GET.get(ActionFamilyFilter.parameter_name) or family_of(self.value() or ""))

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


AUDITED_APPS = ("accounts", "cards", "lending", "audit")


# Subject types that are not models, or models without a name of their own.
SUBJECT_KINDS = {
    LOGIN_PHONE: _("number tried at sign-in"),
    LOGIN_USERNAME: _("username tried at back-office sign-in"),
    "accounts.smscodesend": _("SMS code sent"),
}


class SubjectTypeFilter(admin.SimpleListFilter):
    """The kinds of record events are about, from the models: listing the values found in the
    table (Django's default for a plain text field) would read every event."""

    title = _("subject type")
    parameter_name = "subject_type"

    def lookups(self, request, model_admin):
        models = [
            model
            for app in AUDITED_APPS
            for model in apps.get_app_config(app).get_models()
            if not model.__name__.startswith("Historical")  # events are about records, not their history
        ]
        kinds = {model._meta.label_lower: model._meta.verbose_name for model in models}
        kinds.update(SUBJECT_KINDS)
        return sorted(kinds.items())

    def queryset(self, request, queryset):
        return queryset.filter(subject_type=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "occurred_at",
        "action",
        "actor_kind",
        "actor_label",
        "subject_display",
        "ip",
        "request_id",
    )
    list_filter = (
        ("occurred_at", admin.DateFieldListFilter),
        ActionFamilyFilter,
        ActionFilter,
        "actor_kind",
        ActorFilter,
        SubjectTypeFilter,
        SubjectIdFilter,
    )
    search_fields = ("request_id",)
    search_help_text = _("Search by request id")
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 25  # rows are most of the list's cost, about 0.35 ms each (bench/profile_page.py)

    @admin.display(description=_("subject"))
    def subject_display(self, event):
        """The record's kind by its name ("bank card #3"), the stored type kept in exports."""
        if not event.subject_type:
            return ""
        kind = SUBJECT_KINDS.get(event.subject_type)
        if kind is None:
            try:
                kind = apps.get_model(event.subject_type)._meta.verbose_name
            except (LookupError, ValueError):
                kind = event.subject_type
        return f"{kind} #{event.subject_id}"

    def get_search_results(self, request, queryset, search_term):
        """The exact request id, through its index (the admin's own "=" search compares
        upper-cased text, which reads every event)."""
        term = search_term.strip()
        return (queryset.filter(request_id=term) if term else queryset), False

    def changelist_view(self, request, extra_context=None):
        """Opens on the past seven days (the date filter's own choice): never the whole table."""
        if not request.GET:
            today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
            week = {
                "occurred_at__gte": str(today - timedelta(days=7)),
                "occurred_at__lt": str(today + timedelta(days=1)),
            }
            return redirect(f"{request.path}?{urlencode(week)}")
        return super().changelist_view(request, extra_context)

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


from audit import admin_exports, admin_reviews  # noqa: E402, F401 - registers exports, the review queue, alerts


@admin.register(AuditBlock)
class AuditBlockAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The sealed chain, newest block first; ``verify_audit_chain`` recomputes it."""

    list_display = ("number", "first_event_id", "last_event_id", "event_count", "sealed_at", "hash_hex")
    fields = (
        "number",
        "first_event_id",
        "last_event_id",
        "event_count",
        "first_event_at",
        "last_event_at",
        "sealed_at",
        "hash_hex",
    )
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description=_("SHA-256"))
    def hash_hex(self, block):
        return block.hash_hex


@admin.register(AuditArchive)
class AuditArchiveAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Events removed past retention: where their export is, and the anchor the chain resumes from."""

    list_display = (
        "archived_at",
        "through_block",
        "first_event_id",
        "last_event_id",
        "event_count",
        "archive_name",
    )
    fields = (*list_display, "archived_by", "archive_sha256")
    readonly_fields = fields
