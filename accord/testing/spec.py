"""Policy test files (language reference section 11): read, check, keep positions.

A test file is checked as strictly as a policy: an unknown key, a count that
is not a number or a misspelt agent would otherwise make a test pass for the
wrong reason. Every problem is a `Diagnostic` at the line and column of the
offending node, so `accord test` reports a broken test file the way
`accord validate` reports a broken policy. Checks that need the policy
(agent, SLA and negotiation names, outcome labels) run once it has loaded.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from typing import Any

from accord.dsl.loader import Node, YMap, YScalar, YSeq, load_yaml, read_policy_text, to_plain
from accord.dsl.plan import Plan
from accord.errors import Diagnostic, Span

__all__ = ["Expectation", "PolicyTest", "TestFile", "check_against_plan", "read_test_file"]

# Diagnostic codes of test files (documented in docs/testing.md).
UNREADABLE = "T0001"   # the test file cannot be read or is empty
SHAPE = "T0101"        # a value of the wrong kind (a list where a mapping belongs, a text for a count)
UNKNOWN_KEY = "T0102"  # a key the format does not have
MISSING_KEY = "T0103"  # a required key is absent
BAD_VALUE = "T0104"    # a value of the right kind that is not allowed (negative count, unknown status)
DUPLICATE = "T0105"    # two tests with the same name
NO_FILE = "T0201"      # `policy` or `events_file` names no readable file
UNKNOWN_NAME = "T0202"  # an agent, SLA, negotiation or outcome label the policy does not have
POLICY_INVALID = "T0203"  # the policy named by `policy` does not validate (its own diagnostics follow)

CASE_STATUSES = ("open", "resolved", "escalated", "closed")
SLA_STATUSES = ("met", "breached", "pending")
ROLES = ("perception", "decision", "action")
#: what escalated a case (the `source` column of `escalations`, docs/log.md)
ESCALATION_SOURCES = ("action", "sla", "constraint", "trust", "error")

TOP_KEYS = ("policy", "description", "tests")
TEST_KEYS = ("name", "description", "events", "events_file", "expect")

CASE_FIELDS = ("status", "outcome", "events", "opened_at", "closed_at")
DECISION_FIELDS = ("case", "event", "agent", "role", "rule", "outcome", "reason", "outputs", "held", "escalated",
                   "approved_by", "error", "supersedes")
ESCALATION_FIELDS = ("case", "event", "decision", "agent", "queue", "priority", "reason", "source")
NEGOTIATION_FIELDS = ("case", "event", "decision", "agent", "name", "protocol", "agreed", "rounds", "outcome",
                      "utility")
DEAD_FIELDS = ("seq", "event", "error")

# expectation key → (accepts a count, item fields for a list (None: any), accepts a mapping)
EXPECT: dict[str, tuple[bool, tuple[str, ...] | None | bool, bool]] = {
    "cases": (True, False, True),
    "decisions": (True, DECISION_FIELDS, False),
    "no_decisions": (False, DECISION_FIELDS, False),
    "escalations": (True, ESCALATION_FIELDS, False),
    "outbox": (True, None, False),
    "slas": (False, False, True),
    "negotiations": (True, NEGOTIATION_FIELDS, False),
    "dead": (True, DEAD_FIELDS, False),
}


@dataclass
class Expectation:
    """One key of a test's `expect`, with its positioned value."""

    kind: str
    node: Node
    value: Any


@dataclass
class PolicyTest:
    name: str
    span: Span
    events: list[Any] | None
    events_file: str | None
    expect: list[Expectation]


@dataclass
class TestFile:
    __test__ = False  # not a pytest test class

    path: str
    policy_path: str
    policy_node: Node
    tests: list[PolicyTest] = field(default_factory=list)


