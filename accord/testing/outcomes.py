"""The outcome of a run: what a policy did to a set of events, as plain data.

A policy test (or a snapshot) should fail when the policy's behaviour changes
and only then. So the outcome keeps what the behaviour is — cases, decisions,
escalations, outbox records, SLA clocks, negotiations, dead events — and drops
what changes from run to run or with a harmless edit: run ids, wall-clock
columns, and decision ids (derived from the policy's content hash, so a new
comment in the policy would change every one of them). A decision is named
instead by its position in the `decisions` list, and `supersedes`, the
`decision` of an escalation, an outbox record or a negotiation, are such
positions. Timestamps that come from events are kept, in UTC, as RFC 3339 text.

The same policy over the same events always yields an equal outcome.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from accord.dsl.plan import Plan
from accord.engine.logdb import NullLog

__all__ = ["MemoryLog", "build", "outcome", "outcome_from_log", "run_outcome"]


def outcome(policy: Plan | str | Path, events: str | Path | Iterable[Any], *, name: str = "events") -> dict:
    """Run `policy` (a plan or a policy path) over `events` (a path to an event
    file, or an iterable of event dicts or JSON texts) in a fresh in-memory dry
    run, and return its outcome. Raises `accord.PolicyError` when the policy
    does not validate and `accord.UsageError` when the events cannot be read."""
    plan = policy if isinstance(policy, Plan) else _load(policy)
    return run_outcome(plan, _source(events, name))


def run_outcome(plan: Plan, source) -> dict:
    """The outcome of a dry run of `plan` over an `EventSource`.

    The rows are kept in memory rather than written to DuckDB: the outcome is the
    same (tests/testing checks that it equals `outcome_from_log` of a DuckDB log),
    and a policy test suite of hundreds of tests runs in a fraction of the time."""
    from accord.engine.runner import execute

    log = MemoryLog()
    result = execute(plan, source, db=None, mode="dry-run", log=log)
    return build({t: log.table(t, result.run_id) for t in _TABLES})


def outcome_from_log(con, run_id: str) -> dict:
    """One run's outcome, read from a DuckDB decision log (rows in the order they were written)."""
    tables = {}
    for t in _TABLES:
        cur = con.execute(f"SELECT * FROM {t} WHERE run_id = ? ORDER BY rowid", [run_id])
        names = [d[0] for d in cur.description]
        tables[t] = [dict(zip(names, row)) for row in cur.fetchall()]
    return build(tables)


_TABLES = ("runs", "events", "decisions", "escalations", "outbox", "slas", "negotiations", "cases")


