"""The numbers a dry run prints, read back from the log with SQL (so they are the log's truth)."""

from __future__ import annotations

from typing import Any


def summarize(con, run_id: str) -> dict[str, Any]:
    one = lambda sql: con.execute(sql, [run_id]).fetchone()[0]  # noqa: E731
    events_in, events_dead, policy, version, mode = con.execute(
        "SELECT events_in, events_dead, policy, policy_version, mode FROM runs WHERE run_id = ?", [run_id]
    ).fetchone()
    by_status = dict(con.execute(
        "SELECT status, count(*) FROM cases WHERE run_id = ? GROUP BY status ORDER BY status", [run_id]).fetchall())
    by_outcome = dict(con.execute(
        "SELECT coalesce(outcome, '(none)'), count(*) FROM cases WHERE run_id = ? GROUP BY 1 ORDER BY 1",
        [run_id]).fetchall())
    return {
        "run_id": run_id,
        "policy": policy,
        "policy_version": version,
        "mode": mode,
        "events_in": events_in,
        "events_dead": events_dead,
        "cases": one("SELECT count(*) FROM cases WHERE run_id = ?"),
        "cases_by_status": by_status,
        "cases_by_outcome": by_outcome,
        "decisions": one("SELECT count(*) FROM decisions WHERE run_id = ?"),
        "held": one("SELECT count(*) FROM decisions WHERE run_id = ? AND held"),
        "escalations": one("SELECT count(*) FROM escalations WHERE run_id = ?"),
        "escalated_cases": one("SELECT count(DISTINCT case_id) FROM escalations WHERE run_id = ?"),
        "negotiations": one("SELECT count(*) FROM negotiations WHERE run_id = ?"),
        "outbox": one("SELECT count(*) FROM outbox WHERE run_id = ?"),
        "sla_breaches": one("SELECT count(*) FROM slas WHERE run_id = ? AND status = 'breached'"),
        "slas_by_status": dict(con.execute(
            "SELECT status, count(*) FROM slas WHERE run_id = ? GROUP BY status ORDER BY status", [run_id]).fetchall()),
    }


def render_summary(s: dict[str, Any]) -> str:
    def counts(d: dict) -> str:
        return ", ".join(f"{k} {v}" for k, v in d.items()) or "none"

    lines = [
        f"policy      {s['policy']} {s['policy_version']} ({s['mode']}, run {s['run_id']})",
        f"events      {s['events_in']} in, {s['events_dead']} dead",
        f"cases       {s['cases']} ({counts(s['cases_by_status'])})",
        f"outcomes    {counts(s['cases_by_outcome'])}",
        f"decisions   {s['decisions']} ({s['held']} held)",
        f"escalations {s['escalations']} in {s['escalated_cases']} cases",
        f"negotiations {s['negotiations']}",
        f"outbox      {s['outbox']} records",
        f"slas        {counts(s['slas_by_status'])}; {s['sla_breaches']} breached",
    ]
    return "\n".join(lines)
