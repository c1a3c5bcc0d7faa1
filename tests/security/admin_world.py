"""A back office with a row in every admin table worth opening, and a snapshot of all rows."""

from django.apps import apps
from django.contrib import admin
from django.db import transaction
from django.test import override_settings

from accounts.services import account_freeze, phone_change_start
from accounts.tests.factories import StaffFactory
from audit.actions import Action
from audit.models import AuditExport
from audit.services import audit_block_seal, audit_export_request, record, risk_scan
from conftest import FIRST_DUE


def build(bind, borrower, make_loan):
    """Cards, mandates, a bank notice, a loan and its debit attempts, a phone change, a review case,
    a risk alert, a help request, an account closure, an export, a staff member's TOTP device,
    texts, events and a sealed block. The borrower ends frozen, so their row differs from its
    first recorded version."""
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from cards.models import BankNotice
    from lending.services import loans_collect
    from privacy.models import AccountClosure
    from support.services import support_case_open

    bind(borrower)
    loan = make_loan(borrower)
    loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)
    phone_change_start(actor=borrower)
    with transaction.atomic():
        record(action=Action.IDENTITY_REFUSED, actor=borrower, subject=borrower)
    BankNotice.objects.create(notice_id="n_world", kind=BankNotice.Kind.AGREEMENT_ENDED, note="x")
    risk_scan()  # the refused identity raises an alert
    support_case_open(actor=borrower, category="card", message="is this card mine?")
    AccountClosure.objects.create(user=borrower, effective_at=timezone.now())
    account_freeze(actor=borrower, user=borrower, reason="reported by the borrower")  # opens a case
    auditor = StaffFactory(role="auditor")
    TOTPDevice.objects.create(user=auditor, name="phone")  # its page shows the secret: superusers only
    audit_export_request(actor=auditor, spec=_spec())
    with override_settings(AUDIT_SEAL_DELAY_SECONDS=-1):
        audit_block_seal()
    return AuditExport.objects.get()


def _spec():
    from django.utils import timezone

    from audit.exporting.spec import ExportSpec

    today = timezone.localdate()
    return ExportSpec(sources=("events",), date_from=today, date_to=today)


def registered():
    """(model, model admin) for every table in the back office."""
    return list(admin.site._registry.items())


def snapshot(*, events=True) -> dict:
    """Every row of every registered model, as values: a refused request must leave it equal.

    ``events=False`` leaves the audit trail out (opening a record or signing in adds to it)."""
    rows = {}
    for model, _model_admin in registered():
        if events or model._meta.label != "audit.AuditEvent":
            rows[model._meta.label] = list(model._base_manager.order_by("pk").values())
    for label in ("auth.Group", "auth.Permission"):
        rows[label] = list(apps.get_model(label).objects.order_by("pk").values_list("pk", flat=True))
    return rows


def changed_tables(before: dict, *, events=True) -> list[str]:
    """Which tables differ from ``before`` (names only: a diff of the rows would print phone numbers)."""
    after = snapshot(events=events)
    return sorted(label for label in before.keys() | after.keys() if before.get(label) != after.get(label))
