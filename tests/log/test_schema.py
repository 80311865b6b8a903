"""The DDL, log_schema.COLUMNS and the column order the engine relies on must agree."""

from __future__ import annotations

import duckdb

from accord.engine.log_arrow import ARROW_SCHEMAS
from accord.engine.log_schema import COLUMNS, TABLES, TYPES, VIEWS, column_index, ddl

# the contract the engine builds its row tuples against (docs/log.md)
EXPECTED = {
    "runs": "run_id policy policy_version policy_hash mode source started_at finished_at events_in events_dead status accord_version",
    "events": "run_id seq event_id case_id type time payload status error raw",
    "decisions": "decision_id run_id seq case_id event_id event_time agent role owner rule outcome reason outputs inputs trace "
    "constraints escalated held approved_by error supersedes policy_version case_opened_at negotiation_id position",
    "interactions": "run_id case_id event_id decision_id source_agent target_agent kind",
    "negotiations": "negotiation_id run_id case_id event_id decision_id name protocol agreed rounds outcome utility supersedes",
    "offers": "negotiation_id run_id round party offer utility response",
    "slas": "run_id case_id sla started_at deadline at_risk_at stopped_at status case_opened_at",
    "escalations": "run_id case_id event_id decision_id agent queue priority reason source",
    "outbox": "run_id seq case_id event_id decision_id record",
    "cases": "run_id case_id opened_at closed_at status outcome events",
    "checkpoints": "run_id source position outbox_seq delivered state",
}

DUCK_NAMES = {"TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE"}


def test_columns_match_the_contract():
    assert {t: " ".join(c) for t, c in COLUMNS.items()} == EXPECTED
    assert TABLES == tuple(EXPECTED)


def test_columns_match_what_duckdb_creates():
    con = duckdb.connect()
    con.execute(ddl())
    con.execute(ddl())  # idempotent: IF NOT EXISTS and OR REPLACE
    for table in TABLES:
        described = con.execute(f"DESCRIBE {table}").fetchall()
        assert tuple(r[0] for r in described) == COLUMNS[table]
        assert tuple(r[1] for r in described) == tuple(DUCK_NAMES.get(t, t) for t in TYPES[table])
    views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    assert set(VIEWS) <= views
    assert {"escalation_rates", "sla_breach_rates", "decision_outcomes"} <= set(VIEWS)


def test_one_create_per_table_and_arrow_schemas_follow():
    assert ddl().count("CREATE TABLE IF NOT EXISTS") == len(TABLES)
    for table in TABLES:
        assert tuple(ARROW_SCHEMAS[table].names) == COLUMNS[table]
    assert column_index("decisions", "escalated") == 16
