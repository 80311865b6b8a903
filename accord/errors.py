"""Diagnostics shared by every stage, so a position found while loading YAML
survives unchanged to the checker, the compiler and the CLI.

Messages follow one style: lowercase, no trailing period, the offending text
in quotes, and any advice in `help` on its own line.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Span:
    """Where something stands in a source file (1-based line and column)."""

    file: str
    line: int
    column: int
    end_line: int = 0
    end_column: int = 0

    def at(self, line: int, column: int) -> Span:
        return Span(self.file, line, column)


@dataclass(frozen=True)
class Diagnostic:
    """One problem, with a stable code documented in docs/errors.md."""

    code: str
    message: str
    span: Span
    help: str | None = None
    severity: str = "error"

    # the fields of language section 8 (`{file, line, column, code, severity, message, help}`) as attributes too
    @property
    def file(self) -> str:
        return self.span.file

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def column(self) -> int:
        return self.span.column

    def sort_key(self) -> tuple:
        return (self.span.file, self.span.line, self.span.column, self.code, self.message)

    def render(self) -> str:
        head = f"{self.span.file}:{self.span.line}:{self.span.column}: {self.severity}[{self.code}]: {self.message}"
        return head if not self.help else f"{head}\n  help: {self.help}"

    def to_json(self) -> dict:
        return {
            "file": self.span.file,
            "line": self.span.line,
            "column": self.span.column,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "help": self.help,
        }


class AccordError(Exception):
    """Base of every error Accord raises on purpose for a user mistake."""


@dataclass
class PolicyError(AccordError):
    """A policy that does not load, validate or compile; carries every problem found."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.diagnostics = sorted(self.diagnostics, key=Diagnostic.sort_key)
        super().__init__(self.render())

    def render(self) -> str:
        return "\n".join(d.render() for d in self.diagnostics)

    def __str__(self) -> str:
        return self.render()


class UsageError(AccordError):
    """A wrong command-line argument or API call; the message says what to do."""

    def __init__(self, message: str, help: str | None = None):
        super().__init__(message)
        self.message = message
        self.help = help
