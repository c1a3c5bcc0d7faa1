"""The back office in the officer's language: local times with their zone, labels for every
stored code (kinds, reasons, rules, roles, failure codes, history), the OTP sign-in in Chinese."""

import html
import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.admin.sites import site
from django.contrib.admin.utils import label_for_field
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Consent, PhoneChange, User
from accounts.review_kinds import lost_phone_summary
from accounts.services import identity_verify, phone_lost_confirm, phone_lost_start
from accounts.tests.factories import BorrowerFactory, StaffFactory
from accounts.tests.helpers import face_check
from audit import risk
from audit.actions import Action
from audit.forms import AuditExportForm
from audit.models import ReviewCase, RiskAlert
from audit.services import record, risk_alert_acknowledge, risk_alert_raise
from audit.tasks import notify_officers
from cards.models import Card, CardBindRequest
from lending.admin import DebitAttemptAdmin, FailureCodeFilter
from lending.history_reasons import reason_label
from lending.models import DebitAttempt

pytestmark = pytest.mark.django_db

QUEUE = reverse("admin:audit_reviewcase_changelist")
SHANGHAI_1300 = "2026-11-30 13:00 UTC+0800"  # 05:00 UTC


def text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


@pytest.fixture
def lost_phone_case(deliver, last_code, faceid):
    """A lost-phone request through its steps (code to the new number, face check) to its case."""
    borrower = BorrowerFactory(phone="+8613700137000")
    identity_verify(actor=borrower, real_name="李四", id_number="310101198506152345")
    with deliver():
        change = phone_lost_start(
            phone="+8613700137000",
            password="borrower-pass-123",
            real_name="李四",
            id_number="310101198506152345",
            new_phone="+8613600136000",
        )
    with deliver():
        phone_lost_confirm(change=change, code=last_code("+8613600136000"))
        return face_check(change, faceid)


def test_the_queue_and_the_case_page_show_the_same_shanghai_times_with_the_zone(admin_login, open_case):
    case = open_case()
    ReviewCase.objects.filter(pk=case.pk).update(
        opened_at=datetime(2026, 11, 29, 22, 50, tzinfo=UTC),
        sla_due_at=datetime(2026, 11, 30, 5, 0, tzinfo=UTC),
    )
    client = admin_login(StaffFactory(role="officer"))
    with time_machine.travel(datetime(2026, 11, 30, 1, 0, tzinfo=UTC)):  # before the deadline: still listed
        queue = text(client.get(QUEUE))
        page = text(client.get(reverse("admin:audit_reviewcase_change", args=[case.pk])))
    for shown in (queue, page):
        assert SHANGHAI_1300 in shown and "2026-11-30 06:50 UTC+0800" in shown
        assert "05:00" not in shown and "22:50" not in shown


def test_the_case_summary_says_the_day_the_account_was_opened_in_shanghai(lost_phone_case):
    User.objects.filter(pk=lost_phone_case.borrower_id).update(
        date_joined=datetime(2026, 11, 29, 22, 50, tzinfo=UTC)  # 06:50 on the 30th in Shanghai
    )
    with translation.override("en"):
        rows = {str(label): value for label, value in lost_phone_summary(lost_phone_case)}
    assert rows["Account opened"] == "2026-11-30"


def test_the_case_page_reads_kind_reasons_and_history_in_chinese(admin_login, lost_phone_case):
    client = admin_login(StaffFactory(role="officer"))
    page = text(client.get(reverse("admin:audit_reviewcase_change", args=[lost_phone_case.pk])))
    assert "原手机丢失的换绑申请" in page and "原手机已丢失" in page
    assert "已转人工审核" in page and "发起原手机丢失的换绑申请" in page
    for code in ("phone_lost", "old_phone_lost", "sent to review", "lost-phone request started"):
        assert code not in page, code


