from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db import models, transaction

from audit.actions import Action
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


def record(
    *, action: Action, actor, subject: models.Model | SubjectRef | None = None, data=None
) -> AuditEvent:
    """Write one audit event inside the caller's transaction.

    ``actor`` is the user acting, or None for a system job (named by ``system_job``) or an
    anonymous visitor. IP, user agent and request id come from the bound request context.
    """
    return record_many(actor=actor, entries=[{"action": action, "subject": subject, "data": data}])[0]


def record_many(*, actor, entries: list[dict]) -> list[AuditEvent]:
    """``record`` for a service that changes many rows at once (a collection batch): one event
    per entry (``action``, ``subject``, ``data``), written in one INSERT."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must run inside the service's transaction")
    context = current_request()
    request_fields = {
        "ip": context.ip if context else None,
        "user_agent": context.user_agent if context else "",
        "request_id": context.request_id if context else "",
        **_actor_fields(actor),
    }
    events = []
    for entry in entries:
        data = entry.get("data") or {}
        leaked = find_pii_in(data)
        if leaked:
            raise UnmaskedDataError(f"audit data for {entry['action']} holds unmasked {', '.join(leaked)}")
        events.append(
            AuditEvent(
                action=entry["action"], **_subject_fields(entry.get("subject")), data=data, **request_fields
            )
        )
    return AuditEvent.objects.bulk_create(events)
