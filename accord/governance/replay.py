"""`accord replay`: run a logged run's input events again under another policy, in shadow,
and report what would change.

The `events` table holds every input record of a run in order (dead ones with
their raw text), so a run can be reproduced without its source file. The shadow
run is a dry run: nothing is dispatched, and its log lives in memory unless
`--out` names a file. Events keep their original ids, so decisions pair up by
(case, event, agent) — and the n-th activation of an agent on one event with the
n-th, should an agent run twice on an event.

A record that was dead for a reason of the source (not JSON, not an object, not
UTF-8, too long, a bad CSV row) stays dead; one that was dead for a reason the
policy decides (its case key, its time zone, a missing `time` its SLAs need) is
offered to the new policy, which may well accept it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from accord.dsl.plan import Plan
from accord.engine.sources import EventSource, RawEvent, parse_object
from accord.errors import UsageError
from accord.governance.audit import prepare_cases
from accord.governance.logs import RunInfo
from accord.governance.render import table

SOURCE_DEAD = ("not json", "not an object", "not utf-8", "not csv", "not an array", "line longer",
               "element longer", "row has")
"""Prefixes of the reasons a source gives for a dead record: these stay dead in a replay."""


class LoggedEvents(EventSource):
    """The input records of one logged run, rebuilt in `seq` order with their original ids."""

    def __init__(self, con, run_id: str, path: str):
        super().__init__(f"replay of {path} run {run_id}", "replay")
        self._con = con
        self._run_id = run_id

    def _records(self, start: int) -> Iterator[RawEvent]:
        cur = self._con.execute(
            "SELECT seq, event_id, status, error, payload, raw FROM events WHERE run_id = ? AND seq > ? "
            "ORDER BY seq", [self._run_id, start])
        while rows := cur.fetchmany(2000):
            for seq, event_id, status, error, payload, raw in rows:
                yield rebuild(seq, event_id, status, error, payload, raw)


def rebuild(seq: int, event_id: str, status: str, error: str | None, payload: str | None,
            raw: str | None) -> RawEvent:
    """One `events` row as the RawEvent a source would have yielded (`ref` is the logged id)."""
    position = seq - 1
    if status == "ok":
        data, why = parse_object(payload or "")
        return RawEvent(position, event_id, payload or "", data, why)
    text = raw if raw is not None else (payload or "")
    reason = error or "dead"
    if reason.startswith(SOURCE_DEAD):
        return RawEvent(position, event_id, text, None, reason)
    data, why = parse_object(text)
    if data is None:
        return RawEvent(position, event_id, text, None, reason)
    return RawEvent(position, event_id, text, data, None)


def replay(plan: Plan, con, run: RunInfo, path: str, *, out: str | None = None, limit: int = 50) -> dict[str, Any]:
    """Shadow-run `plan` over the events of `run` (read through `con`) and compare the two logs.

    `limit` caps the per-case and per-decision change rows listed (0: all); the counts
    always cover every change.
    """
    from accord.engine.runner import execute

    if out is not None and os.path.exists(out) and os.path.samefile(out, path):
        raise UsageError(f"--out '{out}' is the log being replayed",
                         help="write the shadow log to another file, or leave out --out to keep it in memory")
    result = execute(plan, LoggedEvents(con, run.run_id, path), db=out, mode="dry-run")
    shadow = result.log.con
    try:
        return _compare(con, shadow, run, result.run_id, plan, out, limit)
    finally:
        result.log.close()


_DECISION_COLS = "decision_id, case_id, event_id, agent, seq, position, rule, outcome, escalated, held"
_TOTALS = (
    ("events dead", "SELECT count(*) FROM events WHERE run_id = ? AND status = 'dead'"),
    ("cases", "SELECT count(*) FROM cases WHERE run_id = ?"),
    ("decisions", "SELECT count(*) FROM decisions WHERE run_id = ?"),
    ("held decisions", "SELECT count(*) FROM decisions WHERE run_id = ? AND held"),
    ("escalations", "SELECT count(*) FROM escalations WHERE run_id = ?"),
    ("negotiations", "SELECT count(*) FROM negotiations WHERE run_id = ?"),
    ("outbox records", "SELECT count(*) FROM outbox WHERE run_id = ?"),
    ("sla breaches", "SELECT count(*) FROM slas WHERE run_id = ? AND status = 'breached'"),
)


def _compare(old, new, run: RunInfo, new_run: str, plan: Plan, out: str | None, limit: int) -> dict[str, Any]:
    """Bring the old run's compact rows into the shadow connection (as Arrow) and diff in SQL."""
    prepare_cases(old, run.run_id)
    prepare_cases(new, new_run)
    old_decisions = old.sql(f"SELECT {_DECISION_COLS} FROM decisions WHERE run_id = $run",
                            params={"run": run.run_id}).to_arrow_table()
    old_cases = old.sql("SELECT case_id, instance, status, outcome, escalated FROM audit_cases").to_arrow_table()
    new.register("replay_old_decisions", old_decisions)
    new.register("replay_old_cases", old_cases)
    new.execute(f"""
        CREATE OR REPLACE TEMP TABLE replay_decisions AS
        WITH o AS (
            SELECT *, row_number() OVER (PARTITION BY case_id, event_id, agent ORDER BY seq, position) AS k
            FROM replay_old_decisions
        ),
        n AS (
            SELECT {_DECISION_COLS},
                   row_number() OVER (PARTITION BY case_id, event_id, agent ORDER BY seq, position) AS k
            FROM decisions WHERE run_id = $run
        )
        SELECT coalesce(o.case_id, n.case_id) AS case_id, coalesce(o.event_id, n.event_id) AS event_id,
               coalesce(o.agent, n.agent) AS agent, coalesce(o.seq, n.seq) AS seq,
               coalesce(o.position, n.position) AS position,
               o.decision_id AS old_id, n.decision_id AS new_id,
               o.outcome AS old_outcome, n.outcome AS new_outcome, o.rule AS old_rule, n.rule AS new_rule,
               o.escalated AS old_escalated, n.escalated AS new_escalated, o.held AS old_held, n.held AS new_held,
               CASE WHEN o.agent IS NULL THEN 'added'
                    WHEN n.agent IS NULL THEN 'removed'
                    WHEN o.outcome IS DISTINCT FROM n.outcome THEN 'outcome'
                    WHEN o.rule IS DISTINCT FROM n.rule THEN 'rule'
                    WHEN o.escalated IS DISTINCT FROM n.escalated THEN 'escalated'
                    WHEN o.held IS DISTINCT FROM n.held THEN 'held'
                    ELSE 'same' END AS change
        FROM o FULL OUTER JOIN n
          ON o.case_id = n.case_id AND o.event_id = n.event_id AND o.agent = n.agent AND o.k = n.k
    """, {"run": new_run})
    new.execute("""
        CREATE OR REPLACE TEMP TABLE replay_cases AS
        SELECT coalesce(o.case_id, n.case_id) AS case_id, coalesce(o.instance, n.instance) AS instance,
               o.status AS old_status, n.status AS new_status, o.outcome AS old_outcome, n.outcome AS new_outcome,
               o.escalated AS old_escalated, n.escalated AS new_escalated,
               CASE WHEN o.case_id IS NULL THEN 'added'
                    WHEN n.case_id IS NULL THEN 'removed'
                    WHEN o.status IS DISTINCT FROM n.status OR o.outcome IS DISTINCT FROM n.outcome
                         OR o.escalated IS DISTINCT FROM n.escalated THEN 'changed'
                    ELSE 'same' END AS change
        FROM replay_old_cases o FULL OUTER JOIN audit_cases n ON o.case_id = n.case_id AND o.instance = n.instance
    """)
    report: dict[str, Any] = {
        "run": {"run_id": run.run_id, "policy": run.policy, "policy_version": run.policy_version,
                "policy_hash": run.policy_hash, "events_in": run.events_in},
        "policy": {"policy": plan.policy, "policy_version": plan.version, "policy_hash": plan.policy_hash},
        "shadow": {"run_id": new_run, "db": out},
        "totals": [{"measure": m, "old": old.execute(sql, [run.run_id]).fetchone()[0],
                    "new": new.execute(sql, [new_run]).fetchone()[0]} for m, sql in _TOTALS],
    }
    report["cases"] = _case_changes(new, limit)
    report["decisions"] = _decision_changes(new, limit)
    return report


