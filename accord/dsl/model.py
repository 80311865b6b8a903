"""The typed policy model: what the checker, the compiler and the engine read.

Frozen pydantic models, one per construct of the language, field names
mirroring the YAML keys (tuples for lists, dicts in file order). Every node
carries the `Span` of the YAML it came from, and every expression keeps its
scalar (`Expr.origin`) so a problem found at offset 12 of an expression is
reported at the exact file position, even inside a folded or quoted scalar.

Building the model from the positioned tree lives in `model_build.py`; this
module is only the shapes plus the front door `read_policy`.
"""

from __future__ import annotations

import gc
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, InstanceOf

from accord.errors import Diagnostic, Span

__all__ = [
    "Action", "Agent", "AlternatingOffers", "CaseSpec", "Constraint", "ContractNet", "Expr", "Issue", "Name",
    "Negotiation", "Otherwise", "Output", "Party", "Policy", "Rule", "Signal", "Sla", "Table",
    "build_policy", "read_policy",
]

SpanT = InstanceOf[Span]


class _Model(BaseModel):
    # defer_build: the model builder uses model_construct, so pydantic's validators are built only
    # when someone constructs or serializes a model directly (not on the `accord validate` path)
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, extra="forbid", defer_build=True)


class Name(_Model):
    """A name written in the policy (an event type, an agent in `reads`, a label), with where it is written."""

    value: str
    span: SpanT

    def __str__(self) -> str:
        return self.value


class Expr(_Model):
    """An expression or template as written. `text` is the parsed string (for a
    non-string scalar such as `true` or `0.8`, its source text); `origin` maps
    offsets in `text` back to the file and takes no part in equality."""

    text: str
    span: SpanT
    origin: Any = Field(default=None, exclude=True, repr=False)

    def span_at(self, offset: int) -> Span:
        """The file position of character `offset` of `text`."""
        if self.origin is None:
            return self.span
        return self.origin.position_of(offset)

    @property
    def is_template(self) -> bool:
        return "${" in self.text

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Expr):
            return NotImplemented
        return self.text == other.text and self.span == other.span

    def __hash__(self) -> int:
        return hash((self.text, self.span))

    def __str__(self) -> str:
        return self.text


class Output(_Model):
    """One `name: expression` of a `set`, `emit`, `raise` or `proposal`; `span` is the name's."""

    name: str
    expr: Expr
    span: SpanT


class Signal(_Model):
    """One signal of a perception agent; `span` is the name's."""

    name: str
    expr: Expr
    span: SpanT


with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*shadows an attribute.*")

    class Action(_Model):
        """One action of a `do`, `on_at_risk` or `on_breach` list."""

        kind: Literal["emit", "raise", "set", "resolve", "escalate", "close"]
        type: Name | None = None
        fields: tuple[Output, ...] = ()
        for_each: Expr | None = None
        copy: bool = False
        label: Name | None = None
        queue: Expr | None = None
        priority: Expr | None = None
        reason: Expr | None = None
        span: SpanT
        key_span: SpanT | None = None  # the action's key (`set`, `raise`, ...)


class Rule(_Model):
    """A rule of a decision or action agent; `index` is 0-based, the default name `rule_<index+1>`."""

    index: int
    name: str
    name_span: SpanT
    when: Expr | None = None
    decide: Name | None = None
    set: tuple[Output, ...] = ()
    reason: Expr | None = None
    negotiate: Name | None = None
    requires_trust: float | None = None
    priority: float | None = None
    do: tuple[Action, ...] = ()
    span: SpanT


class Otherwise(_Model):
    """What an agent does when no rule fires."""

    decide: Name | None = None
    reason: Expr | None = None
    set: tuple[Output, ...] = ()
    do: tuple[Action, ...] = ()
    span: SpanT


class Agent(_Model):
    name: str
    name_span: SpanT
    role: Literal["perception", "decision", "action"]
    owner: str
    trust: float = 1.0
    on: tuple[Name, ...] | None = None
    when: Expr | None = None
    reads: tuple[Name, ...] = ()
    after: tuple[Name, ...] = ()
    signals: tuple[Signal, ...] = ()
    hit: Literal["first", "priority", "unique", "collect"] = "first"
    on_error: Literal["escalate", "skip"] = "escalate"
    rules: tuple[Rule, ...] = ()
    otherwise: Otherwise | None = None
    span: SpanT


class CaseSpec(_Model):
    key: Expr
    closes_on: tuple[Name, ...] = ()
    approval: str = "approval"
    span: SpanT


class Table(_Model):
    """A reference table: `file` (relative to the policy file) or inline `rows`."""

    name: str
    name_span: SpanT
    file: str | None = None
    rows: tuple[dict, ...] | None = None
    key: str | None = None
    format: str | None = None
    span: SpanT


