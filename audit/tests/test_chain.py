"""The sealed chain on PostgreSQL: tampering as a superuser would (trigger off) is found and located."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from accounts.tests.factories import StaffFactory
from audit.actions import Action
from audit.chain import event_digest
from audit.models import AuditBlock, AuditEvent
from audit.services import audit_events_seal, record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _seal_at_once(settings):
    settings.AUDIT_SEAL_DELAY_SECONDS = 0
    settings.AUDIT_SEAL_BLOCK_EVENTS = 4


def write_events(count: int) -> list[AuditEvent]:
    with transaction.atomic():
        return [record(action=Action.LOGOUT, actor=None, data={"n": n, "名": "张*"}) for n in range(count)]


def verify() -> str:
    return call_command_out("verify_audit_chain")


def broken() -> str:
    with pytest.raises(CommandError) as failure:
        verify()
    assert failure.value.returncode == 1
    return str(failure.value)


def as_superuser(sql: str, params=(), table="audit_auditevent", trigger="audit_event_append_only") -> None:
    """Tamper with a table the way a database superuser could: with the append-only trigger off."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending foreign-key checks before ALTER
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
        cursor.execute(sql, params)
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")


def on_blocks(sql: str, params=()) -> None:
    as_superuser(sql, params, table="audit_auditblock", trigger="audit_block_append_only")


@pytest.fixture
def sealed():
    events = write_events(10)
    assert audit_events_seal() == 10
    return events


def test_sealing_chains_blocks_and_verification_passes(sealed):
    blocks = list(AuditBlock.objects.order_by("number"))
    assert [b.event_count for b in blocks] == [4, 4, 2]
    assert [bytes(b.previous_hash) for b in blocks[1:]] == [bytes(b.hash) for b in blocks[:-1]]
    write_events(1)  # recorded after the seal: reported, not a break
    assert verify() == f"OK: 3 blocks, 10 events sealed, 1 not sealed yet; head {blocks[-1].hash_hex}\n"
    assert audit_events_seal() == 1
    assert audit_events_seal() == 0


def test_events_younger_than_the_delay_wait_for_the_next_run(settings):
    settings.AUDIT_SEAL_DELAY_SECONDS = 3600
    write_events(2)
    assert audit_events_seal() == 0 and not AuditBlock.objects.exists()


def test_the_event_encoding_is_fixed():
    """A known event gives a known digest: the encoding documented in audit/chain.py must not drift."""
    from datetime import UTC, datetime

    row = {
        "occurred_at": datetime(2026, 11, 22, 8, 0, 0, 123456, tzinfo=UTC),
        "actor_id": None,
        "actor_kind": "system",
        "actor_label": "autodebit",
        "action": "debit.succeeded",
        "subject_type": "lending.debitattempt",
        "subject_id": "7",
        "ip": None,
        "user_agent": "",
        "request_id": "abc",
        "data": {"b": 1, "a": "张*"},
    }
    assert event_digest(row).hex() == "11624f85552db909256a6f29a674ae78e164a042c53e50b7720e790538a20dd8"


TRICKY_DATA = [
    {},
    [],
    {"b": 1, "a": "张*", "aa": None, "z": True, "y": False},
    {"长键名": 1, "k": {"nested": [1, 2.5, -3, 10**15, 1e20, 0.1, "x"]}, "é": "ü"},
    {"q": 'quote " backslash \\ slash / newline \n tab \t cr \r bell \x07 del \x7f'},
    {"ab": 1, "b": 2, "ba": 3, "a": 4, "": 5},
    {"line sep": "\u2028 \u2029", "emoji": "🙂", "nul-like": "\x01\x1f"},
]


@pytest.mark.parametrize("data", TRICKY_DATA, ids=range(len(TRICKY_DATA)))
def test_postgresql_digests_equal_the_reference_encoding(data):
    from datetime import UTC, datetime

    from audit.chain import FIELDS
    from audit.digests import event_digests
    from audit.models import AuditEvent as Event

    actor = StaffFactory()
    with transaction.atomic():
        for ip, agent in (("10.1.2.3", 'Mozilla "x" 中文'), ("2001:db8::1", ""), (None, "\\")):
            Event.objects.create(
                occurred_at=datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
                actor=actor,
                actor_kind="staff",
                actor_label="李四",
                action=Action.LOGOUT,
                subject_type="cards.card",
                subject_id="12345678901234567890",
                ip=ip,
                user_agent=agent,
                request_id="r",
                data=data,
            )
    by_database = [(pk, digest) for pk, _at, digest in event_digests(after=0)]
    reference = [
        (pk, event_digest(dict(zip(FIELDS, values, strict=True))))
        for pk, *values in Event.objects.order_by("pk").values_list("pk", *FIELDS)
    ]
    assert len(by_database) == 3 and by_database == reference


def test_a_changed_field_is_found_in_its_block(sealed):
    target = sealed[5]
    as_superuser("UPDATE audit_auditevent SET actor_label = 'someone else' WHERE id = %s", [target.pk])
    assert broken() == f"BROKEN at block 2, event {target.pk}: changed (after 1 good blocks)"


