"""One agent's run on one event: signals, or rules under a hit policy with
constraints, negotiations and the autonomy gate; then the decision record.

The order inside a firing rule is the spec's: negotiation, `set` outputs in file
order, `reason`, constraint checks on the tentative outputs, then commit.

`run_agent` is the general runner: every hit policy, through
`accord.policies.hit_policies`. It is also the reference that the specialised
runners of `accord.engine.runners` (perception agents, `first` and `priority`)
are tested against; `SPECIALISED = False` runs every agent through it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from accord.dsl.expr import EvaluationError
from accord.dsl.expr.values import type_name
from accord.dsl.plan import Agent, Rule
from accord.engine.actions import render, run_actions
from accord.engine.context import EventCtx
from accord.engine.negotiate import run_negotiation
from accord.engine.state import Held
from accord.policies.hit_policies import HIT_POLICIES

if TYPE_CHECKING:
    from accord.engine.core import Engine

#: Off, every agent runs through `run_agent` (tests compare the two; the log must not differ).
SPECIALISED = True


class Fired:
    __slots__ = ("rule", "outputs", "reason", "escalations")

    def __init__(self, rule: Rule, outputs: dict[str, Any], reason: str | None):
        self.rule = rule
        self.outputs = outputs
        self.reason = reason
        self.escalations: list[str] = []


class Run:
    """What the log needs to know about one activation (slots, not a dataclass: one per agent run)."""

    __slots__ = ("trace", "checks", "errors", "negotiation_id", "stopped")

    def __init__(self) -> None:
        self.trace: list[dict] = []
        self.checks: list[dict] = []
        self.errors: list[str] = []
        self.negotiation_id: str | None = None
        self.stopped: str | None = None  # an on_error escalation: the message


def _message(err: Exception) -> str:
    return err.message if isinstance(err, EvaluationError) else str(err)


def held_error(agent: str, signal: str, err: EvaluationError) -> EvaluationError:
    """The error a signal holds: named, so its readers' errors say which signal failed (once: a signal that
    failed reading another one keeps that one's name, the root cause)."""
    if err.message.startswith("signal '"):
        return err
    return EvaluationError(f"signal '{agent}.{signal}' failed: {err.message}")


def _guard(expr, scope: dict) -> bool:
    value = expr.fn(scope)
    if value is True:
        return True
    if value is False:
        return False
    raise EvaluationError(f"condition is a {type_name(value)}, not a bool")


def _check_constraints(eng: Engine, agent: Agent, fired: Fired, run: Run, scope: dict) -> bool:
    """Returns False when a `block` constraint rejects the rule; every check is recorded."""
    return _checks(agent.constraints, fired.rule.name, scope, run.checks, fired.escalations)


def _checks(constraints, rule_name: str, scope: dict, checks: list[dict], escalations: list[str]) -> bool:
    allowed = True
    for c in constraints:
        error = None
        try:
            value = c.check.fn(scope)
            ok = value is True
            if not ok and value is not False:
                error = f"check is a {type_name(value)}, not a bool"
        except EvaluationError as err:
            ok, error = False, err.message
        message = None
        if not ok and c.message is not None:
            try:
                message = c.message.fn(scope)
            except EvaluationError as err:
                message = f"message failed: {err.message}"
        entry = {"constraint": c.name, "rule": rule_name, "passed": ok, "on_violation": c.on_violation}
        if message is not None:
            entry["message"] = message
        if error is not None:
            entry["error"] = error
        checks.append(entry)
        if not ok:
            if c.on_violation == "block":
                allowed = False
            elif c.on_violation == "escalate":
                escalations.append(message or f"constraint '{c.name}' violated")
    return allowed


def _blocked_by(checks: list[dict], rule_name: str) -> list[str]:
    return [c["constraint"] for c in checks if c["rule"] == rule_name and not c["passed"]
            and c["on_violation"] == "block"]


def _blocked(checks: list[dict], rule_name: str, errors: list[str], mark: int) -> dict:
    """The trace entry of a rule a constraint rejected. Errors of its outputs since `mark` move into it:
    a rejected rule's outputs are never committed, so they must not make the decision an error."""
    entry = {"rule": rule_name, "result": "blocked", "by": _blocked_by(checks, rule_name)}
    if len(errors) > mark:
        entry["errors"] = errors[mark:]
        del errors[mark:]
    return entry


def negotiation_failed(name: str, err: EvaluationError) -> str:
    """The error of a rule whose negotiation could not run (an expression of it failed, or its setup was refused).

    It counts as an error of the rule, as a failing `when` does: under `on_error: escalate` the agent stops
    with an `error` decision, under `skip` the rule does not fire and the hit policy goes on.
    """
    return f"negotiation '{name}' failed: {err.message}"


