"""Load policy YAML into a positioned tree.

PyYAML's constructors lose positions, read `on:` as a boolean (YAML 1.1) and
silently keep the last of two duplicate keys. A policy author needs the
opposite on all three counts, so this module composes the node graph itself
(libyaml when available, for speed), resolves plain scalars with the YAML 1.2
core schema, and reports duplicates, anchors, tags and the classic "YAML did
not read my expression as an expression" pitfalls with their positions.

Every node keeps its `Span`; a scalar can also map a character offset inside
its parsed value back to the file (`YScalar.position_of`), so an error found
later inside an expression points at the token, not at the start of the line.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from yaml.resolver import BaseResolver

from accord.errors import Diagnostic, Span

__all__ = [
    "Node",
    "YMap",
    "YScalar",
    "YSeq",
    "is_explicit_null",
    "load_yaml",
    "read_policy_text",
    "to_plain",
]

_STR_TAG = "tag:yaml.org,2002:str"


# ---------------------------------------------------------------------------
# source text and positions


class Source:
    """The text of one file, with a lazily built line table for offset → line/column."""

    __slots__ = ("filename", "text", "_starts")

    def __init__(self, text: str, filename: str):
        self.filename = filename
        self.text = text
        self._starts: list[int] | None = None

    def _line_starts(self) -> list[int]:
        if self._starts is None:
            starts = [0]
            find = self.text.find
            i = find("\n")
            while i >= 0:
                starts.append(i + 1)
                i = find("\n", i + 1)
            self._starts = starts
        return self._starts

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset."""
        starts = self._line_starts()
        line = bisect_right(starts, offset) - 1
        return line + 1, offset - starts[line] + 1

    def line_start(self, offset: int) -> int:
        return self.text.rfind("\n", 0, offset) + 1

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line break."""
        starts = self._line_starts()
        if line < 1 or line > len(starts):
            return ""
        begin = starts[line - 1]
        stop = self.text.find("\n", begin)
        return self.text[begin : stop if stop >= 0 else len(self.text)].rstrip("\r")

    def span(self, start: int, end: int | None = None) -> Span:
        line, col = self.line_col(start)
        if end is None:
            return Span(self.filename, line, col)
        end_line, end_col = self.line_col(end)
        return Span(self.filename, line, col, end_line, end_col)


# ---------------------------------------------------------------------------
# nodes


class Node:
    """A positioned YAML node. `span` runs from the node's first character to
    just after its last (end column exclusive)."""

    __slots__ = ("span", "start", "end", "source")

    def __init__(self, span: Span, start: int, end: int, source: Source):
        self.span = span
        self.start = start
        self.end = end
        self.source = source


class YScalar(Node):
    """A scalar: `value` typed by the YAML 1.2 core schema, `style` None for a
    plain scalar, else one of ' \" | >."""

    __slots__ = ("value", "style", "_offsets", "_content_start")

    def __init__(self, value: Any, style: str | None, span: Span, start: int, end: int, source: Source,
                 content_start: int | None = None):
        super().__init__(span, start, end, source)
        self.value = value
        self.style = style
        self._offsets: list[int] | None = None
        self._content_start = start if content_start is None else content_start

    @property
    def text(self) -> str:
        """The scalar as written in the file (quotes included, tags and anchors not)."""
        return self.source.text[self._content_start : self.end]

    def position_of(self, offset: int) -> Span:
        """The file position of character `offset` of the parsed value (for a
        non-string, of the text as written); an offset at or past the end maps
        to the end of the scalar."""
        if not isinstance(self.value, str):
            offset = max(0, min(offset, len(self.text)))
            return self.source.span(self._content_start + offset)
        if self._offsets is None:
            self._offsets = _value_offsets(self)
        offsets = self._offsets
        offset = max(0, min(offset, len(offsets) - 1))
        return self.source.span(offsets[offset])

    def __repr__(self) -> str:
        return f"YScalar({self.value!r}, style={self.style!r}, line={self.span.line}, column={self.span.column})"


