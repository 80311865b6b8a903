"""Accord's expression language (language reference, section 7): CEL syntax
and semantics with three deliberate differences — int and double mix freely,
`/` is true division, and `and`/`or`/`not` spell `&&`/`||`/`!`.

    node = parse("event.qty > 10")           # ExpressionSyntaxError on bad input
    fn = compile_node(node)                   # Python code, compiled once
    fn({"event": {"qty": 12}})                # True, or raises EvaluationError

`compile_expression` and `evaluate` do both steps; `references` and
`literal_type` answer the policy checker's static questions; templates are
text with `${...}` parts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import tzinfo
from typing import Any

from accord.dsl.expr import ast
from accord.dsl.expr.analysis import Ref, literal_type, references
from accord.dsl.expr.errors import (
    E_ARITY,
    E_LIMIT,
    E_NON_BOOL_GUARD,
    E_SYNTAX,
    E_TEMPLATE,
    E_UNKNOWN_FUNCTION,
    EvaluationError,
    ExpressionSyntaxError,
)
from accord.dsl.expr.functions import FUNCTIONS, MACROS, Arity
from accord.dsl.expr.parser import MAX_DEPTH, MAX_SOURCE_BYTES, parse
from accord.dsl.expr.runtime import MAX_ITERATIONS
from accord.dsl.expr.templates import Template, compile_template, parse_template
from accord.dsl.expr.values import TYPES, CelType, from_plain, render_value, to_json, type_name

_EMPTY: Mapping[str, Any] = {}


def compile_node(node: ast.Node, *, timezone: tzinfo | None = None) -> Callable[[Mapping[str, Any]], Any]:
    """Turn a syntax tree into a function `variables → value` (codegen.compile_node; the code
    generator is imported on first use, so `accord validate`, which only parses, never loads it)."""
    from accord.dsl.expr.codegen import compile_node as _compile

    return _compile(node, timezone=timezone)


class Compiled:
    """An expression parsed and compiled once; `evaluate` runs it."""

    __slots__ = ("source", "node", "timezone", "_fn")

    def __init__(self, source: str, node: ast.Node, fn: Callable[[Mapping[str, Any]], Any],
                 timezone: tzinfo | None = None):
        self.source = source
        self.node = node
        self.timezone = timezone
        self._fn = fn

    @property
    def function(self) -> Callable[[Mapping[str, Any]], Any]:
        """The compiled function itself (`variables → value`), for hot loops."""
        return self._fn

    def evaluate(self, variables: Mapping[str, Any] | None = None) -> Any:
        """The value (plain Python: aware datetime, timedelta...), or raise EvaluationError."""
        return self._fn(_EMPTY if variables is None else variables)

    __call__ = evaluate

    def __repr__(self) -> str:
        return f"Compiled({self.source!r})"


def compile_expression(source: str, *, timezone: tzinfo | None = None) -> Compiled:
    """Parse and compile; raise ExpressionSyntaxError on a static error."""
    node = parse(source)
    return Compiled(source, node, compile_node(node, timezone=timezone), timezone)


def evaluate(source: str, variables: Mapping[str, Any] | None = None, *, timezone: tzinfo | None = None) -> Any:
    """Parse, compile and evaluate once (use compile_expression to evaluate many times)."""
    return compile_expression(source, timezone=timezone).evaluate(variables)


__all__ = [
    "Arity", "CelType", "Compiled", "E_ARITY", "E_LIMIT", "E_NON_BOOL_GUARD", "E_SYNTAX", "E_TEMPLATE",
    "E_UNKNOWN_FUNCTION", "EvaluationError", "ExpressionSyntaxError", "FUNCTIONS", "MACROS",
    "MAX_DEPTH", "MAX_ITERATIONS", "MAX_SOURCE_BYTES", "Ref", "TYPES", "Template", "ast",
    "compile_expression", "compile_node", "compile_template", "evaluate", "from_plain",
    "literal_type", "parse", "parse_template", "references", "render_value", "to_json", "type_name",
]
