"""Source text → syntax tree, with every static rule of the language.

The Lark LALR parser is built once per process (its tables are cached on disk
by Lark, so construction costs a few milliseconds) and builds `ast` nodes
directly through parser callbacks, bottom-up and without recursion: a long
`a + b + c + ...` cannot exhaust the Python stack while parsing, and the
nesting limit is enforced as soon as a node goes over it.
"""

from __future__ import annotations

import difflib
import functools
from pathlib import Path

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from accord.dsl.expr import ast
from accord.dsl.expr.errors import (
    E_ARITY,
    E_LIMIT,
    E_SYNTAX,
    E_UNKNOWN_FUNCTION,
    ExpressionSyntaxError,
)
from accord.dsl.expr.functions import FUNCTIONS, MACROS

MAX_SOURCE_BYTES = 16 * 1024
MAX_DEPTH = 64
_INT_LIMIT = 2**63
_METHOD_MACROS = frozenset(MACROS) - {"has"}


def _fail(message: str, start: int, end: int | None = None, *, code: str = E_SYNTAX,
          help: str | None = None) -> ExpressionSyntaxError:
    return ExpressionSyntaxError(message, start, code=code, help=help, end=end)


def _suggest(name: str, choices) -> str | None:
    close = difflib.get_close_matches(name, sorted(choices), n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    return f"did you mean '{close[0]}'?" if close else None


# --- string literals -------------------------------------------------------

_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
                   "\\": "\\", "'": "'", '"': '"', "`": "`", "?": "?"}
_HEX = set("0123456789abcdefABCDEF")


def decode_string(text: str, offset: int) -> ast.Literal:
    """A string or bytes literal token → Literal, with CEL's escapes."""
    i = 0
    prefix = ""
    while text[i] not in "\"'":
        prefix += text[i].lower()
        i += 1
    quote = text[i:i + 3] if text[i:i + 3] in ('"""', "'''") else text[i]
    body = text[i + len(quote): len(text) - len(quote)]
    body_at = offset + i + len(quote)
    is_bytes = "b" in prefix
    kind = "bytes" if is_bytes else "string"
    if "r" in prefix:
        value = body.encode("utf-8") if is_bytes else body
        return ast.Literal(offset, offset + len(text), value, kind)
    out: list = []  # str pieces, or ints for raw bytes from \x and octal escapes in bytes
    j = 0
    n = len(body)
    while j < n:
        ch = body[j]
        if ch != "\\":
            out.append(ch)
            j += 1
            continue
        at = body_at + j
        nxt = body[j + 1] if j + 1 < n else ""
        if nxt in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[nxt])
            j += 2
        elif nxt in ("x", "X", "u", "U"):
            width = {"x": 2, "X": 2, "u": 4, "U": 8}[nxt]
            digits = body[j + 2: j + 2 + width]
            if len(digits) != width or not set(digits) <= _HEX:
                raise _fail(f"invalid escape sequence '{body[j:j + 2 + width]}'", at, at + 2 + len(digits),
                            help=f"'\\{nxt}' takes exactly {width} hex digits")
            code = int(digits, 16)
            if nxt in "xX" and is_bytes:
                out.append(code)
            else:
                if is_bytes:
                    raise _fail(f"invalid escape sequence '\\{nxt}' in a bytes literal", at, at + 2)
                if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                    raise _fail(f"invalid code point '{body[j:j + 2 + width]}'", at, at + 2 + width)
                out.append(chr(code))
            j += 2 + width
        elif nxt in "0123":
            digits = body[j + 1: j + 4]
            if len(digits) != 3 or not set(digits) <= set("01234567"):
                raise _fail(f"invalid escape sequence '{body[j:j + 4]}'", at, at + 1 + len(digits),
                            help="an octal escape takes exactly 3 digits, like '\\101'")
            code = int(digits, 8)
            out.append(code if is_bytes else chr(code))
            j += 4
        else:
            shown = body[j:j + 2] if nxt else "\\"
            raise _fail(f"invalid escape sequence '{shown}'", at, at + len(shown),
                        help="write '\\\\' for a backslash, or use a raw string r\"...\"")
    if is_bytes:
        value = b"".join(bytes([p]) if isinstance(p, int) else p.encode("utf-8") for p in out)
    else:
        value = "".join(out)
    return ast.Literal(offset, offset + len(text), value, kind)


# --- tree building ---------------------------------------------------------

