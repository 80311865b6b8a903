"""Build the typed model from a structurally valid positioned tree.

Models are made with `model_construct`: the JSON Schema has already checked
every value, and skipping pydantic's validation (and the schema build it
needs at first use) keeps `accord validate` fast. The JSON Schema has already checked shapes, types and enums, so this module
can assume them and concentrate on what a schema cannot say: defaults that
depend on other keys (an agent's owner), values that need parsing (durations,
percentages, time zones) and consistency inside one construct (priorities
under `hit: priority`, negotiation preferences and weights). Cross-references
between agents, tables and negotiations are the checker's job.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from accord.dsl import model as m
from accord.dsl.loader import Node, YMap, YScalar, YSeq, is_explicit_null, to_plain
from accord.dsl.schema_check import DURATION_HELP, PERCENT_HELP, did_you_mean
from accord.errors import Diagnostic, Span

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)%$")

# default concession exponents (GENIUS convention) when a time-based strategy gives none
DEFAULT_E = {"boulware": 0.2, "linear": 1.0, "conceder": 5.0}


#: An SLA's `within` at most: event time plus it must stay a date (year 9999 at the latest).
_SLA_LONGEST = timedelta(days=36_500)


def parse_duration(text: str) -> timedelta | None:
    """'90s', '15m', '4h', '2d', '1h30m' → timedelta; None when not a duration."""
    mt = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if not mt or not any(mt.groups()):
        return None
    d, h, mi, s = (int(g) if g else 0 for g in mt.groups())
    try:
        return timedelta(days=d, hours=h, minutes=mi, seconds=s)
    except OverflowError:  # beyond a billion days: no duration at all
        return None


def parse_fraction(value: Any) -> float | None:
    """'75%' or 0.75 → 0.75; None when neither or outside 0..1."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        frac = float(value)
    elif isinstance(value, str) and _PERCENT.match(value.strip()):
        frac = float(value.strip()[:-1]) / 100
    else:
        return None
    return frac if 0.0 <= frac <= 1.0 else None


def build_policy(root: Node, filename: str) -> tuple[m.Policy | None, list[Diagnostic]]:
    builder = _Builder(root, filename)
    try:
        policy = builder.policy()
    except _Abort:
        return None, builder.diags
    return policy, builder.diags


class _Abort(Exception):
    """The tree is not what the structural check guarantees: give up on the model."""


