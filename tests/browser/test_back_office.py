"""An officer signs in to the back office with a TOTP code and approves a lost-phone case."""

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from accounts.models import User
from accounts.services import identity_verify, phone_lost_start, staff_create
from accounts.services.phone_lost import phone_lost_face_wait
from accounts.tests.factories import BorrowerFactory
from accounts.tests.helpers import face_check
from audit.models import ReviewCase

pytestmark = pytest.mark.browser


def totp_code(device: TOTPDevice) -> str:
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"


@pytest.fixture
def lost_phone_case(faceid):
    borrower = BorrowerFactory(phone="+8613700137000")
    identity_verify(actor=borrower, real_name="李四", id_number="310101198506152345")
    change = phone_lost_start(
        phone="+8613700137000",
        password="borrower-pass-123",
        real_name="李四",
        id_number="310101198506152345",
        new_phone="+8613600136000",
    )
    phone_lost_face_wait(change=change)  # the code step is the new phone's
    return face_check(change, faceid)


def test_officer_signs_in_with_totp_and_approves_a_lost_phone_case(page, lost_phone_case):
    staff_create(actor=None, username="zhou", role="officer", password="Officer-pass-2026")
    device = TOTPDevice.objects.get(user__username="zhou")

    page.goto("/admin/login/")
    page.fill("input[name=username]", "zhou")
    page.fill("input[name=password]", "Officer-pass-2026")
    page.locator("input[type=submit]").click()
    page.select_option("select[name=otp_device]", label="身份验证器应用")
    page.fill("input[name=password]", "Officer-pass-2026")
    page.fill("input[name=otp_token]", totp_code(device))
    page.locator("input[type=submit]").click()
    expect(page.locator("#new-review-cases")).to_be_visible()  # the unread marker

    page.locator("#new-review-cases a").click()
    page.locator("#result_list a", has_text=f"#{lost_phone_case.pk}").click()
    expect(page.locator(".review-case")).to_contain_text("136****6000")
    expect(page.locator(".review-case")).to_contain_text("92.40")  # the face check's similarity
    page.fill("textarea[name=reason]", "Identity documents match; called the borrower on the new number")
    page.locator("button[name=verdict][value=approve]").click()

    expect(page.locator(".messagelist")).to_contain_text(f"#{lost_phone_case.pk}")
    assert ReviewCase.objects.get().status == "approved"
    assert User.objects.filter(phone="+8613600136000").exists()
