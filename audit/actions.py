"""The one list of audited actions. Each service writes exactly one of these per state change."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    STAFF_CREATE = "staff.create", _("Staff account created")
    STAFF_BACKUP_CODES_RESET = "staff.backup_codes_reset", _("Staff backup codes replaced")

    SMS_CODE_SENT = "sms_code.sent", _("Verification code sent")
    SMS_CODE_SEND_REFUSED = "sms_code.send_refused", _("Verification code refused (too many requests)")
    SMS_CODE_VERIFIED = "sms_code.verified", _("Verification code accepted")
    SMS_CODE_FAILED = "sms_code.failed", _("Verification code rejected")
    SMS_DELIVERED = "sms.delivered", _("Text message delivered to the provider")
    SMS_DELIVERY_FAILED = "sms.delivery_failed", _("Text message could not be delivered")

    USER_REGISTERED = "user.registered", _("Account registered")
    USER_REGISTER_REFUSED = "user.register_refused", _("Registration refused: number already registered")
    USER_LANGUAGE_SET = "user.language_set", _("Language changed")
    CONSENT_RECORDED = "consent.recorded", _("Consent recorded")

    LOGIN_PASSWORD_FAILED = "login.password_failed", _("Wrong password")
    LOGIN_LOCKED = "login.locked", _("Login locked after repeated wrong passwords")
    LOGIN_REFUSED_LOCKED = "login.refused_locked", _("Login refused while locked")
    LOGIN_SUCCEEDED = "login.succeeded", _("Signed in")
    LOGIN_SECOND_FACTOR_FAILED = "login.second_factor_failed", _("Wrong authenticator or backup code")
    LOGIN_UNLOCKED = "login.unlocked", _("Sign-in lock-out lifted")
    LOGOUT = "login.logout", _("Signed out")
    REAUTH_SUCCEEDED = "login.reauth", _("Password confirmed for a sensitive step")
    SIGNED_OUT_EVERYWHERE = "login.signed_out_everywhere", _("Signed out on every device")
    DEVICE_TOKEN_CREATED = "device_token.created", _("App signed in on a device")
    DEVICE_TOKEN_REVOKED = "device_token.revoked", _("App signed out on a device")

    PASSWORD_CHANGED = "password.changed", _("Password changed")
    PASSWORD_RESET = "password.reset", _("Password reset with an SMS code")

    IDENTITY_VERIFIED = "identity.verified", _("Identity verified")
    IDENTITY_REFUSED = "identity.refused", _("Identity refused: already used by another account")
    IDENTITY_MISMATCH = (
        "identity.mismatch",
        _("Identity refused: the name and ID number do not match the records"),
    )
    IDENTITY_CHECK_REQUESTED = (
        "identity.check_requested",
        _("Identity check asked of the authority (counted per client IP)"),
    )

    PHONE_CHANGE_STARTED = "phone_change.started", _("Phone change started")
    PHONE_CHANGE_OLD_CONFIRMED = "phone_change.old_confirmed", _("Phone change: current number confirmed")
    PHONE_CHANGE_NEW_NUMBER = "phone_change.new_number", _("Phone change: new number entered")
    PHONE_CHANGE_REFUSED = "phone_change.refused", _("Phone change refused")
    PHONE_CHANGE_CANCELLED = "phone_change.cancelled", _("Phone change cancelled")
    PHONE_CHANGED = "phone_change.completed", _("Phone number changed")
    PHONE_CHANGE_TO_REVIEW = (
        "phone_change.to_review",
        _("Phone change sent to review: new number not confirmed in the borrower's name"),
    )
    PHONE_CHANGE_REJECTED = "phone_change.rejected", _("Phone change rejected")

    PHONE_LOST_STARTED = "phone_lost.started", _("Lost-phone request started")
    PHONE_LOST_REFUSED = "phone_lost.refused", _("Lost-phone request refused: details do not match")
    PHONE_LOST_SUBMITTED = "phone_lost.submitted", _("Lost-phone request sent to review")
    PHONE_LOST_REJECTED = "phone_lost.rejected", _("Lost-phone request rejected")
    PHONE_LOST_FACE_CHECK = "phone_lost.face_check", _("Lost-phone request: waiting for the face check")

    ACCOUNT_PHONE_CHECKED = "phone_check.account_phone", _("Account phone asked again at the carrier")

    FACE_CHECK_STARTED = "face_check.started", _("Face check started at the identity provider")
    FACE_CHECKED = "face_check.checked", _("Face check result received")
    STEP_UP_CLEARED = (
        "step_up.cleared",
        _("Card change held for review cleared by the borrower's passing face check"),
    )

    ACCOUNT_FROZEN = "account.frozen", _("Account frozen")
    ACCOUNT_UNFROZEN = "account.unfrozen", _("Account unfrozen")

    CARD_BIND_STARTED = "card.bind_started", _("Card binding started: the bank sent its code")
    CARD_BIND_REFUSED = "card.bind_refused", _("Card binding refused")
    CARD_BIND_FAILED = "card.bind_failed", _("Card binding failed at the bank's code")
    CARD_BOUND = "card.bound", _("Card bound with a debit mandate")
    CARD_MANDATE_RENEWED = "card.mandate_renewed", _("Debit mandate renewed: the card was bound again")
    CARD_BIND_APPROVED = "card.bind_approved", _("Card binding approved after review")
    CARD_BIND_REJECTED = "card.bind_rejected", _("Card binding rejected in review")
    CARD_REPAYMENT_SET = "card.repayment_set", _("Repayment card chosen")
    CARD_UNBIND_REQUESTED = "card.unbind_requested", _("Card unbind sent to review")
    CARD_UNBIND_REFUSED = "card.unbind_refused", _("Card unbind refused")
    CARD_UNBOUND = "card.unbound", _("Card unbound")
    CARD_RESTORED = "card.restored", _("Card kept: unbind rejected in review")
    MANDATE_REVOKED_AT_BANK = "mandate.revoked_at_bank", _("Debit mandate revoked at the bank")
    MANDATE_ENDED_BY_BANK = "mandate.ended_by_bank", _("Debit mandate ended by the bank (its notice)")
    BANK_NOTICE_RECEIVED = "bank_notice.received", _("Bank notice received")
    BANK_NOTICE_IGNORED = "bank_notice.ignored", _("Bank notice ignored: nothing of ours it applies to")
    BANK_NOTICE_CONFLICT = "bank_notice.conflict", _("Bank notice contradicts our record")
    RECONCILIATION_RUN = "reconciliation.run", _("Reconciliation with the bank's statement run")
    RECONCILIATION_FAILED = "reconciliation.failed", _("Reconciliation failed: the statement was refused")
    RECONCILIATION_BREAK_RESOLVED = "reconciliation.break_resolved", _("Reconciliation break resolved")

    LOAN_CREATED = "loan.created", _("Loan disbursed")
    DEBIT_STARTED = "debit.started", _("Auto-debit of an installment started")
    DEBIT_RESENT = "debit.resent", _("Auto-debit not received by the bank, sent again")
    DEBIT_SUCCEEDED = "debit.succeeded", _("Installment collected by auto-debit")
    DEBIT_FAILED = "debit.failed", _("Auto-debit of an installment failed")
    DEBIT_RETRY_REQUESTED = "debit.retry_requested", _("Officer asked to debit an installment again")
    INSTALLMENT_OVERDUE = (
        "installment.overdue",
        _("Installment overdue: not collected by the close of its due day"),
    )
    REPAYMENT_CARD_REMINDER_SENT = (
        "loan.repayment_card_reminder",
        _("Borrower reminded: no usable repayment card before a due date"),
    )

    REVIEW_CASE_OPENED = "review.opened", _("Review case opened")
    REVIEW_CASE_APPROVAL_RECORDED = (
        "review.approval_recorded",
        _("First approval recorded; a second is needed"),
    )
    REVIEW_CASE_APPROVED = "review.approved", _("Review case approved")
    REVIEW_CASE_APPROVED_BY_RULE = "review.approved_by_rule", _("Review case approved by a system rule")
    REVIEW_CASE_CLEARED_BY_FACE_CHECK = (
        "review.cleared_by_face_check",
        _("Review case closed: the borrower passed a face check instead"),
    )
    REVIEW_CASE_REJECTED = "review.rejected", _("Review case rejected")
    REVIEW_CASE_CANCELLED = "review.cancelled", _("Review case cancelled")
    REVIEW_CASE_EXPIRED = "review.expired", _("Review case expired")
    REVIEW_CASE_ESCALATED = "review.escalated", _("Review case escalated: past its SLA")
    REVIEW_ACTION_FAILED = "review.action_failed", _("Approval could not be carried out")

    PERSONAL_DATA_VIEWED = "access.viewed", _("A borrower's record opened in the back office")
    PERSONAL_DATA_REVEALED = "access.revealed", _("A borrower's masked data shown in full in the back office")

    EXPORT_STREAMED = "export.streamed", _("Audit export downloaded directly")
    EXPORT_REQUESTED = "export.requested", _("Audit export job requested")
    EXPORT_COMPLETED = "export.completed", _("Audit export job finished")
    EXPORT_FAILED = "export.failed", _("Audit export job failed")
    EXPORT_DOWNLOADED = "export.downloaded", _("Audit export job downloaded")
    EVENTS_ARCHIVED = "audit.events_archived", _("Audit events past retention archived and removed")

    RISK_ALERT_OPENED = "risk.alert_opened", _("Risk alert raised")
    RISK_ALERT_ACKNOWLEDGED = "risk.alert_acknowledged", _("Risk alert acknowledged")
    RISK_ALERT_RESOLVED = "risk.alert_resolved", _("Risk alert resolved")

    SUPPORT_CASE_OPENED = "support.opened", _("Help request opened")
    SUPPORT_CASE_REFUSED = "support.refused", _("Help request refused (too many requests)")
    SUPPORT_CASE_ASSIGNED = "support.assigned", _("Help request assigned")
    SUPPORT_CASE_REPLIED = "support.replied", _("Help request answered by support")
    SUPPORT_CASE_NOTED = "support.noted", _("Internal note added to a help request")
    SUPPORT_CASE_BORROWER_REPLIED = "support.borrower_replied", _("Borrower replied to a help request")
    SUPPORT_CASE_RESOLVED = "support.resolved", _("Help request resolved")
    SUPPORT_CASE_REOPENED = "support.reopened", _("Help request reopened")
    SUPPORT_CASE_ESCALATED = "support.escalated", _("Help request escalated: past its SLA")
    SUPPORT_CASE_TO_REVIEW = "support.to_review", _("Help request sent to a review case")

    CONSENT_WITHDRAWN = "consent.withdrawn", _("Consent withdrawn")
    DATA_COPY_REQUESTED = "data_copy.requested", _("Copy of personal data requested")
    DATA_COPY_BUILT = "data_copy.built", _("Copy of personal data ready")
    DATA_COPY_DOWNLOADED = "data_copy.downloaded", _("Copy of personal data downloaded")
    ACCOUNT_CLOSURE_REQUESTED = "closure.requested", _("Account closure requested (cooling-off)")
    ACCOUNT_CLOSURE_REFUSED = "closure.refused", _("Account closure refused")
    ACCOUNT_CLOSURE_CANCELLED = "closure.cancelled", _("Account closure cancelled by signing in")
    ACCOUNT_CLOSED = "closure.completed", _("Account closed and personal data de-identified")
