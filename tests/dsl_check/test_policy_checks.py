"""Table-driven checks of the rules that guard an agent's memory and the autonomy gate (E0218–E0220)
and of the `after` order warning (W0201): each policy reports exactly the listed (code, severity,
line, column), and a policy with warnings only still loads."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from accord.dsl import check_file, load_policy

HEAD = """accord: 1
policy: t
version: "1"
owner: ops
case:
  key: event.k
"""


def run(tmp_path, body: str, head: str = HEAD):
    path = tmp_path / "p.yaml"
    path.write_text(head + textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    plan, diags = check_file(path)
    return plan, [(d.code, d.severity, d.span.line, d.span.column) for d in diags], diags


MEMORY_KEYS = [
    ("rule set decision", """
agents:
  d:
    role: decision
    rules:
      - { when: true, decide: go, set: { decision: '"deny"' } }
""", [("E0218", "error", 11, 42)]),
    ("rule set rule, reason, proposed", """
agents:
  d:
    role: decision
    rules:
      - when: true
        decide: go
        set: { rule: '"x"', reason: '"r"', proposed: 1, note: 1 }
""", [("E0218", "error", 13, 16), ("E0218", "error", 13, 29), ("E0218", "error", 13, 44)]),
    ("otherwise set", """
agents:
  d:
    role: decision
    rules: [ { when: event.x, decide: go } ]
    otherwise: { decide: no, set: { reason: '"none"' } }
""", [("E0218", "error", 11, 37)]),
    ("set action in do", """
agents:
  a:
    role: action
    rules:
      - when: true
        do:
          - set: { a: 1, decision: '"x"' }
""", [("E0218", "error", 13, 26)]),
    ("set action in otherwise", """
agents:
  a:
    role: action
    rules: [ { when: event.x, do: [ { resolve: ok } ] } ]
    otherwise: { do: [ { set: { proposed: 1 } } ] }
""", [("E0218", "error", 11, 33)]),
    ("other names are fine", """
agents:
  d:
    role: decision
    rules:
      - { when: true, decide: go, set: { decision_note: '"x"', decided: true } }
""", []),
]

SLA_SET = [
    ("on_breach", """
agents:
  a: { role: action, rules: [ { when: true, do: [ { resolve: done } ] } ] }
slas:
  - name: s
    start: [opened]
    within: 1h
    on_breach:
      - emit: { type: late }
      - set: { late: true }
""", [("E0219", "error", 15, 9)]),
    ("on_at_risk, flow style", """
agents:
  a: { role: action, rules: [ { when: true, do: [ { resolve: done } ] } ] }
slas:
  - name: s
    start: [opened]
    within: 1h
    at_risk: 50%
    on_at_risk: [ { set: { risky: true } } ]
""", [("E0219", "error", 14, 21)]),
    ("raise, emit and escalate are fine", """
agents:
  a: { role: action, on: [tick], rules: [ { when: true, do: [ { resolve: done } ] } ] }
slas:
  - name: s
    start: [opened]
    within: 1h
    on_breach:
      - raise: { type: tick }
      - emit: { type: late, n: sla.name }
      - escalate: { queue: ops, reason: "late" }
""", []),
]

RAISE_APPROVAL = [
    ("in a rule", """
agents:
  a:
    role: action
    rules:
      - when: true
        do: [ { raise: { type: approval, agent: '"d"', approved: true } } ]
""", HEAD, [("E0220", "error", 12, 32)]),
    ("in otherwise, with for_each", """
agents:
  a:
    role: action
    rules: [ { when: event.x, do: [ { resolve: ok } ] } ]
    otherwise:
      do: [ { raise: { for_each: "[1]", type: approval } } ]
""", HEAD, [("E0220", "error", 12, 47)]),
    ("in an sla", """
agents:
  a: { role: action, rules: [ { when: true, do: [ { resolve: done } ] } ] }
