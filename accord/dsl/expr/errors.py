"""The two exceptions of the expression language.

`EvaluationError` is CEL's *error value*.  Inside compiled code it travels as
an ordinary value (helpers return it, never raise it) so that `false && e`
and `true || e` can absorb it whichever side it is on; it is raised only when
it reaches the caller.  The engine may also store an instance in a map (a
signal that errored); reading that entry yields the error.

`ExpressionSyntaxError` is a static problem found while parsing, carrying a
stable code and a character offset so the policy checker can point at the
offending token.
"""

from __future__ import annotations

from accord.errors import AccordError

#: syntax error or a literal that cannot be read
E_SYNTAX = "E0301"
#: unknown function or macro
E_UNKNOWN_FUNCTION = "E0302"
#: wrong number of arguments
E_ARITY = "E0303"
#: reserved for the policy checker: a guard that can only be a non-bool literal
E_NON_BOOL_GUARD = "E0304"
#: source too long or nested too deep
E_LIMIT = "E0305"
#: a malformed `${...}` in a template
E_TEMPLATE = "E0306"
#: reserved for the policy checker: a `matches` pattern literal that is not a valid RE2 pattern
E_PATTERN = "E0307"


class EvaluationError(AccordError):
    """An error value: a missing key, a wrong type, overflow, division by zero..."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __repr__(self) -> str:
        return f"EvaluationError({self.message!r})"


class ExpressionSyntaxError(AccordError):
    """An expression that does not parse or breaks a static rule.

    `offset` and `end` are character offsets into the source (for a template,
    into the whole template text); `help` is advice shown on its own line.
    """

    def __init__(self, message: str, offset: int = 0, *, code: str = E_SYNTAX,
                 help: str | None = None, end: int | None = None):
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.end = offset + 1 if end is None else end
        self.code = code
        self.help = help

    def shifted(self, delta: int) -> ExpressionSyntaxError:
        """The same error with offsets moved by `delta` (for an expression inside a template)."""
        return ExpressionSyntaxError(self.message, self.offset + delta, code=self.code,
                                     help=self.help, end=self.end + delta)

    def __str__(self) -> str:
        text = f"{self.message} (at offset {self.offset})"
        return text if not self.help else f"{text}\n  help: {self.help}"

    def __repr__(self) -> str:
        return f"ExpressionSyntaxError({self.code}, {self.message!r}, offset={self.offset})"
