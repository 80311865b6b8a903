"""What one event's processing shares between agents, actions and negotiations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from accord.engine.state import Case


class EventCtx:
    """One event (input, raised, or an SLA timer) being handled in its case.

    A plain class with slots rather than a dataclass: one is made per event, and
    this is the engine's hot path.
    """

    __slots__ = ("case", "event", "event_id", "type", "time", "seq", "depth", "scope", "committed", "raised",
                 "raise_count", "positions", "id_prefix")

    def __init__(self, case: Case, event: dict, event_id: str, type: str, time: dt.datetime | None, seq: int,
                 depth: int, scope: dict[str, Any]):
        self.case = case
        self.event = event  # the event as expressions see it (`time` as a timestamp)
        self.event_id = event_id
        self.type = type
        self.time = time
        self.seq = seq
        self.depth = depth  # 0 for an input event, n for the n-th generation of `raise`
        self.scope = scope
        self.committed: set[str] = set()
        self.raised: list[dict] = []
        self.raise_count = 0
        self.positions = 0  # decisions made on this event so far (for ids)
        self.id_prefix: str | None = None  # the part of this event's decision ids' text shared by all of them

    def next_position(self) -> int:
        self.positions += 1
        return self.positions
