"""Real logs for the governance commands: small inline policies run into DuckDB files,
the procurement example, and crafted logs whose decisions are written row by row."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from accord.api import IterableSource
from accord.cli import app
from accord.dsl import load_policy
from accord.engine.logdb import DuckDBLog
from accord.engine.runner import execute
from accord.engine.sources import open_source

REPO = Path(__file__).resolve().parents[2]
PROCUREMENT = REPO / "examples" / "procurement"

HEADER = """\
accord: 1
policy: t
version: "{version}"
owner: ops
"""


def write_policy(directory: Path, body: str, *, version: str = "1", name: str = "policy.yaml") -> Path:
    path = directory / name
    path.write_text(HEADER.format(version=version) + textwrap.dedent(body), encoding="utf-8")
    return path


def run_log(policy: Path, events, db: Path) -> str:
    """Dry-run `policy` over `events` (a list of dicts/strings, or a file path) into `db`; the run id."""
    plan = load_policy(policy)
    source = open_source(str(events)) if isinstance(events, (str, Path)) else IterableSource(events)
    result = execute(plan, source, db=str(db), mode="dry-run")
    result.log.close()
    return result.run_id


def cli(*args: str):
    """Invoke the typer app in-process; the result has exit_code, stdout, stderr."""
    return CliRunner().invoke(app, list(args))


def subprocess_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "accord.cli", *args], capture_output=True, text=True,
                          cwd=cwd or REPO, env=env, timeout=60)


@pytest.fixture(scope="session")
def procurement_log(tmp_path_factory) -> tuple[Path, str]:
    """The procurement example's dry run, logged once for the whole session: (db path, run id)."""
    db = tmp_path_factory.mktemp("procurement") / "log.duckdb"
    run_id = run_log(PROCUREMENT / "policy.yaml", PROCUREMENT / "events.jsonl", db)
    return db, run_id


@pytest.fixture
def procurement_copy(tmp_path) -> Path:
    """A writable copy of the procurement example (policy and data) to edit into a new version."""
    target = tmp_path / "procurement"
    shutil.copytree(PROCUREMENT, target)
    return target / "policy.yaml"


# -- crafted logs --------------------------------------------------------------------------

T0 = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.timezone.utc)


def crafted_log(path: Path, decisions: list[dict], *, run_id: str = "run1") -> Path:
    """A new log with one run holding the given decisions (missing columns get plain defaults)."""
    return crafted_runs(path, {run_id: decisions})


def crafted_runs(path: Path, runs: dict[str, list[dict]]) -> Path:
    """A new log with one run per entry; table-driven cases share a file, one run each, so the
    file is created (and checkpointed) once."""
    log = DuckDBLog.open(str(path))
    con = log.con
    cols = ("decision_id", "run_id", "seq", "case_id", "event_id", "event_time", "agent", "role", "rule",
            "outcome", "inputs", "escalated", "held", "error", "position")
    types = {"seq": pa.int64(), "position": pa.int32(), "escalated": pa.bool_(), "held": pa.bool_(),
             "event_time": pa.timestamp("us", tz="UTC")}
    rows = []
    for run_id, decisions in runs.items():
        con.execute("INSERT INTO runs (run_id, policy, policy_version, policy_hash, mode, source, started_at, "
                    "events_in, events_dead, status) VALUES (?, 't', '1', 'h', 'dry-run', 'crafted', ?, 0, 0, "
                    "'finished')", [run_id, T0])
        for i, d in enumerate(decisions, 1):
            base = {"decision_id": f"d{i}", "run_id": run_id, "seq": i, "case_id": f"c{i}", "event_id": f"e{i}",
                    "event_time": None, "agent": "a", "role": "decision", "rule": "r", "outcome": "ok",
                    "inputs": "{}", "escalated": False, "held": False, "error": None, "position": 0}
            base.update(d)
            rows.append(base)
    batch = pa.table({c: pa.array([r[c] for r in rows], type=types.get(c, pa.string())) for c in cols})
    con.register("crafted_rows", batch)
    con.execute(f"INSERT INTO decisions ({', '.join(cols)}) SELECT {', '.join(cols)} FROM crafted_rows")
    con.unregister("crafted_rows")
    log.close()
    return path


# -- structural checks of the graph formats --------------------------------------------------


def check_mermaid(text: str) -> None:
    """A flowchart header, balanced subgraph/end and brackets, and every edge's ids declared."""
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    depth = 0
    declared: set[str] = set()
    for line in lines[1:]:
        s = line.strip()
        if s.startswith("subgraph "):
            depth += 1
            continue
        if s == "end":
            depth -= 1
            assert depth >= 0
            continue
        m = re.fullmatch(r"(n\d+)(\[\"|\[\(\"|\{\{\"|\(\[\"|>\"|\(\(\")(.*?)(\"\]|\"\)\]|\"\}\}|\"\]\)|\"\)\))", s)
        if m:
            declared.add(m.group(1))
            assert '"' not in m.group(3), f"unescaped quote in {s!r}"
            continue
        e = re.fullmatch(r"(n\d+) (-->|<-->|-\.->)\|\"([^\"]*)\"\| (n\d+)", s)
        assert e, f"not a node, edge or subgraph line: {s!r}"
        assert e.group(1) in declared and e.group(4) in declared, f"edge to an undeclared node: {s!r}"
    assert depth == 0
    # brackets balance outside quoted labels, the asymmetric shape `>"label"]` opening with `>`
    outside = re.sub(r'"[^"]*"', '""', text).replace('>""]', '>""')
    for open_, close in (("[", "]"), ("{", "}"), ("(", ")")):
        assert outside.count(open_) == outside.count(close), f"unbalanced {open_}{close}"


_DOT_STRING = r'"(?:[^"\\]|\\.)*"'


def check_dot(text: str) -> None:
    """A quoted digraph with balanced braces outside strings, every edge's endpoints declared."""
    assert re.match(rf"digraph {_DOT_STRING} \{{", text)
    outside = re.sub(_DOT_STRING, '""', text)
    assert outside.count("{") == outside.count("}")
    declared = set(re.findall(rf"^\s+({_DOT_STRING}) \[label=", text, re.M))
    edges = re.findall(rf"^\s+({_DOT_STRING}) -> ({_DOT_STRING}) \[", text, re.M)
    assert edges
    for a, b in edges:
        assert a in declared and b in declared, f"edge {a} -> {b} names an undeclared node"
    assert text.rstrip().endswith("}")