def read_test_file(path: str) -> tuple[TestFile | None, list[Diagnostic]]:
    """Read and check a test file. The file is usable only when no diagnostic is an error; it is
    returned (as far as it could be read) even then, so the checks that need its policy can still run
    and every problem is reported in one pass. None when it has no shape at all."""
    text, diags = read_policy_text(path)
    if text is None:
        return None, [Diagnostic(UNREADABLE, d.message, d.span, d.help) for d in diags]
    if not text.strip():
        return None, [Diagnostic(UNREADABLE, f"test file '{path}' is empty", Span(path, 1, 1),
                                 help="a test file names a 'policy' and lists its 'tests'")]
    root, diags = load_yaml(text, path)
    if root is None:
        return None, diags
    c = _Checker(path, list(diags))
    tf = c.top(root)
    return tf, sorted(c.diags, key=Diagnostic.sort_key)


def check_against_plan(tf: TestFile, plan: Plan) -> list[Diagnostic]:
    """Names in expectations that the policy does not have: a typo would make a test pass or fail for
    the wrong reason, so it is an error of the test file, with a suggestion."""
    c = _Checker(tf.path, [])
    agents = {a.name: a for a in plan.agents}
    slas = {s.name for s in plan.slas}
    for test in tf.tests:
        for exp in test.expect:
            if exp.kind in ("decisions", "no_decisions", "escalations", "negotiations") and isinstance(exp.node, YSeq):
                for item in exp.node:
                    if not isinstance(item, YMap):
                        continue
                    agent = item.get("agent")
                    if isinstance(agent, YScalar) and isinstance(agent.value, str):
                        c.name_in(agent, agent.value, agents, "agent", plan.policy)
                        if exp.kind != "negotiations" and agent.value in agents:
                            c.label_in(item.get("outcome"), agents[agent.value])
                    elif agent is None and exp.kind in ("decisions", "no_decisions"):
                        c.label_anywhere(item.get("outcome"), agents)
                    name = item.get("name")
                    if exp.kind == "negotiations" and isinstance(name, YScalar) and isinstance(name.value, str):
                        c.name_in(name, name.value, plan.negotiations, "negotiation", plan.policy)
            if exp.kind == "slas" and isinstance(exp.node, YMap):
                for _, clocks in exp.node.items():
                    if isinstance(clocks, YMap):
                        for key, _ in clocks.items():
                            c.name_in(key, str(key.value), slas, "sla", plan.policy)
    return sorted(c.diags, key=Diagnostic.sort_key)


def _labels(agent) -> set[str]:
    """Every outcome an agent can log: its rules' labels, `otherwise`, and the engine's own."""
    labels = {r.decide for r in agent.rules if r.decide}
    if agent.otherwise is not None and agent.otherwise.decide:
        labels.add(agent.otherwise.decide)
    return labels | {"error", "rejected"}


def _suggest(word: str, choices) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def _kind(node: Node) -> str:
    if isinstance(node, YMap):
        return "a mapping"
    if isinstance(node, YSeq):
        return "a list"
    v = node.value
    if v is None:
        return "nothing"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number"
    return f"the text '{v}'"


