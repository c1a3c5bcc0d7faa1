"""A help request handed to compliance review: what approve and reject do (audit.reviews)."""

from django.utils.translation import gettext_lazy as _

from audit import reviews


def _approve(case, officer):
    from support.services import support_case_review_decided

    support_case_review_decided(case, officer, "approved")


def _reject(case, officer, reason):
    from support.services import support_case_review_decided

    support_case_review_decided(case, officer, "rejected", reason)


def _summary(case):
    from support.models import SupportCase, SupportMessage

    support = SupportCase.objects.filter(pk=case.subject_id).first()
    if support is None:
        return []
    first = support.messages.filter(kind=SupportMessage.Kind.BORROWER).first()
    rows = [
        (_("Help request"), f"#{support.pk}"),
        (_("Category"), support.get_category_display()),
        (_("Complaint"), _("Yes") if support.is_complaint else _("No")),
        (_("Contact number"), support.contact_phone_masked),
    ]
    if support.card_id:
        rows.append((_("Card"), support.card.masked_number))
    if support.loan_id:
        rows.append((_("Loan"), f"#{support.loan_id}"))
    if first:
        rows.append((_("Message"), first.body))
    return rows


def register() -> None:
    reviews.register(
        "support_request", label=_("Help request"), approve=_approve, reject=_reject, summary=_summary
    )
