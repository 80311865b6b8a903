"""Runtime values: plain Python objects, plus the few helpers that give them
CEL's meaning.

    null → None, bool, int (int64), double → float, string → str, bytes,
    list, map → dict, timestamp → aware datetime, duration → timedelta,
    type → `CelType`, error → `EvaluationError` (see errors.py)

Also here: reading and writing durations and timestamps, `render_value` (how
a value shows inside a template) and `to_json`.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal

from accord.dsl.expr.errors import EvaluationError

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1


class CelType:
    """A type value, as returned by `type(x)`: compares equal by name and
    renders as its name (`type(1) == int`, `string(type(1)) == "int"`)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CelType) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("CelType", self.name))

    def __repr__(self) -> str:
        return f"CelType({self.name!r})"

    def __str__(self) -> str:
        return self.name


class CelMap(dict):
    """A map with a bool key and an int key that Python finds equal (`{1: "x", true: "y"}`, where
    `True == 1`), which a dict cannot keep apart. Only a map literal with such a pair builds one;
    every other map is a plain dict.

    Read through its methods (`m[k]`, `k in m`, `get`, iteration, `items`, `len`), it is the CEL map,
    with bool and int keys apart. As a plain dict, which is what C code such as orjson reads, it holds
    the map's JSON form (keys as text: `{"1": "x", "true": "y"}`), the form every map is written in
    when it leaves an expression. It is immutable, as every CEL value is."""

    __slots__ = ("_entries",)

    def __init__(self, pairs: object = ()) -> None:
        items = list(pairs.items()) if isinstance(pairs, Mapping) else list(pairs)
        self._entries = {(type(k) is bool, k): v for k, v in items}
        super().__init__((_key_text(k), v) for (_, k), v in self._entries.items())

    @staticmethod
    def needed(keys: object) -> bool:
        """Do these (distinct CEL) keys hold a bool and an int that a dict would merge?"""
        bools = {k for k in keys if type(k) is bool}
        return bool(bools) and any(type(k) is int and k in bools for k in keys)

    def __getitem__(self, key: object) -> object:
        return self._entries[(type(key) is bool, key)]

    def get(self, key: object, default: object = None) -> object:
        try:
            return self._entries.get((type(key) is bool, key), default)
        except TypeError:
            return default

    def __contains__(self, key: object) -> bool:
        try:
            return (type(key) is bool, key) in self._entries
        except TypeError:
            return False

    def __iter__(self):
        return (k for _, k in self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self):  # type: ignore[override]
        return [k for _, k in self._entries]

    def values(self):  # type: ignore[override]
        return list(self._entries.values())

    def items(self):  # type: ignore[override]
        return [(k, v) for (_, k), v in self._entries.items()]

    def __eq__(self, other: object) -> bool:
        # (CEL's equality is `runtime.eq`; this is Python's, for tests and host code.) Any other mapping
        # holds at most one of `1` and `True`, so it never has the same entries.
        if isinstance(other, CelMap):
            return self._entries == other._entries
        return False if isinstance(other, Mapping) else NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "CelMap({" + ", ".join(f"{k!r}: {v!r}" for k, v in self.items()) + "})"

    def copy(self) -> CelMap:
        return CelMap(self.items())

    def __reduce__(self):
        return (CelMap, (self.items(),))

    def _immutable(self, *args: object, **kwargs: object) -> None:
        raise TypeError("a map value is immutable")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = __ior__ = _immutable  # type: ignore


TYPE_NAMES = ("null_type", "bool", "int", "double", "string", "bytes", "list", "map",
              "timestamp", "duration", "type")
#: the builtin type identifiers, always in scope (a macro variable may shadow one)
TYPES: dict[str, CelType] = {name: CelType(name) for name in TYPE_NAMES}

_TYPE_OF = {
    type(None): "null_type", bool: "bool", int: "int", float: "double", str: "string",
    bytes: "bytes", list: "list", tuple: "list", dict: "map", datetime: "timestamp",
    timedelta: "duration", CelType: "type", CelMap: "map",
}


