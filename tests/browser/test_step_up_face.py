"""Step-up in a browser: a card bound within a day of a phone change waits for review; the
borrower chooses the face check instead, goes through the hosted liveness page (the FaceID
simulator, Chromium's fake camera) and comes back to the card bound; axe-core finds nothing
on the consent page."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import FaceCheck, PhoneChange
from accounts.services import identity_verify
from accounts.tests.factories import BorrowerFactory
from audit.models import ReviewCase
from cards.models import Card
from cards.tests import sandbox_cards
from tests.browser.axe import assert_accessible
from tests.browser.test_cards import bind_card, dev_site, sign_in  # noqa: F401 - fixtures
from tests.browser.test_lost_phone_face import camera_browser, camera_page  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def test_a_held_binding_cleared_through_the_hosted_liveness_page(camera_page, faceid, dev_site):  # noqa: F811
    page = camera_page
    borrower = BorrowerFactory(phone="+8613800138000")
    identity_verify(actor=borrower, real_name="张三", id_number="110105199003071239")
    PhoneChange.objects.create(
        user=borrower,
        status="completed",
        old_phone_masked="x",
        completed_at=timezone.now() - timedelta(hours=1),
    )
    sign_in(page)
    bind_card(page, sandbox_cards.GOOD_DEBIT)
    expect(page.get_by_text("需要经过快速审核", exact=False)).to_be_visible()  # it says the card waits
    assert Card.objects.get().status == "pending_review"

    page.get_by_role("link", name="或立即通过人脸核身确认是本人").click()
    expect(page.locator("section.policy")).to_contain_text("人脸信息处理授权")
    assert_accessible(page)
    page.get_by_label("我同意按上述说明为本次核验处理我的人脸信息。").check()
    page.get_by_role("button", name="同意并开始人脸核身").click()
    page.get_by_role("link", name="开始人脸核身").click()

    expect(page).to_have_url(f"{faceid.url}/h5/liveness?token={FaceCheck.objects.get().biz_token}")
    page.wait_for_function("document.getElementById('video').videoWidth > 0")
    page.get_by_role("button", name="拍照 · Take a picture").click()
    page.get_by_role("button", name="完成 · Done").click()

    expect(page.get_by_role("heading", name="我的银行卡")).to_be_visible()
    expect(page.get_by_text(re.compile(r"人脸核身通过：.*1234 已绑定。"))).to_be_visible()
    card = Card.objects.get()
    assert (card.status, card.is_repayment) == ("active", True)
    assert ReviewCase.objects.get().status == "approved"
