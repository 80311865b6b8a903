"""Actions (`do`, `on_at_risk`, `on_breach`): outbox records, internal events,
outputs, and case status changes. An action whose expression errors is not
performed, the case is escalated (fail safe), and the next action still runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from orjson import dumps as _dumps

from accord.dsl.expr import EvaluationError
from accord.dsl.expr.values import type_name
from accord.dsl.plan import Action
from accord.engine.context import EventCtx
from accord.engine.records import _OPTS as _JOPTS
from accord.engine.records import _default as _jdefault
from accord.engine.records import to_json

if TYPE_CHECKING:
    from accord.engine.core import Engine

MAX_RAISE_DEPTH = 16
#: Internal events one input record (or SLA timer) may lead to in all: the depth limit alone lets a `for_each`
#: raise fan out to millions. Past it a `raise` fails like any action (logged, case escalated).
MAX_RAISED_EVENTS = 1000


def _items(action: Action, scope: dict) -> list[tuple[Any, Any]]:
    """(item, index) pairs for `for_each`, or one pair of Nones without it."""
    if action.for_each is None:
        return [(None, None)]
    values = action.for_each.fn(scope)
    if isinstance(values, dict):
        values = list(values)
    if not isinstance(values, list):
        raise EvaluationError(f"for_each needs a list, got {type_name(values)}")
    return [(v, i) for i, v in enumerate(values)]


def _fields(action: Action, scope: dict) -> list[dict]:
    """Evaluate every record first, so an error means no record at all is written."""
    records = []
    had_item = "item" in scope
    saved = (scope.get("item"), scope.get("index"))
    try:
        for item, index in _items(action, scope):
            if action.for_each is not None:
                scope["item"], scope["index"] = item, index
            record: dict[str, Any] = {"type": action.type}
            for f in action.fields:
                record[f.name] = f.value.fn(scope)
            records.append(record)
    finally:
        if action.for_each is not None:
            if had_item:
                scope["item"], scope["index"] = saved
            else:
                scope.pop("item", None)
                scope.pop("index", None)
    return records


def render(expr, scope: dict) -> str | None:
    return None if expr is None else expr.fn(scope)


#: A compiled action: `step(eng, ctx, agent, decision_id)` performs it and returns True when it escalated;
#: an EvaluationError means it was not performed.
Step = Callable[["Engine", EventCtx, "str | None", "str | None"], bool]


def _step(action: Action) -> Step:
    """One action as a function, its plan lookups done once (actions run on most decisions)."""
    kind = action.kind
    if kind == "emit" and action.for_each is None:
        rtype = action.type
        fields = tuple((f.name, f.value.fn) for f in action.fields)

        def emit(eng, ctx, agent, decision_id):
            scope = ctx.scope
            record: dict[str, Any] = {"type": rtype}
            for name, fn in fields:
                record[name] = fn(scope)
            # `Engine.emit`, inline
            st = eng.state
            st.outbox_seq += 1
            if eng._logging:
                eng.rows.outbox.append((eng.run_id, st.outbox_seq, ctx.case.id, ctx.event_id, decision_id,
                                        _dumps(record, default=_jdefault, option=_JOPTS).decode()))
            return False
        return emit
    if kind == "emit":
        def emit_each(eng, ctx, agent, decision_id):
            for record in _fields(action, ctx.scope):
                eng.emit(ctx, decision_id, record)
            return False
        return emit_each
    if kind == "raise":
        def raise_(eng, ctx, agent, decision_id):
            records = _fields(action, ctx.scope)
            if ctx.depth + 1 > MAX_RAISE_DEPTH:
                raise EvaluationError(f"raise of '{action.type}' is more than {MAX_RAISE_DEPTH} deep")
            total = eng.raised_events + len(records)
            if total > MAX_RAISED_EVENTS:
                raise EvaluationError(f"raise of '{action.type}' makes more than {MAX_RAISED_EVENTS} internal "
                                      f"events from one input event")
            eng.raised_events = total
            for record in records:
                base = dict(ctx.event) if action.copy else {}
                base.pop("id", None)
                base.update(record)
                ctx.raised.append(base)
                if eng.logging and agent is not None:
                    # an edge to each agent the raised event may run (by `on` and `after`; `when` is not known yet)
                    rows = eng.rows.interactions
                    for target in eng.raise_targets(action.type):
                        rows.append((eng.run_id, ctx.case.id, ctx.event_id, decision_id, agent, target, "raise"))
            return False
        return raise_
    if kind == "set":
        fields = tuple((f.name, f.value.fn) for f in action.fields)

        def set_(eng, ctx, agent, decision_id):
            scope = ctx.scope
            values = {name: fn(scope) for name, fn in fields}
            if agent is not None:  # in place: the decision record shows the outputs `set` added
                memory = ctx.case.memory.setdefault(agent, {})
                memory.update(values)
                scope[agent] = memory
            return False
        return set_
    if kind == "resolve":
        label = action.label

        def resolve(eng, ctx, agent, decision_id):
            eng.resolve(ctx, label)
            return False
        return resolve
    if kind == "escalate":
        def escalate(eng, ctx, agent, decision_id):
            scope = ctx.scope
            eng.escalate(ctx, agent, decision_id, render(action.queue, scope), render(action.priority, scope),
                         render(action.reason, scope), "action" if agent is not None else "sla")
            return True
        return escalate
    if kind == "close":
        def close(eng, ctx, agent, decision_id):
            ctx.case.closing = True
            return False
        return close

    def nothing(eng, ctx, agent, decision_id):
        return False
    return nothing


def compile_actions(actions: tuple[Action, ...]) -> tuple[tuple[str, Step], ...]:
    """(kind, step) per action, in order."""
    return tuple((a.kind, _step(a)) for a in actions)


def run_steps(eng: Engine, ctx: EventCtx, steps: tuple[tuple[str, Step], ...], agent: str | None,
              decision_id: str | None, errors: list[str]) -> bool:
    """Perform compiled actions in order; returns True when they escalated the case."""
    escalated = False
    for n, (kind, step) in enumerate(steps, 1):
        try:
            if step(eng, ctx, agent, decision_id):
                escalated = True
        except EvaluationError as err:
            message = f"action {n} ({kind}) failed: {err.message}"
            errors.append(message)
            eng.escalate(ctx, agent, decision_id, None, None, message, "error")
            escalated = True
    return escalated


#: compiled actions of the plans in use, by the identity of their tuple (plans are immutable and hold them)
_COMPILED: dict[int, tuple] = {}


def run_actions(eng: Engine, ctx: EventCtx, actions: tuple[Action, ...], *, agent: str | None,
                decision_id: str | None, errors: list[str]) -> bool:
    """Perform actions in order; returns True when they escalated the case."""
    entry = _COMPILED.get(id(actions))
    if entry is None or entry[0] is not actions:
        if len(_COMPILED) >= 1024:
            _COMPILED.clear()
        entry = _COMPILED[id(actions)] = (actions, compile_actions(actions))
    return run_steps(eng, ctx, entry[1], agent, decision_id, errors)


def outbox_json(record: dict) -> str:
    return to_json(record)
