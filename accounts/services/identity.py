"""Real-name verification: one identity per account and one account per identity."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import Identity, User
from accounts.services.freeze import ensure_not_frozen
from accounts.services.notifications import notification_create
from accounts.validators import real_name as clean_real_name
from accounts.validators import resident_id
from audit.actions import Action
from audit.services import record
from lending.crypto import encrypt
from lending.db import advisory_xact_lock
from lending.errors import DomainError


class IdentityRefused(DomainError):
    code = "identity_refused"


def identity_verify(*, actor: User, real_name: str, id_number: str) -> Identity:
    """Store the borrower's real name and ID number (encrypted, fingerprinted, masked).

    An ID number already verified on another account is refused with an audit event.
    """
    name = clean_real_name(real_name)
    number, birth_date = resident_id(id_number)
    id_hash = Identity.hash_of(number)
    refusal = None
    with transaction.atomic(durable=True):
        user = User.objects.select_for_update().get(pk=actor.pk)
        ensure_not_frozen(user)
        advisory_xact_lock(f"identity:{id_hash}")
        if Identity.objects.filter(user=user).exists():
            raise IdentityRefused(_("Your identity is already verified."), code="already_verified")
        masked = Identity.masked(number)
        if Identity.objects.filter(id_number_hash=id_hash).exists():
            record(action=Action.IDENTITY_REFUSED, actor=actor, subject=user, data={"id_number": masked})
            refusal = IdentityRefused(
                _(
                    "This ID number is already verified on another account. "
                    "Contact customer service if it is yours."
                ),
                code="taken",
            )
        else:
            try:
                with transaction.atomic():
                    identity = Identity(
                        user=user,
                        real_name=name,
                        id_number_encrypted=encrypt(number),
                        id_number_hash=id_hash,
                        id_number_masked=masked,
                        birth_date=birth_date,
                    )
                    identity._change_reason = "identity verified"
                    identity.save()
            except IntegrityError:
                raise IdentityRefused(
                    _("Your identity could not be saved. Try again."), code="conflict"
                ) from None
            record(action=Action.IDENTITY_VERIFIED, actor=actor, subject=identity, data={"id_number": masked})
            notification_create(user=user, kind="identity_verified", params={"id_number": masked})
    if refusal:
        raise refusal
    return identity
