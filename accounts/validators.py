"""Validation of what borrowers type: mainland mobile numbers, resident ID numbers, real names."""

import datetime
import re
import unicodedata

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric

ADULT_AGE = 18


def mainland_mobile(value: str) -> str:
    """A mainland China mobile number in E.164 (``+8613800138000``), or a ValidationError."""
    raw = re.sub(r"[\s()-]", "", str(value or ""))
    if not raw or len(raw) > 20:
        raise ValidationError(_("Enter a mainland China mobile number, e.g. 138 0013 8000."), code="invalid")
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        raise ValidationError(
            _("Enter a mainland China mobile number, e.g. 138 0013 8000."), code="invalid"
        ) from None
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("Only mainland China mobile numbers (+86) can be bound."), code="not_mainland"
        )
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise ValidationError(_("This is not a mobile number."), code="not_mobile")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def resident_id(value: str, *, today: datetime.date | None = None) -> tuple[str, datetime.date]:
    """A valid resident ID number of an adult: (the number, upper case; the birth date)."""
    number = ric.compact(str(value or "")).upper()
    try:
        ric.validate(number)
    except stdnum_errors.InvalidLength:
        raise ValidationError(_("A resident ID number has 18 characters."), code="length") from None
    except stdnum_errors.InvalidChecksum:
        raise ValidationError(
            _("This ID number is not valid: check the last character."), code="checksum"
        ) from None
    except stdnum_errors.ValidationError:
        raise ValidationError(_("This ID number is not valid."), code="invalid") from None
    birth = ric.get_birth_date(number)
    today = today or timezone.localdate()
    age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    if age < ADULT_AGE:
        raise ValidationError(_("Borrowers must be at least 18 years old."), code="minor")
    return number, birth


# Letters of any script, the middle dot of minority and foreign names, and single spaces.
NAME_RE = re.compile(r"^[^\W\d_]+(?:[·\s][^\W\d_]+)*$")


def real_name(value: str) -> str:
    """A real name as on the ID card, normalised (NFKC); refuses digits, symbols and invisible characters."""
    name = unicodedata.normalize("NFKC", str(value or "")).strip()
    name = name.replace("•", "·").replace(".", "·")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs", "Zl", "Zp") for ch in name):
        raise ValidationError(_("The name contains characters that cannot be shown."), code="invisible")
    if not 2 <= len(name) <= 40 or not NAME_RE.match(name):
        raise ValidationError(_("Enter your name exactly as on your ID card."), code="invalid")
    return name


class NotTheCurrentPasswordValidator:
    """A new password must differ from the one it replaces (password change and reset)."""

    def validate(self, password, user=None):
        from django.contrib.auth.hashers import check_password

        # hashers.check_password, not user.check_password: a validator must not upgrade the hash.
        if user is not None and user.pk and user.password and check_password(password, user.password):
            raise ValidationError(
                _("The new password is the same as the current one. Choose another."),
                code="password_unchanged",
            )

    def get_help_text(self):
        return _("Your new password must differ from the current one.")
