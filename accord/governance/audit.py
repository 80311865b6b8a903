"""`accord audit`: how a run's decisions fared, read back from its log.

Four questions, each answered from the log alone (the policy is not needed):

- rates: how often each agent, rule and queue escalates, and how many cases end
  with an outcome no person had to look at (auto-resolved);
- SLAs: breach rate per SLA;
- decision variance: decisions of one agent that read the same values yet came
  out differently, which points at something the log does not capture (time,
  case history read indirectly) or at a rule that is not deterministic in its
  inputs;
- anomalies: windows of event time whose escalation or error rate is far from
  the rest of the run.

A case is identified by (case_id, opened_at): the same key may open again after
it closed. Its final status hides whether it was ever escalated (closing is
final), so escalation is read from the `escalations` table, each row attached to
the case instance open at its event's time.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson

from accord.governance import stats
from accord.governance.logs import RunInfo
from accord.governance.render import pct, rate, table

DEFAULT_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class AnomalySettings:
    """`window` None: one hour, shortened for a short run (`stats.adapt_window`)."""

    window: timedelta | None = None
    min_decisions: int = 10
    alpha: float = 0.01


# Case instances of the run, each escalation attached to the instance open at its time, and a flag
# per instance. An ASOF join finds "the latest instance opened at or before"; without times (no
# `time` in the events) the latest instance of the key is taken. Temp tables: the log stays read-only.
_PREPARE = (
    """
CREATE OR REPLACE TEMP TABLE audit_instances AS
SELECT case_id, opened_at, status, outcome,
       row_number() OVER (PARTITION BY case_id ORDER BY opened_at NULLS FIRST, rowid) AS instance
FROM cases WHERE run_id = $run
""",
    """
CREATE OR REPLACE TEMP TABLE audit_escalations AS
WITH ev AS (
    SELECT event_id, case_id, max(time) AS time FROM events WHERE run_id = $run GROUP BY ALL
),
esc AS (
    SELECT e.rowid AS esc_row, e.case_id, coalesce(e.queue, '(' || coalesce(e.source, 'unknown') || ')') AS queue,
           coalesce(d.case_opened_at, d.event_time, ev.time) AS at
    FROM escalations e
    LEFT JOIN decisions d ON d.run_id = e.run_id AND d.decision_id = e.decision_id
    LEFT JOIN ev ON ev.event_id = split_part(e.event_id, '/', 1) AND ev.case_id = e.case_id
    WHERE e.run_id = $run
)
SELECT esc.esc_row, esc.case_id, esc.queue,
       coalesce(c.instance, (SELECT max(instance) FROM audit_instances c2 WHERE c2.case_id = esc.case_id))
           AS instance
FROM esc ASOF LEFT JOIN audit_instances c ON esc.case_id = c.case_id AND esc.at >= c.opened_at
""",
    """
CREATE OR REPLACE TEMP TABLE audit_cases AS
SELECT c.case_id, c.instance, c.opened_at, c.status, c.outcome,
       count(e.esc_row) AS escalations,
       count(e.esc_row) > 0 AS escalated,
       c.outcome IS NOT NULL AND count(e.esc_row) = 0 AS auto_resolved
FROM audit_instances c LEFT JOIN audit_escalations e ON e.case_id = c.case_id AND e.instance = c.instance
GROUP BY c.case_id, c.instance, c.opened_at, c.status, c.outcome
""",
    # each decision joined to its case instance (the one opened at its case_opened_at)
    """
CREATE OR REPLACE TEMP TABLE audit_decisions AS
SELECT d.agent, d.role, d.rule, d.escalated, d.error IS NOT NULL AS failed, d.case_id,
       coalesce(a.instance, (SELECT max(instance) FROM audit_instances a2 WHERE a2.case_id = d.case_id))
           AS instance,
       d.rowid AS at_row
FROM decisions d ASOF LEFT JOIN audit_instances a ON d.case_id = a.case_id AND d.case_opened_at >= a.opened_at
WHERE d.run_id = $run
""",
)

_QUEUES = """
SELECT q.queue, count(*) AS escalations,
       count(DISTINCT (q.case_id, q.instance)) AS cases,
       count(DISTINCT (q.case_id, q.instance)) FILTER (WHERE a.outcome IS NOT NULL) AS resolved_after
