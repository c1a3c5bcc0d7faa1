"""What approving and rejecting card review cases does, and what officers see of them."""

from django.utils.translation import gettext_lazy as _

from accounts.notifications import card_param
from accounts.services.notifications import notification_create
from audit import reviews
from audit.actions import Action
from audit.services import record
from cards.models import Card, Mandate
from cards.selectors import repayment_card
from cards.services.binding import BIND_REVIEW
from cards.services.unbinding import UNBIND_REVIEW, complete_unbind
from lending.selectors import outstanding_balance
from lending.times import local_datetime


def _locked_card(case) -> Card:
    return Card.objects.select_for_update().select_related("user").get(pk=case.subject_id)


def unbind_approve(case, officer) -> None:
    card = _locked_card(case)
    if card.status != Card.Status.PENDING_REVIEW:
        raise ValueError(f"card {card.pk} is not waiting for review")
    complete_unbind(card=card, actor=officer, reason=f"unbound after review case #{case.pk}")


def unbind_reject(case, officer, reason: str) -> None:
    card = _locked_card(case)
    card.status = Card.Status.ACTIVE
    card._change_reason = f"kept after review case #{case.pk}"
    card.save()
    record(action=Action.CARD_RESTORED, actor=officer, subject=card, data={"case": case.pk})
    notification_create(
        user=card.user, kind="card_unbind_rejected", params={"card": card_param(card), "reason": reason}
    )


def bind_approve(case, officer) -> None:
    card = _locked_card(case)
    card.status = Card.Status.ACTIVE
    card.is_repayment = card.is_debit and repayment_card(card.user) is None
    card._change_reason = f"binding approved in review case #{case.pk}"
    card.save()
    record(action=Action.CARD_BIND_APPROVED, actor=officer, subject=card, data={"case": case.pk})
    notification_create(user=card.user, kind="card_bound", params={"card": card_param(card)}, link="/cards/")


def bind_reject(case, officer, reason: str) -> None:
    from cards.tasks import revoke_mandate
    from lending.outbox import outbox_enqueue

    card = _locked_card(case)
    card.status = Card.Status.REJECTED
    card._change_reason = f"binding rejected in review case #{case.pk}"
    card.save()
    for mandate in Mandate.objects.select_for_update().filter(card=card, status=Mandate.Status.ACTIVE):
        mandate.status = Mandate.Status.REVOKED
        mandate._change_reason = "binding rejected"
        mandate.save()
        outbox_enqueue(task=revoke_mandate, kwargs={"mandate_id": mandate.pk})
    record(action=Action.CARD_BIND_REJECTED, actor=officer, subject=card, data={"case": case.pk})
    notification_create(
        user=card.user, kind="card_bind_rejected", params={"card": card_param(card), "reason": reason}
    )


def _step_up_rows(case) -> list[tuple[str, str]]:
    """The borrower's face checks to clear this case instead (step-up): the last result, how many
    did not pass (evidence; never an image, none is kept)."""
    from accounts.models import FaceCheck

    checks = FaceCheck.objects.filter(review_case=case, checked_at__isnull=False)
    last = checks.order_by("-checked_at").first()
    if last is None:
        return []
    return [
        (_("Borrower's face check"), last.get_status_display()),
        (_("Face similarity (pass at 70)"), str(last.similarity) if last.similarity is not None else "-"),
        (_("Face checks that did not pass"), str(checks.filter(status=FaceCheck.Status.FAILED).count())),
        (_("Provider request id"), last.result_request_id),
    ]


def card_summary(case) -> list[tuple[str, str]]:
    card = Card.objects.select_related("user").get(pk=case.subject_id)
    return [
        (_("Borrower"), card.user.masked_phone),
        (_("Card"), f"{card.bank_name} {card.masked_number} ({card.get_card_type_display()})"),
        (_("Card status"), card.get_status_display()),
        (_("Repayment card"), _("yes") if card.is_repayment else _("no")),
        (_("Bound"), local_datetime(card.bound_at)),
        (_("Outstanding"), f"¥{outstanding_balance(card.user):,.2f}"),
        *_step_up_rows(case),
    ]


def register() -> None:
    reviews.register(
        UNBIND_REVIEW,
        label=_("Unbind a card"),
        approve=unbind_approve,
        reject=unbind_reject,
        summary=card_summary,
    )
    reviews.register(
        BIND_REVIEW,
        label=_("Bind a card after a phone change"),
        approve=bind_approve,
        reject=bind_reject,
        summary=card_summary,
    )
