"""A copy of the borrower's personal data (PIPL art. 45): asked with password and code, built by a
task with progress, downloaded once by that borrower, until it expires.

The copy is a zip of one JSON file per section and a readable HTML summary. Card numbers, ID
numbers and phone numbers appear masked in it, as everywhere else the platform shows them.
"""

import hashlib
import io
import json
import zipfile
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Consent, Identity, Notification, PhoneChange, User
from accounts.notifications import render as render_notification
from accounts.services.codes import Purpose, sms_code_verify
from accounts.services.notifications import notification_create
from audit.actions import Action
from audit.services import record
from cards.models import Card, Mandate
from lending.errors import DomainError
from lending.models import DebitAttempt, Installment, Loan
from lending.outbox import outbox_enqueue
from lending.pii import mask_phone
from privacy.models import DataCopy
from support.models import SupportCase, SupportMessage


def copy_storage():
    """Where copies are written, read from the settings each time (tests point it elsewhere)."""
    return storages["data_copies"]


class DataCopyRefused(DomainError):
    code = "data_copy_refused"


def data_copy_request(*, actor: User, code: str) -> DataCopy:
    """The borrower (password typed again, checked by the view) and the code sent for this."""
    from privacy.tasks import build_data_copy

    since = timezone.now() - timedelta(days=1)
    if (
        DataCopy.objects.filter(user=actor, requested_at__gte=since).count()
        >= settings.PRIVACY_COPIES_PER_DAY
    ):
        raise DataCopyRefused(
            _("You asked for copies twice today already. Try again tomorrow."), code="too_many"
        )
    sms_code_verify(purpose=Purpose.DATA_COPY, target=actor.pk, code=code, actor=actor, user=actor)
    with transaction.atomic():
        User.objects.select_for_update().get(pk=actor.pk)
        copy = DataCopy.objects.create(user=actor, sections_total=len(SECTIONS))
        record(action=Action.DATA_COPY_REQUESTED, actor=actor, subject=copy)
        outbox_enqueue(task=build_data_copy, kwargs={"copy_id": copy.pk})
    return copy


def _dt(value):
    return timezone.localtime(value).isoformat() if value else None


def _account(user):
    return {
        "mobile_number": mask_phone(user.phone),
        "language": user.language,
        "joined": _dt(user.date_joined),
        "frozen": user.is_frozen,
    }


def _identity(user):
    identity = Identity.objects.filter(user=user).first()
    if identity is None:
        return None
    return {
        "real_name": identity.real_name,
        "id_number": identity.id_number_masked,
        "birth_date": identity.birth_date.isoformat(),
        "verified": _dt(identity.verified_at),
    }


def _cards(user):
    return [
        {
            "id": card.pk,
            "bank": card.bank_code,
            "type": card.card_type,
            "number": card.masked_number,
            "holder": card.holder_name,
            "reserved_phone": card.reserved_phone_masked,
            "status": card.status,
            "repayment_card": card.is_repayment,
            "bound": _dt(card.bound_at),
            "unbound": _dt(card.unbound_at),
        }
        for card in Card.objects.filter(user=user).order_by("pk")
    ]


def _mandates(user):
    return [
        {
            "card": mandate.card.masked_number,
            "status": mandate.status,
            "agreement_version": mandate.agreement_version,
            "created": _dt(mandate.created_at),
            "revoked": _dt(mandate.revoked_at),
            "revoked_at_bank": _dt(mandate.revoked_at_bank),
        }
        for mandate in Mandate.objects.filter(card__user=user).select_related("card").order_by("pk")
    ]


def _loans(user):
    return [
        {
            "id": loan.pk,
            "product": loan.product,
            "principal": loan.principal,
            "annual_rate": loan.annual_rate,
            "term_months": loan.term_months,
            "status": loan.status,
            "disbursed": _dt(loan.disbursed_at),
        }
        for loan in Loan.objects.filter(borrower=user).order_by("pk")
    ]


def _installments(user):
    return [
        {
            "loan": row.loan_id,
            "number": row.number,
            "due_date": row.due_date.isoformat(),
            "principal_due": row.principal_due,
            "interest_due": row.interest_due,
            "paid": row.paid_amount,
            "status": row.status,
        }
        for row in Installment.objects.filter(loan__borrower=user).order_by("loan_id", "number")
    ]


def _attempts(user):
    rows = DebitAttempt.objects.filter(installment__loan__borrower=user).select_related("installment", "card")
    return [
        {
            "loan": row.installment.loan_id,
            "installment": row.installment.number,
            "attempt": row.number,
            "amount": row.amount,
            "card": row.card.masked_number if row.card else None,
            "status": row.status,
            "failure_code": row.failure_code,
            "sent": _dt(row.created_at),
            "settled": _dt(row.settled_at),
        }
        for row in rows.order_by("pk")
    ]


def _notifications(user):
    rows = []
    for notification in Notification.objects.filter(user=user).order_by("pk"):
        title, body = render_notification(notification.kind, notification.params)
        rows.append({"time": _dt(notification.created_at), "title": title, "text": body})
    return rows


def _consents(user):
    return [
        {
            "document": consent.document,
            "version": consent.version,
            "language": consent.language,
            "text_sha256": consent.text_sha256,
            "accepted": _dt(consent.accepted_at),
            "withdrawn": _dt(consent.withdrawal.withdrawn_at) if hasattr(consent, "withdrawal") else None,
        }
        for consent in Consent.objects.filter(user=user).select_related("withdrawal").order_by("pk")
    ]


