import pytest
from django.db import DatabaseError, connection, transaction

from audit.actions import Action
from audit.models import AppendOnlyError, AuditEvent
from audit.services import record

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    with transaction.atomic():
        return record(action=Action.STAFF_CREATE, actor=None, data={"role": "officer"})


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET action = 'staff.backup_codes_reset' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ],
)
def test_the_database_refuses_update_and_delete(event, sql):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [event.pk])
    event.refresh_from_db()
    assert event.action == Action.STAFF_CREATE


def test_the_model_refuses_update_and_delete(event):
    event.action = Action.STAFF_BACKUP_CODES_RESET
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action=Action.STAFF_BACKUP_CODES_RESET)
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).action == Action.STAFF_CREATE
