"""The engine's core: a deterministic function of (plan, events) → log rows.

`Engine.process` takes one raw event at a time and appends rows to `Engine.rows`;
all mutable state lives in `Engine.state`, which can be checkpointed and
restored. No clock, randomness or I/O is touched here: sources and the log
writer sit outside (see `accord.engine.runner`), so the same code can run
partitioned by case key and the logs be merged.
"""

from __future__ import annotations

import datetime as dt
import heapq
import re
from hashlib import blake2b as _blake2b
from typing import Any

from orjson import dumps as _dumps

from accord.dsl.expr import EvaluationError
from accord.dsl.expr.values import FIXED_ZONES, at_fixed_offset, type_name
from accord.dsl.plan import Agent, Plan
from accord.engine import agents as agent_runs
from accord.engine.actions import run_actions
from accord.engine.context import EventCtx
from accord.engine.records import _OPTS as _JOPTS
from accord.engine.records import Rows, to_json
from accord.engine.records import _default as _jdefault
from accord.engine.runners import compile_agent
from accord.engine.state import Case, Clock, State

_OPEN, _RESOLVED, _ESCALATED, _CLOSED = "open", "resolved", "escalated", "closed"
_ZERO = dt.timedelta(0)


_ZONES = FIXED_ZONES  # one tzinfo per offset, shared with `timestamp()` and reference data (see there)
_DIGITS = frozenset("0123456789")
_fromisoformat = dt.datetime.fromisoformat
#: date T time with seconds, optional fraction, then `Z` or `±hh:mm` (no offset: the policy's timezone)
_rfc3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:\d\d)?").fullmatch
_combine = dt.datetime.combine


def _kind(value: Any) -> str:
    """A value's type as the policy's language names it, for dead-event reasons."""
    return "null" if value is None else type_name(value)


def parse_time(value: Any, tz: dt.tzinfo | None) -> dt.datetime:
    """RFC 3339 (or a datetime); without an offset it is read in the policy's timezone."""
    if isinstance(value, str):
        text = value
        if text[-1:] not in _DIGITS or text[:1] not in _DIGITS:  # else there is nothing to strip or replace
            text = text.strip()
            if text.endswith(("Z", "z")):
                text = text[:-1] + "+00:00"
        try:
            if _rfc3339(text) is None:  # `fromisoformat` also takes dates, week dates, hours without minutes...
                raise ValueError
            t = _fromisoformat(text)
        except ValueError:
            raise ValueError(f"'time' is not an RFC 3339 timestamp: '{value}'") from None
        zone = t.tzinfo
        if type(zone) is dt.timezone:  # an offset from the text (fromisoformat gives no name)
            offset = zone.utcoffset(None)
            shared = _ZONES.get(offset)
            if shared is None:
                if len(_ZONES) < 4096:
                    _ZONES[offset] = zone
            elif shared is not zone:
                t = t.astimezone(shared)  # the same fields (the same offset); `replace` costs four times more
    elif isinstance(value, dt.datetime):
        t = value
    else:
        raise ValueError(f"'time' must be a string, got {_kind(value)}")
    if t.tzinfo is None:
        if tz is None:
            raise ValueError(f"'time' '{value}' has no offset and the policy sets no timezone")
        t = _combine(t, t.time(), tz)  # `t.replace(tzinfo=tz)` (fold included), in a fifth of the time
        if type(tz) is not dt.timezone:  # a named zone: a 2h SLA across a DST change must be 2h, not 1h or 3h
            t = at_fixed_offset(t)
    return t


#: The deadline of a clock started so late that its real one is past what a datetime holds: never reached.
_NEVER = dt.datetime.max.replace(tzinfo=dt.timezone.utc)

#: The memory root of an agent or negotiation that has none yet in a case. Shared by every scope: nothing
#: mutates a memory root in place except `set` actions, which work on the dict in the case's memory.
_NO_MEMORY: dict = {}
_TYPE_PLANS_MAX = 4096  # event types whose plan is kept (a feed with unbounded type names must not grow memory)


