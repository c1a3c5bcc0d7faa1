"""Reminding borrowers, days before a due date, that their loan has no card to be collected from."""

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.services.notifications import notification_create
from accounts.services.sms import sms_queue
from audit.actions import Action
from audit.services import record
from lending.models import Installment, Loan
from lending.money import grouped


def _usable_repayment_card(borrower_ref):
    from cards.models import Card, Mandate

    return Exists(
        Mandate.objects.filter(
            status=Mandate.Status.ACTIVE,
            card__user=borrower_ref,
            card__is_repayment=True,
            card__status=Card.Status.ACTIVE,
        )
    )


def installments_without_repayment_card(day: date):
    """Unpaid installments due ``AUTODEBIT_REMINDER_DAYS`` after ``day`` whose borrower has no active
    repayment card with an active mandate, and who were not reminded yet."""
    return (
        Installment.objects.filter(
            due_date=day + timedelta(days=settings.AUTODEBIT_REMINDER_DAYS),
            reminded_at__isnull=True,
            loan__status__in=Loan.BEING_REPAID,
        )
        .exclude(status=Installment.Status.PAID)
        .exclude(_usable_repayment_card(OuterRef("loan__borrower")))
    )


@transaction.atomic
def repayment_card_reminder_send(*, installment_id: int) -> bool:
    """SMS and in-app notice with a link to /cards/, once per installment."""
    installment = (
        Installment.objects.select_for_update(of=("self",))
        .select_related("loan__borrower")
        .get(pk=installment_id)
    )
    if installment.reminded_at is not None or installment.status == Installment.Status.PAID:
        return False
    installment.reminded_at = timezone.now()
    installment._change_reason = "borrower reminded: no usable repayment card"
    installment.save(update_fields=["reminded_at"])
    borrower = installment.loan.borrower
    params = {
        "loan": installment.loan_id,
        "number": installment.number,
        "amount": str(installment.amount_due - installment.paid_amount),
        "due_date": installment.due_date.isoformat(),
    }
    notification_create(user=borrower, kind="repayment_card_missing", params=params, link="/cards/")
    text = {**params, "amount": grouped(installment.amount_due - installment.paid_amount)}
    sms_queue(to=borrower.phone, template="repayment_card_missing", context=text, language=borrower.language)
    record(action=Action.REPAYMENT_CARD_REMINDER_SENT, actor=None, subject=installment, data=params)
    return True


def repayment_card_reminders_send(*, day: date) -> int:
    ids = list(installments_without_repayment_card(day).values_list("pk", flat=True))
    return sum(repayment_card_reminder_send(installment_id=pk) for pk in ids)
