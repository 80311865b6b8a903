"""Specialised agent runners, compiled once per engine.

`compile_agent` turns an agent into the function that activates it, when the
engine is built: every activation of every agent goes through one, so what the
plan fixes (the rules' functions, the autonomy gate, the trace of a run where
nothing errs, the decision row's constant columns) is worked out there and not
per decision. Perception agents and agents under `first` or `priority` get
specialised runners; `unique` and `collect` go through the general
`accord.engine.agents.run_agent`, which is the reference these runners are
tested against (tests/engine/test_runners.py): they must write the same rows
and leave the same state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
from orjson import dumps as _dumps

from accord.dsl.expr import EvaluationError
from accord.dsl.plan import Agent, Rule
from accord.engine import agents as general
from accord.engine.actions import compile_actions, run_steps
from accord.engine.agents import (
    _blocked,
    _checks,
    _guard,
    _guard_failed,
    _hold,
    _stop,
    held_error,
    negotiation_failed,
    run_agent,
)
from accord.engine.context import EventCtx
from accord.engine.negotiate import run_negotiation
from accord.engine.records import _OPTS as _JOPTS
from accord.engine.records import _default as _jdefault

if TYPE_CHECKING:
    from accord.engine.core import Engine


def compile_agent(eng: Engine, agent: Agent) -> Callable[[EventCtx], None]:
    """The function that activates `agent` on an event context (its `on` and `after` already matched)."""
    if not general.SPECIALISED or (agent.role != "perception" and agent.hit not in ("first", "priority")):
        def run(ctx: EventCtx) -> None:
            run_agent(eng, ctx, agent)
        return run
    if agent.role == "perception":
        return _signals_runner(eng, agent)
    return _first_runner(eng, agent)


def _js(value: Any) -> str:
    """JSON text for a log column. Text, not orjson's bytes: a kept bytes object from orjson costs a fresh
    1 KiB allocation shrunk in place (microseconds and heap growth each), and the Arrow writer converts text
    to its string columns many times faster than bytes."""
    return _dumps(value, default=_jdefault, option=_JOPTS).decode()


def _recorder(eng: Engine, agent: Agent):
    """`record(ctx, decision_id, previous, inputs, rule, outcome, reason, outputs, outputs_json, trace_json, checks,
    escalated, held, error, negotiation_id)`: the decision row as `Engine.record` writes it, for one agent with its
    constant columns bound. Runners call it only with the log on, after reading `previous` from the case's last
    decisions (which they update themselves). `inputs` are the agent's own (captured before it ran; the
    others' are added here); `outputs_json` is the outputs' JSON when the plan fixes it, else None; the trace
    comes as JSON."""
    name, role, owner, version = agent.name, agent.role, agent.owner, eng._version
    read_agents = agent.read_agents
    capture_others = eng._captures[name][1]

    def record(ctx: EventCtx, decision_id: str, previous, inputs: dict | None, rule, outcome, reason, outputs,
               outputs_json, trace_json, checks, escalated: bool, held: bool, error, negotiation_id) -> None:
        case = ctx.case
        seen = capture_others(ctx.scope, {} if inputs is None else inputs)
        run_id = eng.run_id
        rows = eng.rows
        rows.decisions.append((
            decision_id, run_id, ctx.seq, case.id, ctx.event_id, ctx.time, name, role, owner, rule, outcome, reason,
            outputs_json or ("null" if outputs is None else _dumps(outputs, default=_jdefault, option=_JOPTS).decode()),
            _dumps(seen, default=_jdefault, option=_JOPTS).decode(), trace_json,
            _dumps(checks, default=_jdefault, option=_JOPTS).decode() if checks else "[]", escalated, held,
            None, error, previous, version, case.opened_at, negotiation_id, ctx.positions,
        ))
        if read_agents:
            memory = case.memory
            for other in read_agents:
                if memory.get(other):
                    rows.interactions.append((run_id, case.id, ctx.event_id, decision_id, name, other, "read"))

    return record


def _opening(eng: Engine, agent: Agent) -> Callable[[EventCtx], str | None]:
    """What every activation does first: take the decision's id and position (`Engine.new_decision_id`), then
    test the agent's `when`. Returns the id, or None when the guard is false or failed (a failure is logged)."""
    name = agent.name
    new_id = eng.new_decision_id
    when = agent.when
    if when is None:
        return lambda ctx: new_id(ctx, name)
    capture_own = eng._captures[name][0]
    logging = eng.logging

    def opening(ctx: EventCtx) -> str | None:
        decision_id = new_id(ctx, name)
        try:
            return decision_id if _guard(when, ctx.scope) else None
        except EvaluationError as err:
            _guard_failed(eng, ctx, agent, decision_id, err.message, capture_own(ctx.scope, {}) if logging else None)
            return None

    return opening


