"""Template helpers of the back office: stored codes shown as what they mean."""

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from lending.history_reasons import reason_label
from lending.times import local_datetime

register = template.Library()


@register.filter
def zoned(value):
    """A time in TIME_ZONE with its UTC offset, as everywhere in the back office."""
    return local_datetime(value)


@register.filter
def history_reason(stored):
    """A history row's stored reason ("sent to review") in the reader's language."""
    return reason_label(stored)


@register.filter
def field_label(name, opts):
    """A model field's translated verbose name ("is_repayment" reads 还款卡)."""
    try:
        return capfirst(opts.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def value_label(field, value):
    """A field's stored value as staff read it: a choice's label, yes/no, a local time."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.DateTimeField):
        return local_datetime(value)
    return value


@register.simple_tag
def history_cell(record, name, opts):
    """One ``history_list_display`` cell of a history row."""
    try:
        field = opts.get_field(name)
    except FieldDoesNotExist:
        field = None
    return value_label(field, getattr(record, name, None))