class YMap(Node):
    """A mapping; `entries` keep file order (a duplicate key keeps its last value,
    as YAML tools do, after it has been reported)."""

    __slots__ = ("entries", "_index")

    def __init__(self, entries: list[tuple[YScalar, Node]], span: Span, start: int, end: int, source: Source):
        super().__init__(span, start, end, source)
        self.entries = entries
        self._index = {_key_str(k): i for i, (k, _) in enumerate(entries)}

    def get(self, key: str, default: Node | None = None) -> Node | None:
        i = self._index.get(key)
        return default if i is None else self.entries[i][1]

    def key_node(self, key: str) -> YScalar | None:
        i = self._index.get(key)
        return None if i is None else self.entries[i][0]

    def items(self) -> Iterator[tuple[YScalar, Node]]:
        return iter(self.entries)

    def keys(self) -> list[str]:
        return [_key_str(k) for k, _ in self.entries]

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return f"YMap({self.keys()!r}, line={self.span.line})"


class YSeq(Node):
    """A sequence."""

    __slots__ = ("items",)

    def __init__(self, items: list[Node], span: Span, start: int, end: int, source: Source):
        super().__init__(span, start, end, source)
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Node]:
        return iter(self.items)

    def __repr__(self) -> str:
        return f"YSeq(len={len(self.items)}, line={self.span.line})"


def _key_str(key: YScalar) -> str:
    """Mapping keys as strings: a key written `1` or `true` is the name '1' or 'true'."""
    return key.value if isinstance(key.value, str) else key.text


def to_plain(node: Node | None) -> Any:
    """The node as plain Python data (dict, list, str, int, float, bool, None)."""
    if node is None:
        return None
    if isinstance(node, YScalar):
        return node.value
    if isinstance(node, YMap):
        return {_key_str(k): to_plain(v) for k, v in node.entries}
    return [to_plain(n) for n in node.items]


# ---------------------------------------------------------------------------
# YAML 1.2 core schema


_INT = re.compile(r"[-+]?[0-9]+\Z")
_OCT = re.compile(r"0o[0-7]+\Z")
_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"[-+]?\.(inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(nan|NaN|NAN)\Z")
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUES = frozenset({"true", "True", "TRUE"})
_FALSES = frozenset({"false", "False", "FALSE"})


NULL_SPELLINGS = frozenset(("null", "Null", "NULL", "~"))


def is_explicit_null(node: Any) -> bool:
    """A plain scalar that yaml reads as null because `null` or `~` is written, not because the value is empty
    (`key:`): the former is the expression language's `null` literal in an expression field."""
    return isinstance(node, YScalar) and node.value is None and node.style is None and \
        node.text.strip() in NULL_SPELLINGS


def resolve_plain(text: str) -> Any:
    """Type a plain scalar per the YAML 1.2 core schema: `on`, `yes`, `no` and
    `off` stay strings; only true/false are booleans."""
    if not text:
        return None
    c = text[0]
    if c in "0123456789+-.":
        if _INT.match(text):
            return int(text)
        if _FLOAT.match(text):
            return float(text)
        if _OCT.match(text):
            return int(text[2:], 8)
        if _HEX.match(text):
            return int(text[2:], 16)
        if _INF.match(text):
            return -math.inf if c == "-" else math.inf
        if _NAN.match(text):
            return math.nan
        return text
    if c in "nN~" and text in _NULLS:
        return None
    if c in "tT" and text in _TRUES:
        return True
    if c in "fF" and text in _FALSES:
        return False
    return text


# ---------------------------------------------------------------------------
# composing


try:  # libyaml keeps marks (character offsets) and composes several times faster
    from yaml.cyaml import CParser as _Parser

    _HAVE_C = True
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml.parser import Parser as _Parser  # type: ignore[assignment]

    _HAVE_C = False


def _make_loader(fast: bool) -> type:
    """A loader that composes nodes only and resolves nothing (every plain
    scalar comes back as a string; the core schema is applied afterwards)."""

    class _NoResolver(BaseResolver):
        yaml_implicit_resolvers: dict = {}
        yaml_path_resolvers: dict = {}

        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            # tags are read from the source text instead; this runs once per node, so keep it trivial
            return _STR_TAG

    if fast and _HAVE_C:

        class _CLoader(_Parser, _NoResolver):  # type: ignore[misc, valid-type]
            def __init__(self, stream: str):
                _Parser.__init__(self, stream)
                _NoResolver.__init__(self)

        return _CLoader

    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _PyLoader(Reader, Scanner, Parser, Composer, _NoResolver):
        def __init__(self, stream: str):
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)
            _NoResolver.__init__(self)

    return _PyLoader


