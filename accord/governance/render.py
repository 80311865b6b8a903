"""Rendering shared by `audit` and `replay`: titled rich tables as plain text, and JSON.

Tables take the width their cells need (no terminal wrapping), so output pasted
into a ticket or diffed in a test reads the same everywhere.
"""

from __future__ import annotations

import datetime as _dt
import io
from collections.abc import Sequence
from typing import Any

import orjson

from accord.engine.log_query import cell_text, iso_duration


def pct(value: float | None) -> str:
    """A rate as a percentage with one decimal; empty when there was nothing to count."""
    return "" if value is None else f"{value * 100:.1f}%"


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, empty: str = "(none)") -> str:
    """One titled table; a line saying `empty` instead when there are no rows."""
    if not rows:
        return f"{title}\n  {empty}\n"
    from rich.console import Console
    from rich.table import Table

    texts = [[v if isinstance(v, str) else cell_text(v) for v in row] for row in rows]
    natural = sum(max([len(c)] + [len(r[i]) for r in texts]) + 3 for i, c in enumerate(columns)) + 1
    t = Table(title=title, title_justify="left")
    for c in columns:
        t.add_column(c, overflow="fold")
    for row in texts:
        t.add_row(*row)
    out = io.StringIO()
    console = Console(file=out, width=max(natural, len(title), 20), color_system=None, force_terminal=False,
                      highlight=False)
    console.print(t)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines()) + "\n"


def _default(value: Any) -> Any:
    if isinstance(value, _dt.timedelta):
        return iso_duration(value)
    return str(value)


def to_json(value: Any) -> str:
    """Indented JSON with RFC 3339 times (`Z` for UTC) and ISO 8601 durations."""
    return orjson.dumps(value, default=_default,
                        option=orjson.OPT_INDENT_2 | orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS).decode()
