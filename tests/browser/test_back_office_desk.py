"""The back office at 1280 px in Chinese, as an officer sees it on a desk: the sign-in in Chinese,
one time for a case in the queue and on its page, the alert list whole, real decision buttons."""

from datetime import UTC, datetime

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from accounts.services import staff_create
from accounts.tests.factories import BorrowerFactory
from audit import risk
from audit.models import ReviewCase
from audit.services import risk_alert_raise
from tests.browser.test_back_office import lost_phone_case, totp_code  # noqa: F401

pytestmark = pytest.mark.browser

DESK = {"width": 1280, "height": 800}


@pytest.fixture
def desk(browser, live_server, transactional_db):
    context = browser.new_context(locale="zh-CN", viewport=DESK, base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    refused = []
    page.on(
        "console", lambda message: "Content Security Policy" in message.text and refused.append(message.text)
    )
    yield page
    context.close()
    assert not refused, refused


def sign_in(page):
    staff_create(actor=None, username="zhou", role="officer", password="Officer-pass-2026")
    device = TOTPDevice.objects.get(user__username="zhou")
    page.goto("/admin/login/")
    page.fill("input[name=username]", "zhou")
    page.fill("input[name=password]", "Officer-pass-2026")
    page.locator("input[type=submit]").click()
    expect(page.locator(".errornote")).to_contain_text("请输入身份验证器应用中的验证码")
    expect(page.locator("select[name=otp_device] option")).to_have_text(
        ["---------", "身份验证器应用", "备用验证码"]
    )
    page.select_option("select[name=otp_device]", label="身份验证器应用")
    page.fill("input[name=password]", "Officer-pass-2026")
    page.fill("input[name=otp_token]", totp_code(device))
    page.locator("input[type=submit]").click()
    expect(page.locator("#site-name")).to_be_visible()


def test_the_queue_and_the_case_page_agree_on_the_deadline_and_the_buttons_are_buttons(
    desk,
    lost_phone_case,  # noqa: F811
):
    ReviewCase.objects.filter(pk=lost_phone_case.pk).update(
        sla_due_at=datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
    )
    sign_in(desk)
    desk.goto("/admin/audit/reviewcase/")
    expect(desk.locator("#result_list td.field-sla")).to_have_text("2026-12-01 13:00 UTC+0800")
    assert desk.locator("#changelist .results").evaluate("r => r.scrollWidth <= r.clientWidth")
    desk.locator("#result_list a", has_text=f"#{lost_phone_case.pk}").click()
    expect(desk.locator(".field-sla_due_at .readonly")).to_have_text("2026-12-01 13:00 UTC+0800")
    expect(desk.locator(".field-kind_label .readonly")).to_have_text("原手机丢失的换绑申请")
    expect(desk.locator('link[rel="icon"]')).to_have_attribute("href", "/static/img/back-office.svg")

    approve = desk.locator("button[name=verdict][value=approve]")
    reject = desk.locator("button[name=verdict][value=reject]")
    assert approve.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(46, 125, 50)"
    assert reject.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(179, 38, 30)"
    assert approve.bounding_box()["height"] >= 36 and reject.bounding_box()["width"] >= 80


def test_the_alert_list_shows_every_column_at_1280_px(desk):
    now = datetime.now(UTC)
    for rule in risk.RULES[:6]:
        borrower = BorrowerFactory()
        finding = risk.Finding(rule, "accounts.user", str(borrower.pk), borrower.pk, 5, now)
        risk_alert_raise(finding=finding, now=now)
    sign_in(desk)
    desk.goto("/admin/audit/riskalert/")
    last = desk.locator("#result_list thead th").last
    expect(last).to_have_text("处理人")
    assert last.bounding_box()["x"] + last.bounding_box()["width"] <= DESK["width"]
    results = desk.locator("#changelist .results")
    assert results.evaluate("r => r.scrollWidth <= r.clientWidth"), "the list scrolls sideways"
    expect(desk.locator("#result_list")).not_to_contain_text("phone_changes_frequent")


@pytest.mark.parametrize("width", [390, 1280])
def test_the_header_takes_an_officer_from_list_to_list_on_a_phone_and_a_desk(browser, live_server, width):
    context = browser.new_context(
        locale="zh-CN", viewport={"width": width, "height": 800}, base_url=live_server.url
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page)
    page.goto("/admin/audit/reviewcase/")
    lists = page.locator("#work-lists a")
    expect(lists).to_have_text(["审核案件", "风险告警", "求助", "审计事件", "审计导出"])
    expect(page.locator('#work-lists a[aria-current="page"]')).to_have_text("审核案件")
    for link in lists.all():
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width and box["height"] >= 24
    lists.filter(has_text="风险告警").click()
    expect(page).to_have_url(f"{live_server.url}/admin/audit/riskalert/")
    expect(page.locator('#work-lists a[aria-current="page"]')).to_have_text("风险告警")
    context.close()
