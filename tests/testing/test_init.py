"""`accord init` through typer's runner: files, names, refusals."""

from __future__ import annotations

import json
from importlib.resources import files

import pytest
from typer.testing import CliRunner

from accord.cli import app
from accord.dsl import check_file
from accord.testing.runner import load_suites, run_suites


@pytest.fixture
def init(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["init", *args])


def test_creates_every_file_and_the_policy_validates_and_passes(init, tmp_path):
    r = init("proj")
    assert r.exit_code == 0, r.output
    d = tmp_path / "proj"
    text = (d / "policy.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=./policy.schema.json\n")
    assert "\npolicy: proj\n" in text
    schema = json.loads((d / "policy.schema.json").read_text())
    assert schema == json.loads(files("accord.schemas").joinpath("policy.schema.json").read_text())
    assert (d / "README.md").read_text().startswith("# proj\n")
    plan, diags = check_file(d / "policy.yaml")
    assert plan is not None and not diags
    roles = sorted(a.role for a in plan.agents)
    assert roles == ["action", "decision", "perception"]
    assert plan.slas and plan.agents[1].constraints
    suites, diags = load_suites([str(d / "policy.test.yaml")])
    assert not diags
    assert all(r.status == "pass" for r in run_suites(suites))


def test_policy_name_comes_from_the_option_or_the_directory(init, tmp_path):
    assert init("My Project!", "--name", "care_returns").exit_code == 0
    assert "\npolicy: care_returns\n" in (tmp_path / "My Project!" / "policy.yaml").read_text()
    assert init("Shop Returns 2").exit_code == 0
    assert "\npolicy: shop-returns-2\n" in (tmp_path / "Shop Returns 2" / "policy.yaml").read_text()
    assert init("2024").exit_code == 0
    assert "\npolicy: returns\n" in (tmp_path / "2024" / "policy.yaml").read_text()


def test_an_empty_existing_directory_is_fine_a_non_empty_one_needs_force(init, tmp_path):
    (tmp_path / "empty").mkdir()
    assert init("empty").exit_code == 0
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("keep me")
    r = init("busy")
    assert r.exit_code == 2
    assert "error: directory 'busy' is not empty" in r.stderr
    assert "help: choose a new directory, or pass --force" in r.stderr
    assert not (tmp_path / "busy" / "policy.yaml").exists()
    r = init("busy", "--force")
    assert r.exit_code == 0
    assert (tmp_path / "busy" / "notes.txt").read_text() == "keep me"
    assert (tmp_path / "busy" / "policy.yaml").exists()


def test_bad_name_and_a_file_in_the_way_are_usage_errors(init, tmp_path):
    r = init("x", "--name", "Bad Name")
    assert r.exit_code == 2
    assert "error: 'Bad Name' is not a policy name" in r.stderr
    (tmp_path / "afile").write_text("")
    r = init("afile")
    assert r.exit_code == 2
    assert "error: 'afile' is a file, not a directory" in r.stderr
