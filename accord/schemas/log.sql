-- The decision log of Accord (language reference, section 9).
-- One CREATE per table, columns in the order the engine builds its row tuples;
-- accord/engine/log_schema.py mirrors these columns and a test keeps them equal.
-- JSON columns hold text made by orjson; timestamps are UTC (connections SET TimeZone='UTC').

CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR,
    policy VARCHAR,
    policy_version VARCHAR,
    policy_hash VARCHAR,
    mode VARCHAR,
    source VARCHAR,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    events_in BIGINT,
    events_dead BIGINT,
    status VARCHAR,
    accord_version VARCHAR
);

CREATE TABLE IF NOT EXISTS events (
    run_id VARCHAR,
    seq BIGINT,
    event_id VARCHAR,
    case_id VARCHAR,
    type VARCHAR,
    time TIMESTAMPTZ,
    payload JSON,
    status VARCHAR,
    error VARCHAR,
    raw VARCHAR
);

CREATE TABLE IF NOT EXISTS decisions (
    decision_id VARCHAR,
    run_id VARCHAR,
    seq BIGINT,
    case_id VARCHAR,
    event_id VARCHAR,
    event_time TIMESTAMPTZ,
    agent VARCHAR,
    role VARCHAR,
    owner VARCHAR,
    rule VARCHAR,
    outcome VARCHAR,
    reason VARCHAR,
    outputs JSON,
    inputs JSON,
    trace JSON,
    constraints JSON,
    escalated BOOLEAN,
    held BOOLEAN,
    approved_by VARCHAR,
    error VARCHAR,
    supersedes VARCHAR,
    policy_version VARCHAR,
    case_opened_at TIMESTAMPTZ,
    negotiation_id VARCHAR,
    position INTEGER
);

CREATE TABLE IF NOT EXISTS interactions (
    run_id VARCHAR,
    case_id VARCHAR,
    event_id VARCHAR,
    decision_id VARCHAR,
    source_agent VARCHAR,
    target_agent VARCHAR,
    kind VARCHAR
);

CREATE TABLE IF NOT EXISTS negotiations (
    negotiation_id VARCHAR,
    run_id VARCHAR,
    case_id VARCHAR,
    event_id VARCHAR,
    decision_id VARCHAR,
    name VARCHAR,
    protocol VARCHAR,
    agreed BOOLEAN,
    rounds INTEGER,
    outcome JSON,
    utility JSON,
    supersedes VARCHAR
);

CREATE TABLE IF NOT EXISTS offers (
    negotiation_id VARCHAR,
    run_id VARCHAR,
    round INTEGER,
    party VARCHAR,
    offer JSON,
    utility JSON,
    response VARCHAR
);

CREATE TABLE IF NOT EXISTS slas (
    run_id VARCHAR,
    case_id VARCHAR,
    sla VARCHAR,
    started_at TIMESTAMPTZ,
    deadline TIMESTAMPTZ,
    at_risk_at TIMESTAMPTZ,
    stopped_at TIMESTAMPTZ,
    status VARCHAR,
    case_opened_at TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS escalations (
    run_id VARCHAR,
    case_id VARCHAR,
    event_id VARCHAR,
    decision_id VARCHAR,
    agent VARCHAR,
    queue VARCHAR,
    priority VARCHAR,
    reason VARCHAR,
    source VARCHAR
);

CREATE TABLE IF NOT EXISTS outbox (
    run_id VARCHAR,
    seq BIGINT,
    case_id VARCHAR,
    event_id VARCHAR,
    decision_id VARCHAR,
    record JSON
);

CREATE TABLE IF NOT EXISTS cases (
    run_id VARCHAR,
    case_id VARCHAR,
    opened_at TIMESTAMPTZ,
    closed_at TIMESTAMPTZ,
    status VARCHAR,
    outcome VARCHAR,
    events BIGINT
);

CREATE TABLE IF NOT EXISTS checkpoints (
    run_id VARCHAR,
    source VARCHAR,
    position BIGINT,
    outbox_seq BIGINT,
    delivered BIGINT,
    state BLOB
);

-- Views: the questions people ask first. Rates are NULL when nothing was counted.

CREATE OR REPLACE VIEW escalation_rates AS
SELECT agent, rule,
       count(*) AS decisions,
       count(*) FILTER (WHERE escalated) AS escalated,
       count(*) FILTER (WHERE escalated) / count(*) AS rate
FROM decisions
GROUP BY agent, rule;

CREATE OR REPLACE VIEW sla_breach_rates AS
SELECT sla,
       count(*) AS clocks,
       count(*) FILTER (WHERE status = 'met') AS met,
       count(*) FILTER (WHERE status = 'breached') AS breached,
       count(*) FILTER (WHERE status = 'pending') AS pending,
       count(*) FILTER (WHERE status = 'breached')
           / nullif(count(*) FILTER (WHERE status IN ('met', 'breached')), 0) AS breach_rate
FROM slas
GROUP BY sla;

CREATE OR REPLACE VIEW decision_outcomes AS
SELECT agent, outcome, count(*) AS count
FROM decisions
GROUP BY agent, outcome;

CREATE OR REPLACE VIEW case_outcomes AS
SELECT status, outcome,
       count(*) AS cases,
       median(closed_at - opened_at) AS median_time_to_close
FROM cases
GROUP BY status, outcome;

CREATE OR REPLACE VIEW dead_events AS
SELECT run_id, seq, event_id, error, raw
FROM events
WHERE status = 'dead';

CREATE OR REPLACE VIEW run_summary AS
SELECT r.run_id, r.policy, r.policy_version, r.mode, r.source, r.status,
       r.started_at, r.finished_at, r.events_in, r.events_dead,
       (SELECT count(*) FROM decisions d WHERE d.run_id = r.run_id) AS decisions,
       (SELECT count(*) FROM escalations e WHERE e.run_id = r.run_id) AS escalations,
       (SELECT count(*) FROM cases c WHERE c.run_id = r.run_id) AS cases
FROM runs r;
