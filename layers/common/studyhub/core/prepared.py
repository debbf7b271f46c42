"""Hot statements compiled once and run straight on the DBAPI cursor (issue 15).

SQLAlchemy's Core execute path (cache key, execution context, result metadata, ``Row``) costs
about 0.4 ms of CPU per statement here, as much as PyMySQL's own work; a page of topics paid it
three times. A ``Prepared`` statement is a Core ``select()`` (or UPDATE/DELETE) built once with
``bindparam()``s, compiled once per dialect; each run fills the parameters, runs the SQL on the
connection's DBAPI cursor and converts the values with the same result processors SQLAlchemy
would apply (SQLite's datetimes, booleans), into named tuples read by column name (``row.id``).

What stays as with ``Connection.execute``: the statement runs on the SQLAlchemy connection's own
DBAPI connection, inside its transaction; ``before_cursor_execute``/``after_cursor_execute``
listeners run (the request deadline's socket timeouts in ``db_limits``, the statement counters of
the tests); an error goes through Core's own handling (wrapped as ``DBAPIError``, ``handle_error``
listeners, a lost connection invalidated with the pool's older ones), so ``session_scope``
answers 503 and the breaker sees it.

Only for statements built once (module level or ``functools.cache``): compiling costs far more
than running, so a statement built per request belongs on ``Connection.execute`` and its cache.
Expanding ``IN`` parameters are not supported (the SQL would change with the list's length).
"""

from __future__ import annotations

import threading
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # SQLAlchemy is imported on first use: a function's import stays light
    from sqlalchemy.engine import Connection, Dialect
    from sqlalchemy.sql import ClauseElement


@dataclass(slots=True)
class _Compiled:
    sql: str
    positional: tuple[str, ...] | None  # parameter names in order (qmark/format); None: by name
    defaults: dict[str, Any]  # values bound into the statement itself (literals of a rule)
    bind_processors: dict[str, Callable[[Any], Any]]
    columns: tuple[Any, ...]  # selected column expressions (their types), () for DML
    row_type: Any  # the named tuple of a result row
    result_processors: list[Callable[[Any], Any] | None] | None = None  # set on first result


