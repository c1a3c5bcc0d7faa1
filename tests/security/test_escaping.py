"""Markup in every text people or outside data put on a page is shown as text, never run: officers'
reasons and notes, a borrower's freeze reason, the borrower's name, bank names from the BIN table,
the browser's User-Agent and a ``next`` parameter. Each one is checked where it is rendered (back
office, portal, the texts of notifications), escaped, and the raw tag appears on no page at all.
"""

import dataclasses

import markupsafe
import pytest
from django.test import Client
from django.utils.html import escape

from accounts.models import Identity
from accounts.services import account_freeze
from accounts.tests.factories import BorrowerFactory, StaffFactory
from audit.models import ReviewCase, RiskAlert
from audit.services import review_case_decide, risk_alert_acknowledge
from cards import bins
from cards.models import Card, CardBindRequest
from cards.tests import sandbox_cards
from lending.models import Installment, Loan
from lending.services import installment_retry
from tests.security import admin_world
from tests.security.routes import portal_routes

pytestmark = pytest.mark.django_db

# One marker per source, so each is found where it belongs. No quotes inside the tags: the audit
# trail shows its data as JSON, which would escape them once more.
REASON = "<script>alert(101)</script>"  # an officer's decision: the case page, the borrower's inbox
FREEZE = "<img src=x onerror=alert(102)>"  # typed by the borrower when freezing
RETRY = "<script>alert(103)</script>"  # an officer's note on a debit retry (kept in the audit trail)
NOTE = "<img src=x onerror=alert(104)>"  # an officer's note on a risk alert
NAME = "<img src=x onerror=alert(105)>"  # the borrower's name (the form refuses it: stored directly)
BANK = "<script>alert(106)</script>"  # a bank name in the BIN table
AGENT = "<img src=x onerror=alert(107)>"  # the browser's User-Agent header
NEXT = '/accounts/"><img src=x onerror=alert(108)>'  # breaks out of the hidden input it is echoed in
RAW = ("<script>alert(", "<img src=x onerror")

PORTAL_SKIPPED = ("healthz", "i18n", "dev/", "accounts/logout")


@pytest.fixture
def bank_named_with_markup(monkeypatch):
    """The BIN table names the sandbox's usual bank with markup, in both languages."""
    table = dict(bins._table())
    entry = table[sandbox_cards.GOOD_DEBIT[:6]]
    table[entry.bin] = dataclasses.replace(entry, bank_zh=BANK, bank_en=BANK)
    monkeypatch.setattr(bins, "_table", lambda: table)


def admin_pages(client) -> dict[str, str]:
    """Every list, and every record's page and history, in the back office."""
    pages = {}
    for model, _model_admin in admin_world.registered():
        listing = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        urls = [listing]
        for pk in model._base_manager.values_list("pk", flat=True)[:200]:
            urls += [f"{listing}{pk}/change/", f"{listing}{pk}/history/"]
        for url in urls:
            pages[url] = client.get(url, follow=True).content.decode()
    return pages


def portal_pages(client, objects: dict) -> dict[str, str]:
    """Every portal page the borrower can open (object pages for the ids in ``objects``)."""
    pages = {}
    for route, parameters in portal_routes():
        if route.startswith(PORTAL_SKIPPED) or set(parameters) - set(objects):
            continue
        url = "/" + route
        for name in parameters:
            url = url.replace(f"<id:{name}>", str(objects[name]))
        pages[url] = client.get(url).content.decode()
    return pages


def found(marker, pages: dict) -> list[str]:
    return [url for url, body in pages.items() if escape(marker) in body]


def test_markup_from_people_and_outside_data_is_escaped_everywhere(
    bank_named_with_markup, bind, borrower, make_loan, admin_login, sign_in, client
):
    admin_world.build(bind, borrower, make_loan)  # a frozen borrower: the unfreeze case is open
    officer = StaffFactory(role="officer")
    case = ReviewCase.objects.get()
    review_case_decide(actor=officer, case_id=case.pk, verdict="reject", reason=REASON)
    other = BorrowerFactory(phone="+8613900139001")
    account_freeze(actor=other, user=other, reason=FREEZE)  # (the world's borrower is frozen already)
    unpaid = Installment.objects.exclude(status="paid").first()
    installment_retry(actor=officer, installment_id=unpaid.pk, note=RETRY)
    risk_alert_acknowledge(actor=officer, alert=RiskAlert.objects.get(), note=NOTE)
    Identity.objects.filter(user=borrower).update(real_name=NAME)

    borrower.refresh_from_db()  # freezing ended the sessions of the copy the world was built with
    portal = sign_in(borrower, reauthenticated=False)
    response = portal.post(
        "/accounts/confirm-password/", {"password": "borrower-pass-123"}, HTTP_USER_AGENT=AGENT
    )
    assert response.status_code == 302  # re-authenticated, and recorded with the browser's name
    objects = {
        "card_id": Card.objects.get().pk,
        "loan_id": Loan.objects.get().pk,
        "request_id": CardBindRequest.objects.get().pk,
    }
    portal_html = portal_pages(portal, objects)
    opened = [
        "/accounts/",
        "/accounts/identity/",
        "/accounts/security/",
        "/notifications/",
        "/cards/",
        "/loans/",
    ]
    assert all(
        'action="/accounts/logout/"' in portal_html[url] for url in opened
    )  # signed in, not redirected
    portal_html["/accounts/confirm-password/?next="] = portal.get(
        "/accounts/confirm-password/", {"next": NEXT}
    ).text

    staff = admin_login(StaffFactory(is_superuser=True))
    admin_html = admin_pages(staff)
    reveal = f"/admin/accounts/identity/{Identity.objects.get().pk}/reveal/real_name/"
    admin_html[reveal] = staff.post(reveal).content.decode()
    admin_html["/admin/login/?next="] = Client().get("/admin/login/", {"next": NEXT}).content.decode()
    portal_html["/accounts/login/?next="] = Client().get("/accounts/login/", {"next": NEXT}).content.decode()

    pages = {**admin_html, **portal_html}
    assert [url for url, body in pages.items() if any(raw in body for raw in RAW)] == []
    for marker, shown_in_admin, shown_in_portal in [
        (REASON, True, True),  # the inbox: "keeps it frozen: <reason>"
        (FREEZE, True, False),
        (RETRY, True, False),
        (NOTE, True, False),
        (NAME, True, True),  # the reveal page; the borrower's own home, identity and card pages
        (BANK, True, True),  # card lists and pages, the "card bound" notification
        (AGENT, True, False),  # the event in the back office; the portal shows a parsed device name
    ]:
        assert bool(found(marker, admin_html)) == shown_in_admin, marker
        assert bool(found(marker, portal_html)) == shown_in_portal, marker
    assert found(BANK, {u: b for u, b in portal_html.items() if u.startswith("/notifications/")})
    # The attribute is not broken out of: the quote is escaped, as &#34; by the portal's Jinja2,
    # as &quot; by the back office's Django templates.
    for url, escaped in [
        ("/accounts/login/?next=", markupsafe.escape(NEXT)),
        ("/accounts/confirm-password/?next=", markupsafe.escape(NEXT)),
        ("/admin/login/?next=", escape(NEXT)),
    ]:
        assert escaped in pages[url], url
