"""The optimistic fast path: a second function generated from the same tree.

It is plain Python written for the common case — dict member access by
subscript, comparisons and arithmetic on numbers, bools combined with Python's
own `and`/`or`, macros as comprehensions and `all()`/`any()` — with one cheap
exact-type guard in front of every operation whose Python meaning differs from
CEL's for some operand (`True > 1`, `1 == True`, int64 overflow, an error value
read from a map...).  Whenever a guard fails, a key is missing, or anything at
all raises, the fast function gives up and returns what the exact function
(codegen.py) computes for the same variables.  Expressions are pure, so running
the exact function afresh is always correct; the fast function only has to be
right when it finishes, which each construct below argues for locally.

The invariant that makes the guards sufficient: an `EvaluationError` (or any
other value outside the guarded types) never passes a guard, so an error value
— read from the variables or returned by a builtin — can only reach the result
through the exact function.

Constructs without a fast form here (`coalesce`, map literals, lists built from
non-literals) leave the expression without a fast path; that is decided when
compiling, never at evaluation.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from accord.dsl.expr import ast
from accord.dsl.expr.errors import EvaluationError
from accord.dsl.expr.functions import IMPLEMENTATIONS, NEEDS_TZ, compile_pattern
from accord.dsl.expr.runtime import MAX_ITERATIONS, PLAIN
from accord.dsl.expr.values import INT_MAX, INT_MIN, TYPES


def _selected(node: ast.Node, name: str) -> bool:
    """Whether `name.field` (or `has(name.field)`, `name["key"]`) occurs in `node`."""
    stack = [node]
    while stack:
        n = stack.pop()
        operand = getattr(n, "operand", None) if isinstance(n, (ast.Select, ast.Has, ast.Index)) else None
        if isinstance(operand, ast.Ident) and operand.name == name and (
                not isinstance(n, ast.Index) or isinstance(n.index, ast.Literal) and n.index.kind == "string"):
            return True
        stack.extend(ast.children(n))
    return False


class Unsupported(Exception):
    """The tree has a construct without a fast form: compile no fast path."""


class _Bail(Exception):
    """Raised by a failed guard; never escapes the fast function."""


def bail():
    raise _Bail


def as_list(v):
    """A macro's range with the iteration budget of a single macro."""
    if type(v) is list and len(v) <= MAX_ITERATIONS:
        return v
    raise _Bail


def count(budget: list, v):
    """A macro's range, charged to the evaluation's budget (`[spent]`)."""
    if type(v) is list:
        budget[0] += len(v)
        if budget[0] <= MAX_ITERATIONS:
            return v
    raise _Bail


HELPERS: dict[str, Any] = {
    "_fbail": bail, "_flist": as_list, "_fcount": count,
    "_fNUM": frozenset((int, float)), "_fEQ": frozenset((int, float, str, type(None))),
    "_fPLAIN": PLAIN, "_fMIN": INT_MIN, "_fMAX": INT_MAX, "_fDT": datetime, "_fTD": timedelta,
    "_fSIZED": frozenset((str, list, dict, bytes)), "_fTIME": frozenset((datetime, timedelta)),
}

# kinds: what a fast expression is known to hold when it finishes
BOOL, NUM, FLOAT, STR, ANY, DT, TD, PLAINLIST = "bool", "num", "float", "str", "any", "dt", "td", "plainlist"
_KNOWN_PLAIN = frozenset((BOOL, NUM, FLOAT, STR, DT, TD, PLAINLIST))
_COMPARE = frozenset(("<", "<=", ">", ">="))
_LITERAL_KIND = {int: NUM, float: FLOAT, str: STR, bool: BOOL}