slas:
  - name: s
    start: [opened]
    within: 1h
    on_breach: [ { raise: { type: approval, copy: true } } ]
""", HEAD, [("E0220", "error", 13, 35)]),
    ("the type set by case.approval", """
agents:
  a:
    role: action
    rules: [ { when: true, do: [ { raise: { type: signoff } } ] } ]
""", HEAD.replace("  key: event.k\n", "  key: event.k\n  approval: signoff\n"), [("E0220", "error", 11, 51)]),
    ("'approval' is an ordinary type when case.approval renames it", """
agents:
  a:
    role: action
    rules: [ { when: true, do: [ { raise: { type: approval } } ] } ]
""", HEAD.replace("  key: event.k\n", "  key: event.k\n  approval: signoff\n"), []),
]

AFTER_ORDER = [
    ("perception after decision", """
agents:
  p: { role: perception, reads: [d], after: [d], signals: { s: true } }
  d: { role: decision, rules: [ { when: true, decide: go } ] }
""", [("W0201", "warning", 8, 46)]),
    ("decision after action", """
agents:
  d: { role: decision, reads: [a], after: [a], rules: [ { when: true, decide: go } ] }
  a: { role: action, rules: [ { when: true, do: [ { resolve: ok } ] } ] }
""", [("W0201", "warning", 8, 44)]),
    ("perception after action, one entry of two", """
agents:
  p0: { role: perception, signals: { s: true } }
  p:
    role: perception
    reads: [p0, a]
    after: [p0, a]
    signals: { s: true }
  a: { role: action, rules: [ { when: true, do: [ { resolve: ok } ] } ] }
""", [("W0201", "warning", 12, 17)]),
    ("action after decision, decision after perception, same role", """
agents:
  p: { role: perception, signals: { s: true } }
  d: { role: decision, reads: [p], after: [p], rules: [ { when: true, decide: go } ] }
  d2: { role: decision, reads: [d], after: [d], rules: [ { when: true, decide: go } ] }
  a: { role: action, reads: [d2], after: [d2], rules: [ { when: true, do: [ { resolve: ok } ] } ] }
""", []),
    ("a held decision is settled on the approval event, before any agent runs", """
agents:
  p: { role: perception, reads: [d], after: [d], signals: { s: d.decision } }
  d:
    role: decision
    trust: 0.5
    rules: [ { when: true, decide: go, requires_trust: 0.9 } ]
""", []),
    ("held, but the agent never runs on the approval event", """
agents:
  p: { role: perception, on: [go], reads: [d], after: [d], signals: { s: d.decision } }
  d:
    role: decision
    trust: 0.5
    rules: [ { when: true, decide: go, requires_trust: 0.9 } ]
""", [("W0201", "warning", 8, 56)]),
    ("trust high enough: nothing is ever held", """
agents:
  p: { role: perception, reads: [d], after: [d], signals: { s: d.decision } }
  d:
    role: decision
    trust: 0.95
    rules: [ { when: true, decide: go, requires_trust: 0.9 } ]
