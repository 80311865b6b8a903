"""Actions (`do`, `on_at_risk`, `on_breach`): outbox records, internal events,
outputs, and case status changes. An action whose expression errors is not
performed, the case is escalated (fail safe), and the next action still runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from accord.dsl.expr import EvaluationError
from accord.dsl.plan import Action
from accord.engine.context import EventCtx
from accord.engine.records import to_json

if TYPE_CHECKING:
    from accord.engine.core import Engine

MAX_RAISE_DEPTH = 16


def _items(action: Action, scope: dict) -> list[tuple[Any, Any]]:
    """(item, index) pairs for `for_each`, or one pair of Nones without it."""
    if action.for_each is None:
        return [(None, None)]
    values = action.for_each.fn(scope)
    if isinstance(values, dict):
        values = list(values)
    if not isinstance(values, list):
        raise EvaluationError(f"for_each needs a list, got {type(values).__name__}")
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


def run_actions(eng: Engine, ctx: EventCtx, actions: tuple[Action, ...], *, agent: str | None,
                decision_id: str | None, errors: list[str]) -> bool:
    """Perform actions in order; returns True when they escalated the case."""
    escalated = False
    scope = ctx.scope
    case = ctx.case
    for n, action in enumerate(actions, 1):
        try:
            kind = action.kind
            if kind == "emit":
                for record in _fields(action, scope):
                    eng.emit(ctx, decision_id, record)
            elif kind == "raise":
                records = _fields(action, scope)
                if ctx.depth + 1 > MAX_RAISE_DEPTH:
                    raise EvaluationError(f"raise of '{action.type}' is more than {MAX_RAISE_DEPTH} deep")
                for record in records:
                    base = dict(ctx.event) if action.copy else {}
                    base.pop("id", None)
                    base.update(record)
                    ctx.raised.append(base)
                    if eng.logging and agent is not None:
                        eng.rows.interactions.append((eng.run_id, case.id, ctx.event_id, decision_id, agent,
                                                      action.type, "raise"))
            elif kind == "set":
                values = {f.name: f.value.fn(scope) for f in action.fields}
                if agent is not None:  # in place: the decision record shows the outputs `set` added
                    memory = case.memory.setdefault(agent, {})
                    memory.update(values)
                    scope[agent] = memory
            elif kind == "resolve":
                eng.resolve(ctx, action.label)
            elif kind == "escalate":
                eng.escalate(ctx, agent, decision_id, render(action.queue, scope), render(action.priority, scope),
                             render(action.reason, scope), "action" if agent is not None else "sla")
                escalated = True
            elif kind == "close":
                case.closing = True
        except EvaluationError as err:
            what = f"action {n} ({action.kind})"
            message = f"{what} failed: {err.message}"
            errors.append(message)
            eng.escalate(ctx, agent, decision_id, None, None, message, "error")
            escalated = True
    return escalated


def outbox_json(record: dict) -> str:
    return to_json(record)
