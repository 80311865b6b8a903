"""Check a test's expectations against a run's outcome, and say precisely what differs.

Each failure carries the position of the expectation that failed, so an
author goes straight from the report to the line to fix, and a description of
what the run did instead: for a list expectation, where the search stopped and
the closest record after that point; for a count, the records counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from accord.dsl.loader import Node, YMap, YScalar, YSeq
from accord.errors import Span
from accord.testing.match import matches, mismatches, score, show
from accord.testing.spec import Expectation, PolicyTest

__all__ = ["Failure", "check", "describe"]


@dataclass
class Failure:
    """One expectation that the run does not meet."""

    span: Span
    path: str
    message: str
    details: list[str] = field(default_factory=list)
    help: str | None = None

    def head(self) -> str:
        return f"{self.span.file}:{self.span.line}:{self.span.column}: {self.path}: {self.message}"

    def render(self, indent: str = "") -> str:
        lines = [indent + self.head()]
        lines += [f"{indent}  {d}" for d in self.details]
        if self.help:
            lines.append(f"{indent}  help: {self.help}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"file": self.span.file, "line": self.span.line, "column": self.span.column, "path": self.path,
                "message": self.message, "details": self.details, "help": self.help}


def check(test: PolicyTest, out: dict) -> list[Failure]:
    """Every failing expectation of `test`, in the order the test file lists them."""
    failures: list[Failure] = []
    for exp in test.expect:
        failures += _CHECKS[exp.kind](exp, out)
    return failures


# ----- describing what the run did ---------------------------------------------------------------

def _decision(i: int, d: dict) -> str:
    head = d["agent"]
    if d["outcome"] is not None:
        head += f" → {show(d['outcome'])}"
    elif d["rule"]:
        head += f", rule {d['rule']}"
    flags = [f for f in ("held", "escalated") if d[f]] + (["error"] if d["error"] else [])
    tail = f", {', '.join(flags)}" if flags else ""
    return f"#{i} ({head}, event {d['event']}, case {d['case']}{tail})"


def _escalation(i: int, e: dict) -> str:
    who = e["agent"] or e["source"]
    queue = f" to {e['queue']}" if e["queue"] else ""
    return f"#{i} ({who}{queue}, case {e['case']}: {show(e['reason'])})"


def _record(i: int, o: dict) -> str:
    return f"#{i} ({show(o['record'])}, case {o['case']})"


def _negotiation(i: int, n: dict) -> str:
    return f"#{i} ({n['name']}, case {n['case']}: agreed {show(n['agreed'])} after {n['rounds']} rounds)"


def _dead(i: int, d: dict) -> str:
    return f"#{i} ({d['event']}: {d['error']})"


# kind → (what one record is called, records of the outcome, what an item is matched against, description)
_LISTS: dict[str, tuple[str, str, Callable[[dict], Any], Callable[[int, dict], str]]] = {
    "decisions": ("decision", "decisions", lambda d: d, _decision),
    "no_decisions": ("decision", "decisions", lambda d: d, _decision),
    "escalations": ("escalation", "escalations", lambda e: e, _escalation),
    "outbox": ("outbox record", "outbox", lambda o: o["record"], _record),
    "negotiations": ("negotiation", "negotiations", lambda n: n, _negotiation),
    "dead": ("dead event", "dead", lambda d: d, _dead),
}


def describe(kind: str, records: list[dict], limit: int = 12) -> list[str]:
    """One line per record of an outcome list (for counts and `--verbose`)."""
    fn = _LISTS[kind][3]
    lines = [fn(i, r) for i, r in enumerate(records[:limit])]
    if len(records) > limit:
        lines.append(f"… and {len(records) - limit} more")
    return lines


def _plural(word: str, n: int) -> str:
    return word if n == 1 else word + "s"


# ----- lists and counts --------------------------------------------------------------------------

def _list_check(exp: Expectation, out: dict) -> list[Failure]:
    what, key, target, desc = _LISTS[exp.kind]
    records = out[key]
    if isinstance(exp.node, YScalar):
        n = exp.value
        if len(records) == n:
            return []
        return [Failure(exp.node.span, exp.kind, f"expected {n} {_plural(what, n)}, got {len(records)}",
                        describe(exp.kind, records))]
    if exp.kind == "no_decisions":
        return _absent(exp, records)
    failures = []
    cursor = 0
    last = None
    for i, (node, want) in enumerate(zip(exp.node, exp.value)):
        found = next((j for j in range(cursor, len(records)) if matches(want, target(records[j]))), None)
        if found is not None:
            cursor, last = found + 1, found
            continue
        path = f"{exp.kind}[{i}]"
        if last is not None:
            where = f"not found after {what} {desc(last, records[last])}"
        elif records:
            where = f"not found among the {len(records)} {_plural(what, len(records))}"
        else:
            where = f"there are no {what}s"
        details = []
        weight = 10 if exp.kind in ("decisions", "escalations") else 1
        best, best_score = None, 0
        for j in range(cursor, len(records)):
            t = target(records[j])
            s = score(want, t) + (weight if "agent" in want and matches(want["agent"], t.get("agent")) else 0)
            if s > best_score:
                best, best_score = j, s
        if best is not None:
            details.append(f"closest: {what} {desc(best, records[best])}: {'; '.join(mismatches(want, target(records[best])))}")
        earlier = next((j for j in range(0, cursor) if matches(want, target(records[j]))), None)
        help = None
        if earlier is not None:
            help = (f"it matches {what} #{earlier}, which comes before: {exp.kind} must appear in the order "
                    "the test lists them")
        failures.append(Failure(node.span, path, f"expected {show(want)}, {where}", details, help))
    return failures


def _absent(exp: Expectation, records: list[dict]) -> list[Failure]:
    failures = []
    for i, (node, unwanted) in enumerate(zip(exp.node, exp.value)):
        hits = [j for j, d in enumerate(records) if matches(unwanted, d)]
        if hits:
            more = f" and {len(hits) - 1} more" if len(hits) > 1 else ""
            failures.append(Failure(node.span, f"no_decisions[{i}]",
                                    f"expected no decision matching {show(unwanted)}, found decision {_decision(hits[0], records[hits[0]])}{more}"))
    return failures


# ----- cases -------------------------------------------------------------------------------------

def _cases(exp: Expectation, out: dict) -> list[Failure]:
    cases = out["cases"]
    instances = [(cid, c) for cid, v in cases.items() for c in (v if isinstance(v, list) else [v])]
    if isinstance(exp.node, YScalar):
        n = exp.value
        if len(instances) == n:
            return []
        return [Failure(exp.node.span, "cases", f"expected {n} {_plural('case', n)}, got {len(instances)}",
                        [_case_line(cid, c) for cid, c in instances[:12]])]
    failures = []
    assert isinstance(exp.node, YMap)
    for key, node in exp.node.items():
        cid = str(key.value)
        path = f"cases.{cid}"
        actual = cases.get(cid)
        if actual is None:
            known = list(cases)
            failures.append(Failure(key.span, path, f"no case '{cid}' was opened",
                                    help=f"the cases are {', '.join(known[:10])}{' …' if len(known) > 10 else ''}"
                                    if known else "the run opened no case"))
            continue
        runs = actual if isinstance(actual, list) else [actual]
        if isinstance(node, YSeq):
            if len(node) != len(runs):
                failures.append(Failure(node.span, path, f"expected case '{cid}' opened {len(node)} "
                                        f"{_plural('time', len(node))}, it was opened {len(runs)}",
                                        [_case_line(cid, c) for c in runs]))
                continue
            for i, (item, c) in enumerate(zip(node, runs)):
                failures += _case_fields(item, c, f"{path}[{i}]")
        else:
            failures += _case_fields(node, runs[-1], path)
    return failures


def _case_fields(node: Node, actual: dict, path: str) -> list[Failure]:
    failures = []
    assert isinstance(node, YMap)
    for key, value in node.items():
        name = str(key.value)
        want = _plain(value)
        if not matches(want, actual.get(name)):
            failures.append(Failure(value.span, f"{path}.{name}",
                                    f"expected {show(want)}, got {show(actual.get(name))}"))
    return failures


def _case_line(cid: str, c: dict) -> str:
    outcome = f" ({c['outcome']})" if c["outcome"] else ""
    return f"{cid}: {c['status']}{outcome}, {c['events']} {_plural('event', c['events'])}"


# ----- SLAs --------------------------------------------------------------------------------------

def _slas(exp: Expectation, out: dict) -> list[Failure]:
    clocks: dict[tuple[str, str], list[str]] = {}
    for s in out["slas"]:
        clocks.setdefault((s["case"], s["sla"]), []).append(s["status"])
    failures = []
    assert isinstance(exp.node, YMap)
    for ckey, per_case in exp.node.items():
        cid = str(ckey.value)
        assert isinstance(per_case, YMap)
        for skey, node in per_case.items():
            sla = str(skey.value)
            path = f"slas.{cid}.{sla}"
            got = clocks.get((cid, sla))
            if got is None:
                ran = sorted({s for (c, s) in clocks if c == cid})
                help = (f"clocks that ran in case '{cid}': {', '.join(ran)}" if ran else
                        f"no sla clock ran in case '{cid}': was it opened, and did a 'start' event reach it?")
                failures.append(Failure(skey.span, path, f"no clock of sla '{sla}' ran in case '{cid}'", help=help))
                continue
            want = _plain(node)
            if isinstance(want, list):
                if want != got:
                    failures.append(Failure(node.span, path, f"expected {show(want)}, got {show(got)}"))
            elif want != got[-1]:
                failures.append(Failure(node.span, path, f"expected {want}, got {got[-1]}"))
    return failures


def _plain(node: Node) -> Any:
    from accord.dsl.loader import to_plain

    return to_plain(node)


_CHECKS: dict[str, Callable[[Expectation, dict], list[Failure]]] = {
    "cases": _cases,
    "slas": _slas,
    **{k: _list_check for k in _LISTS},
}
