"""A borrower who lost the phone files a request through the face check: the consent, the
provider's hosted liveness page (the FaceID simulator, Chromium's fake camera) and back."""

import os

import pytest
from playwright.sync_api import expect, sync_playwright

from accounts.models import FaceCheck
from accounts.services import identity_verify
from accounts.tests.factories import BorrowerFactory
from audit.models import ReviewCase
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE

pytestmark = pytest.mark.browser

FAKE_CAMERA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


@pytest.fixture(scope="module")
def camera_browser():
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *FAKE_CAMERA]
            )
            yield chromium
            chromium.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def camera_page(camera_browser, live_server, transactional_db):
    context = camera_browser.new_context(locale="zh-CN", viewport=PHONE, base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    refused = []
    page.on(
        "console", lambda message: "Content Security Policy" in message.text and refused.append(message.text)
    )
    yield page
    context.close()
    assert not refused, refused


def test_lost_phone_request_through_the_hosted_liveness_page(camera_page, faceid, last_code, settings):
    page = camera_page
    borrower = BorrowerFactory(phone="+8613800138000")
    identity_verify(actor=borrower, real_name="张三", id_number="110105199003071239")

    page.goto("/accounts/phone/lost/")
    page.fill("input[name=phone]", "13800138000")
    page.fill("input[name=password]", "borrower-pass-123")
    page.fill("input[name=real_name]", "张三")
    page.fill("input[name=id_number]", "110105199003071239")
    page.fill("input[name=new_phone]", "13900139000")
    page.locator("form button[type=submit].primary").click()
    page.fill("input[name=code]", last_code("+8613900139000"))
    page.locator("form button[type=submit].primary").click()

    expect(page.get_by_text("新号码已确认。还差一步：人脸核身。")).to_be_visible()
    expect(page.locator("section.policy")).to_contain_text("人脸信息处理授权")
    page.get_by_label("我同意按上述说明为本次核验处理我的人脸信息。").check()
    page.get_by_role("button", name="同意并开始人脸核身").click()
    page.get_by_role("link", name="开始人脸核身").click()

    # The provider's page: the fake camera plays, a picture is taken, nothing is uploaded.
    expect(page).to_have_url(f"{faceid.url}/h5/liveness?token={FaceCheck.objects.get().biz_token}")
    page.wait_for_function("document.getElementById('video').videoWidth > 0")
    page.get_by_role("button", name="拍照 · Take a picture").click()
    expect(page.get_by_text("已拍摄 · Picture taken")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # phone-sized
    page.get_by_role("button", name="完成 · Done").click()

    case = ReviewCase.objects.get()
    expect(page.get_by_text(f"#{case.pk}").first).to_be_visible()
    assert page.url.endswith("/accounts/phone/lost/")
    check = FaceCheck.objects.get()
    assert (check.status, str(check.similarity)) == ("passed", "92.40")
    assert faceid.admin("GET", f"/sandbox/liveness/{check.biz_token}")["frame_source"] == "camera"
