"""`accord explain`: why a decision came out as it did, told from its log record.

Everything shown is read back from the log (inputs, trace, constraint checks,
the negotiation and its offers), never recomputed, so the explanation is of the
decision that was actually made.
"""

from __future__ import annotations

from typing import Any

import duckdb
import orjson

from accord.errors import UsageError

_COLUMNS = ("decision_id", "run_id", "seq", "case_id", "event_id", "event_time", "agent", "role", "owner", "rule",
            "outcome", "reason", "outputs", "inputs", "trace", "constraints", "escalated", "held", "approved_by",
            "error", "supersedes", "policy_version", "negotiation_id")


def _load(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str) else value


def _check_log(con, run_id: str | None) -> None:
    """A file that is not an Accord log, or a run it does not hold, is the user's to fix: say which."""
    found = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")
             .fetchall()}
    if not {"decisions", "runs", "escalations", "outbox", "negotiations", "offers"} <= found:
        raise UsageError("the file is not an accord decision log (it has no 'decisions' and 'runs' tables)",
                         help="give a log written by accord run or accord dry-run --db")
    if run_id and con.execute("SELECT 1 FROM runs WHERE run_id = ?", [run_id]).fetchone() is None:
        runs = [r for (r,) in con.execute("SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 3").fetchall()]
        raise UsageError(f"no run '{run_id}' in the log",
                         help=("recent runs: " + ", ".join(runs)) if runs else "the log holds no run")


def fetch(con, decision_id: str, run_id: str | None = None) -> dict[str, Any]:
    """Everything about one decision, read back from the log."""
    _check_log(con, run_id)
    try:
        return _fetch(con, decision_id, run_id)
    except duckdb.Error as exc:  # tables of those names with other columns: another program's file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        first = (first.partition(" Error: ")[2] or first).rstrip("!. ")
        raise UsageError(f"the file is not an accord decision log of this version: {first[:1].lower()}{first[1:]}",
                         help="give a log written by accord run or accord dry-run --db") from None


def _fetch(con, decision_id: str, run_id: str | None) -> dict[str, Any]:
    sql = (f"SELECT {', '.join('d.' + c for c in _COLUMNS)} FROM decisions d JOIN runs r USING (run_id) "
           "WHERE d.decision_id = ?" + (" AND d.run_id = ?" if run_id else "") +
           " ORDER BY r.started_at DESC LIMIT 1")
    row = con.execute(sql, [decision_id] + ([run_id] if run_id else [])).fetchone()
    if row is None:
        near = con.execute("SELECT decision_id FROM decisions WHERE decision_id LIKE ? LIMIT 3",
                           [decision_id[:6] + "%"]).fetchall()
        help_ = ("similar ids: " + ", ".join(r[0] for r in near)) if near else \
            "list ids with: accord query \"SELECT decision_id, agent, outcome FROM decisions\" --db FILE"
        raise UsageError(f"no decision '{decision_id}' in the log", help=help_)
    d = dict(zip(_COLUMNS, row))
    for k in ("outputs", "inputs", "trace", "constraints"):
        d[k] = _load(d[k])
    d["escalations"] = [dict(zip(("queue", "priority", "reason", "source"), r)) for r in con.execute(
        "SELECT queue, priority, reason, source FROM escalations WHERE run_id = ? AND decision_id = ?",
        [d["run_id"], decision_id]).fetchall()]
    d["outbox"] = [_load(r[0]) for r in con.execute(
        "SELECT record FROM outbox WHERE run_id = ? AND decision_id = ? ORDER BY seq",
        [d["run_id"], decision_id]).fetchall()]
    d["negotiation"] = None
    if d["negotiation_id"]:
        n = con.execute("SELECT name, protocol, agreed, rounds, outcome, utility, supersedes FROM negotiations "
                        "WHERE run_id = ? AND negotiation_id = ?", [d["run_id"], d["negotiation_id"]]).fetchone()
        if n:
            offers = con.execute("SELECT round, party, offer, utility, response FROM offers WHERE run_id = ? AND "
                                 "negotiation_id = ? ORDER BY rowid", [d["run_id"], d["negotiation_id"]]).fetchall()
            d["negotiation"] = {
                "id": d["negotiation_id"], "name": n[0], "protocol": n[1], "agreed": n[2], "rounds": n[3],
                "outcome": _load(n[4]), "utility": _load(n[5]), "supersedes": n[6],
                "offers": [{"round": o[0], "party": o[1], "offer": _load(o[2]), "utility": _load(o[3]),
                            "response": o[4]} for o in offers],
            }
    return d


