"""`accord init DIR`: create a new policy project that validates and passes its tests.

The project is copied from `accord/scaffold/` (a small but complete policy,
sample events, tests and a README) plus the packaged JSON Schema, so what a
new user starts from is exactly what the test suite checks. An existing
non-empty directory is refused unless `--force`, which overwrites only the
project's own files.
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

import typer

from accord.errors import UsageError

SCAFFOLD = ("policy.yaml", "events.jsonl", "policy.test.yaml", "README.md")
SCHEMA = "policy.schema.json"

_DESCRIPTIONS = {
    "policy.yaml": "the policy: three agents, a constraint and an SLA",
    SCHEMA: "its JSON Schema, for completion and checks in editors",
    "events.jsonl": "sample events",
    "policy.test.yaml": "tests of the policy",
    "README.md": "what is where, and what to try next",
}
_NAME = re.compile(r"[a-z][a-z0-9_-]*\Z")
_DEFAULT_NAME = "returns"


def register(command) -> None:
    @command("init")
    def init(
        directory: Path = typer.Argument(..., help="the directory to create", show_default=False),
        name: str = typer.Option(None, "--name", "-n", help="the policy's name (default: from the directory)"),
        force: bool = typer.Option(False, "--force", help="write into a non-empty directory, overwriting the project files"),
    ) -> None:
        """Create a new policy project: policy, schema, sample events, tests and a README."""
        written = create_project(directory, name=name, force=force)
        typer.echo(f"created {directory}")
        width = max(len(p.name) for p in written)
        for p in written:
            typer.echo(f"  {p.name.ljust(width)}  {_DESCRIPTIONS[p.name]}")
        import shlex

        def q(name: str) -> str:  # copyable as printed, also for a directory with spaces
            return shlex.quote(f"{directory}/{name}")

        typer.echo("next:")
        typer.echo(f"  accord validate {q('policy.yaml')}")
        typer.echo(f"  accord test {q('policy.test.yaml')}")
        typer.echo(f"  accord dry-run {q('policy.yaml')} --events {q('events.jsonl')}")


def create_project(directory: Path, *, name: str | None = None, force: bool = False) -> list[Path]:
    """Write the project's files into `directory` (created if needed); returns their paths."""
    if name is not None and not _NAME.match(name):
        raise UsageError(f"'{name}' is not a policy name",
                         help="a policy name is lowercase letters, digits, '_' and '-', starting with a letter")
    policy_name = name or _name_from(directory)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"'{directory}' is a file, not a directory", help="give the path of a new directory")
    if directory.is_dir() and any(directory.iterdir()) and not force:
        raise UsageError(f"directory '{directory}' is not empty",
                         help="choose a new directory, or pass --force to overwrite the project files in it")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        scaffold = files("accord").joinpath("scaffold")
        for fname in SCAFFOLD:
            text = scaffold.joinpath(fname).read_text(encoding="utf-8")
            if fname == "policy.yaml":
                text = text.replace(f"\npolicy: {_DEFAULT_NAME}\n", f"\npolicy: {policy_name}\n", 1)
            elif fname == "README.md":
                text = text.replace("{name}", policy_name)
            written.append(_write(directory / fname, text))
        schema = files("accord.schemas").joinpath(SCHEMA).read_text(encoding="utf-8")
        written.insert(1, _write(directory / SCHEMA, schema))
    except OSError as e:
        reason = (e.strerror or str(e)).lower()
        raise UsageError(f"cannot write to '{e.filename or directory}': {reason}",
                         help="check the path and its permissions") from None
    return written


def _write(path: Path, text: str) -> Path:
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return path


def _name_from(directory: Path) -> str:
    """The directory's name as a policy name, or the scaffold's own when it cannot be one."""
    base = directory.resolve().name.lower()
    base = re.sub(r"[^a-z0-9_-]+", "-", base).strip("-_")
    base = re.sub(r"^[^a-z]+", "", base)
    return base if base and _NAME.match(base) else _DEFAULT_NAME


