"""Registration, consents and account preferences."""

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Consent, User
from accounts.policies import Policy
from accounts.services.codes import Purpose, login_device, sms_code_verify
from audit.actions import Action
from audit.context import current_request
from audit.services import record
from lending.db import advisory_xact_lock
from lending.errors import DomainError
from lending.pii import mask_phone


class AlreadyRegistered(DomainError):
    code = "already_registered"


@transaction.atomic
def consent_record(*, actor: User, policy: Policy) -> Consent:
    """Record that ``actor`` accepted this version of a policy, with the hash of its text."""
    context = current_request()
    consent = Consent.objects.create(
        user=actor,
        document=policy.document,
        version=policy.version,
        language=policy.language,
        text_sha256=policy.sha256,
        ip=context.ip if context else None,
        user_agent=context.user_agent if context else "",
    )
    record(
        action=Action.CONSENT_RECORDED,
        actor=actor,
        subject=consent,
        data={"document": policy.document, "version": policy.version, "sha256": policy.sha256},
    )
    return consent


def user_register(*, phone: str, code: str, password: str, privacy: Policy, language: str):
    """Open an account for the number the registration code proves.

    Returns (user, device to mark the session verified). A number that already has an
    account is refused here, after the code, never before (no enumeration).
    """
    sms_code_verify(purpose=Purpose.REGISTER, target=phone, code=code)
    user = borrower_create(phone=phone, password=password, privacy=privacy, language=language)
    return user, login_device(user)


def borrower_create(*, phone: str, password: str, privacy: Policy, language: str) -> User:
    """Create a borrower with the privacy consent; refused (and recorded) for a registered number."""
    refusal = None
    with transaction.atomic(durable=True):
        advisory_xact_lock(f"register:{phone}")
        if User.objects.filter(phone=phone).exists():
            record(action=Action.USER_REGISTER_REFUSED, actor=None, data={"phone": mask_phone(phone)})
            refusal = AlreadyRegistered(
                _("This number already has an account. Sign in, or reset your password if you forgot it.")
            )
        else:
            user = User(phone=phone, language=language)
            user.set_password(password)
            user._change_reason = "registered"
            user.save()
            record(action=Action.USER_REGISTERED, actor=user, subject=user)
            consent_record(actor=user, policy=privacy)
    if refusal:
        raise refusal
    return user


@transaction.atomic
def user_language_set(*, actor: User, language: str) -> None:
    """Remember the borrower's language for texts sent later (SMS, notifications)."""
    user = User.objects.select_for_update().get(pk=actor.pk)
    if user.language == language:
        return
    user.language = language
    user._change_reason = "language changed"
    user.save(update_fields=["language"])
    record(action=Action.USER_LANGUAGE_SET, actor=actor, subject=user, data={"language": language})
