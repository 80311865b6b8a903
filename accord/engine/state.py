"""The engine's whole mutable state, as plain data that can be checkpointed.

Everything a run needs to continue lives here — open cases, their agents'
memory, SLA clocks and timers, held decisions, counters — so `accord run` can
commit it with the log in one transaction and `--resume` can pick up exactly
where a killed run stopped. The serializer is tagged JSON, not pickle: a log
file handed around for audit must never be able to run code when resumed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import orjson

from accord.dsl.expr import EvaluationError


@dataclass
class Clock:
    sla: str
    started_at: dt.datetime
    deadline: dt.datetime
    at_risk_at: dt.datetime | None
    status: str = "running"  # running | breached
    at_risk_fired: bool = False


@dataclass
class Held:
    """A decision the autonomy gate holds until an approval event settles it."""

    decision_id: str
    rule: str
    rules: list[str]
    label: Any
    outputs: dict[str, Any]
    reason: str | None


@dataclass
class Case:
    id: str
    opened_at: dt.datetime | None
    status: str = "open"
    outcome: str | None = None
    events: int = 0
    memory: dict[str, dict] = field(default_factory=dict)
    last_decision: dict[str, str] = field(default_factory=dict)
    last_negotiation: dict[str, str] = field(default_factory=dict)
    held: dict[str, Held] = field(default_factory=dict)
    clocks: dict[str, Clock] = field(default_factory=dict)
    ended_slas: list[str] = field(default_factory=list)  # SLAs whose clock already ended in this case
    last_event: dict | None = None
    instance: int = 0  # seq of the input event that opened it: tells apart two openings of one id
    closing: bool = False  # a closes_on event or `close` action: close once the input event is done


@dataclass
class State:
    cases: dict[str, Case] = field(default_factory=dict)
    watermark: dt.datetime | None = None
    timers: list[tuple] = field(default_factory=list)  # heap of (when, order, case_id, instance, sla, kind)
    timer_order: int = 0
    events_in: int = 0
    events_dead: int = 0
    position: int = 0  # records consumed from the source
    outbox_seq: int = 0
    finished: bool = False  # end of input reached and its rows committed


# ----- tagged JSON ---------------------------------------------------------------------------------

def _default(value: Any) -> Any:
    if isinstance(value, dt.timedelta):
        return {"$td": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, EvaluationError):
        return {"$err": value.message}
    if isinstance(value, bytes):
        return {"$b": value.hex()}
    if isinstance(value, tuple):
        return {"$tuple": list(value)}
    name = getattr(value, "name", None)
    if type(value).__name__ == "TypeValue" and isinstance(name, str):
        return {"$type": name}
    raise TypeError(f"cannot checkpoint a {type(value).__name__}")


def _tag_datetimes(value: Any) -> Any:
    """orjson writes datetimes as strings; tag them so they come back as datetimes."""
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, dict):
        if any(isinstance(k, str) and k.startswith("$") for k in value):
            return {"$map": [[k, _tag_datetimes(v)] for k, v in value.items()]}
        return {k: _tag_datetimes(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_tag_datetimes(v) for v in value]
    if isinstance(value, (Case, Clock, Held)):
        return {"$" + type(value).__name__: _tag_datetimes(value.__dict__)}
    return value


def _untag(value: Any) -> Any:
    if isinstance(value, list):
        return [_untag(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (k, v), = value.items()
        if k == "$dt":
            return dt.datetime.fromisoformat(v)
        if k == "$td":
            return dt.timedelta(days=v[0], seconds=v[1], microseconds=v[2])
        if k == "$err":
            return EvaluationError(v)
        if k == "$b":
            return bytes.fromhex(v)
        if k == "$tuple":
            return tuple(_untag(x) for x in v)
        if k == "$type":
            from accord.dsl.expr import type_value

            return type_value(v)
        if k == "$map":
            return {kk: _untag(vv) for kk, vv in v}
        for cls in (Case, Clock, Held):
            if k == "$" + cls.__name__:
                return cls(**_untag(v))
    return {k: _untag(v) for k, v in value.items()}


_FAST_OPTS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def dump_state(state: State) -> bytes:
    """Tagged JSON of the state (read back by `load_state`).

    The fast path lets orjson walk the state in C and write the tags through its
    `default` hook, counting them; the text is the one the Python walk
    (`_tag_datetimes`) writes unless the user's data holds a `"$` somewhere (a
    dict key starting with `$` must be wrapped as `$map`). Every tag writes
    exactly one `"$`, so when the output holds more than were written the exact
    Python walk runs instead.
    """
    body = dict(state.__dict__)
    tags = 0

    def default(value: Any) -> Any:
        nonlocal tags
        tags += 1
        if isinstance(value, dt.datetime):
            return {"$dt": value.isoformat()}
        if isinstance(value, (Case, Clock, Held)):
            return {"$" + type(value).__name__: value.__dict__}
        return _default(value)

    try:
        blob = orjson.dumps(body, default=default, option=_FAST_OPTS)
    except TypeError:
        blob = None
    if blob is not None and blob.count(b'"$') == tags:
        return blob
    body["timers"] = [list(t) for t in state.timers]
    return orjson.dumps(_tag_datetimes(body), default=_default)


def load_state(blob: bytes) -> State:
    body = _untag(orjson.loads(blob))
    body.pop("reopened", None)  # written by earlier versions
    body["timers"] = [tuple(t) for t in body["timers"]]
    return State(**body)
