"""`accord graph`: the declared graph of a policy, or the observed graph of a logged run."""

from __future__ import annotations

import enum
from pathlib import Path

import typer


class GraphFormat(str, enum.Enum):
    text = "text"
    mermaid = "mermaid"
    dot = "dot"


def register(command) -> None:
    @command("graph")
    def graph(
        policy: Path = typer.Argument(None, help="a policy file: draw what it declares", show_default=False),
        db: str = typer.Option(None, "--db", help="a log file: draw what a run did, with counts"),
        run_id: str = typer.Option(None, "--run", help="the run to draw with --db (default: the latest)"),
        format: GraphFormat = typer.Option(GraphFormat.text, "--format", "-f", help="text, mermaid or dot"),
        constraints: bool = typer.Option(True, "--constraints/--no-constraints",
                                         help="draw constraints and what they apply to (declared graph)"),
    ) -> None:
        """Agents and their interactions: declared by a POLICY, or observed in a log with --db."""
        from accord.errors import UsageError
        from accord.governance import graph as gr

        if (policy is None) == (db is None):
            raise UsageError(
                "give a policy file or --db, not both" if policy is not None else "give a policy file or --db",
                help="accord graph POLICY draws what it declares; accord graph --db LOG what a run did",
            )
        if policy is not None:
            if run_id is not None:
                raise UsageError("--run needs --db", help="--run picks a run of the log given with --db")
            from accord.governance.policy import load_plan

            g = gr.declared_graph(load_plan(policy), constraints=constraints)
        else:
            from accord.governance.logs import open_log, pick_run

            con = open_log(db)
            try:
                run = pick_run(con, db, run_id)
                g = gr.observed_graph(con, run.run_id, f"run {run.run_id} of policy '{run.policy}' "
                                                       f"{run.policy_version}")
            finally:
                con.close()
        typer.echo(gr.render(g, format.value))

