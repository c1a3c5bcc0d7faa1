"""Choice labels looked up in a dict built once per field and language.

Django's ``get_FOO_display`` (and the admin's display of a choices field) make a hashable copy of
all of a field's choices on every call, translating each label to hash it; pages and API answers
list dozens of installments, attempts and cards. Each label is shown in the reader's language.
"""

from functools import cache

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.encoding import force_str
from django.utils.translation import get_language


@cache
def labels_of(field) -> dict:
    return dict(field.flatchoices)


@cache
def _labels_in(field, language: str | None) -> dict:
    """``labels_of(field)`` translated, for the active ``language``."""
    return {value: force_str(label) for value, label in labels_of(field).items()}


@receiver(setting_changed)
def _catalogues_changed(**kwargs) -> None:
    _labels_in.cache_clear()  # a test's settings may change the languages or their texts


class ChoiceLabels:
    """A model mixin (before ``models.Model``): its ``get_FOO_display`` reads the labels in the
    active language (``_labels_in``)."""

    def _get_FIELD_display(self, field):
        value = getattr(self, field.attname)
        try:
            return _labels_in(field, get_language()).get(value, value)
        except TypeError:  # an unhashable value: Django's own way
            return super()._get_FIELD_display(field)
