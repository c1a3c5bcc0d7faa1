"""Rows as the API shows them: the same masked forms the pages render."""

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext as _

from accounts.devices import device_label
from accounts.notifications import render as render_notification
from api.problems import ApiProblem
from cards.models import Card

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
CURSOR_SALT = "api.cursor"


def cursor_page(queryset, *, cursor: str | None, limit: int, present):
    """Keyset pagination on ``-id``: ``cursor`` is the opaque position after the last item shown."""
    limit = max(1, min(limit or PAGE_SIZE, MAX_PAGE_SIZE))
    if cursor:
        try:
            after = signing.loads(cursor, salt=CURSOR_SALT)
        except signing.BadSignature:
            raise ApiProblem(422, "invalid_cursor", _("This page cursor is not valid.")) from None
        queryset = queryset.filter(pk__lt=after)
    rows = list(queryset.order_by("-pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = signing.dumps(rows[-1].pk, salt=CURSOR_SALT) if more else None
    return {"items": [present(row) for row in rows], "next_cursor": next_cursor}


def card(card: Card) -> dict:
    return {
        "id": card.pk,
        "bank_name": card.bank_name,
        "masked_number": card.masked_number,
        "card_type": card.card_type,
        "card_type_display": str(card.get_card_type_display()),
        "status": card.status,
        "status_display": str(card.get_status_display()),
        "is_repayment": card.is_repayment,
        "can_repay_loans": card.is_debit,
        "debit_authorisation_active": bool(
            getattr(card, "has_active_mandate", None)
            if hasattr(card, "has_active_mandate")
            else card.active_mandate
        ),
        "reserved_phone": card.reserved_phone_masked,
        "bound_at": card.bound_at,
    }


def policy(policy) -> dict | None:
    if policy is None:
        return None
    return {
        "document": policy.document,
        "version": policy.version,
        "language": policy.language,
        "sha256": policy.sha256,
        "text": policy.text,
    }


def identity(identity) -> dict | None:
    if identity is None:
        return None
    return {
        "real_name": identity.real_name,
        "id_number": identity.id_number_masked,
        "verified_at": identity.verified_at,
    }


def event(event) -> dict:
    by = event.actor_kind if event.actor_kind in ("borrower", "staff") else "platform"
    mine = by == "borrower"
    data = event.data or {}
    shown = {
        key: data.get(key) if isinstance(data.get(key), str) else None for key in ("phone", "old", "new")
    }
    return {
        "id": event.pk,
        "action": event.action,
        "title": str(event.get_action_display()),
        "occurred_at": event.occurred_at,
        "phone": shown["phone"],
        "old": shown["old"],
        "new": shown["new"],
        "by": by,
        "ip": event.ip if mine and event.ip else None,
        "device": device_label(event.user_agent) if mine and event.user_agent else None,
    }


def notification(item) -> dict:
    title, body = render_notification(item.kind, item.params)
    return {
        "id": item.pk,
        "kind": item.kind,
        "title": title,
        "body": body,
        "created_at": item.created_at,
        "read": item.read_at is not None,
    }


def installment(item) -> dict:
    return {
        "id": item.pk,
        "number": item.number,
        "due_date": item.due_date,
        "principal_due": item.principal_due,
        "interest_due": item.interest_due,
        "amount_due": item.amount_due,
        "paid_amount": item.paid_amount,
        "status": item.status,
        "status_display": str(item.get_status_display()),
    }


def attempt(item) -> dict:
    return {
        "id": item.pk,
        "installment": item.installment_id,
        "created_at": item.created_at,
        "card": item.card.masked_number if item.card_id else None,
        "amount": item.amount,
        "status": item.status,
        "status_display": str(item.get_status_display()),
        "failure_reason": item.failure_reason if item.failure_code else None,
    }


def loan(item) -> dict:
    upcoming = item.next_installment
    return {
        "id": item.pk,
        "product": item.product,
        "product_display": str(item.get_product_display()),
        "status": item.status,
        "status_display": str(item.get_status_display()),
        "principal": item.principal,
        "annual_rate_percent": item.annual_rate_percent,
        "term_months": item.term_months,
        "disbursed_at": item.disbursed_at,
        "outstanding": item.outstanding,
        "next_due_date": upcoming.due_date if upcoming else None,
    }


def loan_detail(item) -> dict:
    return {**loan(item), "installments": [installment(i) for i in item.installments.all()]}


def device(token, current) -> dict:
    return {
        "id": token.pk,
        "device_name": token.device_name,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "current": current is not None and token.pk == current.pk,
    }


def token_expiry(token):
    from datetime import timedelta

    return token.created_at + timedelta(days=settings.API_TOKEN_MAX_DAYS)


def pay_card(card) -> dict:
    return {
        "id": card.pk,
        "bank_name": card.bank_name,
        "masked_number": card.masked_number,
        "is_repayment": card.is_repayment,
    }


def payment_quote(payment, cards, payment_ref: str) -> dict:
    """A payment's parts and sums (lending.amounts.Payment), the cards it can come from, and a
    fresh reference to pay it with."""
    return {
        "day": payment.day,
        "parts": [
            {
                "installment": part.installment_id,
                "number": part.number,
                "due_date": part.due_date,
                "principal": part.principal,
                "interest": part.interest,
                "late_charge": part.late_charge,
                "fee": part.fee,
                "amount": part.amount,
            }
            for part in payment.parts
        ],
        "principal": payment.principal,
        "interest": payment.interest,
        "late_charges": payment.late_charges,
        "fee": payment.fee,
        "total": payment.total,
        "cards": [pay_card(card) for card in cards],
        "payment_ref": payment_ref,
    }


def receipt(loan, payment_ref: str, attempts) -> dict:
    """One payment as the receipt page shows it: what was paid, from which card, the bank's reference."""
    succeeded, pending = attempts[0].Status.SUCCEEDED, attempts[0].Status.PENDING
    return {
        "loan": loan.pk,
        "loan_status": loan.status,
        "payment_ref": payment_ref,
        "paid": sum((a.amount for a in attempts if a.status == succeeded), start=0),
        "card": attempts[0].card.masked_number if attempts[0].card_id else None,
        "lines": [
            {
                "installment": a.installment_id,
                "number": a.installment.number,
                "amount": a.amount,
                "status": a.status,
                "status_display": str(a.get_status_display()),
                "failure_reason": a.failure_reason if a.failure_code else None,
                "bank_reference": a.gateway_reference or None,
            }
            for a in attempts
        ],
        "pending": any(a.status == pending for a in attempts),
    }


def help_request(case) -> dict:
    due = None
    if not case.is_resolved:
        due = case.resolve_due_at if case.first_answered_at else case.first_answer_due_at
    return {
        "id": case.pk,
        "category": case.category,
        "category_display": str(case.get_category_display()),
        "is_complaint": case.is_complaint,
        "status": case.status,
        "status_display": str(case.get_status_display()),
        "card": case.card.masked_number if case.card_id else None,
        "loan": case.loan_id,
        "opened_at": case.opened_at,
        "answer_due_at": due,
    }


def help_message(message) -> dict:
    reply = message.kind == message.Kind.REPLY
    return {
        "id": message.pk,
        "kind": message.kind,
        "by": str(_("Customer service") if reply else _("You")),
        "body": message.body,
        "created_at": message.created_at,
    }


def consent(item) -> dict:
    from privacy.services.consents import DOCUMENT_LABELS, ENDED_ELSEWHERE, WITHDRAWABLE

    withdrawal = getattr(item, "withdrawal", None)
    consequence = WITHDRAWABLE.get(item.document) or ENDED_ELSEWHERE.get(item.document)
    return {
        "id": item.pk,
        "document": item.document,
        "document_label": str(DOCUMENT_LABELS.get(item.document, item.document)),
        "version": item.version,
        "language": item.language,
        "accepted_at": item.accepted_at,
        "active": withdrawal is None,
        "withdrawn_at": withdrawal.withdrawn_at if withdrawal else None,
        "withdrawable": item.document in WITHDRAWABLE and withdrawal is None,
        "consequence": str(consequence) if consequence else None,
    }


def data_copy(copy) -> dict:
    return {
        "id": copy.pk,
        "status": copy.status,
        "status_display": str(copy.get_status_display()),
        "percent": copy.percent,
        "requested_at": copy.requested_at,
        "expires_at": copy.expires_at,
        "downloadable": copy.downloadable,
    }


def code_sent(user) -> dict:
    """A code went to the account phone: said with the number masked."""
    return {
        "detail": _("We sent a code to %(phone)s.") % {"phone": user.masked_phone},
        "phone": user.masked_phone,
    }
