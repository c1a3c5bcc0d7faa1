import pytest
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory

from accounts.services import staff_create
from accounts.tests.factories import BorrowerFactory, StaffFactory
from audit.actions import Action
from audit.context import system_job
from audit.middleware import RequestContextMiddleware
from audit.models import AuditEvent
from audit.services import UnmaskedDataError, record

pytestmark = pytest.mark.django_db


def test_record_in_a_service_transaction_carries_the_request_context():
    officer = StaffFactory()

    def view(request):
        staff_create(actor=officer, username="auditor7", role="auditor")
        return HttpResponse()

    request = RequestFactory().get(
        "/", HTTP_X_REQUEST_ID="req-123", HTTP_USER_AGENT="Mozilla/5.0 test", REMOTE_ADDR="10.1.2.3"
    )
    RequestContextMiddleware(view)(request)

    event = AuditEvent.objects.get()
    assert event.action == Action.STAFF_CREATE
    assert (event.request_id, event.ip, event.user_agent) == ("req-123", "10.1.2.3", "Mozilla/5.0 test")
    assert (event.actor, event.actor_kind, event.actor_label) == (officer, "staff", officer.username)
    assert (event.subject_type, event.data) == ("accounts.user", {"role": "auditor"})


def test_a_rolled_back_transaction_leaves_no_event():
    class Refused(Exception):
        pass

    with pytest.raises(Refused), transaction.atomic():
        record(action=Action.STAFF_CREATE, actor=None)
        raise Refused

    assert not AuditEvent.objects.exists()


def test_borrowers_are_recorded_with_a_masked_phone():
    borrower = BorrowerFactory(phone="+8613912345678")
    with transaction.atomic():
        event = record(action=Action.STAFF_CREATE, actor=borrower, subject=borrower)
    assert (event.actor_kind, event.actor_label) == ("borrower", "139****5678")
    assert event.subject_id == str(borrower.pk)


def test_system_jobs_are_named_and_get_a_request_id_of_their_own():
    with system_job("nightly-check"), transaction.atomic():
        event = record(action=Action.STAFF_CREATE, actor=None)
    assert (event.actor_kind, event.actor_label) == ("system", "nightly-check")
    assert len(event.request_id) == 32


def test_outside_a_request_or_job_the_actor_is_anonymous():
    with transaction.atomic():
        event = record(action=Action.STAFF_CREATE, actor=None)
    assert (event.actor_kind, event.request_id, event.ip) == ("anonymous", "", None)


@pytest.mark.parametrize(
    "data",
    [
        {"phone": "+8613800138000"},
        {"note": "call 13800138000 back"},
        {"id_number": "11010519491231002X"},
        {"cards": ["6222 0212 3456 7890 128"]},
        {"nested": {"number": 6222021234567890128}},
    ],
)
def test_unmasked_personal_data_is_refused(data):
    with pytest.raises(UnmaskedDataError), transaction.atomic():
        record(action=Action.STAFF_CREATE, actor=None, data=data)
    assert not AuditEvent.objects.exists()


def test_masked_data_and_ordinary_numbers_are_accepted():
    data = {"phone": "138****8000", "card": "**** 0128", "amount": "12345.67", "request": "a1b2c3" * 5}
    with transaction.atomic():
        assert record(action=Action.STAFF_CREATE, actor=None, data=data).data == data


@pytest.mark.django_db(transaction=True)
def test_record_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError, match="inside the service's transaction"):
        record(action=Action.STAFF_CREATE, actor=None)
