"""Reads about a borrower's loans."""

from decimal import Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from lending.models import DebitAttempt, Installment, Loan
from lending.prepared import Prepared


def loans_being_repaid(user):
    return Loan.objects.filter(borrower=user, status__in=Loan.BEING_REPAID)


_any_loan_being_repaid = Prepared(loans_being_repaid, int, exists=True)


def has_loan_being_repaid(user) -> bool:
    """Asked on the card pages and the app's card list (compiled once: lending/prepared.py)."""
    return _any_loan_being_repaid(user.pk)


# What an installment still asks for (``Installment.left``), and what it asked for in all.
_AMOUNT_DUE = ExpressionWrapper(F("principal_due") + F("interest_due"), output_field=DecimalField())
_LEFT = ExpressionWrapper(_AMOUNT_DUE - F("paid_amount"), output_field=DecimalField())


def outstanding_balance(user) -> Decimal:
    """What the borrower still owes on loans being repaid: unpaid principal, interest due."""
    total = (
        Installment.objects.filter(loan__borrower=user, loan__status__in=Loan.BEING_REPAID)
        .exclude(status=Installment.Status.PAID)
        .aggregate(total=Coalesce(Sum(_LEFT), Decimal("0")))["total"]
    )
    return total


def loans_of(user):
    """The borrower's loans, newest first, with their installments (for outstanding and next due)."""
    loans = Loan.objects.filter(borrower=user).prefetch_related("installments")
    return loans.order_by("-disbursed_at", "-pk")


def _with_what_is_owed(loans):
    """Each loan with ``left_to_pay`` (``Loan.outstanding``) and its next unpaid installment's
    ``next_due_date``, ``next_amount_due`` and ``next_status`` (``Loan.next_installment``; None
    when all is paid), worked out by PostgreSQL: the loan list reads no schedule (issue 22)."""
    unpaid = Installment.objects.filter(loan=OuterRef("pk")).exclude(status=Installment.Status.PAID)
    total = unpaid.order_by().values("loan").annotate(total=Sum(_LEFT)).values("total")
    upcoming = unpaid.order_by("number")
    return loans.annotate(
        left_to_pay=Coalesce(Subquery(total), Decimal("0")),
        next_due_date=Subquery(upcoming.values("due_date")[:1]),
        next_amount_due=Subquery(upcoming.annotate(amount=_AMOUNT_DUE).values("amount")[:1]),
        next_status=Subquery(upcoming.values("status")[:1]),
    )


_loans = Prepared(lambda user_id: _with_what_is_owed(loans_of(user_id).prefetch_related(None)), int)


def loan_list(user) -> list[Loan]:
    """``loans_of`` for the loan list page, each loan with what is owed (``_with_what_is_owed``),
    in one read compiled once (lending/prepared.py)."""
    return _loans(user.pk)


_own_loan = Prepared(lambda loan_id, user_id: Loan.objects.filter(pk=loan_id, borrower_id=user_id), int, int)
_schedule = Prepared(lambda loan_id: Installment.objects.filter(loan_id=loan_id), int)
_attempts = Prepared(
    lambda loan_id: (
        DebitAttempt.objects.filter(installment__loan_id=loan_id)
        .select_related("card")
        .order_by("created_at", "pk")
    ),
    int,
)


def own_loan(user, loan_id: int) -> Loan:
    """One of the borrower's own loans (DoesNotExist otherwise), in a read compiled once."""
    found = _own_loan(loan_id, user.pk)
    if not found:
        raise Loan.DoesNotExist
    return found[0]


def loan_with_schedule(user, loan_id: int) -> Loan:
    """``own_loan`` with its schedule, as ``prefetch_related("installments")`` leaves it, in two
    reads compiled once (lending/prepared.py)."""
    loan = own_loan(user, loan_id)
    _attach([loan], "installments", _schedule(loan.pk), Installment.loan.field)
    return loan


