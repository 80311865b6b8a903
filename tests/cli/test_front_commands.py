"""`accord validate`, `accord eval` and `accord schema`, as a user runs them: a real subprocess
and typer's runner, exit codes 0/1/2, text and json output, and no traceback for a mistake."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accord.cli import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "procurement" / "policy.yaml"
BROKEN = ROOT / "tests" / "dsl_check" / "broken" / "e0205_output_never_defined.yaml"
runner = CliRunner()


def accord(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "accord.cli", *args], capture_output=True, text=True,
                          input=stdin, cwd=ROOT, timeout=120)


def test_validate_subprocess_valid():
    r = accord("validate", str(EXAMPLE))
    assert r.returncode == 0, r.stderr
    assert "ok:" in r.stdout and "procurement" in r.stdout
    assert "Traceback" not in r.stderr


def test_validate_subprocess_invalid_text_and_json():
    r = accord("validate", str(BROKEN))
    assert r.returncode == 1
    assert "error[E0205]: agent 'inventory' never defines 'stok_ok'" in r.stdout
    assert "help: did you mean 'stock_ok'?" in r.stdout
    assert "1 error in 1 file" in r.stderr
    j = accord("validate", "--format", "json", str(BROKEN), str(EXAMPLE))
    assert j.returncode == 1
    (d,) = json.loads(j.stdout)
    assert d == {"file": str(BROKEN), "line": 15, "column": 15, "code": "E0205", "severity": "error",
                 "message": "agent 'inventory' never defines 'stok_ok'", "help": "did you mean 'stock_ok'?"}


@pytest.mark.parametrize(("args", "code", "text"), [
    (["validate", "nope.yaml"], 2, "nope.yaml"),
    (["validate", "--format", "xml", "x.yaml"], 2, "xml"),
    (["validate"], 2, "Missing argument"),
    (["frobnicate"], 2, "No such command"),
    (["eval", "1 +"], 1, "error[E0301]"),
    (["eval", "1 / 0"], 1, "division by zero"),
    (["eval", "x", "--vars", "{not json"], 2, "--vars is not valid JSON"),
    (["eval", "x", "--vars", "[1]"], 2, "--vars must be a JSON object"),
    (["eval", "1", "--timezone", "Mars/Olympus"], 2, "unknown timezone"),
])
def test_mistakes_get_a_message_and_an_exit_code(args, code, text):
    r = accord(*args)
    assert r.returncode == code, (r.stdout, r.stderr)
    assert text in r.stdout + r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize(("expr", "vars_", "out"), [
    ("1 + 2 * 3", None, "7"),
    ("7 / 2", None, "3.5"),
    ('event.qty > 10 && event.sku in ["a", "b"]', '{"event": {"qty": 12, "sku": "a"}}', "true"),
    ('timestamp("2026-01-01T10:00:00Z") + duration("90m")', None, '"2026-01-01T11:30:00Z"'),
    ('[1, 2, 3].map(x, x * 2)', None, "[2,4,6]"),
    ('{"a": 1}', None, '{"a":1}'),
])
def test_eval_prints_json(expr, vars_, out):
    args = ["eval", expr] + (["--vars", vars_] if vars_ else [])
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert r.output.strip() == out


def test_eval_naive_timestamp_needs_a_timezone():
    r = runner.invoke(app, ["eval", 'timestamp("2026-01-01T10:00:00")'])
    assert r.exit_code == 1
    ok = runner.invoke(app, ["eval", 'timestamp("2026-01-01T10:00:00")', "--timezone", "America/New_York"])
    assert ok.output.strip() == '"2026-01-01T10:00:00-05:00"'


def test_schema_is_json_schema_2020_12():
    r = runner.invoke(app, ["schema"])
    assert r.exit_code == 0
    schema = json.loads(r.output)
    assert schema["$schema"].endswith("2020-12/schema")
    assert {"accord", "policy", "agents", "case"} <= set(schema["properties"])


def test_the_printed_schema_accepts_policies_that_write_null_as_an_expression(tmp_path):
    import jsonschema
    import yaml

    schema = json.loads(runner.invoke(app, ["schema"]).output)
    policy = tmp_path / "p.yaml"
    policy.write_text("""accord: 1
policy: p
version: "1"
owner: ops
case: { key: event.k }
agents:
  s: { role: perception, signals: { nothing: null } }
  d:
    role: decision
    reads: [s]
    rules: [ { when: "true", decide: go, set: { discount: null }, do: [ { emit: { type: t, tag: null } } ] } ]
""")
    assert runner.invoke(app, ["validate", str(policy)]).exit_code == 0
    jsonschema.Draft202012Validator(schema).validate(yaml.safe_load(policy.read_text()))


def test_validate_through_runner_many_files(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("accord: 1\npolicy: Bad\n")
    r = runner.invoke(app, ["validate", str(EXAMPLE), str(bad)])
    assert r.exit_code == 1
    assert "E0404" in r.output and "ok: " in r.output


def entry(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "accord.entry", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


@pytest.mark.parametrize("args", [
    ["validate", str(EXAMPLE)],
    ["validate", str(BROKEN)],
    ["validate", "-f", "json", str(BROKEN), str(EXAMPLE)],
    ["validate", "--format=json", str(EXAMPLE)],
    ["validate", "missing.yaml"],
    ["validate", "--format", "xml", str(EXAMPLE)],
    ["validate"],
])
def test_console_script_fast_path_matches_the_cli(args):
    """The console script skips typer for a plain validate; it must say and exit exactly as the CLI does."""
    fast, full = entry(*args), accord(*args)
    fast_err = fast.stderr.replace("accord.entry", "accord.cli")  # usage lines name the program
    assert (fast.returncode, fast.stdout, fast_err) == (full.returncode, full.stdout, full.stderr)
