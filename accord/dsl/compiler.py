"""Checked policy → immutable Plan: compile every expression once, order the agents,
load the reference tables, and hash the whole for the log's `policy_hash`."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from accord.dsl import expr as ex
from accord.dsl import model as m
from accord.dsl import plan as p
from accord.dsl.checker import Checked
from accord.dsl.tables import load_table
from accord.errors import Diagnostic

ROLE_ORDER = ("perception", "decision", "action")
_UNTRACKED_ROOTS = {"const", "now", "data", "item", "index", "offer", "bidder", "proposal", "sla"}


class Compiler:
    def __init__(self, checked: Checked, *, validate_only: bool = False):
        self.validate_only = validate_only
        self.c = checked
        self.policy = checked.policy
        self.tz = ZoneInfo(self.policy.timezone) if self.policy.timezone else None
        self.diags: list[Diagnostic] = []

    # ----- expressions ---------------------------------------------------------------------------
    def _reads(self, e: m.Expr) -> tuple[tuple[str, tuple[str, ...]], ...]:
        out = []
        for r in self.c.refs.get(e.span, ()):
            if r.root in _UNTRACKED_ROOTS:
                continue
            path = r.path[:1] if r.root != "event" else r.path
            out.append((r.root, tuple(path)))
        return tuple(dict.fromkeys(out))

    def expr(self, e: m.Expr | None) -> p.CompiledExpr | None:
        if e is None:
            return None
        fn = ex.compile_node(self.c.nodes[e.span], timezone=self.tz)
        return p.CompiledExpr(e.text, fn, e.span, self._reads(e))

    def template(self, e: m.Expr | None) -> p.CompiledExpr | None:
        if e is None:
            return None
        fn = ex.compile_template(self.c.templates[e.span], timezone=self.tz)
        return p.CompiledExpr(e.text, fn, e.span, self._reads(e))

    def value(self, e: m.Expr) -> p.CompiledExpr:
        return self.template(e) if e.span in self.c.templates else self.expr(e)

    def outputs(self, items) -> tuple[p.Output, ...]:
        return tuple(p.Output(o.name, self.value(o.expr)) for o in items)

    def actions(self, acts) -> tuple[p.Action, ...]:
        return tuple(
            p.Action(
                kind=a.kind, span=a.span,
                type=a.type.value if a.type else None,
                fields=self.outputs(a.fields),
                for_each=self.expr(a.for_each),
                copy=bool(a.copy),
                label=a.label.value if a.label else None,
                queue=self.template(a.queue), priority=self.template(a.priority), reason=self.template(a.reason),
            )
            for a in acts
        )

    def rule(self, r, index: int, name: str) -> p.Rule:
        return p.Rule(
            index=index, name=name, when=self.expr(getattr(r, "when", None)),
            decide=r.decide.value if r.decide else None,
            outputs=self.outputs(r.set), reason=self.template(r.reason),
            negotiate=r.negotiate.value if getattr(r, "negotiate", None) else None,
            requires_trust=getattr(r, "requires_trust", None), priority=getattr(r, "priority", None),
            actions=self.actions(r.do), span=r.span,
        )

    # ----- structure ---------------------------------------------------------------------------
    def constraints(self) -> tuple[p.Constraint, ...]:
        deciders = frozenset(a.name for a in self.policy.agents.values() if a.role != "perception")
        out = []
        for c in self.policy.constraints:
            names = {t.value for t in c.applies_to} if c.applies_to else set(deciders)
            out.append(p.Constraint(
                name=c.name, check=self.expr(c.check), on_violation=c.on_violation,
                message=self.template(c.message),
                applies_to_agents=frozenset(n for n in names if n in self.policy.agents),
                applies_to_negotiations=frozenset(n for n in names if n in self.policy.negotiations),
            ))
        return tuple(out)

    def order(self) -> list[m.Agent]:
        """Role first, then readers after the agents they read, then declaration order."""
        agents = list(self.policy.agents.values())
        ordered: list[m.Agent] = []
        for role in ROLE_ORDER:
            pending = [a for a in agents if a.role == role]
            names = {a.name for a in pending}
            done: set[str] = set()
            while pending:
                for a in pending:
                    deps = {r.value for r in a.reads if r.value in names and r.value != a.name}
                    if deps <= done:
                        ordered.append(a)
                        done.add(a.name)
                        pending.remove(a)
                        break
                else:  # a cycle: the checker reported it; keep declaration order
                    ordered.extend(pending)
                    break
        return ordered

    def agent(self, a: m.Agent, constraints: tuple[p.Constraint, ...]) -> p.Agent:
        rules = [self.rule(r, r.index, r.name) for r in a.rules]
        if a.hit == "priority":
            rules.sort(key=lambda r: (-(r.priority or 0), r.index))
        otherwise = self.rule(a.otherwise, len(rules), "otherwise") if a.otherwise else None
        exprs = [a.when, *(s.expr for s in a.signals)]
        for r in list(a.rules) + ([a.otherwise] if a.otherwise else []):
            exprs += [getattr(r, "when", None), r.reason, *(o.expr for o in r.set)]
            for act in r.do:
                exprs += [act.for_each, *(o.expr for o in act.fields), act.queue, act.priority, act.reason]
        paths = tuple(dict.fromkeys(x for e in exprs if e is not None for x in self._reads(e)))
        agents_and_negs = set(self.policy.agents) | set(self.policy.negotiations)
        return p.Agent(
            name=a.name, role=a.role, owner=a.owner, trust=a.trust,
            on=frozenset(n.value for n in a.on) if a.on is not None else None,
            when=self.expr(a.when),
            reads=tuple(r.value for r in a.reads),
            read_agents=tuple(r.value for r in a.reads if r.value in agents_and_negs),
            after=tuple(x.value for x in a.after),
            signals=tuple(p.Output(s.name, self.expr(s.expr)) for s in a.signals),
            hit=a.hit, on_error=a.on_error, rules=tuple(rules), otherwise=otherwise,
            constraints=tuple(c for c in constraints if a.name in c.applies_to_agents),
            input_paths=paths, span=a.span,
        )

    def negotiation(self, n, constraints: tuple[p.Constraint, ...]) -> p.Negotiation:
        mine = tuple(c for c in constraints if n.name in c.applies_to_negotiations)
        if n.protocol == "alternating_offers":
            parties = list(n.parties.values())
            parties.sort(key=lambda x: x.role_name != n.opens.value)
            issues = tuple(
                p.Issue(
                    name=i.name,
                    low=self.expr(i.range[0]) if i.range else None,
                    high=self.expr(i.range[1]) if i.range else None,
                    steps=i.steps, options=tuple(i.options) if i.options is not None else None,
                    prefs=dict(i.prefs), weights=dict(i.weights),
                )
                for i in n.issues
            )
            return p.Negotiation(
                name=n.name, protocol=n.protocol,
                parties=tuple(p.Party(x.role_name, x.agent.value, x.strategy, x.e, x.reservation) for x in parties),
                issues=issues, max_rounds=n.max_rounds, constraints=mine,
            )
        return p.Negotiation(
            name=n.name, protocol=n.protocol, manager=n.manager.value,
            bidders=self.expr(n.bidders), eligible=self.expr(n.eligible),
            proposal=self.outputs(n.proposal), award_direction=n.award_direction,
            award=self.expr(n.award), constraints=mine,
        )

    def tables(self) -> dict[str, Any]:
        base = Path(self.policy.path).resolve().parent
        out = {}
        for t in self.policy.data.values():
            value, diags = load_table(t.name, t.file, t.rows, t.key, t.format, base, self.tz, t.span,
                                      light=self.validate_only)
            self.diags += diags
            out[t.name] = value
        return out

    def run(self) -> tuple[p.Plan | None, list[Diagnostic]]:
        tables = self.tables()
        if self.diags or self.validate_only:
            return None, self.diags
        constraints = self.constraints()
        agents = tuple(self.agent(a, constraints) for a in self.order())
        types = sorted({t for a in agents if a.on for t in a.on})
        by_type = {t: tuple(a for a in agents if a.on is None or t in a.on) for t in types}
        any_type = tuple(a for a in agents if a.on is None)
        h = hashlib.sha256(self.policy.source_text.encode())
        h.update(orjson.dumps(tables, default=str, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS))
        policy = self.policy
        plan = p.Plan(
            policy=policy.policy, version=policy.version, owner=policy.owner,
            policy_hash=h.hexdigest()[:16], path=policy.path, timezone=self.tz,
            case_key=self.expr(policy.case.key),
            closes_on=frozenset(n.value for n in policy.case.closes_on),
            approval_type=policy.case.approval or "approval",
            constants=dict(policy.constants), tables=tables, agents=agents,
            negotiations={name: self.negotiation(n, constraints) for name, n in policy.negotiations.items()},
            slas=tuple(
                p.Sla(s.name, frozenset(x.value for x in s.start), frozenset(x.value for x in s.stop), s.within,
                      s.at_risk, self.actions(s.on_at_risk), self.actions(s.on_breach))
                for s in policy.slas
            ),
            agents_by_type=by_type, agents_any_type=any_type,
        )
        return plan, []


def compile_plan(checked: Checked, *, validate_only: bool = False) -> tuple[p.Plan | None, list[Diagnostic]]:
    """The plan and the compiler's diagnostics; `validate_only` checks the tables and stops there,
    since code generation cannot fail on a checked policy and `accord validate` must be fast."""
    return Compiler(checked, validate_only=validate_only).run()
