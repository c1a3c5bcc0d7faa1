"""The hot queries have an index that fits them: with sequential scans priced out, PostgreSQL's
plan for each reads the table through the index named here, never a scan of the whole table.
(Run with -s to see the plans.) Timings at scale are bench/ matters; this guards the indexes."""

from datetime import date, timedelta

import pytest
from django.contrib.admin import site
from django.db import connection, transaction
from django.utils import timezone

from audit.admin import AuditEventAdmin
from audit.models import AuditEvent, ReviewCase, open_cases_first
from lending.services.collection import due_installments, installments_overdue

pytestmark = pytest.mark.django_db


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        text = "\n".join(row[0] for row in cursor.fetchall())
    print(f"\n{sql}\n{text}")
    return text


def admin_search(model_admin, model, term: str):
    """The rows the admin's search box finds for ``term``."""
    return model_admin(model, site).get_search_results(None, model.objects.all(), term)[0]


NOW = timezone.now()
HOT = {
    "anomaly scan": (
        lambda: AuditEvent.objects.filter(
            action__in=["card.unbound", "phone_change.completed"], occurred_at__gte=NOW - timedelta(minutes=5)
        ),
        "audit_event_action_idx",
    ),
    "audit list": (lambda: AuditEvent.objects.order_by("-id")[:100], "audit_auditevent_pkey"),
    "audit list by action": (
        lambda: AuditEvent.objects.filter(action="card.bound", occurred_at__gte=NOW - timedelta(days=7)),
        "audit_event_action_idx",
    ),
    "audit list by actor": (
        lambda: AuditEvent.objects.filter(actor_label="138****8000").order_by("-occurred_at")[:100],
        "audit_event_actor_label_idx",
    ),
    "audit list by subject id": (
        lambda: AuditEvent.objects.filter(subject_id="42")[:100],
        "audit_event_subject_id_idx",
    ),
    "audit list by request": (lambda: AuditEvent.objects.filter(request_id="abc"), "audit_event_request_idx"),
    "audit list search by request id": (
        lambda: admin_search(AuditEventAdmin, AuditEvent, "abc"),
        "audit_event_request_idx",
    ),
    "review queue": (
        lambda: ReviewCase.objects.filter(status="open").order_by("opened_at")[:100],
        "review_case_queue_idx",
    ),
    "review queue, open first then oldest": (
        lambda: ReviewCase.objects.order_by(open_cases_first().asc(), "opened_at", "-pk")[:100],
        "review_case_order_idx",
    ),
    # Which index serves it depends on the statistics (loans first, or installments): no full scan.
    "due installments": (lambda: due_installments(date(2026, 12, 15)), None),
    "installments to mark overdue": (lambda: installments_overdue(date(2026, 12, 15)), None),
}


@pytest.mark.parametrize("name", HOT)
def test_hot_queries_use_their_index(name):
    build, index = HOT[name]
    text = plan(build())
    assert "Seq Scan" not in text, f"{name}: a whole table is read\n{text}"
    assert index is None or index in text, f"{name}: {index} not used\n{text}"
