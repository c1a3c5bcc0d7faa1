from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.utils import timezone

from audit.actions import Action
from audit.chain import FIELDS
from audit.context import current_request, current_system_job
from audit.models import AuditEvent
from lending.pii import find_pii_in, mask_phone


class UnmaskedDataError(ValueError):
    """Audit data must carry masked personal data only; this refuses a full number."""


@dataclass(frozen=True)
class SubjectRef:
    """A subject that is not a model row, e.g. the fingerprint of a number tried at login."""

    type: str
    id: str


def _subject_fields(subject) -> dict:
    if subject is None:
        return {"subject_type": "", "subject_id": ""}
    if isinstance(subject, SubjectRef):
        return {"subject_type": subject.type, "subject_id": subject.id}
    return {"subject_type": subject._meta.label_lower, "subject_id": str(subject.pk)}


def _actor_fields(actor) -> dict:
    if actor is None or isinstance(actor, AnonymousUser):
        job = current_system_job()
        if job:
            return {"actor_kind": AuditEvent.ActorKind.SYSTEM, "actor_label": job}
        return {"actor_kind": AuditEvent.ActorKind.ANONYMOUS, "actor_label": ""}
    if actor.is_staff:
        return {"actor": actor, "actor_kind": AuditEvent.ActorKind.STAFF, "actor_label": actor.username}
    return {
        "actor": actor,
        "actor_kind": AuditEvent.ActorKind.BORROWER,
        "actor_label": mask_phone(actor.phone),
    }


# Every column but the id: the ones the chain seals (audit.chain.FIELDS), in that order.
_INSERT = (
    f"INSERT INTO audit_auditevent ({', '.join(FIELDS)}) "  # noqa: S608 - constants only
    f"VALUES ({', '.join(['%s'] * len(FIELDS))})"
)


def record(
    *, action: Action, actor, subject: models.Model | SubjectRef | None = None, data=None
) -> AuditEvent:
    """Write one audit event inside the caller's transaction.

    ``actor`` is the user acting, or None for a system job (named by ``system_job``) or an
    anonymous visitor. IP, user agent and request id come from the bound request context.
    """
    (row,) = _write(actor, [{"action": action, "subject": subject, "data": data}])
    event = AuditEvent(pk=row.pk, **row.fields)
    event._state.adding, event._state.db = False, connection.alias
    return event


def record_many(*, actor, entries: list[dict]) -> int:
    """``record`` for a service that changes many rows at once (a collection batch): one event
    per entry (``action``, ``subject``, ``data``), sent in one batch. Returns how many."""
    return len(_write(actor, entries))


def _write(actor, entries: list[dict]) -> list["_Row"]:
    """One INSERT statement, a batch of them for many events, and no model instances: the audit
    write is on every state change's path, and its cost counts (bench/audit_write.py). A single
    event gets its id back."""
    rows = _rows(actor, entries)
    with connection.cursor() as cursor:
        if len(rows) == 1:
            cursor.execute(_INSERT + " RETURNING id", rows[0].values)
            rows[0].pk = cursor.fetchone()[0]
        else:
            cursor.executemany(_INSERT, [row.values for row in rows])
    return rows


@dataclass
class _Row:
    fields: dict  # the model's view of the event
    values: tuple  # the same, ready for the database, in ``FIELDS`` order
    pk: int | None = None


def _rows(actor, entries: list[dict]) -> list[_Row]:
    if not connection.in_atomic_block:
        raise RuntimeError("audit.record must run inside the service's transaction")
    context = current_request()
    shared = {
        "occurred_at": timezone.now(),
        "ip": context.ip if context else None,
        "user_agent": context.user_agent if context else "",
        "request_id": context.request_id if context else "",
        **_actor_fields(actor),
    }
    ops = connection.ops
    occurred_at = ops.adapt_datetimefield_value(shared["occurred_at"])
    ip = ops.adapt_ipaddressfield_value(shared["ip"])
    actor_id = shared["actor"].pk if shared.get("actor") else None
    rows = []
    for entry in entries:
        data = entry.get("data") or {}
        leaked = find_pii_in(data)
        if leaked:
            raise UnmaskedDataError(f"audit data for {entry['action']} holds unmasked {', '.join(leaked)}")
        fields = {"action": entry["action"], **_subject_fields(entry.get("subject")), "data": data, **shared}
        values = (
            occurred_at,
            actor_id,
            str(fields["actor_kind"]),
            fields["actor_label"],
            str(fields["action"]),
            fields["subject_type"],
            fields["subject_id"],
            ip,
            fields["user_agent"],
            fields["request_id"],
            ops.adapt_json_value(data, DjangoJSONEncoder),
        )
        rows.append(_Row(fields, values))
    return rows
