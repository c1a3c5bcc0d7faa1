"""Reads compiled once (lending/prepared.py) give what their querysets give, in one query."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from accounts.middleware import _device_with_user
from accounts.services.codes import login_device
from accounts.tests.factories import BorrowerFactory
from api.auth import _token_with_user
from api.services import device_token_create, digest
from cards import selectors
from cards.models import Card
from cards.tests.conftest import bind, borrower  # noqa: F401
from cards.tests.sandbox_cards import GOOD_CREDIT, INSUFFICIENT_FUNDS
from conftest import FIRST_DUE
from lending.models import Installment
from lending.prepared import Prepared
from lending.selectors import has_loan_being_repaid

pytestmark = pytest.mark.django_db


def fields(obj) -> dict:
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}


def test_the_card_list_is_the_querysets(borrower, bind):  # noqa: F811
    bind(borrower)
    bind(borrower, number=GOOD_CREDIT)
    Card.objects.create(
        user=BorrowerFactory(), bin="622202", last4="0000", bank_code="ICBC", card_type="debit"
    )
    expected = list(selectors.cards_of(borrower))
    with CaptureQueriesContext(connection) as queries:
        cards = selectors.card_list(borrower)
        selectors.card_list(borrower)
    assert len(queries) == 2  # one query a call, nothing else
    assert [fields(card) for card in cards] == [fields(card) for card in expected]
    assert [card.has_active_mandate for card in cards] == [card.has_active_mandate for card in expected]
    assert [card.has_active_mandate for card in cards] == [True, False]  # the credit card has no mandate
    assert all(card._state.db == "default" and not card._state.adding for card in cards)
    assert selectors.repayment_card(borrower) == cards[0] and cards[0].is_repayment
    assert selectors.repayment_card(BorrowerFactory()) is None


def test_the_device_comes_with_its_user_and_the_fields_converted(borrower):  # noqa: F811
    device = login_device(borrower)
    with CaptureQueriesContext(connection) as queries:
        (found,) = _device_with_user(device.pk, borrower.pk)
        assert found.user.phone == borrower.phone  # a PhoneNumber, as the field's converter makes it
        assert found.user.get_session_auth_hash() == borrower.get_session_auth_hash()
    assert len(queries) == 1
    borrower.refresh_from_db()
    assert fields(found) == fields(device) and fields(found.user) == fields(borrower)
    assert _device_with_user(device.pk, BorrowerFactory().pk) == []  # someone else's device: nothing


def test_the_token_comes_with_its_user():
    user = BorrowerFactory()
    token, secret = device_token_create(user=user, device_id="phone-1", device_name="Phone")
    (found,) = _token_with_user(digest(secret))
    assert found.pk == token.pk and found.user.pk == user.pk and found.user.phone == user.phone
    assert _token_with_user(digest("not a token")) == []


def test_a_loan_being_repaid(borrower, bind, make_loan):  # noqa: F811
    assert has_loan_being_repaid(borrower) is False
    bind(borrower)
    make_loan(borrower)
    assert has_loan_being_repaid(borrower) is True
    assert has_loan_being_repaid(BorrowerFactory()) is False


def test_an_argument_the_sql_does_not_carry_is_refused():
    ignores_its_argument = Prepared(lambda user_id: Card.objects.filter(status="active"), int)
    with pytest.raises(ValueError, match="each argument"):
        ignores_its_argument(1)


def test_a_loan_comes_with_its_schedule_and_attempts_as_prefetching_gives_them(borrower, bind, make_loan):  # noqa: F811
    from datetime import timedelta

    from django.db.models import Prefetch

    from lending.models import DebitAttempt, Loan
    from lending.selectors import loan_of, rows_of
    from lending.services import loans_collect

    bind(borrower, number=INSUFFICIENT_FUNDS)
    loan = make_loan(borrower, first_due=FIRST_DUE)
    other_loan = make_loan(borrower, first_due=FIRST_DUE, product="car")  # the same numbers, another loan
    loans_collect(loan_ids=[loan.pk, other_loan.pk], day=FIRST_DUE)
    loans_collect(loan_ids=[loan.pk], day=FIRST_DUE + timedelta(days=1))
    attempts = DebitAttempt.objects.select_related("card").order_by("created_at", "pk")
    expected = Loan.objects.prefetch_related(
        Prefetch("installments", Installment.objects.prefetch_related(Prefetch("debit_attempts", attempts)))
    ).get(pk=loan.pk)
    with CaptureQueriesContext(connection) as queries:
        found = loan_of(borrower, loan.pk)
        schedule = [
            (fields(i), [fields(a) for a in i.debit_attempts.all()]) for i in found.installments.all()
        ]
        assert (
            found.installments.all()[0].loan is found
            and found.installments.all()[0].debit_attempts.all()[0].card
        )
    assert len(queries) == 3  # the loan, its installments, their attempts
    assert schedule == [
        (fields(i), [fields(a) for a in i.debit_attempts.all()]) for i in expected.installments.all()
    ]
    assert sum(len(attempts) for _i, attempts in schedule) == 2
    # Chained on the held rows: asked within this loan, and within this installment.
    assert list(found.installments.filter(number=1)) == [found.installments.all()[0]]
    first = found.installments.all()[0]
    assert list(first.debit_attempts.order_by("pk")) == list(
        DebitAttempt.objects.filter(installment=first).order_by("pk")
    )
    assert first.debit_attempts.count() == 2 and found.installments.all().count() == 3
    with pytest.raises(Loan.DoesNotExist):
        loan_of(BorrowerFactory(), loan.pk)
    # The held rows read without the relation's manager: the same rows, no query; read as usual
    # where nothing is held.
    with CaptureQueriesContext(connection) as queries:
        held = [(i, rows_of(i, "debit_attempts")) for i in rows_of(found, "installments")]
    assert not queries and [(fields(i), [fields(a) for a in rows]) for i, rows in held] == schedule
    with CaptureQueriesContext(connection) as queries:
        not_held = rows_of(expected.installments.all()[0], "debit_attempts")  # Django's prefetch
        read_now = rows_of(Installment.objects.get(pk=first.pk), "debit_attempts")
    assert len(queries) == 2 and len(read_now) == 2
    assert sorted(a.pk for a in not_held) == sorted(a.pk for a in read_now)


def test_the_loan_list_is_the_querysets_with_what_each_schedule_owes(borrower, bind, make_loan):  # noqa: F811
    from lending.selectors import loan_list, loans_of

    bind(borrower)
    partly_paid = make_loan(borrower)
    make_loan(borrower, term_months=6, product="car")
    paid_off = make_loan(borrower, term_months=3)
    first, second = partly_paid.installments.order_by("number")[:2]
    Installment.objects.filter(pk=first.pk).update(
        status=Installment.Status.PAID, paid_amount=first.amount_due
    )
    Installment.objects.filter(pk=second.pk).update(
        status=Installment.Status.OVERDUE, paid_amount=Decimal("1.50")
    )
    paid_off.installments.update(
        status=Installment.Status.PAID, paid_amount=F("principal_due") + F("interest_due")
    )
    expected = list(loans_of(borrower))
    with CaptureQueriesContext(connection) as queries:
        loans = loan_list(borrower)
    assert len(queries) == 1
    assert [fields(loan) for loan in loans] == [fields(loan) for loan in expected]
    owed = [(loan.left_to_pay, loan.next_due_date, loan.next_amount_due, loan.next_status) for loan in loans]
    upcoming = [loan.next_installment for loan in expected]
    assert owed == [
        (loan.outstanding, *((nxt.due_date, nxt.amount_due, nxt.status) if nxt else (None, None, None)))
        for loan, nxt in zip(expected, upcoming, strict=True)
    ]
    assert [row[3] for row in owed] == [None, "due", "overdue"]  # newest first: paid off, car, partly paid
    assert owed[0][0] == 0 and owed[2][0] == expected[2].outstanding > 0


def test_the_identity_and_the_last_phone_change_are_the_borrowers_own():
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import PhoneChange
    from accounts.selectors import identity_of, last_phone_change_at
    from accounts.tests.helpers import identity_row
    from accounts.tests.identity_numbers import MATCH

    own, other = BorrowerFactory(), BorrowerFactory()
    identity_row(other, MATCH)
    now = timezone.now()
    for user, status, when in [
        (own, PhoneChange.Status.COMPLETED, now - timedelta(days=9)),
        (own, PhoneChange.Status.COMPLETED, now - timedelta(days=2)),
        (own, PhoneChange.Status.COMPLETED, now - timedelta(days=5)),
        (own, PhoneChange.Status.STARTED, None),
        (other, PhoneChange.Status.COMPLETED, now),
    ]:
        PhoneChange.objects.create(user=user, status=status, old_phone_masked="x", completed_at=when)
    assert identity_of(own) is None and identity_of(other).user_id == other.pk
    assert last_phone_change_at(own) == now - timedelta(days=2)
    assert last_phone_change_at(BorrowerFactory()) is None


def test_the_help_pages_cases_are_the_querysets():
    from support.selectors import case_list, cases_of
    from support.services import support_case_open

    own, other = BorrowerFactory(), BorrowerFactory()
    for user in (own, other, own):
        support_case_open(actor=user, category="other", message="question")
    assert case_list(own) == list(cases_of(own)) and len(case_list(own)) == 2
    assert [case.pk for case in case_list(own)] == sorted((case.pk for case in case_list(own)), reverse=True)


def test_the_privacy_centres_reads_are_the_querysets():
    from accounts.models import Consent
    from accounts.policies import current_policy
    from accounts.services import consent_record
    from privacy import selectors as privacy
    from privacy.models import DataCopy
    from privacy.services import consent_withdraw
    from privacy.services.consents import is_active

    own, other = BorrowerFactory(), BorrowerFactory()
    kept = consent_record(actor=own, policy=current_policy("privacy"))
    withdrawn = consent_record(actor=own, policy=current_policy("biometrics"))
    consent_record(actor=other, policy=current_policy("biometrics"))
    assert is_active(own, "biometrics") and not is_active(own, "marketing")
    consent_withdraw(actor=own, consent=withdrawn)
    for _ in range(7):
        DataCopy.objects.create(user=own)
    DataCopy.objects.create(user=other)

    expected = list(
        Consent.objects.filter(user=own).select_related("withdrawal").order_by("-accepted_at", "-pk")
    )
    with CaptureQueriesContext(connection) as queries:
        consents = privacy.consents_of(own)
        shown = [(c.pk, hasattr(c, "withdrawal")) for c in consents]
    assert len(queries) == 1 and [fields(c) for c in consents] == [fields(c) for c in expected]
    assert sorted(shown) == sorted([(kept.pk, False), (withdrawn.pk, True)])
    assert not is_active(own, "biometrics") and is_active(other, "biometrics")
    newest = list(DataCopy.objects.filter(user=own).order_by("-id")[:5])
    assert [fields(c) for c in privacy.copies_of(own)] == [fields(c) for c in newest]


def test_the_security_and_notification_pages_are_the_querysets_pages():
    from django.core.paginator import Paginator

    from accounts import selectors as account
    from accounts.models import Notification
    from audit.actions import Action
    from audit.services import record

    own, other = BorrowerFactory(), BorrowerFactory()
    record(action=Action.PASSWORD_CHANGED, actor=other, subject=other)
    for number in range(23):
        record(action=Action.PASSWORD_CHANGED, actor=own if number % 2 else None, subject=own)
        Notification.objects.create(user=own, kind="card_bound")
    Notification.objects.create(user=other, kind="card_bound")
    lists = [
        (account.security_events_to_page(own), account.security_events(own)),
        (account.notifications_to_page(own), account.notifications_of(own)),
    ]
    for compiled, queryset in lists:
        for number in (1, 2):
            page, expected = Paginator(compiled, 20).page(number), Paginator(queryset, 20).page(number)
            assert page.paginator.count == expected.paginator.count >= 23
            assert [fields(row) for row in page] == [fields(row) for row in expected]
    with pytest.raises(ValueError, match="window"):
        Prepared(lambda user_id: Card.objects.filter(user_id=user_id)[:3], int)(own.pk, window=slice(0, 2))


def test_the_payment_pages_cards_and_payable_installments_are_the_services(borrower, bind, make_loan):  # noqa: F811
    from datetime import timedelta

    from django.utils import timezone

    from lending.models import Loan
    from lending.services.repayment import payable_installments, repayment_card_list, repayment_cards

    bind(borrower)
    bind(borrower, number=GOOD_CREDIT)  # no mandate: not listed
    loan = make_loan(borrower, first_due=timezone.localdate() - timedelta(days=40))
    Installment.objects.filter(loan=loan, number=1).update(status=Installment.Status.PAID)
    Installment.objects.filter(loan=loan, number=3).update(status=Installment.Status.OVERDUE)
    assert [fields(c) for c in repayment_card_list(borrower)] == [
        fields(c) for c in repayment_cards(borrower)
    ]
    assert len(repayment_card_list(borrower)) == 1
    today = timezone.localdate()

    def by_rule(day):  # unpaid, and due by the day or marked overdue, in order
        rows = loan.installments.filter(status__in=("due", "overdue")).order_by("number")
        return [i for i in rows if i.due_date <= day or i.status == "overdue"]

    with CaptureQueriesContext(connection) as queries:
        read_now = payable_installments(loan, today)
    assert len(queries) == 1 and [i.number for i in read_now] == [2, 3]
    assert [fields(i) for i in read_now] == [fields(i) for i in by_rule(today)]
    assert all(i.loan is loan for i in read_now)
    a_month_ago = payable_installments(loan, today - timedelta(days=31))  # the date is an argument
    assert [i.number for i in a_month_ago] == [3] == [i.number for i in by_rule(today - timedelta(days=31))]
    Loan.objects.filter(pk=loan.pk).update(status=Loan.Status.PAID_OFF)
    assert payable_installments(Loan.objects.get(pk=loan.pk), today) == []