def test_the_decision_buttons_are_styled_buttons(admin_login, open_case):
    page = admin_login(StaffFactory(role="officer")).get(
        reverse("admin:audit_reviewcase_change", args=[open_case().pk])
    )
    markup = page.content.decode()
    assert 'class="button default approve"' in markup and 'class="button reject"' in markup
    assert "css/back_office.css" in markup and "img/back-office.svg" in markup  # and the favicon


def test_history_pages_show_labels_for_columns_choices_booleans_and_reasons(admin_login, lost_phone_case):
    client = admin_login(StaffFactory(role="officer"))
    change = PhoneChange.objects.get()
    page = text(client.get(reverse("admin:accounts_phonechange_history", args=[change.pk])))
    assert "状态: 等待输入新号码收到的验证码 → 等待人脸核身" in page
    assert "状态: 等待人脸核身 → 等待合规专员审核" in page
    assert "新号码已验证，等待人脸核身" in page
    assert "已转人工审核" in page and "变更内容" in page
    assert "in_review" not in page and "sent to review" not in page and "CHANGES" not in page.upper()

    user_history = text(
        client.get(reverse("admin:accounts_user_history", args=[lost_phone_case.borrower_id]))
    )
    assert "员工 有效 已冻结" in user_history and "— 否 是 —" in user_history
    assert "False" not in user_history and "True" not in user_history and "is_staff" not in user_history


def test_every_stored_history_reason_has_a_chinese_label():
    with translation.override("zh-hans"):
        assert reason_label("completed") == "已完成"  # the event, not the "completed at" column
        assert reason_label("kept after review case #12") == "审核案件 #12 后保留"
        assert reason_label("debit attempt 2 failed: insufficient_funds") == "第 2 次扣款失败：卡内余额不足"
        assert reason_label("staff created as officer") == "创建员工账户（合规专员）"
        assert reason_label("something new") == "something new"  # shown as stored, never lost


def test_risk_alerts_read_rules_evidence_and_handler_in_chinese_and_keep_the_claim_note(admin_login):
    borrower = BorrowerFactory()
    rule = next(rule for rule in risk.RULES if rule.code == "phone_changes_frequent")
    finding = risk.Finding(rule, "accounts.user", str(borrower.pk), borrower.pk, 5, datetime.now(UTC))
    alert = risk_alert_raise(finding=finding, now=datetime.now(UTC))
    officer = StaffFactory(role="officer")
    risk_alert_acknowledge(actor=officer, alert=alert, note="我来跟进")
    client = admin_login(officer)

    listing = text(client.get(reverse("admin:audit_riskalert_changelist")))
    assert "近 30 天频繁更换手机号" in listing and "处理人" in listing
    assert "phone_changes_frequent" not in listing and "HANDLED BY" not in listing.upper()

    page = client.get(reverse("admin:audit_riskalert_change", args=[alert.pk])).content.decode()
    assert '<ul class="evidence"><li>计入的事件数: 5</li><li>时间窗口（小时）: 720</li></ul>' in page
    assert '"count"' not in page and "我来跟进" in page

    note_action = {"action": "resolve", "_selected_action": [alert.pk], "apply": "1", "note": "已电话核实"}
    client.post(reverse("admin:audit_riskalert_changelist"), note_action)
    alert = RiskAlert.objects.get()
    assert (alert.status, alert.note, alert.resolution) == ("resolved", "我来跟进", "已电话核实")


def test_debit_failure_codes_read_as_what_they_mean():
    with translation.override("zh-hans"):
        label = DebitAttemptAdmin(DebitAttempt, site).failure_label(
            DebitAttempt(failure_code="insufficient_funds")
        )
        lookups = dict(FailureCodeFilter(None, {}, DebitAttempt, None).lookups(None, None))
        assert label == "卡内余额不足" and str(lookups["insufficient_funds"]) == "卡内余额不足"


