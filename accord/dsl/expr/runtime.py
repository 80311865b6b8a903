"""Operator semantics: the slow paths behind the compiled code's inline fast paths.

Every helper *returns* an `EvaluationError` instead of raising it, so that an
error is an ordinary value in compiled code and `&&`/`||` can absorb it from
either side.  A helper given an error argument returns that error (errors
propagate).  Nothing here reaches an attribute of a host object: values are
tested by exact type, and only dict/list contents are ever read.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from datetime import datetime, timedelta

from accord.dsl.expr.errors import EvaluationError
from accord.dsl.expr.values import INT_MAX, INT_MIN, CelMap, CelType, type_name

Err = EvaluationError
NUM = frozenset((int, float))
#: types whose `==` in Python already is CEL's heterogeneous equality
EQ_FAST = frozenset((int, float, str, type(None)))
#: types a compiled expression may hand back as they are
PLAIN = frozenset((bool, int, float, str, type(None), list, dict, bytes, datetime, timedelta, CelType))
MAX_ITERATIONS = 100_000


def err(message: str) -> EvaluationError:
    return EvaluationError(message)


def first_error(*values: object) -> EvaluationError | None:
    for v in values:
        if isinstance(v, EvaluationError):
            return v
    return None


def no_overload(op: str, *args: object) -> EvaluationError:
    """The error for an operator or function applied to types it does not take
    (or the first error among its arguments)."""
    found = first_error(*args)
    if found is not None:
        return found
    kinds = " and ".join(f"'{type_name(a)}'" for a in args)
    return err(f"'{op}' does not apply to {kinds}")


def finish(value: object) -> object:
    """The last step of an evaluation: raise an error value (a fresh copy, so a
    shared error keeps no traceback), hand back anything else."""
    if isinstance(value, EvaluationError):
        raise copy.copy(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def limit_error() -> EvaluationError:
    return err(f"evaluation exceeded {MAX_ITERATIONS:,} macro iterations")


def internal_error(exc: BaseException) -> EvaluationError:
    if isinstance(exc, RecursionError):
        return err("value nested too deeply to evaluate")
    if isinstance(exc, OverflowError):
        return err("value out of range")
    return err(f"evaluation failed: {exc}")


def is_num(v: object) -> bool:
    t = type(v)
    return t is int or t is float


def check_int(v: int) -> int | EvaluationError:
    if INT_MIN <= v <= INT_MAX:
        return v
    return err("integer overflow")


def check_number(v: object) -> object:
    """Called when a fast-path result fell outside int64: fine for a double."""
    if type(v) is int:
        return err("integer overflow")
    return v


# --- equality and ordering -------------------------------------------------

class _Unequal(Exception):
    pass


def _equal(a: object, b: object) -> bool:
    ta, tb = type(a), type(b)
    if ta in NUM and tb in NUM:
        return a == b
    if isinstance(a, EvaluationError):
        raise a
    if isinstance(b, EvaluationError):
        raise b
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if isinstance(a, (list, tuple)):
        if not isinstance(b, (list, tuple)) or len(a) != len(b):
            return False
        return all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping):
        if not isinstance(b, Mapping) or len(a) != len(b):
            return False
        for k, v in a.items():
            found = _lookup(b, k)
            if found is _MISSING or not _equal(v, found):
                return False
        return True
    if ta is datetime and tb is datetime or ta is timedelta and tb is timedelta:
        return a == b
    if ta is tb and ta in (str, bytes, type(None), CelType):
        return a == b
    if type_name(a) != type_name(b) or isinstance(a, (list, tuple, Mapping)):
        return False
    return a == b


def eq(a: object, b: object) -> object:
    try:
        return _equal(a, b)
    except EvaluationError as e:
        return e
    except TypeError:
        return err(f"cannot compare '{type_name(a)}' with '{type_name(b)}'")


def ne(a: object, b: object) -> object:
    r = eq(a, b)
    return (not r) if type(r) is bool else r


_ORDERED = frozenset((str, bytes, bool, datetime, timedelta))


def _order(op: str, a: object, b: object) -> object:
    ta, tb = type(a), type(b)
    if (ta in NUM and tb in NUM) or (ta is tb and ta in _ORDERED):
        try:
            if op == "<":
                return a < b
            if op == "<=":
                return a <= b
            if op == ">":
                return a > b
            return a >= b
        except TypeError:
            pass
    return no_overload(op, a, b)


def lt(a, b):
    return _order("<", a, b)


def le(a, b):
    return _order("<=", a, b)


def gt(a, b):
    return _order(">", a, b)


def ge(a, b):
    return _order(">=", a, b)


# --- arithmetic ------------------------------------------------------------

def add(a: object, b: object) -> object:
    ta, tb = type(a), type(b)
    if ta in NUM and tb in NUM:
        r = a + b
        return check_int(r) if type(r) is int else r
    try:
        if ta is tb and ta in (str, bytes, timedelta):
            return a + b
        if ta is list and tb is list:
            return a + b
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            return list(a) + list(b)
        if (ta is datetime and tb is timedelta) or (ta is timedelta and tb is datetime):
            return a + b
    except OverflowError:
        return err("timestamp or duration out of range")
    return no_overload("+", a, b)


def sub(a: object, b: object) -> object:
    ta, tb = type(a), type(b)
    if ta in NUM and tb in NUM:
        r = a - b
        return check_int(r) if type(r) is int else r
    try:
        if (ta is datetime and tb in (datetime, timedelta)) or (ta is timedelta and tb is timedelta):
            return a - b
    except OverflowError:
        return err("timestamp or duration out of range")
    except TypeError:
        return err("cannot subtract a timestamp without a timezone")
    return no_overload("-", a, b)


def mul(a: object, b: object) -> object:
    if type(a) in NUM and type(b) in NUM:
        r = a * b
        return check_int(r) if type(r) is int else r
    return no_overload("*", a, b)


def div(a: object, b: object) -> object:
    if type(a) in NUM and type(b) in NUM:
        if b == 0:
            return err("division by zero")
        try:
            return a / b
        except OverflowError:
            return err("division result out of range")
    return no_overload("/", a, b)


def mod(a: object, b: object) -> object:
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        if b == 0:
            return err("modulo by zero")
        r = abs(a) % abs(b)
        return -r if a < 0 else r  # the sign of the dividend, as in CEL (truncating)
    if ta in NUM and tb in NUM:
        if b == 0:
            return err("modulo by zero")
        return math.fmod(a, b)
    return no_overload("%", a, b)


def neg(a: object) -> object:
    t = type(a)
    if t is int:
        return check_int(-a)
    if t is float:
        return -a
    if t is timedelta:
        try:
            return -a
        except OverflowError:
            return err("duration out of range")
    return no_overload("-", a)


def not_(a: object) -> object:
    if a is True:
        return False
    if a is False:
        return True
    return no_overload("!", a)


def _logic(op: str, a: object, b: object) -> object:
    for v in (a, b):
        if isinstance(v, EvaluationError):
            return v
    bad = b if a is True or a is False else a
    return err(f"'{op}' expects bool operands, got '{type_name(bad)}'")


def and_(a: object, b: object) -> object:
    """`a && b` once both sides are known: false wins over any error."""
    if a is False or b is False:
        return False
    if a is True and b is True:
        return True
    return _logic("&&", a, b)


def or_(a: object, b: object) -> object:
    """`a || b` once both sides are known: true wins over any error."""
    if a is True or b is True:
        return True
    if a is False and b is False:
        return False
    return _logic("||", a, b)


def cond_error(c: object) -> EvaluationError:
    if isinstance(c, EvaluationError):
        return c
    return err(f"the condition of '?:' must be bool, got '{type_name(c)}'")


# --- access ----------------------------------------------------------------

_MISSING = object()


def _lookup(m: Mapping, key: object) -> object:
    """CEL map lookup: keys of different types never match (no `True == 1`),
    but an integral double finds an int key."""
    tk = type(key)
    if tk is float:
        if not key.is_integer():
            return _MISSING
        key = int(key)
        tk = int
    try:
        value = m.get(key, _MISSING) if isinstance(m, dict) else (m[key] if key in m else _MISSING)
    except TypeError:
        return _MISSING
    if value is not _MISSING and (tk is bool or (tk is int and (key == 0 or key == 1))) and type(m) is not CelMap:
        # a bool key must not find the int entry 0 or 1, nor 0 or 1 a bool entry (Python's True == 1);
        # a `CelMap` keeps them apart itself
        if (type(_held_key(m, key)) is bool) != (tk is bool):
            return _MISSING
    return value


class _Probe:
    """A stand-in for a key that records which key of a dict it was found equal to: a dict merges
    `True` and `1`, and this tells which one it holds without going through every key."""

    __slots__ = ("key", "held")

    def __init__(self, key: object):
        self.key = key
        self.held: object = _MISSING

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        if other == self.key:
            self.held = other
            return True
        return False


def _held_key(m: Mapping, key: object) -> object:
    """The key `m` holds that is equal to `key` in Python (`True` for `1`), or _MISSING."""
    if type(m) is dict:
        probe = _Probe(key)
        return probe.held if probe in m else _MISSING
    return next((k for k in m if k == key), _MISSING)


def _key_text(key: object) -> str:
    if isinstance(key, str):
        return key
    if type(key) is bool:
        return "true" if key else "false"
    return repr(key)


def select(obj: object, field: str) -> object:
    if isinstance(obj, Mapping):
        value = obj.get(field, _MISSING)
        return err(f"no such key '{field}'") if value is _MISSING else value
    if isinstance(obj, EvaluationError):
        return obj
    return err(f"cannot select field '{field}' from '{type_name(obj)}'")


def has(obj: object, field: str) -> object:
    if isinstance(obj, Mapping):
        return field in obj
    if isinstance(obj, EvaluationError):
        return obj
    return err(f"has() cannot test field '{field}' of '{type_name(obj)}'")


def index(obj: object, key: object) -> object:
    if isinstance(obj, EvaluationError):
        return obj
    if isinstance(key, EvaluationError):
        return key
    if isinstance(obj, (list, tuple)):
        tk = type(key)
        if tk is float and key.is_integer():
            key = int(key)
        elif tk is not int:
            return err(f"a list index must be an int, got '{type_name(key)}'")
        if 0 <= key < len(obj):
            return obj[key]
        return err(f"index {key} out of range for a list of size {len(obj)}")
    if isinstance(obj, Mapping):
        if type(key) not in (str, int, bool, float):
            return err(f"'{type_name(key)}' cannot be a map key")
        value = _lookup(obj, key)
        return err(f"no such key '{_key_text(key)}'") if value is _MISSING else value
    return err(f"cannot index '{type_name(obj)}'")


def in_(x: object, container: object) -> object:
    if isinstance(x, EvaluationError):
        return x
    if isinstance(container, (list, tuple, frozenset)):
        try:
            return any(_equal(x, y) for y in container)
        except EvaluationError as e:
            return e
    if isinstance(container, Mapping):
        if type(x) not in (str, int, bool, float):
            return err(f"'{type_name(x)}' cannot be a map key")
        return _lookup(container, x) is not _MISSING
    if isinstance(container, EvaluationError):
        return container
    if type(container) is str:
        return err("'in' does not apply to a string: use contains()")
    return no_overload("in", x, container)


def iter_target(value: object, macro: str) -> object:
    """What a macro ranges over: a list's items, or a map's keys."""
    if type(value) is list:
        return value
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, Mapping):
        return list(value)
    if isinstance(value, EvaluationError):
        return value
    return err(f"'{macro}' ranges over a list or a map, got '{type_name(value)}'")


def predicate_error(value: object, macro: str) -> EvaluationError:
    if isinstance(value, EvaluationError):
        return value
    return err(f"the predicate of '{macro}' must be bool, got '{type_name(value)}'")


def bad_value(value: object) -> EvaluationError | None:
    """An element that cannot go into a list or map: an error (returned)."""
    return value if isinstance(value, EvaluationError) else None


def make_list(items: list) -> object:
    for v in items:
        if type(v) not in PLAIN and isinstance(v, EvaluationError):
            return v
    return items


_KEY_TYPES = (str, int, bool)


def make_map(pairs: tuple) -> object:
    out: dict = {}
    seen: set = set()  # keys tagged bool or not: 1 and true are different keys in CEL (int, bool), not in a dict
    mixed = False
    for k, v in pairs:
        if isinstance(k, EvaluationError):
            return k
        if isinstance(v, EvaluationError):
            return v
        if type(k) not in _KEY_TYPES:
            return err(f"'{type_name(k)}' cannot be a map key")
        tagged = (type(k) is bool, k)
        if tagged in seen:
            return err(f"duplicate map key '{_key_text(k)}'")
        seen.add(tagged)
        mixed = mixed or k in out
        out[k] = v
    return CelMap(pairs) if mixed else out


def is_null_or_error(v: object) -> bool:
    return v is None or isinstance(v, EvaluationError)