_FAST_LOADER = _make_loader(True)
_PY_LOADER = _make_loader(False)  # for error messages: PyYAML's wording is clearer than libyaml's

_PITFALL_HELP = "write 'not x' instead of '!x', or quote the expression"


def read_policy_text(path: str | Path) -> tuple[str | None, list[Diagnostic]]:
    """Read a policy file as UTF-8 text (E0001 when unreadable, E0002 when not UTF-8)."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        reason = e.strerror.lower() if e.strerror else str(e).lower()
        return None, [Diagnostic("E0001", f"cannot read '{name}': {reason}", Span(name, 1, 1))]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        before = data[: e.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        return None, [
            Diagnostic(
                "E0002",
                f"'{name}' is not utf-8 text: byte 0x{data[e.start]:02x} cannot be decoded",
                Span(name, line, col),
                help="save the file as utf-8",
            )
        ]
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, []


def load_yaml(text: str, filename: str) -> tuple[Node | None, list[Diagnostic]]:
    """Parse one YAML document into a positioned tree.

    Returns (None, diagnostics) when the text is not YAML; otherwise the tree
    plus any problems found in it (duplicate keys, anchors, tags, pitfalls),
    none of which prevent the later stages from running.
    """
    source = Source(text, filename)
    try:
        raw = yaml.compose(text, Loader=_FAST_LOADER)
    except yaml.YAMLError as e:
        return None, [_syntax_diagnostic(source, e)]
    if raw is None:
        return None, [Diagnostic("E0101", "invalid yaml: the file is empty", source.span(0),
                                 help="a policy file starts with 'accord: 1'")]
    builder = _Builder(source)
    root = builder.build(raw, None)
    if builder.aliased:
        builder.report_aliases()
    return root, builder.diags


class _Builder:
    """Turns PyYAML nodes into Y-nodes, checking each as it goes."""

    def __init__(self, source: Source):
        self.source = source
        self.filename = source.filename
        self.diags: list[Diagnostic] = []
        self.seen: set[int] = set()
        self.aliased = False

    def _span(self, node: yaml.Node) -> Span:
        """The node's span, straight from the parser's marks (0-based line and column)."""
        a, b = node.start_mark, node.end_mark
        return Span(self.filename, a.line + 1, a.column + 1, b.line + 1, b.column + 1)

    def _properties(self, node: yaml.Node, key: str | None, report: bool = True) -> int:
        """Report anchors and tags written before a node; return where its content starts."""
        text = self.source.text
        i = node.start_mark.index
        end = node.end_mark.index
        while i < end and text[i] in "&!":
            j = i
            while j < end and text[j] not in " \t\r\n,[]{}":
                j += 1
            prop = text[i:j]
            k = j
            while k < end and text[k] in " \t\r\n":
                k += 1
            if report:
                self._property(node, prop, i, j, text[k:end], key)
            i = k
        return i

    def _property(self, node: yaml.Node, prop: str, start: int, stop: int, rest: str, key: str | None) -> None:
        span = self.source.span(start, stop)
        where = f"the value of '{key}'" if key else "a value"
        if prop.startswith("&"):
            if isinstance(node, yaml.ScalarNode):
                shown = (prop + " " + rest).strip()
                self.diags.append(Diagnostic(
                    "E0103", f"{where} starts with '{prop}', which yaml reads as an anchor", span,
                    help=f"quote the expression: \"{_dq(shown)}\""))
            else:
                self.diags.append(Diagnostic(
                    "E0104", f"anchor '{prop}' is not supported: policies are plain data", span,
                    help="write the value out in full instead of using anchors and aliases"))
            return
        if prop in ("!!str", "!!int", "!!float", "!!bool", "!!null", "!!map", "!!seq"):
            return
        if isinstance(node, yaml.ScalarNode) and not prop.startswith("!!"):
            negated = prop[1:] + ((" " + rest) if rest else "")
            self.diags.append(Diagnostic(
                "E0103", f"{where} starts with '{prop}', which yaml reads as a tag", span,
                help=f"write 'not {negated}' instead of '!{negated}', or quote the expression"))
            return
        self.diags.append(Diagnostic(
            "E0104", f"tag '{prop}' is not supported: policies are plain data", span,
            help="remove the tag, or quote the value if the '!' belongs to it"))

    def build(self, node: yaml.Node, key: str | None) -> Node:
        nid = id(node)
        again = nid in self.seen
        if again:
            self.aliased = True
        self.seen.add(nid)
        src = self.source
        start, end = node.start_mark.index, node.end_mark.index
        if isinstance(node, yaml.ScalarNode):
            content = start
            if src.text[start : start + 1] in ("&", "!"):
                content = self._properties(node, key, report=not again)
            style = node.style or None
            if style is None:
                props = src.text[start:content] if content != start else ""
                if "!" in props and ("!!str" in props or "!!" not in props):
                    value: Any = node.value
                else:
                    value = resolve_plain(node.value)
            else:
                value = node.value
            return YScalar(value, style, self._span(node), start, end, src, content)
        if src.text[start : start + 1] in ("&", "!"):
            self._properties(node, key, report=not again)
        if isinstance(node, yaml.SequenceNode):
            return YSeq([self.build(n, key) for n in node.value], self._span(node), start, end, src)
        entries: list[tuple[YScalar, Node]] = []
        firsts: dict[str, tuple[int, YScalar]] = {}
        for knode, vnode in node.value:
            if not isinstance(knode, yaml.ScalarNode):
                self.diags.append(Diagnostic(
                    "E0104", "a key must be a name, not a list or mapping", self._span(knode),
                    help="write keys as plain names: policies are plain data"))
                continue
            k = self.build(knode, None)
            assert isinstance(k, YScalar)
            name = _key_str(k)
            if name == "<<" and k.style is None:
                self.diags.append(Diagnostic(
                    "E0104", "merge key '<<' is not supported: policies are plain data", k.span,
                    help="write the merged keys out in full"))
                continue
            v = self.build(vnode, name)
            if name in firsts:
                first_line = firsts[name][1].span.line
                self.diags.append(Diagnostic(
                    "E0102", f"duplicate key '{name}'", k.span,
                    help=f"'{name}' is already set on line {first_line}; yaml would silently keep only the last value"))
                entries[firsts[name][0]] = (k, v)
                continue
            firsts[name] = (len(entries), k)
            entries.append((k, v))
        if node.flow_style:
            for k, v in entries:
                self._check_split(v, _key_str(k))
        return YMap(entries, self._span(node), start, end, src)

    def _check_split(self, v: Node, key: str) -> None:
        """`{ a: f(x, y) }` parses as {a: 'f(x', 'y)': null}: catch the unbalanced half."""
        if not (isinstance(v, YScalar) and v.style is None and isinstance(v.value, str)):
            return
        text = v.value
        if text.count("(") > text.count(")") or text.count("[") > text.count("]"):
            raw = self.source.text
            depth, j = 0, v.start
            while j < len(raw) and raw[j] not in "\r\n":
                c = raw[j]
                if c in "([":
                    depth += 1
                elif c in ")]":
                    depth -= 1
                elif c in ",}" and depth <= 0:
                    break
                j += 1
            whole = raw[v.start : j].strip()
            self.diags.append(Diagnostic(
                "E0103", f"inside a flow mapping yaml splits the value of '{key}' at ',', so it reads only '{text}'",
                v.span, help=f"quote the expression: {key}: \"{_dq(whole)}\", or write the mapping in block style"))

    def report_aliases(self) -> None:
        """Aliases share their anchor's node, so find where they are written from the event stream."""
        try:
            events = list(yaml.parse(self.source.text, Loader=_FAST_LOADER))
        except yaml.YAMLError:  # pragma: no cover - it composed a moment ago
            return
        for ev in events:
            if isinstance(ev, yaml.AliasEvent):
                span = self.source.span(ev.start_mark.index, ev.end_mark.index)
                self.diags.append(Diagnostic(
                    "E0103", f"'*{ev.anchor}' is read by yaml as an alias, not as part of the value", span,
                    help=f"quote the expression: \"*{ev.anchor}\"; anchors and aliases are not supported"))


