"""Reference tables: loaded once at compile time, frozen into the plan.

JSON and JSON-lines files are read with orjson so values keep exactly the types
the author wrote; CSV and parquet go through DuckDB, whose type detection turns
`12.50` into a number and a parquet timestamp into a datetime. DuckDB is
imported only when such a table exists, so `accord validate` stays fast.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from pathlib import Path
from typing import Any

import orjson

from accord.dsl.expr.values import at_fixed_offset
from accord.errors import Diagnostic, Span

FORMATS = ("csv", "json", "jsonl", "parquet")


class TableError(Exception):
    def __init__(self, code: str, message: str, help: str | None = None):
        super().__init__(message)
        self.code, self.message, self.help = code, message, help


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _plain(value: Any, tz: dt.tzinfo | None, where: str) -> Any:
    """Turn a DuckDB value into an expression value (no dates, no decimals)."""
    if isinstance(value, decimal.Decimal):
        value = int(value) if value == value.to_integral_value() else float(value)
    if type(value) is int and not _INT64_MIN <= value <= _INT64_MAX:
        return str(value)  # a 20-digit id: ints are 64-bit in expressions and in JSON, so keep its digits as text
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            if tz is None:
                raise TableError(
                    "E0504",
                    f"timestamp '{value.isoformat(sep=' ')}' in {where} has no offset and the policy sets no timezone",
                    "set 'timezone:' at the top of the policy, or write the offset in the data",
                )
            return at_fixed_offset(value.replace(tzinfo=tz))  # durations are elapsed time across DST
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, list):
        return [_plain(v, tz, where) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, tz, where) for k, v in value.items()}
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return value


def _read_duckdb(path: Path, fmt: str, tz: dt.tzinfo | None) -> list[dict]:
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone='UTC'")
        reader = "read_csv_auto" if fmt == "csv" else "read_parquet"
        rel = con.execute(f"SELECT * FROM {reader}(?)", [str(path)])
        names = [d[0] for d in rel.description]
        rows = rel.fetchall()
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TableError("E0503", f"cannot read '{path.name}' as {fmt}: {first}") from None
    finally:
        con.close()
    where = f"'{path.name}'"
    return [{n: _plain(v, tz, where) for n, v in zip(names, row) if v is not None} for row in rows]


def _read_json(path: Path, fmt: str) -> list[dict]:
    raw = path.read_bytes()
    try:
        if fmt == "jsonl":
            rows = [orjson.loads(line) for line in raw.splitlines() if line.strip()]
        else:
            rows = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise TableError("E0503", f"cannot read '{path.name}' as {fmt}: {exc}") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise TableError("E0503", f"'{path.name}' must hold a list of objects (one per row)")
    return rows


_NAIVE_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")


def _read_csv_light(path: Path, tz: dt.tzinfo | None) -> list[dict]:
    """Header and cells as text: enough for `accord validate` to check key columns without DuckDB.
    A cell that DuckDB would read as a timestamp without an offset is an error when the policy has no
    timezone, exactly as the typed load would report it."""
    import csv

    with path.open(newline="", encoding="utf-8-sig") as f:
        rows = [{k: v for k, v in row.items() if k is not None and v not in (None, "")} for row in csv.DictReader(f)]
    if tz is None:
        for row in rows:
            for value in row.values():
                if _NAIVE_TIMESTAMP.fullmatch(value.strip()):
                    raise TableError(
                        "E0504",
                        f"timestamp '{value.strip()}' in '{path.name}' has no offset and the policy sets no timezone",
                        "set 'timezone:' at the top of the policy, or write the offset in the data",
                    )
    return rows


def read_rows(file: str, base_dir: Path, fmt: str | None, tz: dt.tzinfo | None, *, light: bool = False) -> list[dict]:
    path = (base_dir / file) if not Path(file).is_absolute() else Path(file)
    fmt = fmt or path.suffix.lstrip(".").lower()
    if fmt == "ndjson":
        fmt = "jsonl"
    if fmt not in FORMATS:
        raise TableError(
            "E0502", f"unknown table format '{fmt}' for '{file}'", "use a .csv, .json, .jsonl or .parquet file"
        )
    if not path.is_file():
        raise TableError(
            "E0501", f"data file '{file}' does not exist", "paths are relative to the folder of the policy file"
        )
    if fmt in ("json", "jsonl"):
        return _read_json(path, fmt)
    if light and fmt == "csv":
        try:
            return _read_csv_light(path, tz)
        except (UnicodeDecodeError, ValueError) as exc:
            raise TableError("E0503", f"cannot read '{path.name}' as csv: {exc}") from None
    return _read_duckdb(path, fmt, tz)


def index_rows(name: str, rows: list[dict], key: str | None) -> Any:
    """A keyed table becomes a dict (so `x in data.t` and `data.t[x]` work); otherwise a list."""
    if key is None:
        return rows
    table: dict[Any, dict] = {}
    for n, row in enumerate(rows, 1):
        if key not in row:
            columns = ", ".join(sorted({c for r in rows for c in r})) or "none"
            raise TableError(
                "E0505", f"table '{name}' has no key column '{key}' in row {n}", f"columns are: {columns}"
            )
        k = row[key]
        if isinstance(k, (dict, list)) or isinstance(k, bool):
            raise TableError("E0505", f"table '{name}' key '{key}' in row {n} is not a string or number")
        if k in table:
            raise TableError("E0506", f"table '{name}' has the key '{k}' twice (rows {list(table).index(k) + 1} and {n})")
        table[k] = row
    return table


def load_table(
    name: str, file: str | None, rows: Any, key: str | None, fmt: str | None,
    base_dir: Path, tz: dt.tzinfo | None, span: Span, *, light: bool = False,
) -> tuple[Any, list[Diagnostic]]:
    """`light` reads CSV cells as text (for validation); a run loads them typed through DuckDB."""
    try:
        data = [dict(r) for r in rows] if rows is not None else read_rows(file or "", base_dir, fmt, tz, light=light)
        return index_rows(name, data, key), []
    except TableError as exc:
        return None, [Diagnostic(exc.code, exc.message, span, exc.help)]
    except OSError as exc:
        return None, [Diagnostic("E0503", f"cannot read data file '{file}': {exc.strerror or exc}", span)]