def _fire(eng: Engine, ctx: EventCtx, agent: Agent, rule: Rule, run: Run, decision_id: str,
          *, constrained: bool) -> Fired | None:
    """Tentatively apply a rule; None when a constraint blocks it or its negotiation fails (see `run.stopped`)."""
    scope = ctx.scope
    previous = scope.get(agent.name)
    neg_saved = None
    neg_escalations: list[str] = []
    if rule.negotiate:
        neg = eng.plan.negotiations[rule.negotiate]
        neg_saved = (rule.negotiate, scope.get(rule.negotiate))
        try:
            outputs, run.negotiation_id = run_negotiation(eng, ctx, neg, agent.name, decision_id, run.checks,
                                                          neg_escalations)
        except EvaluationError as err:
            message = negotiation_failed(rule.negotiate, err)
            run.trace.append({"rule": rule.name, "result": "error", "error": message})
            run.errors.append(f"rule '{rule.name}': {message}")
            if agent.on_error == "escalate":
                run.stopped = f"rule '{rule.name}' failed: {message}"
            return None
        scope[rule.negotiate] = outputs
    tentative: dict[str, Any] = {"decision": rule.decide, "rule": rule.name}
    scope[agent.name] = tentative
    mark = len(run.errors)
    for out in rule.outputs:
        try:
            tentative[out.name] = out.value.fn(scope)
        except EvaluationError as err:
            tentative[out.name] = err
            run.errors.append(f"output '{out.name}' of rule '{rule.name}': {err.message}")
    reason = None
    try:
        reason = render(rule.reason, scope)
    except EvaluationError as err:
        run.errors.append(f"reason of rule '{rule.name}': {err.message}")
    if reason is not None:
        tentative["reason"] = reason
    fired = Fired(rule, tentative, reason)
    fired.escalations.extend(neg_escalations)
    if constrained and not _check_constraints(eng, agent, fired, run, scope):
        scope[agent.name] = previous
        if neg_saved:
            scope[neg_saved[0]] = neg_saved[1]
        run.trace.append(_blocked(run.checks, rule.name, run.errors, mark))
        return None
    scope[agent.name] = previous
    if neg_saved:
        ctx.case.memory[rule.negotiate] = scope[rule.negotiate]
    return fired


def _test(agent: Agent, rule: Rule, scope: dict, run: Run) -> bool | None:
    """True/False for a rule's `when`; None when it errored (recorded in the trace)."""
    if rule.when is None:
        return True
    try:
        return _guard(rule.when, scope)
    except EvaluationError as err:
        run.trace.append({"rule": rule.name, "result": "error", "error": err.message})
        run.errors.append(f"rule '{rule.name}': {err.message}")
        if agent.on_error == "escalate":
            run.stopped = f"rule '{rule.name}' failed: {err.message}"
        return None


class _Trial:
    """The engine's side of a hit policy (accord.policies.hit_policies): test, fire, record."""

    __slots__ = ("eng", "ctx", "agent", "run", "decision_id")

    def __init__(self, eng: Engine, ctx: EventCtx, agent: Agent, run: Run, decision_id: str):
        self.eng, self.ctx, self.agent, self.run, self.decision_id = eng, ctx, agent, run, decision_id

    @property
    def stopped(self) -> str | None:
        return self.run.stopped

    def test(self, rule: Rule) -> bool | None:
        return _test(self.agent, rule, self.ctx.scope, self.run)

    def fire(self, rule: Rule) -> Fired | None:
        f = _fire(self.eng, self.ctx, self.agent, rule, self.run, self.decision_id, constrained=True)
        if f is not None:
            self.run.trace.append({"rule": rule.name, "result": "fired"})
        return f

    def no_match(self, rule: Rule) -> None:
        self.run.trace.append({"rule": rule.name, "result": "no match"})

    def ambiguous(self, rules) -> None:
        names = ", ".join(f"'{r.name}'" for r in rules)
        self.run.errors.append(f"hit policy unique: rules {names} all match")
        self.run.trace.append({"rule": None, "result": "error", "error": f"rules {names} all match"})


def select(eng: Engine, ctx: EventCtx, agent: Agent, run: Run, decision_id: str) -> list[Fired]:
    """Apply the agent's hit policy; returns the rules that fire (empty: otherwise or nothing)."""
    return HIT_POLICIES[agent.hit](agent.rules, _Trial(eng, ctx, agent, run, decision_id))


