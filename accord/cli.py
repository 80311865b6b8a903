"""The `accord` command. Each command is a thin shell over the library: parse
flags, call one function, print. User mistakes end as a message and an exit
code (1: the input is wrong, 2: the command line is wrong), never a traceback."""

from __future__ import annotations

import enum
import functools
import os
import sys
from pathlib import Path

import typer

from accord.errors import AccordError, PolicyError, UsageError

app = typer.Typer(
    name="accord",
    help="Accord: declarative rules-plus-agents policies, run over event streams, every decision logged to DuckDB.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class TextOrJson(str, enum.Enum):
    text = "text"
    json = "json"


class QueryFormat(str, enum.Enum):
    table = "table"
    csv = "csv"
    json = "json"


def guarded(fn):
    """Turn Accord's own errors into a message and an exit code, in the CLI and in typer's test runner."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except PolicyError as e:
            err(e.render())
            n = len([d for d in e.diagnostics if d.severity == "error"])
            err(f"{n} error{'s' if n != 1 else ''}: the policy does not validate")
            raise typer.Exit(1) from None
        except UsageError as e:
            err(f"error: {e.message}" + (f"\n  help: {e.help}" if e.help else ""))
            raise typer.Exit(2) from None
        except AccordError as e:
            err(f"error: {e}")
            raise typer.Exit(1) from None
        except BrokenPipeError:
            raise typer.Exit(0) from None
        except (typer.Exit, typer.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as e:  # a bug in Accord, not a user mistake: say so, briefly
            if os.environ.get("ACCORD_DEBUG"):
                raise
            err(f"error: internal error: {type(e).__name__}: {e}")
            err("  help: this is a bug in accord; rerun with ACCORD_DEBUG=1 for the traceback and report it")
            raise typer.Exit(3) from None

    return wrapper


def command(*names: str):
    """Register a command with error handling."""

    def decorate(fn):
        return app.command(*names)(guarded(fn))

    return decorate


def err(text: str) -> None:
    sys.stderr.write(text + "\n")


def fail(message: str, help: str | None = None, code: int = 2) -> None:
    err(f"error: {message}" + (f"\n  help: {help}" if help else ""))
    raise typer.Exit(code)


def _json(value) -> str:
    import orjson

    return orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str).decode()


@command()
def validate(
    files: list[Path] = typer.Argument(..., help="policy files to check", show_default=False),
    format: TextOrJson = typer.Option(TextOrJson.text, "--format", "-f", help="text or json"),
) -> None:
    """Check policies: YAML, structure, names, trust boundaries, expressions, data tables."""
    from accord.validate import run_validate

    raise typer.Exit(run_validate(files, format.value, out=_Echo(), err=sys.stderr))


class _Echo:
    """stdout through typer, so its test runner captures what validate prints."""

    def write(self, text: str) -> None:
        typer.echo(text, nl=False)

    def flush(self) -> None:
        pass


@command("eval")
def eval_(
    expression: str = typer.Argument(..., help="a CEL expression", show_default=False),
    vars: str = typer.Option(None, "--vars", help="variables as a JSON object, e.g. '{\"event\": {\"qty\": 3}}'"),
    timezone: str = typer.Option(None, "--timezone", help="IANA zone for timestamps written without an offset"),
) -> None:
    """Evaluate one expression and print its value as JSON."""
    import orjson

    from accord.dsl import expr as ex
    from accord.engine.records import to_json

    variables = {}
    if vars:
        try:
            variables = orjson.loads(vars)
        except orjson.JSONDecodeError as e:
            fail(f"--vars is not valid JSON: {e}", "pass an object such as '{\"x\": 1}'")
        if not isinstance(variables, dict):
            fail("--vars must be a JSON object", "pass an object such as '{\"x\": 1}'")
    tz = None
    if timezone:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            fail(f"unknown timezone '{timezone}'", "use an IANA name such as 'America/New_York'")
    try:
        value = ex.evaluate(expression, variables, timezone=tz)
    except ex.ExpressionSyntaxError as e:
        err(f"<expr>:1:{e.offset + 1}: error[{e.code}]: {e.message}")
        err(f"  {expression}\n  {' ' * e.offset}^")
        if e.help:
            err(f"  help: {e.help}")
        raise typer.Exit(1) from None
    except ex.EvaluationError as e:
        err(f"error: {e.message}")
        raise typer.Exit(1) from None
    typer.echo(to_json(value))


@command()
def schema() -> None:
    """Print the policy file's JSON Schema (for editors with a YAML language server)."""
    import json
    from importlib.resources import files

    schema = json.loads(files("accord.schemas").joinpath("policy.schema.json").read_text(encoding="utf-8"))
    # An expression or value written as `null` is the expression null (decision 36). Accord tells `key: null`
    # from an empty `key:` (an error) by the YAML text; JSON, and so an editor, cannot: allow null for editors.
    for name in ("expression", "value"):
        d = schema["$defs"][name]
        d["type"] = [*d["type"], "null"]
    typer.echo(json.dumps(schema, indent=2, ensure_ascii=False))


def _plan(policy: Path):
    from accord.dsl import load_policy

    return load_policy(policy)


def _source(events: str):
    from accord.engine.sources import open_source

    return open_source(events)  # `-` reads standard input (and says so when it is closed)


def _progress(source):
    """A progress bar on stderr for a terminal; nothing when piped."""
    if not sys.stderr.isatty():
        return None, None
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("events"), BarColumn(), TextColumn("{task.completed:,}"), TimeElapsedColumn(),
                   transient=True, console=__import__("rich.console").console.Console(stderr=True))
    task = bar.add_task("events", total=None)
    return bar, (lambda n: bar.update(task, completed=n))


