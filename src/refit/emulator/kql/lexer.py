"""Tokens of the KQL subset (https://learn.microsoft.com/kusto/query/ syntax conventions)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import timedelta

from refit.emulator.kql.errors import KqlError

# Operator names spelled with a hyphen; the lexer joins them so `a-b` stays a subtraction.
HYPHENATED = frozenset(
    {
        "project-away",
        "project-keep",
        "project-rename",
        "project-reorder",
        "mv-expand",
        "mv-apply",
        "make-series",
        "top-nested",
        "top-hitters",
    }
)

PUNCT = (
    "..",
    "==",
    "!=",
    "=~",
    "!~",
    "<=",
    ">=",
    "<>",
    "=",
    "<",
    ">",
    "+",
    "-",
    "*",
    "/",
    "%",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    "|",
    ".",
    ":",
    ";",
)

# Timespan literal suffixes (https://learn.microsoft.com/kusto/query/scalar-data-types/timespan).
TS_UNITS = {
    "d": timedelta(days=1),
    "day": timedelta(days=1),
    "days": timedelta(days=1),
    "h": timedelta(hours=1),
    "hr": timedelta(hours=1),
    "hrs": timedelta(hours=1),
    "hour": timedelta(hours=1),
    "hours": timedelta(hours=1),
    "m": timedelta(minutes=1),
    "min": timedelta(minutes=1),
    "minute": timedelta(minutes=1),
    "minutes": timedelta(minutes=1),
    "s": timedelta(seconds=1),
    "sec": timedelta(seconds=1),
    "second": timedelta(seconds=1),
    "seconds": timedelta(seconds=1),
    "ms": timedelta(milliseconds=1),
    "milli": timedelta(milliseconds=1),
    "millis": timedelta(milliseconds=1),
    "millisecond": timedelta(milliseconds=1),
    "milliseconds": timedelta(milliseconds=1),
    "microsecond": timedelta(microseconds=1),
    "microseconds": timedelta(microseconds=1),
    "tick": timedelta(microseconds=0.1),
    "ticks": timedelta(microseconds=0.1),
}

# Literals whose argument is raw text, not an expression: datetime(2024-01-01 10:00).
_RAW_LITERALS = frozenset({"datetime", "timespan", "time"})

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0"}


@dataclass(frozen=True, slots=True)
class Tok:
    kind: str  # id | str | num | ts | raw | op | eof
    value: object
    start: int
    end: int


class Source:
    """The query text plus offset -> (line, position) for error messages."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def where(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1]

    def error(self, offset: int, token: str, why: str, *, code: str = "ParserFailure") -> KqlError:
        line, pos = self.where(offset)
        shown = token if token else "<EOF>"
        if code == "ParserFailure":
            msg = f"Query could not be parsed at '{shown}' on line [{line},{pos}]: {why}"
        else:
            msg = f"{why} (line [{line},{pos}])"
        return KqlError(msg, code=code, line=line, position=pos, token=shown)


def _is_ident_start(ch: str) -> bool:
    return ch.isascii() and (ch.isalpha() or ch == "_")


def _is_ident_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


