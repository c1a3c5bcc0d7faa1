from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from audit.context import system_job
from audit.models import NotificationSent
from lending.celery import RETRYING
from lending.db import advisory_xact_lock
from support import selectors
from support.models import SupportCase
from support.services import support_cases_escalate


@shared_task(**RETRYING)
def notify_support_escalated(case_id: int) -> int:
    """Email support staff and officers about an overdue request, once each."""
    case = SupportCase.objects.get(pk=case_id)
    link = settings.SITE_URL + reverse("admin:support_supportcase_change", args=[case.pk])
    sent = 0
    for person in selectors.support_staff().exclude(email=""):
        key = f"support-{case.pk}-escalated-{person.pk}"
        with transaction.atomic():
            advisory_xact_lock(key)
            if NotificationSent.objects.filter(key=key).exists():
                continue
            with translation.override(person.language):
                subject = _("Help request #%(case)s is overdue") % {"case": case.pk}
                body = _("Help request #%(case)s (%(category)s) is past its deadline: %(link)s") % {
                    "case": case.pk,
                    "category": case.get_category_display(),
                    "link": link,
                }
            send_mail(subject, body, None, [person.email])
            NotificationSent.objects.create(key=key)
        sent += 1
    return sent


@shared_task
def escalate_overdue_support_cases() -> int:
    with system_job("support-escalation"):
        return support_cases_escalate()
