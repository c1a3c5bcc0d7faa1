"""Shared pieces for the back-office admin."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from audit.services.events import UnmaskedDataError
from lending.errors import DomainError


class ReadOnlyAdminMixin:
    """State changes go through services; the admin only shows (actions call services)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AccessLoggedAdminMixin:
    """Opening one of these pages shows a borrower's personal data: each opening is audited
    (who, which record, when), so auditors can export who looked at what."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            self.record_access(request, object_id)
        return response

    def record_access(self, request, object_id) -> None:
        from audit.services import personal_data_view_record

        personal_data_view_record(actor=request.user, model=self.model, object_id=object_id)


class TextInputFilter(admin.SimpleListFilter):
    """A list filter with a text box instead of a list of choices (for high-cardinality fields)."""

    template = "admin/text_input_filter.html"

    def lookups(self, request, model_admin):
        return (("", ""),)  # the admin only shows filters with at least one lookup

    def choices(self, changelist):
        everything = next(iter(super().choices(changelist)))
        everything["query_parts"] = [
            (key, value)
            for key, values in changelist.get_filters_params().items()
            if key != self.parameter_name
            for value in values
        ]
        yield everything


def note_action(modeladmin, request, queryset, *, title, apply):
    """An admin action that asks for a note first, then calls ``apply(obj, note)`` (a service) on each.

    The service's DomainError, or a note the audit trail refuses, is shown to the staff member;
    nothing else changes.
    """
    note = request.POST.get("note", "").strip()
    if "apply" not in request.POST or not note:
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "objects": queryset,
            "note_missing": "apply" in request.POST,
            "action": request.POST.get("action", ""),
            "opts": modeladmin.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/note_action.html", context)
    for obj in queryset:
        try:
            apply(obj, note)
        except DomainError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
        except UnmaskedDataError:  # the note goes into the audit trail, which refuses full numbers
            text = _("Write the note without a full phone, ID or card number.")
            modeladmin.message_user(request, f"{obj}: {text}", messages.ERROR)
        else:
            modeladmin.message_user(request, _("%(object)s: done.") % {"object": obj}, messages.SUCCESS)
    return None
