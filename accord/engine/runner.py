"""The edges around the core: source → Engine → log writer (→ sink).

`accord run` commits each batch's rows together with the input position and the
engine's state, so a run killed at any moment and resumed neither loses nor
repeats a decision. Outbox delivery to a sink happens after the commit and is
recorded separately: at least once, with the outbox table the source of truth.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from accord import __version__
from accord.dsl.plan import Plan
from accord.engine.core import Engine
from accord.engine.logdb import DuckDBLog, NullLog
from accord.engine.sources import EventSource
from accord.engine.state import dump_state, load_state
from accord.errors import UsageError

_DRY_RUN_ROWS = 50_000  # a dry run with a log writes once this many event and decision rows have gathered


def _now() -> dt.datetime:
    """Wall clock, for the runs table's started_at / finished_at only (never for decisions)."""
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class RunResult:
    run_id: str
    events_in: int
    events_dead: int
    log: DuckDBLog | NullLog
    resumed: bool = False
    already_finished: bool = False
    summary: dict = field(default_factory=dict)


def execute(
    plan: Plan,
    source: EventSource,
    *,
    db: str | None = None,
    mode: str = "dry-run",
    resume: bool = False,
    sink=None,
    logging: bool = True,
    batch_size: int = 2000,
    progress: Callable[[int], None] | None = None,
    log: DuckDBLog | NullLog | None = None,
) -> RunResult:
    """Run a plan over a source; the returned log stays open (close it when done)."""
    owned = log is None
    if log is None:
        log = DuckDBLog.open(db) if logging else NullLog.open()
    src = source.describe()
    state = None
    run_id = None
    delivered = 0
    try:
        if mode == "run":
            checkpoint = log.latest_checkpoint(src)
            if checkpoint is not None and resume:
                run_id, _, _, delivered, blob = checkpoint
                state = load_state(blob)
            elif log.has_run_of_source(src) and not resume:
                raise UsageError(
                    f"log '{db}' already holds a run of '{src}'",
                    help="add --resume to continue that run, or write to another --db file",
                )
        resumed = state is not None
        run_id = run_id or uuid.uuid4().hex[:16]
        engine = Engine(plan, run_id, logging=logging, state=state)
        if not resumed:
            log.begin_run((run_id, plan.policy, plan.version, plan.policy_hash, mode, src, _now(), None, 0, 0,
                           "running", __version__))
        st = engine.state
        if st.finished:
            _deliver(log, run_id, sink, delivered)
            return RunResult(run_id, st.events_in, st.events_dead, log, resumed, True)

        def commit(rows: dict) -> None:
            nonlocal delivered
            cp = (run_id, src, st.position, st.outbox_seq, delivered, dump_state(st)) if mode == "run" else None
            log.write(rows, cp)
            delivered = _deliver(log, run_id, sink, delivered)

        rows = engine.rows
        for batch in source.batches(start=st.position, size=batch_size):
            for raw in batch:
                engine.process(raw)
            # `run` commits every batch with its checkpoint (the resume point); a dry run keeps no checkpoint,
            # so it writes when enough rows have gathered: fewer, larger transactions
            if mode == "run" or len(rows.decisions) + len(rows.events) >= _DRY_RUN_ROWS:
                commit(rows.take())
            if progress is not None:
                progress(st.position)
        engine.finish()
        st.finished = True
        commit(engine.rows.take())
        log.finish_run(run_id, _now(), st.events_in, st.events_dead)
        return RunResult(run_id, st.events_in, st.events_dead, log, resumed)
    except BaseException:
        if owned:  # nobody else holds it: a refused or failed run must not keep the file locked
            log.close()
        raise


def _deliver(log, run_id: str, sink, delivered: int) -> int:
    """Send committed outbox records past `delivered` to the sink; returns the new mark."""
    if sink is None:
        return delivered
    last = delivered
    records = []
    for seq, record in log.outbox_after(run_id, delivered):
        records.append(record)
        last = seq
    if records:
        sink.write(records)
        log.mark_delivered(run_id, last)
    return last