def _input_paths(agent: Agent) -> tuple[tuple, tuple]:
    """An agent's input paths split into (its own, the others'), each as (root, path, key)."""
    own, others = [], []
    for root, path in agent.input_paths:
        (own if root == agent.name else others).append((root, tuple(path), ".".join((root, *path))))
    return tuple(own), tuple(others)


def _compile_capture(paths: tuple[tuple[str, tuple[str, ...], str], ...]):
    """A function (scope, into) → into that adds the values of `paths` found in the scope, in path order.

    `capture_inputs` runs on every decision with the log on, so each agent's input paths become straight-line
    code once (each root fetched once, no loop over parts). As in `accord.dsl.expr.codegen`, names and keys
    reach the code as constants of its namespace, never as text.
    """
    ns: dict[str, Any] = {"_isdict": dict}
    body: list[str] = []
    roots: dict[str, str] = {}
    for n, (root, path, key) in enumerate(paths):
        r = roots.get(root)
        if r is None:
            r = roots[root] = f"_r{len(roots)}"
            ns[f"_kr{r}"] = root
            body.append(f"    {r} = scope.get(_kr{r})")
            body.append(f"    {r}d = isinstance({r}, _isdict)")
        ns[f"_key{n}"] = key
        if not path:
            body.append(f"    if _kr{r} in scope:")
            body.append(f"        into[_key{n}] = {r}")
            continue
        ns[f"_p{n}_0"] = path[0]
        body.append(f"    if {r}d and _p{n}_0 in {r}:")
        indent = "        "
        value = f"{r}[_p{n}_0]"
        for i, part in enumerate(path[1:], 1):
            ns[f"_p{n}_{i}"] = part
            body.append(f"{indent}_v = {value}")
            body.append(f"{indent}if isinstance(_v, _isdict) and _p{n}_{i} in _v:")
            indent += "    "
            value = f"_v[_p{n}_{i}]"
        body.append(f"{indent}into[_key{n}] = {value}")
    body.append("    return into")
    src = "def capture(scope, into):\n" + "\n".join(body) + "\n"
    exec(compile(src, "<accord inputs>", "exec"), ns)
    return ns["capture"]


