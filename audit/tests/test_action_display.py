import pytest
from django.db.models import Model
from django.utils import translation

from audit.actions import Action
from audit.models import AuditEvent


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_action_label_is_djangos_in_each_language(language):
    field = AuditEvent._meta.get_field("action")
    with translation.override(language):
        for value in [*Action.values, "no.such.action"]:
            event = AuditEvent(action=value)
            assert event.get_action_display() == Model._get_FIELD_display(event, field)
