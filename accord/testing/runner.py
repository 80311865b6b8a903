"""Run policy test files: each test in a fresh in-memory dry run, checked against its expectations.

Everything that would make a result meaningless — a test file that is not
readable or well formed, a policy that does not validate — is found before
any test runs and reported as diagnostics (`accord test` exits 2), so a
failing test always means the policy behaves differently than expected.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from accord.dsl.plan import Plan
from accord.errors import AccordError, Diagnostic, PolicyError
from accord.testing.expect import Failure, check, describe
from accord.testing.outcomes import run_outcome
from accord.testing.spec import POLICY_INVALID, PolicyTest, TestFile, check_against_plan, read_test_file

__all__ = ["Report", "Suite", "TestResult", "load_suites", "run_suites", "run_test"]


@dataclass
class Suite:
    """A checked test file and the plan of its policy."""

    file: TestFile
    plan: Plan


@dataclass
class TestResult:
    __test__ = False  # not a pytest test class

    file: str
    name: str
    line: int
    status: str  # pass | fail | error
    failures: list[Failure] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    outcome: dict | None = None

    def to_json(self) -> dict:
        return {"file": self.file, "name": self.name, "line": self.line, "status": self.status,
                "seconds": round(self.seconds, 4), "failures": [f.to_json() for f in self.failures],
                "error": self.error}


@dataclass
class Report:
    results: list[TestResult] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.diagnostics and all(r.status == "pass" for r in self.results)

    def counts(self) -> dict[str, int]:
        by = {"pass": 0, "fail": 0, "error": 0}
        for r in self.results:
            by[r.status] += 1
        return {"tests": len(self.results), "passed": by["pass"], "failed": by["fail"], "errors": by["error"]}

    def to_json(self) -> dict:
        return {"ok": self.ok, "summary": self.counts(), "tests": [r.to_json() for r in self.results],
                "diagnostics": [d.to_json() for d in self.diagnostics]}


def load_suites(paths: list[str]) -> tuple[list[Suite], list[Diagnostic]]:
    """Read every test file and load every policy they name (each policy once)."""
    suites: list[Suite] = []
    diags: list[Diagnostic] = []
    plans: dict[str, Plan | None] = {}
    for path in paths:
        tf, problems = read_test_file(path)
        diags += problems
        if tf is None or not tf.policy_path:
            continue
        usable = not any(d.severity == "error" for d in problems)
        if tf.policy_path not in plans:
            try:
                from accord.dsl import load_policy

                plans[tf.policy_path] = load_policy(tf.policy_path)
            except PolicyError as e:
                plans[tf.policy_path] = None
                diags += e.diagnostics
        plan = plans[tf.policy_path]
        if plan is None:
            span = tf.policy_node.span
            diags.append(Diagnostic(POLICY_INVALID, f"policy '{tf.policy_path}' does not validate", span,
                                    help=f"run: accord validate {tf.policy_path}"))
            continue
        problems = check_against_plan(tf, plan)
        diags += problems
        if usable and not any(d.severity == "error" for d in problems):
            suites.append(Suite(tf, plan))
    return suites, sorted(diags, key=Diagnostic.sort_key)


def run_test(suite: Suite, test: PolicyTest, *, keep_outcome: bool = False) -> TestResult:
    """Run one test in a fresh in-memory dry run."""
    from accord.api import IterableSource
    from accord.engine.sources import open_source

    started = time.perf_counter()
    result = TestResult(suite.file.path, test.name, test.span.line, "pass")
    try:
        source = open_source(test.events_file) if test.events_file else IterableSource(test.events or [])
        out = run_outcome(suite.plan, source)
    except AccordError as e:
        result.status, result.error = "error", f"the run failed: {e}"
    except Exception as e:  # an engine crash is reported against the test, not as a traceback of the command
        result.status, result.error = "error", f"the engine raised {type(e).__name__}: {e}"
    else:
        result.failures = check(test, out)
        if result.failures:
            result.status = "fail"
        if keep_outcome:
            result.outcome = out
    result.seconds = time.perf_counter() - started
    return result


def run_suites(suites: list[Suite], *, name: str | None = None, keep_outcome: bool = False) -> list[TestResult]:
    """Run every test (those whose name contains `name`, when given), file by file, in file order."""
    results = []
    for suite in suites:
        for test in suite.file.tests:
            if name and name.lower() not in test.name.lower():
                continue
            results.append(run_test(suite, test, keep_outcome=keep_outcome))
    return results


def render_text(report: Report, *, verbose: bool = False) -> str:
    """One line per test; below a failing test, one diff per failing expectation."""
    lines: list[str] = []
    current = None
    for r in report.results:
        if r.file != current:
            if current is not None:
                lines.append("")
            lines.append(r.file)
            current = r.file
        mark = {"pass": "ok  ", "fail": "FAIL", "error": "ERR "}[r.status]
        lines.append(f"  {mark} {r.name}")
        if r.error:
            lines.append(f"       {r.file}:{r.line}: {r.error}")
        for f in r.failures:
            lines.append(f.render("       "))
        if verbose and r.status == "fail" and r.outcome is not None:
            lines += _outcome_lines(r.outcome, "       ")
    c = report.counts()
    tail = f"{c['tests']} {'test' if c['tests'] == 1 else 'tests'}: {c['passed']} passed, {c['failed']} failed"
    if c["errors"]:
        tail += f", {c['errors']} errored"
    if lines:
        lines.append("")
    lines.append(tail)
    return "\n".join(lines)


def _outcome_lines(out: dict[str, Any], indent: str) -> list[str]:
    lines = [f"{indent}what the run did:"]
    for cid, c in out["cases"].items():
        for one in c if isinstance(c, list) else [c]:
            outcome = f" ({one['outcome']})" if one["outcome"] else ""
            lines.append(f"{indent}  case {cid}: {one['status']}{outcome}")
    for kind in ("decisions", "escalations", "outbox", "negotiations", "dead"):
        if out[kind]:
            lines.append(f"{indent}  {kind}:")
            lines += [f"{indent}    {line}" for line in describe(kind, out[kind], limit=500)]
    for s in out["slas"]:
        lines.append(f"{indent}  sla {s['sla']} in case {s['case']}: {s['status']}")
    return lines