def tokenize(src: Source) -> list[Tok]:
    text = src.text
    n = len(text)
    i = 0
    out: list[Tok] = []
    while i < n:
        ch = text[i]
        if ch in " \t\r\n\f\v":
            i += 1
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        start = i
        # strings: '...', "...", @'verbatim', h'obfuscated', h@'...'
        prefix_end = i
        if (
            ch in "hH"
            and i + 1 < n
            and (text[i + 1] in "'\"" or text.startswith("@'", i + 1) or text.startswith('@"', i + 1))
        ):
            prefix_end = i + 1
        verbatim = text[prefix_end] == "@" and prefix_end + 1 < n and text[prefix_end + 1] in "'\""
        if verbatim or text[prefix_end] in "'\"":
            try:
                if verbatim:
                    value, i = _verbatim(src, prefix_end + 1, start)
                else:
                    value, i = _quoted(src, prefix_end, start)
            except KqlError as exc:
                # Report it only if the parser gets this far: an earlier syntax error wins, as in
                # Resource Graph (aztfexport#485 reports the first bad token, not the open quote).
                eol = text.find("\n", start)
                i = n if eol < 0 else eol
                out.append(Tok("bad", exc.message.split(": ", 1)[-1], start, i))
                continue
            out.append(Tok("str", value, start, i))
            continue
        if ch.isdigit():
            tok, i = _number(src, i)
            out.append(tok)
            continue
        if _is_ident_start(ch) or ch == "$":
            j = i + 1
            while j < n and _is_ident_char(text[j]):
                j += 1
            word = text[i:j]
            if text.startswith("-", j):
                k = j + 1
                while k < n and _is_ident_char(text[k]):
                    k += 1
                if text[i:k] in HYPHENATED:
                    out.append(Tok("id", text[i:k], i, k))
                    i = k
                    continue
            if word == "in" and text.startswith("~", j):
                out.append(Tok("op", "in~", i, j + 1))
                i = j + 1
                continue
            if word in _RAW_LITERALS:
                k = j
                while k < n and text[k] in " \t":
                    k += 1
                if k < n and text[k] == "(":
                    close = text.find(")", k)
                    if close < 0:
                        raise src.error(k, "(", f"'{word}(' is never closed with ')'")
                    out.append(Tok("raw", (word, text[k + 1 : close].strip()), i, close + 1))
                    i = close + 1
                    continue
            out.append(Tok("id", word, i, j))
            i = j
            continue
        if ch == "!" and i + 1 < n and _is_ident_start(text[i + 1]):
            j = i + 1
            while j < n and _is_ident_char(text[j]):
                j += 1
            if text.startswith("~", j):
                j += 1
            out.append(Tok("op", text[i:j], i, j))
            i = j
            continue
        for p in PUNCT:
            if text.startswith(p, i):
                out.append(Tok("op", "!=" if p == "<>" else p, i, i + len(p)))
                i += len(p)
                break
        else:
            out.append(Tok("bad", f"unexpected character {ch!r}", i, i + 1))
            i += 1
    out.append(Tok("eof", None, n, n))
    return out


def _quoted(src: Source, i: int, start: int) -> tuple[str, int]:
    text = src.text
    quote = text[i]
    i += 1
    parts: list[str] = []
    while True:
        if i >= len(text) or text[i] == "\n":
            raise src.error(start, text[start:i], f"string literal starting with {quote} is not closed")
        ch = text[i]
        if ch == quote:
            return "".join(parts), i + 1
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in _ESCAPES:
                parts.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt == "u":
                hexd = text[i + 2 : i + 6]
                try:
                    parts.append(chr(int(hexd, 16)))
                except ValueError:
                    raise src.error(i, text[i : i + 6], "bad \\u escape in string literal") from None
                i += 6
                continue
            if nxt == "x":
                hexd = text[i + 2 : i + 4]
                try:
                    parts.append(chr(int(hexd, 16)))
                except ValueError:
                    raise src.error(i, text[i : i + 4], "bad \\x escape in string literal") from None
                i += 4
                continue
            raise src.error(i, text[i : i + 2], "unknown escape sequence in string literal")
        parts.append(ch)
        i += 1


def _verbatim(src: Source, i: int, start: int) -> tuple[str, int]:
    # @'...': no escapes; a doubled quote stands for one quote.
    text = src.text
    quote = text[i]
    i += 1
    parts: list[str] = []
    while True:
        if i >= len(text):
            raise src.error(start, text[start:i], f"verbatim string starting with @{quote} is not closed")
        ch = text[i]
        if ch == quote:
            if text.startswith(quote, i + 1):
                parts.append(quote)
                i += 2
                continue
            return "".join(parts), i + 1
        parts.append(ch)
        i += 1


def _number(src: Source, i: int) -> tuple[Tok, int]:
    text = src.text
    n = len(text)
    start = i
    if text.startswith(("0x", "0X"), i):
        j = i + 2
        while j < n and text[j] in "0123456789abcdefABCDEF":
            j += 1
        return Tok("num", int(text[i + 2 : j], 16), start, j), j
    j = i
    while j < n and text[j].isdigit():
        j += 1
    is_real = False
    if j + 1 < n and text[j] == "." and text[j + 1].isdigit():
        is_real = True
        j += 1
        while j < n and text[j].isdigit():
            j += 1
    if j < n and text[j] in "eE":
        k = j + 1
        if k < n and text[k] in "+-":
            k += 1
        if k < n and text[k].isdigit():
            is_real = True
            j = k
            while j < n and text[j].isdigit():
                j += 1
    literal = text[start:j]
    if j < n and _is_ident_start(text[j]):
        k = j
        while k < n and _is_ident_char(text[k]):
            k += 1
        unit = text[j:k]
        if unit in TS_UNITS:
            return Tok("ts", TS_UNITS[unit] * float(literal), start, k), k
        raise src.error(start, text[start:k], f"'{unit}' is not a number suffix or timespan unit")
    value: object = float(literal) if is_real else int(literal)
    return Tok("num", value, start, j), j