def run_signals(eng: Engine, ctx: EventCtx, agent: Agent, decision_id: str) -> None:
    scope = ctx.scope
    memory: dict[str, Any] = {}
    scope[agent.name] = memory
    errors = []
    for sig in agent.signals:
        try:
            memory[sig.name] = sig.value.fn(scope)
        except EvaluationError as err:
            memory[sig.name] = held_error(agent.name, sig.name, err)
            errors.append(f"signal '{sig.name}': {err.message}")
    ctx.case.memory[agent.name] = memory
    ctx.committed.add(agent.name)
    eng.record(ctx, agent, decision_id, rule=None, outcome=None, reason=None, outputs=memory,
               trace=[{"signal": s.name, "result": "error" if isinstance(memory[s.name], EvaluationError) else "ok"}
                      for s in agent.signals],
               checks=[], escalated=False, held=False, approved_by=None,
               error="; ".join(errors) or None, negotiation_id=None)


def _guard_failed(eng: Engine, ctx: EventCtx, agent: Agent, decision_id: str, message: str, inputs) -> None:
    escalated = agent.on_error == "escalate"
    if escalated:
        eng.escalate(ctx, agent.name, decision_id, None, None, f"guard failed: {message}", "error")
        outputs = {"decision": "error", "reason": f"guard failed: {message}"}
        eng.commit(ctx, agent.name, outputs)
    eng.record(ctx, agent, decision_id, rule=None, outcome="error" if escalated else None, reason=None,
               outputs=outputs if escalated else None, trace=[{"guard": agent.when.source, "result": "error", "error": message}],
               checks=[], escalated=escalated, held=False, approved_by=None, error=message,
               negotiation_id=None, inputs=inputs)


def _stop(eng: Engine, ctx: EventCtx, agent: Agent, decision_id: str, stopped: str, trace: list[dict],
          checks: list[dict], errors: list[str], negotiation_id: str | None, inputs) -> None:
    """A rule's `when` errored under `on_error: escalate`: the agent stops with an error decision."""
    eng.escalate(ctx, agent.name, decision_id, None, None, stopped, "error")
    failed_rule = next((t["rule"] for t in reversed(trace) if t.get("result") == "error"), None)
    outputs = {"decision": "error", "rule": failed_rule, "reason": stopped}
    eng.commit(ctx, agent.name, outputs)
    eng.record(ctx, agent, decision_id, rule=failed_rule, outcome="error", reason=stopped, outputs=outputs,
               trace=trace, checks=checks, escalated=True, held=False, approved_by=None,
               error="; ".join(errors), negotiation_id=negotiation_id, inputs=inputs)


def _hold(eng: Engine, ctx: EventCtx, agent: Agent, decision_id: str, gate: list[Rule], rule_name: str,
          rule_names: list[str], outcome, outputs: dict, reason, escalations=()) -> dict:
    """The autonomy gate holds a decision until an approval event settles it; returns the gate's trace entry.

    The case is escalated with reason `trust` (spec section 3); the trace entry says which rule needed
    how much. `escalate` constraints the held rule violated escalate the case now too: they describe
    the decision a person is asked to approve.
    """
    need = max(r.requires_trust for r in gate)
    ctx.case.held[agent.name] = Held(decision_id, rule_name, rule_names, outcome, outputs, reason)
    eng.commit(ctx, agent.name, {"decision": "held", "proposed": outcome}, committed=False)
    eng.escalate(ctx, agent.name, decision_id, None, None, "trust", "trust")
    for message in escalations:
        eng.escalate(ctx, agent.name, decision_id, None, None, message, "constraint")
    return {"gate": "held", "rule": gate[0].name, "trust": agent.trust, "requires_trust": need}