def _run(policy: Path, events: str, db: str | None, mode: str, resume: bool, sink: str | None, fmt: TextOrJson,
         batch_size: int = 2000):
    from accord.engine.runner import execute
    from accord.engine.summary import render_summary, summarize

    plan = _plan(policy)
    source = _source(events)
    out_sink = None
    if sink:
        from accord.engine.log_sink import JsonLinesSink

        if sink != "-":
            same = {os.path.realpath(p): flag for p, flag in ((events, "--events"), (db, "--db")) if p and p != "-"}
            flag = same.get(os.path.realpath(sink))
            if flag:
                raise UsageError(f"--sink '{sink}' is the same file as {flag}",
                                 help="deliver the outbox to another file, or to - (standard output)")

        out_sink = JsonLinesSink(sink)
    bar, tick = _progress(source)
    try:
        if bar:
            bar.start()
        result = execute(plan, source, db=db, mode=mode, resume=resume, sink=out_sink, progress=tick,
                         batch_size=batch_size)
    finally:
        if bar:
            bar.stop()
        if out_sink:
            out_sink.close()
    try:
        summary = summarize(result.log.con, result.run_id)
    finally:
        result.log.close()
    summary["already_finished"] = result.already_finished
    summary["resumed"] = result.resumed
    stream = sys.stderr if sink == "-" else sys.stdout
    if fmt == TextOrJson.json:
        print(_json(summary), file=stream)
    else:
        if result.already_finished:
            print(f"run {result.run_id} had already finished; nothing to resume", file=stream)
        print(render_summary(summary), file=stream)
        if db:
            print(f"log         {db}", file=stream)


@command("dry-run")
def dry_run(
    policy: Path = typer.Argument(..., help="the policy file", show_default=False),
    events: str = typer.Option(..., "--events", "-e", help="events: .jsonl, .json, .csv, .parquet, or - for stdin"),
    db: str = typer.Option(None, "--db", help="write the log to this DuckDB file (default: in memory)"),
    format: TextOrJson = typer.Option(TextOrJson.text, "--format", "-f", help="summary as text or json"),
    batch_size: int = typer.Option(2000, "--batch-size", min=1, help="events per committed batch"),
) -> None:
    """Run a policy over events without dispatching anything; print a summary."""
    _run(policy, events, db, "dry-run", False, None, format, batch_size)


@command()
def run(
    policy: Path = typer.Argument(..., help="the policy file", show_default=False),
    events: str = typer.Option(..., "--events", "-e", help="events: .jsonl, .json, .csv, .parquet, or - for stdin"),
    db: str = typer.Option(..., "--db", help="the DuckDB log file"),
    resume: bool = typer.Option(False, "--resume", help="continue a killed run of the same source"),
    sink: str = typer.Option(None, "--sink", help="deliver outbox records as JSON lines to PATH or - (stdout)"),
    format: TextOrJson = typer.Option(TextOrJson.text, "--format", "-f", help="summary as text or json"),
    batch_size: int = typer.Option(2000, "--batch-size", min=1,
                                   help="events per committed batch (log rows, input position and state)"),
) -> None:
    """Run a policy for real: log and input position commit together; outbox delivered to --sink."""
    _run(policy, events, db, "run", resume, sink, format, batch_size)


@command()
def query(
    sql: str = typer.Argument(..., help="SQL over the log's tables and views", show_default=False),
    db: str = typer.Option(..., "--db", help="the DuckDB log file"),
    format: QueryFormat = typer.Option(QueryFormat.table, "--format", "-f", help="table, csv or json"),
) -> None:
    """Read-only SQL over a decision log."""
    from accord.engine.log_query import format_rows, run_query

    columns, rows = run_query(db, sql)
    text = format_rows(columns, rows, format.value)
    typer.echo(text, nl=not text.endswith("\n"))  # csv ends its last row with a newline already


@command()
def explain(
    decision_id: str = typer.Argument(..., help="a decision_id from the decisions table", show_default=False),
    db: str = typer.Option(..., "--db", help="the DuckDB log file"),
    run_id: str = typer.Option(None, "--run", help="the run, when the log holds several (default: the latest)"),
    format: TextOrJson = typer.Option(TextOrJson.text, "--format", "-f", help="text or json"),
) -> None:
    """Why a decision came out as it did: values read, rules tried, constraints, negotiation."""
    from accord.engine.explain import fetch, render
    from accord.engine.log_query import open_read_only

    con = open_read_only(db)
    try:
        d = fetch(con, decision_id, run_id)
    finally:
        con.close()
    typer.echo(_json(d) if format == TextOrJson.json else render(d))


def _register_extras() -> None:
    """Commands that live in their own modules (accord/commands/*.py)."""
    import importlib
    import pkgutil

    try:
        import accord.commands as pkg
    except ImportError:
        return
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"accord.commands.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(command)


_register_extras()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err("interrupted")
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)


if __name__ == "__main__":
    main()
