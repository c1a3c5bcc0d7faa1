"""What auditors can export: audit events and the history of borrowers' records.

Each source names its columns in a fixed order (the CSV header), the time column the date
range applies to, and which columns hold personal data. Masks are SQL expressions, so the
database masks while it streams (``lending.pii`` does the same in Python; a test holds them
equal); ID numbers are in history only masked, card numbers never.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.db.models import Case, CharField, F, Q, QuerySet, Value, When
from django.db.models.functions import Cast, Concat, Left, Length, Repeat, Right, Substr
from django.utils.translation import gettext_lazy as _

from audit.chain import FIELDS
from audit.exporting.spec import ExportSpec


def masked_phone(column: str):
    """``+8613800138000`` -> ``138****8000``, as ``lending.pii.mask_phone`` (mainland numbers)."""
    phone = F(column)
    return Case(
        When(Q(**{f"{column}__isnull": True}) | Q(**{column: ""}), then=Value("")),
        default=Concat(Substr(Right(phone, 11), 1, 3), Value("****"), Right(phone, 4)),
        output_field=CharField(),
    )


def masked_name(column: str):
    """``张三丰`` -> ``张**``, as ``lending.pii.mask_name``."""
    name = F(column)
    return Concat(Left(name, 1), Repeat(Value("*"), Length(name) - 1), output_field=CharField())


# Every subject type whose rows belong to one borrower: model and the lookup to the borrower.
BORROWER_SUBJECTS = {
    "accounts.user": ("accounts.User", "id"),
    "accounts.identity": ("accounts.Identity", "user_id"),
    "accounts.phonechange": ("accounts.PhoneChange", "user_id"),
    "accounts.consent": ("accounts.Consent", "user_id"),
    "cards.card": ("cards.Card", "user_id"),
    "cards.cardbindrequest": ("cards.CardBindRequest", "user_id"),
    "cards.mandate": ("cards.Mandate", "card__user_id"),
    "lending.loan": ("lending.Loan", "borrower_id"),
    "lending.installment": ("lending.Installment", "loan__borrower_id"),
    "lending.debitattempt": ("lending.DebitAttempt", "installment__loan__borrower_id"),
    "audit.reviewcase": ("audit.ReviewCase", "borrower_id"),
    "audit.riskalert": ("audit.RiskAlert", "borrower_id"),
}


def _events_of_borrower(borrower_id: int) -> Q:
    """Events the borrower did, or about any record of theirs."""
    about = Q()
    for subject_type, (label, lookup) in BORROWER_SUBJECTS.items():
        ids = (
            apps.get_model(label)
            ._base_manager.filter(**{lookup: borrower_id})
            .annotate(text_id=Cast("pk", CharField()))
            .values("text_id")
        )
        about |= Q(subject_type=subject_type, subject_id__in=ids)
    return Q(actor_id=borrower_id) | about


HISTORY_COLUMNS = ("history_id", "history_date", "history_type", "history_user_id", "history_change_reason")


@dataclass(frozen=True)
class Source:
    name: str
    label: str
    model_label: str
    columns: tuple[str, ...]
    time_column: str
    order_column: str
    actor_column: str
    borrower_filter: Callable[[int], Q]
    masks: dict[str, Callable] = field(default_factory=dict)

    @property
    def model(self):
        return apps.get_model(self.model_label)

    @property
    def permission(self) -> str:
        return f"{self.model._meta.app_label}.view_{self.model._meta.model_name}"

    def queryset(self, spec: ExportSpec) -> QuerySet:
        """The rows ``spec`` selects, in order, as positional values named c0, c1, ..."""
        rows = self.model._base_manager.filter(
            **{f"{self.time_column}__gte": spec.starts_at, f"{self.time_column}__lt": spec.ends_before}
        )
        if spec.actor_id is not None:
            rows = rows.filter(**{self.actor_column: spec.actor_id})
        if spec.borrower_id is not None:
            rows = rows.filter(self.borrower_filter(spec.borrower_id))
        if self.name == "events":
            if spec.actions:
                rows = rows.filter(action__in=spec.actions)
            if spec.subject_type:
                rows = rows.filter(subject_type=spec.subject_type)
            if spec.subject_id:
                rows = rows.filter(subject_id=spec.subject_id)
            if spec.first_event_id is not None:
                rows = rows.filter(pk__gte=spec.first_event_id, pk__lte=spec.last_event_id)
        masks = {} if spec.unmasked else self.masks
        values = {
            f"c{i}": masks[column](column) if column in masks else F(column)
            for i, column in enumerate(self.columns)
        }
        return rows.order_by(self.order_column).annotate(**values).values_list(*values)


def _history(name, label, model_label, columns, borrower_lookup, masks=None) -> Source:
    return Source(
        name=name,
        label=label,
        model_label=model_label,
        columns=HISTORY_COLUMNS + columns,
        time_column="history_date",
        order_column="history_id",
        actor_column="history_user_id",
        borrower_filter=lambda borrower_id: Q(**{borrower_lookup: borrower_id}),
        masks=masks or {},
    )


SOURCES = {
    source.name: source
    for source in (
        Source(
            name="events",
            label=_("Audit events"),
            model_label="audit.AuditEvent",
            columns=("id", *FIELDS),  # the sealed columns, in the order the chain hashes them
            time_column="occurred_at",
            order_column="id",
            actor_column="actor_id",
            borrower_filter=_events_of_borrower,
        ),
        _history(
            "users",
            _("History of users"),
            "accounts.HistoricalUser",
            ("id", "phone", "username", "is_staff", "is_active", "date_joined", "frozen_at", "frozen_reason"),
            "id",
            {"phone": masked_phone},
        ),
        _history(
            "identities",
            _("History of identities"),
            "accounts.HistoricalIdentity",
            ("id", "user_id", "real_name", "id_number_masked", "birth_date", "verified_at"),
            "user_id",
            {"real_name": masked_name},
        ),
        _history(
            "phone_changes",
            _("History of phone changes"),
            "accounts.HistoricalPhoneChange",
            (
                "id",
                "user_id",
                "path",
                "status",
                "old_phone_masked",
                "new_phone_masked",
                "started_at",
                "completed_at",
            ),
            "user_id",
        ),
        _history(
            "cards",
            _("History of cards"),
            "cards.HistoricalCard",
            (
                "id",
                "user_id",
                "bin",
                "last4",
                "bank_code",
                "card_type",
                "holder_name",
                "reserved_phone_masked",
                "status",
                "is_repayment",
                "bound_at",
                "unbound_at",
            ),
            "user_id",
            {"holder_name": masked_name},
        ),
        _history(
            "mandates",
            _("History of debit mandates"),
            "cards.HistoricalMandate",
            ("id", "card_id", "status", "agreement_version", "created_at", "revoked_at", "revoked_at_bank"),
            "card__user_id",
        ),
        _history(
            "loans",
            _("History of loans"),
            "lending.HistoricalLoan",
            (
                "id",
                "borrower_id",
                "product",
                "principal",
                "annual_rate",
                "term_months",
                "status",
                "disbursed_at",
            ),
            "borrower_id",
        ),
        _history(
            "installments",
            _("History of installments"),
            "lending.HistoricalInstallment",
            (
                "id",
                "loan_id",
                "number",
                "due_date",
                "principal_due",
                "interest_due",
                "paid_amount",
                "status",
                "next_attempt_at",
                "soft_failures",
            ),
            "loan__borrower_id",
        ),
        _history(
            "review_cases",
            _("History of review cases"),
            "audit.HistoricalReviewCase",
            (
                "id",
                "kind",
                "subject_type_id",
                "subject_id",
                "borrower_id",
                "requested_by_id",
                "risk_score",
                "reasons",
                "status",
                "opened_at",
                "decided_at",
                "outcome_reason",
            ),
            "borrower_id",
        ),
    )
}
