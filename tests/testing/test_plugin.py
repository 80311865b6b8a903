"""The pytest plugin's opt-in collector for *.test.yaml files."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from accord.testing.pytest_plugin import pytest_collect_file

from .conftest import ROOT

D = "tests/testing/data"


def test_policy_test_files_are_not_collected_unless_asked():
    config = SimpleNamespace(getoption=lambda name: False, getini=lambda name: False)
    parent = SimpleNamespace(config=config)
    assert pytest_collect_file(Path(f"{D}/mixed.test.yaml"), parent) is None
    assert pytest_collect_file(Path("policy.yaml"), parent) is None


def test_collected_tests_pass_fail_and_report_broken_files(in_root, capsys):
    code = pytest.main(["-p", "no:cacheprovider", "-q", "--rootdir", str(ROOT), "--accord-tests",
                        f"{D}/mixed.test.yaml", f"{D}/failing.test.yaml", f"{D}/malformed.test.yaml"])
    out = capsys.readouterr().out
    assert code == pytest.ExitCode.TESTS_FAILED, out
    assert "2 failed, 4 passed" in out, out
    assert "policy test: expects the wrong things" in out
    assert f"{D}/failing.test.yaml:10:11: decisions[1]: expected {{agent: refunds, outcome: reject}}" in out
    assert f"{D}/malformed.test.yaml:6:7: error[T0102]: unknown key 'decision' in 'expect'" in out
