"""Every borrower page with something on it, for the accessibility check (and for looking at them).

``borrower_with_history`` makes a borrower whose pages show everything they can show: an identity,
three cards (the repayment card of a loan, another debit card, a credit card), a bind waiting for
the bank's code, a car loan with an overdue installment and failed debit attempts, notifications
and security activity. ``signed_in`` gives a Playwright browser context that borrower's session
(both factors passed, password just re-typed), as the ``sign_in`` fixture does for Django's client.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.policies import current_policy
from accounts.services import identity_verify
from accounts.services.codes import login_device
from accounts.tests.factories import BorrowerFactory
from cards.services import card_bind_confirm, card_bind_start
from cards.tests import sandbox_cards
from lending.services import loan_create, loans_collect
from lending.services.collection import installments_overdue_mark

PHONE = "+8613800138000"

# Pages anyone can open.
PUBLIC = {
    "home": "/",
    "login": "/accounts/login/",
    "register": "/accounts/register/",
    "password reset": "/accounts/password/reset/",
    "lost phone": "/accounts/phone/lost/",
}


@dataclass
class Borrower:
    user: object
    pages: dict  # name -> path


def _bound(user, bank, number, reserved):
    request = card_bind_start(actor=user, card_number=number, reserved_phone=reserved)
    return card_bind_confirm(
        actor=user,
        request=request,
        code=bank.code(request.gateway_reference),
        agreement=current_policy("debit_authorisation"),
    )


def borrower_with_history(bank) -> Borrower:
    user = BorrowerFactory(phone=PHONE)
    identity_verify(actor=user, real_name="张三", id_number="110105199003071239")
    repayment = _bound(user, bank, sandbox_cards.INSUFFICIENT_FUNDS, PHONE)  # the first card repays
    other = _bound(user, bank, sandbox_cards.OTHER_GOOD_DEBIT, "+8613900139000")
    _bound(user, bank, sandbox_cards.GOOD_CREDIT, "+8613700137000")
    waiting = card_bind_start(
        actor=user, card_number=sandbox_cards.CMB_DEBIT_16, reserved_phone="+8613600136000"
    )

    today = timezone.localdate()
    first_due = today - timedelta(days=3)
    loan = loan_create(
        actor=None,
        borrower=user,
        product="car",
        principal=Decimal("80000.00"),
        annual_rate=Decimal("0.072"),
        term_months=24,
        first_due=first_due,
    )
    loans_collect(loan_ids=[loan.pk], day=first_due)  # not enough money on the card
    loans_collect(loan_ids=[loan.pk], day=first_due + timedelta(days=1))
    installments_overdue_mark(day=today)
    user.refresh_from_db()
    pages = {
        "home": "/",
        "account": "/accounts/",
        "identity": "/accounts/identity/",
        "password change": "/accounts/password/change/",
        "security": "/accounts/security/",
        "phone change": "/accounts/phone/change/",
        "notifications": "/notifications/",
        "cards": "/cards/",
        "bind": "/cards/bind/",
        "bind confirm": f"/cards/bind/{waiting.pk}/confirm/",
        "swap": f"/cards/{repayment.pk}/unbind/",
        "unbind": f"/cards/{other.pk}/unbind/",
        "repayment card": f"/cards/{other.pk}/repayment/",
        "unbind all": "/cards/unbind-all/",
        "loans": "/loans/",
        "loan": f"/loans/{loan.pk}/",
    }
    return Borrower(user=user, pages=pages)


def signed_in(context, user, base_url: str):
    """Put a session of ``user`` with both factors passed into the browser ``context``."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = login_device(user).persistent_id
    session["reauth_at"] = timezone.now().isoformat()
    session.save()
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": base_url}]
    )
    return context
