"""Shared pieces for the back-office admin."""

from django.contrib import admin


class ReadOnlyAdminMixin:
    """State changes go through services; the admin only shows (actions call services)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
