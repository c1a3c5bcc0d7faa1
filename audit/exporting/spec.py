"""What an auditor asked to export, as stored on the job, in the manifest and in the audit event."""

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

FORMATS = ("csv", "jsonl")


@dataclass(frozen=True)
class ExportSpec:
    """Sources, a date range (inclusive, in TIME_ZONE) and optional filters.

    Users are named by id only, so the spec can go into audit data and manifests as it is.
    """

    sources: tuple[str, ...]
    date_from: date
    date_to: date
    format: str = "csv"
    actions: tuple[str, ...] = ()
    actor_id: int | None = None
    subject_type: str = ""
    subject_id: str = ""
    borrower_id: int | None = None
    unmasked: bool = False
    first_event_id: int | None = None  # events only: an id range (archiving whole blocks)
    last_event_id: int | None = None

    def __post_init__(self):
        if self.format not in FORMATS:
            raise ValueError(f"unknown export format {self.format!r}")
        if self.date_to < self.date_from:
            raise ValueError("the date range ends before it starts")

    @property
    def starts_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.date_from, time.min))

    @property
    def ends_before(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.date_to + timedelta(days=1), time.min))

    def as_json(self) -> dict:
        data = dataclasses.asdict(self)
        data.update(
            sources=list(self.sources),
            actions=list(self.actions),
            date_from=self.date_from.isoformat(),
            date_to=self.date_to.isoformat(),
        )
        return data

    @classmethod
    def from_json(cls, data: dict) -> "ExportSpec":
        return cls(
            **{
                **data,
                "sources": tuple(data["sources"]),
                "actions": tuple(data.get("actions", ())),
                "date_from": date.fromisoformat(data["date_from"]),
                "date_to": date.fromisoformat(data["date_to"]),
            }
        )
