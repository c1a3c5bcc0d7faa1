"""Shared pieces for the back-office admin."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.http import Http404, HttpResponseNotAllowed
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.cache import add_never_cache_headers
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.template_utils import HistoricalRecordContextHelper

from lending.errors import DomainError
from lending.pii import mask_free_text


class LabelledHistoryHelper(HistoricalRecordContextHelper):
    """A history row's changes as staff read them: "status: active → pending review" with the
    choices' labels, yes/no for booleans and local times, never the stored codes."""

    def prepare_delta_change_value(self, change, value):
        from lending.templatetags.back_office import value_label

        field = self.model._meta.get_field(change.field)
        if field.choices or isinstance(field, (models.BooleanField, models.DateTimeField)) or value is None:
            return value_label(field, value)
        return super().prepare_delta_change_value(change, value)


class ReadOnlyAdminMixin:
    """State changes go through services; the admin only shows (actions call services)."""

    def get_historical_record_context_helper(self, request, historical_record):
        return LabelledHistoryHelper(self.model, historical_record)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def history_view(self, request, object_id, extra_context=None):
        object_pk(self.model, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """A past version (simple_history) is shown, never restored: its POST saves the version over
        the row for anyone who may view it (SIMPLE_HISTORY_REVERT_DISABLED only hides the button)."""
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied
        object_pk(self.model, object_id)
        object_pk(getattr(self.model, self.model._meta.simple_history_manager_attribute).model, version_id)
        return super().history_form_view(request, object_id, version_id, extra_context)


class ClosedAccountsRestrictedMixin:
    """Records of closed accounts are kept for the law but restricted (issue 20): only staff who
    may reveal personal data (officers) list and open them; the support role and others do not
    see them. ``borrower_path`` is how the model reaches the borrower ("" for the user itself)."""

    borrower_path = "user"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.has_perm("accounts.reveal_personal_data"):
            return queryset
        prefix = f"{self.borrower_path}__" if self.borrower_path else ""
        return queryset.exclude(**{f"{prefix}closures__status": "closed"})


def object_pk(model, object_id):
    """The primary key an admin URL's id stands for; any other text is not found (never a 500)."""
    try:
        return model._meta.pk.to_python(unquote(str(object_id)))
    except ValidationError:
        raise Http404 from None


class AccessLoggedAdminMixin:
    """Opening one of these pages shows a borrower's personal data: each opening of the record
    or its history is audited (who, which record, when), so auditors can export who looked at
    what. Values listed in ``revealable`` (field: label and how to read it in full) are shown
    masked; staff allowed to ``reveal_personal_data`` see one in full with a POST, audited too."""

    revealable: dict = {}

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if self.revealable and request.user.has_perm("accounts.reveal_personal_data"):
            reveal = [(field, label) for field, (label, _read) in self.revealable.items()]
            extra_context = {**(extra_context or {}), "revealable": reveal}
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            self.record_access(request, object_id)
        return response

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        if response.status_code == 200:
            self.record_access(request, object_id, page="history")
        return response

    def record_access(self, request, object_id, page="change") -> None:
        from audit.services import personal_data_view_record

        personal_data_view_record(actor=request.user, model=self.model, object_id=object_id, page=page)

    def get_urls(self):
        reveal = self.admin_site.admin_view(self.reveal_view)
        name = f"{self.opts.app_label}_{self.opts.model_name}_reveal"
        return [path("<path:object_id>/reveal/<str:field>/", reveal, name=name), *super().get_urls()]

    def reveal_view(self, request, object_id, field):
        from audit.services import personal_data_reveal

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self.get_object(request, unquote(object_id))
        if field not in self.revealable or obj is None or not self.has_view_permission(request, obj):
            raise Http404
        label, read = self.revealable[field]
        context = {
            **self.admin_site.each_context(request),
            "title": label,
            "object": obj,
            "value": personal_data_reveal(actor=request.user, obj=obj, field=field, reveal=read),
            "opts": self.opts,
        }
        response = TemplateResponse(request, "admin/reveal.html", context)
        add_never_cache_headers(response)
        return response


class CappedCountPaginator(Paginator):
    """Counts at most ``CAP`` rows (one bounded query), so a list over millions of rows opens in
    the same time as over thousands; the pages stop at the cap: narrow the filters to go further."""

    CAP = 10_000

    @cached_property
    def count(self):
        """Unordered: the database counts the first matching rows it finds, along any index."""
        return self.object_list.order_by()[: self.CAP].count()


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

    The service's DomainError is shown to the staff member; nothing else changes. The
    service stores the note with personal numbers masked, and the staff member is told.
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
    saved = False
    for obj in queryset:
        try:
            apply(obj, note)
        except DomainError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
        else:
            saved = True
            modeladmin.message_user(request, _("%(object)s: done.") % {"object": obj}, messages.SUCCESS)
    if saved:
        warn_if_masked(request, note)
    return None


_MASKED_KINDS = {
    "card": gettext_lazy("card number"),
    "id_number": gettext_lazy("ID number"),
    "phone": gettext_lazy("mobile number"),
}


def warn_if_masked(request, text: str) -> None:
    """Tell the staff member who typed ``text`` that the service it went to masked the personal
    numbers in it (services store free text through lending.pii.redact)."""
    kinds = mask_free_text(text)[1]
    if kinds:
        messages.warning(
            request,
            _("Personal numbers in your text were masked before it was saved: %(kinds)s.")
            % {"kinds": _(", ").join(str(_MASKED_KINDS[kind]) for kind in kinds)},
        )