def _tally(con, table_name: str) -> dict[str, int]:
    """Rows per `change` value of a comparison table."""
    return dict(con.execute(f"SELECT change, count(*) FROM {table_name} GROUP BY change").fetchall())


def _case_changes(con, limit: int) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for old_s, new_s, old_o, new_o, old_e, new_e, change in con.execute(
            "SELECT old_status, new_status, old_outcome, new_outcome, old_escalated, new_escalated, change "
            "FROM replay_cases WHERE change <> 'same'").fetchall():
        for key in _case_keys(change, old_s, new_s, old_o, new_o, old_e, new_e):
            counts[key] = counts.get(key, 0) + 1
    lim = "" if limit == 0 else f" LIMIT {int(limit)}"
    rows = con.execute(
        "SELECT case_id, instance, change, old_status, new_status, old_outcome, new_outcome, old_escalated, "
        f"new_escalated FROM replay_cases WHERE change <> 'same' ORDER BY case_id, instance{lim}").fetchall()
    names = ("case_id", "instance", "change", "old_status", "new_status", "old_outcome", "new_outcome",
             "old_escalated", "new_escalated")
    tally = _tally(con, "replay_cases")
    return {
        "compared": sum(tally.values()), "unchanged": tally.get("same", 0), "changed": tally.get("changed", 0),
        "added": tally.get("added", 0), "removed": tally.get("removed", 0),
        "counts": [{"change": k, "cases": n} for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))],
        "changes": [dict(zip(names, r)) for r in rows],
    }


