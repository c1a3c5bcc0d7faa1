"""A back office with a row in every admin table worth opening, and a snapshot of all rows."""

from django.apps import apps
from django.contrib import admin

from accounts.services import account_freeze
from accounts.tests.factories import StaffFactory
from audit.models import AuditExport
from audit.services import audit_export_request
from conftest import FIRST_DUE


def build(bind, borrower, make_loan):
    """Cards, mandates, a loan and its debit attempts, a review case, an export, texts, events."""
    from lending.services import loans_collect

    bind(borrower)
    loan = make_loan(borrower)
    loans_collect(loan_ids=[loan.pk], day=FIRST_DUE)
    account_freeze(actor=borrower, user=borrower, reason="reported by the borrower")  # opens a case
    auditor = StaffFactory(role="auditor")
    audit_export_request(actor=auditor, spec=_spec())
    return AuditExport.objects.get()


def _spec():
    from django.utils import timezone

    from audit.exporting.spec import ExportSpec

    today = timezone.localdate()
    return ExportSpec(sources=("events",), date_from=today, date_to=today)


def registered():
    """(model, model admin) for every table in the back office."""
    return list(admin.site._registry.items())


def snapshot() -> dict:
    """Every row of every registered model, as values: a refused request must leave it equal."""
    rows = {}
    for model, _model_admin in registered():
        rows[model._meta.label] = list(model._base_manager.order_by("pk").values())
    for label in ("auth.Group", "auth.Permission"):
        rows[label] = list(apps.get_model(label).objects.order_by("pk").values_list("pk", flat=True))
    return rows
