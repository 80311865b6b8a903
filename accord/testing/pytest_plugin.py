"""pytest plugin (registered as the `accord` pytest11 entry point).

The fixture `accord_outcome` runs a policy over events and returns the run's
outcome as plain data, so a policy is snapshot-tested in a few lines:

    def test_procurement(accord_outcome, snapshot):
        assert accord_outcome("examples/procurement/policy.yaml",
                              "examples/procurement/events.jsonl") == snapshot

With `--accord-tests` (or `accord_test_files = true` in the pytest ini
options), pytest also collects policy test files (`*.test.yaml`), one pytest
item per test, reported with the same diffs as `accord test`. It is off by
default so that a project's own YAML files are never collected by surprise.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

_SUFFIX = ".test.yaml"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("accord", "Accord policy tests")
    group.addoption("--accord-tests", action="store_true", default=False,
                    help="collect Accord policy test files (*.test.yaml)")
    parser.addini("accord_test_files", type="bool", default=False,
                  help="collect Accord policy test files (*.test.yaml)")


@pytest.fixture
def accord_outcome(request: pytest.FixtureRequest) -> Callable[..., dict]:
    """`run(policy_path, events) -> dict`: a fresh in-memory dry run of the policy over `events` (a path
    to an event file, or a list of event dicts), returned as its outcome (see `accord.testing.outcome`).

    A relative path is read from the working directory, else from pytest's rootdir."""
    root = request.config.rootpath

    def run(policy: str | os.PathLike, events: str | os.PathLike | Iterable[Any]) -> dict:
        from accord.testing.outcomes import outcome

        path = _resolve(policy, root)
        if isinstance(events, (str, os.PathLike)):
            events = _resolve(events, root)
        return outcome(path, events)

    return run


def _resolve(path: str | os.PathLike, root: Path) -> str:
    p = Path(path)
    if p.is_absolute() or p.exists() or not (root / p).exists():
        return str(p)
    return str(root / p)


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if not file_path.name.endswith(_SUFFIX):
        return None
    config = parent.config
    if not (config.getoption("accord_tests") or config.getini("accord_test_files")):
        return None
    return PolicyTestFile.from_parent(parent, path=file_path)


class PolicyTestFile(pytest.File):
    """A policy test file: one item per test, or one failing item when the file or its policy is broken."""

    def collect(self):
        from accord.testing.runner import load_suites

        shown = self.config.invocation_params.dir
        try:
            display = os.path.relpath(self.path, shown)
        except ValueError:  # another drive on Windows
            display = str(self.path)
        suites, diags = load_suites([display if not os.path.isabs(display) else str(self.path)])
        errors = [d for d in diags if d.severity == "error"]
        if errors:
            yield BrokenPolicyTestFile.from_parent(self, name="<test file>", diagnostics=errors)
            return
        for suite in suites:
            for test in suite.file.tests:
                yield PolicyTestItem.from_parent(self, name=test.name, suite=suite, test=test)


class PolicyTestItem(pytest.Item):
    def __init__(self, *, suite, test, **kwargs):
        super().__init__(**kwargs)
        self.suite = suite
        self.test = test

    def runtest(self) -> None:
        from accord.testing.runner import run_test

        result = run_test(self.suite, self.test)
        if result.status != "pass":
            raise PolicyTestFailed(result)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, PolicyTestFailed):
            r = excinfo.value.result
            lines = [f"{r.file}:{r.line}: {r.error}"] if r.error else []
            lines += [f.render() for f in r.failures]
            return "\n".join(lines)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, self.test.span.line - 1, f"policy test: {self.test.name}"


class BrokenPolicyTestFile(pytest.Item):
    def __init__(self, *, diagnostics, **kwargs):
        super().__init__(**kwargs)
        self.diagnostics = diagnostics

    def runtest(self) -> None:
        raise PolicyTestFileBroken(self.diagnostics)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, PolicyTestFileBroken):
            return "\n".join(d.render() for d in self.diagnostics)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, 0, "policy test file"


class PolicyTestFailed(Exception):
    def __init__(self, result):
        super().__init__(result.name)
        self.result = result


class PolicyTestFileBroken(Exception):
    def __init__(self, diagnostics):
        super().__init__(f"{len(diagnostics)} errors")
        self.diagnostics = diagnostics
