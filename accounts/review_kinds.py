"""What approving and rejecting the accounts' review cases does, and what officers see of them."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import FaceCheck, PhoneChange, PhoneCheck, User
from accounts.services.freeze import UNFREEZE, account_unfreeze, account_unfreeze_refused
from accounts.services.phone_change import (
    PHONE_OTHER_NAME,
    phone_change_review_approve,
    phone_change_review_reject,
)
from accounts.services.phone_lost import LOST_PHONE, phone_lost_approve, phone_lost_reject
from audit import reviews
from audit.actions import Action
from audit.models import AuditEvent
from lending.pii import mask_name
from lending.times import local_date, local_datetime


def _identity_rows(user: User) -> list[tuple[str, str]]:
    identity = getattr(user, "identity", None)
    if identity is None:
        return [(_("Identity"), _("not verified"))]
    return [(_("Real name"), mask_name(identity.real_name)), (_("ID number"), identity.id_number_masked)]


def _face_check_rows(change: PhoneChange) -> list[tuple[str, str]]:
    """The evidence of the face check: the last one with a result (never an image: none is kept)."""
    check = change.face_checks.filter(checked_at__isnull=False).order_by("-checked_at").first()
    if check is None:
        return [(_("Face check"), _("none"))]
    tried = change.face_checks.filter(status=FaceCheck.Status.FAILED).count()
    return [
        (_("Face check"), check.get_status_display()),
        (_("Face similarity (pass at 70)"), str(check.similarity) if check.similarity is not None else "-"),
        (_("Face checks that did not pass"), str(tried)),
        (_("Provider request id"), check.result_request_id),
        (_("Face checked at"), timezone.localtime(check.checked_at).strftime("%Y-%m-%d %H:%M:%S")),
    ]


def _carrier_rows(change: PhoneChange) -> list[tuple[str, str]]:
    check = PhoneCheck.objects.filter(phone_change=change).order_by("-checked_at").first()
    if check is None:
        return [(_("New number at the carrier"), _("not checked"))]
    return [
        (_("New number at the carrier"), check.get_outcome_display()),
        (_("Carrier check request id"), check.provider_request_id or "-"),
    ]


def _rule_rows(case) -> list[tuple[str, str]]:
    """Who decided, when no officer did: the system rule that approved the case."""
    event = AuditEvent.objects.filter(
        action=Action.REVIEW_CASE_APPROVED_BY_RULE, subject_type="audit.reviewcase", subject_id=str(case.pk)
    ).first()
    return [(_("Approved by the system rule"), event.data["rule"])] if event else []


def lost_phone_summary(case) -> list[tuple[str, str]]:
    change = PhoneChange.objects.select_related("user__identity").get(pk=case.subject_id)
    return [
        (_("Borrower"), change.user.masked_phone),
        (_("Current number"), change.old_phone_masked),
        (_("Requested new number"), change.new_phone_masked),
        (_("Request status"), change.get_status_display()),
        *_identity_rows(change.user),
        *_face_check_rows(change),
        *_carrier_rows(change),
        *_rule_rows(case),
        (_("Account opened"), local_date(change.user.date_joined)),
    ]


def phone_other_name_summary(case) -> list[tuple[str, str]]:
    change = PhoneChange.objects.select_related("user__identity").get(pk=case.subject_id)
    return [
        (_("Borrower"), change.user.masked_phone),
        (_("Current number"), change.old_phone_masked),
        (_("Requested new number"), change.new_phone_masked),
        (_("Request status"), change.get_status_display()),
        *_identity_rows(change.user),
        *_carrier_rows(change),
        (_("Account opened"), local_date(change.user.date_joined)),
    ]


def unfreeze_summary(case) -> list[tuple[str, str]]:
    user = User.objects.select_related("identity").get(pk=case.borrower_id)
    return [
        (_("Borrower"), user.masked_phone),
        (_("Frozen since"), local_datetime(user.frozen_at) or _("not frozen")),
        (_("Reason for the freeze"), user.frozen_reason),
        *_identity_rows(user),
    ]


def register() -> None:
    reviews.register(
        LOST_PHONE,
        label=_("Phone change, old phone lost"),
        approve=phone_lost_approve,
        reject=phone_lost_reject,
        summary=lost_phone_summary,
    )
    reviews.register(
        PHONE_OTHER_NAME,
        label=_("Phone change to a number not confirmed in the borrower's name"),
        approve=phone_change_review_approve,
        reject=phone_change_review_reject,
        summary=phone_other_name_summary,
    )
    reviews.register(
        UNFREEZE,
        label=_("Unfreeze a frozen account"),
        approve=account_unfreeze,
        reject=account_unfreeze_refused,
        summary=unfreeze_summary,
    )
