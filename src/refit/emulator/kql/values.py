"""Runtime values: Python None/bool/int/float/str/dict/list/datetime/timedelta stand for Kusto's
null/bool/long/real/string/dynamic/datetime/timespan (https://learn.microsoft.com/kusto/query/scalar-data-types/).
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta

from refit.emulator.kql.parser import parse_datetime


def tostr(v: object) -> str:
    """tostring(): null -> "" (Kusto strings are never null), bags/arrays -> compact JSON."""
    t = v.__class__
    if t is str:
        return v  # type: ignore[return-value]
    if v is None:
        return ""
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return str(v)
    if t is float:
        return fmt_real(v)  # type: ignore[arg-type]
    if t is dict or t is list:
        return json.dumps(v, separators=(",", ":"), ensure_ascii=False, default=_json_default)
    if t is datetime:
        return fmt_datetime(v)  # type: ignore[arg-type]
    if t is timedelta:
        return fmt_timespan(v)  # type: ignore[arg-type]
    return str(v)


def s(v: object) -> str:
    return v if v.__class__ is str else tostr(v)  # type: ignore[return-value]


def fmt_real(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def fmt_datetime(v: datetime) -> str:
    # Kusto prints UTC with 7 fractional digits when there is a fraction: 2024-01-01T10:00:00.5000000Z
    base = v.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{v.microsecond:06d}0Z" if v.microsecond else f"{base}Z"


def fmt_timespan(v: timedelta) -> str:
    # Kusto/.NET TimeSpan text: [-][d.]hh:mm:ss[.fffffff]
    neg = v < timedelta(0)
    v = -v if neg else v
    total_us = v.days * 86_400_000_000 + v.seconds * 1_000_000 + v.microseconds
    days, rem = divmod(total_us, 86_400_000_000)
    hours, rem = divmod(rem, 3_600_000_000)
    minutes, rem = divmod(rem, 60_000_000)
    seconds, micros = divmod(rem, 1_000_000)
    text = f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    if micros:
        text += f".{micros:06d}0"
    if days:
        text = f"{days}.{text}"
    return f"-{text}" if neg else text


def _json_default(v: object) -> object:
    if isinstance(v, datetime):
        return fmt_datetime(v)
    if isinstance(v, timedelta):
        return fmt_timespan(v)
    return str(v)


def num(v: object) -> int | float | None:
    """The number inside a long/real/dynamic value, else None (bool is not a number in Kusto)."""
    t = v.__class__
    if t is int or t is float:
        return v  # type: ignore[return-value]
    return None


def to_datetime(v: object) -> datetime | None:
    if v.__class__ is datetime:
        return v  # type: ignore[return-value]
    if v.__class__ is str:
        return parse_datetime(v)  # type: ignore[arg-type]
    return None


def hkey(v: object) -> object:
    """A hashable stand-in for grouping and distinct (dynamic values compare by JSON content)."""
    t = v.__class__
    if t is dict or t is list:
        return ("\x00dyn", json.dumps(v, sort_keys=True, default=_json_default))
    if t is bool:
        return ("\x00bool", v)
    return v


def sort_key(v: object) -> tuple:
    """A total order over non-null values of mixed runtime types."""
    t = v.__class__
    if t is int or t is float:
        return (0, v)
    if t is str:
        return (1, v)
    if t is bool:
        return (2, v)
    if t is datetime:
        return (3, v)
    if t is timedelta:
        return (4, v)
    return (5, tostr(v))


def output(v: object) -> object:
    """A value as the JSON answer carries it: datetimes and timespans as Kusto prints them."""
    t = v.__class__
    if t is datetime:
        return fmt_datetime(v)  # type: ignore[arg-type]
    if t is timedelta:
        return fmt_timespan(v)  # type: ignore[arg-type]
    if t is list:
        return [output(x) for x in v]  # type: ignore[attr-defined]
    if t is dict:
        return {k: output(x) for k, x in v.items()}  # type: ignore[attr-defined]
    return v


def type_of(v: object) -> str:
    t = v.__class__
    if t is str:
        return "string"
    if t is bool:
        return "bool"
    if t is int:
        return "long"
    if t is float:
        return "real"
    if t is datetime:
        return "datetime"
    if t is timedelta:
        return "timespan"
    return "dynamic"
