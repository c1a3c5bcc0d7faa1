import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import BorrowerFactory, StaffFactory
from audit.actions import Action
from audit.models import ReviewCase, RiskAlert
from audit.services import record, risk_scan

pytestmark = pytest.mark.django_db

QUEUE = reverse("admin:audit_reviewcase_changelist")


def case_page(case):
    return reverse("admin:audit_reviewcase_change", args=[case.pk])


def test_the_queue_lists_open_cases_first_oldest_first(admin_login, open_case):
    first, second, third = open_case(), open_case(), open_case()
    ReviewCase.objects.filter(pk=first.pk).update(status="approved")
    client = admin_login(StaffFactory(role="officer"))
    listed = [case.pk for case in client.get(QUEUE).context["cl"].result_list]
    assert listed == [second.pk, third.pk, first.pk]


def test_the_queue_filters_by_kind_risk_and_sla(admin_login, open_case, settings):
    normal, high = open_case(score=10), open_case(score=settings.REVIEW_HIGH_RISK_SCORE)
    ReviewCase.objects.filter(pk=high.pk).update(sla_due_at=high.opened_at)
    client = admin_login(StaffFactory(role="officer"))

    def pks(**params):
        return [case.pk for case in client.get(QUEUE, params).context["cl"].result_list]

    assert pks(risk="high") == [high.pk] and pks(risk="normal") == [normal.pk]
    assert pks(sla="breached") == [high.pk]
    assert sorted(pks(kind="test_kind")) == sorted([normal.pk, high.pk])


def test_the_queue_runs_the_same_number_of_queries_for_1_and_50_cases(admin_login, open_case):
    client = admin_login(StaffFactory(role="officer"))
    open_case()
    with CaptureQueriesContext(connection) as one:
        assert client.get(QUEUE).status_code == 200
    for _ in range(49):
        open_case()
    with CaptureQueriesContext(connection) as fifty:
        assert client.get(QUEUE).status_code == 200
    assert len(fifty) == len(one), [q["sql"] for q in fifty.captured_queries]


def test_new_cases_are_marked_until_the_officer_opens_them(admin_login, open_case):
    case = open_case()
    officer = StaffFactory(role="officer")
    client = admin_login(officer)
    queue = client.get(QUEUE).content.decode()
    assert "new-case" in queue and 'id="new-review-cases"' in queue

    client.get(case_page(case))

    queue = client.get(QUEUE).content.decode()
    assert "new-case" not in queue and 'id="new-review-cases"' not in queue
    other = admin_login(StaffFactory(role="officer"))
    assert "new-case" in other.get(QUEUE).content.decode()  # still new to another officer


def test_the_case_page_shows_summary_reasons_timeline_history_and_the_decision_form(admin_login, open_case):
    borrower = BorrowerFactory(phone="+8613912345678")
    with transaction.atomic():
        record(action=Action.LOGIN_SUCCEEDED, actor=borrower, subject=borrower)
    case = open_case(borrower=borrower)
    page = admin_login(StaffFactory(role="officer")).get(case_page(case)).content.decode()
    assert "139****5678" in page and "13912345678" not in page
    assert "a test reason" in page
    assert "Signed in" in page or "登录" in page
    assert 'name="verdict" value="approve"' in page


def test_an_officer_decides_from_the_case_page(admin_login, open_case, test_kind):
    case = open_case()
    client = admin_login(StaffFactory(role="officer"))
    decide = reverse("admin:audit_reviewcase_decide", args=[case.pk])

    refused = client.post(decide, {"verdict": "approve", "reason": ""}, follow=True)
    assert ReviewCase.objects.get().status == "open" and refused.status_code == 200

    response = client.post(decide, {"verdict": "approve", "reason": "documents match"})
    assert response["Location"] == QUEUE
    assert ReviewCase.objects.get().status == "approved"
    page = client.get(case_page(case)).content.decode()
    assert 'name="verdict"' not in page  # decided: read-only
    assert client.get(decide).status_code == 405


def test_refusals_are_shown_to_the_officer(admin_login, open_case):
    officer = StaffFactory(role="officer")
    case = open_case(requested_by=officer)
    client = admin_login(officer)
    response = client.post(
        reverse("admin:audit_reviewcase_decide", args=[case.pk]),
        {"verdict": "approve", "reason": "ok"},
        follow=True,
    )
    assert "requested" in response.content.decode()
    assert ReviewCase.objects.get().status == "open"


def test_staff_without_the_permission_cannot_see_the_queue(admin_login, open_case):
    case = open_case()
    assert admin_login(StaffFactory()).get(QUEUE).status_code == 403  # no role
    support = admin_login(StaffFactory(role="support"))
    assert support.get(QUEUE).status_code == 200
    assert 'name="verdict"' not in support.get(case_page(case)).content.decode()
    response = support.post(
        reverse("admin:audit_reviewcase_decide", args=[case.pk]), {"verdict": "approve", "reason": "x"}
    )
    assert response.status_code == 302 and ReviewCase.objects.get().status == "open"


def test_officers_resolve_alerts_from_the_admin_with_a_note(admin_login):
    borrower = BorrowerFactory()
    with transaction.atomic():
        record(action=Action.IDENTITY_REFUSED, actor=borrower, subject=borrower)
    (alert,) = risk_scan()
    client = admin_login(StaffFactory(role="officer"))
    url = reverse("admin:audit_riskalert_changelist")
    selection = {"action": "resolve", "_selected_action": [alert.pk]}
    assert client.post(url, selection).status_code == 200  # asks for the note
    client.post(url, {**selection, "apply": "1", "note": "same person, duplicate account closed"})
    alert.refresh_from_db()
    assert alert.status == RiskAlert.Status.RESOLVED
    auditor = admin_login(StaffFactory(role="auditor"))
    assert auditor.get(url).context["action_form"] is None