""", [("W0201", "warning", 8, 46)]),
]


@pytest.mark.parametrize(("body", "expected"), [c[1:] for c in MEMORY_KEYS], ids=[c[0] for c in MEMORY_KEYS])
def test_set_cannot_overwrite_memory_keys(tmp_path, body, expected):
    _, found, _ = run(tmp_path, body)
    assert found == expected


@pytest.mark.parametrize(("body", "expected"), [c[1:] for c in SLA_SET], ids=[c[0] for c in SLA_SET])
def test_sla_cannot_set(tmp_path, body, expected):
    _, found, _ = run(tmp_path, body)
    assert found == expected


@pytest.mark.parametrize(("body", "head", "expected"), [c[1:] for c in RAISE_APPROVAL],
                         ids=[c[0] for c in RAISE_APPROVAL])
def test_policy_cannot_raise_its_approval(tmp_path, body, head, expected):
    _, found, _ = run(tmp_path, body, head)
    assert found == expected


@pytest.mark.parametrize(("body", "expected"), [c[1:] for c in AFTER_ORDER], ids=[c[0] for c in AFTER_ORDER])
def test_after_a_later_role_warns(tmp_path, body, expected):
    plan, found, _ = run(tmp_path, body)
    assert found == expected
    assert plan is not None  # a warning never stops a policy from loading
    assert load_policy(tmp_path / "p.yaml") is not None


def test_warning_wording(tmp_path):
    _, _, diags = run(tmp_path, AFTER_ORDER[2][1])
    (d,) = diags
    assert d.render().endswith(
        "warning[W0201]: perception agent 'p' runs after action agent 'a', which runs later on each event: "
        "this entry never lets 'p' run\n"
        "  help: agents run by role, perception first, then decision, then action: "
        "remove 'a' from the 'after' of 'p', or change a role")
    assert d.to_json()["severity"] == "warning"


def test_warnings_do_not_hide_errors(tmp_path):
    plan, found, _ = run(tmp_path, """
agents:
  p: { role: perception, reads: [d], after: [d], signals: { s: true } }
  d: { role: decision, rules: [ { when: true, decide: go, set: { reason: '"x"' } } ] }
""")
    assert plan is None
    assert [(c, s) for c, s, *_ in found] == [("W0201", "warning"), ("E0218", "error")]


# ----- docs/errors.md for warnings (tests/docs checks the E codes) -----------------------------------

ROOT = Path(__file__).resolve().parents[2]
ERRORS = ROOT / "docs" / "errors.md"


def test_every_warning_code_is_documented_with_its_fixture_output(monkeypatch):
    emitted = set()
    for path in (ROOT / "accord").rglob("*.py"):
        emitted.update(re.findall(r"""["'](W0\d{3})["']""", path.read_text(encoding="utf-8")))
    text = ERRORS.read_text(encoding="utf-8")
    assert emitted and emitted == set(re.findall(r"^### (W0\d{3})\b", text, re.M))
    shown = re.findall(r"^```\n(broken/(w0\d{3})_\w+\.yaml:.*?)\n```$", text, re.M | re.S)
    assert {code.upper() for _, code in shown} == emitted
    monkeypatch.chdir(Path(__file__).parent)
    for rendered, _ in shown:
        _, diags = check_file(rendered.split(":", 1)[0])
        assert "\n".join(d.render() for d in diags) == rendered


CONSTRAINT_TARGETS = [
    ("a perception agent makes no decision to check", """
agents:
  p: { role: perception, signals: { big: event.n > 1 } }
  d: { role: decision, reads: [p], rules: [ { when: p.big, decide: go } ] }
constraints:
  - { name: c, applies_to: [p], check: p.big }
""", [("E0209", "error", 11, 29)]),
    ("decision and action agents and negotiations are fine", """
agents:
  p: { role: perception, signals: { big: event.n > 1 } }
  d: { role: decision, reads: [p], rules: [ { when: p.big, decide: go } ] }
constraints:
  - { name: c, applies_to: [d], check: d.decision == "go" }
""", []),
]


@pytest.mark.parametrize(("body", "expected"), [c[1:] for c in CONSTRAINT_TARGETS],
                         ids=[c[0] for c in CONSTRAINT_TARGETS])
def test_what_a_constraint_may_apply_to(tmp_path, body, expected):
    _, found, _ = run(tmp_path, body)
    assert found == expected


def test_diagnostics_carry_the_section_8_fields_as_attributes(tmp_path):
    _, _, diags = run(tmp_path, CONSTRAINT_TARGETS[0][1])
    (d,) = diags
    assert (d.file, d.line, d.column, d.code, d.severity) == (str(tmp_path / "p.yaml"), 11, 29, "E0209", "error")
    assert d.to_json()["line"] == d.line
