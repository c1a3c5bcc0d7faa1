"""ReadFirstPaginator pages as Django's Paginator does, counting only when a page is not the last."""

import pytest
from django.core.paginator import Paginator

from lending.paging import ReadFirstPaginator


class Rows:
    """A list read as a queryset is: by slices and ``count()``, each read noted."""

    def __init__(self, n: int):
        self.rows, self.reads = list(range(n)), []

    def count(self) -> int:
        self.reads.append("count")
        return len(self.rows)

    def __getitem__(self, window: slice):
        self.reads.append("rows")
        return self.rows[window]


def shown(page) -> tuple:
    return page.number, list(page), page.paginator.num_pages, page.has_next(), page.has_previous()


@pytest.mark.parametrize("n", [0, 1, 19, 20, 21, 40, 41])
@pytest.mark.parametrize("number", [None, "", "x", "²", " 2 ", "2.0", 2.0, "0", "-1", "1", "2", "3", "99"])
def test_every_page_is_djangos(n, number):
    assert shown(ReadFirstPaginator(Rows(n), 20).get_page(number)) == shown(
        Paginator(Rows(n), 20).get_page(number)
    )


@pytest.mark.parametrize(("n", "number", "reads"), [
    (0, 1, ["rows"]),
    (9, 1, ["rows"]),  # fits on its page: one read, no count
    (20, 1, ["rows"]),
    (21, 1, ["rows", "count"]),  # more than a page: the count, for "page 1 of 2"
    (41, 3, ["rows"]),  # the last page tells the count too
    (41, 2, ["rows", "count"]),
])  # fmt: skip
def test_a_page_that_is_the_last_is_read_without_counting(n, number, reads):
    rows = Rows(n)
    page = ReadFirstPaginator(rows, 20).get_page(number)
    assert page.paginator.num_pages == max(1, -(-n // 20)) and page.paginator.count == n
    assert rows.reads == reads
