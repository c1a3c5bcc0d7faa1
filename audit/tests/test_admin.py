from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import BorrowerFactory, StaffFactory
from audit.actions import Action
from audit.context import system_job
from audit.models import AuditEvent
from audit.services import record

pytestmark = pytest.mark.django_db

LIST = reverse("admin:audit_auditevent_changelist")
SIGN_IN = 1  # the auditor's own sign-in (admin_login) is an event too


@pytest.fixture
def events():
    officer, borrower = StaffFactory(username="zhou"), BorrowerFactory(phone="+8613912345678")
    with transaction.atomic():
        record(action=Action.STAFF_CREATE, actor=officer, subject=officer)
        record(action=Action.STAFF_BACKUP_CODES_RESET, actor=borrower, subject=officer)
        with system_job("seed_demo"):
            record(action=Action.STAFF_CREATE, actor=None, subject=borrower)
    return officer, borrower


def listed(client, **params):
    response = client.get(LIST, params, follow=True)
    assert response.status_code == 200
    return [(e.action, e.actor_label) for e in response.context["cl"].result_list]


def test_filters_by_action_actor_subject_and_date(admin_login, events):
    officer, borrower = events
    client = admin_login(StaffFactory(role="auditor"))

    assert len(listed(client)) == 3 + SIGN_IN
    assert listed(client, action=Action.STAFF_BACKUP_CODES_RESET) == [
        ("staff.backup_codes_reset", "139****5678")
    ]
    assert listed(client, actor_label="zhou") == [("staff.create", "zhou")]
    assert listed(client, actor_kind="system") == [("staff.create", "seed_demo")]
    assert len(listed(client, subject_type="accounts.user", subject=str(officer.pk))) == 2
    assert (
        len(
            listed(
                client,
                occurred_at__gte="2000-01-01 00:00:00+08:00",
                occurred_at__lt="2100-01-01 00:00:00+08:00",
            )
        )
        == 3 + SIGN_IN
    )
    assert listed(client, occurred_at__gte="2100-01-01 00:00:00+08:00") == []


def test_the_filters_offer_their_choices_without_reading_the_events(admin_login, events):
    """At ten million events a DISTINCT over the table for the subject types would take seconds."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = admin_login(StaffFactory(role="auditor"))
    with CaptureQueriesContext(connection) as queries:
        page = client.get(LIST, {"actor_kind": "staff"}).content.decode()
    assert "?actor_kind=staff&amp;subject_type=cards.card" in page
    assert "?actor_kind=staff&amp;subject_type=login.phone" in page
    assert not [q["sql"] for q in queries if "DISTINCT" in q["sql"].upper()]


def test_the_actor_filter_keeps_the_other_filters(admin_login, events):
    client = admin_login(StaffFactory(role="auditor"))
    page = client.get(LIST, {"action": Action.STAFF_CREATE}).content.decode()
    assert 'name="action" value="staff.create"' in page  # hidden in the text filter's form


def test_the_event_page_is_read_only(admin_login, events):
    client = admin_login(StaffFactory(role="officer"))
    event = AuditEvent.objects.first()
    url = reverse("admin:audit_auditevent_change", args=[event.pk])
    page = client.get(url).content.decode()
    assert 'type="submit"' not in page.split('id="content-main"')[1].split("</form>")[0]
    assert client.post(url, {"action": "x"}).status_code == 403


def test_the_list_opens_on_the_past_seven_days(admin_login, events):
    with transaction.atomic():
        AuditEvent.objects.create(
            occurred_at=timezone.now() - timedelta(days=30), actor_kind="system", action=Action.STAFF_CREATE
        )
    client = admin_login(StaffFactory(role="auditor"))
    response = client.get(LIST)
    assert response.status_code == 302 and "occurred_at__gte=" in response["Location"]
    assert len(listed(client)) == 3 + SIGN_IN  # the month-old event is outside the default week
    assert len(listed(client, occurred_at__gte="2000-01-01 00:00:00+08:00")) == 4 + SIGN_IN


def test_the_list_never_counts_the_whole_table(admin_login, events, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from lending.admin_tools import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "CAP", 2)
    client = admin_login(StaffFactory(role="auditor"))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST, {"occurred_at__gte": "2000-01-01 00:00:00+08:00"})
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 2" in sql for sql in counts)
    assert response.context["cl"].result_count == 2  # capped: narrow the filters to see more


def test_actions_are_chosen_by_what_they_are_about_first(admin_login, events):
    from audit.admin import ACTION_FAMILIES, family_of

    assert {family_of(value) for value, _label in Action.choices} == set(ACTION_FAMILIES)  # each labelled
    client = admin_login(StaffFactory(role="auditor"))
    page = client.get(LIST, follow=True).content.decode()
    assert "action_family=card" in page and "action__exact=" not in page  # families, no wall of actions
    staff = client.get(LIST, {"action_family": "staff"}).content.decode()
    assert "action__exact=staff.create" in staff and "action__exact=card.bound" not in staff
    assert sorted(listed(client, action_family="staff")) == [("staff.backup_codes_reset", "139****5678")] + [
        ("staff.create", "seed_demo"),
        ("staff.create", "zhou"),
    ]
    chosen = client.get(LIST, {"action__exact": "staff.create"}).content.decode()
    assert "action__exact=staff.backup_codes_reset" in chosen  # the chosen action's family stays offered


def test_action_labels_are_shown_in_the_readers_language(admin_login, events):
    """The admin's choices dict is built once per field (lending/times.py); its labels stay lazy."""
    client = admin_login(StaffFactory(role="auditor"))
    chinese = client.get(
        LIST, {"action_family": "staff"}, headers={"Accept-Language": "zh-hans"}
    ).content.decode()
    english = client.get(LIST, {"action_family": "staff"}, headers={"Accept-Language": "en"}).content.decode()
    assert "Staff account created" in english and "Staff account created" not in chinese
