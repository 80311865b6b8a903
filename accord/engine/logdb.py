"""The decision log writer: DuckDB, one transaction per batch, resumable.

A batch's rows for every table and the run's checkpoint (input position,
outbox position, engine state) commit together, so a run killed at any moment
and started again with `--resume` neither loses nor repeats a decision
(language section 9). Rows go in through Arrow (`log_arrow.to_arrow`), one
append per table per batch
(`from_arrow(...).insert_into`).

The read side lives in `log_query`, the outbox sink in `log_sink`; both are
re-exported here so the engine and the CLI import one module.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime

import duckdb
import pyarrow as pa

from accord.engine.log_arrow import to_arrow
from accord.engine.log_query import format_rows, open_read_only, run_query  # noqa: F401 - re-exported
from accord.engine.log_schema import COLUMNS, SCHEMA, table_ddl, view_ddl
from accord.engine.log_sink import JsonLinesSink  # noqa: F401 - re-exported
from accord.errors import UsageError

__all__ = [
    "DuckDBLog",
    "NullLog",
    "JsonLinesSink",
    "connect",
    "format_rows",
    "open_read_only",
    "run_query",
]

_OUTBOX_PAGE = 1000


def describe_open_error(path: str, exc: duckdb.Error, *, reading: bool = False) -> UsageError:
    """Turn DuckDB's refusal to open a file into a message a user can act on."""
    text = str(exc)
    name = path
    lowered = text.lower()
    if "could not set lock" in lowered or "conflicting lock" in lowered:
        return UsageError(
            f"log file '{name}' is in use by another process",
            help="wait for that run to finish, or give another file with --db",
        )
    if "not a valid DuckDB database" in text or "sqlite" in lowered or "extension" in lowered:
        return UsageError(
            f"'{name}' is not a duckdb log file",
            help="give a log written by accord run or accord dry-run --db" if reading
            else "give a new file name, or a log written by accord run --db",
        )
    if "No such file or directory" in text or "Cannot open file" in text:
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            return UsageError(f"cannot create log file '{name}': no directory '{directory}'")
    return UsageError(
        f"cannot open log file '{name}': {text.splitlines()[0] if text else type(exc).__name__}"
    )