def _depth(start: int, *kids: ast.Node) -> int:
    d = 1 + max((k.depth for k in kids), default=0)
    if d > MAX_DEPTH:
        raise _fail(f"expression nests deeper than {MAX_DEPTH} levels", start, code=E_LIMIT,
                    help="split it into named signals or outputs")
    return d


class _Build(Transformer):
    """Parser callbacks: each gets the children of one rule and returns a node.
    They hold no state, so one instance serves every parse (and every thread)."""

    # literals
    def int_lit(self, c):
        tok = c[0]
        text = tok.value
        value = int(text, 16) if text[:2] in ("0x", "0X") else int(text)
        if value > _INT_LIMIT:
            raise _fail(f"integer literal '{text}' is out of range", tok.start_pos, tok.end_pos,
                        help="ints are 64-bit: -9223372036854775808 to 9223372036854775807; write a double (1e19)")
        return ast.Literal(tok.start_pos, tok.end_pos, value, "int")

    def float_lit(self, c):
        tok = c[0]
        value = float(tok.value)
        if value in (float("inf"), float("-inf")):
            raise _fail(f"double literal '{tok.value}' is out of range", tok.start_pos, tok.end_pos)
        return ast.Literal(tok.start_pos, tok.end_pos, value, "double")

    def string_lit(self, c):
        return decode_string(c[0].value, c[0].start_pos)

    def true_lit(self, c):
        return ast.Literal(c[0].start_pos, c[0].end_pos, True, "bool")

    def false_lit(self, c):
        return ast.Literal(c[0].start_pos, c[0].end_pos, False, "bool")

    def null_lit(self, c):
        return ast.Literal(c[0].start_pos, c[0].end_pos, None, "null")

    # names and postfix
    def ident(self, c):
        return ast.Ident(c[0].start_pos, c[0].end_pos, c[0].value)

    def select(self, c):
        operand, name = c
        return ast.Select(operand.start, name.end_pos, operand, name.value,
                          depth=_depth(operand.start, operand))

    def index(self, c):
        operand, key, rsqb = c
        return ast.Index(operand.start, rsqb.end_pos, operand, key, depth=_depth(operand.start, operand, key))

    def args(self, c):
        return [x for x in c if x is not None]

    items = args

    def call(self, c):
        name, args, rpar = c
        return _make_call(name, None, args or [], rpar)

    def method(self, c):
        target, name, args, rpar = c
        return _make_call(name, target, args or [], rpar)

    def paren(self, c):
        return c[1]

    def list_lit(self, c):
        lsqb, items, rsqb = c
        items = tuple(items or ())
        return ast.ListLit(lsqb.start_pos, rsqb.end_pos, items, depth=_depth(lsqb.start_pos, *items))

    def entry(self, c):
        return (c[0], c[1])

    def entries(self, c):
        return [x for x in c if x is not None]

    def map_lit(self, c):
        lbrace, entries, rbrace = c
        entries = tuple(entries or ())
        kids = [x for kv in entries for x in kv]
        return ast.MapLit(lbrace.start_pos, rbrace.end_pos, entries, depth=_depth(lbrace.start_pos, *kids))

    # operators
    def negation(self, c):
        op, operand = c
        return ast.Unary(op.start_pos, operand.end, "!", operand, depth=_depth(op.start_pos, operand))

    def minus(self, c):
        op, operand = c
        if isinstance(operand, ast.Literal) and operand.kind in ("int", "double") and operand.start >= op.end_pos:
            return ast.Literal(op.start_pos, operand.end, -operand.value, operand.kind)
        return ast.Unary(op.start_pos, operand.end, "-", operand, depth=_depth(op.start_pos, operand))

    def binary(self, c):
        left, op, right = c
        return ast.Binary(left.start, right.end, op.value, left, right, depth=_depth(left.start, left, right))

    def _logical(self, op, c):
        left, _, right = c
        operands = (left.operands if isinstance(left, ast.Logical) and left.op == op else (left,)) + (right,)
        return ast.Logical(left.start, right.end, op, operands, depth=_depth(left.start, *operands))

    def logical_or(self, c):
        return self._logical("||", c)

    def logical_and(self, c):
        return self._logical("&&", c)

    def conditional(self, c):
        cond, _, then, otherwise = c
        return ast.Conditional(cond.start, otherwise.end, cond, then, otherwise,
                               depth=_depth(cond.start, cond, then, otherwise))


