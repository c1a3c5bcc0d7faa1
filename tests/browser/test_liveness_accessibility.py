"""The FaceID simulator's hosted liveness page, checked with axe-core (tests/browser/axe.py) in
Chromium, before and after a picture is taken with the fake camera."""

import pytest
from playwright.sync_api import expect

from accounts.identity import get_provider
from tests.browser.axe import assert_accessible, axe_violations
from tests.browser.test_lost_phone_face import camera_browser, camera_page  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def test_the_hosted_liveness_page_has_no_accessibility_violations(camera_page, faceid, live_server):  # noqa: F811
    page = camera_page
    start = get_provider().liveness_start(
        name="张三", id_number="110105199003071239", return_url=f"{live_server.url}/accounts/phone/lost/face/"
    )
    page.goto(start.url)
    page.wait_for_function("document.getElementById('video').videoWidth > 0")
    assert_accessible(page)
    page.get_by_role("button", name="拍照 · Take a picture").click()
    expect(page.get_by_text("已拍摄 · Picture taken")).to_be_visible()
    assert_accessible(page)

    # The check is not vacuous: an image without a text alternative is found.
    page.evaluate("document.querySelector('main').append(document.createElement('img'))")
    assert [violation["id"] for violation in axe_violations(page)] == ["image-alt"]