class _Checker:
    def __init__(self, path: str, diags: list[Diagnostic]):
        self.path = path
        self.diags = diags

    def errors(self) -> bool:
        return any(d.severity == "error" for d in self.diags)

    def add(self, code: str, message: str, span: Span, help: str | None = None) -> None:
        self.diags.append(Diagnostic(code, message, span, help))

    # ----- generic shapes ------------------------------------------------------------------------
    def mapping(self, node: Node, what: str, keys: tuple[str, ...] | None, help: str) -> YMap | None:
        if not isinstance(node, YMap):
            self.add(SHAPE, f"{what} must be a mapping, not {_kind(node)}", node.span, help or None)
            return None
        if keys is not None:
            for k, _ in node.items():
                name = str(k.value)
                if name not in keys:
                    hint = _suggest(name, keys) or f"{what} takes {', '.join(repr(x) for x in keys)}"
                    self.add(UNKNOWN_KEY, f"unknown key '{name}' in {what}", k.span, hint)
        return node

    def text(self, node: Node, what: str) -> str | None:
        if isinstance(node, YScalar) and isinstance(node.value, str) and node.value.strip():
            return node.value
        self.add(SHAPE, f"{what} must be a text, not {_kind(node)}", node.span)
        return None

    def count(self, node: YScalar, what: str) -> None:
        v = node.value
        if isinstance(v, int) and not isinstance(v, bool) and v < 0:
            self.add(BAD_VALUE, f"{what} must be a count of zero or more, not {v}", node.span)

    def required(self, m: YMap, key: str, what: str, help: str | None = None) -> Node | None:
        node = m.get(key)
        if node is None:
            self.add(MISSING_KEY, f"{what} has no '{key}'", m.span, help)
        return node

    # ----- the file ------------------------------------------------------------------------------
    def top(self, root: Node) -> TestFile | None:
        if isinstance(root, YMap) and "accord" in root and "agents" in root and "tests" not in root:
            # a policy given where its test file belongs: one message, not one per policy key
            self.add(SHAPE, "this is a policy file, not a test file", root.span,
                     "give the policy's test file (e.g. policy.test.yaml), which names this policy under 'policy:'")
            return None
        m = self.mapping(root, "a test file", TOP_KEYS, "a test file names a 'policy' and lists its 'tests'")
        if m is None:
            return None
        pnode = self.required(m, "policy", "the test file", "add 'policy: policy.yaml' (relative to this file)")
        tnode = self.required(m, "tests", "the test file", "add 'tests:' with a list of tests")
        if "description" in m:
            self.text(m.get("description"), "'description'")
        policy_path = None
        if pnode is not None:
            rel = self.text(pnode, "'policy'")
            if rel is not None:
                policy_path = _relative(self.path, rel)
                if not os.path.isfile(policy_path):
                    self.add(NO_FILE, f"policy file '{rel}' not found", pnode.span,
                             f"'policy' is relative to the test file: looked for '{policy_path}'")
        tf = TestFile(self.path, policy_path or "", pnode) if pnode is not None else None
        if tf is not None and policy_path and not os.path.isfile(policy_path):
            tf.policy_path = ""
        if tnode is not None:
            if not isinstance(tnode, YSeq) or not len(tnode):
                what = "an empty list" if isinstance(tnode, YSeq) else _kind(tnode)
                self.add(SHAPE, f"'tests' must be a list of tests, not {what}", tnode.span,
                         "each test has a 'name', 'events' and 'expect'")
            else:
                names: dict[str, int] = {}
                for item in tnode:
                    test = self.test(item)
                    if test is None:
                        continue
                    if test.name in names:
                        self.add(DUPLICATE, f"duplicate test name '{test.name}'", test.span,
                                 f"a test of that name is on line {names[test.name]}; give each test its own name")
                    else:
                        names[test.name] = test.span.line
                    if tf is not None:
                        tf.tests.append(test)
        return tf

    def test(self, node: Node) -> PolicyTest | None:
        m = self.mapping(node, "a test", TEST_KEYS, "each test has a 'name', 'events' and 'expect'")
        if m is None:
            return None
        name_node = self.required(m, "name", "a test", "add 'name:' saying what the test shows")
        name = self.text(name_node, "a test's 'name'") if name_node is not None else None
        if "description" in m:
            self.text(m.get("description"), "'description'")
        events = events_file = None
        ev, ef = m.get("events"), m.get("events_file")
        if ev is not None and ef is not None:
            self.add(BAD_VALUE, "a test has both 'events' and 'events_file'", m.key_node("events_file").span,
                     "give the events inline or in a file, not both")
        elif ev is None and ef is None:
            self.add(MISSING_KEY, f"test '{name}' has no 'events'" if name else "a test has no 'events'", m.span,
                     "add 'events:' with a list of events, or 'events_file:' with a path")
        elif ev is not None:
            events = self.events(ev)
        else:
            events_file = self.events_file(ef)
        xnode = self.required(m, "expect", f"test '{name}'" if name else "a test",
                              "add 'expect:' with what the run must show")
        expect = self.expect(xnode) if xnode is not None else []
        if name is None:
            return None
        return PolicyTest(name, m.span, events, events_file, expect)

    def events(self, node: Node) -> list[Any] | None:
        if not isinstance(node, YSeq):
            self.add(SHAPE, f"'events' must be a list of events, not {_kind(node)}", node.span,
                     "write one event per item: - { type: request_received, ... }")
            return None
        out = []
        for item in node:
            if isinstance(item, YMap):
                out.append(to_plain(item))
            elif isinstance(item, YScalar) and isinstance(item.value, str):
                out.append(item.value)  # raw json text: lets a test feed a malformed record
            else:
                self.add(SHAPE, f"an event must be a mapping, not {_kind(item)}", item.span,
                         "write an event as { type: ..., ... }, or as a quoted line of json text")
        return out

    def events_file(self, node: Node) -> str | None:
        rel = self.text(node, "'events_file'")
        if rel is None:
            return None
        path = _relative(self.path, rel)
        from accord.engine.sources import open_source
        from accord.errors import UsageError

        try:
            open_source(path)
        except UsageError as e:
            self.add(NO_FILE, e.message.replace(f"'{path}'", f"'{rel}'"), node.span,
                     f"'events_file' is relative to the test file: looked for '{path}'" if not os.path.exists(path)
                     else e.help)
            return None
        return path

    # ----- expectations --------------------------------------------------------------------------
    def expect(self, node: Node) -> list[Expectation]:
        m = self.mapping(node, "'expect'", tuple(EXPECT), None)
        if m is None:
            return []
        if not len(m):
            self.add(BAD_VALUE, "'expect' is empty", m.span, f"expect at least one of {', '.join(EXPECT)}")
        out = []
        for k, v in m.items():
            kind = str(k.value)
            if kind not in EXPECT:
                continue
            self.expectation(kind, v)  # kept even when wrong, so the policy's names are checked too
            out.append(Expectation(kind, v, to_plain(v)))
        return out

    def expectation(self, kind: str, node: Node) -> bool:
        counts, fields, mapping = EXPECT[kind]
        forms = [f for f, ok in (("a count", counts), ("a list", fields is not False), ("a mapping", mapping)) if ok]
        before = len(self.diags)
        if isinstance(node, YScalar) and counts and isinstance(node.value, int) and not isinstance(node.value, bool):
            self.count(node, f"'{kind}'")
        elif isinstance(node, YSeq) and fields is not False:
            for i, item in enumerate(node):
                what = f"{kind}[{i}]"
                if not isinstance(item, YMap):
                    self.add(SHAPE, f"{what} must be a mapping, not {_kind(item)}", item.span,
                             f"write it as {{ {', '.join(f'{f}: ...' for f in (fields or ('type',))[:2])} }}")
                    continue
                if fields is not None:
                    self.mapping(item, what, fields, "")
                    self.field_values(kind, item)
        elif isinstance(node, YMap) and mapping:
            self.case_map(node) if kind == "cases" else self.sla_map(node)
        else:
            self.add(SHAPE, f"'{kind}' must be {' or '.join(forms)}, not {_kind(node)}", node.span,
                     _FORM_HELP[kind])
        return len(self.diags) == before

    def field_values(self, kind: str, item: YMap) -> None:
        role = item.get("role")
        if kind in ("decisions", "no_decisions") and isinstance(role, YScalar) and role.value not in ROLES:
            self.add(BAD_VALUE, f"unknown role '{role.value}'", role.span,
                     _suggest(str(role.value), ROLES) or f"a role is one of {', '.join(ROLES)}")
        source = item.get("source")
        if kind == "escalations" and isinstance(source, YScalar) and source.value not in ESCALATION_SOURCES:
            self.add(BAD_VALUE, f"unknown escalation source '{source.value}'", source.span,
                     _suggest(str(source.value), ESCALATION_SOURCES)
                     or f"an escalation source is one of {', '.join(ESCALATION_SOURCES)}")
        for key in ("held", "escalated", "agreed"):
            v = item.get(key)
            if isinstance(v, YScalar) and not isinstance(v.value, bool):
                self.add(SHAPE, f"'{key}' must be true or false, not {_kind(v)}", v.span)

    def case_map(self, node: YMap) -> None:
        for key, value in node.items():
            what = f"case '{key.value}'"
            items = value.items if isinstance(value, YSeq) else [value]
            for v in items:
                m = self.mapping(v, what, CASE_FIELDS, "")
                if m is None:
                    continue
                status = m.get("status")
                if isinstance(status, YScalar) and status.value not in CASE_STATUSES:
                    self.add(BAD_VALUE, f"unknown case status '{status.value}'", status.span,
                             _suggest(str(status.value), CASE_STATUSES)
                             or f"a case status is one of {', '.join(CASE_STATUSES)}")
                events = m.get("events")
                if events is not None and not (isinstance(events, YScalar) and type(events.value) is int):
                    self.add(SHAPE, f"'events' of {what} must be a count, not {_kind(events)}", events.span)

    def sla_map(self, node: YMap) -> None:
        for key, value in node.items():
            m = self.mapping(value, f"the slas of case '{key.value}'", None, "write it as { sla_name: met }")
            if m is None:
                continue
            for _, status in m.items():
                for s in (status.items if isinstance(status, YSeq) else [status]):
                    if not (isinstance(s, YScalar) and s.value in SLA_STATUSES):
                        shown = f"'{s.value}'" if isinstance(s, YScalar) else _kind(s)
                        hint = _suggest(str(s.value), SLA_STATUSES) if isinstance(s, YScalar) else None
                        self.add(BAD_VALUE, f"unknown sla status {shown}", s.span,
                                 hint or f"an sla status is one of {', '.join(SLA_STATUSES)}")

    # ----- names the policy must have ------------------------------------------------------------
    def name_in(self, node: YScalar, name: str, known, what: str, policy: str) -> None:
        if name in known:
            return
        hint = _suggest(name, known) or (f"its {what}s are {', '.join(sorted(known))}" if known
                                         else f"it has no {what}s")
        self.add(UNKNOWN_NAME, f"policy '{policy}' has no {what} '{name}'", node.span, hint)

    def label_in(self, node: Node | None, agent) -> None:
        """An outcome the agent can never log would make a `no_decisions` expectation pass on a typo."""
        if agent.role == "perception":
            if isinstance(node, (YScalar, YSeq)) and not (isinstance(node, YScalar) and node.value is None):
                self.add(UNKNOWN_NAME, f"agent '{agent.name}' is a perception agent: its decisions have no outcome",
                         node.span, "expect its signals with 'outputs', or leave 'outcome' out")
            return
        labels = _labels(agent)
        # a `collect` agent logs the list of the labels that fired: each of them must be one of its labels
        items = list(node) if isinstance(node, YSeq) and agent.hit == "collect" else [node]
        for item in items:
            if isinstance(item, YScalar) and isinstance(item.value, str) and item.value not in labels:
                hint = _suggest(item.value, labels) or f"its outcomes are {', '.join(sorted(labels))}"
                self.add(UNKNOWN_NAME, f"agent '{agent.name}' never decides '{item.value}'", item.span, hint)

    def label_anywhere(self, node: Node | None, agents: dict) -> None:
        """An outcome expected without an agent must be one some agent can log."""
        if not (isinstance(node, YScalar) and isinstance(node.value, str)):
            return
        labels = set().union(*(_labels(a) for a in agents.values() if a.role != "perception"))
        if node.value not in labels:
            hint = _suggest(node.value, labels) or "no agent of the policy decides it"
            self.add(UNKNOWN_NAME, f"no agent decides '{node.value}'", node.span, hint)


_FORM_HELP = {
    "cases": "write 'cases: 3' or 'cases: { r1: { status: resolved, outcome: ordered } }'",
    "decisions": "write 'decisions: [ { agent: sourcing, outcome: substitute } ]', or a count",
    "no_decisions": "write 'no_decisions: [ { agent: sourcing, outcome: expedite } ]'",
    "escalations": "write 'escalations: 0', or a list such as [ { queue: buyers } ]",
    "outbox": "write 'outbox: 2', or a list of record fields such as [ { type: po_issued } ]",
    "slas": "write 'slas: { r1: { po_within_4h: met } }'",
    "negotiations": "write 'negotiations: 1', or a list such as [ { name: price_terms, agreed: true } ]",
    "dead": "write 'dead: 0', or a list such as [ { error: \"no 'type' field\" } ]",
}


def _relative(test_path: str, rel: str) -> str:
    return os.path.normpath(os.path.join(os.path.dirname(test_path), rel))