def _case_keys(change, old_s, new_s, old_o, new_o, old_e, new_e) -> list[str]:
    if change == "added":
        return [f"case added: {new_s}, outcome {_v(new_o)}"]
    if change == "removed":
        return [f"case removed: was {old_s}, outcome {_v(old_o)}"]
    keys = []
    if old_s != new_s:
        keys.append(f"status {old_s} → {new_s}")
    if old_o != new_o:
        keys.append(f"outcome {_v(old_o)} → {_v(new_o)}")
    if old_e != new_e:
        keys.append("escalated → not escalated" if old_e else "not escalated → escalated")
    return keys


def _v(value) -> str:
    return "(none)" if value is None else str(value)


def _decision_changes(con, limit: int) -> dict[str, Any]:
    groups = con.execute("""
        SELECT agent, change, old_outcome, new_outcome,
               CASE WHEN change = 'rule' THEN old_rule END, CASE WHEN change = 'rule' THEN new_rule END,
               CASE WHEN change IN ('escalated', 'held') THEN old_escalated END,
               CASE WHEN change IN ('escalated', 'held') THEN old_held END,
               count(*) AS n, min(seq) AS first
        FROM replay_decisions WHERE change <> 'same'
        GROUP BY ALL ORDER BY n DESC, first, agent
    """).fetchall()
    counts = []
    for agent, change, old_o, new_o, old_r, new_r, old_e, old_h, n, _ in groups:
        counts.append({"agent": agent, "kind": change,
                       "change": _decision_key(change, old_o, new_o, old_r, new_r, old_e, old_h), "decisions": n})
    lim = "" if limit == 0 else f" LIMIT {int(limit)}"
    names = ("case_id", "event_id", "agent", "change", "old_outcome", "new_outcome", "old_rule", "new_rule",
             "old_escalated", "new_escalated", "old_held", "new_held", "old_id", "new_id")
    rows = con.execute(f"SELECT {', '.join(names)} FROM replay_decisions WHERE change <> 'same' "
                       f"ORDER BY seq, position, agent{lim}").fetchall()
    tally = _tally(con, "replay_decisions")
    changed = sum(v for k, v in tally.items() if k not in ("same", "added", "removed"))
    return {
        "old": con.execute("SELECT count(old_id) FROM replay_decisions").fetchone()[0],
        "new": con.execute("SELECT count(new_id) FROM replay_decisions").fetchone()[0],
        "unchanged": tally.get("same", 0), "changed": changed, "added": tally.get("added", 0),
        "removed": tally.get("removed", 0),
        "counts": counts,
        "changes": [dict(zip(names, r)) for r in rows],
    }


