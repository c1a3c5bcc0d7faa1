"""Help requests (support.views as JSON): open one, list one's own, read one with its messages
(never the internal notes), reply (a resolved request opens again)."""

from django.http import Http404
from ninja import Query, Router, Status

from api import present
from api.routes.auth import ERRORS, valid
from api.schemas import HelpReplyIn, HelpRequestDetail, HelpRequestIn, HelpRequestPage, ObjectId
from support import selectors
from support.forms import HelpRequestForm, ReplyForm
from support.models import SupportCase
from support.services import support_case_borrower_reply, support_case_open

router = Router(tags=["help"])


def _own_case(user, case_id: int) -> SupportCase:
    try:
        return selectors.case_of(user, case_id)
    except SupportCase.DoesNotExist:
        raise Http404 from None


def _detail(case: SupportCase) -> dict:
    thread = selectors.borrower_messages(case)
    return {**present.help_request(case), "messages": [present.help_message(m) for m in thread]}


@router.get("", response={200: HelpRequestPage, **ERRORS})
def help_requests(request, cursor: str | None = None, limit: int = Query(20, ge=1, le=100)):
    cases = selectors.cases_of(request.auth.user).select_related("card")
    return present.cursor_page(cases, cursor=cursor, limit=limit, present=present.help_request)


@router.post("", response={201: HelpRequestDetail, **ERRORS})
def help_request_open(request, payload: HelpRequestIn):
    """Open a help request (or a complaint), optionally about one of your cards or loans."""
    data = valid(HelpRequestForm(payload.dict()))
    case = support_case_open(actor=request.auth.user, **data)
    return Status(201, _detail(case))


@router.get("/{id:case_id}", response={200: HelpRequestDetail, **ERRORS})
def help_request(request, case_id: ObjectId):
    return _detail(_own_case(request.auth.user, case_id))


@router.post("/{id:case_id}/reply", response={201: HelpRequestDetail, **ERRORS})
def help_request_reply(request, case_id: ObjectId, payload: HelpReplyIn):
    user = request.auth.user
    case = _own_case(user, case_id)
    text = valid(ReplyForm({"text": payload.text}))["text"]
    support_case_borrower_reply(actor=user, case=case, text=text)
    return Status(201, _detail(_own_case(user, case_id)))
