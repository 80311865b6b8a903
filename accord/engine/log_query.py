"""The log's read side: read-only SQL for `accord query`, and rendering of the rows.

Connections are opened read-only with DuckDB's external access off, so a query
can neither change the log nor read or write other files; statements other
than queries are refused up front with the statement's name, before DuckDB
would answer with a longer message about attached databases.
"""

from __future__ import annotations

import base64
import csv
import datetime as _dt
import decimal
import io
import os
from collections.abc import Sequence
from typing import Any

import duckdb
import orjson

from accord.errors import UsageError

ALLOWED = {"SELECT", "EXPLAIN", "PRAGMA", "CALL", "SET"}
"""Statement types `accord query` runs; SET only changes the query's own connection."""

FORMATS = ("table", "csv", "json")


def open_read_only(path: str) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the log at `path`, in UTC, with no access to other files."""
    if not os.path.isfile(path):
        raise UsageError(
            f"no log at '{path}'",
            help=f"write one first: accord run POLICY --events SRC --db {path}",
        )
    from accord.engine.logdb import describe_open_error

    try:
        con = duckdb.connect(path, read_only=True, config={"enable_external_access": False,
                                                           "autoinstall_known_extensions": False,
                                                           "autoload_known_extensions": False})
    except duckdb.Error as exc:
        raise describe_open_error(path, exc, reading=True) from None
    con.execute("SET TimeZone='UTC'")
    return con


def _statements(sql: str) -> list:
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise _duckdb_message(str(exc).strip()) from None
    if not statements:
        raise UsageError("no sql to run", help="give a query such as: SELECT * FROM decision_outcomes")
    for statement in statements:
        kind = statement.type.name
        if kind not in ALLOWED:
            raise UsageError(
                f"the log is read-only: '{kind}' is not allowed",
                help="accord query runs SELECT (and DESCRIBE, SHOW, EXPLAIN, PRAGMA) statements",
            )
    return statements


def run_query(path: str, sql: str) -> tuple[list[str], list[tuple]]:
    """Run `sql` over the log at `path`; return the last statement's (columns, rows).

    JSON columns come back parsed (dicts, lists, numbers), so every output
    format can show them as JSON rather than as quoted text.
    """
    statements = _statements(sql)
    con = open_read_only(path)
    try:
        result = None
        for statement in statements:
            try:
                result = con.execute(statement.query)
            except duckdb.Error as exc:
                raise _reword(exc) from None
        if result is None or result.description is None:
            return [], []
        columns = [d[0] for d in result.description]
        json_at = [i for i, d in enumerate(result.description) if str(d[1]) == "JSON"]
        rows = result.fetchall()
        if json_at:
            rows = [_parse_json(row, json_at) for row in rows]
        return columns, rows
    finally:
        con.close()


def _parse_json(row: tuple, at: list[int]) -> tuple:
    cells = list(row)
    for i in at:
        if isinstance(cells[i], str):
            cells[i] = orjson.loads(cells[i])
    return tuple(cells)


def _reword(exc: duckdb.Error) -> UsageError:
    text = str(exc).strip()
    if "read-only mode" in text and 'statement of type "' in text:
        kind = text.split('statement of type "', 1)[1].split('"', 1)[0]
        return UsageError(f"the log is read-only: '{kind}' is not allowed")
    if isinstance(exc, duckdb.PermissionException):
        return UsageError(
            "accord query cannot read or write other files",
            help="query the log's tables and views; export with --format csv or json",
        )
    return _duckdb_message(text)


def _duckdb_message(text: str) -> UsageError:
    """DuckDB's `Catalog Error: Table with name x does not exist!` in the house style, its hints as help."""
    head, _, rest = text.partition("\n")
    kind, sep, message = head.partition(" Error: ")
    if sep and kind.replace(" ", "").isalpha():
        message = message.rstrip("!. ")
        head = f"{kind.lower()} error in the query: {message[:1].lower()}{message[1:]}"
    hints = []
    for line in rest.splitlines():
        line = line.rstrip()
        if not line.strip():
            continue
        hints.append(line if line.startswith(" ") or line.startswith("LINE") else line.rstrip("."))
    if not hints and kind == "Catalog":
        hints.append("list the log's tables with SELECT table_name FROM information_schema.tables")
    return UsageError(head, help="\n        ".join(hints) if hints else None)


# -- rendering -----------------------------------------------------------------------------


def iso_duration(delta: _dt.timedelta) -> str:
    """An ISO 8601 duration (`P1DT2H30M`), the form JSON consumers parse."""
    sign = "-" if delta < _dt.timedelta(0) else ""
    delta = abs(delta)
    days, seconds = delta.days, delta.seconds
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    frac = (
        f"{seconds}.{delta.microseconds:06d}".rstrip("0").rstrip(".") if delta.microseconds else str(seconds)
    )
    time = "".join(f"{v}{u}" for v, u in ((hours, "H"), (minutes, "M")) if v)
    if seconds or delta.microseconds:
        time += f"{frac}S"
    if not days and not time:
        return "PT0S"
    return f"{sign}P{f'{days}D' if days else ''}{'T' + time if time else ''}"


def rfc3339(value: _dt.datetime) -> str:
    """RFC 3339 text; UTC written as `Z`."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, _dt.timedelta):
        return iso_duration(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


def cell_text(value: Any) -> str:
    """One cell as text for table and csv output (NULL as empty)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, _dt.datetime):
        return rfc3339(value)
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return iso_duration(value)
    if isinstance(value, (dict, list)):
        return orjson.dumps(value, default=_json_default, option=orjson.OPT_UTC_Z).decode()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


def format_rows(
    columns: Sequence[str], rows: Sequence[tuple], fmt: str = "table", *, width: int | None = None
) -> str:
    """Render query results as 'table' (rich, plain text), 'csv' (with header) or 'json' (a list of objects).

    `width` caps a table's width (a terminal's); by default the table takes the
    width its cells need, so nothing is cut.
    """
    if fmt == "json":
        records = [dict(zip(columns, row, strict=True)) for row in rows]
        return orjson.dumps(
            records, default=_json_default, option=orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS
        ).decode()
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([cell_text(v) for v in row])
        return out.getvalue()
    if fmt == "table":
        return _table(columns, rows, width)
    raise UsageError(f"unknown format '{fmt}'", help="use one of: " + ", ".join(FORMATS))


def _table(columns: Sequence[str], rows: Sequence[tuple], width: int | None) -> str:
    from rich.console import Console
    from rich.table import Table

    texts = [[cell_text(v) for v in row] for row in rows]
    natural = sum(max([len(c)] + [len(r[i]) for r in texts]) + 3 for i, c in enumerate(columns)) + 1
    table = Table(caption=f"{len(rows)} row{'' if len(rows) == 1 else 's'}", caption_justify="left")
    for c in columns:
        table.add_column(c, overflow="fold")
    for row in texts:
        table.add_row(*row, style=None)
    out = io.StringIO()
    console = Console(
        file=out, width=width or max(natural, 20), color_system=None, force_terminal=False, highlight=False
    )
    console.print(table)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines()) + "\n"
