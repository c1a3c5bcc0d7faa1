"""Every state change of help requests, one function each (DESIGN.md section 7)."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services.codes import Purpose, sms_code_send, sms_code_verify
from accounts.services.notifications import notification_create
from accounts.services.sms import sms_queue
from audit.actions import Action
from audit.context import current_request
from audit.models import AuditEvent, ReviewCase
from audit.risk import Assessment, Reason
from audit.services import record, review_case_open
from audit.sla import add_working_hours
from cards.models import Card
from lending.crypto import encrypt, fingerprint
from lending.errors import DomainError
from lending.models import Loan
from lending.outbox import outbox_enqueue
from lending.pii import mask_phone, redact
from support.models import SupportCase, SupportMessage

Kind = SupportMessage.Kind
Status = SupportCase.Status
REVIEW_KIND = "support_request"
MESSAGE_MAX = 2000


class SupportRefused(DomainError):
    code = "support_refused"


def _clean(text: str) -> str:
    text = redact((text or "").strip()[:MESSAGE_MAX])  # cut, then mask: a cut could free a number
    if not text:
        raise SupportRefused(_("Write your message."), code="empty")
    return text


def _deadlines(now, is_complaint: bool) -> dict:
    first, resolve = (
        (settings.SUPPORT_COMPLAINT_FIRST_ANSWER_HOURS, settings.SUPPORT_COMPLAINT_RESOLVE_HOURS)
        if is_complaint
        else (settings.SUPPORT_FIRST_ANSWER_HOURS, settings.SUPPORT_RESOLVE_HOURS)
    )
    return {
        "first_answer_due_at": add_working_hours(now, first),
        "resolve_due_at": add_working_hours(now, resolve),
    }


def _ensure_within_limits(borrower: User | None) -> None:
    """Floods refused: per borrower per day, and per client IP per hour."""
    now = timezone.now()
    if borrower is not None:
        recent = SupportCase.objects.filter(borrower=borrower, opened_at__gte=now - timedelta(days=1))
        if recent.count() >= settings.SUPPORT_REQUESTS_PER_DAY:
            raise SupportRefused(
                _("You have opened many help requests today. Add to an open one, or try again tomorrow."),
                code="too_many",
            )
    context = current_request()
    if context and context.ip:
        from_ip = AuditEvent.objects.filter(
            action=Action.SUPPORT_CASE_OPENED, ip=context.ip, occurred_at__gte=now - timedelta(hours=1)
        )
        if from_ip.count() >= settings.SUPPORT_REQUESTS_PER_IP_HOUR:
            raise SupportRefused(
                _("Too many help requests from here. Try again in an hour."), code="too_many"
            )


def _refused(actor, borrower, exc: SupportRefused) -> SupportRefused:
    with transaction.atomic():
        record(action=Action.SUPPORT_CASE_REFUSED, actor=actor, subject=borrower, data={"why": exc.code})
    return exc


def _create(*, actor, borrower, contact_phone, category, is_complaint, message, signed_out, **about):
    if category not in SupportCase.Category.values:
        raise SupportRefused(_("Choose what your request is about."), code="category")
    body = _clean(message)
    now = timezone.now()
    case = SupportCase(
        borrower=borrower,
        contact_phone_encrypted=encrypt(str(contact_phone)) if contact_phone else "",
        contact_phone_masked=mask_phone(contact_phone) if contact_phone else "",
        category=category,
        is_complaint=bool(is_complaint),
        signed_out=signed_out,
        opened_at=now,
        **_deadlines(now, bool(is_complaint)),
        **about,
    )
    case._change_reason = "opened"
    case.save()
    SupportMessage.objects.create(case=case, kind=Kind.BORROWER, author=borrower, body=body, created_at=now)
    record(
        action=Action.SUPPORT_CASE_OPENED,
        actor=actor,
        subject=case,
        data={"category": category, "complaint": case.is_complaint, "signed_out": signed_out},
    )
    return case


def _about(borrower: User, card_id, loan_id, review_case_id) -> dict:
    """What the request is about, only among the borrower's own things (others are ignored)."""
    return {
        "card": Card.objects.filter(pk=card_id, user=borrower).first() if card_id else None,
        "loan": Loan.objects.filter(pk=loan_id, borrower=borrower).first() if loan_id else None,
        "about_review_case": (
            ReviewCase.objects.filter(pk=review_case_id, borrower=borrower).first()
            if review_case_id
            else None
        ),
    }


def support_case_open(
    *,
    actor: User,
    category: str,
    message: str,
    is_complaint: bool = False,
    card_id=None,
    loan_id=None,
    review_case_id=None,
) -> SupportCase:
    """A signed-in borrower opens a help request, optionally about one of their cards, loans or cases."""
    try:
        with transaction.atomic():
            borrower = User.objects.select_for_update().get(pk=actor.pk)
            _ensure_within_limits(borrower)
            return _create(
                actor=actor,
                borrower=borrower,
                contact_phone=borrower.phone,
                category=category,
                is_complaint=is_complaint,
                message=message,
                signed_out=False,
                **_about(borrower, card_id, loan_id, review_case_id),
            )
    except SupportRefused as exc:
        if exc.code == "too_many":
            raise _refused(actor, actor, exc) from None
        raise