def _phone_changes(user):
    return [
        {
            "path": change.path,
            "status": change.status,
            "old_number": change.old_phone_masked,
            "new_number": change.new_phone_masked,
            "started": _dt(change.started_at),
            "completed": _dt(change.completed_at),
        }
        for change in PhoneChange.objects.filter(user=user).order_by("pk")
    ]


def _support(user):
    cases = SupportCase.objects.filter(borrower=user).order_by("pk")
    return [
        {
            "id": case.pk,
            "category": case.category,
            "complaint": case.is_complaint,
            "status": case.status,
            "opened": _dt(case.opened_at),
            "messages": [
                {"from": message.kind, "time": _dt(message.created_at), "text": message.body}
                for message in case.messages.exclude(kind=SupportMessage.Kind.NOTE)
            ],
        }
        for case in cases
    ]


SECTIONS = (
    ("account", _account),
    ("identity", _identity),
    ("cards", _cards),
    ("mandates", _mandates),
    ("loans", _loans),
    ("installments", _installments),
    ("debit_attempts", _attempts),
    ("notifications", _notifications),
    ("consents", _consents),
    ("phone_changes", _phone_changes),
    ("support_cases", _support),
)


def _cell(value) -> str:
    if isinstance(value, list):  # a help request's messages
        return " | ".join(" · ".join(str(v) for v in item.values()) for item in value)
    return "" if value is None else str(value)


def _table(rows) -> tuple[list, list]:
    """A section as a table for the readable summary: (headers, rows of cells)."""
    rows = [rows] if isinstance(rows, dict) else (rows or [])
    headers = list(rows[0]) if rows else []
    return headers, [[_cell(row.get(header)) for header in headers] for row in rows]


def _claim(copy_id: int) -> DataCopy | None:
    with transaction.atomic():
        copy = DataCopy.objects.select_for_update().filter(pk=copy_id).first()
        if copy is None or copy.status not in (DataCopy.Status.QUEUED, DataCopy.Status.RUNNING):
            return None
        copy.status = DataCopy.Status.RUNNING
        copy.sections_done = 0
        copy.save(update_fields=["status", "sections_done"])
        return copy


def data_copy_build(*, copy_id: int) -> DataCopy | None:
    """Task: write the zip section by section (progress saved after each), then offer it.

    A redelivered task starts over; a finished copy is left alone."""
    copy = _claim(copy_id)
    if copy is None:
        return None
    user = User.objects.get(pk=copy.user_id)
    data = {}
    for done, (name, collect) in enumerate(SECTIONS, start=1):
        data[name] = collect(user)
        DataCopy.objects.filter(pk=copy.pk).update(sections_done=done)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, rows in data.items():
            archive.writestr(
                f"{name}.json", json.dumps(rows, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
            )
        with translation.override(user.language):
            tables = [(name, *_table(rows)) for name, rows in data.items()]
            archive.writestr(
                "summary.html", render_to_string("privacy/copy_summary.html", {"tables": tables})
            )
    content = buffer.getvalue()
    with transaction.atomic():
        copy = DataCopy.objects.select_for_update().get(pk=copy.pk)
        folder = timezone.localtime().strftime("%Y/%m")
        copy.archive.name = copy_storage().save(f"{folder}/copy-{copy.pk}.zip", ContentFile(content))
        copy.archive_sha256 = hashlib.sha256(content).hexdigest()
        copy.status = DataCopy.Status.DONE
        copy.finished_at = timezone.now()
        copy.expires_at = copy.finished_at + timedelta(hours=settings.PRIVACY_COPY_KEEP_HOURS)
        copy.save()
        record(action=Action.DATA_COPY_BUILT, actor=None, subject=copy, data={"sha256": copy.archive_sha256})
        notification_create(
            user=user,
            kind="data_copy_ready",
            params={"until": timezone.localtime(copy.expires_at).date().isoformat()},
            link="/privacy/",
        )
    return copy


def data_copy_download(*, actor: User, copy: DataCopy) -> bytes:
    """The zip, once, to the borrower who asked for it, before it expires; then it is deleted."""
    with transaction.atomic():
        copy = DataCopy.objects.select_for_update().get(pk=copy.pk, user=actor)
        if copy.status == DataCopy.Status.DOWNLOADED:
            raise DataCopyRefused(
                _("This copy was downloaded already. Ask for a new one."), code="downloaded"
            )
        if not copy.downloadable:
            raise DataCopyRefused(
                _("This copy is not available (not ready yet, or expired)."), code="not_available"
            )
        with copy_storage().open(copy.archive.name, "rb") as handle:
            content = handle.read()
        copy.status = DataCopy.Status.DOWNLOADED
        copy.downloaded_at = timezone.now()
        name = copy.archive.name
        copy.archive = ""
        copy.save()
        record(action=Action.DATA_COPY_DOWNLOADED, actor=actor, subject=copy)
        transaction.on_commit(partial(copy_storage().delete, name))
    return content


def data_copies_expire() -> int:
    """Beat: ready copies past their time are deleted (nothing personal lies around)."""
    expired = 0
    for copy_id in DataCopy.objects.filter(
        status=DataCopy.Status.DONE, expires_at__lt=timezone.now()
    ).values_list("pk", flat=True):
        with transaction.atomic():
            copy = DataCopy.objects.select_for_update().get(pk=copy_id)
            if copy.status != DataCopy.Status.DONE:
                continue
            name = copy.archive.name
            copy.status = DataCopy.Status.EXPIRED
            copy.archive = ""
            copy.save()
            transaction.on_commit(partial(copy_storage().delete, name))
        expired += 1
    return expired
