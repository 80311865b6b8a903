"""`accord audit`: rates on real logs, decision variance and anomaly windows on crafted ones."""

from __future__ import annotations

import datetime as dt
import math

import orjson
import pytest

from accord.governance import stats
from accord.governance.audit import AnomalySettings, anomalies, audit, canonical_inputs, decision_variance
from accord.governance.logs import open_log, pick_run

from .conftest import T0, cli, crafted_log, crafted_runs, run_log, subprocess_cli, write_policy


def report_of(db, **settings) -> dict:
    con = open_log(str(db))
    try:
        return audit(con, pick_run(con, str(db), None), AnomalySettings(**settings))
    finally:
        con.close()


# -- rates on real logs ----------------------------------------------------------------------


def test_procurement_rates(procurement_log):
    db, _ = procurement_log
    r = cli("audit", "--db", str(db), "--format", "json")
    assert r.exit_code == 0, r.stderr
    report = orjson.loads(r.stdout)
    t = report["totals"]
    assert (t["cases"], t["auto_resolved"], t["escalated_cases"]) == (5, 3, 2)
    assert (t["decisions"], t["escalated_decisions"], t["errors"]) == (48, 3, 0)
    queues = {q["queue"]: (q["escalations"], q["cases"], q["resolved_after"]) for q in report["by_queue"]}
    assert queues == {"buyers": (1, 1, 0), "ops": (1, 1, 0), "(trust)": (1, 1, 1), "(constraint)": (1, 1, 1)}
    assert report["slas"] == [{"sla": "po_within_4h", "clocks": 5, "met": 4, "breached": 1, "pending": 0,
                               "breach_rate": 0.2}]
    finance = {(x["agent"], x["rule"]): x for x in report["by_rule"]}[("finance", "over_credit")]
    assert (finance["decisions"], finance["escalated"], finance["escalation_rate"]) == (2, 1, 0.5)
    assert report["variance"] == []


def test_procurement_table(procurement_log):
    db, _ = procurement_log
    r = cli("audit", "--db", str(db))
    assert r.exit_code == 0, r.stderr
    for heading in ("by agent", "by rule", "by queue", "slas", "decision variance", "anomalies (window 15m"):
        assert heading in r.stdout
    assert "cases 5: auto-resolved 3 (60.0%), escalated 2 (40.0%)" in r.stdout


REOPENING = """\
case:
  key: event.k
  closes_on: [done]
agents:
  judge:
    role: decision
    on: [req]
    rules:
      - name: big
        when: event.n > 10
        decide: review
        do: [ { escalate: { queue: people, reason: "big" } } ]
      - name: small
        when: true
        decide: fine
        do: [ { resolve: auto } ]
"""


def test_reopened_case_instances_are_told_apart(tmp_path):
    """The same key opens twice; only the second instance escalates."""
    db = tmp_path / "log.duckdb"
    events = [
        {"type": "req", "k": "a", "n": 1, "time": "2026-01-01T10:00:00Z"},
        {"type": "done", "k": "a", "time": "2026-01-01T10:05:00Z"},
        {"type": "req", "k": "a", "n": 50, "time": "2026-01-01T11:00:00Z"},
        {"type": "done", "k": "a", "time": "2026-01-01T11:05:00Z"},
    ]
    run_log(write_policy(tmp_path, REOPENING), events, db)
    report = report_of(db)
    assert report["totals"]["cases"] == 2
    assert report["totals"]["auto_resolved"] == 1 and report["totals"]["escalated_cases"] == 1
    rules = {x["rule"]: x for x in report["by_rule"]}
    assert (rules["small"]["cases"], rules["small"]["auto_resolved"]) == (1, 1)
    assert (rules["big"]["cases"], rules["big"]["auto_resolved"], rules["big"]["escalated"]) == (1, 0, 1)
    assert report["by_queue"] == [{"queue": "people", "escalations": 1, "cases": 1,
                                   "share_of_escalated_cases": 1.0, "resolved_after": 0, "resolution_rate": 0.0}]


def test_subprocess_json(procurement_log):
    db, run_id = procurement_log
    p = subprocess_cli("audit", "--db", str(db), "--run", run_id, "--format", "json", "--window", "1h")
    assert p.returncode == 0, p.stderr
    report = orjson.loads(p.stdout)
    assert report["run"]["run_id"] == run_id
    assert report["anomalies"]["window"] == "1h" and not report["anomalies"]["window_adapted"]


# -- decision variance ---------------------------------------------------------------------