FROM audit_escalations q LEFT JOIN audit_cases a ON a.case_id = q.case_id AND a.instance = q.instance
GROUP BY q.queue ORDER BY escalations DESC, q.queue
"""

_BY = """
SELECT {keys}, count(*) AS decisions,
       count(*) FILTER (WHERE d.escalated) AS escalated,
       count(*) FILTER (WHERE d.failed) AS errors,
       count(DISTINCT (d.case_id, d.instance)) FILTER (WHERE a.case_id IS NOT NULL) AS cases,
       count(DISTINCT (d.case_id, d.instance)) FILTER (WHERE a.auto_resolved) AS auto_resolved
FROM audit_decisions d LEFT JOIN audit_cases a ON a.case_id = d.case_id AND a.instance = d.instance
GROUP BY {group} ORDER BY min(min(d.at_row)) OVER (PARTITION BY d.agent), min(d.at_row)
"""


def prepare_cases(con, run_id: str) -> None:
    """Temp tables `audit_cases` (one row per case instance, with `escalated` and `auto_resolved`),
    `audit_escalations` and `audit_decisions` (each row with its case instance) for one run."""
    for sql in _PREPARE:
        con.execute(sql, {"run": run_id} if "$run" in sql else None)


def audit(con, run: RunInfo, settings: AnomalySettings | None = None, *, examples: int = 3) -> dict[str, Any]:
    """Everything `accord audit` reports, as plain data (the JSON output)."""
    settings = settings or AnomalySettings()
    p = {"run": run.run_id}
    prepare_cases(con, run.run_id)
    cases, auto, escalated = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE auto_resolved), count(*) FILTER (WHERE escalated) "
        "FROM audit_cases").fetchone()
    decisions, esc_decisions, errors = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE escalated), count(*) FILTER (WHERE failed) FROM audit_decisions"
    ).fetchone()
    report: dict[str, Any] = {
        "run": {"run_id": run.run_id, "policy": run.policy, "policy_version": run.policy_version,
                "mode": run.mode, "source": run.source, "events_in": run.events_in,
                "events_dead": run.events_dead},
        "totals": {
            "cases": cases, "auto_resolved": auto, "auto_resolution_rate": rate(auto, cases),
            "escalated_cases": escalated, "case_escalation_rate": rate(escalated, cases),
            "decisions": decisions, "escalated_decisions": esc_decisions,
            "escalation_rate": rate(esc_decisions, decisions), "errors": errors,
            "error_rate": rate(errors, decisions),
        },
    }
    report["by_agent"] = [_rates(dict(zip(("agent", "role"), r[:2])), r[2:]) for r in con.execute(
        _BY.format(keys="d.agent, any_value(d.role)", group="d.agent")).fetchall()]
    report["by_rule"] = [_rates(dict(zip(("agent", "rule"), r[:2])), r[2:]) for r in con.execute(
        _BY.format(keys="d.agent, d.rule", group="d.agent, d.rule")).fetchall()]
    report["by_queue"] = [
        {"queue": q, "escalations": n, "cases": c, "share_of_escalated_cases": rate(c, escalated),
         "resolved_after": r, "resolution_rate": rate(r, c)}
        for q, n, c, r in con.execute(_QUEUES).fetchall()]
    report["slas"] = [
        {"sla": s, "clocks": n, "met": m, "breached": b, "pending": pe, "breach_rate": rate(b, m + b)}
        for s, n, m, b, pe in con.execute(
            "SELECT sla, count(*), count(*) FILTER (WHERE status = 'met'), "
            "count(*) FILTER (WHERE status = 'breached'), count(*) FILTER (WHERE status = 'pending') "
            "FROM slas WHERE run_id = $run GROUP BY sla ORDER BY min(rowid)", p).fetchall()]
    report["variance"] = decision_variance(con, run.run_id, examples=examples)
    report["anomalies"] = anomalies(con, run.run_id, settings)
    return report


def _rates(head: dict, counts: tuple) -> dict:
    decisions, escalated, errors, cases, auto = counts
    return {**head, "decisions": decisions, "escalated": escalated, "escalation_rate": rate(escalated, decisions),
            "errors": errors, "cases": cases, "auto_resolved": auto, "auto_resolution_rate": rate(auto, cases)}


# -- decision variance ---------------------------------------------------------------------


def canonical_inputs(text: str | None) -> bytes:
    """The inputs JSON with keys sorted at every level: the same values read in another order
    are the same inputs."""
    if text is None:
        return b"null"
    return orjson.dumps(orjson.loads(text), option=orjson.OPT_SORT_KEYS)


def decision_variance(con, run_id: str, *, examples: int = 3, batch: int = 10_000) -> list[dict]:
    """Groups of one agent's decisions with the same canonical inputs and more than one outcome.

    Streams the decisions once, keeping a 16-byte digest per distinct (agent, inputs) and the
    outcome counts only for groups that turn out to vary, so memory stays small on a long run.
    """
    first: dict[tuple[str, bytes], list] = {}  # key → [outcome, count, example ids, inputs]
    varied: dict[tuple[str, bytes], dict] = {}
    cur = con.execute("SELECT decision_id, agent, outcome, inputs FROM decisions WHERE run_id = ? ORDER BY rowid",
                      [run_id])
    while rows := cur.fetchmany(batch):
        for decision_id, agent, outcome, inputs in rows:
            canon = canonical_inputs(inputs)
            key = (agent, hashlib.blake2b(canon, digest_size=16).digest())
            outcome = "(none)" if outcome is None else outcome
            group = varied.get(key)
            if group is not None:
                group["outcomes"][outcome] += 1
                ids = group["examples"].setdefault(outcome, [])
                if len(ids) < examples:
                    ids.append(decision_id)
                continue
            seen = first.get(key)
            if seen is None:
                first[key] = [outcome, 1, [decision_id], None]
            elif seen[0] == outcome:
                seen[1] += 1
                if len(seen[2]) < examples:
                    seen[2].append(decision_id)
            else:
                varied[key] = {
                    "agent": agent,
                    "inputs": orjson.loads(canon),
                    "outcomes": Counter({seen[0]: seen[1], outcome: 1}),
                    "examples": {seen[0]: seen[2], outcome: [decision_id]},
                }
                del first[key]
    out = []
    for group in varied.values():
        counts = group["outcomes"]
        out.append({"agent": group["agent"], "decisions": sum(counts.values()), "inputs": group["inputs"],
                    "outcomes": dict(counts.most_common()),
                    "examples": {o: group["examples"][o] for o, _ in counts.most_common()}})
    out.sort(key=lambda g: (-g["decisions"], g["agent"]))
    return out


# -- anomalies -----------------------------------------------------------------------------

METRICS = {"escalation": "escalated", "error": "error IS NOT NULL"}


def anomalies(con, run_id: str, settings: AnomalySettings) -> dict[str, Any]:
    """Windows whose escalation or error rate differs from the rest of the run, by an exact
    two-sided binomial test with a Bonferroni correction over every window and metric tested."""
    lo, hi, timed = con.execute(
        "SELECT min(event_time), max(event_time), count(event_time) FROM decisions WHERE run_id = ?",
        [run_id]).fetchone()
    result: dict[str, Any] = {"window": None, "window_adapted": False, "min_decisions": settings.min_decisions,
                              "alpha": settings.alpha, "windows": 0, "tested": 0, "items": [], "note": None}
    if not timed:
        result["note"] = "no decision has an event time: anomaly windows need events with a 'time'"
        return result
    window = settings.window
    if window is None:
        window = stats.adapt_window(hi - lo, DEFAULT_WINDOW)
        result["window_adapted"] = window != DEFAULT_WINDOW
    result["window"] = _duration_text(window)
    micros = int(window / timedelta(microseconds=1))
    rows = con.execute(
        f"SELECT time_bucket(to_microseconds({micros}), event_time) AS start, count(*) AS n, "
        f"count(*) FILTER (WHERE {METRICS['escalation']}), count(*) FILTER (WHERE {METRICS['error']}) "
        "FROM decisions WHERE run_id = ? AND event_time IS NOT NULL GROUP BY start ORDER BY start",
        [run_id]).fetchall()
    result["windows"] = len(rows)
    total_n = sum(r[1] for r in rows)
    totals = {"escalation": sum(r[2] for r in rows), "error": sum(r[3] for r in rows)}
    candidates = []
    for start, n, k_esc, k_err in rows:
        if n < settings.min_decisions or total_n - n < settings.min_decisions:
            continue
        for metric, k in (("escalation", k_esc), ("error", k_err)):
            rest_n, rest_k = total_n - n, totals[metric] - k
            if totals[metric] == 0:
                continue  # nothing of this kind anywhere: no window can stand out
            p0 = stats.smoothed_rate(rest_k, rest_n)
            candidates.append({
                "start": start, "end": start + window, "metric": metric, "decisions": n, "count": k,
                "rate": k / n, "rest_rate": rest_k / rest_n, "z": round(stats.z_score(k, n, p0), 2),
                "p_value": stats.binomial_two_sided(k, n, p0),
                "direction": "high" if k / n > rest_k / rest_n else "low",
            })
    tested = len(candidates)
    result["tested"] = tested
    for c in candidates:
        c["p_value"] = min(1.0, c["p_value"] * tested)
    result["items"] = [c for c in candidates if c["p_value"] < settings.alpha]
    if not tested:
        result["note"] = (f"no window has {settings.min_decisions} or more decisions with as many outside it; "
                          "try a longer --window or a lower --min-decisions")
    return result


def _duration_text(value: timedelta) -> str:
    from accord.dsl.expr.values import format_duration

    return format_duration(value)


# -- rendering -----------------------------------------------------------------------------


def render_table(report: dict[str, Any]) -> str:
    run, t = report["run"], report["totals"]
    parts = [
        f"audit of run {run['run_id']}: policy '{run['policy']}' {run['policy_version']} ({run['mode']}), "
        f"{run['events_in']} events in, {run['events_dead']} dead",
        f"cases {t['cases']}: auto-resolved {t['auto_resolved']} ({pct(t['auto_resolution_rate'])}), "
        f"escalated {t['escalated_cases']} ({pct(t['case_escalation_rate'])})",
        f"decisions {t['decisions']}: escalated {t['escalated_decisions']} ({pct(t['escalation_rate'])}), "
        f"errors {t['errors']} ({pct(t['error_rate'])})",
        "",
    ]
    rate_cols = ("decisions", "escalated", "esc. rate", "errors", "cases", "auto-resolved", "auto rate")

    def rates(r: dict) -> list:
        return [r["decisions"], r["escalated"], pct(r["escalation_rate"]), r["errors"], r["cases"],
                r["auto_resolved"], pct(r["auto_resolution_rate"])]

    parts.append(table("by agent", ("agent", "role", *rate_cols),
                       [[r["agent"], r["role"], *rates(r)] for r in report["by_agent"]]))
    parts.append(table("by rule", ("agent", "rule", *rate_cols),
                       [[r["agent"], r["rule"] or "(no rule)", *rates(r)] for r in report["by_rule"]]))
    parts.append(table("by queue", ("queue", "escalations", "cases", "share", "resolved after", "rate"),
                       [[r["queue"], r["escalations"], r["cases"], pct(r["share_of_escalated_cases"]),
                         r["resolved_after"], pct(r["resolution_rate"])] for r in report["by_queue"]],
                       empty="no escalations"))
    parts.append(table("slas", ("sla", "clocks", "met", "breached", "pending", "breach rate"),
                       [[r["sla"], r["clocks"], r["met"], r["breached"], r["pending"], pct(r["breach_rate"])]
                        for r in report["slas"]], empty="no sla clocks"))
    parts.append(table("decision variance: same agent, same inputs, different outcomes",
                       ("agent", "decisions", "outcomes", "examples", "inputs"),
                       [[g["agent"], g["decisions"], ", ".join(f"{o} {n}" for o, n in g["outcomes"].items()),
                         "; ".join(f"{o}: {', '.join(ids)}" for o, ids in g["examples"].items()),
                         orjson.dumps(g["inputs"]).decode()] for g in report["variance"]],
                       empty="none: every agent decided the same way on the same inputs"))
    a = report["anomalies"]
    head = "anomalies"
    if a["window"]:
        head += (f" (window {a['window']}{', shortened for a short run' if a['window_adapted'] else ''}; "
                 f"{_n(a['tested'], 'test')} over {_n(a['windows'], 'window')}; binomial, alpha {a['alpha']:g}, "
                 f"at least {a['min_decisions']} decisions)")
    parts.append(table(head, ("window", "metric", "decisions", "count", "rate", "rest of run", "z", "p (adj.)"),
                       [[f"{_t(c['start'])} – {_t(c['end'])}", f"{c['metric']} {c['direction']}", c["decisions"],
                         c["count"], pct(c["rate"]), pct(c["rest_rate"]), f"{c['z']:+.2f}",
                         f"{c['p_value']:.2g}"] for c in a["items"]],
                       empty=a["note"] or "none: no window is far from the rest of the run"))
    return "\n".join(parts).rstrip() + "\n"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _t(value) -> str:
    from accord.engine.log_query import rfc3339

    return rfc3339(value)
