"""The review-case registry: each app says what approving and rejecting its kind of case does.

``audit`` imports nothing from the apps; they register in their AppConfig.ready():

    reviews.register("phone_lost", label=..., approve=..., reject=..., summary=...)

``approve(case, officer)`` runs in the transaction of the final approval and may raise a
DomainError to refuse (the case then stays open). ``reject(case, officer, reason)`` runs in
the transaction of the rejection (``officer`` is None when the case expires). ``summary(case)``
returns (label, value) rows for the officer's page, personal data masked.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ReviewKind:
    name: str
    label: str
    approve: Callable
    reject: Callable
    summary: Callable


_kinds: dict[str, ReviewKind] = {}


def register(name: str, *, label, approve: Callable, reject: Callable, summary: Callable) -> None:
    _kinds[name] = ReviewKind(name, label, approve, reject, summary)


def get(name: str) -> ReviewKind:
    try:
        return _kinds[name]
    except KeyError:
        raise LookupError(f"no review kind {name!r} is registered") from None


def choices() -> list[tuple[str, str]]:
    return [(kind.name, kind.label) for kind in _kinds.values()]
