"""The decision log's shape, read from `accord/schemas/log.sql` so there is one source of truth.

The engine builds each log row as a plain tuple in `COLUMNS[table]` order (a
tuple is the cheapest row there is); the writer turns a batch of tuples into
typed Arrow columns using `TYPES`. Both come from the DDL itself, and
tests/log/test_schema.py checks them against what DuckDB creates.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_CREATE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+) \((.*?)\);", re.S)
_COLUMN = re.compile(r"^\s*(\w+)\s+([A-Z]+)\s*,?\s*$")


@cache
def ddl() -> str:
    """The text of `log.sql`: CREATE TABLE IF NOT EXISTS for each table, then the views."""
    return resources.files("accord.schemas").joinpath("log.sql").read_text(encoding="utf-8")


def table_ddl() -> str:
    """The CREATE TABLE statements alone (run first, so a layout check can precede the views)."""
    text = ddl()
    return text[: text.index("CREATE OR REPLACE VIEW")]


def view_ddl() -> str:
    """The CREATE OR REPLACE VIEW statements alone."""
    text = ddl()
    return text[text.index("CREATE OR REPLACE VIEW") :]


def _parse(text: str) -> dict[str, tuple[tuple[str, str], ...]]:
    tables: dict[str, tuple[tuple[str, str], ...]] = {}
    for name, body in _CREATE.findall(text):
        columns = []
        for line in body.strip().splitlines():
            m = _COLUMN.match(line)
            if not m:
                raise ValueError(f"log.sql: cannot read column line '{line.strip()}' of table '{name}'")
            columns.append((m.group(1), m.group(2)))
        tables[name] = tuple(columns)
    return tables


SCHEMA: dict[str, tuple[tuple[str, str], ...]] = _parse(ddl())
"""table → ((column, DuckDB type), ...) in DDL order."""

COLUMNS: dict[str, tuple[str, ...]] = {t: tuple(c for c, _ in cols) for t, cols in SCHEMA.items()}
"""table → column names, the order of the engine's row tuples."""

TYPES: dict[str, tuple[str, ...]] = {t: tuple(ty for _, ty in cols) for t, cols in SCHEMA.items()}
"""table → DuckDB types (VARCHAR, BIGINT, INTEGER, BOOLEAN, TIMESTAMPTZ, JSON, BLOB)."""

TABLES: tuple[str, ...] = tuple(SCHEMA)

VIEWS: tuple[str, ...] = tuple(re.findall(r"CREATE OR REPLACE VIEW (\w+)", ddl()))


def column_index(table: str, column: str) -> int:
    """Where `column` sits in a row tuple of `table`."""
    return COLUMNS[table].index(column)