class Engine:
    """Runs a plan over events; `rows` fills with log rows, `state` holds everything else.

    Everything that depends only on the plan is worked out once, here: per agent a runner specialised to
    what the agent uses (accord.engine.runners.compile_agent) and its input capture as straight-line code;
    per event type (on first sight) which agents it may activate, which clocks it starts and stops.
    """

    def __init__(self, plan: Plan, run_id: str = "run", *, logging: bool = True, state: State | None = None):
        self.plan = plan
        self.run_id = run_id
        self.state = state or State()
        # decisions and negotiations taken since the current input record began, its raised events and the
        # SLA timers it fired included: `position`, so that `ORDER BY seq, position` is the order they ran in
        self._position = 0
        self._raise_targets: dict[str, tuple[str, ...]] = {}
        self.raised_events = 0  # internal events raised since the current input record (or timer) began
        self.rows = Rows()
        self._consts = dict(plan.constants)
        self._sla_by_name = {s.name: s for s in plan.slas}
        self._hash = plan.policy_hash
        self._names = (*plan.negotiations, *(a.name for a in plan.agents))  # the scope's memory roots, in order
        self._name_set = frozenset(self._names)
        # a new scope is a copy of this one with the event's values put in (key order as the scope always had)
        self._scope_base = {"event": None, "const": self._consts, "now": None, "data": plan.tables,
                            **dict.fromkeys(self._names, _NO_MEMORY), "case": None}
        self._key_scope = {"event": None, "const": self._consts, "now": None}
        self._sla_starts: dict[str, tuple] = {}
        self._stop_types = frozenset(t for s in plan.slas for t in s.stop)
        for sla in plan.slas:
            for t in sla.start:
                self._sla_starts[t] = (*self._sla_starts.get(t, ()), sla)
        self._tz = plan.timezone
        self._version = plan.version
        self._key_fn = plan.case_key.fn
        self._approval_type = plan.approval_type
        self._closes_on = plan.closes_on
        self._agents_for = plan.agents_for
        self._captures = {a.name: tuple(map(_compile_capture, _input_paths(a))) for a in plan.agents}
        self.logging = logging  # compiles the agents' runners

    @property
    def logging(self) -> bool:
        return self._logging

    @logging.setter
    def logging(self, on: bool) -> None:
        """Runners are compiled for one setting of the log, so changing it compiles them again."""
        self._logging = on
        self._runners = {a.name: compile_agent(self, a) for a in self.plan.agents}
        self._type_plans: dict[str, tuple] = {}

    def _type_plan(self, etype: str) -> tuple:
        """(is the approval type, SLAs it starts, does it stop any, does it close the case, agent steps).

        The steps are (runner, `after` as a set or None) for the agents `agents_for` gives, minus those whose
        `after` names no agent that could have committed before them on this event: only agents run on it
        commit on it (an approval also commits the held agent, so nothing is left out for that type).
        """
        approval = etype == self._approval_type
        steps = tuple((self._runners[agent.name], frozenset(agent.after) if agent.after else None)
                      for agent in self._activatable(etype))
        entry = (approval, self._sla_starts.get(etype, ()), etype in self._stop_types, etype in self._closes_on,
                 steps)
        if len(self._type_plans) < _TYPE_PLANS_MAX:
            self._type_plans[etype] = entry
        return entry

    def _activatable(self, etype: str) -> list[Agent]:
        """The agents an event of this type may run, in order (see `_type_plan`)."""
        approval = etype == self._approval_type
        agents = []
        may_commit: set[str] = set()
        for agent in self._agents_for(etype):
            if agent.after and not approval and may_commit.isdisjoint(agent.after):
                continue
            agents.append(agent)
            may_commit.add(agent.name)
        return agents

    def raise_targets(self, etype: str) -> tuple[str, ...]:
        """The agents a raised event of this type may run: the targets of its `raise` interaction edges."""
        targets = self._raise_targets.get(etype)
        if targets is None:
            targets = tuple(a.name for a in self._activatable(etype))
            if len(self._raise_targets) < _TYPE_PLANS_MAX:
                self._raise_targets[etype] = targets
        return targets

    # ----- input ---------------------------------------------------------------------------------
    def process(self, raw) -> None:
        """One record from a source (`accord.engine.sources.RawEvent`)."""
        st = self.state
        st.events_in += 1
        seq = raw.position + 1
        st.position = seq
        self._position = 0
        if raw.error is not None:
            return self._dead(seq, raw, None, raw.error)
        data = raw.data
        etype = data.get("type")
        if not isinstance(etype, str) or not etype:
            why = "no 'type' field" if etype is None else f"'type' must be a non-empty string, got {to_json(etype)}"
            return self._dead(seq, raw, None, why)
        eid = data.get("id", raw.ref)
        if type(eid) is not str:
            if isinstance(eid, bool) or not isinstance(eid, (str, int)):
                return self._dead(seq, raw, None, "'id' must be a string")
            eid = str(eid)
        time = None
        if "time" in data:
            try:
                time = parse_time(data["time"], self._tz)
            except ValueError as err:
                return self._dead(seq, raw, eid, str(err))
        elif self.plan.slas:
            return self._dead(seq, raw, eid, "no 'time' field, which this policy needs for its SLAs")
        event = dict(data)
        event["id"] = eid  # the id the log uses, also when the event carries none
        if time is not None:
            event["time"] = time
        key_scope = self._key_scope
        key_scope["event"] = event
        key_scope["now"] = time
        try:
            key = self._key_fn(key_scope)
        except EvaluationError as err:
            return self._dead(seq, raw, eid, f"case key '{self.plan.case_key.source}' failed: {err.message}")
        if type(key) is str:
            case_id = key
        elif isinstance(key, bool) or not isinstance(key, (str, int)):
            return self._dead(seq, raw, eid, f"case key must be a string or int, got {_kind(key)}")
        else:
            case_id = str(key)
        if time is not None and (st.watermark is None or time > st.watermark):
            if st.timers and st.timers[0][0] < time:
                self._fire_timers(time)
            st.watermark = time
        elif st.timers and st.watermark is not None and st.timers[0][0] < st.watermark:
            # a clock started by a late event can have a deadline the watermark passed already
            self._fire_timers(st.watermark)
        case = st.cases.get(case_id)
        if case is None:
            case = Case(id=case_id, opened_at=time, instance=seq)
            st.cases[case_id] = case
        case.events += 1
        case.last_event = event
        if self._logging:
            self.rows.events.append((self.run_id, seq, eid, case_id, etype, time, raw.raw, "ok", None, None))
        self.raised_events = 0
        self._handle(case, event, eid, etype, time, seq, 0)
        if case.closing:
            self._close(case, time)

    def _dead(self, seq: int, raw, eid: str | None, reason: str) -> None:
        self.state.events_dead += 1
        if self._logging:
            data = raw.data if isinstance(raw.data, dict) else None
            etype = data.get("type") if data and isinstance(data.get("type"), str) else None
            self.rows.events.append(
                (self.run_id, seq, eid or raw.ref, None, etype, None, None, "dead", reason, raw.raw)
            )

    # ----- one event in its case -----------------------------------------------------------------
    def _scope(self, case: Case, event: dict, time: dt.datetime | None) -> dict:
        scope = self._scope_base.copy()
        memory = case.memory
        if memory:
            if memory.keys() <= self._name_set:
                scope.update(memory)
            else:  # a resumed state may hold memory of agents this plan no longer has: not in the scope
                for name in self._names:
                    if name in memory:
                        scope[name] = memory[name]
        scope["event"] = event
        scope["now"] = time
        opened = case.opened_at
        scope["case"] = {"id": case.id, "status": case.status, "outcome": case.outcome, "opened_at": opened,
                         "age": (time - opened) if (time is not None and opened is not None) else _ZERO,
                         "events": case.events}
        return scope

    def _handle(self, case: Case, event: dict, eid: str, etype: str, time, seq: int, depth: int) -> None:
        approval, starts, stops, closes, steps = self._type_plans.get(etype) or self._type_plan(etype)
        # The scope is built when the first agent (or an approval) needs it: an event that activates no agent
        # never pays for it, nor for its context. Nothing the scope holds changes before then (starting a clock
        # is not in the scope).
        ctx = None
        if approval:
            ctx = EventCtx(case, event, eid, etype, time, seq, depth, self._scope(case, event, time))
            settled = agent_runs.settle_approval(self, ctx)
            if settled is not None:  # its settlement is its decision on this event: it does not run again on it
                skip = self._runners[settled]
                steps = tuple(step for step in steps if step[0] is not skip)
        if starts and time is not None:
            for sla in starts:
                if sla.name not in case.clocks and sla.name not in case.ended_slas:
                    self._start_clock(case, sla, time)
        if steps:
            if ctx is None:
                ctx = EventCtx(case, event, eid, etype, time, seq, depth, None)
                # every agent run makes a decision id (`id_prefix`, inline)
                ctx.id_prefix = f"{self._hash}\x1f{case.id}\x1f{case.instance}\x1f{seq}\x1f{eid}\x1f"
            committed = ctx.committed
            for runner, after in steps:
                if after is not None and committed.isdisjoint(after):
                    continue
                if ctx.scope is None:
                    ctx.scope = self._scope(case, event, time)
                runner(ctx)
        if stops and case.clocks:
            for sla_name in [n for n in case.clocks if etype in self._sla_by_name[n].stop]:
                self._end_clock(case, sla_name, time)
        if closes:
            case.closing = True
        if ctx is not None and ctx.raised:
            self._drain_raised(ctx)

    def _drain_raised(self, ctx: EventCtx) -> None:
        for n, fields in enumerate(ctx.raised, ctx.raise_count + 1):
            etype = fields.get("type")
            eid = f"{ctx.event_id}/{n}"
            event = dict(fields)
            event["id"] = eid
            if ctx.time is not None:
                event["time"] = ctx.time
            self._handle(ctx.case, event, eid, etype, ctx.time, ctx.seq, ctx.depth + 1)
        ctx.raise_count += len(ctx.raised)
        ctx.raised = []

    # ----- what agents and actions call ----------------------------------------------------------
    def id_prefix(self, ctx: EventCtx) -> str:
        """The part of the text `stable_id(policy_hash, case id, instance, seq, event id, agent, position)`
        hashes for a decision (or negotiation) id that all of one event's share; kept on the context."""
        case = ctx.case
        prefix = ctx.id_prefix = f"{self._hash}\x1f{case.id}\x1f{case.instance}\x1f{ctx.seq}\x1f{ctx.event_id}\x1f"
        return prefix

    def new_decision_id(self, ctx: EventCtx, agent: str) -> str:
        # the text `stable_id(...)` hashes, built directly
        prefix = ctx.id_prefix or self.id_prefix(ctx)
        ctx.positions = self._position = self._position + 1
        return _blake2b(f"{prefix}{agent}\x1f{ctx.positions}".encode(), digest_size=10).hexdigest()

    def take_position(self) -> int:
        """The next position of the current input record (see `_position`)."""
        self._position += 1
        return self._position

    def capture_inputs(self, ctx: EventCtx, agent: Agent, *, own: bool) -> dict | None:
        """The values an agent's expressions read. Its own outputs are taken before it runs (what its
        guards saw); everything else when the decision is recorded (after any negotiation it ran)."""
        if not self._logging:
            return None
        return self._captures[agent.name][0 if own else 1](ctx.scope, {})

    def commit(self, ctx: EventCtx, agent: str, outputs: dict, *, committed: bool = True) -> None:
        case = ctx.case
        case.memory[agent] = outputs
        ctx.scope[agent] = outputs
        if committed:
            ctx.committed.add(agent)
            if case.held:  # a newer decision makes a held one stale: no later approval commits it
                case.held.pop(agent, None)

    def record(self, ctx: EventCtx, agent: Agent, decision_id: str, *, rule, outcome, reason, outputs, trace, checks,
               escalated, held, approved_by, error, negotiation_id, inputs: dict | None = None) -> None:
        case = ctx.case
        last = case.last_decision
        previous = last.get(agent.name)
        last[agent.name] = decision_id
        if not self._logging:
            return
        # its own inputs first (taken before it ran), then the others' (disjoint: their roots differ)
        seen = self._captures[agent.name][1](ctx.scope, dict(inputs) if inputs else {})
        if isinstance(outcome, list):
            outcome = to_json(outcome)
        run_id = self.run_id
        # JSON columns as text (see accord.engine.runners._js for why not orjson's bytes)
        self.rows.decisions.append((
            decision_id, run_id, ctx.seq, case.id, ctx.event_id, ctx.time, agent.name, agent.role, agent.owner,
            rule, outcome, reason, "null" if outputs is None else to_json(outputs), to_json(seen), to_json(trace),
            to_json(checks) if checks else "[]", escalated, held,
            approved_by, error, previous, self._version, case.opened_at, negotiation_id, ctx.positions,
        ))
        memory = case.memory
        for other in agent.read_agents:
            if memory.get(other):
                self.rows.interactions.append((run_id, case.id, ctx.event_id, decision_id, agent.name, other, "read"))

    def escalate(self, ctx: EventCtx, agent: str | None, decision_id: str | None, queue, priority, reason,
                 source: str) -> None:
        case = ctx.case
        if case.status != _CLOSED:
            case.status = _ESCALATED
            ctx.scope["case"]["status"] = _ESCALATED
        if self._logging:
            self.rows.escalations.append(
                (self.run_id, case.id, ctx.event_id, decision_id, agent, queue, priority, reason, source))

    def resolve(self, ctx: EventCtx, label: str) -> None:
        case = ctx.case
        case.outcome = label
        if case.status == _OPEN:
            case.status = _RESOLVED
        ctx.scope["case"].update(status=case.status, outcome=label)
        for name in list(case.clocks):
            self._end_clock(case, name, ctx.time)

    def emit(self, ctx: EventCtx, decision_id: str | None, record: dict) -> None:
        st = self.state
        st.outbox_seq += 1
        if self._logging:
            self.rows.outbox.append((self.run_id, st.outbox_seq, ctx.case.id, ctx.event_id, decision_id,
                                     _dumps(record, default=_jdefault, option=_JOPTS).decode()))

    # ----- SLAs ----------------------------------------------------------------------------------
    def _start_clock(self, case: Case, sla, time: dt.datetime) -> None:
        try:
            deadline = time + sla.within
            at_risk = time + sla.within * sla.at_risk if sla.at_risk is not None else None
        except OverflowError:  # a start near year 9999: the deadline cannot be reached in event time
            deadline = _NEVER
            at_risk = None
        case.clocks[sla.name] = Clock(sla.name, time, deadline, at_risk)
        st = self.state
        if at_risk is not None:
            st.timer_order += 1
            heapq.heappush(st.timers, (at_risk, st.timer_order, case.id, case.instance, sla.name, "at_risk"))
        st.timer_order += 1
        heapq.heappush(st.timers, (deadline, st.timer_order, case.id, case.instance, sla.name, "breach"))

    def _end_clock(self, case: Case, name: str, time: dt.datetime | None, *, pending: bool = False) -> None:
        clock = case.clocks.pop(name)
        case.ended_slas.append(name)
        status = clock.status if clock.status == "breached" else ("pending" if pending else "met")
        if self._logging:
            at_risk = clock.at_risk_at if clock.at_risk_fired else None
            self.rows.slas.append((self.run_id, case.id, name, clock.started_at, clock.deadline, at_risk,
                                   None if pending else time, status, case.opened_at))

    def _fire_timers(self, until: dt.datetime) -> None:
        """Fire every timer whose deadline the new watermark passes, in deadline order."""
        st = self.state
        while st.timers and st.timers[0][0] < until:
            when, _, case_id, instance, name, kind = heapq.heappop(st.timers)
            case = st.cases.get(case_id)
            if case is None or case.instance != instance:
                continue
            clock = case.clocks.get(name)
            if clock is None or clock.status != "running":
                continue
            sla = self._sla_by_name[name]
            event = case.last_event or {}
            eid = f"{event.get('id', case_id)}/sla:{name}:{kind}"
            # the input record whose time fired it: its seq (the timer runs before that record is handled)
            ctx = EventCtx(case, event, eid, f"sla_{kind}", when, st.position, 0, self._scope(case, event, when))
            ctx.scope["sla"] = {"name": name, "started_at": clock.started_at, "deadline": clock.deadline,
                                "within": sla.within, "status": "at_risk" if kind == "at_risk" else "breached"}
            errors: list[str] = []
            self.raised_events = 0
            if kind == "at_risk":
                clock.at_risk_fired = True
                run_actions(self, ctx, sla.on_at_risk, agent=None, decision_id=None, errors=errors)
            else:
                clock.status = "breached"
                if not any(a.kind == "escalate" for a in sla.on_breach):
                    self.escalate(ctx, None, None, None, None, f"sla '{name}' breached", "sla")
                run_actions(self, ctx, sla.on_breach, agent=None, decision_id=None, errors=errors)
            self._drain_raised(ctx)
            if case.closing:
                self._close(case, when)

    # ----- case end ------------------------------------------------------------------------------
    def _close(self, case: Case, time: dt.datetime | None) -> None:
        for name in list(case.clocks):
            self._end_clock(case, name, time)
        case.status = _CLOSED
        self._case_row(case, time)
        del self.state.cases[case.id]

    def _case_row(self, case: Case, closed_at: dt.datetime | None) -> None:
        if self._logging:
            self.rows.cases.append((self.run_id, case.id, case.opened_at, closed_at, case.status, case.outcome,
                                    case.events))

    def finish(self) -> None:
        """End of input: running clocks are pending, open cases are logged as they stand."""
        st = self.state
        if st.timers and st.watermark is not None and st.timers[0][0] < st.watermark:
            self._fire_timers(st.watermark)  # deadlines the watermark passed already (late starts)
        for case in list(self.state.cases.values()):
            for name in list(case.clocks):
                self._end_clock(case, name, None, pending=True)
            self._case_row(case, None)
