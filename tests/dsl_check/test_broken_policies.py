"""Every broken policy reports its one problem at the right place, through the whole pipeline
(load → structure → model → checker → compiler), with the rendered diagnostic snapshot-tested."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.dsl import check_file

HERE = Path(__file__).parent
BROKEN = HERE / "broken"

CASES = [
    ("e0201_duplicate_name.yaml", "E0201", 10, 3),
    ("e0202_bare_word.yaml", "E0202", 13, 44),
    ("e0202_item_outside_for_each.yaml", "E0202", 13, 38),
    ("e0202_table_without_data.yaml", "E0202", 14, 15),
    ("e0202_unknown_name.yaml", "E0202", 11, 15),
    ("e0202_unknown_table.yaml", "E0202", 12, 15),
    ("e0203_after_unknown.yaml", "E0203", 14, 13),
    ("e0203_reads_unknown.yaml", "E0203", 13, 13),
    ("e0204_case_key_reads_agent.yaml", "E0204", 6, 8),
    ("e0204_constraint_scope.yaml", "E0204", 17, 12),
    ("e0204_data_not_in_reads.yaml", "E0204", 13, 28),
    ("e0204_negotiation_expr_scope.yaml", "E0204", 19, 14),
    ("e0204_trust_boundary.yaml", "E0204", 14, 15),
    ("e0205_negotiation_output.yaml", "E0205", 12, 15),
    ("e0205_output_never_defined.yaml", "E0205", 15, 15),
    ("e0206_reads_cycle.yaml", "E0206", 8, 3),
    ("e0207_after_not_read.yaml", "E0207", 13, 13),
    ("e0208_party_not_agent.yaml", "E0208", 18, 24),
    ("e0209_applies_to_unknown.yaml", "E0209", 13, 18),
    ("e0210_negotiate_unknown.yaml", "E0210", 11, 46),
    ("e0211_case_field.yaml", "E0211", 11, 17),
    ("e0212_unknown_constant.yaml", "E0212", 13, 27),
    ("e0213_reserved_name.yaml", "E0213", 8, 3),
    ("e0214_reads_itself.yaml", "E0214", 10, 13),
    ("e0216_perception_with_rules.yaml", "E0216", 9, 5),
    ("e0217_signal_order.yaml", "E0217", 11, 10),
    ("e0218_set_memory_key.yaml", "E0218", 13, 16),
    ("e0219_sla_set.yaml", "E0219", 16, 9),
    ("e0220_raise_approval.yaml", "E0220", 13, 28),
    ("e0221_raise_id.yaml", "E0221", 13, 43),
    ("e0301_quoted_offset.yaml", "E0301", 11, 34),
    ("e0301_syntax_in_when.yaml", "E0301", 11, 26),
    ("e0301_template_expr.yaml", "E0301", 13, 35),
    ("e0302_unknown_function_block.yaml", "E0302", 13, 19),
    ("e0303_arity.yaml", "E0303", 11, 18),
    ("e0304_literal_guard.yaml", "E0304", 11, 17),
    ("e0306_template.yaml", "E0306", 13, 22),
    ("e0307_invalid_pattern.yaml", "E0307", 11, 34),
    ("e0501_missing_file.yaml", "E0501", 8, 12),
    ("e0505_missing_key_column.yaml", "E0505", 8, 12),
    # a warning: the policy still loads
    ("w0201_after_later_role.yaml", "W0201", 11, 13),
    ("w0202_sla_never_acts.yaml", "W0202", 13, 19),
]


def diagnostics(name: str):
    plan, diags = check_file(BROKEN / name)
    warning = name.startswith("w")
    assert (plan is not None) if warning else (plan is None)
    assert all(d.severity == ("warning" if warning else "error") for d in diags)
    return diags


@pytest.mark.parametrize(("name", "code", "line", "column"), CASES, ids=[c[0] for c in CASES])
def test_code_and_position(name, code, line, column):
    (d,) = diagnostics(name)
    assert (d.code, d.span.line, d.span.column) == (code, line, column)
    assert not d.message.endswith(".") and not d.message[0].isupper()


@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_rendered(name, snapshot):
    text = "\n".join(d.render() for d in diagnostics(name))
    assert text.replace(str(HERE) + "/", "") == snapshot


def test_every_fixture_is_in_the_table():
    assert sorted(p.name for p in BROKEN.glob("*.yaml")) == sorted(c[0] for c in CASES)


@pytest.mark.parametrize(("expression", "message"), [
    ('event.s.matches("(")', "invalid regular expression '(': missing )"),
    ('matches(event.s, "[z-a]")', "invalid regular expression '[z-a]': invalid character class range at 'z-a'"),
    ('event.s.matches("a**") || true', "invalid regular expression 'a**': bad repetition operator at '**'"),
    ('[1].exists(x, event.s.matches(r"x{1001}"))', "invalid regular expression 'x{1001}': invalid repetition size"),
    ('event.s.matches("^a.c$")', None),
    ('event.s.matches(event.p + "(")', None),  # not a literal: an error value when it runs
])
def test_literal_pattern_is_checked(tmp_path, expression, message):
    policy = tmp_path / "p.yaml"
    policy.write_text(f"""accord: 1
policy: t
version: "1"
owner: ops
case: {{ key: event.k }}
agents:
  a:
    role: decision
    rules:
      - when: '{expression}'
        decide: go
""")
    _, diags = check_file(policy)
    if message is None:
        assert diags == []
    else:
        (d,) = diags
        assert d.code == "E0307" and d.message.startswith(message) and "b'" not in d.message


@pytest.mark.parametrize(("expression", "help"), [
    ("True", "booleans are written true or false (lowercase)"),
    ("TRUE", "booleans are written true or false (lowercase)"),
    ("False", "booleans are written true or false (lowercase)"),
    ("yes", "booleans are written true or false (lowercase)"),
    ("no", "booleans are written true or false (lowercase)"),  # not "did you mean 'now'?"
    ("On", "booleans are written true or false (lowercase)"),
    ("off", "booleans are written true or false (lowercase)"),
    ("event.vip == True", "booleans are written true or false (lowercase)"),
    ("nw > 1", "did you mean 'now'?"),
])
def test_other_boolean_spellings(tmp_path, expression, help):
    policy = tmp_path / "p.yaml"
    policy.write_text(f"""accord: 1
policy: t
version: "1"
owner: ops
case: {{ key: event.k }}
agents:
  a:
    role: decision
    rules:
      - when: "{expression}"
        decide: go
""")
    _, diags = check_file(policy)
    assert [(d.code, d.help) for d in diags] == [("E0202", help)]


def test_all_problems_in_one_pass(tmp_path):
    policy = tmp_path / "p.yaml"
    policy.write_text("""accord: 1
policy: t
version: "1"
owner: ops
case: { key: event.k }
agents:
  a:
    role: decision
    reads: [nope]
    rules:
      - { when: evnt.x > 1, decide: go }
      - { when: b.decision == "x", decide: no }
  b:
    role: decision
    rules: [ { when: true, decide: x } ]
""")
    plan, diags = check_file(policy)
    assert plan is None
    assert [(d.code, d.span.line) for d in diags] == [("E0203", 9), ("E0202", 11), ("E0204", 12)]
