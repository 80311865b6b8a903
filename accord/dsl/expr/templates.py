"""Templates: text with `${expression}` parts (reasons, messages, and string
outputs containing `${`).

A part ends at the `}` that closes its `${`, found by scanning the expression
with its strings and brackets in mind, so `${ {"a": 1}["a"] }` and
`${ x + "}" }` work.  `$${` writes a literal `${`.  Each part renders with
`render_value`; a part that errors makes the whole template an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from accord.dsl.expr import ast
from accord.dsl.expr.errors import E_TEMPLATE, ExpressionSyntaxError
from accord.dsl.expr.parser import parse
from accord.dsl.expr.values import render_value


@dataclass(frozen=True)
class Template:
    """`parts`: literal strings, and `(node, offset)` pairs where offset is the
    position of the expression's first character in `text`."""

    text: str
    parts: tuple[str | tuple[ast.Node, int], ...]

    @property
    def expressions(self) -> list[tuple[ast.Node, int]]:
        return [p for p in self.parts if not isinstance(p, str)]


def _closing(text: str, start: int) -> int:
    """Index of the `}` that ends the expression starting at `start`, or -1."""
    depth = 0
    i = start
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in "\"'":
            quote = text[i:i + 3] if text[i:i + 3] in ('"""', "'''") else ch
            raw = i > 0 and text[i - 1] in "rR"
            i += len(quote)
            while i < n and not text.startswith(quote, i):
                i += 2 if (text[i] == "\\" and not raw) else 1
            i += len(quote)
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return -1


def parse_template(text: str) -> Template:
    """Split a template into literal text and parsed expressions; raise
    ExpressionSyntaxError with offsets into `text`."""
    parts: list[str | tuple[ast.Node, int]] = []
    buf: list[str] = []
    i = 0
    while True:
        j = text.find("${", i)
        if j < 0:
            buf.append(text[i:])
            break
        if j > 0 and text[j - 1] == "$":  # `$${` is a literal `${`
            buf.append(text[i:j - 1] + "${")
            i = j + 2
            continue
        buf.append(text[i:j])
        start = j + 2
        close = _closing(text, start)
        if close < 0:
            raise ExpressionSyntaxError("unclosed '${' in template", j, code=E_TEMPLATE, end=len(text),
                                        help="end the expression with '}'")
        source = text[start:close]
        if not source.strip():
            raise ExpressionSyntaxError("empty '${}' in template", j, code=E_TEMPLATE, end=close + 1,
                                        help="put an expression inside, like '${event.id}'")
        try:
            node = parse(source)
        except ExpressionSyntaxError as e:
            raise e.shifted(start) from None
        literal = "".join(buf)
        if literal:
            parts.append(literal)
        buf = []
        parts.append((node, start))
        i = close + 1
    literal = "".join(buf)
    if literal:
        parts.append(literal)
    return Template(text, tuple(parts))


def compile_template(template: Template, *, timezone: tzinfo | None = None) -> Callable[[Mapping[str, Any]], str]:
    """A function scope → rendered text; raises EvaluationError when a part errors."""
    from accord.dsl.expr.codegen import compile_node  # only when compiling: validation only parses

    pieces: list[Any] = [p if isinstance(p, str) else compile_node(p[0], timezone=timezone)
                         for p in template.parts]
    if not pieces:
        return lambda scope: ""
    if len(pieces) == 1 and isinstance(pieces[0], str):
        text = pieces[0]
        return lambda scope: text
    # Reasons and messages render on most decisions: the usual shapes (one part, text then one part) skip
    # the list and the join; a string value needs no rendering.
    if len(pieces) == 1:
        (only,) = pieces

        def render_one(scope: Mapping[str, Any]) -> str:
            v = only(scope)
            return v if type(v) is str else render_value(v)

        return render_one
    if len(pieces) == 2 and isinstance(pieces[0], str) and not isinstance(pieces[1], str):
        head, part = pieces

        def render_tail(scope: Mapping[str, Any]) -> str:
            v = part(scope)
            return head + (v if type(v) is str else render_value(v))

        return render_tail

    def render(scope: Mapping[str, Any]) -> str:
        return "".join([p if type(p) is str else render_value(p(scope)) for p in pieces])

    return render
