"""Compilation: syntax tree → Python source → one Python function.

The generated code is built only from the tree, never from the user's text:
every literal, field name and variable name reaches it as a named constant in
the function's own namespace, and the only identifiers written into the code
are ones this module invents (`_t3`, `_v1`, helper names).

Shape of the code.  Each node becomes straight-line statements that leave its
value in a temporary, so evaluation never walks a tree.  Errors are *values*
(`EvaluationError` instances) flowing through temporaries; helpers return
them rather than raise, which needs no `try` block per operator and lets
`false && e` absorb an error from either side.  Common cases are inlined —
dict member access, int/double arithmetic and comparison, string equality,
membership in a literal list — and anything unusual falls back to a helper in
runtime.py that knows the full semantics.  Lazy constructs (`&&`, `||`,
`?:`, `coalesce`, macros) become `if` blocks and `for` loops.  Python limits
static nesting (20 blocks, 100 indents), so a lazy construct nested very deep
is moved into a separate function that receives the variables in scope and
the iteration counter and returns both its value and the counter.

The macro iteration counter `_n` is a local of the evaluation, so there is no
shared mutable state; going over the limit raises at once, and nothing can
absorb that error.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any

from accord.dsl.expr import ast, fastpath
from accord.dsl.expr import runtime as rt
from accord.dsl.expr.errors import EvaluationError
from accord.dsl.expr.functions import IMPLEMENTATIONS, NEEDS_TZ, compile_pattern
from accord.dsl.expr.values import INT_MAX, INT_MIN, TYPES

_SPILL_INDENT = 36
_SPILL_BLOCKS = 12
_LITERAL_SET_TYPES = (str, int, float)

_HELPERS: dict[str, Any] = {
    "_Err": EvaluationError, "_NUM": rt.NUM, "_EQF": rt.EQ_FAST, "_PLAIN": rt.PLAIN,
    "_MIN": INT_MIN, "_MAX": INT_MAX, "_LIMIT": rt.MAX_ITERATIONS,
    "_SIZED": frozenset((str, list, dict, bytes)), "_DT": datetime,
    "_eq": rt.eq, "_ne": rt.ne, "_lt": rt.lt, "_le": rt.le, "_gt": rt.gt, "_ge": rt.ge,
    "_add": rt.add, "_sub": rt.sub, "_mul": rt.mul, "_div": rt.div, "_mod": rt.mod,
    "_neg": rt.neg, "_not": rt.not_, "_and": rt.and_, "_or": rt.or_, "_in": rt.in_,
    "_select": rt.select, "_has": rt.has, "_index": rt.index, "_checknum": rt.check_number,
    "_conderr": rt.cond_error, "_iter": rt.iter_target, "_prederr": rt.predicate_error,
    "_mklist": rt.make_list, "_mkmap": rt.make_map, "_limit": rt.limit_error,
    "_finish": rt.finish, "_internal": rt.internal_error,
    "_SAFETY": (ArithmeticError, ValueError, TypeError, LookupError, RecursionError),
}
_COMPARE = {"<": "_lt", "<=": "_le", ">": "_gt", ">=": "_ge"}
_ARITH = {"+": "_add", "-": "_sub", "*": "_mul"}


class _Fn:
    """One generated function: the main one, or a spilled one."""

    def __init__(self, name: str, params: list[str], indent: int):
        self.name = name
        self.params = params
        self.prologue: list[str] = []
        self.body: list[str] = []
        self.indent = indent
        self.base = indent
        self.blocks = 0
        self.names: dict[str, str] = {}
        self.counter = False


class _Codegen:
    def __init__(self, tz: tzinfo | None):
        self.ns: dict[str, Any] = {**_HELPERS, **fastpath.HELPERS}
        self.ns["_TZ"] = tz
        self._const_keys: dict[tuple, str] = {}
        self._ids = itertools.count(1)
        self.env: dict[str, str] = {}
        self.spilled: list[_Fn] = []
        self.fn = _Fn("_expr", ["_vars"], 2)

    # -- plumbing --
    def tmp(self, prefix: str = "_t") -> str:
        return f"{prefix}{next(self._ids)}"

    def emit(self, line: str) -> None:
        self.fn.body.append("    " * self.fn.indent + line)

    def const(self, value: Any, key: tuple | None = None) -> str:
        """A named constant holding `value` (deduplicated when `key` is given)."""
        if key is not None and key in self._const_keys:
            return self._const_keys[key]
        name = self.tmp("_k")
        self.ns[name] = value
        if key is not None:
            self._const_keys[key] = name
        return name

    def literal(self, value: Any) -> str:
        return self.const(value, (type(value).__name__, value))

    def error_const(self, message: str) -> str:
        return self.const(EvaluationError(message), ("error", message))

    def function(self, name: str) -> str:
        return self.const(IMPLEMENTATIONS[name], ("function", name))

    # -- dispatch --
    def gen(self, node: ast.Node) -> str:
        lazy = isinstance(node, (ast.Logical, ast.Conditional, ast.Macro)) or (
            isinstance(node, ast.Call) and node.function == "coalesce")
        if lazy and (self.fn.indent - self.fn.base > _SPILL_INDENT or self.fn.blocks >= _SPILL_BLOCKS):
            return self.spill(node)
        return getattr(self, "g_" + type(node).__name__)(node)

    def spill(self, node: ast.Node) -> str:
        locals_ = sorted(set(self.env.values()))
        fn = _Fn(self.tmp("_s"), ["_vars", "_n", *locals_], 1)
        outer = self.fn
        self.fn = fn
        atom = getattr(self, "g_" + type(node).__name__)(node)
        fn.body.append(f"    return {atom}, _n")
        self.fn = outer
        self.spilled.append(fn)
        outer.counter = True
        r = self.tmp()
        self.emit(f"{r}, _n = {fn.name}({', '.join(fn.params)})")
        return r

    # -- leaves --
    def g_Literal(self, node: ast.Literal) -> str:
        return self.literal(node.value)

    def g_Ident(self, node: ast.Ident) -> str:
        if node.name in self.env:
            return self.env[node.name]
        if node.name in TYPES:
            return self.const(TYPES[node.name], ("type", node.name))
        local = self.fn.names.get(node.name)
        if local is None:
            local = self.fn.names[node.name] = self.tmp("_v")
            key = self.literal(node.name)
            missing = self.error_const(f"no such name '{node.name}'")
            self.fn.prologue.append(f"{local} = _vars.get({key}, {missing})")
        return local

    # -- access --
    def _select(self, a: str, field: str, slow: str = "_select") -> str:
        key = self.literal(field)
        missing = self.error_const(f"no such key '{field}'")
        t = self.tmp()
        self.emit(f"{t} = {a}.get({key}, {missing}) if type({a}) is dict else {slow}({a}, {key})")
        return t

    def g_Select(self, node: ast.Select) -> str:
        return self._select(self.gen(node.operand), node.field)

    def g_Index(self, node: ast.Index) -> str:
        a = self.gen(node.operand)
        if isinstance(node.index, ast.Literal) and node.index.kind == "string":
            return self._select(a, node.index.value, "_index")
        i = self.gen(node.index)
        t = self.tmp()
        self.emit(f"{t} = {a}[{i}] if type({a}) is list and type({i}) is int and 0 <= {i} < len({a}) "
                  f"else _index({a}, {i})")
        return t

    def g_Has(self, node: ast.Has) -> str:
        a = self.gen(node.operand)
        key = self.literal(node.field)
        t = self.tmp()
        self.emit(f"{t} = {key} in {a} if type({a}) is dict else _has({a}, {key})")
        return t

    # -- operators --
    def g_Unary(self, node: ast.Unary) -> str:
        a = self.gen(node.operand)
        t = self.tmp()
        if node.op == "!":
            self.emit(f"{t} = False if {a} is True else True if {a} is False else _not({a})")
        else:
            self.emit(f"{t} = -{a} if type({a}) is float else _neg({a})")
        return t

    @staticmethod
    def _is_number_literal(node: ast.Node) -> bool:
        return isinstance(node, ast.Literal) and node.kind in ("int", "double")

    def _checks(self, pairs: list[tuple[ast.Node, str]], typeset: str) -> str:
        parts = [f"type({a}) in {typeset}" for n, a in pairs if not self._is_number_literal(n)]
        return " and ".join(parts)

    def g_Binary(self, node: ast.Binary) -> str:
        op = node.op
        if op == "in":
            return self._in(node)
        a = self.gen(node.left)
        b = self.gen(node.right)
        t = self.tmp()
        pairs = [(node.left, a), (node.right, b)]
        if op in _ARITH:
            checks = self._checks(pairs, "_NUM")
            strlit = [n for n in (node.left, node.right) if isinstance(n, ast.Literal) and n.kind == "string"]
            if op == "+" and strlit:
                other = b if strlit[0] is node.left else a
                self.emit(f"{t} = {a} + {b} if type({other}) is str else _add({a}, {b})")
                return t
            # a float result needs no range check (and comparing a float with 2**63 is slow)
            fast = f"({t} if type({t} := {a} {op} {b}) is float or _MIN <= {t} <= _MAX else _checknum({t}))"
            if checks and op == "-" and not any(self._is_number_literal(n) for n in (node.left, node.right)):
                # timestamp - timestamp is common (now - event.time): second fast path
                self.emit(f"{t} = {fast} if {checks} else {a} - {b} if type({a}) is _DT and type({b}) is _DT "
                          f"else {_ARITH[op]}({a}, {b})")
            elif checks:
                self.emit(f"{t} = {fast} if {checks} else {_ARITH[op]}({a}, {b})")
            else:
                self.emit(f"{t} = {fast}")
            return t
        if op == "/":
            checks = self._checks(pairs, "_NUM")
            nonzero = self._is_number_literal(node.right) and node.right.value != 0
            cond = " and ".join(x for x in (checks, "" if nonzero else b) if x)
            self.emit(f"{t} = {a} / {b} if {cond} else _div({a}, {b})" if cond else f"{t} = {a} / {b}")
            return t
        if op == "%":
            self.emit(f"{t} = _mod({a}, {b})")
            return t
        if op in _COMPARE:
            checks = self._checks(pairs, "_NUM")
            known = [self.ns[x] for x in (a, b) if x.startswith("_k") and type(self.ns[x]) in (timedelta, str)]
            if known:  # compared with a duration or string constant: check the other side's type
                other = b if (a.startswith("_k") and type(self.ns[a]) is type(known[0])) else a
                self.emit(f"{t} = {a} {op} {b} if type({other}) is {self.const(type(known[0]))} "
                          f"else {_COMPARE[op]}({a}, {b})")
            elif checks:
                self.emit(f"{t} = {a} {op} {b} if {checks} else {_COMPARE[op]}({a}, {b})")
            else:
                self.emit(f"{t} = {a} {op} {b}")
            return t
        # == and !=
        parts = [f"type({x}) in _EQF" for n, x in pairs
                 if not (isinstance(n, ast.Literal) and n.kind in ("int", "double", "string", "null"))]
        helper = "_eq" if op == "==" else "_ne"
        if parts:
            self.emit(f"{t} = {a} {op} {b} if {' and '.join(parts)} else {helper}({a}, {b})")
        else:
            self.emit(f"{t} = {helper}({a}, {b})")
        return t

    def _in(self, node: ast.Binary) -> str:
        a = self.gen(node.left)
        t = self.tmp()
        right = node.right
        if isinstance(right, ast.ListLit) and all(
                isinstance(i, ast.Literal) and type(i.value) in _LITERAL_SET_TYPES for i in right.items):
            values = tuple(i.value for i in right.items)
            fast = self.const(frozenset(values))
            slow = self.const(values)
            self.emit(f"{t} = {a} in {fast} if type({a}) in _EQF else _in({a}, {slow})")
            return t
        b = self.gen(right)
        self.emit(f"{t} = {a} in {b} if type({b}) is dict and type({a}) is str else _in({a}, {b})")
        return t

    def g_Logical(self, node: ast.Logical) -> str:
        stop, go, helper = ("False", "True", "_and") if node.op == "&&" else ("True", "False", "_or")
        r = self.tmp()
        self.emit(f"{r} = {self.gen(node.operands[0])}")
        for operand in node.operands[1:]:
            self.emit(f"if {r} is not {stop}:")
            self.fn.indent += 1
            b = self.gen(operand)
            self.emit(f"{r} = {b} if {r} is {go} and ({b} is True or {b} is False) else {helper}({r}, {b})")
            self.fn.indent -= 1
        return r

    def g_Conditional(self, node: ast.Conditional) -> str:
        c = self.gen(node.cond)
        r = self.tmp()
        for head, branch in ((f"if {c} is True:", node.then), (f"elif {c} is False:", node.otherwise)):
            self.emit(head)
            self.fn.indent += 1
            self.emit(f"{r} = {self.gen(branch)}")
            self.fn.indent -= 1
        self.emit("else:")
        self.emit(f"    {r} = _conderr({c})")
        return r

    # -- literals of lists and maps --
    def g_ListLit(self, node: ast.ListLit) -> str:
        atoms = [self.gen(i) for i in node.items]
        t = self.tmp()
        inner = ", ".join(atoms)
        if all(isinstance(i, ast.Literal) for i in node.items):
            self.emit(f"{t} = [{inner}]")
        else:
            self.emit(f"{t} = _mklist([{inner}])")
        return t

    def g_MapLit(self, node: ast.MapLit) -> str:
        pairs = [f"({self.gen(k)}, {self.gen(v)})" for k, v in node.entries]
        t = self.tmp()
        self.emit(f"{t} = _mkmap(({''.join(p + ', ' for p in pairs)}))")
        return t

    # -- calls --
    def g_Call(self, node: ast.Call) -> str:
        args = ([node.target] if node.target is not None else []) + list(node.args)
        name = node.function
        if name == "coalesce":
            return self._coalesce(args)
        if name == "matches" and isinstance(args[1], ast.Literal) and args[1].kind == "string":
            s = self.gen(args[0])
            rx = compile_pattern(args[1].value)
            t = self.tmp()
            k = self.const(rx)
            helper = self.const(IMPLEMENTATIONS["matches"].__globals__["f_matches_compiled"], ("fn", "mc"))
            if isinstance(rx, EvaluationError):
                self.emit(f"{t} = {helper}({s}, {k})")
            else:
                self.emit(f"{t} = {k}.search({s}) is not None if type({s}) is str else {helper}({s}, {k})")
            return t
        if name != "matches" and args and all(isinstance(a, ast.Literal) for a in args):
            folded = self._fold(name, [a.value for a in args])
            if folded is not None:
                return folded
        atoms = [self.gen(a) for a in args]
        t = self.tmp()
        f = self.function(name)
        call = f"{f}({', '.join(atoms)})"
        if name == "matches":
            cache = self.const({})
            call = f"{f}({cache}, {', '.join(atoms)})"
        elif name in NEEDS_TZ:
            call = f"{f}(_TZ, {', '.join(atoms)})"
        if name in ("lowerAscii", "upperAscii"):
            a = atoms[0]
            method = "lower" if name == "lowerAscii" else "upper"
            self.emit(f"{t} = {a}.{method}() if type({a}) is str and {a}.isascii() else {call}")
        elif name == "size":
            self.emit(f"{t} = len({atoms[0]}) if type({atoms[0]}) in _SIZED else {call}")
        elif name in ("startsWith", "endsWith", "contains") and len(atoms) == 2:
            s, x = atoms
            method = {"startsWith": "startswith", "endsWith": "endswith"}.get(name)
            fast = f"{s}.{method}({x})" if method else f"{x} in {s}"
            self.emit(f"{t} = {fast} if type({s}) is str and type({x}) is str else {call}")
        else:
            self.emit(f"{t} = {call}")
        return t

    def _fold(self, name: str, values: list) -> str | None:
        """A call on literals is computed once, at compile time (`duration("48h")`):
        every builtin is pure, and the timezone is fixed per compilation.  An
        error is not folded, so it still happens at evaluation."""
        f = IMPLEMENTATIONS[name]
        value = f(self.ns["_TZ"], *values) if name in NEEDS_TZ else f(*values)
        if isinstance(value, EvaluationError) or isinstance(value, (list, dict)):
            return None
        return self.const(value)

    def _coalesce(self, args: list[ast.Node]) -> str:
        r = self.tmp()
        self.emit(f"{r} = {self.gen(args[0])}")
        for arg in args[1:]:
            self.emit(f"if {r} is None or isinstance({r}, _Err):")
            self.fn.indent += 1
            self.emit(f"{r} = {self.gen(arg)}")
            self.fn.indent -= 1
        return r

    # -- macros --
    def g_Macro(self, node: ast.Macro) -> str:
        target = self.gen(node.target)
        name = self.literal(node.macro)
        it, r = self.tmp("_i"), self.tmp()
        self.emit(f"{it} = {target} if type({target}) is list else _iter({target}, {name})")
        self.emit(f"if type({it}) is not list:")
        self.emit(f"    {r} = {it}")
        self.emit("else:")
        self.fn.indent += 1
        self.fn.counter = True
        self.emit(f"_n += len({it})")
        self.emit("if _n > _LIMIT:")
        self.emit("    raise _limit()")
        var = self.tmp("_x")
        saved = self.env.get(node.var)
        self.env[node.var] = var
        getattr(self, "_m_" + node.macro)(node, it, r, var, name)
        if saved is None:
            del self.env[node.var]
        else:
            self.env[node.var] = saved
        self.fn.indent -= 1
        return r

    def _loop(self, it: str, var: str):
        self.emit(f"for {var} in {it}:")
        self.fn.indent += 1
        self.fn.blocks += 1

    def _end_loop(self):
        self.fn.indent -= 1
        self.fn.blocks -= 1

    def _m_all(self, node, it, r, var, name, *, exists: bool = False):
        stop, go = ("True", "False") if exists else ("False", "True")
        e = self.tmp("_e")
        self.emit(f"{r} = {go}")
        self.emit(f"{e} = None")
        self._loop(it, var)
        p = self.gen(node.body)
        self.emit(f"if {p} is not {go}:")
        self.emit(f"    if {p} is {stop}:")
        self.emit(f"        {r} = {stop}")
        self.emit("        break")
        self.emit(f"    if {e} is None:")
        self.emit(f"        {e} = _prederr({p}, {name})")
        self._end_loop()
        self.emit(f"if {r} is {go} and {e} is not None:")
        self.emit(f"    {r} = {e}")

    def _m_exists(self, node, it, r, var, name):
        self._m_all(node, it, r, var, name, exists=True)

    def _m_exists_one(self, node, it, r, var, name):
        c = self.tmp("_c")
        self.emit(f"{c} = 0")
        self.emit(f"{r} = None")
        self._loop(it, var)
        p = self.gen(node.body)
        self.emit(f"if {p} is True:")
        self.emit(f"    {c} += 1")
        self.emit(f"elif {p} is not False:")
        self.emit(f"    {r} = _prederr({p}, {name})")
        self.emit("    break")
        self._end_loop()
        self.emit(f"if {r} is None:")
        self.emit(f"    {r} = {c} == 1")

    def _filter_step(self, pred: ast.Node, r: str, name: str) -> None:
        """Inside a loop: skip the item unless `pred` holds; an error ends the loop."""
        p = self.gen(pred)
        self.emit(f"if {p} is False:")
        self.emit("    continue")
        self.emit(f"if {p} is not True:")
        self.emit(f"    {r} = _prederr({p}, {name})")
        self.emit("    break")

    def _m_filter(self, node, it, r, var, name):
        append = self.tmp("_a")
        self.emit(f"{r} = []")
        self.emit(f"{append} = {r}.append")
        self._loop(it, var)
        self._filter_step(node.body, r, name)
        self.emit(f"{append}({var})")
        self._end_loop()

    def _m_map(self, node, it, r, var, name):
        append = self.tmp("_a")
        self.emit(f"{r} = []")
        self.emit(f"{append} = {r}.append")
        self._loop(it, var)
        if node.filter is not None:
            self._filter_step(node.filter, r, name)
        self.emit(f"{append}({self.gen(node.body)})")
        self._end_loop()
        self.emit(f"if type({r}) is list and not _PLAIN.issuperset(map(type, {r})):")
        self.emit(f"    {r} = _mklist({r})")

    # -- assembly --
    def build(self, root: ast.Node) -> Callable[[Mapping[str, Any]], Any]:
        atom = self.gen(root)
        main = self.fn
        lines: list[str] = []
        for fn in self.spilled:
            lines.append(f"def {fn.name}({', '.join(fn.params)}):")
            lines.extend("    " + p for p in fn.prologue)
            lines.extend(fn.body)
        lines.append("def _expr(_vars):")
        lines.append("    try:")
        if main.counter:
            lines.append("        _n = 0")
        lines.extend("        " + p for p in main.prologue)
        lines.extend(main.body)
        lines.append(f"        return {atom} if type({atom}) in _PLAIN else _finish({atom})")
        lines.append("    except _Err:")
        lines.append("        raise")
        lines.append("    except _SAFETY as _exc:")
        lines.append("        raise _internal(_exc) from None")
        source = "\n".join(lines) + "\n"
        code = compile(source, "<accord expression>", "exec")
        fast = fastpath.fast_source(self, root, "_expr")
        if fast is not None:
            try:
                fast_code = compile("\n".join(fast) + "\n", "<accord expression>", "exec")
            except (SyntaxError, RecursionError, MemoryError, ValueError):  # too deep for Python
                fast = None
        exec(code, self.ns)  # noqa: S102 - source generated from the tree, constants passed by name
        fn = self.ns["_expr"]
        fn.__accord_source__ = source
        if fast is not None:
            exec(fast_code, self.ns)  # noqa: S102 - likewise
            fn = self.ns["_fast"]
            fn.__accord_source__ = "\n".join(fast) + "\n" + source
        return fn


def compile_node(node: ast.Node, *, timezone: tzinfo | None = None) -> Callable[[Mapping[str, Any]], Any]:
    """Turn a syntax tree into a function `variables → value`, raising
    EvaluationError for an error value.  `timezone` is the policy's zone, used
    for timestamps written without an offset and by the timestamp accessors."""
    return _Codegen(timezone).build(node)
