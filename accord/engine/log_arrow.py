"""Row tuples → typed Arrow tables, the writer's fast path into DuckDB.

DuckDB reads an Arrow table in one vectorised scan, so appending a batch is one
`INSERT INTO t SELECT * FROM batch` per table instead of one statement per row
(see benchmarks/log_writer.py and docs/log.md for the numbers). Columns are
built one at a time with their final Arrow type, so DuckDB does no guessing.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter

import orjson
import pyarrow as pa

from accord.engine.log_schema import COLUMNS, TYPES

ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "JSON": pa.string(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "BOOLEAN": pa.bool_(),
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    "BLOB": pa.binary(),
}

ARROW_SCHEMAS: dict[str, pa.Schema] = {
    table: pa.schema([pa.field(c, ARROW_TYPES[t]) for c, t in zip(COLUMNS[table], TYPES[table], strict=True)])
    for table in COLUMNS
}


def _json_text(values: Sequence) -> list:
    """JSON columns should arrive as text; accept bytes and plain values too, so a slip costs speed, not a crash."""
    out = []
    for v in values:
        if v is None or isinstance(v, str):
            out.append(v)
        elif isinstance(v, (bytes, bytearray)):
            out.append(bytes(v).decode("utf-8"))
        else:
            out.append(orjson.dumps(v).decode("utf-8"))
    return out


def to_arrow(table: str, rows: Sequence[tuple]) -> pa.Table:
    """Build the Arrow table of `rows` (tuples in `COLUMNS[table]` order)."""
    schema = ARROW_SCHEMAS.get(table)
    if schema is None:
        raise ValueError(f"no log table '{table}'")
    width = len(schema)
    widths = set(map(len, rows))
    if widths - {width}:
        bad = min(widths - {width})
        raise ValueError(f"a row for '{table}' has {bad} values, expected {width}: {', '.join(COLUMNS[table])}")
    arrays = []
    for i, (field, duck) in enumerate(zip(schema, TYPES[table], strict=True)):
        # one pass per column: `zip(*rows)` over a batch of tens of thousands of rows costs several times more
        values = list(map(itemgetter(i), rows))
        try:
            arrays.append(pa.array(values, type=field.type))
        except (pa.ArrowTypeError, pa.ArrowInvalid, TypeError) as exc:
            if duck != "JSON":
                raise ValueError(f"bad value in column '{table}.{field.name}' ({duck}): {exc}") from None
            arrays.append(pa.array(_json_text(values), type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema)
