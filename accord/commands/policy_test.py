"""`accord test FILE...`: run policy test files (language reference section 11).

Exit codes: 0 when every test passes, 1 when any fails, 2 when the command
line, a test file or a policy is wrong (nothing is run then: a test result is
only meaningful against a policy that validates).
"""

from __future__ import annotations

import enum
import os
import sys
from pathlib import Path

import typer


class ReportFormat(str, enum.Enum):
    text = "text"
    json = "json"


def register(command) -> None:
    @command("test")
    def test(
        files: list[Path] = typer.Argument(..., help="policy test files (*.test.yaml)", show_default=False),
        format: ReportFormat = typer.Option(ReportFormat.text, "--format", "-f", help="text, or json for CI"),
        name: str = typer.Option(None, "--name", "-k", help="run only the tests whose name contains this text"),
        verbose: bool = typer.Option(False, "--verbose", "-v", help="under a failing test, list what the run did"),
    ) -> None:
        """Run policy test files: each test in a fresh dry run, checked against its expectations."""
        import orjson

        from accord.testing.runner import Report, load_suites, render_text, run_suites

        paths = [str(f) for f in files]
        missing = [p for p in paths if not os.path.exists(p)]
        if missing:
            _usage(f"no test file at '{missing[0]}'", "give the path of a *.test.yaml file", format)
        dirs = [p for p in paths if os.path.isdir(p)]
        if dirs:
            _usage(f"'{dirs[0]}' is a directory, not a test file", f"pass its files: {dirs[0]}/*.test.yaml", format)
        suites, diags = load_suites(paths)
        if any(d.severity == "error" for d in diags):
            report = Report(diagnostics=diags)
            if format == ReportFormat.json:
                typer.echo(orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2).decode())
            else:
                for d in diags:
                    _err(d.render())
                n = sum(1 for d in diags if d.severity == "error")
                _err(f"{n} error{'s' if n != 1 else ''}: no test was run")
            raise typer.Exit(2)
        results = run_suites(suites, name=name, keep_outcome=verbose)
        report = Report(results, diags)
        if name and not results:
            _usage(f"no test name contains '{name}'", "drop --name to run every test", format)
        if format == ReportFormat.json:
            typer.echo(orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2).decode())
        else:
            typer.echo(render_text(report, verbose=verbose))
        raise typer.Exit(0 if report.ok else 1)


def _usage(message: str, help: str, format: ReportFormat) -> None:
    if format == ReportFormat.json:
        import orjson

        typer.echo(orjson.dumps({"ok": False, "error": message, "help": help}).decode())
    else:
        _err(f"error: {message}\n  help: {help}")
    raise typer.Exit(2)


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")
