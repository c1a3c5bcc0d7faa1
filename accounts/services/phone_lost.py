"""Changing the bound phone when the old one is lost (DESIGN.md section 5, path b).

Without the old phone the borrower proves who they are with the password, real name and
ID number, proves the new number with a code and (LOST_PHONE_FACE_CHECK) passes a face
check at the identity provider after a separate biometrics consent; an officer then reviews
the request with the face check's result on the case. Approval changes the number exactly as
path a would; rejection tells the borrower why.
"""

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.identity import CheckResult
from accounts.models import FaceCheck, Identity, PhoneChange, PhoneCheck, User
from accounts.policies import Policy
from accounts.services.codes import Purpose, sms_code_send, sms_code_verify
from accounts.services.face_check import face_check_finish, face_check_start
from accounts.services.freeze import ensure_not_frozen
from accounts.services.login import LoginRefused, password_check
from accounts.services.notifications import notification_create
from accounts.services.phone_change import (
    PhoneChangeRefused,
    ensure_within_limit,
    new_number_limit_refusal,
    new_number_target,
    number_taken_refusal,
    phone_number_apply_reviewed,
    same_number_refusal,
)
from accounts.services.phone_check import identity_carrier_check, phone_check_record
from accounts.services.sms import sms_queue
from audit import risk
from audit.actions import Action
from audit.context import current_request
from audit.models import ReviewCase
from audit.services import record, review_case_approve_by_rule, review_case_cancel, review_case_open
from lending.crypto import encrypt
from lending.pii import mask_phone

LOST_PHONE = "phone_lost"
AUTO_APPROVE_RULE = "lost_phone_auto_approve"  # the system rule named on cases it approves
OLD_PHONE_LOST = gettext_lazy("The old phone is lost")
risk.register_reason("old_phone_lost", OLD_PHONE_LOST)


class LostPhoneRefused(PhoneChangeRefused):
    code = "lost_phone_refused"


def _details_refused() -> LostPhoneRefused:
    return LostPhoneRefused(
        _("These details do not match an account. Check them and try again."), code="mismatch"
    )


def phone_lost_start(
    *, phone: str, password: str, real_name: str, id_number: str, new_phone: str
) -> PhoneChange:
    """Check who is asking and send a code to the new number.

    A wrong password, an unknown number and an identity that does not match get the same
    refusal; password failures count towards the login lockout.
    """
    try:
        user = password_check(phone=phone, password=password, step="phone_lost")
    except LoginRefused as exc:
        if exc.code == "locked":
            raise
        raise _details_refused() from None
    identity = Identity.objects.filter(user=user).first()
    matches = (
        identity is not None
        and identity.id_number_hash == Identity.hash_of(id_number)
        and identity.real_name == real_name
    )
    with transaction.atomic(durable=True):
        user = User.objects.select_for_update().get(pk=user.pk)
        refusal = None if matches else _details_refused()
        if refusal is None:
            ensure_not_frozen(user)
            ensure_within_limit(user)
            if PhoneChange.objects.filter(user=user, status=PhoneChange.Status.IN_REVIEW).exists():
                raise LostPhoneRefused(
                    _("A request for this account is already waiting for review."), code="in_review"
                )
            refusal = same_number_refusal(user, new_phone) or new_number_limit_refusal(user)
        if refusal:
            data = {"phone": user.masked_phone, "new": mask_phone(new_phone), "why": refusal.code}
            record(action=Action.PHONE_LOST_REFUSED, actor=None, subject=user, data=data)
        else:
            for earlier in PhoneChange.objects.select_for_update().filter(
                user=user, status__in=PhoneChange.OPEN
            ):
                earlier.status = PhoneChange.Status.CANCELLED
                earlier._change_reason = "replaced by a lost-phone request"
                earlier.save()
            change = PhoneChange(
                user=user,
                path=PhoneChange.Path.LOST_PHONE,
                status=PhoneChange.Status.NEW_SENT,
                old_phone_masked=user.masked_phone,
                new_phone_encrypted=encrypt(new_phone),
                new_phone_masked=mask_phone(new_phone),
            )
            change._change_reason = "lost-phone request started"
            change.save()
            record(
                action=Action.PHONE_LOST_STARTED,
                actor=None,
                subject=user,
                data={"change": change.pk, "new": change.new_phone_masked},
            )
    if refusal:
        raise refusal
    phone_lost_send_code(change=change)
    return change


def phone_lost_send_code(*, change: PhoneChange) -> None:
    sms_code_send(
        purpose=Purpose.PHONE_CHANGE_NEW,
        target=new_number_target(change),
        phone=change.new_phone,
        user=change.user,
    )


def phone_lost_confirm(*, change: PhoneChange, code: str) -> ReviewCase | None:
    """The code proves the new number; the request goes on to the face check (None), or
    straight to a compliance officer when no face check is required, unless the number is
    bound to another account (said only now, to the number's holder)."""
    sms_code_verify(
        purpose=Purpose.PHONE_CHANGE_NEW, target=new_number_target(change), code=code, user=change.user
    )
    refusal = number_taken_refusal(change.new_phone)
    if refusal:
        phone_lost_refuse(change=change, refusal=refusal)
        raise refusal
    if settings.LOST_PHONE_FACE_CHECK:
        phone_lost_face_wait(change=change)
        return None
    return phone_lost_submit(change=change, carrier=_new_number_carrier_check(change))


