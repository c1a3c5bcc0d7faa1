"""Accessibility as a test in the back office: axe-core finds no serious or critical violation
on its main pages (sign-in, index, review queue and a case, alerts, audit events, users, cards,
loans), in Chinese and in English."""

import pytest
from django.conf import settings
from django.test import Client

from accounts.services import identity_verify, phone_lost_start
from accounts.services.phone_lost import phone_lost_face_wait
from accounts.tests.factories import BorrowerFactory, StaffFactory, issue_backup_code
from accounts.tests.helpers import face_check
from tests.browser.test_accessibility import DESKTOP, LANGUAGES, checked, context_for

pytestmark = pytest.mark.browser


def staff_session(live_server) -> str:
    officer = StaffFactory(role="officer")
    device, code = issue_backup_code(officer)
    client = Client()
    response = client.post(
        "/admin/login/",
        {"username": officer.username, "password": "staff-pass-123", "otp_device": device, "otp_token": code},
    )
    assert response.status_code == 302
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_serious_violation_on_the_main_back_office_pages(
    browser, live_server, transactional_db, faceid, language
):
    user = BorrowerFactory(phone="+8613700137000")
    identity_verify(actor=user, real_name="李四", id_number="310101198506152345")
    change = phone_lost_start(
        phone="+8613700137000",
        password="borrower-pass-123",
        real_name="李四",
        id_number="310101198506152345",
        new_phone="+8613600136000",
    )
    phone_lost_face_wait(change=change)
    case = face_check(change, faceid)  # the lost-phone case with the face check's result
    context = context_for(browser, live_server, language, DESKTOP)
    found = checked(context, ["/admin/login/"])
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": staff_session(live_server), "url": live_server.url}]
    )
    found += checked(
        context,
        [
            "/admin/",
            "/admin/audit/reviewcase/",
            f"/admin/audit/reviewcase/{case.pk}/change/",
            "/admin/audit/riskalert/",
            "/admin/audit/auditevent/",
            "/admin/accounts/user/",
            "/admin/cards/card/",
            "/admin/lending/loan/",
        ],
    )
    context.close()
    assert not found, "\n".join(found)
