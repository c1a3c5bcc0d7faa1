"""Identity checks per client IP (IDENTITY_CHECKS_PER_IP_DAY): past the limit the provider is
not asked and the refusal says when to try again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Identity
from accounts.services import IdentityLimitReached, IdentityRefused, identity_verify
from accounts.tests import identity_numbers as ids
from accounts.tests.factories import BorrowerFactory
from audit.context import RequestContext, bound_request
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

IP, OTHER_IP = "203.0.113.7", "198.51.100.9"
NUMBERS = ["110105199003071239", "110105199003072012"]


def verify(number, ip=IP, **kwargs):
    with bound_request(RequestContext(request_id="r", ip=ip)):
        return identity_verify(actor=BorrowerFactory(), real_name="张三", id_number=number, **kwargs)


def test_past_the_limit_the_provider_is_not_asked_and_the_refusal_says_when(faceid, settings):
    settings.IDENTITY_CHECKS_PER_IP_DAY = 2
    first_at = timezone.now()
    verify(NUMBERS[0])
    with pytest.raises(IdentityRefused, match="do not match"):
        verify(ids.MISMATCH)  # a mismatch is a check too
    with pytest.raises(IdentityLimitReached, match="Try again after") as refused:
        verify(NUMBERS[1])
    assert refused.value.code == "too_many_checks_ip"
    assert first_at < refused.value.retry_at - timedelta(days=1) < timezone.now()
    assert len(faceid.calls("IdCardVerification")) == 2
    assert Identity.objects.count() == 1
    event = AuditEvent.objects.get(action="identity.refused")
    assert (event.ip, event.data["why"], event.data["id_number"]) == (
        IP,
        "too_many_checks_ip",
        "110***********2012",
    )
    assert AuditEvent.objects.filter(action="identity.check_requested", ip=IP).count() == 2

    verify(NUMBERS[1], ip=OTHER_IP)  # another network is not held back
    assert Identity.objects.count() == 2


def test_refusals_before_the_check_are_not_counted(faceid, settings):
    settings.IDENTITY_CHECKS_PER_IP_DAY = 1
    verify(NUMBERS[0])
    with pytest.raises(IdentityRefused, match="another account"):
        verify(NUMBERS[0])  # refused without asking the provider
    assert AuditEvent.objects.filter(action="identity.check_requested").count() == 1


def test_the_identity_page_says_when_to_try_again(faceid, settings, sign_in):
    settings.IDENTITY_CHECKS_PER_IP_DAY = 0
    client = sign_in(BorrowerFactory())
    page = client.post(
        "/accounts/identity/",
        {"real_name": "张三", "id_number": NUMBERS[0]},
        REMOTE_ADDR=IP,
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert "Too many identity checks were made from your network today. Try again after" in page
    assert not faceid.calls() and not Identity.objects.exists()
