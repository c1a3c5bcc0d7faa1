from types import SimpleNamespace

from django.db import DatabaseError, connection
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, gettext, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.decorators import borrower_required, is_signed_in_borrower
from cards.selectors import repayment_card
from lending import selectors
from lending.celery import app
from lending.models import Loan
from lending.money import money
from lending.printed_dates import printed


def home(request):
    """What the platform does, for a visitor; a signed-in borrower goes to their loans, the first
    tab (the brand in the header leads here)."""
    if is_signed_in_borrower(request.user):
        return redirect("loans")
    return render(request, "lending/home.html")


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return "down"
    return "up"


def _broker_status() -> str:
    if app.conf.task_always_eager:
        return "eager"
    try:
        with app.connection_for_write(connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=3)
    except Exception:  # any failure to reach the broker means "down", never a 500
        return "down"
    return "up"


@require_GET
@never_cache
def healthz(request):
    """200 while the database answers (the broker may be down: the outbox keeps messages)."""
    database = _database_status()
    body = {"database": database, "broker": _broker_status()}
    return JsonResponse(body, status=200 if database == "up" else 503)


@borrower_required
def loan_list(request):
    context = {"loans": selectors.loan_list(request.user), "repayment_card": repayment_card(request.user)}
    return render(request, "lending/loans.html", context)


@borrower_required
def loan_detail(request, loan_id: int):
    try:
        loan = selectors.loan_of(request.user, loan_id)
    except Loan.DoesNotExist:
        raise Http404 from None
    context = {"loan": loan, "repay": selectors.repay_summary(loan), "schedule": _schedule(loan)}
    return render(request, "lending/loan_detail.html", context)


def _schedule(loan: Loan) -> list[SimpleNamespace]:
    """The loan page's schedule rows, every text already formatted: the template only places them.

    The page lists every installment with every debit attempt; formatting them here costs a
    fraction of the template tags and filters doing the same per row (issue 22). Same msgids
    as the template had, so nothing new to translate. Rows are objects, not dicts: the template
    reads ``row.status``, which Jinja2 tries as an attribute first.
    """
    number_label = gettext("Installment %(number)s")
    split_label = gettext("principal %(principal)s + interest %(interest)s")
    today, language = timezone.localdate(), get_language()
    rows = []
    for installment in selectors.rows_of(loan, "installments"):
        status = installment.get_status_display()
        if days := installment.days_past_due_on(today):
            late = ngettext("%(days)s day past due", "%(days)s days past due", days) % {"days": days}
            status = f"{status} · {late}"
        principal, interest = money(installment.principal_due), money(installment.interest_due)
        attempts = []
        for attempt in selectors.rows_of(installment, "debit_attempts"):
            created_at = timezone.localtime(attempt.created_at)
            attempts.append(
                SimpleNamespace(
                    status=attempt.status,
                    status_label=attempt.get_status_display(),
                    reason=attempt.failure_reason if attempt.failure_code else "",
                    at_iso=created_at.isoformat(),
                    at=printed(created_at, language=language),
                    card=attempt.card.masked_number if attempt.card else "",
                    amount=money(attempt.amount),
                )
            )
        rows.append(
            SimpleNamespace(
                status=installment.status,
                status_text=status,  # "Due · 9 days past due"
                number=number_label % {"number": installment.number},
                due_iso=installment.due_date.isoformat(),
                due=printed(installment.due_date, language=language),
                amount=money(installment.amount_due),
                split=split_label % {"principal": principal, "interest": interest},
                attempts=attempts,
            )
        )
    return rows
