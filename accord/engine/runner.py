"""The edges around the core: source → Engine → log writer (→ sink).

`accord run` commits each batch's rows together with the input position and the
engine's state, so a run killed at any moment and resumed neither loses nor
repeats a decision. Outbox delivery to a sink happens after the commit and is
recorded separately: at least once, with the outbox table the source of truth.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import os
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

STATE_EVERY = 20_000
"""How often (in input records) `accord run` writes the engine's state with its checkpoint.

Every commit moves the checkpoint's position; only some carry a new snapshot of
the state. Serialising every open case on every commit cost about as much as the
decisions of the batch when thousands of cases are open. `--resume` loads the
last snapshot and runs the records between it and the committed position again,
dropping the rows they make: the killed run committed those already, and the
engine is deterministic, so they come out the same.
"""


_GC_GEN0 = 20_000
"""The cyclic collector's first threshold while a run lasts (Python's default is 700).

The engine makes and drops many small containers per event and keeps a batch's
row tuples until they are written; at the default the collector ran about 500
times per 50,000 events and took ~8% of a logged run, mostly re-scanning those
tuples. The engine makes little cyclic garbage (a few thousand objects per
50,000 events), which the older generations still collect.
"""


def _fewer_collections(run: Callable) -> Callable:
    """Raise the collector's threshold for the call, and put the caller's setting back after it."""

    @functools.wraps(run)
    def wrapper(*args, **kwargs):
        previous = gc.get_threshold()
        if previous[0] and previous[0] < _GC_GEN0:
            gc.set_threshold(_GC_GEN0, *previous[1:])
        try:
            return run(*args, **kwargs)
        finally:
            gc.set_threshold(*previous)

    return wrapper


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


@_fewer_collections
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
    state_every: int = STATE_EVERY,
) -> RunResult:
    """Run a plan over a source; the returned log stays open (close it when done)."""
    if mode not in ("dry-run", "run"):
        raise UsageError(f"unknown mode '{mode}'", help="a run's mode is 'dry-run' or 'run'")
    if mode == "dry-run" and sink is not None:
        raise UsageError("a dry run never delivers the outbox", help="use mode 'run' (accord run) to deliver to a sink")
    owned = log is None
    if log is None:
        log = DuckDBLog.open(db) if logging else NullLog.open()
    src = source.describe()
    if src != "-":  # `./ev.jsonl` and `ev.jsonl` are one source: a second run over it is refused, a resume finds it
        src = os.path.normpath(src)
    state = None
    run_id = None
    delivered = 0
    committed = 0  # input records whose rows the log holds already (a resumed run re-derives, not rewrites, them)
    try:
        if mode == "run":
            checkpoint = log.latest_checkpoint(src)
            if checkpoint is not None and resume:
                run_id, committed, _, delivered, blob = checkpoint
                started = log.run_policy(run_id)
                if started is not None and started[2] != plan.policy_hash:
                    # the records re-derived from the last snapshot, and every later one, must see the same rules
                    raise UsageError(
                        f"log '{db}' holds a run of '{src}' under another policy: '{started[0]}' version "
                        f"{started[1]} (hash {started[2][:12]}), not '{plan.policy}' version {plan.version} "
                        f"(hash {plan.policy_hash[:12]})",
                        help="resume with the policy the run started with, or write this one to another --db file",
                    )
                state = load_state(blob)
            elif log.has_run_of_source(src) and not resume:
                raise UsageError(
                    f"log '{db}' already holds a run of '{src}'",
                    help="add --resume to continue it (from the beginning if it committed no progress, as a dry run "
                         "does not), or write to another --db file",
                )
        resumed = state is not None
        run_id = run_id or uuid.uuid4().hex[:16]
        engine = Engine(plan, run_id, logging=logging, state=state)
        # the run's row goes in with its first batch: a run that dies before committing anything leaves
        # nothing behind, and its `--resume` starts afresh as one run, not two
        run_row = None if resumed else (run_id, plan.policy, plan.version, plan.policy_hash, mode, src, _now(),
                                        None, 0, 0, "running", __version__)
        st = engine.state
        if st.finished:
            _deliver(log, run_id, sink, delivered)
            return RunResult(run_id, st.events_in, st.events_dead, log, resumed, True)

        snapshot_at = st.position if resumed else None  # the position of the last state written

        def commit(rows: dict) -> None:
            nonlocal delivered, snapshot_at, run_row
            if run_row is not None:
                rows, run_row = {"runs": [run_row], **rows}, None
            cp = None
            if mode == "run":
                blob = None
                if snapshot_at is None or st.finished or st.position - snapshot_at >= state_every:
                    blob, snapshot_at = dump_state(st), st.position
                cp = (run_id, src, st.position, st.outbox_seq, delivered, blob)
            log.write(rows, cp)
            delivered = _deliver(log, run_id, sink, delivered)

        rows = engine.rows
        for batch in source.batches(start=st.position, size=batch_size):
            for raw in batch:
                engine.process(raw)
                if st.position == committed:
                    rows.take()  # re-derived up to where the killed run committed: those rows are in the log
            if st.position <= committed:
                rows.take()
            # `run` commits every batch with its checkpoint (the resume point); a dry run keeps no checkpoint,
            # so it writes when enough rows have gathered: fewer, larger transactions
            elif mode == "run" or len(rows.decisions) + len(rows.events) >= _DRY_RUN_ROWS:
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
