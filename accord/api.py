"""The Python entry points: `accord.Engine` for running a plan from code."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from accord.dsl.plan import Plan
from accord.engine.runner import RunResult, execute
from accord.engine.sources import EventSource, RawEvent, _kind, _lower_first, open_source
from accord.errors import UsageError


class IterableSource(EventSource):
    """Events given as Python dicts (or JSON text), e.g. from a test or a queue consumer."""

    def __init__(self, events: Iterable[Any], name: str = "events"):
        super().__init__(name, name)
        self._events = events

    def _records(self, start: int) -> Iterator[RawEvent]:
        for position, item in enumerate(self._events):
            if position < start:
                continue
            ref = self._ref(position + 1)
            if isinstance(item, (str, bytes)):
                text = item.decode() if isinstance(item, bytes) else item
                try:
                    data = orjson.loads(text)
                except orjson.JSONDecodeError as exc:
                    yield RawEvent(position, ref, text, None, f"not json: {exc}")
                    continue
            else:
                # through JSON and back, so the engine sees what a file holding this event would give it
                try:
                    text = orjson.dumps(item, default=str).decode()
                except orjson.JSONEncodeError as exc:
                    yield RawEvent(position, ref, repr(item)[:10_000], None, f"not json: {_lower_first(str(exc))}")
                    continue
                data = orjson.loads(text)
            if not isinstance(data, dict):
                yield RawEvent(position, ref, text, None, f"not an object: got {_kind(data)}")
            else:
                yield RawEvent(position, ref, text, data)


class Engine:
    """Runs a compiled plan over events and logs every decision to DuckDB.

    >>> engine = Engine(accord.load_policy("policy.yaml"))
    >>> result = engine.run([{"type": "request_received", ...}])
    >>> engine.query("SELECT agent, outcome FROM decisions")
    """

    def __init__(self, plan: Plan | str | Path, *, db: str | None = None):
        if not isinstance(plan, Plan):
            from accord.dsl import load_policy

            plan = load_policy(plan)
        self.plan = plan
        self.db = db
        self.result: RunResult | None = None

    def run(self, events: str | Path | Iterable[Any], *, mode: str = "dry-run", resume: bool = False,
            sink=None, logging: bool = True) -> RunResult:
        if isinstance(events, (dict, bytes)) or not isinstance(events, (str, Path, Iterable)):
            raise UsageError(f"events must be a path or an iterable of events, got {type(events).__name__}",
                             help="pass a list of events, e.g. engine.run([event])")
        source = open_source(str(events)) if isinstance(events, (str, Path)) else IterableSource(events)
        if self.result is not None and self.db is None:
            self.result.log.close()
        self.result = execute(self.plan, source, db=self.db, mode=mode, resume=resume, sink=sink, logging=logging)
        return self.result

    def query(self, sql: str, params: list | None = None) -> list[dict]:
        if self.result is None:
            raise RuntimeError("run the engine before querying its log")
        cur = self.result.log.con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def close(self) -> None:
        if self.result is not None:
            self.result.log.close()
