"""The privacy centre (privacy.views as JSON): consents and their withdrawal, a copy of one's
data (asked with the password typed again and a code, built by a task, downloaded once), and
closing the account.

Closing ends every session and device token, as on the pages; signing in again during the
cooling-off period cancels it (api.routes.auth.sign_in_verify, as the web sign-in does).
"""

from django.conf import settings
from django.http import Http404, StreamingHttpResponse
from django.template import TemplateDoesNotExist
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from ninja import Router, Status

from accounts.models import Consent, SmsCode
from accounts.policies import current_policy, policy_version
from api import present
from api.auth import require_recent_password
from api.routes.auth import ERRORS, valid
from api.schemas import (
    ClosureIn,
    ClosureOut,
    ClosureStatusOut,
    CodeIn,
    CodeSent,
    ConsentDetail,
    ConsentList,
    ConsentOut,
    DataCopyList,
    DataCopyOut,
    ObjectId,
)
from privacy import selectors
from privacy.forms import ClosureForm, CodeForm
from privacy.models import DataCopy
from privacy.services import (
    account_closure_request,
    closure_blockers,
    consent_give,
    consent_withdraw,
    data_copy_download,
    data_copy_request,
    pending_closure,
    privacy_code_send,
)

router = Router(tags=["privacy"])
Purpose = SmsCode.Purpose


def _own(select, user, object_id):
    try:
        return select(user, object_id)
    except (Consent.DoesNotExist, DataCopy.DoesNotExist):
        raise Http404 from None


def _closure(closure) -> dict:
    when = formats.date_format(timezone.localtime(closure.effective_at), "DATETIME_FORMAT")
    return {
        "status": closure.status,
        "status_display": str(closure.get_status_display()),
        "requested_at": closure.requested_at,
        "effective_at": closure.effective_at,
        "detail": _(
            "Your account will be closed on %(when)s. You are signed out. To cancel, sign in before then."
        )
        % {"when": when},
    }


@router.get("/consents", response={200: ConsentList, **ERRORS})
def consents(request):
    return {"items": [present.consent(item) for item in selectors.consents_of(request.auth.user)]}


@router.post("/consents/marketing", response={201: ConsentOut, **ERRORS})
def marketing_give(request):
    """Agree to hear about products and offers (the one consent given here; withdraw it by id)."""
    return Status(
        201, present.consent(consent_give(actor=request.auth.user, policy=current_policy("marketing")))
    )


@router.get("/consents/{id:consent_id}", response={200: ConsentDetail, **ERRORS})
def consent(request, consent_id: ObjectId):
    """One consent with the text agreed to, in the language it was agreed in."""
    item = _own(selectors.consent_of, request.auth.user, consent_id)
    try:
        text = policy_version(item.document, item.version, item.language).text
    except TemplateDoesNotExist:  # a version no longer held: the consent still shows
        text = None
    return {**present.consent(item), "text": text}


@router.post("/consents/{id:consent_id}/withdraw", response={200: ConsentOut, **ERRORS})
def consent_withdraw_view(request, consent_id: ObjectId):
    """Withdraw a consent (marketing, biometrics); the others end with what they authorise."""
    user = request.auth.user
    item = _own(selectors.consent_of, user, consent_id)
    consent_withdraw(actor=user, consent=item)
    return present.consent(selectors.consent_of(user, consent_id))


@router.get("/copies", response={200: DataCopyList, **ERRORS})
def copies(request):
    """The latest copies asked for (five at most), newest first."""
    return {"items": [present.data_copy(copy) for copy in selectors.copies_of(request.auth.user)]}


@router.post("/copies/code", response={200: CodeSent, **ERRORS})
def copy_code(request):
    require_recent_password(request)
    user = request.auth.user
    privacy_code_send(actor=user, purpose=Purpose.DATA_COPY)
    return present.code_sent(user)


@router.post("/copies", response={201: DataCopyOut, **ERRORS})
def copy_request(request, payload: CodeIn):
    """Ask for a copy of your data: it is built in the background (follow its percent)."""
    require_recent_password(request)
    code = valid(CodeForm({"code": payload.code}))["code"]
    return Status(201, present.data_copy(data_copy_request(actor=request.auth.user, code=code)))


@router.get("/copies/{id:copy_id}", response={200: DataCopyOut, **ERRORS})
def copy_status(request, copy_id: ObjectId):
    return present.data_copy(_own(selectors.copy_of, request.auth.user, copy_id))


@router.post(
    "/copies/{id:copy_id}/download",
    response={200: bytes, **ERRORS},
    openapi_extra={"responses": {200: {"content": {"application/zip": {}}}}},
)
def copy_download(request, copy_id: ObjectId):
    """The zip, once (then it is deleted). Streamed, so no copy of it is kept for a retry."""
    user = request.auth.user
    copy = _own(selectors.copy_of, user, copy_id)
    content = data_copy_download(actor=user, copy=copy)
    response = StreamingHttpResponse(iter([content]), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="my-data-{copy.pk}.zip"'
    return response


@router.get("/closure", response={200: ClosureStatusOut, **ERRORS})
def closure(request):
    """What stands in the way of closing the account, and a closure under way."""
    user = request.auth.user
    pending = pending_closure(user)
    return {
        "blockers": [str(why) for why in closure_blockers(user)],
        "cooling_off_days": settings.CLOSURE_COOLING_OFF_DAYS,
        "pending": _closure(pending) if pending else None,
    }


@router.post("/closure/code", response={200: CodeSent, **ERRORS})
def closure_code(request):
    require_recent_password(request)
    user = request.auth.user
    privacy_code_send(actor=user, purpose=Purpose.ACCOUNT_CLOSE)
    return present.code_sent(user)


@router.post("/closure", response={201: ClosureOut, **ERRORS})
def closure_request(request, payload: ClosureIn):
    """Ask to close the account: refused while a loan or a request is open (saying which); else
    the cooling-off period starts and this device, like every other, is signed out."""
    require_recent_password(request)
    data = valid(
        ClosureForm({"password": payload.password, "code": payload.code, "understood": payload.understood})
    )
    found = account_closure_request(actor=request.auth.user, password=data["password"], code=data["code"])
    return Status(201, _closure(found))
