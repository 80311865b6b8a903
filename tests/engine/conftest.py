"""Run small inline policies over inline events and read the real DuckDB log back."""

from __future__ import annotations

import textwrap

import duckdb
import orjson
import pytest

from accord.api import Engine
from accord.dsl import load_policy

HEADER = """\
accord: 1
policy: t
version: "1"
owner: ops
"""


class Outcome:
    def __init__(self, engine: Engine):
        self.engine = engine

    def rows(self, sql: str, params=None) -> list[dict]:
        return self.engine.query(sql, params)

    def decisions(self, agent: str | None = None) -> list[dict]:
        sql = "SELECT * FROM decisions" + (" WHERE agent = ?" if agent else "") + " ORDER BY seq, position"
        out = self.rows(sql, [agent] if agent else None)
        for d in out:
            for k in ("outputs", "inputs", "trace", "constraints"):
                d[k] = orjson.loads(d[k]) if isinstance(d[k], str) else d[k]
        return out

    def outcomes(self, agent: str) -> list:
        return [d["outcome"] for d in self.decisions(agent)]

    def case(self, case_id: str) -> dict:
        rows = self.rows("SELECT * FROM cases WHERE case_id = ? ORDER BY opened_at", [case_id])
        assert rows, f"no case {case_id}"
        return rows[-1]

    def outbox(self) -> list[dict]:
        return [orjson.loads(r["record"]) for r in self.rows("SELECT record FROM outbox ORDER BY seq")]

    def escalations(self) -> list[dict]:
        return self.rows("SELECT * FROM escalations ORDER BY rowid")

    def events(self) -> list[dict]:
        return self.rows("SELECT * FROM events ORDER BY seq")

    def slas(self) -> list[dict]:
        return self.rows("SELECT * FROM slas ORDER BY case_id, sla")


@pytest.fixture
def run_policy(tmp_path):
    engines = []

    def run(body: str, events: list, *, header: str = HEADER, files: dict | None = None) -> Outcome:
        for name, text in (files or {}).items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        policy = tmp_path / "policy.yaml"
        policy.write_text(header + textwrap.dedent(body))
        engine = Engine(load_policy(policy), db=str(tmp_path / f"log{len(engines)}.duckdb"))
        engines.append(engine)
        engine.run(events)
        return Outcome(engine)

    yield run
    for e in engines:
        e.close()


#: columns two runs of the same policy over the same events may differ in (language section 9)
WALL_CLOCK = {"run_id", "started_at", "finished_at"}


def _log_rows(db, table: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall() if r[0] not in WALL_CLOCK]
        return sorted(con.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall(), key=repr)


@pytest.fixture
def log_rows():
    """`log_rows(db, table)`: a log file's rows of one table without its wall-clock columns, in a fixed order,
    for comparing the logs of two runs."""
    return _log_rows