def type_name(value: object) -> str:
    """The CEL type name of a runtime value (used in error messages and `type()`)."""
    name = _TYPE_OF.get(type(value))
    if name is not None:
        return name
    if isinstance(value, EvaluationError):
        return "error"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "map"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, datetime):
        return "timestamp"
    if isinstance(value, timedelta):
        return "duration"
    return type(value).__name__


# --- durations -------------------------------------------------------------

_UNIT_US = {"d": 86_400_000_000, "h": 3_600_000_000, "m": 60_000_000, "s": 1_000_000,
            "ms": 1_000, "us": 1, "µs": 1, "ns": Decimal("0.001")}
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ms|us|µs|ns|d|h|m|s)")
_DURATION = re.compile(r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ms|us|µs|ns|d|h|m|s))+")
MAX_DURATION = timedelta(days=999_999_999)


def parse_duration(text: str) -> timedelta:
    """`"1h30m"`, `"90s"`, `"2d"`, `"1.5h"`, `"-15m"`, `"100ms"`, `"0"`; raises ValueError."""
    if text in ("0", "+0", "-0"):
        return timedelta(0)
    if not _DURATION.fullmatch(text):
        raise ValueError(f"invalid duration '{text}'")
    sign = -1 if text.startswith("-") else 1
    total = Decimal(0)
    for number, unit in _DURATION_PART.findall(text):
        total += Decimal(number) * _UNIT_US[unit]
    try:
        return sign * timedelta(microseconds=int(total))
    except OverflowError:
        raise ValueError(f"duration '{text}' is out of range") from None


def format_duration(value: timedelta) -> str:
    """Analyst-facing form: `1h30m`, `2d`, `1.5s`, `250ms`, `0s`, `-15m`."""
    us = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    if us == 0:
        return "0s"
    sign = "-" if us < 0 else ""
    us = abs(us)
    days, us = divmod(us, 86_400_000_000)
    hours, us = divmod(us, 3_600_000_000)
    minutes, us = divmod(us, 60_000_000)
    parts = []
    if days:
        parts.append(f"{days}d")
    if hours:
        parts.append(f"{hours}h")
    if minutes:
        parts.append(f"{minutes}m")
    if us:
        if not parts and us < 1_000_000:
            parts.append(f"{us // 1000}ms" if us % 1000 == 0 else f"{us}us")
        else:
            seconds, frac = divmod(us, 1_000_000)
            parts.append(f"{seconds}.{frac:06d}".rstrip("0") + "s" if frac else f"{seconds}s")
    return sign + "".join(parts)


def duration_seconds_text(value: timedelta) -> str:
    """CEL's canonical form, as in JSON: `5400s`, `1.5s`, `-0.25s`."""
    us = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    sign = "-" if us < 0 else ""
    seconds, frac = divmod(abs(us), 1_000_000)
    return f"{sign}{seconds}.{frac:06d}".rstrip("0") + "s" if frac else f"{sign}{seconds}s"


# --- timestamps ------------------------------------------------------------

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))?"
)
#: One tzinfo per UTC offset (up to 4096), shared by every time Accord reads: aware datetimes holding the same
#: tzinfo object compare and subtract on their fields alone, about twenty times faster than across two equal
#: fixed offsets (which asks both for `utcoffset`). The engine's `parse_time` uses it inline on its hot path.
FIXED_ZONES: dict[timedelta, timezone] = {}


def at_fixed_offset(value: datetime) -> datetime:
    """An aware `value` kept at the offset its zone has at that instant, not the zone: Python adds and subtracts
    datetimes of one named zone on the wall clock, wrong by an hour across a DST change."""
    if type(value.tzinfo) is timezone:
        return value
    offset = value.utcoffset()
    fixed = FIXED_ZONES.get(offset)
    if fixed is None:
        fixed = timezone(offset)
        if len(FIXED_ZONES) < 4096:
            FIXED_ZONES[offset] = fixed
    return value.astimezone(fixed)


