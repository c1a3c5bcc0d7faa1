"""Every state change of accounts, one function each (DESIGN.md section 7)."""

from accounts.services.codes import CodeRefused, CodeSendRefused, code_status, sms_code_send, sms_code_verify
from accounts.services.face_check import FaceCheckRefused, face_check_finish, face_check_start
from accounts.services.freeze import AccountFrozen, account_freeze, account_unfreeze, ensure_not_frozen
from accounts.services.identity import IdentityLimitReached, IdentityRefused, identity_verify
from accounts.services.login import (
    LoginRefused,
    login_second_factor_verify,
    logout_record,
    password_check,
    reauth_record,
)
from accounts.services.notifications import notification_create, notifications_mark_read
from accounts.services.passwords import password_change, password_reset_complete, password_reset_start
from accounts.services.phone_change import (
    PhoneChangeRefused,
    phone_change_cancel,
    phone_change_confirm_new,
    phone_change_confirm_old,
    phone_change_send_code,
    phone_change_set_new,
    phone_change_start,
)
from accounts.services.phone_lost import (
    LostPhoneRefused,
    phone_lost_cancel,
    phone_lost_confirm,
    phone_lost_face_finish,
    phone_lost_face_start,
    phone_lost_send_code,
    phone_lost_start,
    phone_lost_submit,
)
from accounts.services.registration import (
    AlreadyRegistered,
    borrower_create,
    consent_record,
    user_language_set,
    user_register,
)
from accounts.services.sms import sms_deliver, sms_give_up, sms_queue
from accounts.services.staff import StaffCredentials, staff_backup_codes_reset, staff_create
from lending.errors import DomainError

__all__ = [
    "DomainError",
    "AccountFrozen",
    "AlreadyRegistered",
    "CodeRefused",
    "CodeSendRefused",
    "code_status",
    "IdentityLimitReached",
    "IdentityRefused",
    "LoginRefused",
    "LostPhoneRefused",
    "PhoneChangeRefused",
    "StaffCredentials",
    "account_freeze",
    "account_unfreeze",
    "borrower_create",
    "consent_record",
    "ensure_not_frozen",
    "identity_verify",
    "FaceCheckRefused",
    "face_check_finish",
    "face_check_start",
    "login_second_factor_verify",
    "logout_record",
    "notification_create",
    "notifications_mark_read",
    "password_change",
    "password_check",
    "password_reset_complete",
    "password_reset_start",
    "phone_change_cancel",
    "phone_change_confirm_new",
    "phone_change_confirm_old",
    "phone_change_send_code",
    "phone_change_set_new",
    "phone_change_start",
    "phone_lost_cancel",
    "phone_lost_confirm",
    "phone_lost_face_finish",
    "phone_lost_face_start",
    "phone_lost_send_code",
    "phone_lost_start",
    "phone_lost_submit",
    "reauth_record",
    "sms_code_send",
    "sms_code_verify",
    "sms_deliver",
    "sms_give_up",
    "sms_queue",
    "staff_backup_codes_reset",
    "staff_create",
    "user_language_set",
    "user_register",
]