class FastGen:
    """Generates the fast function's body as one Python expression (plus a
    prologue binding the top-level names).  `gen` returns (code, kind)."""

    def __init__(self, codegen):
        self.cg = codegen  # for constants: cg.literal, cg.const, cg.tmp
        self.env: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.prologue: list[str] = []
        self.macros = 0
        self.functions: list[str] = []  # module-level helpers: macro ranges that need `:=`
        self.stmts: list[str] = []  # loops of the macros evaluated unconditionally, run first
        self.lazy = 0  # > 0 inside a branch that may not run (`&&`, `?:`, a macro's body)
        self.root: ast.Node | None = None
        self.dicts: set[str] = set()  # names checked to hold a dict before the expression runs

    def tmp(self) -> str:
        return self.cg.tmp("_f")

    def bind(self, code: str) -> tuple[str, str]:
        """(first use, later uses) of a value: a name is used as is, anything else is
        bound with `:=` on first use."""
        if code.isidentifier():
            return code, code
        t = self.tmp()
        return f"({t} := {code})", t

    # -- dispatch --
    def gen(self, node: ast.Node) -> tuple[str, str]:
        method = getattr(self, "g_" + type(node).__name__, None)
        if method is None:
            raise Unsupported(type(node).__name__)
        return method(node)

    def guarded(self, code: str, check: str) -> str:
        """`code` when `check` holds (checks may bind with `:=`), else give up."""
        return f"({code} if {check} else _fbail())"

    # -- leaves --
    def g_Literal(self, node: ast.Literal):
        kind = _LITERAL_KIND.get(type(node.value), ANY)
        if node.value is None:
            kind = ANY
        return self.cg.literal(node.value), kind

    def g_Ident(self, node: ast.Ident):
        if node.name in self.env:
            return self.env[node.name], ANY
        if node.name in TYPES:
            return self.cg.const(TYPES[node.name], ("type", node.name)), ANY
        local = self.names.get(node.name)
        if local is None:
            local = self.names[node.name] = self.cg.tmp("_fv")
            self.prologue.append(f"{local} = _vars[{self.cg.literal(node.name)}]")
            if self.root is not None and _selected(self.root, node.name):
                # read as a map somewhere: check that once (a non-map gives up at once, which
                # is only slower when that read would not have run)
                self.prologue.append(f"if type({local}) is not dict:")
                self.prologue.append("    _fbail()")
                self.dicts.add(local)
        return local, ANY

    # -- access --
    def _member(self, operand: ast.Node, key: str):
        a, _ = self.gen(operand)
        if a in self.dicts:
            return f"{a}[{key}]", ANY
        first, later = self.bind(a)
        return self.guarded(f"{later}[{key}]", f"type({first}) is dict"), ANY

    def g_Select(self, node: ast.Select):
        return self._member(node.operand, self.cg.literal(node.field))

    def g_Index(self, node: ast.Index):
        if isinstance(node.index, ast.Literal) and node.index.kind == "string":
            return self._member(node.operand, self.cg.literal(node.index.value))
        a, _ = self.gen(node.operand)
        i, _ = self.gen(node.index)
        a1, a2 = self.bind(a)
        i1, i2 = self.bind(i)
        # a dict by a string key, a list by a non-negative int (IndexError gives up);
        # the tuple binds both sides before either test
        check = (f"({a1}, {i1}) and (type({a2}) is dict and type({i2}) is str "
                 f"or type({a2}) is list and type({i2}) is int and {i2} >= 0)")
        return self.guarded(f"{a2}[{i2}]", check), ANY

    def g_Has(self, node: ast.Has):
        a, _ = self.gen(node.operand)
        key = self.cg.literal(node.field)
        if a in self.dicts:
            return f"({key} in {a})", BOOL
        first, later = self.bind(a)
        return self.guarded(f"{key} in {later}", f"type({first}) is dict"), BOOL

    # -- operators --
    def need_bool(self, code: str, kind: str) -> str:
        if kind == BOOL:
            return code
        first, later = self.bind(code)
        return self.guarded(later, f"({first} is True or {later} is False)")

    def need_num(self, code: str, kind: str) -> tuple[str, str]:
        """(guard or "", use) for an operand that must be an int or a double (not a bool)."""
        if kind in (NUM, FLOAT):
            return "", code
        first, later = self.bind(code)
        return f"type({first}) in _fNUM", later

    def g_Unary(self, node: ast.Unary):
        a, kind = self.gen(node.operand)
        if node.op == "!":
            return f"(not {self.need_bool(a, kind)})", BOOL
        first, later = self.bind(a)
        return self.guarded(f"-{later}", f"type({first}) is float"), FLOAT

    def g_Logical(self, node: ast.Logical):
        op = " and " if node.op == "&&" else " or "
        parts = [self.need_bool(*self.gen(node.operands[0]))]
        self.lazy += 1
        parts += [self.need_bool(*self.gen(o)) for o in node.operands[1:]]
        self.lazy -= 1
        return "(" + op.join(parts) + ")", BOOL

    def g_Conditional(self, node: ast.Conditional):
        c = self.need_bool(*self.gen(node.cond))
        self.lazy += 1
        a, ka = self.gen(node.then)
        b, kb = self.gen(node.otherwise)
        self.lazy -= 1
        return f"({a} if {c} else {b})", (ka if ka == kb else ANY)

    def _checked(self, guards: list[str], code: str) -> str:
        guards = [g for g in guards if g]
        if not guards:
            return f"({code})"
        return self.guarded(code, " and ".join(guards))

    def g_Binary(self, node: ast.Binary):
        op = node.op
        if op == "in":
            return self._in(node)
        if op in _COMPARE and isinstance(node.left, ast.Binary) and node.left.op == "-":
            # `now - event.time > duration("48h")`: against a duration only timestamp -
            # timestamp can pass, so test for that before subtracting
            b, kb = self.gen(node.right)
            a, ka = (self._time_diff(node.left), TD) if kb == TD else self.gen(node.left)
        else:
            a, ka = self.gen(node.left)
            b, kb = self.gen(node.right)
        if op in _COMPARE:
            kinds = {ka, kb}
            if kinds <= {NUM, FLOAT} or (NUM in kinds or FLOAT in kinds):
                ga, ua = self.need_num(a, ka)
                gb, ub = self.need_num(b, kb)
                return self._checked([ga, gb], f"{ua} {op} {ub}"), BOOL
            for known, typename in ((STR, "str"), (TD, "_fTD"), (DT, "_fDT")):
                if known in kinds:
                    ga, ua = self._type_guard(a, ka, known, typename)
                    gb, ub = self._type_guard(b, kb, known, typename)
                    return self._checked([ga, gb], f"{ua} {op} {ub}"), BOOL
            ga, ua = self.need_num(a, ka)
            gb, ub = self.need_num(b, kb)
            return self._checked([ga, gb], f"{ua} {op} {ub}"), BOOL
        if op in ("==", "!=") and BOOL in (ka, kb):
            # between bools Python's == is CEL's; a bool is never equal to anything else
            return f"({self.need_bool(a, ka)} {op} {self.need_bool(b, kb)})", BOOL
        if op in ("==", "!="):
            ga, ua = self._eq_guard(a, ka)
            gb, ub = self._eq_guard(b, kb)
            return self._checked([ga, gb], f"{ua} {op} {ub}"), BOOL
        if op in ("+", "-", "*"):
            return self._arith(op, a, ka, b, kb)
        if op == "/":
            ga, ua = self.need_num(a, ka)
            gb, ub = self.need_num(b, kb)
            # a zero divisor raises ZeroDivisionError: the exact function reports it
            return self._checked([ga, gb], f"{ua} / {ub}"), FLOAT
        raise Unsupported(op)

    def _time_diff(self, node: ast.Binary) -> str:
        a, _ = self.gen(node.left)
        b, _ = self.gen(node.right)
        a1, a2 = self.bind(a)
        b1, b2 = self.bind(b)
        return self.guarded(f"{a2} - {b2}", f"({a1}, {b1}) and type({a2}) is _fDT and type({b2}) is _fDT")

    def _type_guard(self, code: str, kind: str, known: str, typename: str) -> tuple[str, str]:
        if kind == known or (known == "time" and kind in (DT, TD)):
            return "", code
        first, later = self.bind(code)
        if known == "time":
            return f"type({first}) in _fTIME", later
        return f"type({first}) is {typename}", later

    def _eq_guard(self, code: str, kind: str) -> tuple[str, str]:
        """Python's == is CEL's between ints, doubles, strings and null (bools and
        containers differ: `1 == true`, lists holding errors)."""
        if kind in (NUM, FLOAT, STR):
            return "", code
        if code.startswith("_k") and code in self.cg.ns and self.cg.ns[code] is None:
            return "", code
        first, later = self.bind(code)
        return f"type({first}) in _fEQ", later

    def _arith(self, op: str, a: str, ka: str, b: str, kb: str):
        if op == "+" and STR in (ka, kb):
            ga, ua = self._type_guard(a, ka, STR, "str")
            gb, ub = self._type_guard(b, kb, STR, "str")
            return self._checked([ga, gb], f"{ua} + {ub}"), STR
        if op in ("+", "-") and (DT in (ka, kb) or TD in (ka, kb)):
            # with a timestamp or duration constant: Python's datetime/timedelta arithmetic is
            # CEL's (a wrong mix raises TypeError, going out of range OverflowError)
            ga, ua = self._type_guard(a, ka, "time", "")
            gb, ub = self._type_guard(b, kb, "time", "")
            return self._checked([ga, gb], f"{ua} {op} {ub}"), ANY
        if op == "-" and ka == ANY and kb == ANY:
            # numbers, or timestamp - timestamp (now - event.time); the tuple binds both sides
            a1, a2 = self.bind(a)
            b1, b2 = self.bind(b)
            r = self.tmp()
            num = f"({r} if type({r} := {a2} - {b2}) is float or _fMIN <= {r} <= _fMAX else _fbail())"
            return (f"({num} if ({a1}, {b1}) and type({a2}) in _fNUM and type({b2}) in _fNUM else "
                    f"{a2} - {b2} if type({a2}) is _fDT and type({b2}) is _fDT else _fbail())"), ANY
        ga, ua = self.need_num(a, ka)
        gb, ub = self.need_num(b, kb)
        if FLOAT in (ka, kb):
            return self._checked([ga, gb], f"{ua} {op} {ub}"), FLOAT
        r = self.tmp()
        code = f"({r} if type({r} := {ua} {op} {ub}) is float or _fMIN <= {r} <= _fMAX else _fbail())"
        return self._checked([ga, gb], code), NUM

    def _in(self, node: ast.Binary):
        a, ka = self.gen(node.left)
        right = node.right
        if isinstance(right, ast.ListLit) and right.items and all(
                isinstance(i, ast.Literal) and type(i.value) in (str, int) for i in right.items):
            values = frozenset(i.value for i in right.items)
            fs = self.cg.const(values)
            if all(type(v) is str for v in values):
                # a string probe: set membership is CEL equality; other probes give up
                ga, ua = self._type_guard(a, ka, STR, "str")
                return self._checked([ga], f"{ua} in {fs}"), BOOL
            # ints (never bools: `true in [1]` is false) and strings: exact for int, double,
            # string and null probes (1.0 in [1] is true, as 1.0 == 1)
            ga, ua = self._eq_guard(a, ka)
            return self._checked([ga], f"{ua} in {fs}"), BOOL
        b, _ = self.gen(right)
        a1, a2 = self.bind(a)
        b1, b2 = self.bind(b)
        return self.guarded(f"{a2} in {b2}", f"({a1}, {b1}) and type({a2}) is str and type({b2}) is dict"), BOOL

    # -- literals --
    def g_ListLit(self, node: ast.ListLit):
        if not all(isinstance(i, ast.Literal) for i in node.items):
            raise Unsupported("list of non-literals")
        return "[" + "".join(self.cg.literal(i.value) + ", " for i in node.items) + "]", PLAINLIST

    # -- calls --
    def g_Call(self, node: ast.Call):
        args = ([node.target] if node.target is not None else []) + list(node.args)
        name = node.function
        if name == "coalesce":
            raise Unsupported(name)
        if name == "matches" and isinstance(args[1], ast.Literal) and args[1].kind == "string":
            rx = compile_pattern(args[1].value)
            if isinstance(rx, EvaluationError):
                raise Unsupported("bad pattern")
            s, ks = self.gen(args[0])
            g, u = self._type_guard(s, ks, STR, "str")
            return self._checked([g], f"({self.cg.const(rx)}.search({u}) is not None)"), BOOL
        if name == "matches":
            raise Unsupported(name)
        gen = [self.gen(a) for a in args]
        if name in ("lowerAscii", "upperAscii") and len(gen) == 1:
            first, later = self.bind(gen[0][0])
            method = "lower" if name == "lowerAscii" else "upper"
            return self.guarded(f"{later}.{method}()", f"type({first}) is str and {later}.isascii()"), STR
        if name == "size" and len(gen) == 1:
            first, later = self.bind(gen[0][0])
            return self.guarded(f"len({later})", f"type({first}) in _fSIZED"), NUM
        if name in ("startsWith", "endsWith", "contains") and len(gen) == 2:
            (s, ks), (x, kx) = gen
            gs, us = self._type_guard(s, ks, STR, "str")
            gx, ux = self._type_guard(x, kx, STR, "str")
            method = {"startsWith": "startswith", "endsWith": "endswith"}.get(name)
            return self._checked([gs, gx], f"{us}.{method}({ux})" if method else f"({ux} in {us})"), BOOL
        if all(isinstance(a, ast.Literal) for a in args):
            f = IMPLEMENTATIONS[name]
            values = [a.value for a in args]
            value = f(self.cg.ns["_TZ"], *values) if name in NEEDS_TZ else f(*values)
            if not isinstance(value, (EvaluationError, list, dict)):
                kind = {timedelta: TD, datetime: DT}.get(type(value), _LITERAL_KIND.get(type(value), ANY))
                return self.cg.const(value), kind
        # any other builtin: exactly the function the exact path calls; an error it returns
        # fails whatever guard consumes it
        f = self.cg.const(IMPLEMENTATIONS[name], ("function", name))
        atoms = [c for c, _ in gen]
        if name in NEEDS_TZ:
            atoms.insert(0, "_TZ")
        return f"{f}({', '.join(atoms)})", ANY

    # -- macros --
    def g_Macro(self, node: ast.Macro):
        self.macros += 1
        target, _ = self.gen(node.target)
        if not self.lazy:
            return self._loop(node, target)
        if ":=" in target:
            # Python allows no `:=` anywhere in a comprehension's range: compute it in a function
            name = self.cg.tmp("_frange")
            params = ", ".join(sorted({*self.env.values(), *self.names.values(), "_fbudget"}))
            self.functions.append(f"def {name}({params}):\n    return {target}\n")
            target = f"{name}({params})"
        rng = f"_fcount(_fbudget, {target})"  # rewritten to _flist when this is the only macro
        var = self.cg.tmp("_fx")
        saved_env = dict(self.env)
        self.env[node.var] = var
        self.lazy += 1
        try:
            macro = node.macro
            if macro in ("all", "exists"):
                p = self.need_bool(*self.gen(node.body))
                fn = "all" if macro == "all" else "any"
                return f"{fn}({p} for {var} in {rng})", BOOL
            if macro == "exists_one":
                p = self.need_bool(*self.gen(node.body))
                return f"(sum([1 for {var} in {rng} if {p}]) == 1)", BOOL
            if macro == "filter":
                # the items themselves, unchecked, as the exact function returns them
                p = self.need_bool(*self.gen(node.body))
                return f"[{var} for {var} in {rng} if {p}]", PLAINLIST
            if macro == "map":
                cond = ""
                if node.filter is not None:
                    cond = " if " + self.need_bool(*self.gen(node.filter))
                body, kind = self.gen(node.body)
                code = f"[{body} for {var} in {rng}{cond}]"
                if kind in _KNOWN_PLAIN:
                    return code, PLAINLIST
                r = self.tmp()
                return self.guarded(r, f"_fPLAIN.issuperset(map(type, {r} := {code}))"), PLAINLIST
            raise Unsupported(macro)
        finally:
            self.env = saved_env
            self.lazy -= 1

    def _loop(self, node: ast.Macro, target: str) -> tuple[str, str]:
        """A macro that is evaluated whenever the expression is, as a `for` statement run
        before the expression (plain locals and no generator: the fastest loop Python has)."""
        var, r = self.cg.tmp("_fx"), self.tmp()
        saved_env = dict(self.env)
        self.env[node.var] = var
        self.lazy += 1
        try:
            head = [f"for {var} in _fcount(_fbudget, {target}):"]
            if _selected(node.body, node.var) or node.filter is not None and _selected(node.filter, node.var):
                head += [f"    if type({var}) is not dict:", "        _fbail()"]
                self.dicts.add(var)
            macro = node.macro
            if macro in ("all", "exists"):
                p = self.need_bool(*self.gen(node.body))
                stop, go = ("False", "True") if macro == "all" else ("True", "False")
                test = f"not {p}" if macro == "all" else p
                self.stmts += [f"{r} = {go}", *head, f"    if {test}:", f"        {r} = {stop}", "        break"]
                return r, BOOL
            if macro == "exists_one":
                p = self.need_bool(*self.gen(node.body))
                self.stmts += [f"{r} = 0", *head, f"    if {p}:", f"        {r} += 1", f"{r} = {r} == 1"]
                return r, BOOL
            append = self.tmp()
            self.stmts += [f"{r} = []", f"{append} = {r}.append", *head]
            if node.filter is not None or macro == "filter":
                p = self.need_bool(*self.gen(node.body if macro == "filter" else node.filter))
                self.stmts += [f"    if {p}:"]
                indent = "        "
            else:
                indent = "    "
            if macro == "filter":
                self.stmts.append(f"{indent}{append}({var})")
                return r, PLAINLIST
            if macro != "map":
                raise Unsupported(macro)
            body, kind = self.gen(node.body)
            self.stmts.append(f"{indent}{append}({body})")
            if kind not in _KNOWN_PLAIN:
                self.stmts += [f"if not _fPLAIN.issuperset(map(type, {r})):", "    _fbail()"]
            return r, PLAINLIST
        finally:
            self.env = saved_env
            self.lazy -= 1


def fast_source(codegen, root: ast.Node, exact: str) -> list[str] | None:
    """The lines of `def _fast(_vars)`, which falls back to the function named
    `exact`; None when the tree has a construct without a fast form."""
    g = FastGen(codegen)
    g.root = root
    try:
        code, kind = g.gen(root)
    except (Unsupported, RecursionError):
        return None
    body = [*g.stmts]
    if g.macros == 1:
        code = code.replace("_fcount(_fbudget, ", "_flist(")
        body = [x.replace("_fcount(_fbudget, ", "_flist(") for x in body]
    lines = [*g.functions, "def _fast(_vars):", "    try:"]
    lines += ["        " + p for p in g.prologue]
    if g.macros > 1 or g.functions:
        lines.append("        _fbudget = [0]")
    lines += ["        " + x for x in body]
    if kind in _KNOWN_PLAIN:
        lines.append(f"        return {code}")
    else:
        lines.append(f"        _fr = {code}")
        lines.append(f"        return _fr if type(_fr) in _fPLAIN else {exact}(_vars)")
    lines.append("    except Exception:")
    lines.append(f"        return {exact}(_vars)")
    return lines