def _new_number_carrier_check(change: PhoneChange) -> CheckResult | None:
    """Whether the new number is in the borrower's name: evidence for the officer."""
    identity = Identity.objects.filter(user_id=change.user_id).first()
    return identity_carrier_check(identity, change.new_phone) if identity else None


def _expired() -> LostPhoneRefused:
    return LostPhoneRefused(_("This request has expired. Start again."), code="expired")


@transaction.atomic
def phone_lost_face_wait(*, change: PhoneChange) -> None:
    """The new number is proven: the request waits for the borrower's face check."""
    change = PhoneChange.objects.select_for_update().get(pk=change.pk)
    if not (change.is_open and change.status == PhoneChange.Status.NEW_SENT):
        raise _expired()
    change.status = PhoneChange.Status.FACE_CHECK
    change._change_reason = "new number proven; waiting for the face check"
    change.save()
    record(
        action=Action.PHONE_LOST_FACE_CHECK, actor=None, subject=change, data={"new": change.new_phone_masked}
    )


def phone_lost_face_start(*, change: PhoneChange, consent: Policy, return_url: str) -> FaceCheck:
    """Record the biometrics consent and open the provider's liveness page for this request."""
    change = PhoneChange.objects.select_related("user__identity").get(pk=change.pk)
    if not (change.is_open and change.status == PhoneChange.Status.FACE_CHECK):
        raise _expired()
    if change.face_checks.count() >= settings.FACE_CHECK_STARTS_PER_REQUEST:
        raise LostPhoneRefused(
            _("Too many face checks were started for this request. Start a new request tomorrow."),
            code="too_many_face_checks",
        )
    return face_check_start(
        user=change.user,
        purpose=FaceCheck.Purpose.PHONE_LOST,
        policy=consent,
        return_url=return_url,
        phone_change=change,
    )


def phone_lost_face_finish(*, change: PhoneChange, biz_token: str) -> ReviewCase:
    """The borrower came back from the provider's page: a passing check opens the review case.

    A check that did not pass may be tried again, FACE_CHECKS_PER_REQUEST times in all; then
    the request ends.
    """
    check = FaceCheck.objects.filter(phone_change=change, biz_token=biz_token).first()
    if check is None:
        raise LostPhoneRefused(_("This face check does not belong to your request."), code="unknown_check")
    check = face_check_finish(check=check)
    if check.status == FaceCheck.Status.PASSED:
        change.refresh_from_db()
        if change.status in (PhoneChange.Status.IN_REVIEW, PhoneChange.Status.COMPLETED):  # a reload
            return ReviewCase.objects.filter(kind=LOST_PHONE, subject_id=str(change.pk)).latest("id")
        return phone_lost_submit(change=change, carrier=_new_number_carrier_check(change))
    if check.status == FaceCheck.Status.UNFINISHED:
        raise LostPhoneRefused(
            _("The face check was not finished. Start it again when you are ready."), code="face_unfinished"
        )
    failed = change.face_checks.filter(status=FaceCheck.Status.FAILED).count()
    if failed >= settings.FACE_CHECKS_PER_REQUEST:
        refusal = LostPhoneRefused(
            _(
                "The face check did not match the photo on your ID card. The request is closed; "
                "visit a service centre with your ID card to change the number."
            ),
            code="face_failed",
        )
        phone_lost_refuse(change=change, refusal=refusal, status=PhoneChange.Status.FACE_CHECK)
        raise refusal
    raise LostPhoneRefused(
        _("The face check did not match the photo on your ID card. Try again in good light."),
        code="face_mismatch",
    )


@transaction.atomic
def phone_lost_refuse(
    *, change: PhoneChange, refusal: PhoneChangeRefused, status: str = PhoneChange.Status.NEW_SENT
) -> None:
    """The request ends here, before any review (the number cannot be bound, or the face
    check failed too often)."""
    change = PhoneChange.objects.select_for_update().get(pk=change.pk)
    if change.status != status:
        return
    change.status = PhoneChange.Status.CANCELLED
    change._change_reason = f"refused: {refusal.code}"
    change.save()
    data = {"phone": change.old_phone_masked, "new": change.new_phone_masked, "why": refusal.code}
    record(action=Action.PHONE_LOST_REFUSED, actor=None, subject=change.user, data=data)