# ---------------------------------------------------------------------------
# syntax errors and the pitfalls behind them


_KEY_VALUE = re.compile(r"^(\s*(?:-\s+)*)([^\s#'\"\[\]{}:][^#:]*?|'[^']*'|\"[^\"]*\")[ \t]*:(?:[ \t]+|$)")


def _syntax_diagnostic(source: Source, err: yaml.YAMLError) -> Diagnostic:
    """E0101 with PyYAML's wording, or E0103 when the line shows a YAML pitfall."""
    if _HAVE_C:
        try:  # re-run the pure-Python parser: its messages name the character and say 'here'
            yaml.compose(source.text, Loader=_PY_LOADER)
        except yaml.YAMLError as e:
            err = e
    if isinstance(err, yaml.reader.ReaderError):
        return Diagnostic(
            "E0101", f"invalid yaml: unacceptable character #x{err.character:04x}: {err.reason}",
            source.span(err.position), help="remove the control character")
    if not isinstance(err, yaml.MarkedYAMLError) or err.problem_mark is None:
        return Diagnostic("E0101", f"invalid yaml: {str(err).lower()}", source.span(0))
    mark = err.problem_mark
    line, col = mark.line + 1, mark.column + 1
    span = Span(source.filename, line, col)
    problem = (err.problem or "syntax error").strip()
    pitfall = None
    if (err.context or "").startswith("while parsing a flow"):
        pitfall = _flow_pitfall(source, line, col, err.context or "")
    if pitfall is None and not (err.context or "").startswith("while parsing a flow"):
        pitfall = _pitfall(source, line, col, problem)
    if pitfall:
        return pitfall
    help_ = None
    if "'\\t'" in problem:
        help_ = "indent with spaces; yaml does not allow tabs for indentation"
    elif err.context:
        help_ = f"{err.context}"
        if err.context_mark is not None:
            help_ += f" started on line {err.context_mark.line + 1}, column {err.context_mark.column + 1}"
    return Diagnostic("E0101", f"invalid yaml: {problem}", span, help=help_)


