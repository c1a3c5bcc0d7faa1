"""Paging the portal's lists with one read where they fit on the page."""

from django.core.paginator import Paginator


class ReadFirstPaginator(Paginator):
    """Django's Paginator, but reading the page (and one row more) before counting: when that
    row is not there, the page is the last and the count is known without asking. Most
    borrowers' security log and inbox fit on their first page, which then costs one read
    instead of a count and a read (issue 22). Answers as Django's Paginator does otherwise: an
    out-of-range page counts, then ``get_page`` gives the last one."""

    def page(self, number):
        try:
            number = int(number)
        except (TypeError, ValueError):
            return super().page(number)  # Django's PageNotAnInteger
        if number < 1 or self.orphans or "count" in self.__dict__:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            return super().page(number)  # past the end: Django's EmptyPage, after counting
        if len(rows) <= self.per_page:
            self.count = bottom + len(rows)  # the cached property's value, known now
        return self._get_page(rows[: self.per_page], number, self)
