"""`accord test` through typer's runner: pass, fail with positioned diffs, broken input, json."""

from __future__ import annotations

import shutil

import orjson
import pytest
from typer.testing import CliRunner

from accord.cli import app

from .conftest import SCAFFOLD

D = "tests/testing/data"


@pytest.fixture
def cli(in_root):
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_passing_files_print_one_line_per_test_and_exit_0(cli):
    r = cli("test", f"{D}/mixed.test.yaml", "accord/scaffold/policy.test.yaml")
    assert r.exit_code == 0, r.output
    assert "  ok   a case opened twice\n" in r.stdout
    assert "  ok   a large refund waits for a person, then goes through\n" in r.stdout
    assert r.stdout.rstrip().endswith("8 tests: 8 passed, 0 failed")


def test_a_failing_expectation_names_the_file_and_line_and_what_happened_instead(cli):
    r = cli("test", f"{D}/failing.test.yaml")
    assert r.exit_code == 1
    out = r.stdout
    assert "  FAIL expects the wrong things\n" in out
    assert "  ok   passes\n" in out
    f = f"{D}/failing.test.yaml"
    assert f"{f}:7:30: cases.r1.status: expected escalated, got resolved" in out
    assert f"{f}:7:62: cases.r9: no case 'r9' was opened" in out
    assert (f"{f}:10:11: decisions[1]: expected {{agent: refunds, outcome: reject}}, not found after decision "
            "#1 (refunds → refund, event events:1, case r1)") in out
    assert f"{f}:13:11: no_decisions[0]: expected no decision matching {{agent: desk, outcome: refunded}}" in out
    assert f"{f}:14:20: escalations: expected 1 escalation, got 0" in out
    assert f"{f}:16:11: outbox[0]: expected {{type: refund_issued, amount: 50}}" in out
    assert "closest: outbox record #0 ({type: refund_issued, return_id: r1, amount: 45.5}, case r1): " \
           "amount is 45.5, expected 50" in out
    assert f"{f}:17:40: slas.r1.decide_within_24h: expected breached, got met" in out
    assert out.rstrip().endswith("2 tests: 1 passed, 1 failed")


def test_json_report_for_ci(cli):
    r = cli("test", f"{D}/failing.test.yaml", "--format", "json")
    assert r.exit_code == 1
    report = orjson.loads(r.stdout)
    assert report["ok"] is False
    assert report["summary"] == {"tests": 2, "passed": 1, "failed": 1, "errors": 0}
    failed = report["tests"][0]
    assert (failed["name"], failed["status"], failed["line"]) == ("expects the wrong things", "fail", 3)
    first = failed["failures"][0]
    assert {k: first[k] for k in ("file", "line", "column", "path")} == {
        "file": f"{D}/failing.test.yaml", "line": 7, "column": 30, "path": "cases.r1.status"}
    assert report["tests"][1]["status"] == "pass"


def test_name_filter_and_verbose_listing(cli):
    r = cli("test", f"{D}/failing.test.yaml", "-k", "WRONG", "-v")
    assert r.exit_code == 1
    assert "passes" not in r.stdout
    assert "what the run did:" in r.stdout
    assert "#2 (desk → refunded, event events:1, case r1)" in r.stdout
    r = cli("test", f"{D}/failing.test.yaml", "--name", "nothing like it")
    assert r.exit_code == 2
    assert "error: no test name contains 'nothing like it'" in r.stderr


def test_a_malformed_test_file_is_reported_with_positions_and_nothing_runs(cli):
    r = cli("test", f"{D}/malformed.test.yaml")
    assert r.exit_code == 2
    f = f"{D}/malformed.test.yaml"
    err = r.stderr
    expected = [
        f"{f}:6:7: error[T0102]: unknown key 'decision' in 'expect'\n  help: did you mean 'decisions'?",
        f"{f}:8:20: error[T0202]: policy 'returns' has no agent 'refnds'\n  help: did you mean 'refunds'?",
        f"{f}:9:38: error[T0202]: agent 'refunds' never decides 'refnd'\n  help: did you mean 'refund'?",
        f"{f}:10:13: error[T0102]: unknown key 'agnt' in decisions[2]",
        f"{f}:11:20: error[T0101]: 'escalations' must be a count or a list, not the text 'many'",
        f"{f}:12:30: error[T0104]: unknown case status 'resolvd'\n  help: did you mean 'resolved'?",
        f"{f}:13:21: error[T0202]: policy 'returns' has no sla 'decide_within_2h'",
        f"{f}:13:63: error[T0104]: unknown sla status 'late'",
        f"{f}:14:5: error[T0105]: duplicate test name 'typos everywhere'",
        f"{f}:15:18: error[T0201]: no event file at 'missing.jsonl'",
        f"{f}:16:21: error[T0104]: 'dead' must be a count of zero or more, not -1",
        f"{f}:17:5: error[T0103]: a test has no 'name'",
        f"{f}:17:13: error[T0101]: 'events' must be a list of events, not a number",
    ]
    for line in expected:
        assert line in err
    assert err.rstrip().endswith("14 errors: no test was run")
    assert r.stdout == ""


def test_a_policy_that_does_not_validate_prints_its_diagnostics(cli):
    r = cli("test", f"{D}/invalid/invalid.test.yaml")
    assert r.exit_code == 2
    assert f"{D}/invalid/invalid.test.yaml:1:9: error[T0203]: policy '{D}/invalid/policy.yaml' does not validate" \
        in r.stderr
    assert f"{D}/invalid/policy.yaml:9:13: error[E0203]: agent 'a' reads 'inventry'" in r.stderr


