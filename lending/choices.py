"""Choice labels looked up in a dict built once per field.

Django's ``get_FOO_display`` (and the admin's display of a choices field) make a hashable copy of
all of a field's choices on every call, translating each label to hash it; pages and API answers
list dozens of installments, attempts and cards. The labels stay lazy, so each is shown in the
reader's language.
"""

from functools import cache

from django.utils.encoding import force_str


@cache
def labels_of(field) -> dict:
    return dict(field.flatchoices)


class ChoiceLabels:
    """A model mixin (before ``models.Model``): its ``get_FOO_display`` reads ``labels_of``."""

    def _get_FIELD_display(self, field):
        value = getattr(self, field.attname)
        try:
            label = labels_of(field).get(value, value)
        except TypeError:  # an unhashable value: Django's own way
            return super()._get_FIELD_display(field)
        return force_str(label, strings_only=True)
