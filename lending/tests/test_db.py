"""The set-based writers of lending.db write what the ORM would have written."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from lending.db import history_rows_create, insert_rows, update_rows
from lending.models import DebitAttempt, Installment

pytestmark = pytest.mark.django_db

_HISTORY_OWN = {"history_id", "history_date", "history_change_reason", "history_user_id"}


def _history_fields(row) -> dict:
    return {
        f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields if f.attname not in _HISTORY_OWN
    }


def test_history_rows_copy_every_tracked_field_as_simple_history_does(bind, borrower, make_loan):
    bind(borrower)
    installment = make_loan(borrower).installments.get(number=1)
    installment.status, installment.paid_amount, installment.soft_failures = "overdue", Decimal("1.50"), 2
    installment.save_without_historical_record()

    Installment.history.bulk_history_create(
        [installment], update=True, default_change_reason="by simple history"
    )
    assert history_rows_create(Installment.objects.filter(pk=installment.pk), reason="by lending.db") == 1
    assert history_rows_create(Installment.objects.filter(pk__in=[]), reason="nothing") == 0

    ours, theirs = installment.history.order_by("-history_id")[:2]
    assert ours.history_change_reason == "by lending.db" and ours.history_type == "~"
    assert _history_fields(ours) == _history_fields(theirs)
    assert ours.history_date >= theirs.history_date and ours.history_user_id is None


def test_update_rows_sets_each_row_its_own_values(bind, borrower, make_loan):
    bind(borrower)
    first, second = make_loan(borrower).installments.order_by("number")[:2]
    later = timezone.now()
    update_rows(
        Installment, ["status", "next_attempt_at"], [(first.pk, "paid", None), (second.pk, "overdue", later)]
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.next_attempt_at) == ("paid", None)
    assert (second.status, second.next_attempt_at) == ("overdue", later)


def test_insert_rows_fills_what_it_is_not_given_with_the_model_defaults(bind, borrower, make_loan):
    bind(borrower)
    first, second = make_loan(borrower).installments.order_by("number")[:2]
    with transaction.atomic():
        insert_rows(
            DebitAttempt,
            ["installment_id", "number", "amount", "idempotency_key"],
            [(first.pk, 1, Decimal("10.00"), "key-1"), (second.pk, 1, Decimal("20.00"), "key-2")],
        )
    one, two = DebitAttempt.objects.order_by("idempotency_key")
    assert (one.installment, one.amount, two.installment, two.amount) == (
        first,
        Decimal("10.00"),
        second,
        Decimal("20.00"),
    )
    assert (one.status, one.trigger, one.gateway_reference, one.card_id) == ("pending", "schedule", "", None)
    assert one.created_at is not None and one.settled_at is None


def test_postgresql_prepares_a_query_the_connection_runs_again():
    """DATABASE_PREPARED (on by default): planned once per connection, not on every run."""
    from django.db import connection

    from accounts.models import User

    for _ in range(3):
        list(User.objects.filter(pk=-1))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any('FROM "accounts_user" WHERE "accounts_user"."id" = $1' in sql for sql in prepared), prepared
