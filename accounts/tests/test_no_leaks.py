"""Run every borrower flow, then look for the full numbers in logs, audit data and the database."""

import json
import logging
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import SmsCodeSend, User
from accounts.tests.helpers import wrong
from audit.models import AuditEvent
from lending.pii import find_pii, find_pii_in

pytestmark = pytest.mark.django_db

PHONE, NEW_PHONE, ID_NUMBER = "+8613800138000", "+8613900139000", "110105199003071239"
NEEDLES = ("13800138000", "13900139000", ID_NUMBER)
# The only places a full number may live: the user's own phone, and its history.
ALLOWED = {("accounts_user", "phone"), ("accounts_historicaluser", "phone")}


def allow_next_code():
    SmsCodeSend.objects.update(sent_at=timezone.now() - timedelta(minutes=2))


def run_every_flow(client, deliver, last_code):
    with deliver():
        client.post("/accounts/register/", {"phone": PHONE})
    form = client.get("/accounts/register/complete/").context["form"]
    password = "Leak-test-pass-1"
    with deliver():
        client.post(
            "/accounts/register/complete/",
            {
                "code": last_code(PHONE),
                "new_password1": password,
                "new_password2": password,
                "privacy_version": form.policy.version,
                "privacy_sha256": form.policy.sha256,
                "accept_privacy": "on",
            },
        )
    client.post("/accounts/identity/", {"real_name": "张三", "id_number": ID_NUMBER})
    client.post("/accounts/identity/", {"real_name": "张三", "id_number": ID_NUMBER})  # refused: already
    with deliver():
        client.post("/accounts/logout/")
    client.post("/accounts/login/", {"phone": PHONE, "password": "wrong"})
    allow_next_code()
    with deliver():
        client.post("/accounts/login/", {"phone": PHONE, "password": password})
    client.post("/accounts/login/verify/", {"code": wrong(last_code(PHONE))})
    client.post("/accounts/login/verify/", {"code": last_code(PHONE)})
    client.post("/accounts/confirm-password/", {"password": password})
    allow_next_code()
    with deliver():
        client.post("/accounts/phone/change/")
    change_id = User.objects.get().phone_changes.get().pk
    client.post(f"/accounts/phone/change/{change_id}/old/", {"code": last_code(PHONE)})
    allow_next_code()
    with deliver():
        client.post(f"/accounts/phone/change/{change_id}/new/", {"new_phone": NEW_PHONE})
    with deliver():
        client.post(f"/accounts/phone/change/{change_id}/confirm/", {"code": last_code(NEW_PHONE)})
    client.get("/accounts/security/")
    client.get("/notifications/")
    with deliver():
        client.post("/accounts/password/reset/", {"phone": NEW_PHONE})
    client.post("/accounts/security/freeze/")
    assert str(User.objects.get().phone) == NEW_PHONE  # the flows really ran


def database_rows():
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT row_to_json(t)::text FROM "{table}" t')  # noqa: S608 - table names from introspection
            for (row,) in cursor.fetchall():
                yield table, json.loads(row)


def test_no_full_phone_or_id_number_in_logs_audit_data_or_the_database(client, deliver, last_code, caplog):
    caplog.set_level(logging.DEBUG)

    run_every_flow(client, deliver, last_code)

    for log in caplog.records:
        text = log.getMessage() + (log.exc_text or "")
        assert not find_pii(text), text
    for data in AuditEvent.objects.values_list("data", flat=True):
        assert not find_pii_in(data), data
    for table, row in database_rows():
        for column, value in row.items():
            if (table, column) in ALLOWED:
                continue
            assert not any(needle in str(value) for needle in NEEDLES), (table, column)


def test_the_identity_and_face_checks_leave_no_number_name_or_face_data_behind(
    client, deliver, last_code, caplog, faceid
):
    from accounts.services import identity_verify
    from accounts.tests.factories import BorrowerFactory
    from accounts.tests.helpers import face_check

    caplog.set_level(logging.DEBUG)
    name = "欧阳娜娜"
    borrower = BorrowerFactory(phone=PHONE)
    identity_verify(actor=borrower, real_name=name, id_number=ID_NUMBER)
    details = {"phone": PHONE, "password": "borrower-pass-123", "real_name": name, "id_number": ID_NUMBER}
    with deliver():
        client.post("/accounts/phone/lost/", {**details, "new_phone": NEW_PHONE})
    client.post("/accounts/phone/lost/code/", {"code": last_code(NEW_PHONE)})
    change = borrower.phone_changes.get()
    with deliver():
        case = face_check(change, faceid)
    assert case.kind == "phone_lost"

    for log in caplog.records:
        text = log.getMessage() + (log.exc_text or "") + str(log.args)
        assert not find_pii(text) and name not in text, text
    for data in AuditEvent.objects.values_list("data", flat=True):
        assert not find_pii_in(data) and name not in json.dumps(data, ensure_ascii=False), data
    # The name lives only in the identity and its history; no table keeps an image.
    named = {("accounts_identity", "real_name"), ("accounts_historicalidentity", "real_name")}
    for table, row in database_rows():
        for column, value in row.items():
            if (table, column) in ALLOWED:
                continue
            assert not any(needle in str(value) for needle in NEEDLES), (table, column)
            assert (table, column) in named or name not in str(value), (table, column)
            assert not str(value).startswith(("data:image", "/9j/", "iVBOR")), (table, column)  # no picture
