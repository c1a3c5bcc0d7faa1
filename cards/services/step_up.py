"""Step-up: a card bind or unbind held for review, cleared by the borrower's own face check.

With STEP_UP_FACE_CHECK the borrower whose bind or unbind waits for an officer may instead
pass a face check (the biometrics consent first, then the provider's hosted page, one FaceCheck
per attempt). A pass carries out the change at once and closes the case as cleared by the face
check; a check that does not pass leaves the case with the officers, and after
FACE_CHECKS_PER_REQUEST of them it is no longer offered.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import FaceCheck, User
from accounts.notifications import card_param
from accounts.policies import Policy
from accounts.services.face_check import face_check_finish, face_check_start
from accounts.services.freeze import ensure_not_frozen
from accounts.services.notifications import notification_create
from audit.actions import Action
from audit.models import ReviewCase
from audit.services import record, review_case_close_cleared
from cards.models import Card
from cards.selectors import repayment_card
from cards.services.binding import BIND_REVIEW
from cards.services.unbinding import UNBIND_REVIEW, complete_unbind
from lending.errors import DomainError

STEP_UP_KINDS = (BIND_REVIEW, UNBIND_REVIEW)


class StepUpRefused(DomainError):
    code = "step_up_refused"


def step_up_case(user: User, card: Card) -> ReviewCase | None:
    """The open case holding the borrower's own card that a face check may clear, or None
    (the setting is off, nothing is held, or too many face checks did not pass)."""
    if (
        not settings.STEP_UP_FACE_CHECK
        or card.status != Card.Status.PENDING_REVIEW
        or card.user_id != user.pk
    ):
        return None
    case = (
        ReviewCase.objects.filter(
            kind__in=STEP_UP_KINDS,
            subject_type=ContentType.objects.get_for_model(Card),
            subject_id=str(card.pk),
            status=ReviewCase.Status.OPEN,
            borrower=user,
        )
        .order_by("-pk")
        .first()
    )
    if case is None:
        return None
    failed = FaceCheck.objects.filter(review_case=case, status=FaceCheck.Status.FAILED).count()
    return case if failed < settings.FACE_CHECKS_PER_REQUEST else None


def _not_offered() -> StepUpRefused:
    return StepUpRefused(
        _("A face check cannot clear this card's review. It waits for our compliance team."),
        code="not_offered",
    )


def step_up_face_start(*, actor: User, card: Card, consent: Policy, return_url: str) -> FaceCheck:
    """Record the biometrics consent and open the provider's liveness page for the card's case."""
    ensure_not_frozen(actor)
    case = step_up_case(actor, card)
    if case is None:
        raise _not_offered()
    if FaceCheck.objects.filter(review_case=case).count() >= settings.FACE_CHECK_STARTS_PER_REQUEST:
        raise StepUpRefused(
            _("Too many face checks were started for this card. It waits for our compliance team."),
            code="too_many_face_checks",
        )
    return face_check_start(
        user=actor, purpose=FaceCheck.Purpose.STEP_UP, policy=consent, return_url=return_url, review_case=case
    )


def step_up_face_finish(*, actor: User, biz_token: str) -> Card:
    """The borrower came back from the provider's page: the result is fetched from the provider;
    a pass carries out the held change, anything else leaves it in review (StepUpRefused)."""
    check = FaceCheck.objects.filter(
        user=actor, purpose=FaceCheck.Purpose.STEP_UP, biz_token=biz_token, review_case__isnull=False
    ).first()
    if check is None:
        raise StepUpRefused(_("This face check does not belong to you."), code="unknown_check")
    check = face_check_finish(check=check)
    if check.status == FaceCheck.Status.PASSED:
        return step_up_clear(check=check)
    if check.status == FaceCheck.Status.UNFINISHED:
        raise StepUpRefused(
            _(
                "The face check was not finished. The change still waits for review; "
                "you can start the check again."
            ),
            code="face_unfinished",
        )
    raise StepUpRefused(
        _(
            "The face check did not match the photo on your ID card. "
            "The change waits for our compliance team."
        ),
        code="face_mismatch",
    )


@transaction.atomic
def step_up_clear(*, check: FaceCheck) -> Card:
    """A passing face check carries out the held bind or unbind and closes its case as cleared
    (once: a case decided meanwhile, or a reload, changes nothing)."""
    check = FaceCheck.objects.get(pk=check.pk)  # as stored (the similarity to two places)
    case = ReviewCase.objects.select_for_update().get(pk=check.review_case_id)
    card = Card.objects.select_for_update().select_related("user").get(pk=case.subject_id)
    if (
        not case.is_open
        or card.status != Card.Status.PENDING_REVIEW
        or check.status != FaceCheck.Status.PASSED
    ):
        return card
    user = card.user
    evidence = {
        "face_check": check.pk,
        "similarity": str(check.similarity),
        "provider_request_id": check.result_request_id,
    }
    if case.kind == UNBIND_REVIEW:
        complete_unbind(
            card=card, actor=user, reason=f"unbound: review case #{case.pk} cleared by a face check"
        )
    else:
        card.status = Card.Status.ACTIVE
        card.is_repayment = card.is_debit and repayment_card(user) is None
        card._change_reason = f"bound: review case #{case.pk} cleared by a face check"
        card.save()
        notification_create(user=user, kind="card_bound", params={"card": card_param(card)}, link="/cards/")
    record(
        action=Action.STEP_UP_CLEARED,
        actor=user,
        subject=card,
        data={"case": case.pk, "kind": case.kind, "card": card.masked_number, **evidence},
    )
    reason = _(
        "Cleared by the borrower's face check (similarity %(similarity)s, provider request %(request)s)."
    ) % {"similarity": check.similarity, "request": check.result_request_id}
    review_case_close_cleared(actor=user, case=case, reason=reason, data=evidence)
    return card
