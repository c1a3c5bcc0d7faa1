"""Paging the portal's lists with one read where they fit on the page."""

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator


class ReadFirstPaginator(Paginator):
    """Django's Paginator, but reading the page (and one row more) before counting: when that
    row is not there, the page is the last and the count is known without asking. Most
    borrowers' security log and inbox fit on their first page, which then costs one read
    instead of a count and a read (issue 22). Answers as Django's Paginator does otherwise: a
    page past the end counts, then ``get_page`` gives the last one."""

    def get_page(self, number):
        """Django's ``get_page``, which counts first (``validate_number``), in the other order."""
        try:
            return self.page(number)
        except PageNotAnInteger:
            return self.page(1)
        except EmptyPage:
            return self.page(self.num_pages)

    def page(self, number):
        try:
            whole = int(number) if isinstance(number, int | str) else None
        except ValueError:
            whole = None
        if whole is None or whole < 1 or self.orphans or "count" in self.__dict__:
            return super().page(number)  # Django's, errors included
        bottom = (whole - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and whole > 1:
            return super().page(whole)  # past the end: Django's EmptyPage, after counting
        if len(rows) <= self.per_page:
            self.count = bottom + len(rows)  # the cached property's value, known now
        return self._get_page(rows[: self.per_page], whole, self)
