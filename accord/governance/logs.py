"""Opening a decision log for reading and choosing the run a command looks at.

Every governance command reads one run of a log; a log may hold several, so
`--run` picks one and the default is the latest started. A DuckDB file that is
not an Accord log (no `runs` table) is refused with a message, not a SQL error.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from accord.engine.log_query import open_read_only
from accord.errors import UsageError


@dataclass(frozen=True)
class RunInfo:
    """The `runs` row of the run a command reads."""

    run_id: str
    policy: str
    policy_version: str
    policy_hash: str
    mode: str
    source: str
    events_in: int
    events_dead: int


def open_log(path: str) -> duckdb.DuckDBPyConnection:
    """A read-only connection to an Accord log; refuses a file that is not one."""
    con = open_read_only(path)
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    missing = [t for t in ("runs", "events", "decisions") if t not in tables]
    if missing:
        con.close()
        raise UsageError(
            f"'{path}' is not an accord log: it has no '{missing[0]}' table",
            help="give a log written by accord run or accord dry-run with --db",
        )
    return con


def pick_run(con: duckdb.DuckDBPyConnection, path: str, run_id: str | None) -> RunInfo:
    """The run named by `run_id`, or the latest started run of the log."""
    cols = "run_id, policy, policy_version, policy_hash, mode, source, events_in, events_dead"
    if run_id is None:
        row = con.execute(f"SELECT {cols} FROM runs ORDER BY started_at DESC, rowid DESC LIMIT 1").fetchone()
        if row is None:
            raise UsageError(f"log '{path}' holds no runs",
                             help=f"write one first: accord dry-run POLICY --events SRC --db {path}")
        return RunInfo(*row)
    row = con.execute(f"SELECT {cols} FROM runs WHERE run_id = ?", [run_id]).fetchone()
    if row is None:
        known = [r[0] for r in con.execute(
            "SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 5").fetchall()]
        help_ = ("runs in this log: " + ", ".join(known)) if known else "this log holds no runs"
        raise UsageError(f"no run '{run_id}' in log '{path}'", help=help_)
    return RunInfo(*row)
