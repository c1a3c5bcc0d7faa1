"""The two busiest back-office lists: 25 rows a page by default (each row costs its rendering,
see bench/profile_page.py) and no query per row."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import BorrowerFactory, StaffFactory
from audit.services import record_many
from audit.tests.conftest import open_case, test_kind  # noqa: F401

pytestmark = pytest.mark.django_db


def listed(client, url) -> tuple[int, int]:
    """Rows on the first page and the queries the page ran."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, follow=True)  # the audit list opens on its default week
    assert response.status_code == 200
    return len(response.context["cl"].result_list), len(captured)


def events(borrower, count):
    with transaction.atomic():
        entries = [{"action": "auth.login", "subject": borrower, "data": {"n": n}} for n in range(count)]
        record_many(actor=borrower, entries=entries)


def test_the_audit_event_list_shows_25_rows_with_the_queries_of_one(admin_login):
    client = admin_login(StaffFactory(is_superuser=True))
    borrower = BorrowerFactory()
    client.get("/admin/audit/auditevent/", follow=True)  # warm the content-type and permission caches
    rows_few, queries_few = listed(client, "/admin/audit/auditevent/")
    events(borrower, 40)
    rows_many, queries_many = listed(client, "/admin/audit/auditevent/")
    assert rows_few < 25 and rows_many == 25
    assert queries_many == queries_few


def test_the_review_queue_shows_25_rows_with_the_queries_of_one(admin_login, open_case):  # noqa: F811
    client = admin_login(StaffFactory(is_superuser=True))
    open_case()
    client.get("/admin/audit/reviewcase/")
    rows_few, queries_few = listed(client, "/admin/audit/reviewcase/")
    for _ in range(30):
        open_case()
    rows_many, queries_many = listed(client, "/admin/audit/reviewcase/")
    assert (rows_few, rows_many) == (1, 25)
    assert queries_many == queries_few
