from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import PhoneChange, SmsCodeSend
from accounts.tests.factories import BorrowerFactory
from accounts.tests.helpers import wrong

pytestmark = pytest.mark.django_db

OLD, NEW = "+8613800138000", "+8613900139000"


def allow_next_code():
    SmsCodeSend.objects.update(sent_at=timezone.now() - timedelta(minutes=2))


def test_phone_change_through_the_pages(sign_in, deliver, last_code, sms_outbox):
    borrower = BorrowerFactory(phone=OLD)
    other_device = Client()
    other_device.force_login(borrower)
    client = sign_in(borrower)

    with deliver():
        assert client.post("/accounts/phone/change/")["Location"] == "/accounts/phone/change/"
    change = PhoneChange.objects.get()
    assert (
        client.post(f"/accounts/phone/change/{change.pk}/old/", {"code": last_code(OLD)}).status_code == 302
    )
    allow_next_code()
    with deliver():
        client.post(f"/accounts/phone/change/{change.pk}/new/", {"new_phone": "139 0013 9000"})
    with deliver():
        response = client.post(f"/accounts/phone/change/{change.pk}/confirm/", {"code": last_code(NEW)})

    assert response["Location"] == "/accounts/"
    borrower.refresh_from_db()
    assert str(borrower.phone) == NEW
    assert client.get("/accounts/").status_code == 200  # this session stays
    assert other_device.get("/accounts/").status_code == 302  # every other one ends
    assert sms_outbox[-1].to == OLD


def test_wrong_codes_and_bad_numbers_show_on_the_page(sign_in, deliver, last_code):
    client = sign_in(BorrowerFactory(phone=OLD))
    with deliver():
        client.post("/accounts/phone/change/")
    change = PhoneChange.objects.get()
    response = client.post(f"/accounts/phone/change/{change.pk}/old/", {"code": wrong(last_code(OLD))})
    assert response.status_code == 400 and response.context["code_form"].errors
    response = client.post(f"/accounts/phone/change/{change.pk}/old/", {"code": "abc"})
    assert response.status_code == 400
    client.post(f"/accounts/phone/change/{change.pk}/old/", {"code": last_code(OLD)})
    for bad in ["+14155550123", "abc", "1" * 5000, OLD]:
        response = client.post(f"/accounts/phone/change/{change.pk}/new/", {"new_phone": bad})
        assert response.status_code == 400 and response.context["phone_form"].errors
    assert PhoneChange.objects.get().status == PhoneChange.Status.OLD_CONFIRMED


@pytest.mark.parametrize("step", ["old", "new", "confirm", "resend", "cancel"])
def test_another_borrowers_change_is_404(sign_in, deliver, step):
    owner = BorrowerFactory(phone=OLD)
    with deliver():
        sign_in(owner).post("/accounts/phone/change/")
    change = PhoneChange.objects.get()
    intruder = sign_in(BorrowerFactory())
    response = intruder.post(
        f"/accounts/phone/change/{change.pk}/{step}/", {"code": "123456", "new_phone": NEW}
    )
    assert response.status_code == 404
    assert PhoneChange.objects.get().status == PhoneChange.Status.STARTED


def test_step_urls_are_post_only(sign_in):
    client = sign_in(BorrowerFactory())
    assert client.get("/accounts/phone/change/1/old/").status_code == 405


def test_a_frozen_account_sees_why_it_cannot_change(sign_in):
    from accounts.services import account_freeze

    borrower = BorrowerFactory()
    borrower = account_freeze(actor=borrower, user=borrower, reason="test")
    client = sign_in(borrower)
    response = client.post("/accounts/phone/change/", follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "frozen" in response.content.decode()
    assert not PhoneChange.objects.exists()


def test_a_number_of_another_account_is_refused_on_a_fresh_page_to_enter_another(sign_in, deliver, last_code):
    BorrowerFactory(phone=NEW)
    client = sign_in(BorrowerFactory(phone=OLD))
    with deliver():
        client.post("/accounts/phone/change/")
    change = PhoneChange.objects.get(user__phone=OLD)
    client.post(f"/accounts/phone/change/{change.pk}/old/", {"code": last_code(OLD)})
    allow_next_code()
    with deliver():
        client.post(f"/accounts/phone/change/{change.pk}/new/", {"new_phone": "139 0013 9000"})
    code = last_code(NEW)
    response = client.post(
        f"/accounts/phone/change/{change.pk}/confirm/", {"code": code}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response["Location"] == "/accounts/phone/change/"
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "cannot be bound to your account" in page and code not in page


def test_a_new_number_not_in_the_borrowers_name_shows_the_review_on_the_page(
    sign_in, deliver, last_code, faceid
):
    from accounts.services import identity_verify

    borrower = BorrowerFactory(phone=OLD)
    identity_verify(actor=borrower, real_name="张三", id_number="110105199003071239")
    client = sign_in(borrower)
    with deliver():
        client.post("/accounts/phone/change/")
    change = PhoneChange.objects.get()
    client.post(f"/accounts/phone/change/{change.pk}/old/", {"code": last_code(OLD)})
    allow_next_code()
    with deliver():
        client.post(f"/accounts/phone/change/{change.pk}/new/", {"new_phone": "139 0013 0990"})
    with deliver():
        response = client.post(
            f"/accounts/phone/change/{change.pk}/confirm/",
            {"code": last_code("+8613900130990")},
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert response["Location"] == "/accounts/phone/change/"
    page = client.get("/accounts/phone/change/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "did not confirm that 139****0990 is registered in your name" in page
    assert "Your change to 139****0990 is waiting for a compliance officer" in page
    borrower.refresh_from_db()
    assert str(borrower.phone) == OLD
