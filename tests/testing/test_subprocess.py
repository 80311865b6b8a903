"""`accord test` and `accord init` as real processes: exit codes, streams, and a new project end to end."""

from __future__ import annotations

import orjson

from .conftest import run_accord

D = "tests/testing/data"


def test_failing_run_exits_1_with_a_diff_that_names_file_and_line():
    p = run_accord("test", f"{D}/failing.test.yaml", f"{D}/mixed.test.yaml")
    assert p.returncode == 1, p.stderr
    assert f"{D}/failing.test.yaml:10:11: decisions[1]: expected {{agent: refunds, outcome: reject}}" in p.stdout
    assert "  ok   a case opened twice" in p.stdout
    assert p.stdout.rstrip().endswith("5 tests: 4 passed, 1 failed")
    assert p.stderr == ""


def test_json_report_and_usage_errors():
    p = run_accord("test", f"{D}/mixed.test.yaml", "--format", "json")
    assert p.returncode == 0, p.stderr
    assert orjson.loads(p.stdout)["summary"] == {"tests": 3, "passed": 3, "failed": 0, "errors": 0}
    p = run_accord("test", f"{D}/malformed.test.yaml")
    assert p.returncode == 2
    assert f"{D}/malformed.test.yaml:6:7: error[T0102]: unknown key 'decision' in 'expect'" in p.stderr
    assert "Traceback" not in p.stderr
    p = run_accord("test", "missing.test.yaml")
    assert p.returncode == 2
    assert "error: no test file at 'missing.test.yaml'" in p.stderr


def test_init_creates_a_project_that_validates_and_passes_its_tests(tmp_path):
    p = run_accord("init", "shop-returns", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "accord test shop-returns/policy.test.yaml" in p.stdout
    project = tmp_path / "shop-returns"
    assert sorted(f.name for f in project.iterdir()) == [
        "README.md", "events.jsonl", "policy.schema.json", "policy.test.yaml", "policy.yaml"]
    p = run_accord("validate", "shop-returns/policy.yaml", cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "ok: shop-returns/policy.yaml (policy 'shop-returns' 0.1.0, 3 agents)" in p.stdout
    p = run_accord("test", "shop-returns/policy.test.yaml", cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.rstrip().endswith("5 tests: 5 passed, 0 failed")
    p = run_accord("init", "shop-returns", cwd=tmp_path)
    assert p.returncode == 2
    assert "error: directory 'shop-returns' is not empty" in p.stderr
    assert "--force" in p.stderr
