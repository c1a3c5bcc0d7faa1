"""Closing an account: refused with a loan or an open case; after the cooling-off period the
mandates are revoked at the bank, sessions end, sign-in is refused, the number is free again,
what the law keeps is restricted, and the audit chain still verifies."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.models import Identity, Notification, User
from accounts.services import LoginRefused, password_check
from accounts.tests.factories import BorrowerFactory, StaffFactory, issue_backup_code
from audit.actions import Action
from audit.models import AuditEvent
from audit.services import audit_events_seal
from cards.models import Card, Mandate
from privacy.models import AccountClosure
from privacy.services import ClosureRefused, account_closure_request, account_closures_complete
from support.services import support_case_open

pytestmark = pytest.mark.django_db

PASSWORD = "borrower-pass-123"
PHONE = "+8613800138000"


def _request(client, user, privacy_code):
    code = privacy_code(client, user, "close")
    return client.post(
        "/privacy/close/", {"password": PASSWORD, "code": code, "understood": "on"}, HTTP_ACCEPT_LANGUAGE="en"
    )


def _staff_client(user):
    client = Client()
    device, code = issue_backup_code(user)
    client.post(
        "/admin/login/",
        {"username": user.username, "password": "staff-pass-123", "otp_device": device, "otp_token": code},
    )
    return client


def test_closure_is_refused_while_a_loan_is_outstanding(bind, borrower, make_loan, sign_in):
    bind(borrower)
    loan = make_loan(borrower)
    page = sign_in(borrower).get("/privacy/close/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"Loan #{loan.pk} is still being repaid." in page
    with pytest.raises(ClosureRefused, match=f"Loan #{loan.pk}"):
        account_closure_request(actor=borrower, password=PASSWORD, code="123456")
    assert not AccountClosure.objects.exists()
    assert AuditEvent.objects.filter(action=Action.ACCOUNT_CLOSURE_REFUSED).count() == 1


def test_closure_is_refused_while_a_help_request_is_open(borrower, sign_in):
    case = support_case_open(actor=borrower, category="other", message="question")
    page = sign_in(borrower).get("/privacy/close/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"Help request #{case.pk} is still open." in page


def test_signing_in_during_the_cooling_off_period_cancels(borrower, sign_in, privacy_code, deliver):
    client = sign_in(borrower)
    response = _request(client, borrower, privacy_code)
    assert "You are signed out" in response.content.decode()
    closure = AccountClosure.objects.get()
    assert client.get("/accounts/").status_code == 302  # this session ended too
    sign_in(borrower)
    closure.refresh_from_db()
    assert closure.status == "cancelled"
    assert Notification.objects.filter(user=borrower, kind="account_closure_cancelled").exists()
    assert account_closures_complete() == 0


def test_closure_after_the_cooling_off_period(bind, bank, borrower, sign_in, privacy_code, deliver, settings):
    settings.AUDIT_SEAL_DELAY_SECONDS = 0
    card = bind(borrower)
    agreement = bank.agreements(status="active")
    assert len(agreement) == 1
    client = sign_in(borrower)
    other_device = Client()
    other_device.force_login(borrower, backend="django.contrib.auth.backends.ModelBackend")
    _request(client, borrower, privacy_code)
    closure = AccountClosure.objects.get(status="cooling_off")
    assert closure.effective_at - closure.requested_at == timedelta(days=settings.CLOSURE_COOLING_OFF_DAYS)
    assert other_device.get("/accounts/").status_code == 302  # every session ended

    with bank.travel(timezone.now() + timedelta(days=7, minutes=1)), deliver():
        assert account_closures_complete() == 1

    closure.refresh_from_db()
    borrower.refresh_from_db()
    assert closure.status == "closed"
    assert bank.agreements(status="active") == []  # revoked at the bank
    mandate = Mandate.objects.get(card=card)
    assert mandate.status == "revoked" and mandate.revoked_at_bank is not None
    assert Card.objects.get(pk=card.pk).status == "unbound"

    # Sign-in refused; the number is free for a new registration.
    assert not borrower.is_active and str(borrower.phone) != PHONE
    with pytest.raises(LoginRefused):
        password_check(phone=PHONE, password=PASSWORD)
    assert not User.objects.filter(phone=PHONE).exists()
    BorrowerFactory(phone=PHONE)

    # Personal data de-identified; what the law keeps is restricted in the closure record.
    identity = Identity.objects.get(user=borrower)
    assert identity.real_name == "张*" and identity.id_number == ""
    assert not Notification.objects.filter(user=borrower).exists()
    assert PHONE.removeprefix("+86") not in str(list(borrower.history.values_list("phone", flat=True)))
    assert (
        closure.restricted("phone"),
        closure.restricted("real_name"),
        closure.restricted("id_number"),
    ) == (
        PHONE,
        "张三",
        "110105199003071239",
    )
    assert closure.retain_until - closure.closed_at == timedelta(days=settings.CLOSURE_LEGAL_RETENTION_DAYS)

    # Hidden from the portal and the support role; officers reveal it, audited.
    support = _staff_client(StaffFactory(role="support"))
    assert support.get(f"/admin/privacy/accountclosure/{closure.pk}/change/").status_code == 403
    for page in (f"/admin/accounts/user/{borrower.pk}/change/", f"/admin/cards/card/{card.pk}/change/"):
        assert support.get(page, follow=True).redirect_chain[-1][0] == "/admin/"  # "not found"
    assert card not in support.get("/admin/cards/card/").context["cl"].result_list
    officer = _staff_client(StaffFactory(role="officer"))
    assert officer.get(f"/admin/cards/card/{card.pk}/change/").status_code == 200
    page = officer.get(f"/admin/privacy/accountclosure/{closure.pk}/change/").content.decode()
    assert "110105199003071239" not in page and "13800138000" not in page
    revealed = officer.post(f"/admin/privacy/accountclosure/{closure.pk}/reveal/id_number/")
    assert "110105199003071239" in revealed.content.decode()
    assert AuditEvent.objects.filter(
        action=Action.PERSONAL_DATA_REVEALED, subject_id=str(closure.pk)
    ).exists()

    assert AuditEvent.objects.filter(action=Action.ACCOUNT_CLOSED).count() == 1
    audit_events_seal()
    out = StringIO()
    call_command("verify_audit_chain", stdout=out)
    assert "OK" in out.getvalue()


def test_a_copy_not_downloaded_is_deleted_with_the_account(borrower, deliver, copy_dir):
    from django.core.files.base import ContentFile

    from privacy.models import DataCopy
    from privacy.services import account_close
    from privacy.services.copies import copy_storage

    name = copy_storage().save("2026/11/copy-x.zip", ContentFile(b"zip"))
    copy = DataCopy.objects.create(user=borrower, status=DataCopy.Status.DONE, archive=name)
    closure = AccountClosure.objects.create(user=borrower, effective_at=timezone.now())
    with deliver():
        account_close(closure_id=closure.pk)
    copy.refresh_from_db()
    assert (copy.status, copy.archive.name) == ("expired", "")
    assert not (copy_dir / name).exists()
