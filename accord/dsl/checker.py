"""Static checks across a whole policy: names, trust boundaries, outputs, cycles.

The checker parses every expression once, resolves every name it reads against
the scope it will run in, and reports all problems in one pass. Its result maps
each expression's span to its parsed tree, so the compiler never parses again.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from accord.dsl import expr as ex
from accord.dsl import model as m
from accord.dsl.expr import ast as ex_ast
from accord.dsl.expr.functions import compile_pattern
from accord.errors import Diagnostic, Span

CASE_FIELDS = ("id", "status", "outcome", "opened_at", "age", "events")
DECISION_OUTPUTS = ("decision", "rule", "reason", "proposed")
ROLE_ORDER = {"perception": 0, "decision": 1, "action": 2}
NEGOTIATION_OUTPUTS = {
    "alternating_offers": ("agreed", "outcome", "rounds", "utility"),
    "contract_net": ("awarded", "winner", "proposal", "bids"),
}
ALWAYS = ("event", "case", "const", "now")
SECTION_NAMES = {
    "item": "inside an action with 'for_each'",
    "index": "inside an action with 'for_each'",
    "offer": "in a constraint applied to a negotiation",
    "bidder": "in a contract net's 'eligible', 'proposal' and 'award'",
    "proposal": "in a contract net's 'award'",
    "sla": "in an SLA's 'on_at_risk' and 'on_breach' actions",
}


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.75)
    return f"did you mean '{close[0]}'?" if close else None


#: spellings of a boolean in other languages and in YAML 1.1 (`True`, `yes`, `off`...): unknown names in an expression
_BOOL_SPELLINGS = frozenset(("true", "false", "yes", "no", "on", "off"))


@dataclass
class Scope:
    """Who evaluates an expression: the names it may read."""

    where: str  # for messages: "agent 'sourcing'", "case.key", ...
    agent: str | None = None
    reads: frozenset[str] = frozenset()
    extra: frozenset[str] = frozenset()  # item, index, offer, bidder, proposal, sla
    earlier_signals: frozenset[str] | None = None  # while checking a signal: the signals before it


@dataclass
class Checked:
    """A policy that passed the checks, with every expression parsed."""

    policy: m.Policy
    nodes: dict[Span, Any] = field(default_factory=dict)  # expression span → AST
    templates: dict[Span, Any] = field(default_factory=dict)  # template span → Template
    refs: dict[Span, list] = field(default_factory=dict)  # expression span → refs it reads


class Checker:
    def __init__(self, policy: m.Policy):
        self.p = policy
        self.diags: list[Diagnostic] = []
        self.out = Checked(policy)
        self.agents = policy.agents
        self.tables = policy.data
        self.negotiations = policy.negotiations
        self.outputs = {name: self._outputs_of(a) for name, a in self.agents.items()}
        for name, n in self.negotiations.items():
            self.outputs[name] = set(NEGOTIATION_OUTPUTS.get(n.protocol, ()))

    # ----- helpers -------------------------------------------------------------------------------
    def error(self, code: str, message: str, span: Span, help: str | None = None) -> None:
        self.diags.append(Diagnostic(code, message, span, help))

    def warning(self, code: str, message: str, span: Span, help: str | None = None) -> None:
        self.diags.append(Diagnostic(code, message, span, help, severity="warning"))

    @staticmethod
    def _outputs_of(agent: m.Agent) -> set[str]:
        if agent.role == "perception":
            return {s.name for s in agent.signals}
        names = set(DECISION_OUTPUTS)
        branches = list(agent.rules) + ([agent.otherwise] if agent.otherwise else [])
        for r in branches:
            names.update(o.name for o in r.set)
            for a in r.do:
                if a.kind == "set":
                    names.update(o.name for o in a.fields)
        return names

    # ----- expressions ---------------------------------------------------------------------------
    def parse(self, e: m.Expr, *, template: bool = False) -> list[tuple[Any, int]]:
        """Parse an expression or template; report syntax errors at the token."""
        try:
            if template:
                t = ex.parse_template(e.text)
                self.out.templates[e.span] = t
                return [(part[0], part[1]) for part in t.parts if not isinstance(part, str)]
            node = ex.parse(e.text)
            self.out.nodes[e.span] = node
            return [(node, 0)]
        except ex.ExpressionSyntaxError as err:
            self.error(err.code or "E0301", err.message, e.span_at(err.offset), err.help)
            return []

    def expression(self, e: m.Expr | None, scope: Scope, *, template: bool = False, guard: bool = False,
                   value: bool = False) -> None:
        if e is None:
            return
        is_template = template or (value and "${" in e.text)
        parsed = self.parse(e, template=is_template)
        refs: list = []
        for node, base in parsed:
            if guard and not is_template:
                kind = ex.literal_type(node)
                if kind is not None and kind != "bool":
                    article = "an" if kind[0] in "aeiou" else "a"
                    what = "null" if kind == "null_type" else f"{article} {kind} literal"
                    self.error("E0304", f"'{e.text}' is {what}, not a condition", e.span,
                               "a guard must be true or false: write a comparison such as 'event.qty > 0'")
            self.literal_patterns(node, base, e)
            for ref in ex.references(node):
                refs.append(ref)
                self.reference(ref, base, e, scope, bare_word_hint=value)
        self.out.refs[e.span] = refs

    def literal_patterns(self, node: Any, base: int, e: m.Expr) -> None:
        """A `matches` whose pattern is a string literal: an invalid one would err at every evaluation."""
        stack = [node]
        while stack:
            n = stack.pop()
            stack.extend(ex_ast.children(n))
            if not (isinstance(n, ex_ast.Call) and n.function == "matches"):
                continue
            args = n.args if n.target is None else (n.target, *n.args)
            if len(args) != 2:
                continue
            pattern = args[1]
            if isinstance(pattern, ex_ast.Literal) and pattern.kind == "string":
                compiled = compile_pattern(pattern.value)
                if isinstance(compiled, ex.EvaluationError):
                    self.error("E0307", compiled.message, e.span_at(base + pattern.start),
                               'patterns use RE2 syntax: escape a character meant literally, e.g. r"\\("')

    def reference(self, ref: Any, base: int, e: m.Expr, scope: Scope, *, bare_word_hint: bool) -> None:
        at = e.span_at(base + ref.start)
        root, path = ref.root, ref.path
        if root in scope.extra or root in ("now",):
            return
        if root == "event":
            return
        if root == "case":
            if path and path[0] not in CASE_FIELDS:
                self.error("E0211", f"case has no field '{path[0]}'", at,
                           suggest(path[0], CASE_FIELDS) or f"case fields are: {', '.join(CASE_FIELDS)}")
            return
        if root == "const":
            if path and path[0] not in self.p.constants:
                self.error("E0212", f"unknown constant '{path[0]}'", at,
                           suggest(path[0], self.p.constants) or "declare it under 'constants:'")
            return
        if root == "data":
            if scope.agent is None and not scope.reads:
                self.error("E0204", f"{scope.where} cannot read data tables", at,
                           "only agents and their negotiations read reference data")
                return
            if not path:
                return
            table = path[0]
            if table not in self.tables:
                self.error("E0202", f"unknown data table '{table}'", at,
                           suggest(table, self.tables) or "declare it under 'data:'")
            elif table not in scope.reads:
                self.error("E0204", f"{scope.where} reads 'data.{table}' but its reads do not list '{table}'", at,
                           self._reads_help(table, scope))
            return
        if root == scope.agent and scope.earlier_signals is not None and path \
                and path[0] in self.outputs[root] and path[0] not in scope.earlier_signals:
            self.error("E0217", f"signal of agent '{root}' reads '{root}.{path[0]}', which is not computed before it",
                       at, "signals are evaluated in file order: move the signal it reads above it")
            return
        if root in self.agents or root in self.negotiations:
            if root != scope.agent and root not in scope.reads:
                help_ = (self._reads_help(root, scope) if scope.agent
                         else f"{scope.where} may read only event, case, const and now")
                self.error("E0204", f"{scope.where} reads '{root}' but its reads do not list '{root}'", at, help_)
                return
            if path and path[0] not in self.outputs[root]:
                kind = "agent" if root in self.agents else "negotiation"
                self.error("E0205", f"{kind} '{root}' never defines '{path[0]}'", at,
                           suggest(path[0], self.outputs[root])
                           or f"its outputs are: {', '.join(sorted(self.outputs[root])) or 'none'}")
            return
        if root in self.tables:
            self.error("E0202", f"unknown name '{root}'", at, f"tables are read as 'data.{root}'")
            return
        known = set(ALWAYS) | set(scope.extra) | set(scope.reads) | ({scope.agent} if scope.agent else set())
        if scope.agent or scope.reads:
            known.add("data")
        help_ = suggest(root, known)
        if root.lower() in _BOOL_SPELLINGS and not path:
            help_ = "booleans are written true or false (lowercase)"
        elif root in SECTION_NAMES:
            help_ = f"'{root}' is in scope only {SECTION_NAMES[root]}"
        elif help_ is None and bare_word_hint:
            help_ = f"to write the text '{root}', quote it: '\"{root}\"'"
        elif help_ is None:
            help_ = f"names in scope here: {', '.join(sorted(known))}"
        self.error("E0202", f"unknown name '{root}'", at, help_)

    @staticmethod
    def _reads_help(name: str, scope: Scope) -> str:
        text = f"add '{name}' to the reads of agent '{scope.agent}'"
        if scope.where.startswith("constraint"):
            text += ", or narrow the constraint with 'applies_to'"
        return text

    # ----- policy-level checks -------------------------------------------------------------------
    def names(self) -> None:
        seen: dict[str, tuple[str, Span]] = {}
        entries: list[tuple[str, str, Span]] = []
        entries += [("table", t.name, t.name_span) for t in self.tables.values()]
        entries += [("agent", a.name, a.name_span) for a in self.agents.values()]
        entries += [("constraint", c.name, c.name_span) for c in self.p.constraints]
        entries += [("sla", s.name, s.name_span) for s in self.p.slas]
        entries += [("negotiation", n.name, n.name_span) for n in self.negotiations.values()]
        for kind, name, span in sorted(entries, key=lambda x: x[2]):
            if name in seen:
                other_kind, other = seen[name]
                self.error("E0201", f"{kind} name '{name}' is already used by the {other_kind} at line {other.line}",
                           span, "agents, tables, constraints, slas and negotiations share one namespace")
            else:
                seen[name] = (kind, span)
            if name in ALWAYS or name in ("data", "item", "index", "offer", "bidder", "proposal", "sla"):
                self.error("E0213", f"'{name}' is a reserved name", span, "choose another name")

    def agent_structure(self, a: m.Agent) -> None:
        where = f"agent '{a.name}'"
        readable = set(self.agents) | set(self.tables) | set(self.negotiations)
        for r in a.reads:
            if r.value == a.name:
                self.error("E0214", f"{where} lists itself in its reads", r.span, "an agent always reads its own outputs")
            elif r.value not in readable:
                self.error("E0203", f"{where} reads '{r.value}', which is not an agent, data table or negotiation",
                           r.span, suggest(r.value, readable))
        reads = {r.value for r in a.reads}
        for x in a.after:
            if x.value not in self.agents:
                self.error("E0203", f"{where} runs after '{x.value}', which is not an agent", x.span,
                           suggest(x.value, self.agents))
            elif x.value not in reads:
                self.error("E0207", f"{where} runs after '{x.value}' but does not read it", x.span,
                           f"add '{x.value}' to the reads of {where}")
        self.after_order(a)
        for rule in a.rules:
            if rule.negotiate and rule.negotiate.value not in self.negotiations:
                self.error("E0210", f"rule '{rule.name}' starts '{rule.negotiate.value}', which is not a negotiation",
                           rule.negotiate.span, suggest(rule.negotiate.value, self.negotiations))
        names = [r.name for r in a.rules]
        for rule in a.rules:
            if names.count(rule.name) > 1 and names.index(rule.name) != rule.index:
                self.error("E0215", f"{where} has two rules named '{rule.name}'", rule.name_span,
                           "rule names identify decisions in the log: make them unique")
        if a.role == "perception" and (a.rules or a.otherwise):
            self.error("E0216", f"perception agent '{a.name}' has rules", a.span,
                       "perception agents compute signals; make it a decision or action agent")
        if a.role != "perception" and a.signals:
            self.error("E0216", f"{a.role} agent '{a.name}' has signals", a.span,
                       "signals belong to perception agents; use 'set' outputs in rules")

    def after_order(self, a: m.Agent) -> None:
        """`after` an agent of a later role waits for a decision that is never committed before this agent
        runs on the same event (roles run perception, decision, action). The language allows it, so it is a
        warning; it is left alone when the later agent can hold a decision that an approval event settles
        before any agent runs on it, and this agent runs on that event."""
        later = [x for x in a.after if x.value in self.agents
                 and ROLE_ORDER[self.agents[x.value].role] > ROLE_ORDER[a.role]
                 and not self._settled_before(self.agents[x.value], a)]
        if not later:
            return
        never = len(later) == len(a.after)
        for x in later:
            other = self.agents[x.value]
            outcome = f"'{a.name}' never runs" if never else f"this entry never lets '{a.name}' run"
            self.warning("W0201", f"{a.role} agent '{a.name}' runs after {other.role} agent '{other.name}', "
                         f"which runs later on each event: {outcome}", x.span,
                         "agents run by role, perception first, then decision, then action: "
                         f"remove '{other.name}' from the 'after' of '{a.name}', or change a role")

    def _settled_before(self, held: m.Agent, waiting: m.Agent) -> bool:
        """Can `held` commit on an approval event before `waiting` runs on it?"""
        approval = self.p.case.approval
        if waiting.on is not None and approval not in {t.value for t in waiting.on}:
            return False
        return any(r.requires_trust is not None and held.trust < r.requires_trust for r in held.rules)

    def set_outputs(self, outputs: Iterable[m.Output], a: m.Agent) -> None:
        """A `set` output may not replace what the agent records itself (its memory keys)."""
        for o in outputs:
            if o.name in DECISION_OUTPUTS:
                self.error("E0218", f"agent '{a.name}' sets '{o.name}', which the agent records itself", o.span,
                           "the agent keeps its own 'decision', 'rule', 'reason' and 'proposed', which other "
                           "agents read: rename the output")

    def raised_types(self, actions: Iterable[m.Action], where: str) -> None:
        """Only people approve: a policy that raises its own approval event would settle its held decisions."""
        approval = self.p.case.approval
        for act in actions:
            if act.kind == "raise" and act.type is not None and act.type.value == approval:
                self.error("E0220", f"{where} raises '{approval}', the policy's approval event", act.type.span,
                           "an approval settles held decisions and must come from a person, outside the policy: "
                           "raise another event type")
            if act.kind == "raise":
                for f in act.fields:
                    if f.name in ("id", "time"):  # language section 3: the engine sets both on every raised event
                        what = "'<current id>/<n>'" if f.name == "id" else "the current event's time"
                        self.error("E0221", f"{where} raises an event with '{f.name}', which is always {what}",
                                   f.span, f"rename the field, e.g. 'source_{f.name}'")

    def cycles(self) -> None:
        """Within a role, an agent runs after the agents it reads: cycles cannot be ordered."""
        for role in ("perception", "decision", "action"):
            members = [a for a in self.agents.values() if a.role == role]
            names = {a.name for a in members}
            graph = {a.name: [r.value for r in a.reads if r.value in names and r.value != a.name] for a in members}
            state: dict[str, int] = {}
            reported: set[frozenset] = set()
            for a in members:
                if a.name not in state:
                    self._visit(a.name, [], graph, state, reported, role)

    def _visit(self, n: str, stack: list[str], graph: dict, state: dict, reported: set, role: str) -> None:
        state[n] = 1
        stack.append(n)
        for nxt in graph[n]:
            if state.get(nxt) == 1:
                cyc = stack[stack.index(nxt):]
                key = frozenset(cyc)
                if key not in reported:
                    reported.add(key)
                    first = self.agents[min(cyc, key=lambda x: self.agents[x].span)]
                    path = " -> ".join([*cyc, nxt])
                    self.error("E0206", f"{role} agents read each other in a cycle: {path}", first.name_span,
                               "within a role an agent runs after the agents it reads: break the cycle")
            elif nxt not in state:
                self._visit(nxt, stack, graph, state, reported, role)
        stack.pop()
        state[n] = 2

    def agent_expressions(self, a: m.Agent) -> None:
        scope = Scope(f"agent '{a.name}'", a.name, frozenset(r.value for r in a.reads))
        self.expression(a.when, scope, guard=True)
        for n, s in enumerate(a.signals):
            earlier = frozenset(x.name for x in a.signals[:n])
            self.expression(s.expr, Scope(scope.where, scope.agent, scope.reads, scope.extra, earlier))
        for rule in list(a.rules) + ([a.otherwise] if a.otherwise else []):
            self.expression(getattr(rule, "when", None), scope, guard=True)
            self.set_outputs(rule.set, a)
            for o in rule.set:
                self.expression(o.expr, scope, value=True)
            self.expression(rule.reason, scope, template=True)
            for act in rule.do:
                if act.kind == "set":
                    self.set_outputs(act.fields, a)
            self.raised_types(rule.do, f"agent '{a.name}'")
            self.actions(rule.do, scope)

    def actions(self, actions: Iterable[m.Action], scope: Scope) -> None:
        for act in actions:
            inner = scope
            if act.for_each is not None:
                self.expression(act.for_each, scope)
                inner = Scope(scope.where, scope.agent, scope.reads, scope.extra | {"item", "index"})
            for o in act.fields:
                self.expression(o.expr, inner, value=True)
            for t in (act.queue, act.priority, act.reason):
                self.expression(t, inner, template=True)

    def constraints(self) -> None:
        deciders = [a.name for a in self.agents.values() if a.role != "perception"]
        for c in self.p.constraints:
            targets = [t.value for t in c.applies_to] if c.applies_to else deciders
            for t in c.applies_to or ():
                if t.value not in self.agents and t.value not in self.negotiations:
                    self.error("E0209", f"constraint '{c.name}' applies to '{t.value}', which is not an agent or negotiation",
                               t.span, suggest(t.value, list(self.agents) + list(self.negotiations)))
                elif t.value in self.agents and self.agents[t.value].role == "perception":
                    # a perception agent computes signals and fires no rule: the constraint would never be checked
                    self.error("E0209", f"constraint '{c.name}' applies to perception agent '{t.value}', which makes "
                               "no decision to check", t.span,
                               help=f"apply it to the decision or action agents that read '{t.value}'")
            for t in targets:
                for scope in self.scopes_for(t, f"constraint '{c.name}'"):
                    self.expression(c.check, scope, guard=True)
                    self.expression(c.message, scope, template=True)

    def starters(self, negotiation: str) -> list[m.Agent]:
        return [a for a in self.agents.values() if any(r.negotiate and r.negotiate.value == negotiation for r in a.rules)]

    def scopes_for(self, target: str, where: str) -> list[Scope]:
        if target in self.agents:
            a = self.agents[target]
            return [Scope(f"{where} on agent '{a.name}'", a.name, frozenset(r.value for r in a.reads))]
        if target in self.negotiations:
            n = self.negotiations[target]
            parties = [p.agent.value for p in n.parties.values()] if n.protocol == "alternating_offers" else []
            agents = [self.agents[x] for x in parties if x in self.agents] or self.starters(target)
            return [Scope(f"{where} on negotiation '{target}' (agent '{a.name}')", a.name,
                          frozenset(r.value for r in a.reads) | {target}, frozenset({"offer"})) for a in agents]
        return []

    def negotiation(self, n: Any) -> None:
        if n.protocol == "alternating_offers":
            for party in n.parties.values():
                if party.agent.value not in self.agents:
                    self.error("E0208", f"party '{party.role_name}' of negotiation '{n.name}' is '{party.agent.value}', which is not an agent",
                               party.agent.span, suggest(party.agent.value, self.agents))
        elif n.manager.value not in self.agents:
            self.error("E0208", f"manager of negotiation '{n.name}' is '{n.manager.value}', which is not an agent",
                       n.manager.span, suggest(n.manager.value, self.agents))
        for starter in self.starters(n.name):
            scope = Scope(f"negotiation '{n.name}' (started by agent '{starter.name}')", starter.name,
                          frozenset(r.value for r in starter.reads))
            if n.protocol == "alternating_offers":
                for issue in n.issues:
                    for bound in issue.range or ():
                        self.expression(bound, scope)
            else:
                self.expression(n.bidders, scope)
                bscope = Scope(scope.where, scope.agent, scope.reads, frozenset({"bidder"}))
                self.expression(n.eligible, bscope, guard=True)
                for o in n.proposal:
                    self.expression(o.expr, bscope, value=True)
                self.expression(n.award, Scope(scope.where, scope.agent, scope.reads, frozenset({"bidder", "proposal"})))

    def slas(self) -> None:
        for s in self.p.slas:
            scope = Scope(f"sla '{s.name}'", None, frozenset(), frozenset({"sla"}))
            for key, actions in (("on_at_risk", s.on_at_risk), ("on_breach", s.on_breach)):
                for act in actions:
                    if act.kind == "set":
                        self.error("E0219", f"sla '{s.name}' has a 'set' action in '{key}', but an sla has no "
                                   "memory to set", act.key_span or act.span,
                                   f"raise an event in '{key}' and 'set' the output in an agent that runs on it")
                self.raised_types(actions, f"sla '{s.name}'")
            self.actions(list(s.on_at_risk) + list(s.on_breach), scope)
            # valid, but dead: say so, as an author expects them to run
            if s.on_at_risk and s.at_risk is None:
                self.warning("W0202", f"sla '{s.name}' has 'on_at_risk' actions but no 'at_risk': they never run",
                             s.on_at_risk[0].span, "add 'at_risk: 75%' (a share of 'within') to the sla")
            if not s.start:
                self.warning("W0202", f"sla '{s.name}' has no 'start' event types: its clock never starts",
                             s.name_span, "list the event types that start it: start: [request_received]")

    def run(self) -> tuple[Checked, list[Diagnostic]]:
        self.names()
        self.expression(self.p.case.key, Scope("case.key"))
        for a in self.agents.values():
            self.agent_structure(a)
            self.agent_expressions(a)
        self.cycles()
        self.constraints()
        for n in self.negotiations.values():
            self.negotiation(n)
        self.slas()
        unique = sorted(set(self.diags), key=Diagnostic.sort_key)
        return self.out, unique


def check_policy(policy: m.Policy) -> tuple[Checked, list[Diagnostic]]:
    return Checker(policy).run()