def parse_timestamp(text: str, tz: tzinfo | None) -> datetime:
    """Strict RFC 3339 (`date T time` with seconds, a fraction and `Z` or `±hh:mm` optional; `t`, `z` and a
    space for `T` are accepted), as the engine reads event times (decision 34). Without an offset the time is
    read in `tz` (an error without one) and kept with the fixed offset that zone has at that instant: Python
    adds and subtracts datetimes of one named zone on the wall clock, wrong by an hour across a DST change.

    Raises ValueError with an analyst-facing message."""
    m = _TIMESTAMP.fullmatch(text.strip())
    if not m:
        raise ValueError(f"invalid timestamp '{text}'")
    year, month, day, hour, minute, second, frac, zulu, sign, oh, om = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    if zulu:
        zone: tzinfo | None = timezone.utc
    elif sign:
        if int(oh) > 23 or int(om) > 59:
            raise ValueError(f"invalid timestamp '{text}'")
        offset = timedelta(hours=int(oh), minutes=int(om))
        zone = timezone(-offset if sign == "-" else offset)
    else:
        if tz is None:
            raise ValueError(f"timestamp '{text}' has no offset and the policy sets no timezone")
        zone = None
    try:
        value = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro)
    except ValueError:
        raise ValueError(f"invalid timestamp '{text}'") from None
    if zone is not None:
        return value.replace(tzinfo=zone)
    return at_fixed_offset(value.replace(tzinfo=tz))


def format_timestamp(value: datetime) -> str:
    """RFC 3339: `Z` when the offset is zero, fractional seconds only when present."""
    offset = value.utcoffset()
    text = value.strftime("%Y-%m-%dT%H:%M:%S") if value.year >= 1000 else (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:{value.minute:02d}:{value.second:02d}")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    if offset is None or not offset:
        return text + "Z"
    total = int(offset.total_seconds()) // 60
    sign = "-" if total < 0 else "+"
    hours, minutes = divmod(abs(total), 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


# --- rendering -------------------------------------------------------------

def _format_double(value: float) -> str | float | int:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _json_ready(value: object, *, for_render: bool) -> object:
    """The JSON-able form shared by `render_value` (nested) and `to_json`."""
    if value is None or value is True or value is False or type(value) is str:
        return value
    if type(value) is int:
        return value
    if type(value) is float:
        out = _format_double(value)
        return out if for_render or not isinstance(out, int) else value
    if isinstance(value, (list, tuple)):
        return [_json_ready(v, for_render=for_render) for v in value]
    if isinstance(value, Mapping):
        return {_key_text(k): _json_ready(v, for_render=for_render) for k, v in value.items()}
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, timedelta):
        return format_duration(value) if for_render else duration_seconds_text(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, CelType):
        return value.name
    if isinstance(value, EvaluationError):
        return {"error": value.message}
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _json_ready(float(value), for_render=for_render)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _key_text(key: object) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(_json_ready(key, for_render=True))


def render_value(value: object) -> str:
    """How a value shows in a template: JSON, except that a string shows
    without quotes and an integral double without a fraction (`150.0` → `150`);
    timestamps are RFC 3339 and durations read like `1h30m`."""
    if type(value) is str:
        return value
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return str(value)
    out = _json_ready(value, for_render=True)
    if isinstance(out, str):
        return out
    if isinstance(out, float):
        return repr(out)
    import orjson

    return orjson.dumps(out, option=orjson.OPT_NON_STR_KEYS).decode()


def to_json(value: object) -> object:
    """A value as JSON-able Python: timestamps as RFC 3339 strings, durations
    as CEL's `"5400s"`, bytes as base64, non-finite doubles as strings, an
    error as `{"error": message}`."""
    return _json_ready(value, for_render=False)


def from_plain(value: object, tz: tzinfo | None = None) -> object:
    """Normalise host data into runtime values: tuples become lists, other
    mappings dicts, a naive datetime is read in `tz` (UTC when None)."""
    if value is None or type(value) in (bool, int, float, str, bytes, timedelta, CelType):
        return value
    if isinstance(value, EvaluationError):
        return value
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz or timezone.utc)
    if type(value) is CelMap:
        return CelMap((k, from_plain(v, tz)) for k, v in value.items())
    if isinstance(value, Mapping):
        return {k: from_plain(v, tz) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [from_plain(v, tz) for v in value]
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"a value of Python type {type(value).__name__!r} cannot enter an expression")
