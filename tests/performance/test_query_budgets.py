"""Query budgets: every portal page and every admin list and record page runs as many queries
with one related row as with many (no query per row), and no portal page runs more than 12.

Pages are found from the URL patterns and the admin registry, so a new page is measured
without anyone remembering to add it here.
"""

import pytest
from django.contrib import admin
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Notification
from accounts.policies import current_policy
from accounts.services import consent_record
from accounts.tests.factories import BorrowerFactory, StaffFactory
from audit.services import record_many
from cards.models import Card
from cards.tests.sandbox_cards import CMB_DEBIT_16, OTHER_GOOD_DEBIT, THIRD_GOOD_DEBIT
from lending.models import Loan
from support.services import support_case_borrower_reply, support_case_open
from tests.security.routes import portal_routes

pytestmark = pytest.mark.django_db
PORTAL_BUDGET = 12
NOT_PAGES = ("healthz", "i18n/", "dev/", "accounts/logout/", "bank/")


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, follow=True)  # the audit list opens on its default week
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


def portal_pages(borrower) -> list[str]:
    ids = {
        "card_id": Card.objects.filter(user=borrower).values_list("pk", flat=True).first(),
        "loan_id": Loan.objects.filter(borrower=borrower).values_list("pk", flat=True).first(),
    }
    pages = []
    for route, params in portal_routes():
        if route.startswith(NOT_PAGES) or any(ids.get(p) is None for p in params):
            continue
        url = "/" + route
        for param in params:
            url = url.replace(f"<id:{param}>", str(ids[param]))
        pages.append(url)
    return pages


def grow(borrower, bind, make_loan, rows=50):
    """Many of everything a borrower's pages list: cards, loans, notifications, events."""
    bind(borrower, THIRD_GOOD_DEBIT)
    bind(borrower, CMB_DEBIT_16)
    make_loan(borrower)
    make_loan(borrower, term_months=12)
    Notification.objects.bulk_create(
        Notification(user=borrower, kind="card_bound", params={"card": "**** 1234"}) for _ in range(rows)
    )
    with transaction.atomic():
        entries = [{"action": "auth.login", "subject": borrower, "data": {"n": n}} for n in range(rows)]
        record_many(actor=borrower, entries=entries)
    BorrowerFactory.create_batch(rows)
    for _ in range(3):  # help requests, with a conversation, and consents
        case = support_case_open(actor=borrower, category="other", message="question")
        support_case_borrower_reply(actor=borrower, case=case, text="more")
        consent_record(actor=borrower, policy=current_policy("marketing"))


def test_portal_pages_run_the_same_queries_for_one_row_and_for_many(
    settings, sign_in, bind, borrower, make_loan
):
    settings.BIND_STARTS_PER_RESERVED_PHONE_DAY = 5  # four cards with one reserved phone
    bind(borrower)
    bind(borrower, OTHER_GOOD_DEBIT)  # two cards from the start: pages take the same branch after growing
    make_loan(borrower)
    client = sign_in(borrower)
    pages = [url for url in portal_pages(borrower) if client.get(url).status_code == 200]
    assert {"/cards/", "/loans/", "/accounts/security/", "/notifications/"} <= set(pages)
    assert any(url.startswith("/loans/") and url != "/loans/" for url in pages)

    few = {url: queries(client, url) for url in pages}
    grow(borrower, bind, make_loan)
    many = {url: queries(client, url) for url in pages}

    # The paged lists count their rows only once they outgrow a page (lending/paging.py).
    paged = {"/accounts/security/", "/notifications/"}
    assert many == {url: count + (url in paged) for url, count in few.items()}
    assert {url: count for url, count in many.items() if count > PORTAL_BUDGET} == {}


def admin_pages() -> list[str]:
    pages = []
    for model in admin.site._registry:
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages.append(reverse(f"{info}_changelist"))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append(reverse(f"{info}_change", args=[first.pk]))
    return pages


def test_admin_lists_and_records_run_the_same_queries_for_one_row_and_for_many(
    admin_login,
    bind,
    borrower,
    make_loan,
):
    bind(borrower)
    make_loan(borrower)
    client = admin_login(StaffFactory(is_superuser=True))
    pages = admin_pages()
    for url in pages:
        client.get(url)  # warm the content-type and permission caches

    few = {url: queries(client, url) for url in pages}
    grow(borrower, bind, make_loan)
    many = {url: queries(client, url) for url in pages}

    assert {url: (few[url], many[url]) for url in pages if many[url] != few[url]} == {}