@transaction.atomic
def phone_lost_submit(*, change: PhoneChange, carrier: CheckResult | None = None) -> ReviewCase:
    """Open the review case for a lost-phone request whose new number is proven (and, with
    LOST_PHONE_FACE_CHECK, whose face check passed); the carrier's answer for the new number
    (asked by the caller, outside the transaction) goes on the case."""
    change = PhoneChange.objects.select_for_update().get(pk=change.pk)
    waiting = PhoneChange.Status.FACE_CHECK if settings.LOST_PHONE_FACE_CHECK else PhoneChange.Status.NEW_SENT
    if not (change.is_open and change.path == PhoneChange.Path.LOST_PHONE and change.status == waiting):
        raise _expired()
    face_check = change.face_checks.filter(status=FaceCheck.Status.PASSED).order_by("-checked_at").first()
    if settings.LOST_PHONE_FACE_CHECK and face_check is None:
        raise LostPhoneRefused(_("A passing face check is needed first."), code="face_check_required")
    change.status = PhoneChange.Status.IN_REVIEW
    change._change_reason = "sent to review"
    change.save()
    context = current_request()
    assessment = risk.assess(
        user_id=change.user_id, ip=context.ip if context else None, request_action=Action.PHONE_LOST_STARTED
    )
    case = review_case_open(
        kind=LOST_PHONE,
        subject=change,
        borrower=change.user,
        requested_by=change.user,
        risk=risk.Assessment(
            (risk.Reason("old_phone_lost", str(_("The old phone is lost")), 20), *assessment.reasons)
        ),
    )
    phone_check = phone_check_record(
        user=change.user,
        purpose=PhoneCheck.Purpose.PHONE_LOST,
        phone=change.new_phone,
        result=carrier,
        phone_change=change,
    )
    data = {"case": case.pk, "phone_check": phone_check.outcome}
    if face_check is not None:
        data |= {
            "face_check": face_check.pk,
            "similarity": str(face_check.similarity),
            "provider_request_id": face_check.result_request_id,
        }
    record(action=Action.PHONE_LOST_SUBMITTED, actor=None, subject=change, data=data)
    if _auto_approvable(case, face_check, phone_check) and phone_lost_auto_approve(
        case=case, face_check=face_check
    ):
        case.refresh_from_db()
        return case
    sms_queue(
        to=change.new_phone,
        template="phone_lost_received",
        context={"case": case.pk},
        language=change.user.language,
    )
    # The old number hears of it now, while there is still time to stop it, not only once it is done.
    sms_queue(
        to=change.user.phone,
        template="phone_lost_filed_old",
        context={"new": change.new_phone_masked},
        language=change.user.language,
    )
    return case


def _auto_approvable(case: ReviewCase, face_check: FaceCheck | None, phone_check: PhoneCheck) -> bool:
    """LOST_PHONE_AUTO_APPROVE: the face passed and the carrier confirms the new number in the
    borrower's name; a case the risk rules made need two approvals stays with the officers."""
    return (
        settings.LOST_PHONE_AUTO_APPROVE
        and face_check is not None
        and phone_check.outcome == PhoneCheck.Outcome.MATCH
        and case.approvals_needed == 1
    )


def phone_lost_auto_approve(*, case: ReviewCase, face_check: FaceCheck) -> bool:
    """The rule AUTO_APPROVE_RULE approves the case (in the caller's transaction), naming the
    evidence; False when the number cannot be bound after all (the case stays open)."""
    reason = _(
        "Approved by the system rule %(rule)s: the face check passed (similarity %(similarity)s, "
        "provider request %(request)s) and the carrier confirms the new number in the borrower's name."
    ) % {
        "rule": AUTO_APPROVE_RULE,
        "similarity": face_check.similarity,
        "request": face_check.result_request_id,
    }
    return review_case_approve_by_rule(case=case, rule=AUTO_APPROVE_RULE, reason=reason)


def phone_lost_approve(case: ReviewCase, officer: User) -> None:
    """Approve action: the number changes exactly as with the old phone at hand."""
    user = phone_number_apply_reviewed(case, path="b", refused=LostPhoneRefused)  # now at the new number
    sms_queue(to=user.phone, template="phone_lost_approved", context={}, language=user.language)


def phone_lost_reject(case: ReviewCase, officer: User | None, reason: str) -> None:
    """Reject action: the number stays; the borrower is told why, at the new number and in the app."""
    change = PhoneChange.objects.select_for_update().get(pk=case.subject_id)
    change.status = PhoneChange.Status.REJECTED
    change._change_reason = f"rejected in review case #{case.pk}"
    change.save()
    record(action=Action.PHONE_LOST_REJECTED, actor=officer, subject=change, data={"case": case.pk})
    user = change.user
    sms_queue(
        to=change.new_phone,
        template="phone_lost_rejected",
        context={"reason": reason},
        language=user.language,
    )
    notification_create(user=user, kind="phone_lost_rejected", params={"reason": reason})


@transaction.atomic
def phone_lost_cancel(*, actor: User, change: PhoneChange) -> None:
    """The borrower withdraws a lost-phone request waiting for the face check or for review."""
    change = PhoneChange.objects.select_for_update().get(pk=change.pk, user=actor)
    if change.status not in (PhoneChange.Status.FACE_CHECK, PhoneChange.Status.IN_REVIEW):
        return
    change.status = PhoneChange.Status.CANCELLED
    change._change_reason = "withdrawn by the borrower"
    change.save()
    for case in ReviewCase.objects.filter(
        kind=LOST_PHONE, subject_id=str(change.pk), status=ReviewCase.Status.OPEN
    ):
        review_case_cancel(actor=actor, case=case, reason="withdrawn by the borrower")