def connect(path: str | None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB connection in UTC; None is an in-memory database."""
    try:
        # never fetch an extension: a SQLite (or other) file given as the log must be refused, not downloaded for
        con = duckdb.connect(":memory:" if path is None else path, read_only=read_only,
                             config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    except duckdb.Error as exc:
        raise describe_open_error(path or ":memory:", exc) from None
    con.execute("SET TimeZone='UTC'")
    return con


#: DuckDB's buffer pool for a log being written to a file (reads use DuckDB's default).
WRITER_MEMORY_LIMIT = "64MB"


class DuckDBLog:
    """A decision log in a DuckDB file (or in memory), written batch by batch."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str | None):
        self.con = con
        self.path = path

    @classmethod
    def open(cls, path: str | None) -> DuckDBLog:
        """Open or create the log at `path` (None: in memory) and make sure its tables exist."""
        con = connect(path)
        log = cls(con, path)
        try:
            if path is not None:
                # A file-backed writer only appends: cap DuckDB's buffer pool so written blocks go to the
                # file instead of staying resident (peak RSS then follows open cases, not the log's size).
                con.execute(f"SET memory_limit='{WRITER_MEMORY_LIMIT}'")
            con.execute(table_ddl())
            log._check_layout()
            con.execute(view_ddl())
        except BaseException:
            con.close()
            raise
        return log

    def _check_layout(self) -> None:
        """A file written by another version with other columns would corrupt rows silently; refuse it."""
        found: dict[str, list[tuple[str, str]]] = {}
        for table, column, dtype in self.con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
        ).fetchall():
            found.setdefault(table, []).append((column, dtype))
        for table in SCHEMA:
            names = [c for c, _ in found.get(table, [])]
            if names != list(COLUMNS[table]):
                missing = [c for c in COLUMNS[table] if c not in names]
                detail = (
                    f"table '{table}' lacks column '{missing[0]}'"
                    if missing
                    else f"table '{table}' has other columns"
                )
                raise UsageError(
                    f"log file '{self.path}' has another layout: {detail}",
                    help="write this run to a new --db file",
                )

    # -- writing -----------------------------------------------------------------------

    def write(self, rows: dict[str, list[tuple]], checkpoint: tuple | None = None) -> None:
        """Append a batch's rows and replace the run's checkpoint, all in one transaction.

        A checkpoint whose state is None moves the position only: the row keeps
        the state of the last snapshot (see `accord.engine.runner.STATE_EVERY`).
        On any failure nothing of the batch is kept and the error propagates.
        """
        tables = [(t, to_arrow(t, r)) for t, r in rows.items() if r]
        if checkpoint is not None and checkpoint[5] is not None:
            tables.append(("checkpoints", to_arrow("checkpoints", [checkpoint])))
        self.append(tables, checkpoint)

    def append(self, tables: list[tuple[str, pa.Table]], checkpoint: tuple | None = None) -> None:
        """The DuckDB half of `write`, its rows converted to Arrow already (the checkpoint's among them).

        Kept apart from `write` so the engine benchmark can time DuckDB's appends
        and commits by themselves.
        """
        moved = checkpoint is not None and checkpoint[5] is None
        if not tables and not moved:
            return
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            if moved:
                run_id, _, position, outbox_seq = checkpoint[:4]
                con.execute("UPDATE checkpoints SET position = ?, outbox_seq = ? WHERE run_id = ?",
                            [position, outbox_seq, run_id])
            elif checkpoint is not None:
                con.execute("DELETE FROM checkpoints WHERE run_id = ?", [checkpoint[0]])
            for table, arrow in tables:
                con.from_arrow(arrow).insert_into(table)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def finish_run(
        self, run_id: str, finished_at: datetime, events_in: int, events_dead: int, status: str = "finished"
    ) -> None:
        """Close a run's row with its counts; `status` says how it ended ('finished', 'failed', ...)."""
        self.con.execute(
            "UPDATE runs SET finished_at = ?, events_in = ?, events_dead = ?, status = ? WHERE run_id = ?",
            [finished_at, events_in, events_dead, status, run_id],
        )

    def mark_delivered(self, run_id: str, n: int) -> None:
        """Record that outbox records up to seq `n` of the run have been dispatched."""
        self.con.execute("UPDATE checkpoints SET delivered = ? WHERE run_id = ?", [n, run_id])

    # -- reading back (resume, dispatch) -----------------------------------------------

    def latest_checkpoint(self, source: str) -> tuple[str, int, int, int, bytes] | None:
        """The committed progress of the latest run over `source`: (run_id, position, outbox_seq, delivered, state)."""
        row = self.con.execute(
            "SELECT c.run_id, c.position, c.outbox_seq, c.delivered, c.state "
            "FROM checkpoints c LEFT JOIN runs r USING (run_id) WHERE c.source = ? "
            "ORDER BY r.started_at DESC NULLS LAST, c.position DESC LIMIT 1",
            [source],
        ).fetchone()
        if row is None:
            return None
        run_id, position, outbox_seq, delivered, state = row
        return run_id, position, outbox_seq, delivered, bytes(state) if state is not None else b""

    def run_policy(self, run_id: str) -> tuple[str, str, str] | None:
        """(policy, version, policy hash) the run was started with; None when the log has no such run."""
        return self.con.execute(
            "SELECT policy, policy_version, policy_hash FROM runs WHERE run_id = ?", [run_id]).fetchone()

    def has_run_of_source(self, source: str) -> bool:
        """Whether any run over `source` is in the log (a fresh run over it must say --resume)."""
        return (
            self.con.execute("SELECT 1 FROM runs WHERE source = ? LIMIT 1", [source]).fetchone() is not None
        )

    def outbox_after(self, run_id: str, delivered: int) -> Iterator[tuple[int, str]]:
        """The run's outbox records with seq > `delivered`, in order, as (seq, record JSON text).

        Read page by page (keyset on seq) so memory stays flat and writes in
        between do not disturb the iteration.
        """
        last = delivered
        while True:
            page = self.con.execute(
                "SELECT seq, record FROM outbox WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                [run_id, last, _OUTBOX_PAGE],
            ).fetchall()
            yield from page
            if len(page) < _OUTBOX_PAGE:
                return
            last = page[-1][0]

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> DuckDBLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class NullLog:
    """The log when logging is off: same interface, keeps nothing."""

    path = None

    @classmethod
    def open(cls, path: str | None = None) -> NullLog:
        return cls()

    def write(self, rows: dict[str, list[tuple]], checkpoint: tuple | None = None) -> None:
        pass

    def finish_run(
        self, run_id: str, finished_at: datetime, events_in: int, events_dead: int, status: str = "finished"
    ) -> None:
        pass

    def mark_delivered(self, run_id: str, n: int) -> None:
        pass

    def latest_checkpoint(self, source: str) -> None:
        return None

    def run_policy(self, run_id: str) -> None:
        return None

    def has_run_of_source(self, source: str) -> bool:
        return False

    def outbox_after(self, run_id: str, delivered: int) -> Iterator[tuple[int, str]]:
        return iter(())

    def close(self) -> None:
        pass

    def __enter__(self) -> NullLog:
        return self

    def __exit__(self, *exc) -> None:
        pass