def _pitfall(source: Source, line: int, col: int, problem: str) -> Diagnostic | None:
    """Recognise an expression that YAML did not read as one, from the text of
    the line the error points at (or the line before, for block errors)."""
    for ln in (line, line - 1):
        text = source.line_text(ln)
        m = _KEY_VALUE.match(text)
        if not m:
            continue
        key = m.group(2).strip("'\"")
        vstart = m.end()
        value = text[vstart:].rstrip()
        if not value:
            continue
        vcol = vstart + 1
        span = Span(source.filename, ln, vcol)
        if ln == line and "mapping values are not allowed" in problem and col > vcol:
            return Diagnostic(
                "E0103", f"the value of '{key}' contains ': ', which yaml reads as the start of a mapping", Span(
                    source.filename, ln, col),
                help=f"quote the expression: {key}: \"{_dq(value)}\"")
        first = value[0]
        if first in "'\"" and ln == line and col > vcol:
            close = value.find(first, 1)
            if 0 < close < len(value) - 1:
                return Diagnostic(
                    "E0103",
                    f"the value of '{key}' starts with a quoted string: yaml read only {value[:close + 1]} "
                    f"and then found '{value[close + 1:].strip()}'",
                    span, help=f"quote the whole expression: {key}: \"{_dq(value)}\"")
        if first in "[{" and ln == line and col > vcol:
            kind = "a list" if first == "[" else "a mapping"
            return Diagnostic(
                "E0103", f"the value of '{key}' starts with '{first}', which yaml reads as {kind}", span,
                help=f"quote the expression: {key}: \"{_dq(value)}\"")
        if first == "!" and ln == line:
            rest = value[1:]
            return Diagnostic(
                "E0103", f"the value of '{key}' starts with '!', which yaml reads as a tag", span,
                help=f"write 'not {rest}' instead of '{value}', or quote the expression")
        if first in "&*" and ln == line:
            what = "an anchor" if first == "&" else "an alias"
            return Diagnostic(
                "E0103", f"the value of '{key}' starts with '{first}', which yaml reads as {what}", span,
                help=f"quote the expression: {key}: \"{_dq(value)}\"")
    return None