class MemoryLog(NullLog):
    """A decision log that keeps its rows in Python lists: the null log (no checkpoints, nothing to deliver)
    that remembers what is written."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple]] = {}

    def table(self, name: str, run_id: str) -> list[dict]:
        from accord.engine.log_schema import COLUMNS

        columns = COLUMNS[name]
        out = [dict(zip(columns, row)) for row in self.rows.get(name, [])]
        return [r for r in out if r["run_id"] == run_id]

    def write(self, rows: dict[str, list[tuple]], checkpoint: tuple | None = None) -> None:
        for name, batch in rows.items():
            self.rows.setdefault(name, []).extend(batch)

    def finish_run(self, run_id: str, finished_at, events_in: int, events_dead: int, status: str = "finished") -> None:
        from accord.engine.log_schema import COLUMNS

        columns = COLUMNS["runs"]
        runs = self.rows["runs"]
        for i, row in enumerate(runs):
            if row[columns.index("run_id")] == run_id:
                values = dict(zip(columns, row), events_in=events_in, events_dead=events_dead, status=status)
                runs[i] = tuple(values[c] for c in columns)


def build(tables: dict[str, list[dict]]) -> dict:
    """The outcome from one run's log rows, table → rows as dicts in the order they were written."""
    runs = tables["runs"]
    run = runs[0] if runs else None
    decisions, index = _decisions(tables["decisions"])
    return {
        "policy": run["policy"] if run else None,
        "version": run["policy_version"] if run else None,
        "events": {"in": run["events_in"] if run else 0, "dead": run["events_dead"] if run else 0},
        "dead": [
            {"seq": r["seq"], "event": r["event_id"], "error": r["error"]}
            for r in tables["events"] if r["status"] == "dead"
        ],
        "cases": _cases(tables["events"], tables["cases"]),
        "decisions": decisions,
        "escalations": [
            {"case": r["case_id"], "event": r["event_id"], "decision": index.get(r["decision_id"]),
             "agent": r["agent"], "queue": r["queue"], "priority": r["priority"], "reason": r["reason"],
             "source": r["source"]}
            for r in tables["escalations"]
        ],
        "outbox": [
            {"case": r["case_id"], "event": r["event_id"], "decision": index.get(r["decision_id"]),
             "agent": _agent_of(decisions, index.get(r["decision_id"])), "record": _json(r["record"])}
            for r in sorted(tables["outbox"], key=lambda r: r["seq"])
        ],
        "slas": [
            {"case": r["case_id"], "sla": r["sla"], "status": r["status"], "started_at": _time(r["started_at"]),
             "deadline": _time(r["deadline"]), "stopped_at": _time(r["stopped_at"])}
            for r in tables["slas"]
        ],
        "negotiations": [
            {"case": r["case_id"], "event": r["event_id"], "decision": index.get(r["decision_id"]),
             "agent": _agent_of(decisions, index.get(r["decision_id"])), "name": r["name"],
             "protocol": r["protocol"], "agreed": r["agreed"], "rounds": r["rounds"],
             "outcome": _json(r["outcome"]), "utility": _json(r["utility"])}
            for r in tables["negotiations"]
        ],
    }


def _decisions(rows: list[dict]) -> tuple[list[dict], dict[str, int]]:
    index = {r["decision_id"]: i for i, r in enumerate(rows)}
    out = []
    for r in rows:
        out.append({
            "case": r["case_id"],
            "event": r["event_id"],
            "agent": r["agent"],
            "role": r["role"],
            "rule": r["rule"],
            "outcome": _label(r["outcome"]),
            "reason": r["reason"],
            "outputs": _json(r["outputs"]),
            "held": bool(r["held"]),
            "escalated": bool(r["escalated"]),
            "approved_by": r["approved_by"],
            "error": r["error"],
            "supersedes": index.get(r["supersedes"]) if r["supersedes"] else None,
        })
    return out, index


def _cases(events: list[dict], rows: list[dict]) -> dict[str, Any]:
    """Case id → case; a case id opened more than once maps to the list of its cases, oldest first.

    Cases are listed in the order their first event arrived, not the order they closed."""
    first_seen: dict[str, int] = {}
    for r in events:
        if r["status"] == "ok":
            first_seen.setdefault(r["case_id"], r["seq"])
    grouped: dict[str, list[dict]] = {}
    for r in rows:
        grouped.setdefault(r["case_id"], []).append({
            "status": r["status"], "outcome": r["outcome"], "events": r["events"],
            "opened_at": _time(r["opened_at"]), "closed_at": _time(r["closed_at"]),
        })
    order = sorted(grouped, key=lambda c: (first_seen.get(c, 1 << 62), c))
    return {c: grouped[c][0] if len(grouped[c]) == 1 else grouped[c] for c in order}


def _agent_of(decisions: list[dict], i: int | None) -> str | None:
    return None if i is None else decisions[i]["agent"]


def _label(value: str | None) -> Any:
    """A `collect` agent logs its list of labels as JSON text; give it back as a list."""
    if isinstance(value, str) and value.startswith("["):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def _json(value: Any) -> Any:
    if value is None:
        return None
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


def _time(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    text = value.astimezone(dt.timezone.utc).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _load(path: str | Path) -> Plan:
    from accord.dsl import load_policy

    return load_policy(path)


def _source(events: str | Path | Iterable[Any], name: str):
    from accord.api import IterableSource
    from accord.engine.sources import open_source

    if isinstance(events, (str, Path)):
        return open_source(str(events))
    if isinstance(events, dict):
        raise TypeError("events must be a path or an iterable of events, not one event: wrap it in a list")
    return IterableSource(events, name=name)
