"""The typed model built from valid/full.yaml, which uses every construct of the language."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from accord.dsl import model as m
from accord.dsl.model import read_policy
from accord.errors import Span

FULL = Path(__file__).parent / "valid" / "full.yaml"


@pytest.fixture(scope="module")
def policy() -> m.Policy:
    p, diags = read_policy(FULL)
    assert diags == []
    assert p is not None
    return p


def names(items) -> list[str]:
    return [n.value for n in items]


def test_header(policy):
    assert (policy.accord, policy.policy, policy.version, policy.owner) == (1, "procurement", "2026.11.1",
                                                                          "procurement-ops")
    assert policy.description == "B2B procurement exceptions"
    assert policy.timezone == "America/New_York"
    assert policy.path == str(FULL)
    assert policy.source_text == FULL.read_text()
    assert policy.span.line == 2


def test_case_constants_and_data(policy):
    assert policy.case.key.text == "event.request_id"
    assert names(policy.case.closes_on) == ["po_issued", "cancelled"]
    assert policy.case.approval == "sign_off"
    assert policy.constants == {"covered_reasons": ["health", "weather"], "max_discount": 0.15, "on": "yes"}
    assert list(policy.data) == ["catalog", "suppliers", "tiers", "prices"]
    cat = policy.data["catalog"]
    assert (cat.name, cat.file, cat.key, cat.rows, cat.format) == ("catalog", "data/catalog.csv", "sku", None, None)
    assert policy.data["suppliers"].key is None
    assert policy.data["tiers"].rows == ({"tier": "gold", "upgrade": True},)
    assert policy.data["prices"].format == "jsonl"
    assert policy.data["tiers"].name_span.line == 22


def test_perception_agent(policy):
    inv = policy.agents["inventory"]
    assert (inv.role, inv.owner, inv.trust) == ("perception", "supply-chain", 0.9)
    assert names(inv.on) == ["request_received", "stock_update"]
    assert inv.when.text == "event.qty > 0"
    assert names(inv.reads) == ["catalog"]
    assert [(s.name, s.expr.text) for s in inv.signals] == [
        ("known", "event.sku in data.catalog"),
        ("discontinued", "data.catalog[event.sku].discontinued"),
    ]
    assert inv.name_span.line == 26 and inv.name_span.column == 3


def test_decision_agent_defaults_and_rules(policy):
    src = policy.agents["sourcing"]
    assert (src.owner, src.trust, src.on, src.hit, src.on_error) == ("procurement-ops", 1.0, None, "first", "escalate")
    first, second = src.rules
    assert (first.index, first.name, first.decide.value) == (0, "substitute", "substitute")
    assert [(o.name, o.expr.text) for o in first.set] == [
        ("sku", "data.catalog[event.sku].substitute"), ("note", "was ${event.sku}"), ("n", "3")]
    assert first.reason.text.startswith("SKU ${event.sku}")
    assert first.negotiate.value == "price_terms"
    assert first.requires_trust == 0.8 and first.priority is None and first.do == ()
    assert (second.index, second.name, second.when.text, second.decide.value) == (1, "rule_2", "true", "proceed")
    other = src.otherwise
    assert (other.decide.value, other.reason.text) == ("escalate", "no rule applies")
    assert [(o.name, o.expr.text) for o in other.set] == [("flag", "true")]
    assert [a.kind for a in other.do] == ["close"]


def test_priority_agent(policy):
    ranker = policy.agents["ranker"]
    assert ranker.hit == "priority" and ranker.on_error == "skip"
    assert [r.priority for r in ranker.rules] == [10.0, 1.5]
    assert policy.agents["supplier"].trust == 1.0


def test_actions(policy):
    pur = policy.agents["purchasing"]
    assert names(pur.after) == ["sourcing"]
    emit, emit_each, raise_, set_, resolve = pur.rules[0].do
    assert (emit.kind, emit.type.value, [(f.name, f.expr.text) for f in emit.fields]) == (
        "emit", "po_issued", [("sku", "sourcing.sku")])
    assert emit_each.for_each.text == "event.lines" and [f.name for f in emit_each.fields] == ["sku"]
    assert (raise_.kind, raise_.type.value, raise_.copy, raise_.for_each.text) == ("raise", "follow_up", True,
                                                                                  "event.lines")
    assert [(f.name, f.expr.text) for f in raise_.fields] == [("line", "index")]
    assert (set_.kind, [(f.name, f.expr.text) for f in set_.fields]) == ("set", [("done", "true")])
    assert (resolve.kind, resolve.label.value) == ("resolve", "substituted")
    escalate, close = pur.rules[1].do
    assert (escalate.queue.text, escalate.priority.text, escalate.reason.text) == ("buyers", "high",
                                                                                 "${sourcing.reason}")
    assert close.kind == "close"


def test_constraints_and_slas(policy):
    c1, c2 = policy.constraints
    assert (c1.name, names(c1.applies_to), c1.on_violation) == ("max_discount", ["sourcing"], "block")
    assert c1.check.text.startswith("not has(")
    assert c1.message.text == "discount ${sourcing.discount} is over 15%"
    assert (c2.applies_to, c2.on_violation, c2.message) == (None, "warn", None)
    s1, s2 = policy.slas
    assert (s1.name, names(s1.start), names(s1.stop), s1.within, s1.at_risk) == (
        "resolve_within_4h", ["request_received"], ["po_issued"], timedelta(hours=4), 0.75)
    assert [a.kind for a in s1.on_at_risk] == ["raise"] and [a.kind for a in s1.on_breach] == ["escalate"]
    assert (s2.within, s2.at_risk, s2.stop) == (timedelta(hours=1, minutes=30), 0.5, ())


def test_alternating_offers(policy):
    neg = policy.negotiations["price_terms"]
    assert isinstance(neg, m.AlternatingOffers)
    assert (neg.protocol, neg.max_rounds, neg.opens.value) == ("alternating_offers", 20, "buyer")
    buyer, seller = neg.parties["buyer"], neg.parties["seller"]
    assert (buyer.role_name, buyer.agent.value, buyer.strategy, buyer.e, buyer.reservation) == (
        "buyer", "sourcing", "boulware", 0.2, 0.35)
    assert (seller.strategy, seller.e) == ("conceder", 3.0)
    price, days, incoterm = neg.issues
    assert [x.text for x in price.range] == ["event.list_price * 0.8", "event.list_price"]
    assert (price.steps, price.prefs, price.weights) == (11, {"buyer": "low", "seller": "high"},
                                                         {"buyer": 0.7, "seller": 0.8})
    assert ([x.text for x in days.range], days.steps) == (["2", "14"], 13)
    assert incoterm.range is None and incoterm.options == ("fob", "cif", "ddp")
    assert incoterm.prefs == {"buyer": ("ddp", "cif", "fob"), "seller": ("fob", "cif", "ddp")}
    assert incoterm.weights == {"buyer": 1.0, "seller": 1.0}


def test_contract_net(policy):
    cn = policy.negotiations["pick_supplier"]
    assert isinstance(cn, m.ContractNet)
    assert (cn.manager.value, cn.bidders.text, cn.award_direction) == ("sourcing", "data.suppliers", "minimize")
    assert cn.eligible.text == "bidder.active && event.sku in bidder.skus"
    assert [(o.name, o.expr.text) for o in cn.proposal] == [("price", "bidder.base_price * 1.1"),
                                                            ("days", "bidder.lead_days")]
    assert cn.award.text == "proposal.price + 10.0 * proposal.days"


def test_expr_positions(policy):
    when = policy.agents["supplier"].rules[0].when  # a folded block scalar over two lines
    assert when.text == "event.qty > 10 && event.urgent"
    at = when.span_at(when.text.index("event.urgent"))
    assert (at.line, at.column) == (65, 11)
    reason = policy.agents["sourcing"].rules[0].reason  # double-quoted: offsets skip the quote
    assert reason.span_at(0).column == reason.span.column + 1
    true = policy.agents["sourcing"].rules[1].when  # `when: true` keeps its source text
    assert true.text == "true" and true.span_at(0) == Span(true.span.file, true.span.line, true.span.column)


def test_models_are_frozen_and_comparable(policy):
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        policy.agents["sourcing"].trust = 0.1  # type: ignore[misc]
    again, _ = read_policy(FULL)
    assert again == policy
    e1 = m.Expr(text="x", span=Span("f", 1, 1))
    assert e1 == m.Expr(text="x", span=Span("f", 1, 1), origin=object()) and hash(e1) == hash(
        m.Expr(text="x", span=Span("f", 1, 1)))
    dumped = policy.model_dump()
    assert "origin" not in dumped["case"]["key"]
    assert dumped["slas"][0]["within"] == timedelta(hours=4)


def test_every_model_node_has_a_span(policy):
    def walk(obj):
        if isinstance(obj, m._Model):
            assert isinstance(obj.span, Span), type(obj)
            for name in type(obj).model_fields:
                walk(getattr(obj, name))
        elif isinstance(obj, (tuple, list)):
            for x in obj:
                walk(x)
        elif isinstance(obj, dict):
            for x in obj.values():
                walk(x)

    walk(policy)
