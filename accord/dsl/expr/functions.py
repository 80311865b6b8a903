"""Builtin functions.

Each takes its arguments positionally (a method call's receiver first) and
returns a value or an `EvaluationError`; an error argument is returned as it
is.  `FUNCTIONS` maps every name to the arities the parser accepts (the
receiver counts as the first argument), `MACROS` those of the macros (the
arguments inside the parentheses).  Functions that read the policy timezone
take it as their first parameter (listed in `NEEDS_TZ`).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from accord.dsl.expr import runtime as rt
from accord.dsl.expr.errors import EvaluationError
from accord.dsl.expr.values import (
    INT_MAX,
    INT_MIN,
    TYPES,
    CelType,
    duration_seconds_text,
    format_timestamp,
    parse_duration,
    parse_timestamp,
    type_name,
)

err = rt.err
no_overload = rt.no_overload


class Arity:
    """Allowed argument counts: `n in FUNCTIONS["round"]`."""

    __slots__ = ("min", "max")

    def __init__(self, lo: int, hi: int | None):
        self.min, self.max = lo, hi

    def __contains__(self, n: object) -> bool:
        return isinstance(n, int) and n >= self.min and (self.max is None or n <= self.max)

    def __repr__(self) -> str:
        if self.max == self.min:
            return f"Arity({self.min})"
        return f"Arity({self.min}..{'' if self.max is None else self.max})"

    def describe(self) -> str:
        if self.max == self.min:
            return f"{self.min} argument{'s' if self.min != 1 else ''}"
        if self.max is None:
            return f"at least {self.min} argument{'s' if self.min != 1 else ''}"
        return f"{self.min} to {self.max} arguments"


# --- conversions -----------------------------------------------------------

_INT_TEXT = re.compile(r"[+-]?[0-9]+")
_DOUBLE_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)",
                          re.IGNORECASE)


def f_int(x):
    t = type(x)
    if t is int:
        return x
    if t is float:
        if math.isnan(x) or not (-9.223372036854776e18 <= x < 9.223372036854776e18):
            return err(f"double {x!r} is out of the int range")
        return int(x)
    if t is str:
        if not _INT_TEXT.fullmatch(x):
            return err(f"cannot convert '{x}' to int")
        return rt.check_int(int(x))
    if t is datetime:
        return int(x.timestamp() // 1)
    return no_overload("int", x)


def f_double(x):
    t = type(x)
    if t is float:
        return x
    if t is int:
        return float(x)
    if t is str:
        if not _DOUBLE_TEXT.fullmatch(x):
            return err(f"cannot convert '{x}' to double")
        return float(x)
    return no_overload("double", x)


def _double_text(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x.is_integer() and abs(x) < 2**53:
        return str(int(x))
    return repr(x)


def f_string(x):
    t = type(x)
    if t is str:
        return x
    if t is int:
        return str(x)
    if t is float:
        return _double_text(x)
    if t is bool:
        return "true" if x else "false"
    if t is bytes:
        try:
            return x.decode("utf-8")
        except UnicodeDecodeError:
            return err("bytes are not valid UTF-8")
    if t is datetime:
        return format_timestamp(x)
    if t is timedelta:
        return duration_seconds_text(x)
    if t is CelType:
        return x.name
    return no_overload("string", x)


_BOOL_TEXT = {"1": True, "t": True, "true": True, "TRUE": True, "True": True,
              "0": False, "f": False, "false": False, "FALSE": False, "False": False}


def f_bool(x):
    if type(x) is bool:
        return x
    if type(x) is str:
        out = _BOOL_TEXT.get(x)
        return err(f"cannot convert '{x}' to bool") if out is None else out
    return no_overload("bool", x)


def f_bytes(x):
    if type(x) is bytes:
        return x
    if type(x) is str:
        return x.encode("utf-8")
    return no_overload("bytes", x)


def f_type(x):
    if isinstance(x, EvaluationError):
        return x
    name = type_name(x)
    return TYPES.get(name) or CelType(name)


def f_duration(x):
    t = type(x)
    if t is timedelta:
        return x
    if t is str:
        try:
            return parse_duration(x)
        except ValueError as e:
            return err(str(e))
    return no_overload("duration", x)


def f_timestamp(tz, x):
    t = type(x)
    if t is datetime:
        return x
    if t is str:
        try:
            return parse_timestamp(x, tz)
        except ValueError as e:
            return err(str(e))
    if t is int:
        try:
            return datetime.fromtimestamp(x, timezone.utc)
        except (OverflowError, OSError, ValueError):
            return err(f"timestamp {x} is out of range")
    return no_overload("timestamp", x)


def f_size(x):
    t = type(x)
    if t in (str, list, dict, bytes, tuple) or isinstance(x, Mapping):
        return len(x)
    return no_overload("size", x)


# --- strings ---------------------------------------------------------------

def _strings(name, *args):
    for a in args:
        if type(a) is not str:
            return no_overload(name, *args)
    return None


def f_contains(s, t):
    if type(s) is str and type(t) is str or type(s) is bytes and type(t) is bytes:
        return t in s
    if isinstance(s, (list, tuple)) and not isinstance(t, EvaluationError):
        return err("contains() does not apply to a list: use 'x in list'")
    return no_overload("contains", s, t)


def f_starts_with(s, t):
    if type(s) is str and type(t) is str:
        return s.startswith(t)
    return no_overload("startsWith", s, t)


def f_ends_with(s, t):
    if type(s) is str and type(t) is str:
        return s.endswith(t)
    return no_overload("endsWith", s, t)


_RE2_OPTIONS: list = []  # the one `re2.Options`, made on first use


def pattern_error(exc: BaseException) -> str:
    """re2's reason as text: the binding raises with the C++ message as bytes (`b'missing ): ('`)."""
    reason = exc.args[0] if len(exc.args) == 1 else str(exc)
    if isinstance(reason, bytes):
        reason = reason.decode("utf-8", "replace")
    return str(reason)


def pattern_message(pattern: str, exc: BaseException) -> str:
    """`invalid regular expression '(': missing )`; re2's fragment is named when it is not the whole pattern."""
    reason, sep, fragment = pattern_error(exc).partition(": ")
    if sep and fragment != pattern:
        reason = f"{reason} at '{fragment}'"
    return f"invalid regular expression '{pattern}': {reason}"


def compile_pattern(pattern: str):
    """A compiled RE2 pattern, or the error value for a bad one."""
    import re2  # on first use: a policy without `matches` never loads the binding

    if not _RE2_OPTIONS:
        options = re2.Options()
        options.log_errors = False  # else RE2 (through absl) writes each bad pattern to stderr, at every evaluation
        _RE2_OPTIONS.append(options)
    try:
        return re2.compile(pattern, _RE2_OPTIONS[0])
    except Exception as e:  # re2.error, and anything the binding may raise for odd input
        return err(pattern_message(pattern, e))


def f_matches_compiled(s, rx):
    """`s.matches(<literal pattern>)`: the pattern was compiled once with the expression."""
    if type(s) is str and not isinstance(rx, EvaluationError):
        return rx.search(s) is not None
    if isinstance(rx, EvaluationError) and not isinstance(s, EvaluationError):
        return rx
    return no_overload("matches", s, "")


def f_matches(cache, s, p):
    if type(s) is str and type(p) is str:
        rx = cache.get(p)
        if rx is None:
            rx = compile_pattern(p)
            if len(cache) < 64:
                cache[p] = rx
        if isinstance(rx, EvaluationError):
            return rx
        return rx.search(s) is not None
    return no_overload("matches", s, p)


_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def f_lower_ascii(s):
    return s.translate(_LOWER) if type(s) is str else no_overload("lowerAscii", s)


def f_upper_ascii(s):
    return s.translate(_UPPER) if type(s) is str else no_overload("upperAscii", s)


def f_trim(s):
    return s.strip() if type(s) is str else no_overload("trim", s)


def f_split(s, sep, limit=-1):
    if type(s) is not str or type(sep) is not str or type(limit) is not int:
        return no_overload("split", s, sep, limit)
    if limit == 0:
        return []
    if sep == "":
        chars = list(s)
        if 0 < limit < len(chars):
            chars = chars[: limit - 1] + ["".join(chars[limit - 1:])]
        return chars
    return s.split(sep, limit - 1 if limit > 0 else -1)


def f_join(items, sep=""):
    if isinstance(items, (list, tuple)) and type(sep) is str:
        if all(type(x) is str for x in items):
            return sep.join(items)
        bad = next(x for x in items if type(x) is not str)
        return bad if isinstance(bad, EvaluationError) else err(
            f"join() needs a list of strings, found '{type_name(bad)}'")
    return no_overload("join", items, sep)


def f_replace(s, old, new, n=-1):
    if type(s) is str and type(old) is str and type(new) is str and type(n) is int:
        return s.replace(old, new, n if n >= 0 else -1)
    return no_overload("replace", s, old, new, n)


def f_index_of(s, sub, start=0):
    if type(s) is str and type(sub) is str and type(start) is int:
        if not 0 <= start <= len(s):
            return err(f"index {start} out of range for a string of size {len(s)}")
        return s.find(sub, start)
    return no_overload("indexOf", s, sub, start)


def f_last_index_of(s, sub):
    if type(s) is str and type(sub) is str:
        return s.rfind(sub)
    return no_overload("lastIndexOf", s, sub)


def f_substring(s, start, end=None):
    if type(s) is str and type(start) is int and (end is None or type(end) is int):
        stop = len(s) if end is None else end
        if not 0 <= start <= stop <= len(s):
            return err(f"substring range [{start}, {stop}) out of range for a string of size {len(s)}")
        return s[start:stop]
    return no_overload("substring", s, start, end)


# --- numbers and aggregates ------------------------------------------------

def _operands(name, args):
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        return list(args[0])
    if len(args) == 1 and isinstance(args[0], EvaluationError):
        return args[0]
    if len(args) == 1:
        return err(f"{name}() takes a list or several arguments, got one '{type_name(args[0])}'")
    return list(args)


def _extreme(name, args, pick):
    values = _operands(name, args)
    if isinstance(values, EvaluationError):
        return values
    if not values:
        return err(f"{name}() of an empty list")
    best = values[0]
    for v in values:
        if isinstance(v, EvaluationError):
            return v
    for v in values[1:]:
        r = rt.lt(v, best) if pick == "min" else rt.gt(v, best)
        if type(r) is not bool:
            return r
        if r:
            best = v
    if len(values) == 1:
        r = rt.lt(best, best)
        if type(r) is not bool:
            return r
    return best


def f_min(*args):
    return _extreme("min", args, "min")


def f_max(*args):
    return _extreme("max", args, "max")


def f_sum(*args):
    values = _operands("sum", args)
    if isinstance(values, EvaluationError):
        return values
    if not values:
        return 0
    if all(type(v) is timedelta for v in values):
        try:
            return sum(values, timedelta(0))
        except OverflowError:
            return err("duration out of range")
    total = 0
    for v in values:
        if type(v) not in rt.NUM:
            return v if isinstance(v, EvaluationError) else err(
                f"sum() needs numbers or durations, found '{type_name(v)}'")
        total += v
    return rt.check_int(total) if type(total) is int else total


def f_abs(x):
    t = type(x)
    if t is int:
        return rt.check_int(abs(x))
    if t is float or t is timedelta:
        return abs(x)
    return no_overload("abs", x)


def f_round(x, digits=0):
    """Half away from zero, on the decimal value the number prints as (2.675 → 2.68)."""
    if type(digits) is not int or type(x) not in rt.NUM:
        return no_overload("round", x, digits)
    if type(x) is int and digits >= 0:
        return x
    if type(x) is float and (math.isnan(x) or math.isinf(x)):
        return x
    if not -400 <= digits <= 400:
        return err(f"round() digits {digits} out of range")
    try:
        value = Decimal(repr(x) if type(x) is float else x).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
    except InvalidOperation:
        return x
    return rt.check_int(int(value)) if type(x) is int else float(value)


def f_floor(x):
    if type(x) is int:
        return x
    if type(x) is float:
        return float(math.floor(x)) if math.isfinite(x) else x
    return no_overload("floor", x)


def f_ceil(x):
    if type(x) is int:
        return x
    if type(x) is float:
        return float(math.ceil(x)) if math.isfinite(x) else x
    return no_overload("ceil", x)


# --- timestamp and duration accessors --------------------------------------

@functools.lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo | None:
    m = re.fullmatch(r"([+-])(\d{2}):(\d{2})", name)
    if m:
        delta = timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
        return timezone(-delta if m.group(1) == "-" else delta)
    if name.upper() == "UTC" or name == "Z":
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return None


def _accessor(name, ts_part, dur_part=None):
    def accessor(tz, x, zone=None):
        if type(x) is datetime and (zone is None or type(zone) is str):
            z = tz or timezone.utc
            if zone is not None:
                z = _zone(zone)
                if z is None:
                    return err(f"unknown time zone '{zone}'")
            try:
                return ts_part(x.astimezone(z))
            except (OverflowError, ValueError):
                return err("timestamp out of range")
        if type(x) is timedelta and dur_part is not None and zone is None:
            return dur_part(x)
        return no_overload(name, x) if zone is None else no_overload(name, x, zone)

    accessor.__name__ = name
    return accessor


def _total_us(d: timedelta) -> int:
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // b
    return -q if a < 0 else q


ACCESSORS = {
    "getFullYear": _accessor("getFullYear", lambda t: t.year),
    "getMonth": _accessor("getMonth", lambda t: t.month - 1),
    "getDayOfMonth": _accessor("getDayOfMonth", lambda t: t.day - 1),
    "getDate": _accessor("getDate", lambda t: t.day),
    "getDayOfWeek": _accessor("getDayOfWeek", lambda t: (t.weekday() + 1) % 7),
    "getDayOfYear": _accessor("getDayOfYear", lambda t: t.timetuple().tm_yday - 1),
    "getHours": _accessor("getHours", lambda t: t.hour, lambda d: _trunc_div(_total_us(d), 3_600_000_000)),
    "getMinutes": _accessor("getMinutes", lambda t: t.minute, lambda d: _trunc_div(_total_us(d), 60_000_000)),
    "getSeconds": _accessor("getSeconds", lambda t: t.second, lambda d: _trunc_div(_total_us(d), 1_000_000)),
    "getMilliseconds": _accessor("getMilliseconds", lambda t: t.microsecond // 1000,
                                 lambda d: _trunc_div(_total_us(d), 1000)),
}


# --- the table -------------------------------------------------------------

#: name → implementation (coalesce is compiled inline: it is lazy)
IMPLEMENTATIONS = {
    "size": f_size, "int": f_int, "double": f_double, "string": f_string, "bool": f_bool,
    "bytes": f_bytes, "type": f_type, "duration": f_duration, "timestamp": f_timestamp,
    "contains": f_contains, "startsWith": f_starts_with, "endsWith": f_ends_with, "matches": f_matches,
    "lowerAscii": f_lower_ascii, "upperAscii": f_upper_ascii, "trim": f_trim, "split": f_split,
    "join": f_join, "replace": f_replace, "indexOf": f_index_of, "lastIndexOf": f_last_index_of,
    "substring": f_substring, "min": f_min, "max": f_max, "sum": f_sum, "abs": f_abs,
    "round": f_round, "floor": f_floor, "ceil": f_ceil, **ACCESSORS,
}

NEEDS_TZ = frozenset({"timestamp", *ACCESSORS})

FUNCTIONS: dict[str, Arity] = {
    "size": Arity(1, 1), "int": Arity(1, 1), "double": Arity(1, 1), "string": Arity(1, 1),
    "bool": Arity(1, 1), "bytes": Arity(1, 1), "type": Arity(1, 1), "duration": Arity(1, 1),
    "timestamp": Arity(1, 1), "contains": Arity(2, 2), "startsWith": Arity(2, 2), "endsWith": Arity(2, 2),
    "matches": Arity(2, 2), "lowerAscii": Arity(1, 1), "upperAscii": Arity(1, 1), "trim": Arity(1, 1),
    "split": Arity(2, 3), "join": Arity(1, 2), "replace": Arity(3, 4), "indexOf": Arity(2, 3),
    "lastIndexOf": Arity(2, 2), "substring": Arity(2, 3), "min": Arity(1, None), "max": Arity(1, None),
    "sum": Arity(1, None), "abs": Arity(1, 1), "round": Arity(1, 2), "floor": Arity(1, 1),
    "ceil": Arity(1, 1), "coalesce": Arity(1, None),
    **{name: Arity(1, 2) for name in ACCESSORS},
}

MACROS: dict[str, Arity] = {
    "has": Arity(1, 1), "all": Arity(2, 2), "exists": Arity(2, 2), "exists_one": Arity(2, 2),
    "map": Arity(2, 3), "filter": Arity(2, 2),
}

assert set(FUNCTIONS) == set(IMPLEMENTATIONS) | {"coalesce"}
assert INT_MIN < INT_MAX