def test_a_removed_row_is_found(sealed):
    target = sealed[8]
    as_superuser("DELETE FROM audit_auditevent WHERE id = %s", [target.pk])
    assert f"block 3, event {target.pk}: missing" in broken()


def test_an_inserted_row_is_found(sealed):
    with transaction.atomic():
        template = AuditEvent.objects.get(pk=sealed[6].pk)
    as_superuser("DELETE FROM audit_auditevent WHERE id = %s", [template.pk])
    with connection.cursor() as cursor:  # a forged row, one id beyond the last sealed one of block 2
        cursor.execute(
            "INSERT INTO audit_auditevent (id, occurred_at, actor_kind, actor_label, action, subject_type,"
            " subject_id, user_agent, request_id, data)"
            " VALUES (%s, now(), 'system', 'forger', 'login.logout', '', '', '', '', '{}')",
            [template.pk],
        )
    assert f"block 2, event {template.pk}: changed" in broken()


def test_a_row_in_a_gap_of_the_ids_reads_as_inserted():
    write_events(3)
    try:
        with transaction.atomic():
            gap = write_events(1)[0].pk
            raise RuntimeError("rolled back: its id stays unused")
    except RuntimeError:
        pass
    write_events(3)
    audit_events_seal()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditevent (id, occurred_at, actor_kind, actor_label, action, subject_type,"
            " subject_id, user_agent, request_id, data)"
            " VALUES (%s, now(), 'system', 'forger', 'login.logout', '', '', '', '', '{}')",
            [gap],
        )
    block = AuditBlock.objects.get(first_event_id__lte=gap, last_event_id__gte=gap)
    assert f"block {block.number}, event {gap}: inserted" in broken()


def test_two_swapped_rows_read_as_reordered(sealed):
    a, b = sealed[0], sealed[1]
    as_superuser(
        "UPDATE audit_auditevent AS t SET data = s.data, occurred_at = s.occurred_at,"
        " request_id = s.request_id FROM audit_auditevent AS s"
        " WHERE (t.id, s.id) IN ((%s, %s), (%s, %s))",
        [a.pk, b.pk, b.pk, a.pk],
    )
    assert broken() == (
        f"BROKEN at block 1, event {a.pk}: reordered: it holds what was sealed as event {b.pk} (after 0 good blocks)"
    )


def test_a_changed_block_hash_is_found(sealed):
    on_blocks("UPDATE audit_auditblock SET hash = %s WHERE number = 2", [bytes(32)])
    assert "block 2: block changed" in broken()


def test_blocks_cannot_be_changed_or_removed():
    from django.db import DatabaseError

    write_events(1)
    audit_events_seal()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditBlock.objects.all().delete()


def test_a_consistently_rewritten_chain_passes_alone_but_not_against_a_checkpoint(sealed, tmp_path):
    path = call_command_out("audit_checkpoint", "--dir", str(tmp_path)).split("checkpoint ")[1].strip()
    assert "OK" in verify_with(path)

    # A superuser changes an event, drops the blocks and seals everything again: self-consistent.
    as_superuser("UPDATE audit_auditevent SET actor_label = 'someone else' WHERE id = %s", [sealed[1].pk])
    on_blocks("DELETE FROM audit_auditblock")
    audit_events_seal()
    assert verify().startswith("OK")
    with pytest.raises(CommandError, match="does not have the hash the checkpoint signed"):
        verify_with(path)


def test_a_changed_checkpoint_file_is_refused(sealed, tmp_path):
    import json
    from pathlib import Path

    path = Path(call_command_out("audit_checkpoint", "--dir", str(tmp_path)).split("checkpoint ")[1].strip())
    body = json.loads(path.read_text())
    body["payload"]["hash"] = "00" * 32
    path.write_text(json.dumps(body))
    with pytest.raises(CommandError, match="signature is not valid"):
        verify_with(str(path))


def call_command_out(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def verify_with(checkpoint: str) -> str:
    return call_command_out("verify_audit_chain", "--checkpoint", checkpoint)


@pytest.mark.django_db(transaction=True)  # the halves are checked on connections of their own
def test_a_long_chain_is_checked_in_two_halves_and_the_link_between_them(settings):
    from audit.verify import PARALLEL_FROM_BLOCKS

    settings.AUDIT_SEAL_BLOCK_EVENTS = 2
    events = write_events(2 * PARALLEL_FROM_BLOCKS + 2)
    audit_events_seal()
    blocks = PARALLEL_FROM_BLOCKS + 1
    assert verify().startswith(f"OK: {blocks} blocks, {2 * blocks} events sealed")

    second_half = blocks // 2 + 1  # the first block the second thread checks
    target = events[2 * (second_half + 3)]  # an event a few blocks into the second half
    as_superuser("UPDATE audit_auditevent SET action = 'x' WHERE id = %s", [target.pk])
    assert (
        broken()
        == f"BROKEN at block {second_half + 4}, event {target.pk}: changed (after {second_half + 3} good blocks)"
    )
    as_superuser("UPDATE audit_auditevent SET action = %s WHERE id = %s", [Action.LOGOUT, target.pk])

    on_blocks("UPDATE audit_auditblock SET previous_hash = %s WHERE number = %s", [bytes(32), second_half])
    assert broken().startswith(f"BROKEN at block {second_half}: link broken")