def loan_of(user, loan_id: int) -> Loan:
    """``loan_with_schedule`` with every debit attempt too: ``loan.installments.all()`` and each
    installment's ``debit_attempts.all()`` read nothing more, and anything chained on them
    (``filter``, ``order_by``) asks the database within the loan or the installment. Django's
    prefetching compiled these reads and built a queryset per installment on every loan page."""
    loan = loan_with_schedule(user, loan_id)
    installments = rows_of(loan, "installments")
    _attach(installments, "debit_attempts", _attempts(loan.pk), DebitAttempt.installment.field)
    return loan


def _attach(parents: list, relation: str, children, foreign_key) -> None:
    """Each child in its parent's ``relation`` (the prefetch cache), its ``foreign_key`` to the
    parent loaded, as prefetching leaves them."""
    groups = {parent.pk: [] for parent in parents}
    for child in children:
        group = groups.get(getattr(child, foreign_key.attname))
        if group is not None:  # not a child of a parent made between the reads
            group.append(child)
    for parent in parents:
        for child in groups[parent.pk]:
            foreign_key.set_cached_value(child, parent)
        _hold(parent, relation, groups[parent.pk])


def rows_of(instance, relation: str) -> list:
    """``list(instance.<relation>.all())``: the rows ``_attach`` held there, read without the
    relation's manager, which Django builds on every ``instance.<relation>`` (48 times a loan
    page, a tenth of its CPU: the held list itself, to read, not to change); or the relation read
    as usual where nothing is held."""
    held = instance.__dict__.get("_prefetched_objects_cache", {}).get(relation)
    if isinstance(held, _Held):
        return held._result_cache
    return list(getattr(instance, relation).all())


def _hold(instance, relation: str, rows: list) -> None:
    """Put ``rows`` in the prefetch cache of ``instance.<relation>``, as prefetching does."""
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[relation] = _Held(instance, relation, rows)


class _Held(QuerySet):
    """A relation's rows as prefetching leaves them, without the relation's own queryset, which
    is built only if something is chained on them (``filter``, ``order_by``): then it is the
    relation's, scoped to the instance. Building it for each of a loan page's 24 installments,
    to hold rows nobody chains on, was two fifths of the CPU of the page's reads (issue 22)."""

    def __init__(self, instance, relation: str, rows: list):
        descriptor = getattr(type(instance), relation)
        self._manager_class = descriptor.related_manager_cls
        super().__init__(model=descriptor.rel.related_model)
        self._instance, self._result_cache, self._prefetch_done = instance, rows, True

    def _chain(self):
        manager = self._manager_class(self._instance)
        return manager._apply_rel_filters(super(self._manager_class, manager).get_queryset())._chain()


def payment_of(loan: Loan, payment_ref: str) -> list[DebitAttempt]:
    """The debit attempts of one borrower payment of the loan (its receipt), by installment."""
    attempts = DebitAttempt.objects.filter(installment__loan=loan, payment_ref=payment_ref)
    return list(attempts.select_related("installment", "card").order_by("installment__number"))


def repay_summary(loan: Loan) -> dict:
    """What the loan page leads with: what is overdue (how much, how many days), what is due
    today, and whether the loan can be paid off (from the prefetched schedule, no query)."""
    from django.utils import timezone

    from lending.amounts import late_charge

    today = timezone.localdate()
    schedule = rows_of(loan, "installments")
    unpaid = [i for i in schedule if i.status != Installment.Status.PAID]
    overdue = [i for i in unpaid if i.due_date < today or i.status == Installment.Status.OVERDUE]
    due_now = [i for i in unpaid if i.due_date <= today or i.status == Installment.Status.OVERDUE]
    return {
        "overdue": overdue,
        "overdue_amount": sum((i.left for i in overdue), Decimal("0")),
        "days_past_due": max((i.days_past_due_on(today) for i in overdue), default=0),
        # Only where the product defines them (none by default); shown apart, never compounded.
        "late_charges": sum((late_charge(i, loan.product, today) for i in overdue), Decimal("0")),
        "due_now": due_now,
        "due_amount": sum((i.left for i in due_now), Decimal("0")),
        "can_pay_off": loan.status in Loan.BEING_REPAID and bool(unpaid),
        "payments": [
            a
            for i in schedule
            for a in rows_of(i, "debit_attempts")
            if a.trigger in DebitAttempt.BY_BORROWER and a.payment_ref
        ],
    }