_VARIANCE_CASES = {
    "same inputs, same outcome": (
        [("a", {"x": 1}, "ok"), ("a", {"x": 1}, "ok")], []),
    "same inputs, two outcomes": (
        [("a", {"x": 1}, "ok"), ("a", {"x": 1}, "no"), ("a", {"x": 1}, "ok")], [("a", {"ok": 2, "no": 1})]),
    "keys in another order are the same inputs": (
        [("a", {"x": 1, "y": 2}, "ok"), ("a", {"y": 2, "x": 1}, "no")], [("a", {"ok": 1, "no": 1})]),
    "nested keys in another order": (
        [("a", {"x": {"p": 1, "q": [1, 2]}}, "ok"), ("a", {"x": {"q": [1, 2], "p": 1}}, "no")],
        [("a", {"ok": 1, "no": 1})]),
    "other agents do not count": (
        [("a", {"x": 1}, "ok"), ("b", {"x": 1}, "no")], []),
    "different inputs": (
        [("a", {"x": 1}, "ok"), ("a", {"x": 2}, "no")], []),
    "list order is part of the value": (
        [("a", {"x": [1, 2]}, "ok"), ("a", {"x": [2, 1]}, "no")], []),
    "no outcome against an outcome": (
        [("a", {"x": 1}, None), ("a", {"x": 1}, "no")], [("a", {"(none)": 1, "no": 1})]),
    "two groups, larger first": (
        [("a", {"x": 1}, "ok"), ("a", {"x": 1}, "no"), ("b", {"y": 1}, "ok"), ("b", {"y": 1}, "no"),
         ("b", {"y": 1}, "no")], [("b", {"no": 2, "ok": 1}), ("a", {"ok": 1, "no": 1})]),
}


@pytest.fixture(scope="module")
def variance_log(tmp_path_factory):
    """Every variance case as its own run of one crafted log."""
    db = crafted_runs(tmp_path_factory.mktemp("variance") / "v.duckdb", {
        name: [{"agent": agent, "inputs": orjson.dumps(inputs).decode(), "outcome": outcome}
               for agent, inputs, outcome in rows]
        for name, (rows, _) in _VARIANCE_CASES.items()})
    con = open_log(str(db))
    yield con
    con.close()


@pytest.mark.parametrize("name", list(_VARIANCE_CASES))
def test_decision_variance(variance_log, name):
    expected = _VARIANCE_CASES[name][1]
    groups = decision_variance(variance_log, name, examples=2)
    assert [(g["agent"], g["outcomes"]) for g in groups] == expected
    for g in groups:
        assert set(g["examples"]) == set(g["outcomes"])
        assert all(1 <= len(ids) <= 2 for ids in g["examples"].values())


def test_variance_in_the_table_output(tmp_path):
    db = crafted_log(tmp_path / "v.duckdb", [
        {"agent": "pricing", "inputs": '{"event.qty":3}', "outcome": "approve"},
        {"agent": "pricing", "inputs": '{"event.qty":3}', "outcome": "reject"}])
    r = cli("audit", "--db", str(db))
    assert r.exit_code == 0, r.stderr
    assert "approve 1, reject 1" in r.stdout and "approve: d1; reject: d2" in r.stdout


def test_canonical_inputs():
    assert canonical_inputs('{"b":1,"a":{"d":2,"c":3}}') == b'{"a":{"c":3,"d":2},"b":1}'
    assert canonical_inputs(None) == b"null"


# -- anomalies -----------------------------------------------------------------------------


def hourly(buckets: list[tuple[int, int, int]], *, minutes: int = 60) -> list[dict]:
    """Decisions spread evenly inside consecutive windows: (decisions, escalated, errors) per window."""
    out = []
    for b, (n, esc, err) in enumerate(buckets):
        for i in range(n):
            at = T0 + dt.timedelta(minutes=b * minutes + i * minutes / (n + 1))
            out.append({"event_time": at, "escalated": i < esc, "error": "boom" if i < err else None})
    return out


_ANOMALY_CASES = {
    "steady rate: nothing": (hourly([(50, 5, 0)] * 10), {}, []),
    "escalation burst in one hour": (
        hourly([(50, 2, 0)] * 4 + [(50, 40, 0)] + [(50, 2, 0)] * 5), {}, [(4, "escalation", "high")]),
    "error burst": (
        hourly([(40, 0, 0)] * 6 + [(40, 0, 25)] + [(40, 0, 0)] * 3), {}, [(6, "error", "high")]),
    "a quiet hour among busy ones": (
        hourly([(60, 30, 0)] * 5 + [(60, 0, 0)] + [(60, 30, 0)] * 4), {}, [(5, "escalation", "low")]),
    "too few decisions to test": (
        hourly([(50, 2, 0)] * 9 + [(6, 6, 0)]), {}, []),
    "lower threshold tests it": (
        hourly([(50, 2, 0)] * 9 + [(6, 6, 0)]), {"min_decisions": 5}, [(9, "escalation", "high")]),
    "no escalations anywhere: no test": (
        hourly([(30, 0, 0)] * 10), {}, []),
}


