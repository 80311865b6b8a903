"""User mistakes around runs and logs end as a message and an exit code, and lose nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from accord.api import Engine
from accord.cli import app
from accord.dsl import load_policy
from accord.errors import UsageError

POLICY = """\
accord: 1
policy: edges
version: "{version}"
owner: ops
case: {{ key: event.k }}
agents:
  d:
    role: decision
    rules:
      - {{ name: go, when: "true", decide: go, do: [ {{ emit: {{ type: done }} }} ] }}
"""


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def project(tmp_path) -> Path:
    (tmp_path / "p.yaml").write_text(POLICY.format(version="1"))
    (tmp_path / "p2.yaml").write_text(POLICY.format(version="2").replace("decide: go", "decide: stop"))
    (tmp_path / "ev.jsonl").write_text("".join(f'{{"type": "x", "k": "c{i}"}}\n' for i in range(20)))
    return tmp_path


def test_resume_under_another_policy_is_refused(project):
    db = str(project / "log.duckdb")
    assert invoke("run", str(project / "p.yaml"), "--events", str(project / "ev.jsonl"), "--db", db).exit_code == 0
    r = invoke("run", str(project / "p2.yaml"), "--events", str(project / "ev.jsonl"), "--db", db, "--resume")
    assert r.exit_code == 2
    assert "holds a run of" in r.stderr and "under another policy: 'edges' version 1" in r.stderr
    assert "resume with the policy the run started with" in r.stderr
    con = duckdb.connect(db, read_only=True)
    assert con.execute("SELECT DISTINCT policy_version FROM decisions").fetchall() == [("1",)]
    con.close()


def test_the_same_file_written_two_ways_is_one_source(project, monkeypatch):
    monkeypatch.chdir(project)
    assert invoke("run", "p.yaml", "--events", "ev.jsonl", "--db", "log.duckdb").exit_code == 0
    r = invoke("run", "p.yaml", "--events", "./ev.jsonl", "--db", "log.duckdb")
    assert r.exit_code == 2 and "already holds a run of 'ev.jsonl'" in r.stderr


@pytest.mark.parametrize("flag", ["--db", "--events"])
def test_the_sink_may_not_be_the_log_or_the_input(project, flag):
    db, events = str(project / "log.duckdb"), str(project / "ev.jsonl")
    sink = db if flag == "--db" else events
    r = invoke("run", str(project / "p.yaml"), "--events", events, "--db", db, "--sink", sink)
    assert r.exit_code == 2 and f"is the same file as {flag}" in r.stderr
    assert (project / "ev.jsonl").read_text().count("\n") == 20


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_sink_that_cannot_be_written_is_a_message_and_the_outbox_stays_in_the_log(project):
    db = str(project / "log.duckdb")
    r = invoke("run", str(project / "p.yaml"), "--events", str(project / "ev.jsonl"), "--db", db, "--sink", "/dev/full")
    assert r.exit_code == 2
    assert "cannot write the outbox to '/dev/full'" in r.stderr and "--resume" in r.stderr
    con = duckdb.connect(db, read_only=True)
    assert con.execute("SELECT count(*) FROM outbox").fetchone()[0] > 0
    assert con.execute("SELECT max(delivered) FROM checkpoints").fetchone()[0] == 0
    con.close()


def test_explain_on_files_that_are_not_accord_logs(project):
    foreign = project / "foreign.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE decisions (x INT); CREATE TABLE runs (y INT); CREATE TABLE escalations (z INT);"
                "CREATE TABLE outbox (a INT); CREATE TABLE negotiations (b INT); CREATE TABLE offers (c INT)")
    con.close()
    r = invoke("explain", "abc", "--db", str(foreign))
    assert r.exit_code == 2 and "is not an accord decision log" in r.stderr and "internal error" not in r.stderr
    other = project / "other.duckdb"
    duckdb.connect(str(other)).close()
    r = invoke("explain", "abc", "--db", str(other))
    assert r.exit_code == 2 and "is not an accord decision log" in r.stderr


def test_a_sqlite_file_is_not_a_log_and_nothing_is_downloaded(project):
    path = project / "sq.duckdb"
    sqlite3.connect(path).execute("CREATE TABLE t (a)").connection.commit()
    for args in (("run", str(project / "p.yaml"), "--events", str(project / "ev.jsonl"), "--db", str(path)),
                 ("query", "SELECT 1", "--db", str(path))):
        r = invoke(*args)
        assert r.exit_code == 2 and f"'{path}' is not a duckdb log file" in r.stderr, r.stderr


def test_explain_names_a_run_that_is_not_in_the_log(project):
    db = str(project / "log.duckdb")
    invoke("run", str(project / "p.yaml"), "--events", str(project / "ev.jsonl"), "--db", db)
    con = duckdb.connect(db, read_only=True)
    decision_id = con.execute("SELECT decision_id FROM decisions LIMIT 1").fetchone()[0]
    con.close()
    r = invoke("explain", decision_id, "--db", db, "--run", "nosuch")
    assert r.exit_code == 2 and "no run 'nosuch' in the log" in r.stderr and "recent runs:" in r.stderr


@pytest.mark.parametrize("kwargs, message", [
    ({"mode": "bogus"}, "unknown mode 'bogus'"),
    ({"mode": "dry-run", "sink": object()}, "a dry run never delivers the outbox"),
])
def test_the_python_api_refuses_what_the_cli_cannot_express(project, kwargs, message):
    engine = Engine(load_policy(project / "p.yaml"))
    with pytest.raises(UsageError, match=message):
        engine.run([{"type": "x", "k": "a"}], **kwargs)


def test_the_python_api_wants_a_list_of_events_not_one(project):
    engine = Engine(load_policy(project / "p.yaml"))
    with pytest.raises(UsageError, match="events must be a path or an iterable of events, got dict"):
        engine.run({"type": "x", "k": "a"})


def test_the_strategy_library_refuses_an_outcome_space_no_run_could_hold():
    # validation counts steps and options (E0608); the library keeps its own guard for callers from code
    from accord.policies import PartySetup, make_strategy, negotiate, range_issue

    issues = [range_issue(n, 0, 1, 1001, {"b": "low", "s": "high"}) for n in ("a", "c")]
    parties = [PartySetup("b", make_strategy("linear", None, 0.0)), PartySetup("s", make_strategy("linear", None, 0.0))]
    with pytest.raises(ValueError, match="1,002,001 outcomes, more than 1,000,000"):
        negotiate(issues, parties, 4)


def test_closed_standard_input_is_a_message(project):
    import shlex
    import subprocess
    import sys

    cmd = f"{shlex.quote(sys.executable)} -m accord.cli dry-run p.yaml --events - <&-"
    p = subprocess.run(["bash", "-c", cmd], cwd=project, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert p.stderr.startswith("error: standard input is closed") and "Traceback" not in p.stderr