def _flow_pitfall(source: Source, line: int, col: int, context: str) -> Diagnostic | None:
    """Inside `{ ... }` or `[ ... ]` a plain value ends at , [ ] { } — so
    `{ sku: data.catalog[event.sku] }` is a syntax error; say which value to quote."""
    text = source.line_text(line)
    i = col - 1
    if i >= len(text) or text[i] not in "[]{}?":
        return None
    start = max(text.rfind(": ", 0, i) + 2, text.rfind(", ", 0, i) + 2, text.rfind("{", 0, i) + 1,
                text.rfind("[ ", 0, i) + 2)
    if text[start - 2 : start] != ": " and start <= 0:
        return None
    depth, j = 0, start
    while j < len(text):
        c = text[j]
        if c in "([":
            depth += 1
        elif c in ")]":
            if depth == 0:
                break
            depth -= 1
        elif c in ",}" and depth == 0:
            break
        j += 1
    value = text[start:j].strip()
    if not value or value[0] in "[{\"'":
        return None
    kind = "mapping" if "mapping" in context else "list"
    key_m = re.search(r"([A-Za-z0-9_]+)\s*:\s*$", text[:start])
    quoted = f"{key_m.group(1)}: \"{_dq(value)}\"" if key_m else f"\"{_dq(value)}\""
    return Diagnostic(
        "E0103", f"inside a flow {kind} yaml ends a plain value at '{text[i]}', so '{value}' is not read as one value",
        Span(source.filename, line, col),
        help=f"quote the expression: {quoted}, or write the {kind} in block style, one entry per line")


