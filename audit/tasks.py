import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from audit import reviews, selectors
from audit.checkpoint import checkpoint_write
from audit.context import system_job
from audit.models import NotificationSent, ReviewCase
from audit.services import (
    audit_events_seal,
    audit_export_run,
    review_cases_escalate,
    review_cases_expire,
    risk_scan,
)
from lending.celery import RETRYING
from lending.db import advisory_xact_lock

logger = logging.getLogger(__name__)


@shared_task(**RETRYING)
def notify_officers(case_id: int, event: str) -> int:
    """Email every officer about a new ("opened") or overdue ("escalated") case, once each.

    A retried task skips the officers already emailed; an officer without an email address
    still sees the case as new in the admin.
    """
    case = ReviewCase.objects.get(pk=case_id)
    link = settings.SITE_URL + reverse("admin:audit_reviewcase_change", args=[case.pk])
    kind = reviews.get(case.kind).label
    sent = 0
    for officer in selectors.officers().exclude(email=""):
        key = f"case-{case.pk}-{event}-{officer.pk}"
        with transaction.atomic():
            advisory_xact_lock(key)
            if NotificationSent.objects.filter(key=key).exists():
                continue
            with translation.override(officer.language):
                context = {"case": case, "kind": kind, "link": link}
                subject = render_to_string(f"email/review_case_{event}_subject.txt", context).strip()
                body = render_to_string(f"email/review_case_{event}.txt", context)
            send_mail(subject, body, None, [officer.email])
            NotificationSent.objects.create(key=key)
        sent += 1
    return sent


@shared_task
def escalate_overdue_cases() -> int:
    with system_job("review-escalation"):
        return review_cases_escalate()


@shared_task
def expire_stale_cases() -> int:
    with system_job("review-expiry"):
        return review_cases_expire()


@shared_task
def scan_risk() -> int:
    with system_job("risk-scan"):
        return len(risk_scan())


@shared_task
def seal_audit_events() -> int:
    """Beat, every minute: seal the audit events old enough into hash-chained blocks."""
    return audit_events_seal()


@shared_task
def write_audit_checkpoint() -> str:
    """Beat, daily: a signed checkpoint of the chain head (nothing without AUDIT_SIGNING_KEY)."""
    if not settings.AUDIT_SIGNING_KEY:
        logger.error("audit checkpoint not written: AUDIT_SIGNING_KEY is not set")
        return ""
    audit_events_seal()
    path = checkpoint_write()
    return str(path or "")


@shared_task(soft_time_limit=3300, time_limit=3400)
def run_audit_export(export_id: int) -> str:
    """An auditor's large export. Redelivered after a killed worker, it starts over cleanly.

    Its time limit stays under the broker's visibility timeout (3600 s), so a long export is
    never handed to a second worker while the first still writes it.
    """
    with system_job("audit-export"):
        export = audit_export_run(export_id=export_id)
    return export.status if export else "settled already"
