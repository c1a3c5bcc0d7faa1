"""What the API answers, masked exactly as the pages show it (DESIGN.md section 6)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from ninja import Path, Schema
from pydantic import Field

# An object id in a path: what lending.ids accepts (the URL answers 404 beyond it).
ObjectId = Annotated[int, Path(ge=1, le=10**18 - 1)]


class Problem(Schema):
    """RFC 9457 problem details; ``code`` is stable, ``detail`` translated."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    errors: dict[str, list[str]] | None = None


class Done(Schema):
    detail: str


class CodeSent(Schema):
    """A code was sent (or, where the limits stopped it, a 429 problem says when to ask again)."""

    detail: str
    phone: str = Field(description="The masked number the code went to")


class Device(Schema):
    device_id: str = Field(min_length=1, max_length=64, description="Chosen by the app, stable per install")
    device_name: str = Field(min_length=1, max_length=64, description="Shown on the devices list")


class SignInIn(Device):
    phone: str = Field(max_length=32)
    password: str = Field(max_length=128)


class SignInStarted(Schema):
    ticket: str = Field(description="Shown once; send it with the SMS code within the login time")
    phone: str
    code_sent: bool
    detail: str


class TicketIn(Schema):
    ticket: str = Field(max_length=100)


class SignInVerifyIn(TicketIn):
    code: str = Field(max_length=6)


class TokenOut(Schema):
    token: str = Field(description="Shown once: send it as Authorization: Bearer <token>")
    token_id: int
    device_name: str
    expires_at: datetime = Field(description="The latest the token can live; it also ends when unused")
    closure_cancelled: bool = Field(
        False, description="Signing in cancelled the closing of the account asked for before"
    )


class RegisterIn(Schema):
    phone: str = Field(max_length=32)


class RegisterCompleteIn(Device):
    phone: str = Field(max_length=32)
    code: str = Field(max_length=6)
    password: str = Field(max_length=128)
    password_again: str = Field(max_length=128)
    privacy_version: str = Field(max_length=20)
    privacy_sha256: str = Field(max_length=64)
    accept_privacy: bool


class PasswordIn(Schema):
    password: str = Field(max_length=128)


class PasswordResetIn(Schema):
    phone: str = Field(max_length=32)
    code: str = Field(max_length=6)
    new_password: str = Field(max_length=128)
    new_password_again: str = Field(max_length=128)


class PasswordChangeIn(Schema):
    old_password: str = Field(max_length=128)
    new_password: str = Field(max_length=128)
    new_password_again: str = Field(max_length=128)


class CodeIn(Schema):
    code: str = Field(max_length=6)


class PolicyOut(Schema):
    document: str
    version: str
    language: str
    sha256: str
    text: str


class IdentityOut(Schema):
    real_name: str
    id_number: str = Field(description="Masked")
    verified_at: datetime


class IdentityIn(Schema):
    real_name: str = Field(max_length=40)
    id_number: str = Field(max_length=18)


class MeOut(Schema):
    phone: str = Field(description="Masked")
    language: str
    frozen: bool
    identity: IdentityOut | None
    last_phone_change_at: datetime | None
    unread_notifications: int


class DeviceOut(Schema):
    id: int
    device_name: str
    created_at: datetime
    last_used_at: datetime
    current: bool


class DeviceList(Schema):
    items: list[DeviceOut]


class EventOut(Schema):
    id: int
    action: str
    title: str
    occurred_at: datetime
    phone: str | None = Field(None, description="Masked")
    old: str | None = Field(None, description="Masked: what changed (a phone change's old number)")
    new: str | None = Field(None, description="Masked: what it changed to")
    by: str = Field(description="borrower, staff or platform")
    ip: str | None
    device: str | None


class EventPage(Schema):
    items: list[EventOut]
    next_cursor: str | None


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    created_at: datetime
    read: bool


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_cursor: str | None


class CardOut(Schema):
    id: int
    bank_name: str
    masked_number: str
    card_type: str
    card_type_display: str
    status: str
    status_display: str
    is_repayment: bool
    can_repay_loans: bool
    debit_authorisation_active: bool
    reserved_phone: str = Field(description="Masked")
    bound_at: datetime


class CardList(Schema):
    items: list[CardOut]
    has_loan_being_repaid: bool
    can_unbind_all: bool


class BindStartIn(Schema):
    card_number: str = Field(max_length=40)
    reserved_phone: str = Field(max_length=32)


class BindRequestOut(Schema):
    id: int
    bank_name: str
    masked_number: str
    card_type: str
    reserved_phone: str = Field(description="Masked; the bank texted its code there")
    agreement: PolicyOut | None = Field(description="The debit authorisation to accept (debit cards)")


class BindConfirmIn(Schema):
    code: str = Field(max_length=6, description="The code the bank texted to the reserved phone")
    agreement_version: str | None = Field(None, max_length=20)
    agreement_sha256: str | None = Field(None, max_length=64)
    accept_agreement: bool = False


class CardCodeIn(Schema):
    purpose: str = Field(description="card_repayment, card_unbind or card_swap", max_length=32)
    new_card: int | None = Field(None, ge=1, le=10**18 - 1, description="card_swap: the card that takes over")


class SwapIn(Schema):
    new_card: int = Field(ge=1, le=10**18 - 1)
    code: str = Field(max_length=6)


class UnbindAllOut(Schema):
    unbound: list[CardOut]
    held_for_review: list[CardOut]
    detail: str


class AttemptOut(Schema):
    id: int
    installment: int
    created_at: datetime
    card: str | None = Field(description="Masked card number")
    amount: Decimal
    status: str
    status_display: str
    failure_reason: str | None