class Prepared:
    """A statement compiled once per dialect; see the module's doc."""

    __slots__ = ("statement", "_by_dialect", "_lock")

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._by_dialect: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    # --- running ---------------------------------------------------------------------------------

    def all(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Every row, as named tuples."""
        compiled = self._compiled(conn.dialect)
        cursor, rows = self._run(conn, compiled, params, fetch=True)
        processors = compiled.result_processors
        if processors is None:
            processors = compiled.result_processors = self._result_processors(conn.dialect, cursor.description)
        make = compiled.row_type._make
        if not any(processors):
            return [make(row) for row in rows]
        return [
            make([value if p is None else p(value) for p, value in zip(processors, row, strict=True)]) for row in rows
        ]

    def first(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        rows = self.all(conn, params)
        return rows[0] if rows else None

    def scalar(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        row = self.first(conn, params)
        return None if row is None else row[0]

    def rowcount(self, conn: Connection, params: Mapping[str, Any] | None = None) -> int:
        """Run an INSERT, UPDATE or DELETE; the rows it matched."""
        cursor, _ = self._run(conn, self._compiled(conn.dialect), params, fetch=False)
        return int(cursor.rowcount)

    def insert_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """An INSERT of several rows in one round trip (PyMySQL makes one multi-row INSERT)."""
        if rows:
            self._run(conn, self._compiled(conn.dialect), rows, fetch=False, many=True)

    def _run(
        self,
        conn: Connection,
        compiled: _Compiled,
        params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
        *,
        fetch: bool,
        many: bool = False,
    ) -> tuple[Any, Sequence[Any]]:
        batch: Any = params
        parameters: Any = (
            [self._parameters(compiled, one) for one in batch] if many else self._parameters(compiled, batch)
        )
        dbapi_connection = conn.connection.dbapi_connection
        cursor = dbapi_connection.cursor()  # type: ignore[union-attr]
        dispatch = conn.dispatch
        try:
            for listener in dispatch.before_cursor_execute:
                listener(conn, cursor, compiled.sql, parameters, None, many)
            if many:
                cursor.executemany(compiled.sql, parameters)
            else:
                cursor.execute(compiled.sql, parameters)
            rows = cursor.fetchall() if fetch else ()
            for listener in dispatch.after_cursor_execute:
                listener(conn, cursor, compiled.sql, parameters, None, many)
        except BaseException as error:  # as Core's own execute does: the same handling, events and all
            # (wrapped as ``DBAPIError``, the ``handle_error`` listeners run, and on a lost
            # connection this one and every older pooled one invalidated). A private method, pinned
            # by tests/e2e/test_prepared.py: it is exactly what ``Connection.execute`` calls.
            conn._handle_dbapi_exception(error, compiled.sql, parameters, cursor, None)
        finally:
            cursor.close()
        return cursor, rows

    @staticmethod
    def _parameters(compiled: _Compiled, params: Mapping[str, Any] | None) -> Any:
        values = dict(compiled.defaults)
        if params:
            values.update(params)
        for name, process in compiled.bind_processors.items():
            values[name] = process(values[name])
        return values if compiled.positional is None else tuple(values[n] for n in compiled.positional)

    # --- compiling -------------------------------------------------------------------------------

    def _compiled(self, dialect: Dialect) -> _Compiled:
        compiled = self._by_dialect.get(dialect.name)
        if compiled is None:
            with self._lock:
                compiled = self._by_dialect.get(dialect.name)
                if compiled is None:
                    compiled = self._by_dialect[dialect.name] = self._compile(dialect)
        return compiled

    def _compile(self, dialect: Dialect) -> _Compiled:
        statement: Any = self.statement
        compiled = statement.compile(dialect=dialect)
        if any(bind.expanding for bind in compiled.binds.values()) or "POSTCOMPILE" in compiled.string:
            raise ValueError("a Prepared statement can't take an expanding IN parameter (its SQL changes per call)")
        prefetch = [c.key for c in (*compiled.insert_prefetch, *compiled.update_prefetch)]
        if prefetch:  # Python-side column defaults are computed by Core's execution context, not here
            raise ValueError(f"a Prepared statement must be given every column's value: {prefetch}")
        defaults = {
            name: bind.effective_value
            for name, bind in compiled.binds.items()
            if bind.value is not None or bind.callable is not None
        }
        processors = {}
        for name, bind in compiled.binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processors[name] = process
        columns: tuple[Any, ...] = ()
        row_type: Any = tuple
        if getattr(statement, "is_select", False):
            columns = tuple(statement.selected_columns)
            keys = list(statement.selected_columns.keys())
            if len(set(keys)) != len(keys) or not all(key.isidentifier() for key in keys):
                raise ValueError(f"a Prepared select needs distinct column names that are identifiers, got {keys}")
            row_type = namedtuple("Row", keys)  # type: ignore[misc,no-redef]  # noqa: PYI024 - built at run time
        positional = tuple(compiled.positiontup) if compiled.positional else None
        return _Compiled(compiled.string, positional, defaults, processors, columns, row_type)

    def _result_processors(self, dialect: Dialect, description: Any) -> list[Callable[[Any], Any] | None]:
        compiled = self._by_dialect[dialect.name]
        coltypes = [entry[1] for entry in description or ()]
        return [
            column.type.dialect_impl(dialect).result_processor(dialect, coltype)
            for column, coltype in zip(compiled.columns, coltypes, strict=True)
        ]


def paged(statement: Any) -> Prepared:
    """``statement`` (a ``select()`` built once) one page at a time: its OFFSET and LIMIT are the
    parameters ``page_offset`` and ``page_limit`` (``http.pagination.paginate_rows`` fills them)."""
    from sqlalchemy import bindparam

    return Prepared(statement.offset(bindparam("page_offset")).limit(bindparam("page_limit")))