def _decision_key(change, old_o, new_o, old_r, new_r, old_e, old_h) -> str:
    if change == "added":
        return f"(added) → {_v(new_o)}"
    if change == "removed":
        return f"{_v(old_o)} → (removed)"
    if change == "outcome":
        return f"{_v(old_o)} → {_v(new_o)}"
    if change == "rule":
        return f"{_v(old_o)}, rule {_v(old_r)} → {_v(new_r)}"
    if change == "escalated":
        return f"{_v(old_o)}, {'escalated → not escalated' if old_e else 'not escalated → escalated'}"
    return f"{_v(old_o)}, {'held → not held' if old_h else 'not held → held'}"


# -- rendering -----------------------------------------------------------------------------


def render_table(report: dict[str, Any], limit: int) -> str:
    run, pol, c, d = report["run"], report["policy"], report["cases"], report["decisions"]
    same_policy = run["policy_hash"] == pol["policy_hash"]
    lines = [
        f"replay of run {run['run_id']} (policy '{run['policy']}' {run['policy_version']}) "
        f"under policy '{pol['policy']}' {pol['policy_version']}"
        + (" — the same policy content" if same_policy else ""),
        f"shadow run {report['shadow']['run_id']}, log " + (report["shadow"]["db"] or "in memory"),
        f"cases     {c['compared']}: {c['unchanged']} unchanged, {c['changed']} changed, "
        f"{c['added']} added, {c['removed']} removed",
        f"decisions {d['old']} → {d['new']}: {d['unchanged']} unchanged, {d['changed']} changed, "
        f"{d['added']} added, {d['removed']} removed",
        "",
    ]
    parts = ["\n".join(lines)]
    parts.append(table("totals", ("measure", "old", "new", "change"),
                       [[t["measure"], t["old"], t["new"], _delta(t["old"], t["new"])] for t in report["totals"]]))
    parts.append(table("decision changes by kind", ("agent", "change", "decisions"),
                       [[r["agent"], r["change"], r["decisions"]] for r in d["counts"]],
                       empty="none: every decision came out the same"))
    parts.append(table("case changes by kind", ("change", "cases"),
                       [[r["change"], r["cases"]] for r in c["counts"]],
                       empty="none: every case ended the same"))
    if c["changes"]:
        parts.append(table(_listed("cases that change", len(c["changes"]), c["compared"] - c["unchanged"], limit),
                           ("case", "change", "status", "outcome", "escalated"),
                           [[r["case_id"] + (f" #{r['instance']}" if r["instance"] != 1 else ""), r["change"],
                             _pair(r["old_status"], r["new_status"]), _pair(r["old_outcome"], r["new_outcome"]),
                             _pair(r["old_escalated"], r["new_escalated"])] for r in c["changes"]]))
    if d["changes"]:
        total = d["changed"] + d["added"] + d["removed"]
        parts.append(table(_listed("decisions that change", len(d["changes"]), total, limit),
                           ("case", "event", "agent", "change", "outcome", "rule", "old id", "new id"),
                           [[r["case_id"], r["event_id"], r["agent"], r["change"],
                             _pair(r["old_outcome"], r["new_outcome"]), _pair(r["old_rule"], r["new_rule"]),
                             r["old_id"] or "", r["new_id"] or ""] for r in d["changes"]]))
    return "\n".join(parts).rstrip() + "\n"


def _listed(title: str, shown: int, total: int, limit: int) -> str:
    return f"{title} (first {shown} of {total}; --limit 0 lists all)" if limit and shown < total else title


def _pair(old, new) -> str:
    def text(v):
        return "-" if v is None else ("yes" if v is True else "no" if v is False else str(v))

    return text(old) if old == new else f"{text(old)} → {text(new)}"


def _delta(old: int, new: int) -> str:
    return "" if old == new else f"{new - old:+d}"