class InstallmentOut(Schema):
    id: int
    number: int
    due_date: date
    principal_due: Decimal
    interest_due: Decimal
    amount_due: Decimal
    paid_amount: Decimal
    status: str
    status_display: str


class LoanOut(Schema):
    id: int
    product: str
    product_display: str
    status: str
    status_display: str
    principal: Decimal
    annual_rate_percent: Decimal
    term_months: int
    disbursed_at: datetime
    outstanding: Decimal
    next_due_date: date | None


class LoanDetail(LoanOut):
    installments: list[InstallmentOut]


class LoanPage(Schema):
    items: list[LoanOut]
    next_cursor: str | None


class InstallmentList(Schema):
    items: list[InstallmentOut]


class AttemptList(Schema):
    items: list[AttemptOut]


class PhoneChangeOut(Schema):
    id: int
    status: str
    status_display: str
    old_phone: str = Field(description="Masked")
    new_phone: str | None = Field(description="Masked")
    started_at: datetime
    next_step: str | None = Field(description="confirm_old, set_new, confirm_new or none")


class NewPhoneIn(Schema):
    new_phone: str = Field(max_length=32)


class PayCardOut(Schema):
    id: int
    bank_name: str
    masked_number: str
    is_repayment: bool


class PaymentPartOut(Schema):
    installment: int = Field(description="The installment's id")
    number: int
    due_date: date
    principal: Decimal
    interest: Decimal
    late_charge: Decimal
    fee: Decimal
    amount: Decimal


class PaymentQuoteOut(Schema):
    day: date
    parts: list[PaymentPartOut]
    principal: Decimal
    interest: Decimal
    late_charges: Decimal
    fee: Decimal
    total: Decimal
    cards: list[PayCardOut] = Field(description="The debit cards the payment can come from")
    payment_ref: str = Field(description="A fresh reference for this payment: send it back to pay")


class PaymentIn(Schema):
    card: int = Field(ge=1, le=10**18 - 1)
    code: str = Field(max_length=6, description="The code sent to the account phone for this loan")
    payment_ref: str = Field(
        max_length=32, description="From the quote; the same reference sent again pays nothing more"
    )


class RepayIn(PaymentIn):
    installments: list[int] = Field(description="Ids of the loan's due or overdue installments to pay")


class PayoffIn(PaymentIn):
    total: Decimal = Field(description="The payoff total the borrower was shown")


class ReceiptLineOut(Schema):
    installment: int
    number: int
    amount: Decimal
    status: str
    status_display: str
    failure_reason: str | None
    bank_reference: str | None


class ReceiptOut(Schema):
    loan: int
    loan_status: str
    payment_ref: str
    paid: Decimal
    card: str | None = Field(description="Masked card number")
    lines: list[ReceiptLineOut]
    pending: bool = Field(description="The bank has not answered yet for some lines")


class PaymentDone(ReceiptOut):
    again: bool = Field(description="This payment_ref was already paid: nothing more was debited")
    notes: list[str] = Field(description="What was left out and why, in words")


class HelpRequestIn(Schema):
    category: str = Field(max_length=16, description="card, loan, account, ... (SupportCase.Category)")
    message: str = Field(max_length=2000, description="Card, ID and phone numbers in it are masked")
    is_complaint: bool = False
    card_id: int | None = Field(None, ge=1, le=10**18 - 1, description="One of your cards it is about")
    loan_id: int | None = Field(None, ge=1, le=10**18 - 1, description="One of your loans it is about")
    review_case_id: int | None = Field(None, ge=1, le=10**18 - 1)


class HelpReplyIn(Schema):
    text: str = Field(max_length=2000)


class HelpMessageOut(Schema):
    id: int
    kind: str = Field(description="borrower or reply (internal notes are never shown)")
    by: str = Field(description="Who wrote it, in words: you or customer service")
    body: str
    created_at: datetime


class HelpRequestOut(Schema):
    id: int
    category: str
    category_display: str
    is_complaint: bool
    status: str
    status_display: str
    card: str | None = Field(description="Masked card number")
    loan: int | None
    opened_at: datetime
    answer_due_at: datetime | None = Field(description="When we answer by (none once resolved)")


class HelpRequestDetail(HelpRequestOut):
    messages: list[HelpMessageOut]


class HelpRequestPage(Schema):
    items: list[HelpRequestOut]
    next_cursor: str | None


class ConsentOut(Schema):
    id: int
    document: str
    document_label: str
    version: str
    language: str
    accepted_at: datetime
    active: bool
    withdrawn_at: datetime | None
    withdrawable: bool
    consequence: str | None = Field(description="What withdrawing means, or where the consent ends")


class ConsentDetail(ConsentOut):
    text: str | None = Field(description="The text agreed to (none if that version is no longer held)")


class ConsentList(Schema):
    items: list[ConsentOut]


class DataCopyOut(Schema):
    id: int
    status: str
    status_display: str
    percent: int
    requested_at: datetime
    expires_at: datetime | None
    downloadable: bool


class DataCopyList(Schema):
    items: list[DataCopyOut]


class ClosureIn(Schema):
    password: str = Field(max_length=128)
    code: str = Field(max_length=6)
    understood: bool = Field(description="The borrower understands the account cannot be restored")


class ClosureOut(Schema):
    status: str
    status_display: str
    requested_at: datetime
    effective_at: datetime
    detail: str


class ClosureStatusOut(Schema):
    blockers: list[str] = Field(description="What stands in the way of closing, in words")
    cooling_off_days: int
    pending: ClosureOut | None = None