def _signals_runner(eng: Engine, agent: Agent) -> Callable[[EventCtx], None]:
    name = agent.name
    opening = _opening(eng, agent)
    signals = tuple((s.name, s.value.fn) for s in agent.signals)
    names = tuple(s.name for s in agent.signals)
    ok_trace = _js([{"signal": s, "result": "ok"} for s in names])
    logging = eng.logging
    record = _recorder(eng, agent)

    def run(ctx: EventCtx) -> None:
        decision_id = opening(ctx)
        if decision_id is None:
            return
        scope = ctx.scope
        memory: dict[str, Any] = {}
        scope[name] = memory
        errors = None
        for sname, fn in signals:
            try:
                memory[sname] = fn(scope)
            except EvaluationError as err:  # held under a message that says where it came from, for its readers
                memory[sname] = held_error(name, sname, err)
                if errors is None:
                    errors = []
                errors.append(f"signal '{sname}': {err.message}")
        case = ctx.case
        case.memory[name] = memory
        ctx.committed.add(name)
        last = case.last_decision
        if logging:
            if errors is None:
                trace_json = ok_trace
            else:
                trace_json = _js([{"signal": s, "result": "error" if isinstance(memory[s], EvaluationError) else "ok"}
                                  for s in names])
            record(ctx, decision_id, last.get(name), None, None, None, None, memory, None, trace_json, None, False,
                   False, None if errors is None else "; ".join(errors), None)
        last[name] = decision_id

    return run


class _Prepared:
    """A rule with what its runs need looked up once."""

    __slots__ = ("rule", "name", "when", "decide", "outputs", "reason", "negotiate", "negotiation", "gated", "steps",
                 "no_match", "fired", "outputs_json")

    def __init__(self, eng: Engine, agent: Agent, rule: Rule):
        self.rule = rule
        self.name = rule.name
        self.when = rule.when
        self.decide = rule.decide
        self.outputs = tuple((o.name, o.value.fn) for o in rule.outputs)
        self.reason = rule.reason.fn if rule.reason is not None else None
        self.negotiate = rule.negotiate or None
        self.negotiation = eng.plan.negotiations[rule.negotiate] if rule.negotiate else None
        self.gated = rule.requires_trust is not None and agent.trust < rule.requires_trust
        self.steps = compile_actions(rule.actions)
        self.no_match = {"rule": rule.name, "result": "no match"}
        self.fired = {"rule": rule.name, "result": "fired"}
        # without `set` outputs, a reason or a `set` action the outputs are the decision and the rule's name
        fixed = not rule.outputs and rule.reason is None and not any(a.kind == "set" for a in rule.actions)
        self.outputs_json = _js({"decision": rule.decide, "rule": rule.name}) if fixed else None


