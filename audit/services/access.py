"""The access log: a staff member opened a borrower's record, or revealed a masked value."""

from django.core.exceptions import PermissionDenied
from django.db import transaction

from audit.actions import Action
from audit.services.events import SubjectRef, record


@transaction.atomic
def personal_data_view_record(*, actor, model, object_id, page: str = "change") -> None:
    subject = SubjectRef(model._meta.label_lower, str(object_id))
    record(action=Action.PERSONAL_DATA_VIEWED, actor=actor, subject=subject, data={"page": page})


@transaction.atomic
def personal_data_reveal(*, actor, obj, field: str, reveal) -> str:
    """The full value of a masked ``field`` of ``obj`` (``reveal(obj)``), recorded first."""
    if not actor.has_perm("accounts.reveal_personal_data"):
        raise PermissionDenied
    record(action=Action.PERSONAL_DATA_REVEALED, actor=actor, subject=obj, data={"field": field})
    return reveal(obj)
