"""`accord audit`: escalation and resolution rates, SLA breaches, decision variance, anomalies."""

from __future__ import annotations

import enum

import typer


class AuditFormat(str, enum.Enum):
    table = "table"
    json = "json"


def register(command) -> None:
    @command("audit")
    def audit(
        db: str = typer.Option(..., "--db", help="the DuckDB log file"),
        run_id: str = typer.Option(None, "--run", help="the run to audit (default: the latest)"),
        format: AuditFormat = typer.Option(AuditFormat.table, "--format", "-f", help="table or json"),
        window: str = typer.Option(None, "--window", "-w", show_default=False,
                                   help="anomaly window of event time, e.g. 15m, 1h, 1d "
                                        "[default: 1h, shortened for a short run]"),
        min_decisions: int = typer.Option(10, "--min-decisions", min=1,
                                          help="decisions a window needs to be tested for anomalies"),
        alpha: float = typer.Option(0.01, "--alpha", min=0.0, max=1.0,
                                    help="significance level of the anomaly test, after Bonferroni correction"),
        examples: int = typer.Option(3, "--examples", min=1, help="decision ids listed per outcome of a variance group"),
    ) -> None:
        """How a run's decisions fared: rates by agent, rule and queue; SLAs; variance; anomalies."""
        from accord.governance import audit as au
        from accord.governance.logs import open_log, pick_run
        from accord.governance.render import to_json

        settings = au.AnomalySettings(window=_window(window), min_decisions=min_decisions, alpha=alpha)
        con = open_log(db)
        try:
            run = pick_run(con, db, run_id)
            report = au.audit(con, run, settings, examples=examples)
        finally:
            con.close()
        typer.echo(to_json(report) if format == AuditFormat.json else au.render_table(report).rstrip())


def _window(text: str | None):
    """--window as a positive duration; None keeps the adaptive default."""
    if text is None:
        return None
    from datetime import timedelta

    from accord.dsl.expr.values import parse_duration
    from accord.errors import UsageError

    try:
        value = parse_duration(text.strip())
    except ValueError:
        value = None
    if value is None or value <= timedelta(0):
        raise UsageError(f"--window '{text}' is not a positive duration", help="give one such as 15m, 1h, 1h30m or 2d")
    return value
