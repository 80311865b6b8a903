"""Log rows as the engine produces them: tuples in the DDL's column order.

The engine appends plain tuples to per-table lists; the writer turns a batch of
them into columns and appends them in one transaction. With logging off the
buffer is never filled, so the decision logic pays nothing for the log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import orjson

from accord.dsl.expr import EvaluationError

TABLES = ("runs", "events", "decisions", "interactions", "negotiations", "offers", "slas", "escalations",
          "outbox", "cases")


def _default(value: Any) -> Any:
    if isinstance(value, dt.timedelta):
        total = value.total_seconds()
        return f"{int(total)}s" if total == int(total) else f"{total}s"
    if isinstance(value, EvaluationError):
        return {"error": value.message}
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    name = getattr(value, "name", None)
    if isinstance(name, str):
        return name
    return str(value)


_OPTS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


def dumps(value: Any) -> bytes:
    """`to_json` without the decode: the UTF-8 bytes (the Arrow writer takes them for JSON columns as they are)."""
    return orjson.dumps(value, default=_default, option=_OPTS)


def to_json(value: Any) -> str:
    """JSON text for a log column; timestamps RFC 3339, durations '90s', errors {"error": ...}."""
    return orjson.dumps(value, default=_default, option=_OPTS).decode()


def plain_json(value: Any) -> Any:
    """The JSON-able form of a value (for outbox records and sinks)."""
    return orjson.loads(orjson.dumps(value, default=_default, option=_OPTS))


def stable_id(*parts: Any) -> str:
    """Ids derived from content and position, never a clock or random source."""
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


class Rows:
    """Per-table row lists for one batch."""

    __slots__ = TABLES

    def __init__(self) -> None:
        for t in TABLES:
            setattr(self, t, [])

    def take(self) -> dict[str, list[tuple]]:
        out = {t: getattr(self, t) for t in TABLES if getattr(self, t)}
        for t in TABLES:
            setattr(self, t, [])
        return out

    def count(self) -> int:
        return sum(len(getattr(self, t)) for t in TABLES)
