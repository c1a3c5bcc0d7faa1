"""Markup typed by people (officers' notes and reasons, a borrower's freeze reason) is shown as
text on every back-office and portal page, never run: the raw tag appears nowhere."""

import pytest

from accounts.services import account_freeze
from accounts.tests.factories import StaffFactory
from audit.models import ReviewCase, RiskAlert
from audit.services import review_case_decide, risk_alert_acknowledge
from lending.models import Installment
from lending.services import installment_retry
from tests.security import admin_world
from tests.security.routes import portal_routes

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(1)>'
RAW = (SCRIPT, "<img src=x onerror")


def test_markup_in_notes_and_reasons_is_escaped_everywhere(bind, borrower, make_loan, admin_login, sign_in):
    admin_world.build(bind, borrower, make_loan)  # a frozen borrower: the case is open
    officer = StaffFactory(role="officer")
    case = ReviewCase.objects.get()
    review_case_decide(actor=officer, case_id=case.pk, verdict="reject", reason=f"no {SCRIPT}")
    account_freeze(actor=borrower, user=borrower, reason=f"lost {IMAGE}")
    installment_retry(
        actor=officer,
        installment_id=Installment.objects.exclude(status="paid").first().pk,
        note=f"again {SCRIPT}",
    )
    alert = RiskAlert.objects.get()  # raised while the world was built
    risk_alert_acknowledge(actor=officer, alert=alert, note=f"on it {IMAGE}")

    client = admin_login(StaffFactory(is_superuser=True))
    pages = []
    for model, _model_admin in admin_world.registered():
        listing = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        pages.append(listing)
        pages += [f"{listing}{pk}/change/" for pk in model._base_manager.values_list("pk", flat=True)[:5]]
    escaped = 0
    for url in pages:
        body = client.get(url, follow=True).content.decode()
        assert not any(raw in body for raw in RAW), url
        escaped += "&lt;script&gt;" in body or "&quot;&gt;&lt;img" in body
    assert escaped >= 3  # the reasons and notes were on the pages, as text

    portal = sign_in(borrower)
    for route, parameters in portal_routes():
        if not parameters and not route.startswith(("healthz", "i18n", "dev/", "accounts/logout")):
            body = portal.get("/" + route).content.decode()
            assert not any(raw in body for raw in RAW), route
