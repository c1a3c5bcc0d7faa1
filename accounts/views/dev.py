from django.conf import settings
from django.http import Http404
from django.shortcuts import render

from accounts.models import SmsMessage


def sms_inbox(request):
    """Development only (DEBUG): the texts the platform sent, newest first, to read codes in a browser."""
    if not settings.DEBUG:
        raise Http404
    messages = SmsMessage.objects.exclude(status=SmsMessage.Status.WITHHELD).order_by("-id")[:50]
    return render(request, "accounts/dev_sms.html", {"sms_messages": messages})