def _make_call(name: Token, target: ast.Node | None, args: list, rpar: Token) -> ast.Node:
    fname = name.value
    start = target.start if target is not None else name.start_pos
    end = rpar.end_pos
    kids = ([target] if target is not None else []) + args
    depth = _depth(start, *kids)
    if fname == "has":
        if target is not None:
            raise _fail("'has' is not a method", name.start_pos, name.end_pos, code=E_UNKNOWN_FUNCTION,
                        help="write 'has(x.field)'")
        if len(args) != 1:
            raise _fail(f"'has' takes 1 argument, got {len(args)}", name.start_pos, end, code=E_ARITY,
                        help="write 'has(x.field)'")
        arg = args[0]
        if not isinstance(arg, ast.Select):
            help = ("to test a map key, write 'key in map'" if isinstance(arg, ast.Index)
                    else "write 'has(x.field)'")
            raise _fail("the argument of 'has' must be a field selection like 'x.field'",
                        arg.start, arg.end, help=help)
        return ast.Has(start, end, arg.operand, arg.field, depth=depth)
    if fname in _METHOD_MACROS:
        if target is None:
            raise _fail(f"'{fname}' is a macro over a list or map, not a function", name.start_pos,
                        name.end_pos, code=E_UNKNOWN_FUNCTION, help=f"write it as a method: 'list.{fname}(x, ...)'")
        arity = MACROS[fname]
        if len(args) not in arity:
            raise _fail(f"'{fname}' takes {arity.describe()}, got {len(args)}", name.start_pos, end,
                        code=E_ARITY, help=f"write 'list.{fname}(x, {'e' if fname == 'map' else 'p'})'")
        var = args[0]
        if not isinstance(var, ast.Ident):
            raise _fail(f"the first argument of '{fname}' must be a variable name", var.start, var.end,
                        help=f"write 'list.{fname}(x, ...)' where x names each item")
        body = args[-1]
        flt = args[1] if len(args) == 3 else None
        return ast.Macro(start, end, fname, target, var.name, body, flt, var.start, depth=depth)
    arity = FUNCTIONS.get(fname)
    if arity is None:
        help = _suggest(fname, set(FUNCTIONS) | set(MACROS))
        raise _fail(f"unknown function '{fname}'", name.start_pos, name.end_pos, code=E_UNKNOWN_FUNCTION,
                    help=help or "see docs/expressions.md for the list of functions")
    count = len(kids)
    if count not in arity:
        if target is not None:
            lo = arity.min - 1
            hi = None if arity.max is None else arity.max - 1
            shown = _describe_count(lo, hi)
            message = f"method '{fname}' takes {shown} after its receiver, got {len(args)}"
        else:
            message = f"'{fname}' takes {arity.describe()}, got {count}"
        raise _fail(message, name.start_pos, end, code=E_ARITY)
    return ast.Call(start, end, fname, tuple(args), target, depth=depth)


def _describe_count(lo: int, hi: int | None) -> str:
    if hi == lo:
        return f"{lo} argument{'s' if lo != 1 else ''}"
    if hi is None:
        return f"at least {lo} argument{'s' if lo != 1 else ''}"
    return f"{lo} to {hi} arguments"


# --- the parser object -----------------------------------------------------

_GRAMMAR = Path(__file__).with_name("grammar.lark")
_parser: Lark | None = None


def get_parser() -> Lark:
    """The process-wide parser (immutable once built; Lark caches its tables on disk)."""
    global _parser
    if _parser is None:
        kwargs = dict(parser="lalr", lexer="contextual", transformer=_Build(), propagate_positions=False)
        try:
            _parser = Lark(_GRAMMAR.read_text(encoding="utf-8"), cache=True, **kwargs)
        except OSError:  # no writable temporary directory: build without the cache
            _parser = Lark(_GRAMMAR.read_text(encoding="utf-8"), **kwargs)
    return _parser


_TOKEN_TEXT = {
    "RPAR": "')'", "LPAR": "'('", "RSQB": "']'", "LSQB": "'['", "RBRACE": "'}'", "LBRACE": "'{'",
    "COMMA": "','", "COLON": "':'", "DOT": "'.'", "QMARK": "'?'", "NAME": "a name", "INT": "a number",
    "FLOAT": "a number", "HEX": "a number", "STRING": "a string", "RAW_STRING": "a string",
    "OROP": "'||'", "ANDOP": "'&&'", "RELOP": "a comparison", "PLUS": "'+'", "MINUS": "'-'",
    "STAR": "'*'", "SLASH": "'/'", "PERCENT": "'%'", "BANG": "'!'", "$END": "the end",
}