def _j(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def render(d: dict[str, Any]) -> str:
    at = "" if d["event_time"] is None else f" at {d['event_time']}"
    out = [f"decision {d['decision_id']}: agent '{d['agent']}' ({d['role']}, owner {d['owner']})",
           f"  case {d['case_id']}, event {d['event_id']}{at} (seq {d['seq']}, run {d['run_id']},"
           f" policy {d['policy_version']})"]
    outcome = d["outcome"] if d["outcome"] is not None else "no decision"
    line = f"  outcome: {outcome}"
    if d["rule"]:
        line += f" (rule '{d['rule']}')"
    if d["held"]:
        line += " — held by the autonomy gate, waiting for approval"
    if d["approved_by"]:
        line += f" — approved by {d['approved_by']}"
    out.append(line)
    if d["reason"]:
        out.append(f"  reason: {d['reason']}")
    if d["supersedes"]:
        out.append(f"  supersedes: {d['supersedes']} (this agent's previous decision in the case)")
    out.append("values read:")
    out += [f"  {k} = {_j(v)}" for k, v in (d["inputs"] or {}).items()] or ["  (none)"]
    out.append("rules, in the order tried:")
    for t in d["trace"] or []:
        if "signal" in t:
            out.append(f"  signal {t['signal']}: {t['result']}")
        elif "guard" in t:
            out.append(f"  guard '{t['guard']}': {t['result']}" + (f" ({t['error']})" if t.get("error") else ""))
        elif "approval" in t:
            out.append(f"  approval: {t['approval']} by {t.get('by')} (held decision {t.get('held_decision')})")
        elif "gate" in t:
            out.append(f"  held by the autonomy gate: rule '{t.get('rule')}' requires trust {t.get('requires_trust')}, "
                       f"the agent has {t.get('trust')}")
        else:
            text = {"fired": "fired", "no match": "did not match (its 'when' is false)",
                    "blocked": "matched but was blocked by " + ", ".join(f"'{b}'" for b in t.get("by", [])),
                    "error": f"errored: {t.get('error')}"}.get(t["result"], t["result"])
            if t.get("errors"):
                text += " (its outputs had errors: " + "; ".join(t["errors"]) + ")"
            out.append(f"  {t['rule'] or '(hit policy)'}: {text}")
    if d["constraints"]:
        out.append("constraints checked:")
        for c in d["constraints"]:
            verdict = "passed" if c["passed"] else f"violated ({c['on_violation']})"
            extra = f": {c['message']}" if c.get("message") else ""
            extra += f" [error: {c['error']}]" if c.get("error") else ""
            if "negotiation" in c:
                counted = (f"{c.get('offers_blocked', 0)} offers blocked" if c["on_violation"] == "block"
                           else f"{len(c.get('violations', []))} of {c.get('offers_checked', 0)} offers violate it")
                first = next((v for v in c.get("violations", []) if v.get("message")), None)
                extra = f": {first['message']}" if first else ""
                out.append(f"  {c['constraint']} on the offers of negotiation '{c['negotiation']}': {verdict}, "
                           f"{counted}{extra}")
                continue
            out.append(f"  {c['constraint']} on rule '{c['rule']}': {verdict}{extra}")
    out.append("outputs:")
    out += [f"  {k} = {_j(v)}" for k, v in (d["outputs"] or {}).items()] or ["  (none)"]
    if d["error"]:
        out.append(f"errors: {d['error']}")
    for e in d["escalations"]:
        out.append(f"escalated ({e['source']}): queue {e['queue'] or '-'}, priority {e['priority'] or '-'}: {e['reason']}")
    for r in d["outbox"]:
        out.append(f"emitted: {_j(r)}")
    n = d["negotiation"]
    if n:
        verdict = "agreed" if n["agreed"] else "no agreement"
        out.append(f"negotiation '{n['name']}' ({n['protocol']}, {n['id']}): {verdict} after {n['rounds']}"
                   f" {'bids' if n['protocol'] == 'contract_net' else 'offers'}; outcome {_j(n['outcome'])}")
        if n["supersedes"]:
            out.append(f"  supersedes negotiation {n['supersedes']}")
        for o in n["offers"]:
            out.append(f"  round {o['round']}: {o['party']} offers {_j(o['offer'])} utility {_j(o['utility'])} → {o['response']}")
    return "\n".join(out)
