"""The endpoint the bank posts its notices to (sandboxes/bank/PROTOCOL.md section 7).

The bank is not a browser: no session, no CSRF token; the signature is the authentication. A
notice is acknowledged only once it is stored in a committed transaction; anything refused gets
the protocol's error body and a 4xx, changes nothing, and is logged (with the code, never the
body) so refusals can be counted.
"""

import logging

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cards import bank_protocol
from cards.services.notices import NoticeMalformed, bank_notice_store

logger = logging.getLogger(__name__)

REFUSAL_STATUS = {"too_large": 413, "malformed": 400}  # every other refusal is the signature's: 401


def _refused(code: str, request) -> JsonResponse:
    logger.warning("bank notice refused: %s (from %s)", code, request.META.get("REMOTE_ADDR", ""))
    error = {"error": {"code": code, "message": "notice refused"}}
    return JsonResponse(error, status=REFUSAL_STATUS.get(code, 401))


@csrf_exempt
@require_POST
def bank_notices(request):
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _refused("malformed", request)
    if length > bank_protocol.NOTICE_MAX_BYTES:  # refused before the body is read
        return _refused("too_large", request)
    try:
        notice = bank_protocol.notice_verify(
            target=request.get_full_path(), headers=request.headers, body=request.body
        )
        bank_notice_store(notice=notice)
    except bank_protocol.SignatureRefused as refused:
        return _refused(refused.code, request)
    except NoticeMalformed:
        return _refused("malformed", request)
    except (ImproperlyConfigured, OSError, ValueError):  # BANK_PUBLIC_KEY unset or unreadable
        logger.exception("bank notices cannot be checked: the bank's public key does not load")
        error = {"error": {"code": "bank_error", "message": "notice not processed, send it again"}}
        return JsonResponse(error, status=503)
    # bank_notice_store's transaction has committed here (the project has no ATOMIC_REQUESTS).
    return HttpResponse(bank_protocol.notice_ack(notice["notice_id"]), content_type="application/json")
