"""`accord replay`: a logged run's events under another policy, in shadow; what would change."""

from __future__ import annotations

import enum
from pathlib import Path

import typer


class ReplayFormat(str, enum.Enum):
    table = "table"
    json = "json"


def register(command) -> None:
    @command("replay")
    def replay(
        policy: Path = typer.Argument(..., help="the new policy version to replay under", show_default=False),
        db: str = typer.Option(..., "--db", help="the DuckDB log holding the run to replay"),
        run_id: str = typer.Option(None, "--run", help="the run to replay (default: the latest)"),
        format: ReplayFormat = typer.Option(ReplayFormat.table, "--format", "-f", help="table or json"),
        out: str = typer.Option(None, "--out", help="write the shadow run's log to this DuckDB file "
                                                    "(default: in memory)"),
        limit: int = typer.Option(50, "--limit", min=0,
                                  help="case and decision changes listed one by one (0: all); counts cover all"),
    ) -> None:
        """Re-run a logged run's events under POLICY in shadow (nothing dispatched) and report what changes."""
        from accord.governance import replay as rp
        from accord.governance.logs import open_log, pick_run
        from accord.governance.policy import load_plan
        from accord.governance.render import to_json

        plan = load_plan(policy)
        con = open_log(db)
        try:
            run = pick_run(con, db, run_id)
            report = rp.replay(plan, con, run, db, out=out, limit=limit)
        finally:
            con.close()
        typer.echo(to_json(report) if format == ReplayFormat.json else rp.render_table(report, limit).rstrip())
