"""Every broken fixture policy reports exactly its one problem, at the right place.

The table pins code, line and column; the snapshots pin the full rendered
diagnostic (message and help), so wording changes are reviewed on purpose.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.dsl.model import read_policy

HERE = Path(__file__).parent

CASES = [
    ("e0002_latin1.yaml", "E0002", 7, 17),
    ("e0101_bad_indent.yaml", "E0101", 10, 4),
    ("e0101_empty.yaml", "E0101", 1, 1),
    ("e0101_tab_indent.yaml", "E0101", 9, 1),
    ("e0101_unclosed_quote.yaml", "E0101", 14, 1),
    ("e0102_duplicate_agent.yaml", "E0102", 13, 3),
    ("e0102_duplicate_rule_key.yaml", "E0102", 13, 9),
    ("e0103_alias.yaml", "E0103", 11, 15),
    ("e0103_bang_not.yaml", "E0103", 11, 15),
    ("e0103_comment.yaml", "E0103", 11, 15),
    ("e0103_flow_bracket.yaml", "E0103", 12, 33),
    ("e0103_flow_map_list_value.yaml", "E0103", 12, 43),
    ("e0103_flow_split.yaml", "E0103", 12, 19),
    ("e0103_flow_start.yaml", "E0103", 11, 15),
    ("e0103_list_value.yaml", "E0103", 11, 15),
    ("e0103_quoted_start.yaml", "E0103", 11, 15),
    ("e0103_ternary_colon.yaml", "E0103", 11, 32),
    ("e0104_anchor_map.yaml", "E0104", 8, 11),
    ("e0104_custom_tag.yaml", "E0104", 8, 11),
    ("e0104_merge_key.yaml", "E0104", 9, 5),
    ("e0401_unknown_action.yaml", "E0401", 13, 13),
    ("e0401_unknown_rule_key.yaml", "E0401", 12, 9),
    ("e0401_unknown_top.yaml", "E0401", 7, 1),
    ("e0402_empty_action.yaml", "E0402", 13, 13),
    ("e0402_missing_case_key.yaml", "E0402", 5, 1),
    ("e0402_missing_role.yaml", "E0402", 8, 3),
    ("e0402_table_source.yaml", "E0402", 8, 3),
    ("e0403_on_boolean.yaml", "E0403", 10, 28),
    ("e0403_on_string.yaml", "E0403", 10, 9),
    ("e0403_rules_map.yaml", "E0403", 11, 7),
    ("e0403_version_number.yaml", "E0403", 3, 10),
    ("e0404_agent_name.yaml", "E0404", 8, 3),
    ("e0404_hit_enum.yaml", "E0404", 10, 10),
    ("e0404_label.yaml", "E0404", 12, 17),
    ("e0404_language_version.yaml", "E0404", 1, 9),
    ("e0404_policy_name.yaml", "E0404", 2, 9),
    ("e0404_timezone.yaml", "E0404", 7, 11),
    ("e0404_two_actions.yaml", "E0404", 13, 13),
    ("e0405_duration.yaml", "E0405", 16, 13),
    ("e0406_percentage.yaml", "E0406", 17, 14),
    ("e0407_exponent.yaml", "E0407", 14, 59),
    ("e0407_steps.yaml", "E0407", 17, 40),
    ("e0407_trust.yaml", "E0407", 10, 12),
    ("e0408_priority_missing.yaml", "E0408", 15, 9),
    ("e0408_priority_without_hit.yaml", "E0408", 13, 9),
    ("e0601_strategy.yaml", "E0601", 14, 46),
    ("e0602_boulware_e.yaml", "E0602", 14, 59),
    ("e0603_option_order.yaml", "E0603", 17, 52),
    ("e0604_opens.yaml", "E0604", 19, 12),
    ("e0605_weights.yaml", "E0605", 17, 76),
    ("e0606_preference_party.yaml", "E0606", 17, 45),
    ("e0607_range_and_options.yaml", "E0607", 17, 33),
    ("e0608_outcome_space.yaml", "E0608", 11, 3),
]


def test_the_outcome_space_limit_is_the_strategy_librarys():
    from accord.dsl.model_build import _Builder
    from accord.policies.alternating_offers import MAX_OUTCOMES

    assert _Builder.MAX_OUTCOMES == MAX_OUTCOMES


def _read(name: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(HERE)  # diagnostics then name the file as broken/<name>, the same on every machine
    return read_policy(Path("broken") / name)


def test_every_fixture_is_in_the_table():
    assert sorted(p.name for p in (HERE / "broken").glob("*.yaml")) == sorted(c[0] for c in CASES)
    assert len(CASES) >= 30


@pytest.mark.parametrize(("name", "code", "line", "column"), CASES, ids=[c[0] for c in CASES])
def test_broken_policy_reports_its_problem(name, code, line, column, monkeypatch):
    policy, diags = _read(name, monkeypatch)
    assert [(d.code, d.span.line, d.span.column) for d in diags] == [(code, line, column)]
    d = diags[0]
    assert d.span.file == f"broken/{name}"
    assert d.message == d.message.strip() and not d.message.endswith(".")
    assert d.message[0].islower() or d.message[0] in "'\""
    if code < "E0400":  # cannot read, not YAML, or a YAML pitfall: no model at all or one built on a misreading
        assert policy is None or code in ("E0102", "E0103", "E0104")
    else:
        assert policy is None or code >= "E0404"


@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_broken_policy_rendering(name, monkeypatch, snapshot):
    _, diags = _read(name, monkeypatch)
    assert "\n".join(d.render() for d in diags) == snapshot
