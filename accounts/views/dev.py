from django.conf import settings
from django.http import Http404
from django.shortcuts import render

from accounts.models import SmsMessage


def sms_inbox(request):
    """Development only (DEBUG): the texts the platform sent, newest first, to read codes in a browser.

    The bank's codes for binding a card come from the bank itself, as in production: the page
    links to the sandbox bank's own texts page."""
    if not settings.DEBUG:
        raise Http404
    messages = SmsMessage.objects.exclude(status=SmsMessage.Status.WITHHELD).order_by("-id")[:50]
    bank_texts = f"{settings.BANK_HTTP_URL}/sms/" if settings.BANK_HTTP_URL else ""
    return render(request, "accounts/dev_sms.html", {"sms_messages": messages, "bank_texts": bank_texts})