class _Builder:
    def __init__(self, root: Node, filename: str):
        if not isinstance(root, YMap):
            raise _Abort
        self.root = root
        self.filename = filename
        self.diags: list[Diagnostic] = []

    def error(self, code: str, message: str, span: Span, help: str | None = None) -> None:
        self.diags.append(Diagnostic(code, message, span, help=help))

    # -- leaves

    def expr(self, node: Node | None) -> m.Expr | None:
        if node is None:
            return None
        if not isinstance(node, YScalar):
            raise _Abort
        if node.value is None:
            if not is_explicit_null(node):
                raise _Abort
            return m.Expr.model_construct(text="null", span=node.span, origin=node)
        text = node.value if isinstance(node.value, str) else node.text
        return m.Expr.model_construct(text=text, span=node.span, origin=node)

    def name(self, node: Node | None) -> m.Name | None:
        if node is None:
            return None
        if not isinstance(node, YScalar):
            raise _Abort
        value = node.value if isinstance(node.value, str) else node.text
        return m.Name.model_construct(value=value, span=node.span)

    def names(self, node: Node | None) -> tuple[m.Name, ...] | None:
        if node is None:
            return None
        if not isinstance(node, YSeq):
            raise _Abort
        return tuple(self.name(n) for n in node.items)  # type: ignore[misc]

    def outputs(self, node: Node | None, skip: tuple[str, ...] = ()) -> tuple[m.Output, ...]:
        if node is None:
            return ()
        if not isinstance(node, YMap):
            raise _Abort
        return tuple(
            m.Output.model_construct(name=_key(k), expr=self.expr(v), span=k.span)  # type: ignore[arg-type]
            for k, v in node.items() if _key(k) not in skip
        )

    @staticmethod
    def scalar(node: Node | None, default: Any = None) -> Any:
        if node is None:
            return default
        if not isinstance(node, YScalar):
            raise _Abort
        return node.value

    # -- policy

    def policy(self) -> m.Policy:
        r = self.root
        owner = str(self.scalar(r.get("owner")))
        timezone = self.scalar(r.get("timezone"))
        if timezone is not None:
            self.check_timezone(timezone, r.get("timezone").span)  # type: ignore[union-attr]
        constants = {_key(k): to_plain(v) for k, v in _map(r.get("constants")).items()}
        data = {_key(k): self.table(k, v) for k, v in _map(r.get("data")).items()}
        agents = {_key(k): self.agent(k, v, owner) for k, v in _map(r.get("agents")).items()}
        constraints = tuple(self.constraint(n) for n in _seq(r.get("constraints")))
        slas = tuple(self.sla(n) for n in _seq(r.get("slas")))
        negotiations = {_key(k): self.negotiation(k, v) for k, v in _map(r.get("negotiations")).items()}
        return m.Policy.model_construct(
            accord=self.scalar(r.get("accord")),
            policy=self.scalar(r.get("policy")),
            version=self.scalar(r.get("version")),
            owner=owner,
            description=self.scalar(r.get("description")),
            timezone=timezone,
            case=self.case(r.get("case")),
            constants=constants,
            data=data,
            agents=agents,
            constraints=constraints,
            slas=slas,
            negotiations=negotiations,
            path=self.filename,
            source_text=r.source.text,
            span=r.span,
        )

    def check_timezone(self, name: str, span: Span) -> None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            self.error("E0404", f"'{name}' is not a known time zone", span,
                       help=did_you_mean(name, sorted(available_timezones()))
                       or "write an IANA time zone name such as America/New_York or UTC")

    def case(self, node: Node | None) -> m.CaseSpec:
        c = _map(node)
        return m.CaseSpec.model_construct(
            key=self.expr(c.get("key")),
            closes_on=self.names(c.get("closes_on")) or (),
            approval=self.scalar(c.get("approval"), "approval"),
            span=node.span if node is not None else self.root.span,
        )

    def table(self, key: YScalar, node: Node) -> m.Table:
        t = _map(node)
        rows = t.get("rows")
        return m.Table.model_construct(
            name=_key(key),
            name_span=key.span,
            file=self.scalar(t.get("file")),
            rows=tuple(to_plain(rows)) if rows is not None else None,
            key=self.scalar(t.get("key")),
            format=self.scalar(t.get("format")),
            span=node.span,
        )

    # -- agents

    def agent(self, key: YScalar, node: Node, policy_owner: str) -> m.Agent:
        a = _map(node)
        name = _key(key)
        hit = self.scalar(a.get("hit"), "first")
        rules = tuple(self.rule(i, n) for i, n in enumerate(_seq(a.get("rules"))))
        self.check_priorities(name, hit, rules, a)
        signals = tuple(m.Signal.model_construct(name=o.name, expr=o.expr, span=o.span) for o in self.outputs(a.get("signals")))
        trust = self.scalar(a.get("trust"), 1.0)
        return m.Agent.model_construct(
            name=name,
            name_span=key.span,
            role=self.scalar(a.get("role")),
            owner=str(self.scalar(a.get("owner"), policy_owner)),
            trust=float(trust),
            on=self.names(a.get("on")),
            when=self.expr(a.get("when")),
            reads=self.names(a.get("reads")) or (),
            after=self.names(a.get("after")) or (),
            signals=signals,
            hit=hit,
            on_error=self.scalar(a.get("on_error"), "escalate"),
            rules=rules,
            otherwise=self.otherwise(a.get("otherwise")),
            span=node.span,
        )

    def check_priorities(self, agent: str, hit: str, rules: tuple[m.Rule, ...], a: YMap) -> None:
        seq = _seq(a.get("rules"))
        for rule, node in zip(rules, seq, strict=True):
            r = _map(node)
            if hit == "priority" and rule.priority is None:
                self.error("E0408", f"rule '{rule.name}' of agent '{agent}' has no 'priority'", rule.name_span,
                           help="with hit: priority every rule needs a priority; the highest wins")
            elif hit != "priority" and rule.priority is not None:
                self.error("E0408", f"rule '{rule.name}' of agent '{agent}' has a 'priority' but the agent's hit "
                           f"policy is '{hit}'", r.key_node("priority").span,  # type: ignore[union-attr]
                           help="set hit: priority on the agent, or remove the priority")
        seen: dict[str, m.Rule] = {}
        for rule in rules:
            if rule.name in seen:
                self.error("E0404", f"rule name '{rule.name}' is used twice in agent '{agent}'", rule.name_span,
                           help=f"the first '{rule.name}' is on line {seen[rule.name].name_span.line}")
            else:
                seen[rule.name] = rule

    def rule(self, index: int, node: Node) -> m.Rule:
        r = _map(node)
        name_node = r.get("name")
        name = self.scalar(name_node) if name_node is not None else f"rule_{index + 1}"
        prio = self.scalar(r.get("priority"))
        trust = self.scalar(r.get("requires_trust"))
        return m.Rule.model_construct(
            index=index,
            name=str(name),
            name_span=name_node.span if name_node is not None else _head(node.span),
            when=self.expr(r.get("when")),
            decide=self.name(r.get("decide")),
            set=self.outputs(r.get("set")),
            reason=self.expr(r.get("reason")),
            negotiate=self.name(r.get("negotiate")),
            requires_trust=float(trust) if trust is not None else None,
            priority=float(prio) if prio is not None else None,
            do=self.actions(r.get("do")),
            span=node.span,
        )

    def otherwise(self, node: Node | None) -> m.Otherwise | None:
        if node is None:
            return None
        o = _map(node)
        return m.Otherwise.model_construct(
            decide=self.name(o.get("decide")),
            reason=self.expr(o.get("reason")),
            set=self.outputs(o.get("set")),
            do=self.actions(o.get("do")),
            span=node.span,
        )

    def actions(self, node: Node | None) -> tuple[m.Action, ...]:
        return tuple(self.action(n) for n in _seq(node))

    def action(self, node: Node) -> m.Action:
        a = _map(node)
        if len(a) != 1:
            raise _Abort
        key, value = a.entries[0]
        kind = _key(key)
        span = node.span
        key_span = key.span
        if kind in ("emit", "raise"):
            body = _map(value)
            return m.Action.model_construct(
                kind=kind,
                type=self.name(body.get("type")),
                fields=self.outputs(value, skip=("type", "for_each", "copy") if kind == "raise"
                                    else ("type", "for_each")),
                for_each=self.expr(body.get("for_each")),
                copy=bool(self.scalar(body.get("copy"), False)) if kind == "raise" else False,
                span=span,
                key_span=key_span,
            )
        if kind == "set":
            return m.Action.model_construct(kind="set", fields=self.outputs(value), span=span, key_span=key_span)
        if kind == "resolve":
            return m.Action.model_construct(kind="resolve", label=self.name(value), span=span)
        if kind == "escalate":
            body = _map(value)
            return m.Action.model_construct(
                kind="escalate",
                queue=self.expr(body.get("queue")),
                priority=self.expr(body.get("priority")),
                reason=self.expr(body.get("reason")),
                span=span,
            )
        if kind == "close":
            return m.Action.model_construct(kind="close", span=span)
        raise _Abort

    # -- constraints and SLAs

    def constraint(self, node: Node) -> m.Constraint:
        c = _map(node)
        name_node = c.get("name")
        return m.Constraint.model_construct(
            name=self.scalar(name_node),
            name_span=name_node.span if name_node is not None else node.span,
            applies_to=self.names(c.get("applies_to")),
            check=self.expr(c.get("check")),
            on_violation=self.scalar(c.get("on_violation"), "block"),
            message=self.expr(c.get("message")),
            span=node.span,
        )

    def sla(self, node: Node) -> m.Sla:
        s = _map(node)
        name_node = s.get("name")
        within_node = s.get("within")
        within = parse_duration(self.scalar(within_node))
        if within is None or within <= timedelta(0) or within > _SLA_LONGEST:
            shown = self.scalar(within_node)
            self.error("E0405", f"'{shown}' is not a duration" if within is None
                       else f"'{shown}' is zero: an sla needs a positive duration" if within <= timedelta(0)
                       else f"'{shown}' is longer than 100 years: no deadline that far can be told",
                       within_node.span if within_node is not None else node.span, help=DURATION_HELP)
            within = within if within is not None and within <= _SLA_LONGEST else timedelta(0)
        at_risk_node = s.get("at_risk")
        at_risk = None
        if at_risk_node is not None:
            at_risk = parse_fraction(self.scalar(at_risk_node))
            if at_risk is None:
                self.error("E0406", f"'{_shown(at_risk_node)}' is not a percentage between 0% and 100%",
                           at_risk_node.span, help=PERCENT_HELP)
        return m.Sla.model_construct(
            name=self.scalar(name_node),
            name_span=name_node.span if name_node is not None else node.span,
            start=self.names(s.get("start")) or (),
            stop=self.names(s.get("stop")) or (),
            within=within,
            at_risk=at_risk,
            on_at_risk=self.actions(s.get("on_at_risk")),
            on_breach=self.actions(s.get("on_breach")),
            span=node.span,
        )

    # -- negotiations

    def negotiation(self, key: YScalar, node: Node) -> m.AlternatingOffers | m.ContractNet:
        n = _map(node)
        protocol = self.scalar(n.get("protocol"))
        if protocol == "contract_net":
            return self.contract_net(key, n)
        if protocol == "alternating_offers":
            return self.alternating(key, n)
        raise _Abort

    def contract_net(self, key: YScalar, n: YMap) -> m.ContractNet:
        award = _map(n.get("award"))
        if len(award) != 1:
            raise _Abort
        direction, award_expr = award.entries[0]
        return m.ContractNet.model_construct(
            name=_key(key),
            name_span=key.span,
            manager=self.name(n.get("manager")),
            bidders=self.expr(n.get("bidders")),
            eligible=self.expr(n.get("eligible")),
            proposal=self.outputs(n.get("proposal")),
            award_direction=_key(direction),
            award=self.expr(award_expr),
            span=n.span,
        )

    # the strategy library's accord.policies.alternating_offers.MAX_OUTCOMES (not imported: validation would load
    # the whole library; tests/dsl_front/test_broken.py keeps the two equal)
    MAX_OUTCOMES = 1_000_000

    def check_size(self, neg: str, key: YScalar, issues) -> None:
        """Every outcome is scored and sorted when the negotiation runs: refuse a space no run could hold."""
        size = 1
        for issue in issues:
            count = len(issue.options) if issue.options is not None else issue.steps
            if isinstance(count, int) and not isinstance(count, bool) and count > 0:
                size *= count
        if size > self.MAX_OUTCOMES:
            self.error("E0608", f"negotiation '{neg}' has {size:,} outcomes, more than {self.MAX_OUTCOMES:,}", key.span,
                       help="use fewer steps or options: every outcome is scored each time the negotiation runs")

    def alternating(self, key: YScalar, n: YMap) -> m.AlternatingOffers:
        neg = _key(key)
        parties = {_key(k): self.party(neg, k, v) for k, v in _map(n.get("parties")).items()}
        party_names = list(parties)
        issues = tuple(self.issue(neg, k, v, party_names) for k, v in _map(n.get("issues")).items())
        self.check_weights(neg, issues, n, party_names)
        self.check_size(neg, key, issues)
        opens_node = n.get("opens")
        opens = self.name(opens_node)
        assert opens is not None
        if opens.value not in parties:
            self.error("E0604", f"'{opens.value}' opens negotiation '{neg}' but is not one of its parties",
                       opens.span, help=did_you_mean(opens.value, party_names)
                       or "parties: " + ", ".join(party_names))
        return m.AlternatingOffers.model_construct(
            name=neg,
            name_span=key.span,
            parties=parties,
            issues=issues,
            max_rounds=self.scalar(n.get("max_rounds")),
            opens=opens,
            span=n.span,
        )

    def party(self, neg: str, key: YScalar, node: Node) -> m.Party:
        p = _map(node)
        strategy = self.scalar(p.get("strategy"))
        e_node = p.get("e")
        e = self.scalar(e_node)
        where = f"party '{_key(key)}' of negotiation '{neg}'"
        if strategy in DEFAULT_E:
            if e is None:
                e = DEFAULT_E[strategy]
            elif strategy == "boulware" and not e < 1:
                self.error("E0602", f"{where} is boulware, which needs e < 1, got {_num(e)}", e_node.span,
                           help="boulware concedes late: use e < 1 (e.g. 0.2), or strategy: conceder for e > 1")
            elif strategy == "conceder" and not e > 1:
                self.error("E0602", f"{where} is a conceder, which needs e > 1, got {_num(e)}", e_node.span,
                           help="a conceder concedes early: use e > 1 (e.g. 3), or strategy: boulware for e < 1")
            elif strategy == "linear" and e != 1:
                self.error("E0602", f"{where} is linear, which means e = 1, got {_num(e)}", e_node.span,
                           help="remove 'e', or choose boulware (e < 1) or conceder (e > 1)")
        elif e is not None:
            self.error("E0602", f"{where} uses {strategy}, which takes no 'e'", e_node.span,
                       help="'e' sets the concession curve of boulware, linear and conceder")
            e = None
        reservation = self.scalar(p.get("reservation"), 0.0)
        return m.Party.model_construct(
            role_name=_key(key),
            agent=self.name(p.get("agent")),
            strategy=strategy,
            e=float(e) if e is not None else None,
            reservation=float(reservation),
            span=key.span,
        )

    def issue(self, neg: str, key: YScalar, node: Node, parties: list[str]) -> m.Issue:
        i = _map(node)
        name = _key(key)
        where = f"issue '{name}' of negotiation '{neg}'"
        range_node, options_node = i.get("range"), i.get("options")
        kind_ok = (range_node is None) != (options_node is None)
        if not kind_ok:
            both = range_node is not None
            self.error("E0607", f"{where} has both 'range' and 'options'" if both
                       else f"{where} needs a 'range' or 'options'",
                       i.key_node("options").span if both else key.span,  # type: ignore[union-attr]
                       help="an issue is a numeric range: [low, high], or a list of options: [a, b, c]")
        rng = None
        if range_node is not None:
            lo, hi = _seq(range_node)
            rng = (self.expr(lo), self.expr(hi))
        options = tuple(to_plain(options_node)) if options_node is not None else None
        if options is not None and len(set(map(_hashable, options))) != len(options):
            self.error("E0603", f"{where} lists an option twice", options_node.span)  # type: ignore[union-attr]
        prefs: dict[str, str | tuple] = {}
        unknown_party = False
        for k, v in i.items():
            party = _key(k)
            if party in ("range", "options", "steps", "weight"):
                continue
            if party not in parties:
                self.error("E0606", f"'{party}' in {where} is not a party of the negotiation", k.span,
                           help=did_you_mean(party, parties) or "parties: " + ", ".join(parties))
                unknown_party = True
                continue
            pref = to_plain(v)
            if not kind_ok:
                pref = tuple(pref) if isinstance(pref, list) else pref
            elif isinstance(pref, list):
                pref = tuple(pref)
                if options is None:
                    self.error("E0603", f"{party}'s preference on {where} is a list, but the issue is a range",
                               v.span, help=f"write {party}: low or {party}: high")
                elif sorted(map(repr, pref)) != sorted(map(repr, options)):
                    missing = [o for o in options if o not in pref]
                    extra = [o for o in pref if o not in options]
                    detail = []
                    if missing:
                        detail.append("missing " + ", ".join(f"'{o}'" for o in missing))
                    if extra:
                        detail.append("not an option: " + ", ".join(f"'{o}'" for o in extra))
                    if not detail:
                        detail.append("an option is repeated")
                    self.error("E0603", f"{party}'s preference on {where} is not an order of its options ("
                               + "; ".join(detail) + ")", v.span,
                               help="list every option once, best first: " + ", ".join(map(str, options)))
            elif options is not None:
                self.error("E0603", f"{party}'s preference on {where} is '{pref}', but the issue has options",
                           v.span, help="list the options in the party's order, best first")
            prefs[party] = pref
        for party in parties:
            if party not in prefs and not unknown_party:
                self.error("E0606", f"{where} does not say what party '{party}' prefers", key.span,
                           help=f"add {party}: low or {party}: high (or the options in order, best first)")
        weights: dict[str, float] = {}
        for k, v in _map(i.get("weight")).items():
            party = _key(k)
            if party not in parties:
                self.error("E0606", f"weight of '{party}' in {where}: '{party}' is not a party of the negotiation",
                           k.span, help=did_you_mean(party, parties) or "parties: " + ", ".join(parties))
                continue
            weights[party] = float(self.scalar(v))
        for party in parties:
            weights.setdefault(party, 1.0)
        return m.Issue.model_construct(
            name=name,
            range=rng,
            steps=self.scalar(i.get("steps"), 11),
            options=options,
            prefs=prefs,
            weights=weights,
            span=key.span,
        )

    def check_weights(self, neg: str, issues: tuple[m.Issue, ...], n: YMap, parties: list[str]) -> None:
        issue_nodes = _map(n.get("issues"))
        for (_, inode), issue in zip(issue_nodes.items(), issues, strict=True):
            wmap = _map(_map(inode).get("weight"))
            for k, v in wmap.items():
                w = self.scalar(v)
                if isinstance(w, (int, float)) and w < 0:
                    self.error("E0605", f"weight of '{_key(k)}' on issue '{issue.name}' of negotiation '{neg}' "
                               f"is negative ({_num(w)})", v.span, help="weights are 0 or more; they are normalized")
        for party in parties:
            if issues and all(issue.weights.get(party, 0.0) == 0 for issue in issues):
                node = n.get("issues")
                self.error("E0605", f"every weight of party '{party}' in negotiation '{neg}' is 0",
                           n.key_node("issues").span if node is not None else n.span,  # type: ignore[union-attr]
                           help="give at least one issue a positive weight for this party")


# ---------------------------------------------------------------------------
# helpers


_EMPTY_MAP: YMap | None = None


def _map(node: Node | None) -> YMap:
    if node is None:
        return _empty_map()
    if not isinstance(node, YMap):
        raise _Abort
    return node


def _empty_map() -> YMap:
    global _EMPTY_MAP
    if _EMPTY_MAP is None:
        from accord.dsl.loader import Source

        src = Source("", "")
        _EMPTY_MAP = YMap([], Span("", 1, 1), 0, 0, src)
    return _EMPTY_MAP


def _seq(node: Node | None) -> list[Node]:
    if node is None:
        return []
    if not isinstance(node, YSeq):
        raise _Abort
    return node.items


def _key(k: YScalar) -> str:
    return k.value if isinstance(k.value, str) else k.text


def _head(span: Span) -> Span:
    return Span(span.file, span.line, span.column)


def _num(x: Any) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


def _shown(node: Node) -> str:
    return node.text if isinstance(node, YScalar) else "?"


def _hashable(x: Any) -> Any:
    return repr(x)
