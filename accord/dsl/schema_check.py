"""Structural validation of a policy against `schemas/policy.schema.json`.

The JSON Schema is the single description of the file format: editors use it
for completion and hover help, and this module uses it to find every
structural problem in one pass. jsonschema's own messages speak of instances
and subschemas; here each error is mapped back to the YAML node it concerns
(for an unknown key, the key itself) and reworded for a policy author, with a
stable code and a "did you mean" where a close spelling exists.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from accord.dsl.loader import Node, YMap, YScalar, YSeq, is_explicit_null, to_plain
from accord.errors import Diagnostic, Span

__all__ = ["check_structure", "load_schema", "validator", "did_you_mean", "DURATION_HELP", "PERCENT_HELP"]

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "policy.schema.json"

IDENT_HELP = "names are lowercase letters, digits and '_', not starting with a digit"
DURATION_HELP = "write a duration like 90s, 15m, 4h, 2d or 1h30m"
PERCENT_HELP = "write a percentage like \"75%\" or a fraction between 0 and 1 like 0.75"
PITFALL_HELP = "write 'not x' instead of '!x', or quote the expression"


@lru_cache(maxsize=1)
def load_schema() -> dict:
    """The policy file's JSON Schema (parsed once per process)."""
    with open(SCHEMA_PATH, encoding="utf-8") as f:
        return json.load(f)


@lru_cache(maxsize=1)
def validator() -> Any:
    """A Draft 2020-12 validator for the policy schema, compiled once per process.

    It validates a copy of the schema with every `$ref` inlined (the schema is
    not recursive): resolving references was about half the validation time.
    Each inlined definition is tagged `x-def: <name>` so errors can still be
    told apart by the definition they come from.
    """
    from jsonschema import Draft202012Validator

    return Draft202012Validator(inlined_schema())


@lru_cache(maxsize=1)
def inlined_schema() -> dict:
    """The policy schema with every `$ref` inlined (see `validator`)."""
    return _inlined(load_schema())


# ---------------------------------------------------------------------------
# a quick yes/no answer for a valid policy
#
# jsonschema takes about a tenth of a second to import, and finds nothing in a
# valid file.  `_valid` decides validity for the keywords this schema uses with
# Draft 2020-12's exact meaning (jsonschema's own type checks and equality); it
# answers None for anything else, and only a True answer skips jsonschema — a
# file with a problem is always reported by jsonschema itself.

class _Unsure(Exception):
    pass


_IGNORED = frozenset(("$schema", "$id", "$comment", "title", "description", "x-def", "default", "examples",
                      "markdownDescription", "deprecated"))
_SCALARS = (str, int, float, bool, type(None))


def _is_type(instance: Any, name: str) -> bool:
    if name == "object":
        return isinstance(instance, dict)
    if name == "array":
        return isinstance(instance, list)
    if name == "string":
        return isinstance(instance, str)
    if name == "boolean":
        return isinstance(instance, bool)
    if name == "null":
        return instance is None
    if name == "integer":  # draft 6 and later: 1.0 is an integer
        return (isinstance(instance, int) and not isinstance(instance, bool)) or (
            isinstance(instance, float) and instance.is_integer())
    if name == "number":
        return isinstance(instance, (int, float)) and not isinstance(instance, bool)
    raise _Unsure


