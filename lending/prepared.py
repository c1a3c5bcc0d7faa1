"""Reads made on every signed-in request, compiled to SQL once per process.

Django compiles a queryset to SQL each time it runs. For the few reads every signed-in page and
API call makes, compiling costs several times the CPU PostgreSQL spends answering: 0.5 of the
0.57 ms of the session's device with its user, 0.75 of the 0.95 ms of the card list (measured
with bench/profile_page.py). ``Prepared`` compiles the queryset its function builds once, with
marker values for the arguments, and afterwards runs that SQL with the caller's values. Rows
become model instances the way Django's ModelIterable makes them (``from_db``, select_related
objects, annotations, the fields' converters), so callers see what the queryset would give.

Only for querysets whose SQL does not depend on the values: the arguments (ints, strings or dates,
never None, which would need ``IS NULL``) may only be compared with a column as they are
(``filter(user_id=user_id)``, ``filter(due_date__lte=day)``); a shape that hides or changes an
argument (``__in``, ``__contains``) is refused at once.
Check it on a Django upgrade: it reads the compiler's ``select``, ``klass_info`` and
``annotation_col_map`` and uses ``get_related_populators``, as ModelIterable does.
"""

import itertools
from dataclasses import dataclass
from datetime import date

from django.db import connections, router
from django.db.models.query import get_related_populators

_numbers = itertools.count(7_000_000_001)


def _marker(kind: type):
    """A value of ``kind`` no constant of a query holds, to find where the argument lands."""
    number = next(_numbers)
    if kind is date:
        return date.fromordinal(number % 700_000 + 1)  # a day in the first two millennia
    return -number if kind is int else f"prepared-marker-{number}"


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple  # the compiled parameters: constants, and markers where arguments go
    slots: tuple  # for each parameter, the argument's index, or None for a constant
    converters: dict  # column position -> (converters, expression)
    compiler: object
    sliced: bool  # the queryset has its own LIMIT


class Prepared:
    """``Prepared(build, int, ...)``: ``build(*arguments)`` returns a queryset; calling the
    Prepared with the arguments returns its rows as a list (with ``window=slice(start, stop)``,
    those rows only), or with ``exists=True`` whether there is one, or with ``count=True`` how
    many there are."""

    def __init__(self, build, *kinds: type, exists: bool = False, count: bool = False):
        self.build, self.kinds, self.exists, self.count = build, kinds, exists, count
        self.model = None
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, alias: str) -> _Compiled:
        markers = [_marker(kind) for kind in self.kinds]
        queryset = self.build(*markers).using(alias)
        if self.count:
            queryset = queryset.order_by()
        query = queryset.query.exists() if self.exists else queryset.query
        compiler = query.get_compiler(alias)
        sql, params = compiler.as_sql()
        if self.count:
            sql = f"SELECT COUNT(*) FROM ({sql}) counted"  # noqa: S608 (Django's SQL, values as parameters)
        slots = tuple(markers.index(p) if p in markers else None for p in params)
        if sorted(slot for slot in slots if slot is not None) != list(range(len(markers))):
            raise ValueError(f"{self.build}: each argument must appear once, compared for equality")
        rows = not (self.exists or self.count)
        converters = compiler.get_converters([column[0] for column in compiler.select]) if rows else {}
        compiled = _Compiled(sql, tuple(params), slots, converters, compiler, query.is_sliced)
        self._compiled[alias] = compiled
        return compiled

    def __call__(self, *values, window: slice | None = None):
        if self.model is None:
            self.model = self.build(*(_marker(kind) for kind in self.kinds)).model
        alias = router.db_for_read(self.model) or "default"
        compiled = self._compiled.get(alias) or self._compile(alias)
        bound = zip(compiled.slots, compiled.params, strict=True)
        params = [constant if slot is None else values[slot] for slot, constant in bound]
        sql = compiled.sql
        if window is not None:
            if compiled.sliced or self.exists or self.count:
                raise ValueError(f"{self.build}: a window is for the rows of an unsliced queryset")
            sql += " LIMIT %s OFFSET %s"
            params += [window.stop - window.start, window.start]
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if self.exists:
            return bool(rows)
        if self.count:
            return rows[0][0]
        return self._instances(alias, compiled, connection, rows)

    @staticmethod
    def _instances(alias: str, compiled: _Compiled, connection, rows) -> list:
        compiler = compiled.compiler
        select, klass_info = compiler.select, compiler.klass_info
        first, last = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        names = [column[0].target.attname for column in select[first:last]]
        populators = get_related_populators(klass_info, select, alias)
        objects = []
        for row in rows:
            if compiled.converters:
                row = list(row)
                for position, (functions, expression) in compiled.converters.items():
                    for function in functions:
                        row[position] = function(row[position], expression, connection)
            obj = klass_info["model"].from_db(alias, names, row[first:last])
            for populator in populators:
                populator.populate(row, obj)
            for name, position in compiler.annotation_col_map.items():
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects


class PreparedRows:
    """A queryset's rows as Django's Paginator reads them (``count()`` and slices), from a
    compiled read and its compiled count: ``PreparedRows(rows, count, *arguments)``."""

    def __init__(self, rows: Prepared, count: Prepared, *values):
        self.rows, self.counted, self.values = rows, count, values

    def count(self) -> int:
        return self.counted(*self.values)

    def __getitem__(self, window: slice) -> list:
        return self.rows(*self.values, window=window)