def _signed_out_target(contact_phone) -> str:
    return fingerprint(f"support:{contact_phone}")


def support_help_send_code(*, contact_phone) -> None:
    """Signed out (locked out, or the phone lost): a code to the number we should answer at."""
    sms_code_send(
        purpose=Purpose.SUPPORT_REQUEST, target=_signed_out_target(contact_phone), phone=contact_phone
    )


def support_case_open_signed_out(
    *, account_phone, contact_phone, code: str, category: str, message: str, is_complaint: bool = False
) -> SupportCase:
    """The code proves the contact number; the case names the account of ``account_phone`` if
    there is one, and answers the same either way (no enumeration)."""
    sms_code_verify(purpose=Purpose.SUPPORT_REQUEST, target=_signed_out_target(contact_phone), code=code)
    borrower = User.objects.filter(phone=account_phone, is_staff=False).first()
    try:
        with transaction.atomic():
            _ensure_within_limits(borrower)
            return _create(
                actor=None,
                borrower=borrower,
                contact_phone=contact_phone,
                category=category,
                is_complaint=is_complaint,
                message=message,
                signed_out=True,
            )
    except SupportRefused as exc:
        if exc.code == "too_many":
            raise _refused(None, borrower, exc) from None
        raise


def _locked(case: SupportCase) -> SupportCase:
    return SupportCase.objects.select_for_update().get(pk=case.pk)


def _ensure_staff(actor) -> None:
    if not (actor.is_staff and actor.has_perm("support.change_supportcase")):
        raise SupportRefused(_("You may not work help requests."), code="not_allowed")


@transaction.atomic
def support_case_reply(*, actor: User, case: SupportCase, text: str) -> SupportMessage:
    """Support answers: the borrower's inbox and a text message tell them."""
    _ensure_staff(actor)
    case = _locked(case)
    body = _clean(text)
    message = SupportMessage.objects.create(case=case, kind=Kind.REPLY, author=actor, body=body)
    if case.first_answered_at is None:
        case.first_answered_at = message.created_at
    if case.assigned_to_id is None:
        case.assigned_to = actor
    case.status = Status.RESOLVED if case.is_resolved else Status.ANSWERED
    case._change_reason = "answered"
    case.save()
    record(action=Action.SUPPORT_CASE_REPLIED, actor=actor, subject=case, data={"message": message.pk})
    _tell_borrower(case, body)
    return message


def _tell_borrower(case: SupportCase, body: str) -> None:
    borrower = case.borrower
    if borrower is not None and borrower.is_active:
        notification_create(
            user=borrower, kind="support_reply", params={"case": case.pk}, link=f"/support/{case.pk}/"
        )
    to = case.contact_phone or (borrower.phone if borrower else "")
    if to:
        # Signed out, the text message is the only way the answer reaches them: it carries it.
        context = {"case": case.pk, "text": body if case.signed_out else ""}
        sms_queue(to=to, template="support_reply", context=context, language=_language(borrower))


def _language(borrower: User | None) -> str:
    return borrower.language if borrower else settings.LANGUAGE_CODE


@transaction.atomic
def support_case_note(*, actor: User, case: SupportCase, text: str) -> SupportMessage:
    """An internal note: for staff only, the borrower never sees it."""
    _ensure_staff(actor)
    case = _locked(case)
    message = SupportMessage.objects.create(case=case, kind=Kind.NOTE, author=actor, body=_clean(text))
    record(action=Action.SUPPORT_CASE_NOTED, actor=actor, subject=case, data={"message": message.pk})
    return message


@transaction.atomic
def support_case_assign(*, actor: User, case: SupportCase, assignee: User) -> SupportCase:
    _ensure_staff(actor)
    if not (assignee.is_staff and assignee.is_active and assignee.has_perm("support.change_supportcase")):
        raise SupportRefused(_("Only support staff and officers can be assigned."), code="assignee")
    case = _locked(case)
    case.assigned_to = assignee
    case._change_reason = f"assigned to {assignee.username}"
    case.save()
    record(action=Action.SUPPORT_CASE_ASSIGNED, actor=actor, subject=case, data={"to": assignee.username})
    return case


@transaction.atomic
def support_case_resolve(*, actor: User, case: SupportCase) -> SupportCase:
    _ensure_staff(actor)
    case = _locked(case)
    if case.is_resolved:
        raise SupportRefused(_("This request is already resolved."), code="resolved")
    case.status = Status.RESOLVED
    case.resolved_at = timezone.now()
    case._change_reason = "resolved"
    case.save()
    record(action=Action.SUPPORT_CASE_RESOLVED, actor=actor, subject=case)
    return case