def run_agent(eng: Engine, ctx: EventCtx, agent: Agent) -> None:
    """Activate an agent whose `on` and `after` already match this event (the general runner)."""
    scope = ctx.scope
    decision_id = eng.new_decision_id(ctx, agent.name)
    inputs_scope_ready = eng.capture_inputs(ctx, agent, own=True)
    if agent.when is not None:
        try:
            if not _guard(agent.when, scope):
                return
        except EvaluationError as err:
            _guard_failed(eng, ctx, agent, decision_id, err.message, inputs_scope_ready)
            return
    if agent.role == "perception":
        run_signals(eng, ctx, agent, decision_id)
        return
    run = Run()
    fired = select(eng, ctx, agent, run, decision_id)
    if run.stopped:
        _stop(eng, ctx, agent, decision_id, run.stopped, run.trace, run.checks, run.errors, run.negotiation_id,
              inputs_scope_ready)
        return
    if not fired and agent.otherwise is not None:
        f = _fire(eng, ctx, agent, agent.otherwise, run, decision_id, constrained=False)
        run.trace.append({"rule": "otherwise", "result": "fired"})
        fired = [f]
    escalations = [m for f in fired for m in f.escalations]
    if not fired:
        eng.commit(ctx, agent.name, {"decision": None})
        # an error that let no rule fire (`unique` with several matches) escalates as `otherwise` would
        escalated = bool(run.errors) and agent.on_error == "escalate"
        if escalated:
            eng.escalate(ctx, agent.name, decision_id, None, None, "; ".join(run.errors), "error")
        eng.record(ctx, agent, decision_id, rule=None, outcome=None, reason=None, outputs={"decision": None},
                   trace=run.trace, checks=run.checks, escalated=escalated, held=False, approved_by=None,
                   error="; ".join(run.errors) or None, negotiation_id=run.negotiation_id,
                   inputs=inputs_scope_ready)
        return
    if agent.hit == "collect":
        outputs: dict[str, Any] = {}
        for f in fired:
            outputs.update(f.outputs)
        outputs["decision"] = [f.rule.decide for f in fired]
        outputs["rule"] = [f.rule.name for f in fired]
        reasons = [f.reason for f in fired if f.reason]
        reason = "; ".join(reasons) if reasons else None
        if reason is None:
            outputs.pop("reason", None)
        else:
            outputs["reason"] = reason
        rule_name = ", ".join(f.rule.name for f in fired)
        outcome: Any = outputs["decision"]
    else:
        outputs, reason, rule_name, outcome = fired[0].outputs, fired[0].reason, fired[0].rule.name, fired[0].rule.decide
    gate = [f.rule for f in fired if f.rule.requires_trust is not None and agent.trust < f.rule.requires_trust]
    if gate:
        run.trace.append(_hold(eng, ctx, agent, decision_id, gate, rule_name, [f.rule.name for f in fired],
                               outcome, outputs, reason, escalations))
        eng.record(ctx, agent, decision_id, rule=rule_name, outcome=outcome, reason=reason, outputs=outputs,
                   trace=run.trace, checks=run.checks, escalated=True, held=True, approved_by=None,
                   error="; ".join(run.errors) or None, negotiation_id=run.negotiation_id, inputs=inputs_scope_ready)
        return
    escalated = apply_decision(eng, ctx, agent, decision_id, outputs, [f.rule for f in fired], escalations, run.errors)
    eng.record(ctx, agent, decision_id, rule=rule_name, outcome=outcome, reason=reason, outputs=outputs,
               trace=run.trace, checks=run.checks, escalated=escalated, held=False, approved_by=None,
               error="; ".join(run.errors) or None, negotiation_id=run.negotiation_id, inputs=inputs_scope_ready)


def apply_decision(eng: Engine, ctx: EventCtx, agent: Agent, decision_id: str, outputs: dict,
                   rules: list[Rule], escalations: list[str], errors: list[str]) -> bool:
    """Commit outputs, escalate for constraints and output errors, run the rules' actions."""
    eng.commit(ctx, agent.name, outputs)
    escalated = False
    for message in escalations:
        eng.escalate(ctx, agent.name, decision_id, None, None, message, "constraint")
        escalated = True
    if errors and agent.on_error == "escalate":
        eng.escalate(ctx, agent.name, decision_id, None, None, "; ".join(errors), "error")
        escalated = True
    for rule in rules:
        if rule.actions and run_actions(eng, ctx, rule.actions, agent=agent.name, decision_id=decision_id,
                                        errors=errors):
            escalated = True
    return escalated


def settle_approval(eng: Engine, ctx: EventCtx) -> str | None:
    """An approval event commits or rejects a held decision before any agent runs on it; returns the agent
    it settled (None: nothing held for it), which does not run again on the approval event."""
    event = ctx.event
    name = event.get("agent")
    held = ctx.case.held.pop(name, None) if isinstance(name, str) else None
    if held is None:
        return None
    agent = eng.plan.agent(name)
    decision_id = eng.new_decision_id(ctx, name)
    approved = event.get("approved") is True
    by = event.get("by")
    by = None if by is None else str(by)
    trace = [{"approval": "approved" if approved else "rejected", "by": by, "held_decision": held.decision_id}]
    if approved:
        errors: list[str] = []
        rules = [r for r in agent.rules if r.name in held.rules]
        if agent.otherwise is not None and agent.otherwise.name in held.rules:
            rules.append(agent.otherwise)
        escalated = apply_decision(eng, ctx, agent, decision_id, held.outputs, rules, [], errors)
        eng.record(ctx, agent, decision_id, rule=held.rule, outcome=held.label, reason=held.reason,
                   outputs=held.outputs, trace=trace, checks=[], escalated=escalated, held=False, approved_by=by,
                   error="; ".join(errors) or None, negotiation_id=None)
    else:
        outputs = {"decision": "rejected", "rule": held.rule, "proposed": held.label}
        eng.commit(ctx, name, outputs)
        eng.record(ctx, agent, decision_id, rule=held.rule, outcome="rejected", reason=None, outputs=outputs,
                   trace=trace, checks=[], escalated=False, held=False, approved_by=None, error=None,
                   negotiation_id=None)
    return name