@pytest.fixture(scope="module")
def anomaly_log(tmp_path_factory):
    """Every anomaly case as its own run of one crafted log."""
    db = crafted_runs(tmp_path_factory.mktemp("anomalies") / "a.duckdb",
                      {name: rows for name, (rows, _, _) in _ANOMALY_CASES.items()})
    con = open_log(str(db))
    yield con
    con.close()


@pytest.mark.parametrize("name", list(_ANOMALY_CASES))
def test_anomalies(anomaly_log, name):
    _, settings, expected = _ANOMALY_CASES[name]
    result = anomalies(anomaly_log, name, AnomalySettings(window=dt.timedelta(hours=1), **settings))
    found = [(int((a["start"] - T0) / dt.timedelta(hours=1)), a["metric"], a["direction"]) for a in result["items"]]
    assert found == expected
    assert all(a["p_value"] < 0.01 for a in result["items"])


def test_window_adapts_to_a_short_run(tmp_path):
    db = crafted_log(tmp_path / "a.duckdb", hourly([(20, 2, 0)] * 9, minutes=15))  # two hours and more
    con = open_log(str(db))
    try:
        result = anomalies(con, "run1", AnomalySettings())
    finally:
        con.close()
    assert result["window"] == "15m" and result["window_adapted"]
    assert result["windows"] == 9


def test_no_event_times(tmp_path):
    db = crafted_log(tmp_path / "a.duckdb", [{"escalated": True}, {"escalated": False}])
    report = report_of(db)
    assert report["anomalies"]["items"] == [] and "need events with a 'time'" in report["anomalies"]["note"]


@pytest.mark.parametrize("k, n, p", [(0, 5, 0.3), (3, 10, 0.2), (10, 10, 0.5), (7, 20, 0.05), (1, 1, 0.9)])
def test_binomial_tails_match_brute_force(k, n, p):
    pmf = [math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(n + 1)]
    assert stats.binomial_tail(k, n, p, True) == pytest.approx(sum(pmf[k:]), rel=1e-9)
    assert stats.binomial_tail(k, n, p, False) == pytest.approx(sum(pmf[: k + 1]), rel=1e-9)


@pytest.mark.parametrize("span, expected", [
    (dt.timedelta(days=2), dt.timedelta(hours=1)),
    (dt.timedelta(hours=8), dt.timedelta(hours=1)),
    (dt.timedelta(hours=2), dt.timedelta(minutes=15)),
    (dt.timedelta(minutes=5), dt.timedelta(seconds=30)),
    (dt.timedelta(seconds=2), dt.timedelta(seconds=1)),
    (dt.timedelta(0), dt.timedelta(hours=1)),
])
def test_adapt_window(span, expected):
    assert stats.adapt_window(span, dt.timedelta(hours=1)) == expected


@pytest.mark.parametrize("args, code, message", [
    (["--db", "missing.duckdb"], 2, "no log at 'missing.duckdb'"),
    (["--db", "NOTALOG"], 2, "is not a duckdb log file"),
    (["--db", "EMPTYDB"], 2, "is not an accord log: it has no 'runs' table"),
    (["--db", "LOG", "--run", "nope"], 2, "no run 'nope' in log"),
    (["--db", "LOG", "--window", "soon"], 2, "--window 'soon' is not a positive duration"),
    (["--db", "LOG", "--window", "0s"], 2, "is not a positive duration"),
    ([], 2, "Missing option '--db'"),
])
def test_bad_input(tmp_path, procurement_log, args, code, message):
    import duckdb

    db, _ = procurement_log
    notalog = tmp_path / "x.duckdb"
    notalog.write_text("not a database")
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).execute("CREATE TABLE t (x INT)").close()
    subst = {"LOG": str(db), "NOTALOG": str(notalog), "EMPTYDB": str(empty)}
    r = cli("audit", *[subst.get(a, a) for a in args])
    assert r.exit_code == code
    assert message in r.stderr
    assert "Traceback" not in r.stderr


def test_no_runs(tmp_path):
    from accord.engine.logdb import DuckDBLog

    DuckDBLog.open(str(tmp_path / "fresh.duckdb")).close()
    r = cli("audit", "--db", str(tmp_path / "fresh.duckdb"))
    assert r.exit_code == 2 and "holds no runs" in r.stderr

