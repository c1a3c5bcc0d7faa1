from django.db import DatabaseError, connection
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.decorators import borrower_required
from cards.selectors import repayment_card
from lending import selectors
from lending.celery import app
from lending.models import Loan


def home(request):
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
    context = {"loans": selectors.loans_of(request.user), "repayment_card": repayment_card(request.user)}
    return render(request, "lending/loans.html", context)


@borrower_required
def loan_detail(request, loan_id: int):
    try:
        loan = selectors.loan_of(request.user, loan_id)
    except Loan.DoesNotExist:
        raise Http404 from None
    return render(request, "lending/loan_detail.html", {"loan": loan, "repay": selectors.repay_summary(loan)})