def test_json_lists_the_diagnostics_of_a_broken_file(cli):
    r = cli("test", f"{D}/invalid/invalid.test.yaml", "-f", "json")
    assert r.exit_code == 2
    report = orjson.loads(r.stdout)
    assert report["ok"] is False and report["tests"] == []
    assert {d["code"] for d in report["diagnostics"]} == {"T0203", "E0203"}


def test_missing_file_and_directory_are_usage_errors(cli):
    r = cli("test", "no/such.test.yaml")
    assert r.exit_code == 2
    assert "error: no test file at 'no/such.test.yaml'" in r.stderr
    r = cli("test", D)
    assert r.exit_code == 2
    assert f"error: '{D}' is a directory, not a test file" in r.stderr


@pytest.mark.parametrize("text, message", [
    ("", "test file '{f}' is empty"),
    ("policy: x.yaml\ntests: [\n", "{f}:3:1: error[E0101]: invalid yaml"),
    ("- a\n- b\n", "{f}:1:1: error[T0101]: a test file must be a mapping, not a list"),
    ("policy: nowhere.yaml\ntests:\n  - name: t\n    events: []\n    expect: { cases: 0 }\n",
     "{f}:1:9: error[T0201]: policy file 'nowhere.yaml' not found"),
    ("polcy: p.yaml\n", "{f}:1:1: error[T0102]: unknown key 'polcy' in a test file\n  help: did you mean 'policy'?"),
    ("policy: p.yaml\ntests: []\n", "{f}:2:8: error[T0101]: 'tests' must be a list of tests, not an empty list"),
    ("policy: p.yaml\ntests:\n  - name: t\n    events: []\n    events_file: e.jsonl\n    expect: { cases: 0 }\n",
     "{f}:5:5: error[T0104]: a test has both 'events' and 'events_file'"),
    ("policy: p.yaml\ntests:\n  - name: t\n    events: []\n    expect: {}\n", "{f}:5:13: error[T0104]: 'expect' is empty"),
    ("policy: p.yaml\ntests:\n  - name: t\n    events: []\n    expect: { escalations: [ { source: trusst } ] }\n",
     "{f}:5:40: error[T0104]: unknown escalation source 'trusst'\n  help: did you mean 'trust'?"),
    ("accord: 1\npolicy: p\nversion: '1'\nowner: o\ncase: { key: event.k }\nagents: {}\n",
     "{f}:1:1: error[T0101]: this is a policy file, not a test file"),
    ("policy: p.yaml\ntests:\n  - name: t\n    events: []\n    expect: { cases: 0, cases: 1 }\n",
     "{f}:5:25: error[E0102]: duplicate key 'cases'"),
])
def test_broken_test_files(tmp_path, monkeypatch, text, message):
    shutil.copy(SCAFFOLD / "policy.yaml", tmp_path / "p.yaml")
    (tmp_path / "t.test.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, ["test", "t.test.yaml"])
    assert r.exit_code == 2, r.output
    assert message.format(f="t.test.yaml") in r.stderr


LABELS_POLICY = """\
accord: 1
policy: labels
version: "1"
owner: ops
case: { key: event.k }
agents:
  score: { role: perception, signals: { big: event.n > 5 } }
  flags:
    role: decision
    hit: collect
    reads: [score]
    rules:
      - { when: score.big, decide: risky }
      - { when: event.n % 2 == 0, decide: even }
  desk:
    role: decision
    reads: [score]
    rules: [ { when: score.big, decide: review } ]
    otherwise: { decide: pass }
"""


@pytest.mark.parametrize("expectation, message", [
    ("no_decisions: [ { agent: flags, outcome: evn } ]",
     "agent 'flags' never decides 'evn'\n  help: did you mean 'even'?"),
    ("no_decisions: [ { agent: flags, outcome: [risky, evn] } ]",
     "agent 'flags' never decides 'evn'\n  help: did you mean 'even'?"),
    ("decisions: [ { agent: score, outcome: big } ]",
     "agent 'score' is a perception agent: its decisions have no outcome"),
    ("no_decisions: [ { outcome: reviw } ]", "no agent decides 'reviw'\n  help: did you mean 'review'?"),
])
def test_outcome_labels_no_agent_can_log_are_errors_of_the_test_file(tmp_path, monkeypatch, expectation, message):
    (tmp_path / "p.yaml").write_text(LABELS_POLICY)
    (tmp_path / "t.test.yaml").write_text(
        "policy: p.yaml\ntests:\n  - name: t\n    events: [ { type: x, k: a, n: 4 } ]\n"
        f"    expect: {{ {expectation} }}\n")
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, ["test", "t.test.yaml"])
    assert r.exit_code == 2, r.output
    assert f"error[T0202]: {message}" in r.stderr


def test_collect_and_unnamed_outcomes_that_exist_pass(tmp_path, monkeypatch):
    (tmp_path / "p.yaml").write_text(LABELS_POLICY)
    (tmp_path / "t.test.yaml").write_text(
        "policy: p.yaml\ntests:\n  - name: t\n    events: [ { type: x, k: a, n: 8 } ]\n"
        "    expect: { decisions: [ { agent: flags, outcome: [risky, even] }, { outcome: review } ] }\n")
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, ["test", "t.test.yaml"])
    assert r.exit_code == 0, r.output
