"""A check's page as HTML. The page is `refit.checks.docs.page(check)`, the generator of docs/checks/<id>.md (a test
keeps the committed files equal to it), so the link works wherever refit is installed, without the repository.

Only the Markdown that generator writes is rendered: front matter (dropped), headings, fenced code, bullet
lists, paragraphs, **bold**, `code` and [links](x.md); everything else is escaped text. Written here rather than
taking a Markdown package for ~40 lines of a known, generated subset.
"""

from __future__ import annotations

import re

from refit.serve.html import h

_INLINE = re.compile(r"`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)]+)\)")


def check_page(check_id: str) -> str | None:
    from refit.checks.docs import page
    from refit.checks.registry import get

    c = get(check_id)
    return None if c is None else render(page(c))


def _inline(text: str) -> str:
    out, pos = [], 0
    for m in _INLINE.finditer(text):
        out.append(h(text[pos:m.start()]))
        code, bold, label, href = m.groups()
        if code is not None:
            out.append(f"<code>{h(code)}</code>")
        elif bold is not None:
            out.append(f"<strong>{h(bold)}</strong>")
        else:  # sibling pages (RF-X.md, index.md) map to this page's routes; others stay text
            target = href.removesuffix(".md")
            out.append(f'<a href="/docs/checks/{h(target)}">{h(label)}</a>' if re.fullmatch(r"RF-[A-Z]+-\d+", target)
                       else h(label))
        pos = m.end()
    out.append(h(text[pos:]))
    return "".join(out)


def render(md: str) -> str:
    lines = md.splitlines()
    if lines and lines[0] == "---":  # front matter
        end = lines.index("---", 1) if "---" in lines[1:] else 0
        lines = lines[end + 1:]
    out: list[str] = []
    para: list[str] = []
    items: list[str] = []
    code: list[str] | None = None

    def flush() -> None:
        if para:
            out.append(f"<p>{_inline(' '.join(para))}</p>")
            para.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
            items.clear()

    for line in lines:
        if code is not None:
            if line.startswith("```"):
                out.append(f"<pre><code>{h(chr(10).join(code))}</code></pre>")
                code = None
            else:
                code.append(line)
            continue
        if line.startswith("```"):
            flush()
            code = []
        elif m := re.match(r"(#{1,4}) (.*)", line):
            flush()
            level = len(m.group(1))
            out.append(f"<h{level}>{_inline(m.group(2))}</h{level}>")
        elif line.startswith("- "):
            if para:
                flush()
            items.append(line[2:])
        elif not line.strip():
            flush()
        else:
            para.append(line.strip())
    flush()
    return "".join(out)
