import pytest

from accounts.tests.factories import BorrowerFactory
from audit import reviews
from audit.risk import Assessment, Reason
from audit.services import review_case_open
from lending.errors import DomainError


class RecordingKind:
    """A review kind for the tests: remembers what approve and reject were asked to do."""

    def __init__(self):
        self.approved, self.rejected, self.fail_with = [], [], None

    def approve(self, case, officer):
        if self.fail_with:
            raise self.fail_with
        self.approved.append((case.pk, officer.pk))

    def reject(self, case, officer, reason):
        self.rejected.append((case.pk, officer.pk if officer else None, reason))

    def summary(self, case):
        return [("Borrower", str(case.borrower))]


@pytest.fixture
def test_kind():
    kind = RecordingKind()
    reviews.register(
        "test_kind", label="Test kind", approve=kind.approve, reject=kind.reject, summary=kind.summary
    )
    yield kind
    reviews._kinds.pop("test_kind")


@pytest.fixture
def open_case(test_kind):
    """Open a test case about a borrower; ``score`` decides whether it needs two approvals."""

    def make(score=10, borrower=None, requested_by=None):
        borrower = borrower or BorrowerFactory()
        return review_case_open(
            kind="test_kind",
            subject=borrower,
            borrower=borrower,
            requested_by=requested_by if requested_by is not None else borrower,
            risk=Assessment((Reason("test", "a test reason", score),)),
        )

    return make


__all__ = ["DomainError"]
