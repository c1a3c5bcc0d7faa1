import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.tests.factories import BorrowerFactory, StaffFactory, issue_backup_code
from audit.actions import Action
from audit.models import AuditExport
from audit.services import record

pytestmark = pytest.mark.django_db


def totp_token(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def test_staff_signed_in_without_a_second_factor_cannot_reach_the_admin(client):
    officer = StaffFactory(role="officer")
    TOTPDevice.objects.create(user=officer, name="authenticator")
    client.force_login(officer)  # password only: not verified

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_login_form_refuses_a_password_without_a_code(client):
    officer = StaffFactory(role="officer")
    TOTPDevice.objects.create(user=officer, name="authenticator")

    response = client.post("/admin/login/", {"username": officer.username, "password": "staff-pass-123"})

    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_a_totp_code_opens_the_admin(client):
    officer = StaffFactory(role="officer")
    device = TOTPDevice.objects.create(user=officer, name="authenticator")

    response = client.post(
        "/admin/login/",
        {
            "username": officer.username,
            "password": "staff-pass-123",
            "otp_device": device.persistent_id,
            "otp_token": totp_token(device),
        },
    )

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_backup_code_works_once(client):
    officer = StaffFactory(role="officer")
    device, code = issue_backup_code(officer)
    form = {
        "username": officer.username,
        "password": "staff-pass-123",
        "otp_device": device,
        "otp_token": code,
    }

    assert client.post("/admin/login/", form).status_code == 302
    client.logout()
    assert client.post("/admin/login/", form).status_code == 200  # used up
    assert client.get("/admin/").status_code == 302


def test_borrowers_never_reach_the_admin(client):
    borrower = BorrowerFactory()
    client.force_login(borrower)
    assert client.get("/admin/").status_code == 302


def test_the_admin_shows_borrowers_masked(admin_login):
    borrower = BorrowerFactory(phone="+8613912345678")
    client = admin_login(StaffFactory(role="officer"))

    listing = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    detail = client.get(reverse("admin:accounts_user_change", args=[borrower.pk])).content.decode()

    for page in (listing, detail):
        assert "139****5678" in page
        assert "13912345678" not in page


def test_an_auditor_can_view_audit_events(admin_login):
    from django.db import transaction

    with transaction.atomic():
        event = record(action=Action.STAFF_CREATE, actor=None, data={"role": "support"})
    client = admin_login(StaffFactory(role="auditor"))

    assert client.get(reverse("admin:audit_auditevent_changelist"), follow=True).status_code == 200
    assert client.get(reverse("admin:audit_auditevent_change", args=[event.pk])).status_code == 200


def test_an_auditor_cannot_change_anything(admin_login):
    auditor = StaffFactory(role="auditor")
    client = admin_login(auditor)
    borrower = BorrowerFactory()
    request = RequestFactory().get("/admin/")
    request.user = auditor

    for model, model_admin in admin.site._registry.items():
        # Adding an audit export is asking for one: it changes no record (the exports' own tests).
        assert model is AuditExport or not model_admin.has_add_permission(request), model
        assert not model_admin.has_change_permission(request), model
        assert not model_admin.has_delete_permission(request), model
    allowed = {p for p in auditor.get_all_permissions() if not p.split(".")[1].startswith("view_")}
    assert allowed == {"audit.add_auditexport"}

    info = "admin:accounts_user"
    assert client.post(reverse(f"{info}_change", args=[borrower.pk]), {"is_active": ""}).status_code == 403
    assert client.post(reverse(f"{info}_delete", args=[borrower.pk]), {"post": "yes"}).status_code == 403
    assert client.get(reverse(f"{info}_add")).status_code == 403
    borrower.refresh_from_db()
    assert borrower.is_active


@pytest.mark.parametrize("role", ["officer", "auditor", "support"])
def test_staff_roles_see_only_what_their_group_allows(admin_login, role):
    client = admin_login(StaffFactory(role=role))
    audit_list = client.get(reverse("admin:audit_auditevent_changelist"), follow=True).status_code
    outbox_list = client.get(reverse("admin:lending_outboxmessage_changelist")).status_code
    assert audit_list == (403 if role == "support" else 200)
    assert outbox_list == 403
