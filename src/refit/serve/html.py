"""HTML building blocks: escaping (every value from the journal or Azure is text, never markup) and the layout
every page shares (navigation, skip link, the vendored stylesheet and script; no inline script or style, so the
Content-Security-Policy can forbid them)."""

from __future__ import annotations

import html
from collections.abc import Iterable

NAV = (("/campaigns", "Campaigns"), ("/plan", "Plan"), ("/fleet", "Fleet"))


def h(value: object) -> str:
    """Text as HTML: escaped, None as empty."""
    return "" if value is None else html.escape(str(value), quote=True)


def badge(state: str) -> str:
    """A state as a labelled badge; the colour class repeats what the text already says (never colour alone)."""
    cls = {"completed": "ok", "done": "ok", "healthy": "ok", "running": "run", "in-sync": "ok", "rolled-back": "warn",
           "paused": "warn", "halting": "warn", "halted": "bad", "failed": "bad", "unhealthy": "bad",
           "rollback-failed": "bad", "interrupted": "warn", "waiting-for-capacity": "warn", "checking": "run",
           "verifying": "run", "rolling-back": "warn", "deallocated": "warn", "fail": "bad", "high": "bad",
           "medium": "warn"}.get(state, "idle")
    return f'<span class="badge {cls}">{h(state)}</span>'


def table(caption: str, head: Iterable[str], rows: Iterable[Iterable[str]], cls: str = "") -> str:
    """A table whose cells are HTML already (escaped by the caller); the caption names it for screen readers."""
    out = [f'<div class="scroll"><table class="{cls}"><caption>{h(caption)}</caption><thead><tr>']
    out += [f'<th scope="col">{h(c)}</th>' for c in head]
    out.append("</tr></thead><tbody>")
    for r in rows:
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def seconds(s: float | None) -> str:
    """Seconds as refit prints them (refit.plan.markdown.duration): `45 s`, `4.5 min`."""
    from refit.plan.markdown import duration

    return "" if s is None else duration(s)


def layout(title: str, current: str, body: str, meta: dict[str, str] | None = None) -> str:
    here = ' aria-current="page"'
    nav = "".join(f'<li><a href="{p}"{here if p == current else ""}>{h(n)}</a></li>' for p, n in NAV)
    metas = "".join(f'<meta name="{h(k)}" content="{h(v)}">' for k, v in (meta or {}).items())
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{h(title)} · refit</title>{metas}"
            "<link rel=\"icon\" href=\"data:,\">"
            "<link rel=\"stylesheet\" href=\"/static/style.css\">"
            "<script src=\"/static/app.js\" defer></script></head><body>"
            "<a class=\"skip\" href=\"#main\">Skip to content</a>"
            f"<header><span class=\"brand\">refit</span><nav aria-label=\"Pages\"><ul>{nav}</ul></nav></header>"
            f"<main id=\"main\" tabindex=\"-1\">{body}</main></body></html>")