def _dq(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


# ---------------------------------------------------------------------------
# offsets inside scalar values


_ESCAPES = {
    "0": "\0", "a": "\x07", "b": "\x08", "t": "\t", "\t": "\t", "n": "\n", "v": "\x0b", "f": "\x0c",
    "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0",
    "L": "\u2028", "P": "\u2029",
}
_HEX_LEN = {"x": 2, "u": 4, "U": 8}


def _value_offsets(node: YScalar) -> list[int]:
    """For each character of the value (plus one past the end), its offset in
    the source. Re-scans the raw text the way the YAML scanner does; when the
    re-scan does not reproduce the value, falls back to a straight mapping."""
    text = node.source.text
    start = node._content_start
    value = node.value
    style = node.style
    result: tuple[str, list[int]] | None
    if style in ("|", ">"):
        result = None
        col = start - node.source.line_start(start)
        for parent in range(-1, col + 1):
            candidate = _scan_block(text, start, parent)
            if candidate[0] == value:
                result = candidate
                break
    elif style in ("'", '"'):
        result = _scan_flow(text, start + 1, node.end - 1, style)
    else:
        result = _scan_flow(text, start, node.end, None)
    if result is not None and result[0] == value:
        chars, offsets = result
        offsets.append(node.end if not offsets else _after(text, offsets[-1], style, node.end))
        return offsets
    base = start + (1 if style in ("'", '"') else 0)
    return [min(base + i, node.end) for i in range(len(value) + 1)]


def _after(text: str, last: int, style: str | None, end: int) -> int:
    """The position just after the last character of the value."""
    if style in ("|", ">"):
        return last + 1
    return min(last + 1, end)


def _scan_flow(text: str, i: int, stop: int, quote: str | None) -> tuple[str, list[int]]:
    """Plain and quoted scalars: line folding, '' in single quotes, escapes in double quotes."""
    chars: list[str] = []
    pos: list[int] = []
    while i < stop:
        ch = text[i]
        if ch in " \t":
            k = i
            while k < stop and text[k] in " \t":
                k += 1
            if k < stop and text[k] in "\r\n":
                i = k
                continue
            if k >= stop and quote is None:
                break
            for j in range(i, k):
                chars.append(text[j])
                pos.append(j)
            i = k
            continue
        if ch in "\r\n":
            break_at = i
            i = _skip_break(text, i)
            breaks = []
            while True:
                while i < stop and text[i] in " \t":
                    i += 1
                if i < stop and text[i] in "\r\n":
                    breaks.append(i)
                    i = _skip_break(text, i)
                else:
                    break
            if breaks:
                for b in breaks:
                    chars.append("\n")
                    pos.append(b)
            else:
                chars.append(" ")
                pos.append(break_at)
            continue
        if quote == "'" and ch == "'" and i + 1 < stop and text[i + 1] == "'":
            chars.append("'")
            pos.append(i)
            i += 2
            continue
        if quote == '"' and ch == "\\" and i + 1 < stop:
            nxt = text[i + 1]
            if nxt in "\r\n":
                i = _skip_break(text, i + 1)
                while True:
                    while i < stop and text[i] in " \t":
                        i += 1
                    if i < stop and text[i] in "\r\n":
                        chars.append("\n")
                        pos.append(i)
                        i = _skip_break(text, i)
                    else:
                        break
                continue
            if nxt in _ESCAPES:
                chars.append(_ESCAPES[nxt])
                pos.append(i)
                i += 2
                continue
            if nxt in _HEX_LEN:
                n = _HEX_LEN[nxt]
                try:
                    chars.append(chr(int(text[i + 2 : i + 2 + n], 16)))
                except ValueError:
                    chars.append("?")
                pos.append(i)
                i += 2 + n
                continue
        chars.append(ch)
        pos.append(i)
        i += 1
    return "".join(chars), pos


def _skip_break(text: str, i: int) -> int:
    if text.startswith("\r\n", i):
        return i + 2
    return i + 1


def _scan_block(text: str, i: int, parent_indent: int) -> tuple[str, list[int]]:
    """Literal and folded block scalars, following PyYAML's scan_block_scalar."""
    n = len(text)

    def ch(j: int) -> str:
        return text[j] if j < n else "\0"

    def column(j: int) -> int:
        return j - (text.rfind("\n", 0, j) + 1)

    chars: list[str] = []
    pos: list[int] = []
    folded = ch(i) == ">"
    i += 1
    chomping: bool | None = None
    increment: int | None = None
    for _ in range(2):
        c = ch(i)
        if c in "+-" and chomping is None:
            chomping = c == "+"
            i += 1
        elif c in "123456789" and increment is None:
            increment = int(c)
            i += 1
    while ch(i) not in "\r\n\0":
        i += 1
    i = _skip_break(text, i) if ch(i) != "\0" else i
    min_indent = max(parent_indent + 1, 1)

    def breaks_to(indent: int, j: int) -> tuple[list[int], int]:
        found: list[int] = []
        while column(j) < indent and ch(j) == " ":
            j += 1
        while ch(j) in "\r\n":
            found.append(j)
            j = _skip_break(text, j)
            while column(j) < indent and ch(j) == " ":
                j += 1
        return found, j

    if increment is None:
        brk: list[int] = []
        max_indent = 0
        while ch(i) in " \r\n":
            if ch(i) != " ":
                brk.append(i)
                i = _skip_break(text, i)
            else:
                i += 1
                max_indent = max(max_indent, column(i))
        indent = max(min_indent, max_indent)
    else:
        indent = min_indent + increment - 1
        brk, i = breaks_to(indent, i)
    line_break: int | None = None
    while column(i) == indent and ch(i) != "\0":
        for b in brk:
            chars.append("\n")
            pos.append(b)
        leading_non_space = ch(i) not in " \t"
        k = i
        while ch(k) not in "\r\n\0":
            k += 1
        for j in range(i, k):
            chars.append(text[j])
            pos.append(j)
        i = k
        line_break = i if ch(i) != "\0" else None
        if line_break is not None:
            i = _skip_break(text, i)
        brk, i = breaks_to(indent, i)
        if column(i) == indent and ch(i) != "\0":
            if folded and line_break is not None and leading_non_space and ch(i) not in " \t":
                if not brk:
                    chars.append(" ")
                    pos.append(line_break)
            elif line_break is not None:
                chars.append("\n")
                pos.append(line_break)
        else:
            break
    if chomping is not False and line_break is not None:
        chars.append("\n")
        pos.append(line_break)
    if chomping is True:
        for b in brk:
            chars.append("\n")
            pos.append(b)
    return "".join(chars), pos