def _first_runner(eng: Engine, agent: Agent) -> Callable[[EventCtx], None]:
    """`first` and `priority` (rules arrive in priority order): the first rule whose `when` holds and that
    passes its constraints fires, else `otherwise`.

    While no `when` errs and no constraint blocks, the trace is fixed by which rule fired, so its JSON is
    made here; otherwise the trace is built entry by entry as `run_agent` builds it.
    """
    name = agent.name
    opening = _opening(eng, agent)
    rules = tuple(_Prepared(eng, agent, r) for r in agent.rules)
    otherwise = _Prepared(eng, agent, agent.otherwise) if agent.otherwise is not None else None
    constraints = agent.constraints
    escalate_on_error = agent.on_error == "escalate"
    capture_own = eng._captures[name][0]
    logging = eng.logging
    own_inputs = logging and any(root == name for root, _ in agent.input_paths)
    record = _recorder(eng, agent)
    no_match = [r.no_match for r in rules]
    trace_fired = tuple(_js([*no_match[:k], r.fired]) for k, r in enumerate(rules))
    trace_none = _js(no_match)
    otherwise_fired = {"rule": "otherwise", "result": "fired"}
    trace_otherwise = _js([*no_match, otherwise_fired])
    nothing_json = _js({"decision": None})

    def rule_failed(ctx: EventCtx, decision_id: str, rule: str, message: str, trace: list[dict], checks,
                    errors: list[str], negotiation_id, inputs) -> bool:
        """A rule's `when` or negotiation erred: record it; under `on_error: escalate` stop the agent (True)."""
        trace.append({"rule": rule, "result": "error", "error": message})
        errors.append(f"rule '{rule}': {message}")
        if escalate_on_error:
            _stop(eng, ctx, agent, decision_id, f"rule '{rule}' failed: {message}", trace, checks or [], errors,
                  negotiation_id, inputs)
        return escalate_on_error

    def tentative(ctx: EventCtx, scope: dict, r: _Prepared, errors: list[str]) -> tuple[dict, Any]:
        """The rule's outputs as the `set` expressions and `reason` compute them, in the agent's scope slot."""
        out: dict[str, Any] = {"decision": r.decide, "rule": r.name}
        scope[name] = out
        for oname, fn in r.outputs:
            try:
                out[oname] = fn(scope)
            except EvaluationError as err:
                out[oname] = err
                errors.append(f"output '{oname}' of rule '{r.name}': {err.message}")
        reason = None
        if r.reason is not None:
            try:
                reason = r.reason(scope)
            except EvaluationError as err:
                errors.append(f"reason of rule '{r.name}': {err.message}")
        if reason is not None:
            out["reason"] = reason
        return out, reason

    def run(ctx: EventCtx) -> None:
        decision_id = opening(ctx)
        if decision_id is None:
            return
        scope = ctx.scope
        inputs = capture_own(scope, {}) if own_inputs else None
        trace = None  # built only once a rule errs or is blocked
        checks = None
        errors: list[str] = []
        escalations = ()
        negotiation_id = None
        fired = None
        k = 0
        for r in rules:
            if r.when is not None:
                try:
                    ok = _guard(r.when, scope)
                except EvaluationError as err:
                    if trace is None:
                        trace = no_match[:k]
                    if rule_failed(ctx, decision_id, r.name, err.message, trace, checks, errors, negotiation_id,
                                   inputs):
                        return
                    k += 1
                    continue
                if ok is False:
                    if trace is not None:
                        trace.append(r.no_match)
                    k += 1
                    continue
            previous = scope.get(name)
            negotiate = r.negotiate
            neg_escalations = None
            if negotiate is not None:
                neg_previous = scope.get(negotiate)
                if checks is None:
                    checks = []
                neg_escalations = []
                try:
                    scope[negotiate], negotiation_id = run_negotiation(eng, ctx, r.negotiation, name, decision_id,
                                                                       checks, neg_escalations)
                except EvaluationError as err:
                    if trace is None:
                        trace = no_match[:k]
                    if rule_failed(ctx, decision_id, r.name, negotiation_failed(negotiate, err), trace, checks,
                                   errors, negotiation_id, inputs):
                        return
                    k += 1
                    continue
            mark = len(errors)
            outputs, reason = tentative(ctx, scope, r, errors)
            if constraints:
                if checks is None:
                    checks = []
                escalations = []
                if not _checks(constraints, r.name, scope, checks, escalations):
                    scope[name] = previous
                    if negotiate is not None:
                        scope[negotiate] = neg_previous
                    if trace is None:
                        trace = no_match[:k]
                    trace.append(_blocked(checks, r.name, errors, mark))
                    escalations = ()
                    k += 1
                    continue
            scope[name] = previous
            if negotiate is not None:
                ctx.case.memory[negotiate] = scope[negotiate]
                if neg_escalations:
                    escalations = [*neg_escalations, *escalations]
            if trace is not None:
                trace.append(r.fired)
            fired = r
            break
        if fired is None:
            if otherwise is None:
                nothing = {"decision": None}
                case = ctx.case
                case.memory[name] = nothing
                if case.held:
                    case.held.pop(name, None)
                scope[name] = nothing
                ctx.committed.add(name)
                last = case.last_decision
                if logging:
                    record(ctx, decision_id, last.get(name), inputs, None, None, None, nothing, nothing_json,
                           trace_none if trace is None else _js(trace), checks, False, False,
                           "; ".join(errors) or None, negotiation_id)
                last[name] = decision_id
                return
            fired = otherwise
            previous = scope.get(name)
            negotiate = fired.negotiate
            if negotiate is not None:
                if checks is None:
                    checks = []
                escalations = []
                scope[negotiate], negotiation_id = run_negotiation(eng, ctx, fired.negotiation, name, decision_id,
                                                                   checks, escalations)
            outputs, reason = tentative(ctx, scope, fired, errors)
            scope[name] = previous
            if negotiate is not None:
                ctx.case.memory[negotiate] = scope[negotiate]
            if trace is None:
                trace_json = trace_otherwise
            else:
                trace.append(otherwise_fired)
                trace_json = _js(trace) if logging else None
        else:
            trace_json = trace_fired[k] if trace is None else _js(trace) if logging else None
        case = ctx.case
        last = case.last_decision
        if fired.gated:
            gate = _hold(eng, ctx, agent, decision_id, [fired.rule], fired.name, [fired.name], fired.decide,
                         outputs, reason, escalations)
            if logging:
                trace_json = _js([*orjson.loads(trace_json), gate])  # held decisions are rare: no fixed JSON
                record(ctx, decision_id, last.get(name), inputs, fired.name, fired.decide, reason, outputs,
                       fired.outputs_json, trace_json, checks, True, True, "; ".join(errors) or None, negotiation_id)
            last[name] = decision_id
            return
        case.memory[name] = outputs
        scope[name] = outputs
        ctx.committed.add(name)
        if case.held:
            case.held.pop(name, None)
        escalated = False
        if escalations:
            for message in escalations:
                eng.escalate(ctx, name, decision_id, None, None, message, "constraint")
            escalated = True
        if errors and escalate_on_error:
            eng.escalate(ctx, name, decision_id, None, None, "; ".join(errors), "error")
            escalated = True
        if fired.steps and run_steps(eng, ctx, fired.steps, name, decision_id, errors):
            escalated = True
        if logging:
            record(ctx, decision_id, last.get(name), inputs, fired.name, fired.decide, reason, outputs,
                   fired.outputs_json, trace_json, checks, escalated, False, "; ".join(errors) or None,
                   negotiation_id)
        last[name] = decision_id

    return run
