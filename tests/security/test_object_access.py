"""Every portal URL that takes an object id answers 404 to another borrower, for GET and POST.

The URLs come from the project's URL patterns, so a new view with an id is covered without anyone
remembering to add it here; it only needs a way to make the first borrower's object (OWNED).
"""

import re

import pytest

from accounts.models import PhoneChange
from accounts.policies import current_policy
from accounts.services import consent_record, phone_change_start
from accounts.tests.factories import BorrowerFactory
from api.models import DeviceToken
from api.services import device_token_create
from audit.models import AuditEvent
from cards.models import Card, CardBindRequest
from cards.services import card_bind_start
from cards.tests import sandbox_cards
from lending.models import DebitAttempt, Loan
from privacy.models import ConsentWithdrawal, DataCopy
from support.models import SupportMessage
from support.services import support_case_open
from tests.security.routes import portal_routes

pytestmark = pytest.mark.django_db


@pytest.fixture
def owned(bind, borrower, make_loan, deliver):
    """One object of each kind a portal URL takes, all the first borrower's."""
    card = bind(borrower)
    loan = make_loan(borrower)
    payment = DebitAttempt.objects.create(  # a receipt of the borrower's own payment
        installment=loan.installments.get(number=1),
        card=card,
        number=1,
        amount=1,
        idempotency_key="payment-receipt",
        status=DebitAttempt.Status.SUCCEEDED,
        trigger=DebitAttempt.Trigger.BORROWER,
        payment_ref="a" * 32,
    )
    with deliver():
        request = card_bind_start(
            actor=borrower, card_number=sandbox_cards.OTHER_GOOD_DEBIT, reserved_phone="+8613800138000"
        )
        change = phone_change_start(actor=borrower)
    case = support_case_open(actor=borrower, category="card", message="help")
    consent = consent_record(actor=borrower, policy=current_policy("biometrics"))
    copy = DataCopy.objects.create(user=borrower, status=DataCopy.Status.DONE, archive="x.zip")
    token, _secret = device_token_create(user=borrower, device_id="mine", device_name="Mine")
    return {
        "token_id": token.pk,
        "card_id": card.pk,
        "loan_id": Loan.objects.get().pk,
        "request_id": request.pk,
        "change_id": change.pk,
        "payment_ref": payment.payment_ref,
        "case_id": case.pk,
        "consent_id": consent.pk,
        "copy_id": copy.pk,
    }


def snapshot():
    return (
        list(Card.objects.values_list("pk", "status", "is_repayment").order_by("pk")),
        list(CardBindRequest.objects.values_list("pk", "status").order_by("pk")),
        list(PhoneChange.objects.values_list("pk", "status").order_by("pk")),
        list(Loan.objects.values_list("pk", "status")),
        list(SupportMessage.objects.values_list("pk", "body").order_by("pk")),
        list(ConsentWithdrawal.objects.values_list("pk")),
        list(DataCopy.objects.values_list("pk", "status", "downloaded_at").order_by("pk")),
        list(DeviceToken.objects.values_list("pk", "revoked_at").order_by("pk")),
    )


def test_another_borrower_gets_404_for_every_object_url(owned, sign_in):
    routes = [(route, parameters) for route, parameters in portal_routes() if parameters]
    assert len(routes) >= 16  # phone change, bind request, card, loan, help request, consent, data copy views
    client = sign_in(BorrowerFactory(phone="+8613900139000"))
    before, events_before = snapshot(), AuditEvent.objects.count()
    for route, parameters in routes:
        unknown = set(parameters) - set(owned)
        assert not unknown, f"{route}: add a fixture object for {unknown} to `owned`"
        url = "/" + route
        for name in parameters:
            url = re.sub(rf"<\w+:{name}>", str(owned[name]), url)
        get = client.get(url)
        post = client.post(
            url,
            {"code": "123456", "new_phone": "13700137000", "new_card": owned["card_id"], "text": "mine now"},
        )
        assert get.status_code in (404, 405), (url, get.status_code)
        assert post.status_code in (404, 405), (url, post.status_code)
        assert (get.status_code, post.status_code) != (405, 405), url
    assert snapshot() == before
    assert AuditEvent.objects.count() == events_before
