"""What approving and rejecting the accounts' review cases does, and what officers see of them."""

from django.utils.translation import gettext_lazy as _

from accounts.models import PhoneChange, User
from accounts.services.freeze import UNFREEZE, account_unfreeze, account_unfreeze_refused
from accounts.services.phone_lost import LOST_PHONE, phone_lost_approve, phone_lost_reject
from audit import reviews
from lending.pii import mask_name
from lending.times import local_date, local_datetime


def _identity_rows(user: User) -> list[tuple[str, str]]:
    identity = getattr(user, "identity", None)
    if identity is None:
        return [(_("Identity"), _("not verified"))]
    return [(_("Real name"), mask_name(identity.real_name)), (_("ID number"), identity.id_number_masked)]


def lost_phone_summary(case) -> list[tuple[str, str]]:
    change = PhoneChange.objects.select_related("user__identity").get(pk=case.subject_id)
    return [
        (_("Borrower"), change.user.masked_phone),
        (_("Current number"), change.old_phone_masked),
        (_("Requested new number"), change.new_phone_masked),
        (_("Request status"), change.get_status_display()),
        *_identity_rows(change.user),
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
        UNFREEZE,
        label=_("Unfreeze a frozen account"),
        approve=account_unfreeze,
        reject=account_unfreeze_refused,
        summary=unfreeze_summary,
    )
