"""What one event's processing shares between agents, actions and negotiations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from accord.engine.state import Case


@dataclass
class EventCtx:
    case: Case
    event: dict  # the event as expressions see it (`time` as a timestamp)
    event_id: str
    type: str
    time: dt.datetime | None
    seq: int
    depth: int  # 0 for an input event, n for the n-th generation of `raise`
    scope: dict[str, Any]
    committed: set[str] = field(default_factory=set)
    raised: list[dict] = field(default_factory=list)
    raise_count: int = 0
    positions: int = 0  # decisions made on this event so far (for ids)

    def next_position(self) -> int:
        self.positions += 1
        return self.positions
