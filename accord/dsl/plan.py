"""The compiled plan: what the engine runs.

A plan is immutable and holds no I/O handles, so the same plan can be shipped to
worker processes and run partitioned by case key. Every expression in it is
already compiled to a Python callable taking one scope dict.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta, tzinfo
from typing import Any

from accord.errors import Span

Evaluator = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True)
class CompiledExpr:
    """One compiled expression with the static paths it reads (for `inputs`)."""

    source: str
    fn: Evaluator
    span: Span
    reads: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class Output:
    name: str
    value: CompiledExpr


@dataclass(frozen=True)
class Action:
    kind: str  # emit | raise | set | resolve | escalate | close
    span: Span
    type: str | None = None
    fields: tuple[Output, ...] = ()
    for_each: CompiledExpr | None = None
    copy: bool = False
    label: str | None = None
    queue: CompiledExpr | None = None
    priority: CompiledExpr | None = None
    reason: CompiledExpr | None = None


@dataclass(frozen=True)
class Rule:
    index: int
    name: str
    when: CompiledExpr | None
    decide: str | None
    outputs: tuple[Output, ...]
    reason: CompiledExpr | None
    negotiate: str | None
    requires_trust: float | None
    priority: float | None
    actions: tuple[Action, ...]
    span: Span


@dataclass(frozen=True)
class Constraint:
    name: str
    check: CompiledExpr
    on_violation: str  # block | escalate | warn
    message: CompiledExpr | None
    applies_to_agents: frozenset[str]
    applies_to_negotiations: frozenset[str]


@dataclass(frozen=True)
class Agent:
    name: str
    role: str  # perception | decision | action
    owner: str
    trust: float
    on: frozenset[str] | None
    when: CompiledExpr | None
    reads: tuple[str, ...]
    read_agents: tuple[str, ...]  # agents and negotiations it reads: the `read` interaction edges
    after: tuple[str, ...]
    signals: tuple[Output, ...]
    hit: str
    on_error: str
    rules: tuple[Rule, ...]  # in the order the hit policy tries them
    otherwise: Rule | None
    constraints: tuple[Constraint, ...]
    input_paths: tuple[tuple[str, tuple[str, ...]], ...]  # static paths its expressions read
    span: Span


@dataclass(frozen=True)
class Issue:
    name: str
    low: CompiledExpr | None
    high: CompiledExpr | None
    steps: int
    options: tuple[Any, ...] | None
    prefs: Mapping[str, Any]  # party → 'low' | 'high' | ordered options
    weights: Mapping[str, float]


@dataclass(frozen=True)
class Party:
    name: str
    agent: str
    strategy: str
    e: float | None
    reservation: float


@dataclass(frozen=True)
class Negotiation:
    name: str
    protocol: str  # alternating_offers | contract_net
    parties: tuple[Party, ...] = ()  # opener first
    issues: tuple[Issue, ...] = ()
    max_rounds: int = 0
    manager: str | None = None
    bidders: CompiledExpr | None = None
    eligible: CompiledExpr | None = None
    proposal: tuple[Output, ...] = ()
    award_direction: str = "minimize"
    award: CompiledExpr | None = None
    constraints: tuple[Constraint, ...] = ()


@dataclass(frozen=True)
class Sla:
    name: str
    start: frozenset[str]
    stop: frozenset[str]
    within: timedelta
    at_risk: float | None
    on_at_risk: tuple[Action, ...]
    on_breach: tuple[Action, ...]


@dataclass(frozen=True)
class Plan:
    policy: str
    version: str
    owner: str
    policy_hash: str
    path: str
    timezone: tzinfo | None
    case_key: CompiledExpr
    closes_on: frozenset[str]
    approval_type: str
    constants: Mapping[str, Any]
    tables: Mapping[str, Any]  # name → dict keyed by the key column, or a list of rows
    agents: tuple[Agent, ...]  # evaluation order: role, then reads, then declaration
    negotiations: Mapping[str, Negotiation]
    slas: tuple[Sla, ...]
    agents_by_type: Mapping[str, tuple[Agent, ...]] = field(default_factory=dict)
    agents_any_type: tuple[Agent, ...] = ()

    def agents_for(self, event_type: str) -> tuple[Agent, ...]:
        """Agents an event of this type may activate, in evaluation order."""
        return self.agents_by_type.get(event_type, self.agents_any_type)

    def agent(self, name: str) -> Agent:
        for a in self.agents:
            if a.name == name:
                return a
        raise KeyError(name)
