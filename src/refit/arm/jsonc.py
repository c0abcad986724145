"""JSON as ARM reads it: its deserialiser (Newtonsoft.Json) also takes comments and unquoted property names.

Clients depend on it: `az deployment group create` splices the template file's own text into the request body
as `..., template:{...}}}` (azure-cli resource/custom.py JsonCTemplatePolicy: "This is not an ordinary JSON format,
but it is a JSONC format that service can deserialize"), comments and all; ARM templates may carry `//` and
`/* */` comments (https://learn.microsoft.com/azure/azure-resource-manager/templates/syntax#comments).
`loads` rewrites such text into strict JSON (comments dropped, bare property names quoted) and parses it.
"""

from __future__ import annotations

import json
import re
from typing import Any

_BARE = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


def loads(text: str | bytes) -> Any:
    """Parse strict JSON, or ARM's lenient JSON (ValueError when neither)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig")
    try:
        return json.loads(text)
    except ValueError:
        return json.loads(_strict(text))


def _strict(text: str) -> str:
    out: list[str] = []
    i, n = 0, len(text)
    expect_key = False  # after '{' or ',' inside an object a property name may come
    stack: list[str] = []
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
            expect_key = False
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        if c in "{[":
            stack.append(c)
            expect_key = c == "{"
        elif c in "}]":
            if stack:
                stack.pop()
            expect_key = False
        elif c == ",":
            expect_key = bool(stack) and stack[-1] == "{"
        elif expect_key and not c.isspace():
            m = _BARE.match(text, i)
            if m and text[m.end():].lstrip().startswith(":"):
                out.append(json.dumps(m.group(0)))
                i = m.end()
                expect_key = False
                continue
            expect_key = False
        out.append(c)
        i += 1
    return "".join(out)