def test_staff_roles_and_the_subject_column_read_in_chinese(admin_login):
    officer = StaffFactory(role="officer")
    client = admin_login(officer)
    users = text(client.get(reverse("admin:accounts_user_changelist")))
    assert "合规专员" in users and "审计员" in users and "Compliance officers" not in users
    page = text(client.get(reverse("admin:accounts_user_change", args=[officer.pk])))
    assert "合规专员" in page and "Compliance officers" not in page
    with transaction.atomic():
        record(action=Action.ACCOUNT_FROZEN, actor=officer, subject=BorrowerFactory())
    events = text(
        client.get(reverse("admin:audit_auditevent_changelist"), {"action__exact": Action.ACCOUNT_FROZEN})
    )
    assert "用户 #" in events and "accounts.user #" not in events


def test_the_otp_sign_in_speaks_chinese_and_names_the_devices(client):
    staff = StaffFactory(role="officer")
    TOTPDevice.objects.create(user=staff, name="authenticator", confirmed=True)
    StaticDevice.objects.create(user=staff, name="backup")
    page = client.post("/admin/login/", {"username": staff.username, "password": "staff-pass-123"})
    markup = page.content.decode()
    assert "请输入身份验证器应用中的验证码" in markup and "Please enter your OTP token" not in markup
    assert ">身份验证器应用</option>" in markup and ">备用验证码</option>" in markup
    assert ">authenticator<" not in markup and ">backup<" not in markup

    device = TOTPDevice.objects.get(user=staff).persistent_id
    wrong = client.post(
        "/admin/login/",
        {
            "username": staff.username,
            "password": "staff-pass-123",
            "otp_device": device,
            "otp_token": "000000",
        },
    )
    assert "验证码错误" in wrong.content.decode() and "Invalid token" not in wrong.content.decode()


def test_the_export_form_fills_its_dates_as_the_date_input_wants_them():
    with translation.override("zh-hans"):
        markup = str(AuditExportForm(user=StaffFactory(role="auditor")))
    dates = re.findall(r'<input type="date" name="date_(?:from|to)" value="([^"]*)"', markup)
    assert len(dates) == 2 and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) for value in dates), dates


def test_officer_emails_link_to_the_configured_site_and_show_the_zone(open_case, settings):
    settings.SITE_URL = "https://back-office.lending.example:8443"
    StaffFactory(role="officer", email="li@lending.example", language="zh-hans")
    case = open_case()
    ReviewCase.objects.filter(pk=case.pk).update(sla_due_at=datetime(2026, 11, 30, 5, 0, tzinfo=UTC))
    notify_officers.apply(kwargs={"case_id": case.pk, "event": "opened"}).get()
    (message,) = mail.outbox
    assert (
        f"https://back-office.lending.example:8443/admin/audit/reviewcase/{case.pk}/change/" in message.body
    )
    assert SHANGHAI_1300 in message.body and "127.0.0.1" not in message.body


def test_record_lists_name_their_columns_and_bind_failures_in_chinese(admin_login):
    borrower = BorrowerFactory()
    identity_verify(actor=borrower, real_name="李四", id_number="310101198506152345")
    client = admin_login(StaffFactory(role="officer"))
    listing = client.get(reverse("admin:accounts_identity_changelist")).content.decode()
    headers = re.findall(r'<th scope="col"[^>]*>.*?<(?:a|span)[^>]*>([^<]+)<', listing, re.DOTALL)
    assert "借款人" in headers and "User" not in headers and "user" not in headers
    home = client.get(reverse("admin:index")).content.decode()
    assert "模型名称" in home and "Model name" not in home  # the app list's headers for screen readers

    with translation.override("zh-hans"):
        assert CardBindRequest(failure_code="code_wrong").failure_label == "银行验证码错误"
        assert str(label_for_field("wrong_tries", CardBindRequest)) == "银行验证码错误次数"
        assert str(label_for_field("user", Card)) == "借款人"


def test_consents_name_the_document_they_accept(admin_login):
    borrower = BorrowerFactory()
    Consent.objects.create(
        user=borrower, document="debit_authorisation", version="2026-11", language="zh-hans"
    )
    listing = text(
        admin_login(StaffFactory(role="officer")).get(reverse("admin:accounts_consent_changelist"))
    )
    assert "委托扣款授权" in listing and "debit_authorisation" not in listing
