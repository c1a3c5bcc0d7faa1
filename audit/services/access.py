"""The access log: a staff member opened a borrower's record in the back office."""

from django.db import transaction

from audit.actions import Action
from audit.services.events import SubjectRef, record


@transaction.atomic
def personal_data_view_record(*, actor, model, object_id) -> None:
    subject = SubjectRef(model._meta.label_lower, str(object_id))
    record(action=Action.PERSONAL_DATA_VIEWED, actor=actor, subject=subject, data={"page": "change"})