def _reopen(case: SupportCase, why: str) -> None:
    """A resolved request opens again, with a fresh resolution deadline."""
    case.status = Status.OPEN
    case.resolved_at = None
    case.escalated_at = None
    case.resolve_due_at = _deadlines(timezone.now(), case.is_complaint)["resolve_due_at"]
    case._change_reason = why
    case.save()


@transaction.atomic
def support_case_reopen(*, actor: User, case: SupportCase) -> SupportCase:
    _ensure_staff(actor)
    case = _locked(case)
    if not case.is_resolved:
        raise SupportRefused(_("This request is not resolved."), code="not_resolved")
    _reopen(case, "reopened by support")
    record(action=Action.SUPPORT_CASE_REOPENED, actor=actor, subject=case, data={"by": "support"})
    return case


def _ensure_reply_allowed(actor: User) -> None:
    since = timezone.now() - timedelta(hours=1)
    mine = SupportMessage.objects.filter(author=actor, kind=Kind.BORROWER, created_at__gte=since)
    if mine.count() >= settings.SUPPORT_MESSAGES_PER_HOUR:
        raise SupportRefused(_("You have sent many messages this hour. Try again later."), code="too_many")


@transaction.atomic
def support_case_borrower_reply(*, actor: User, case: SupportCase, text: str) -> SupportMessage:
    """The borrower answers on their own request; a resolved one opens again."""
    case = SupportCase.objects.select_for_update().get(pk=case.pk, borrower=actor)
    _ensure_reply_allowed(actor)
    message = SupportMessage.objects.create(case=case, kind=Kind.BORROWER, author=actor, body=_clean(text))
    data = {"message": message.pk, "reopened": case.is_resolved}
    record(action=Action.SUPPORT_CASE_BORROWER_REPLIED, actor=actor, subject=case, data=data)
    if case.is_resolved:
        _reopen(case, "reopened by the borrower")
    elif case.status == Status.ANSWERED:
        case.status = Status.OPEN
        case._change_reason = "the borrower replied"
        case.save()
    return message


@transaction.atomic
def support_case_to_review(*, actor: User, case: SupportCase) -> ReviewCase:
    """Hand the request to a compliance review (e.g. a card bound elsewhere that the caller
    proves is theirs): the review case shows the request, nobody retypes it."""
    _ensure_staff(actor)
    case = _locked(case)
    if case.review_case_id and case.review_case.is_open:
        raise SupportRefused(_("A review case for this request is already open."), code="in_review")
    first = case.messages.filter(kind=Kind.BORROWER).first()
    reason = Reason("support_request", (first.body if first else "")[:200], 0)
    review = review_case_open(
        kind=REVIEW_KIND, subject=case, borrower=case.borrower, requested_by=actor, risk=Assessment((reason,))
    )
    case.review_case = review
    case._change_reason = f"review case #{review.pk} opened"
    case.save()
    record(action=Action.SUPPORT_CASE_TO_REVIEW, actor=actor, subject=case, data={"review_case": review.pk})
    return review


def support_case_review_decided(case: ReviewCase, officer, verdict: str, reason: str = "") -> None:
    """Approve / reject of a review case opened from a request: a note records the decision and
    the request goes back to the support queue, so support tells the borrower."""
    support = SupportCase.objects.select_for_update().get(pk=case.subject_id)
    text = f"Review case #{case.pk}: {verdict}" + (f" — {reason}" if reason else "")
    SupportMessage.objects.create(
        case=support, kind=Kind.NOTE, author=officer, body=redact(text[:MESSAGE_MAX])
    )
    if support.is_resolved:
        _reopen(support, f"review case #{case.pk} {verdict}")
    else:
        support.status = Status.OPEN
        support._change_reason = f"review case #{case.pk} {verdict}"
        support.save()


def overdue_q(now) -> Q:
    return Q(resolve_due_at__lt=now) | Q(first_answered_at__isnull=True, first_answer_due_at__lt=now)


def support_cases_escalate() -> int:
    """Beat: flag each request past a deadline once (first answer or resolution); staff hear of it."""
    from support.tasks import notify_support_escalated

    escalated = 0
    while True:
        with transaction.atomic():
            now = timezone.now()
            case = (
                SupportCase.objects.select_for_update(skip_locked=True)
                .exclude(status=Status.RESOLVED)
                .filter(overdue_q(now), escalated_at__isnull=True)
                .order_by("first_answer_due_at")
                .first()
            )
            if case is None:
                return escalated
            case.escalated_at = now
            case._change_reason = "escalated: past its SLA"
            case.save()
            late = (
                "first_answer"
                if case.first_answered_at is None and now > case.first_answer_due_at
                else "resolution"
            )
            record(action=Action.SUPPORT_CASE_ESCALATED, actor=None, subject=case, data={"late": late})
            outbox_enqueue(task=notify_support_escalated, kwargs={"case_id": case.pk})
        escalated += 1