def _equal(one: Any, two: Any) -> bool:
    """jsonschema's `equal`: bools are not numbers; sequences and mappings element by element."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return one == two
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(_equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(_equal(one[k], two[k]) for k in one)
    if isinstance(one, (list, dict, tuple)) or isinstance(two, (list, dict, tuple)):
        raise _Unsure
    if isinstance(one, bool) or isinstance(two, bool):
        return one is two
    return one == two


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _check(schema: Any, inst: Any) -> bool:
    if schema is True:
        return True
    if schema is False:
        return False
    if not isinstance(schema, dict):
        raise _Unsure
    for key, value in schema.items():
        if key in _IGNORED or key in ("then", "else"):
            continue
        if key == "type":
            names = value if isinstance(value, list) else [value]
            if not any(_is_type(inst, n) for n in names):
                return False
        elif key == "properties":
            if isinstance(inst, dict):
                for name, sub in value.items():
                    if name in inst and not _check(sub, inst[name]):
                        return False
        elif key == "additionalProperties":
            if "patternProperties" in schema:
                raise _Unsure
            if isinstance(inst, dict):
                known = schema.get("properties", {})
                for name, v in inst.items():
                    if name not in known and not _check(value, v):
                        return False
        elif key == "required":
            if isinstance(inst, dict) and any(name not in inst for name in value):
                return False
        elif key == "minProperties":
            if isinstance(inst, dict) and len(inst) < value:
                return False
        elif key == "maxProperties":
            if isinstance(inst, dict) and len(inst) > value:
                return False
        elif key == "propertyNames":
            if isinstance(inst, dict) and not all(_check(value, name) for name in inst):
                return False
        elif key == "items":
            if not isinstance(value, (dict, bool)):
                raise _Unsure
            if isinstance(inst, list) and not all(_check(value, v) for v in inst):
                return False
        elif key == "minItems":
            if isinstance(inst, list) and len(inst) < value:
                return False
        elif key == "maxItems":
            if isinstance(inst, list) and len(inst) > value:
                return False
        elif key == "minLength":
            if isinstance(inst, str) and len(inst) < value:
                return False
        elif key == "maxLength":
            if isinstance(inst, str) and len(inst) > value:
                return False
        elif key == "pattern":
            if isinstance(inst, str) and not _search(value, inst):
                return False
        elif key == "enum":
            if not any(_equal(e, inst) for e in value):
                return False
        elif key == "const":
            if not _equal(inst, value):
                return False
        elif key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if _number(inst) and not _bound(key, value, inst):
                return False
        elif key == "if":
            branch = schema.get("then" if _check(value, inst) else "else", True)
            if not _check(branch, inst):
                return False
        elif key == "allOf":
            if not all(_check(sub, inst) for sub in value):
                return False
        elif key == "anyOf":
            if not any([_check(sub, inst) for sub in value]):
                return False
        elif key == "oneOf":
            if sum(1 for sub in value if _check(sub, inst)) != 1:
                return False
        elif key == "not":
            if _check(value, inst):
                return False
        else:
            raise _Unsure
    return True


def _bound(key: str, limit: Any, x: Any) -> bool:
    if not _number(limit):
        raise _Unsure
    if key == "minimum":
        return x >= limit
    if key == "maximum":
        return x <= limit
    if key == "exclusiveMinimum":
        return x > limit
    return x < limit


@lru_cache(maxsize=256)
def _compiled(pattern: str):
    import re

    return re.compile(pattern)


def _search(pattern: str, text: str) -> bool:
    return _compiled(pattern).search(text) is not None


def _plain_json(value: Any, depth: int = 0) -> bool:
    if depth > 200:
        return False
    if isinstance(value, dict):
        return all(type(k) is str and _plain_json(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain_json(v, depth + 1) for v in value)
    return type(value) in _SCALARS


def _valid(schema: dict, instance: Any) -> bool | None:
    """True or False when sure (Draft 2020-12, as jsonschema decides), else None."""
    if not _plain_json(instance):
        return None
    try:
        return _check(schema, instance)
    except Exception:  # _Unsure, a bad pattern, too deep: let jsonschema decide
        return None


def _inlined(schema: dict) -> dict:
    defs = schema.get("$defs", {})
    memo: dict[str, dict] = {}

    def resolve(name: str) -> dict:
        if name not in memo:
            body = walk(defs[name])
            body["x-def"] = name
            memo[name] = body
        return memo[name]

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                target = resolve(ref[len("#/$defs/"):])
                siblings = {k: v for k, v in node.items() if k != "$ref"}
                return {**target, **siblings} if siblings else target
            return {k: walk(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [walk(x) for x in node]
        return node

    return walk(schema)


def did_you_mean(word: str, choices: Sequence[str]) -> str | None:
    """'did you mean ...?' for the closest choice, or None when nothing is close."""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else None


def check_structure(root: Node, filename: str) -> list[Diagnostic]:
    """Every structural problem of the policy tree, each at its node."""
    if not isinstance(root, YMap):
        got = "a list" if isinstance(root, YSeq) else _got(to_plain(root))
        return [Diagnostic("E0403", f"expected a mapping of policy keys, got {got}", root.span,
                           help="a policy file is a mapping that starts with 'accord: 1'")]
    plain = to_plain(root)
    version = _double_version(root)
    if _valid(inlined_schema(), plain) is True:
        return version  # nothing else to report: jsonschema is not even imported
    mapper = _Mapper(root)
    diags: list[Diagnostic] = list(version)
    seen: set[tuple] = set()
    for error in validator().iter_errors(plain):
        for d in mapper.map(error):
            key = (d.code, d.span.line, d.span.column, d.message)
            if key not in seen:
                seen.add(key)
                diags.append(d)
    return sorted(diags, key=Diagnostic.sort_key)


def _version_diagnostic(node: Node, value: object) -> Diagnostic:
    if isinstance(value, (list, dict)):
        shown = _got(value)
    elif isinstance(value, str):
        shown = f"the string '{value}'"
    else:
        shown = f"'{node.text}'" if isinstance(node, YScalar) else _quote_value(value)
    return Diagnostic("E0404", f"{shown} is not a supported language version", node.span,
                      help="write accord: 1")


def _double_version(root: YMap) -> list[Diagnostic]:
    """`accord: 1.0` passes the schema (JSON Schema counts 1.0 as an integer), but the version is the integer 1."""
    for key, node in root.entries:
        if key.value == "accord" and isinstance(node, YScalar) and type(node.value) is float:
            return [_version_diagnostic(node, node.value)]
    return []


# ---------------------------------------------------------------------------
# wording


_EXPECTED = {
    "on": "a list of event types",
    "closes_on": "a list of event types",
    "start": "a list of event types",
    "stop": "a list of event types",
    "reads": "a list of names",
    "after": "a list of names",
    "applies_to": "a list of names",
    "rules": "a list of rules",
    "do": "a list of actions",
    "on_at_risk": "a list of actions",
    "on_breach": "a list of actions",
    "constraints": "a list of constraints",
    "slas": "a list of slas",
    "signals": "a mapping of signal names to expressions",
    "set": "a mapping of output names to expressions",
    "proposal": "a mapping of proposal fields to expressions",
    "agents": "a mapping of agent names to agents",
    "data": "a mapping of table names to tables",
    "negotiations": "a mapping of negotiation names to negotiations",
    "constants": "a mapping of constant names to values",
    "parties": "a mapping of party names to parties",
    "issues": "a mapping of issue names to issues",
    "weight": "a mapping of party names to weights",
    "range": "a list of two expressions [low, high]",
    "options": "a list of options",
    "rows": "a list of rows",
}

_ENUM_WHAT = {
    "role": "role",
    "hit": "hit policy",
    "on_error": "choice for 'on_error'",
    "on_violation": "choice for 'on_violation'",
    "strategy": "negotiation strategy",
    "protocol": "negotiation protocol",
    "format": "table format",
}

_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "null": "nothing",
}

_PITFALL_STARTS = {
    "[": "a list",
    "{": "a mapping",
}


def _got(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__  # pragma: no cover


def _expected(schema: dict, key: Any) -> str:
    if isinstance(key, str) and key in _EXPECTED:
        return _EXPECTED[key]
    types = schema.get("type")
    if isinstance(types, str):
        types = [types]
    if not types:
        return "a different value"
    if set(types) == {"string", "number", "boolean"}:
        return "a value"
    words = [_TYPE_WORDS.get(t, t) for t in types]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _fmt_num(x: Any) -> str:
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def _quote_value(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return f"'{_fmt_num(value)}'" if not isinstance(value, (list, dict)) else _got(value)


# ---------------------------------------------------------------------------
# mapping jsonschema errors to nodes


class _Mapper:
    def __init__(self, root: YMap):
        self.root = root

    # -- navigation

    def locate(self, path: Sequence[Any]) -> tuple[Node, YScalar | None]:
        """The node at a jsonschema path, and the key that holds it (if a map key does)."""
        node: Node = self.root
        key_node: YScalar | None = None
        for part in path:
            if isinstance(node, YMap) and isinstance(part, str):
                key_node = node.key_node(part)
                child = node.get(part)
            elif isinstance(node, YSeq) and isinstance(part, int) and part < len(node.items):
                key_node = None
                child = node.items[part]
            else:
                break
            if child is None:
                break
            node = child
        return node, key_node

    def key_span(self, path: Sequence[Any], key: str) -> Span:
        node, _ = self.locate(path)
        if isinstance(node, YMap):
            k = node.key_node(key)
            if k is not None:
                return k.span
        return node.span

    def context(self, path: Sequence[Any]) -> str:
        """How a policy author would name the place at `path`."""
        p = list(path)
        if not p:
            return "the policy"
        head = p[0]
        if head == "agents" and len(p) >= 2:
            where = f"agent '{p[1]}'"
            rest = p[2:]
            if rest[:1] == ["rules"] and len(rest) >= 2:
                where = f"{self._item_name(p[:4], 'rule')} of {where}"
                rest = rest[2:]
            elif rest[:1] == ["otherwise"]:
                where = f"'otherwise' of {where}"
                rest = rest[1:]
            return self._with_actions(where, rest)
        if head in ("constraints", "slas") and len(p) >= 2:
            kind = "constraint" if head == "constraints" else "sla"
            return self._with_actions(self._item_name(p[:2], kind), p[2:])
        if head == "negotiations" and len(p) >= 2:
            where = f"negotiation '{p[1]}'"
            if len(p) >= 4 and p[2] == "parties":
                return f"party '{p[3]}' of {where}"
            if len(p) >= 4 and p[2] == "issues":
                return f"issue '{p[3]}' of {where}"
            return where
        if head == "data" and len(p) >= 2:
            return f"table '{p[1]}'"
        if head == "case":
            return "'case'"
        return "'" + _dotted(p) + "'"

    def _item_name(self, path: Sequence[Any], kind: str) -> str:
        node, _ = self.locate(path)
        if isinstance(node, YMap):
            name = node.get("name")
            if isinstance(name, YScalar) and isinstance(name.value, str):
                return f"{kind} '{name.value}'"
        return f"{kind} {path[-1] + 1}"

    def _with_actions(self, where: str, rest: Sequence[Any]) -> str:
        if len(rest) >= 2 and rest[0] in ("do", "on_at_risk", "on_breach") and isinstance(rest[1], int):
            return f"action {rest[1] + 1} in '{rest[0]}' of {where}"
        return where

    # -- error → diagnostics

    def map(self, error: Any) -> list[Diagnostic]:
        kind = error.validator
        path = list(error.absolute_path)
        schema = error.schema if isinstance(error.schema, dict) else {}
        handler = getattr(self, f"_on_{kind}", None)
        if "propertyNames" in error.relative_schema_path or "propertyNames" in error.schema_path:
            return self._on_property_name(error, path)
        if handler is None:
            return self._generic(error, path)
        return handler(error, path, schema)

    def _field(self, path: Sequence[Any]) -> Any:
        return path[-1] if path else None

    def _generic(self, error: Any, path: list) -> list[Diagnostic]:
        node, _ = self.locate(path)
        message = str(error.message).lower() if error.message else "invalid value"
        return [Diagnostic("E0404", f"{message} in {self.context(path)}", node.span)]

    def _on_additionalProperties(self, error: Any, path: list, schema: dict) -> list[Diagnostic]:
        instance = error.instance
        allowed = list(schema.get("properties", {}))
        if not isinstance(instance, dict):
            return []
        out = []
        for key in instance:
            if key in allowed:
                continue
            span = self.key_span(path, key)
            help_ = did_you_mean(key, allowed) or "allowed keys: " + ", ".join(allowed)
            if _def(schema) == "action" and not did_you_mean(key, allowed):
                help_ = "an action is one of: " + ", ".join(allowed)
            out.append(Diagnostic("E0401", f"unknown key '{key}' in {self.context(path)}", span, help=help_))
        return out

    def _on_required(self, error: Any, path: list, schema: dict) -> list[Diagnostic]:
        instance = error.instance if isinstance(error.instance, dict) else {}
        node, key_node = self.locate(path)
        span = key_node.span if key_node is not None else _head(node.span)
        out = []
        props = schema.get("properties", {})
        for key in error.validator_value:
            if key in instance:
                continue
            desc = props.get(key, {}).get("description")
            help_ = f"'{key}': {desc[0].lower() + desc[1:].rstrip('.')}" if desc else None
            out.append(Diagnostic("E0402", f"{self.context(path)} is missing the required key '{key}'", span,
                                  help=help_))
        return out

    def _on_type(self, error: Any, path: list, schema: dict) -> list[Diagnostic]:
        node, key_node = self.locate(path)
        field = self._field(path)
        value = error.instance
        name = field if isinstance(field, str) else (path[-2] if len(path) >= 2 else "value")
        if field == "accord" and len(path) == 1:
            return [_version_diagnostic(node, value)]  # the same as `const` reports: one diagnostic for the node
        if _def(schema) in ("expression", "value") and value is None and is_explicit_null(node):
            return []  # `null` (or `~`) written out is the expression `null` (model_build reads it so)
        if _def(schema) in ("expression", "template", "value"):
            return [self._pitfall(node, key_node, name, value)]
        if _def(schema) == "percentage":
            return [Diagnostic("E0406", f"{_quote_value(value)} is not a percentage", node.span, help=PERCENT_HELP)]
        if _def(schema) == "duration":
            return [Diagnostic("E0405", f"{_quote_value(value)} is not a duration", node.span, help=DURATION_HELP)]
        expected = _expected(schema, field)
        help_ = None
        if expected.startswith("a list") and isinstance(value, (str, int, float)) and not isinstance(value, bool):
            shown = node.text if isinstance(node, YScalar) else str(value)
            help_ = f"write it as a list: {field}: [{shown}]" if isinstance(field, str) else "write it as a list"
        elif expected == "a string" and isinstance(value, (int, float)) and isinstance(node, YScalar):
            help_ = f"quote it: {field}: \"{node.text}\"" if isinstance(field, str) else f"quote it: \"{node.text}\""
        span = node.span if value is not None or key_node is None else key_node.span
        if isinstance(field, str):
            where = f"for '{field}'"
        elif len(path) >= 2 and isinstance(path[-2], str):
            # an item of a list: name the list's key and where it is (`on: [go, true]`)
            where = f"in '{path[-2]}'"
            if len(path) >= 3:
                where += f" of {self.context(path[:-2])}"
        else:
            where = f"for {self.context(path)}"
        return [Diagnostic("E0403", f"expected {expected} {where}, got {_got(value)}", span, help=help_)]

    def _pitfall(self, node: Node, key_node: YScalar | None, name: Any, value: Any) -> Diagnostic:
        """An expression field that YAML read as a list, a mapping or nothing."""
        src = node.source
        first = src.text[node.start : node.start + 1]
        if isinstance(value, (list, dict)):
            if first in _PITFALL_STARTS:
                # the list or mapping YAML read, up to its matching bracket: inside `{ ... }` the rest of
                # the line holds the next keys, which are not part of the expression
                written = re.sub(r"\s*\n\s*", " ", src.text[node.start : node.end]).strip()
                return Diagnostic(
                    "E0103", f"the value of '{name}' starts with '{first}', which yaml reads as "
                    f"{_PITFALL_STARTS[first]}, not as an expression", node.span,
                    help=f"quote the expression: {name}: \"{_esc(written)}\"")
            return Diagnostic("E0103", f"expected an expression for '{name}', got {_got(value)}", node.span,
                              help=f"write the expression on the same line as '{name}:', quoted if it "
                              "contains ': ' or starts with a special character")
        if value is None and key_node is not None:
            line = src.line_text(key_node.span.line)
            after = line[key_node.span.end_column:] if key_node.span.end_column else ""
            hash_at = after.find("#")
            if hash_at >= 0:
                col = key_node.span.end_column + hash_at + 1
                return Diagnostic(
                    "E0103", f"the value of '{name}' starts with '#', which yaml reads as a comment, "
                    "so the value is empty", Span(src.filename, key_node.span.line, col),
                    help=f"quote the expression: {name}: \"{_esc(after[hash_at:].strip())}\"")
            return Diagnostic("E0103", f"'{name}' has no value", key_node.span,
                              help=f"write an expression after '{name}:', e.g. {name}: true")
        return Diagnostic("E0103", f"expected an expression for '{name}', got {_got(value)}", node.span,
                          help=PITFALL_HELP)

    def _on_enum(self, error: Any, path: list, schema: dict) -> list[Diagnostic]:
        node, _ = self.locate(path)
        field = self._field(path)
        value = error.instance
        choices = [str(c) for c in error.validator_value]
        if _def(schema) == "preference" or (len(path) >= 4 and path[-3] == "issues"):
            return [Diagnostic("E0404", f"{_quote_value(value)} is not a preference", node.span,
                               help="write low or high for a range, or the options in order, best first")]
        what = _ENUM_WHAT.get(field, f"choice for '{field}'")
        code = "E0601" if field == "strategy" else "E0404"
        hint = did_you_mean(str(value), choices) if isinstance(value, str) else None
        help_ = hint or "expected one of: " + ", ".join(choices)
        return [Diagnostic(code, f"{_quote_value(value)} is not a {what}", node.span, help=help_)]

    def _on_const(self, error: Any, path: list, schema: dict) -> list[Diagnostic]:
        node, _ = self.locate(path)
        field = self._field(path)
        value = error.instance
        if field == "accord":
            return [_version_diagnostic(node, value)]
        if field == "close":
            return [Diagnostic("E0404", f"'close' takes true, got {_quote_value(value)}", node.span,
                               help="write close: true, or leave the action out")]
        return [Diagnostic("E0404", f"expected {error.validator_value!r} for '{field}', got {_quote_value(value)}",
                           node.span)]

    def _on_pattern(self, error: Any, path: list, schema: dict) -> list[Diagnostic]:
        node, _ = self.locate(path)
        return [self._bad_pattern(error.instance, schema, path, node.span)]

    def _bad_pattern(self, value: Any, schema: dict, path: list, span: Span) -> Diagnostic:
        shown = _quote_value(value)
        if _def(schema) == "duration":
            return Diagnostic("E0405", f"{shown} is not a duration", span, help=DURATION_HELP)
        if _def(schema) == "percentage" or (path and path[-1] == "at_risk"):
            return Diagnostic("E0406", f"{shown} is not a percentage", span, help=PERCENT_HELP)
        if path == ["policy"]:
            return Diagnostic("E0404", f"{shown} is not a policy name", span,
                              help="policy names are lowercase letters, digits, '_' and '-', starting with a letter")
        suggestion = None
        if isinstance(value, str):
            fixed = value.strip().lower().replace("-", "_").replace(" ", "_")
            if fixed and fixed != value and (fixed[0].isalpha() or fixed[0] == "_") and fixed.isidentifier():
                suggestion = f"did you mean '{fixed}'? {IDENT_HELP}"
        return Diagnostic("E0404", f"{shown} is not an identifier", span, help=suggestion or IDENT_HELP)

    def _on_property_name(self, error: Any, path: list) -> list[Diagnostic]:
        key = error.instance
        span = self.key_span(path, key) if isinstance(key, str) else self.locate(path)[0].span
        schema = error.schema if isinstance(error.schema, dict) else {}
        return [self._bad_pattern(key, schema, [], span)]

    def _range(self, error: Any, path: list, schema: dict) -> list[Diagnostic]:
        node, _ = self.locate(path)
        field = self._field(path)
        value = error.instance
        if field == "at_risk" or _def(schema) == "percentage":
            return [Diagnostic("E0406", f"{_quote_value(value)} is not a percentage", node.span, help=PERCENT_HELP)]
        lo, hi = schema.get("minimum"), schema.get("maximum")
        xlo = schema.get("exclusiveMinimum")
        if lo is not None and hi is not None:
            bound = f"between {_fmt_num(lo)} and {_fmt_num(hi)}"
        elif xlo is not None:
            bound = f"greater than {_fmt_num(xlo)}"
        elif lo is not None:
            bound = f"at least {_fmt_num(lo)}"
        else:
            bound = f"at most {_fmt_num(hi)}"
        return [Diagnostic("E0407", f"'{field}' must be {bound}, got {_fmt_num(value)}", node.span)]

    _on_minimum = _range
    _on_maximum = _range
    _on_exclusiveMinimum = _range
    _on_exclusiveMaximum = _range

    def _on_minProperties(self, error: Any, path: list, schema: dict) -> list[Diagnostic]:
        node, key_node = self.locate(path)
        span = key_node.span if key_node is not None else node.span
        field = self._field(path)
        if _def(schema) == "action":
            return [Diagnostic("E0402", f"{self.context(path)} is empty", node.span,
                               help="an action is one of: " + ", ".join(schema.get("properties", {})))]
        if field == "agents":
            return [Diagnostic("E0402", "the policy needs at least one agent", span)]
        if field == "parties":
            return [Diagnostic("E0404", f"{self.context(path[:-1])} needs exactly two parties, got {len(node)}",
                               span)]
        if field == "issues":
            return [Diagnostic("E0402", f"{self.context(path[:-1])} needs at least one issue", span)]
        if field == "award":
            return [Diagnostic("E0402", "'award' needs one of 'minimize' or 'maximize'", span,
                               help="write award: { minimize: <expression> }")]
        return self._generic(error, path)

    def _on_maxProperties(self, error: Any, path: list, schema: dict) -> list[Diagnostic]:
        node, key_node = self.locate(path)
        field = self._field(path)
        if _def(schema) == "action":
            keys = list(error.instance)
            return [Diagnostic("E0404", f"{self.context(path)} has several actions in one item: "
                               + ", ".join(f"'{k}'" for k in keys), node.span,
                               help="write each action as its own list item, e.g. - emit: {...} then - resolve: x")]
        if field == "parties":
            return [Diagnostic("E0404", f"{self.context(path[:-1])} needs exactly two parties, got {len(node)}",
                               key_node.span if key_node else node.span)]
        if field == "award":
            return [Diagnostic("E0404", "'award' takes exactly one of 'minimize' or 'maximize'", node.span)]
        return self._generic(error, path)

    def _on_minItems(self, error: Any, path: list, schema: dict) -> list[Diagnostic]:
        node, _ = self.locate(path)
        field = self._field(path)
        if field == "range":
            return [Diagnostic("E0404", f"a range is two expressions [low, high], got {len(error.instance)}",
                               node.span)]
        if field == "options":
            return [Diagnostic("E0404", "'options' needs at least one option", node.span)]
        return self._generic(error, path)

    _on_maxItems = _on_minItems

    def _on_minLength(self, error: Any, path: list, schema: dict) -> list[Diagnostic]:
        node, key_node = self.locate(path)
        if _def(schema) == "duration":
            return [Diagnostic("E0405", f"{_quote_value(error.instance)} is not a duration", node.span,
                               help=DURATION_HELP)]
        field = self._field(path)
        return [Diagnostic("E0404", f"'{field}' is empty", node.span)]

    def _on_oneOf(self, error: Any, path: list, schema: dict) -> list[Diagnostic]:
        node, key_node = self.locate(path)
        instance = error.instance if isinstance(error.instance, dict) else {}
        if _def(schema) == "table":
            span = key_node.span if key_node is not None else node.span
            if "file" in instance and "rows" in instance:
                return [Diagnostic("E0404", f"{self.context(path)} has both 'file' and 'rows'",
                                   self.key_span(path, "rows"),
                                   help="a table reads a file or lists its rows inline, not both")]
            return [Diagnostic("E0402", f"{self.context(path)} needs 'file' or 'rows'", span,
                               help="write file: data/<name>.csv, or rows: [...]")]
        return self._best_of(error, path)

    _on_anyOf = _on_oneOf

    def _best_of(self, error: Any, path: list) -> list[Diagnostic]:
        """oneOf/anyOf: report the branch that got furthest, not every branch."""
        from jsonschema.exceptions import best_match

        best = best_match(error.context) if error.context else None
        if best is None:
            return self._generic(error, path)
        return self.map(best)


def _def(schema: Any) -> str | None:
    """The definition an (inlined) subschema came from."""
    return schema.get("x-def") if isinstance(schema, dict) else None


def _dotted(path: Sequence[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _head(span: Span) -> Span:
    return Span(span.file, span.line, span.column)


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
