"""Help and complaints in the portal: the borrower's requests, and a door for the signed-out."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import session
from accounts.decorators import borrower_required
from accounts.views.common import send_code
from lending.crypto import decrypt, encrypt
from lending.errors import DomainError
from support import selectors
from support.forms import HelpRequestForm, ReplyForm, SignedOutCodeForm, SignedOutHelpForm
from support.models import SupportCase
from support.services import (
    support_case_borrower_reply,
    support_case_open,
    support_case_open_signed_out,
    support_help_send_code,
)

SIGNED_OUT_FLOW = "support_help"
SIGNED_OUT_MINUTES = 30


def _own_case(request, case_id):
    try:
        return selectors.case_of(request.user, case_id)
    except SupportCase.DoesNotExist:
        raise Http404 from None


@borrower_required
def case_list(request):
    return render(request, "support/list.html", {"cases": selectors.case_list(request.user)})


@borrower_required
def case_new(request):
    initial = {key: request.GET.get(key) for key in ("category", "card_id", "loan_id", "review_case_id")}
    form = HelpRequestForm(request.POST or None, initial={k: v for k, v in initial.items() if v})
    if request.method == "POST" and form.is_valid():
        try:
            case = support_case_open(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.as_form_error())
        else:
            messages.success(
                request, _("Your request is received. We answer in the app and by text message.")
            )
            return redirect("support:detail", case.pk)
    return render(request, "support/new.html", {"form": form})


@borrower_required
def case_detail(request, case_id):
    case = _own_case(request, case_id)
    form = ReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            support_case_borrower_reply(actor=request.user, case=case, text=form.cleaned_data["text"])
        except DomainError as exc:
            form.add_error(None, exc.as_form_error())
        else:
            messages.success(request, _("Your reply is sent."))
            return redirect("support:detail", case.pk)
    context = {"case": case, "thread": selectors.borrower_messages(case), "form": form}
    return render(request, "support/detail.html", context)


def signed_out(request):
    """Locked out or the phone lost: a code to the number to answer at proves it is theirs."""
    pending = session.recall(request, SIGNED_OUT_FLOW, max_minutes=SIGNED_OUT_MINUTES)
    if pending and request.method == "GET" and not request.GET.get("again"):
        return render(
            request, "support/signed_out_code.html", {"form": SignedOutCodeForm(), "pending": pending}
        )
    form = SignedOutHelpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if send_code(
            request,
            lambda: support_help_send_code(contact_phone=data["contact_phone"]),
            _("We sent a code to the number we should answer at."),
        ):
            session.remember(
                request,
                SIGNED_OUT_FLOW,
                account_phone=encrypt(data["account_phone"]),
                contact_phone=encrypt(data["contact_phone"]),
                category=data["category"],
                is_complaint=data["is_complaint"],
                message=encrypt(data["message"]),
            )
            return redirect("support:signed_out")
    return render(request, "support/signed_out.html", {"form": form})


@require_POST
def signed_out_code(request):
    pending = session.recall(request, SIGNED_OUT_FLOW, max_minutes=SIGNED_OUT_MINUTES)
    if not pending:
        return redirect("support:signed_out")
    form = SignedOutCodeForm(request.POST)
    if form.is_valid():
        try:
            case = support_case_open_signed_out(
                account_phone=decrypt(pending["account_phone"]),
                contact_phone=decrypt(pending["contact_phone"]),
                code=form.cleaned_data["code"],
                category=pending["category"],
                is_complaint=pending["is_complaint"],
                message=decrypt(pending["message"]),
            )
        except DomainError as exc:
            form.add_error("code", exc.as_form_error())
        else:
            session.forget(request, SIGNED_OUT_FLOW)
            return render(request, "support/signed_out_done.html", {"case": case})
    return render(request, "support/signed_out_code.html", {"form": form, "pending": pending})
