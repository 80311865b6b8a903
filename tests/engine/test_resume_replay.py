"""`--resume` from a state snapshot older than the committed position (runner.STATE_EVERY).

A run writes its state only every `state_every` records; the commits between
move the position alone. Stopped at any record and resumed, it loads the last
snapshot, runs the records after it again without writing their rows (the log
has them), and goes on: the log must equal one uninterrupted run's, table by
table, for every place the run can stop.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from accord.dsl import load_policy
from accord.engine.records import TABLES
from accord.engine.runner import execute
from accord.engine.sources import open_source
from accord.engine.state import load_state

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BATCH, EVERY = 2, 5


class Stop(Exception):
    """Stands for the process dying: raised by the source after a given number of records."""


class StoppingSource:
    """A source that dies after yielding `stop_after` records in all (counted over every batch it gives)."""

    def __init__(self, inner, stop_after: int | None):
        self.inner = inner
        self.stop_after = stop_after

    def describe(self) -> str:
        return self.inner.describe()

    def batches(self, start: int = 0, size: int = 2000):
        given = 0
        for batch in self.inner.batches(start=start, size=size):
            if self.stop_after is not None and given + len(batch) > self.stop_after:
                raise Stop
            given += len(batch)
            yield batch


def run(plan, events: Path, db: Path, *, stop_after: int | None = None, resume: bool = False) -> None:
    source = StoppingSource(open_source(str(events)), stop_after)
    result = execute(plan, source, db=str(db), mode="run", resume=resume, batch_size=BATCH, state_every=EVERY)
    result.log.close()


def snapshot_behind(db: Path) -> bool:
    """Whether the committed position is past the position of the state the checkpoint holds."""
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute("SELECT position, state FROM checkpoints").fetchone()
    return row is not None and load_state(bytes(row[1])).position < row[0]


@pytest.mark.parametrize("example", ["procurement", "returns", "travel_disruption"])
def test_stopped_anywhere_and_resumed_logs_what_one_run_logs(example, tmp_path, log_rows):
    folder = EXAMPLES / example
    plan = load_policy(str(folder / "policy.yaml"))
    events = folder / "events.jsonl"
    whole = tmp_path / "whole.duckdb"
    run(plan, events, whole)
    expected = {t: log_rows(whole, t) for t in TABLES}
    n = sum(1 for line in events.read_text().splitlines() if line.strip())
    behind = 0
    for stop in range(1, n):
        db = tmp_path / f"stopped{stop}.duckdb"
        with pytest.raises(Stop):
            run(plan, events, db, stop_after=stop)
        if db.exists() and snapshot_behind(db):
            behind += 1
        run(plan, events, db, resume=True)
        assert {t: log_rows(db, t) for t in TABLES} == expected, f"stopped after {stop} records"
    assert behind > 0  # some stops did resume from an older snapshot, re-deriving committed records


def test_a_run_raises_the_collectors_threshold_while_it_lasts(tmp_path):
    import gc

    seen = []

    class Watching(StoppingSource):
        def batches(self, start: int = 0, size: int = 2000):
            for batch in super().batches(start, size):
                seen.append(gc.get_threshold()[0])
                yield batch

    before = gc.get_threshold()
    folder = EXAMPLES / "returns"
    source = Watching(open_source(str(folder / "events.jsonl")), None)
    execute(load_policy(str(folder / "policy.yaml")), source, db=str(tmp_path / "gc.duckdb"), mode="run").log.close()
    assert seen and all(t >= 20_000 for t in seen)
    assert gc.get_threshold() == before
    with pytest.raises(Stop):  # put back on the way out of a failed run too
        execute(load_policy(str(folder / "policy.yaml")), StoppingSource(open_source(str(folder / "events.jsonl")), 3),
                db=str(tmp_path / "gc2.duckdb"), mode="run", batch_size=2)
    assert gc.get_threshold() == before