def _syntax_error(exc: UnexpectedInput, source: str) -> ExpressionSyntaxError:
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream
        ch = source[pos]
        if ch in "\"'":
            return _fail("unterminated string", pos, len(source), help=f"close it with {ch}")
        help = None
        if ch == "=":
            help = "use '==' to compare"
        elif ch in "&|":
            help = f"use '{ch * 2}' (or '{'and' if ch == '&' else 'or'}')"
        elif ch == "#":
            help = "expressions have no comments; in a policy, write a yaml comment ('# ...') outside the expression"
        elif ch == "$":
            help = "'${...}' belongs in a template (reason, message), not in an expression"
        return _fail(f"unexpected character '{ch}'", pos, pos + 1, help=help)
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        tok = exc.token
        expected = sorted({_TOKEN_TEXT.get(t, f"'{t[:-3].lower()}'" if t.endswith("_KW") else t)
                           for t in exc.expected if not t.startswith("__")})
        help = None
        if tok.value == "/" and source[tok.start_pos - 1 : tok.start_pos] == "/":
            # `//` (CEL's line comment): not supported, see docs/decisions.md 35
            help = "expressions have no '//' comments; in a policy, write a yaml comment ('# ...') outside the expression"
        elif tok.value == ":" and "QMARK" not in exc.expected:
            help = "a condition needs '?' before ':' (cond ? a : b)"
        elif tok.value == "?" and "COLON" in exc.expected:
            help = "a condition between '?' and ':' needs parentheses: a ? (b ? x : y) : z"
        elif 0 < len(expected) <= 4:
            help = "expected " + " or ".join(expected)
        value = tok.value
        return _fail(f"unexpected token '{value}'", tok.start_pos, tok.end_pos, help=help)
    pos = len(source.rstrip())
    help = None
    if isinstance(exc, UnexpectedToken):
        expected = exc.expected
        if "COLON" in expected:
            help = "'cond ? a : b' needs ':' and the value for when cond is false"
        elif {"RPAR", "RSQB", "RBRACE"} & set(expected):
            bracket = _open_bracket(source)
            if bracket is not None:
                help = f"a '{bracket[0]}' is not closed"
    return _fail("unexpected end of expression", pos, pos, help=help)


_CLOSES = {"RPAR": "LPAR", "RSQB": "LSQB", "RBRACE": "LBRACE"}


def _open_bracket(source: str) -> tuple[str, int] | None:
    """The innermost bracket left open at the end of `source` (its text and offset), from its tokens
    (a bracket inside a string is not one)."""
    stack: list = []
    try:
        for tok in get_parser().lex(source):
            if tok.type in ("LPAR", "LSQB", "LBRACE"):
                stack.append(tok)
            elif tok.type in _CLOSES and stack and stack[-1].type == _CLOSES[tok.type]:
                stack.pop()
    except UnexpectedInput:
        return None
    return (stack[-1].value, stack[-1].start_pos) if stack else None


def parse(source: str) -> ast.Node:
    """Parse one expression; raise ExpressionSyntaxError (with code and offset).

    Trees are immutable and their offsets relative to the text, so the tree of a
    text seen before is shared (a policy repeats many expressions: `event.qty * 2`);
    errors are not remembered."""
    if not isinstance(source, str):
        raise TypeError(f"an expression is a str, not {type(source).__name__}")
    return _parse_cached(source)


@functools.lru_cache(maxsize=4096)
def _parse_cached(source: str) -> ast.Node:
    if len(source) > MAX_SOURCE_BYTES // 4 and len(source.encode("utf-8")) > MAX_SOURCE_BYTES:
        at = len(source.encode("utf-8")[:MAX_SOURCE_BYTES].decode("utf-8", "ignore"))
        raise _fail(f"expression is longer than {MAX_SOURCE_BYTES // 1024} KiB", at, len(source), code=E_LIMIT,
                    help="split it into named signals or outputs")
    if not source.strip():
        raise _fail("empty expression", 0, 0)
    try:
        node = get_parser().parse(source)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, source) from None
    except UnexpectedEOF as exc:  # pragma: no cover - LALR reports UnexpectedToken($END)
        raise _syntax_error(exc, source) from None
    if "922337203685477580" in source or "8000000000000000" in source:
        _check_int_range(node)
    return node


def _check_int_range(root: ast.Node) -> None:
    """2**63 is only valid negated (folded by the parser); anywhere else it is out of range."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Literal) and node.kind == "int" and node.value >= _INT_LIMIT:
            raise _fail("integer literal is out of range", node.start, node.end,
                        help="ints are 64-bit: -9223372036854775808 to 9223372036854775807")
        stack.extend(ast.children(node))