class Constraint(_Model):
    name: str
    name_span: SpanT
    applies_to: tuple[Name, ...] | None = None
    check: Expr
    on_violation: Literal["block", "escalate", "warn"] = "block"
    message: Expr | None = None
    span: SpanT


class Sla(_Model):
    """An SLA; `at_risk` is a fraction of `within` (75% → 0.75)."""

    name: str
    name_span: SpanT
    start: tuple[Name, ...]
    stop: tuple[Name, ...] = ()
    within: timedelta
    at_risk: float | None = None
    on_at_risk: tuple[Action, ...] = ()
    on_breach: tuple[Action, ...] = ()
    span: SpanT


class Party(_Model):
    """A party of an alternating-offers negotiation; `e` is None for tit_for_tat and hardliner."""

    role_name: str
    agent: Name
    strategy: Literal["boulware", "linear", "conceder", "tit_for_tat", "hardliner"]
    e: float | None = None
    reservation: float = 0.0
    span: SpanT


class Issue(_Model):
    """An issue: a numeric `range` considered at `steps` values, or a list of `options`.
    `prefs` maps each party to 'low'/'high' (range) or its option order, best first;
    `weights` maps each party to its (unnormalized) weight, 1.0 when not written."""

    name: str
    range: tuple[Expr, Expr] | None = None
    steps: int = 11
    options: tuple[Any, ...] | None = None
    prefs: dict[str, str | tuple[Any, ...]]
    weights: dict[str, float]
    span: SpanT


class AlternatingOffers(_Model):
    name: str
    name_span: SpanT
    protocol: Literal["alternating_offers"] = "alternating_offers"
    parties: dict[str, Party]
    issues: tuple[Issue, ...]
    max_rounds: int
    opens: Name
    span: SpanT


class ContractNet(_Model):
    name: str
    name_span: SpanT
    protocol: Literal["contract_net"] = "contract_net"
    manager: Name
    bidders: Expr
    eligible: Expr | None = None
    proposal: tuple[Output, ...]
    award_direction: Literal["minimize", "maximize"]
    award: Expr
    span: SpanT


Negotiation = AlternatingOffers | ContractNet


class Policy(_Model):
    """A whole policy file. `path` is the file path as given; `span` covers the file."""

    accord: int
    policy: str
    version: str
    owner: str
    description: str | None = None
    timezone: str | None = None
    case: CaseSpec
    constants: dict[str, Any] = Field(default_factory=dict)
    data: dict[str, Table] = Field(default_factory=dict)
    agents: dict[str, Agent]
    constraints: tuple[Constraint, ...] = ()
    slas: tuple[Sla, ...] = ()
    negotiations: dict[str, AlternatingOffers | ContractNet] = Field(default_factory=dict)
    path: str
    source_text: str = Field(repr=False)
    span: SpanT


def build_policy(root: Any, filename: str) -> tuple[Policy | None, list[Diagnostic]]:
    """The model of a structurally valid tree (see `check_structure`), plus the
    local consistency problems found while building it (E04xx, E06xx)."""
    from accord.dsl.model_build import build_policy as _build

    return _build(root, filename)


def read_policy(path: str | Path) -> tuple[Policy | None, list[Diagnostic]]:
    """Read, load, check the structure of and model one policy file.

    Returns the policy when a model could be built (even if some diagnostics
    are errors, so a caller can report them all) and every diagnostic found,
    sorted by position. The policy is None when the file cannot be read, is
    not YAML, or is not structurally valid.

    The cyclic garbage collector is paused meanwhile: the tree and the model are
    thousands of small objects that all stay alive, which it would only scan again
    and again (a sixth of the time for a large file).
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        return _read_policy(path)
    finally:
        if paused:
            gc.enable()


def _read_policy(path: str | Path) -> tuple[Policy | None, list[Diagnostic]]:
    from accord.dsl.loader import load_yaml, read_policy_text
    from accord.dsl.schema_check import check_structure

    filename = str(path)
    text, diags = read_policy_text(path)
    if text is None:
        return None, diags
    root, found = load_yaml(text, filename)
    diags += found
    if root is None:
        return None, sorted(diags, key=Diagnostic.sort_key)
    structure = check_structure(root, filename)
    # a YAML pitfall (E0103) also garbles the structure on its line: report the cause once
    pitfall_lines = {d.span.line for d in found if d.code == "E0103"}
    diags += [d for d in structure if d.span.line not in pitfall_lines]
    if structure:
        return None, sorted(diags, key=Diagnostic.sort_key)
    policy, found = build_policy(root, filename)
    diags += found
    return policy, sorted(diags, key=Diagnostic.sort_key)
