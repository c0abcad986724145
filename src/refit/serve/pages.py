"""Page data -> HTML. One renderer per view: the first response and every live update of a campaign use the same
function (`campaign_live`), so what a reload shows and what the event stream pushes never differ."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from refit.serve.html import badge, h, layout, seconds, table

DASH = "\u2014"


# ---- campaigns -----------------------------------------------------------------------------------------------------
def campaigns(runs: list[dict[str, Any]]) -> str:
    body = f'<h1>Campaigns</h1><div id="live" data-stream="/events/campaigns">{campaigns_live(runs)}</div>'
    return layout("Campaigns", "/campaigns", body)


def campaigns_live(runs: list[dict[str, Any]]) -> str:
    """The list the event stream replaces as runs start, move and end."""
    if not runs:
        return ("<p>No campaign in the journal yet. Start one with <code>refit refresh swap</code>, "
                "<code>refit apply plan.json</code> or <code>refit rollout</code>; it shows here while it runs.</p>")
    rows = [[f'<a href="/campaigns/{quote(r["id"])}">{h(r["id"])}</a>', h(r["kind"]), badge(r["status"]),
             h(r["started"]), _progress(r["done"], r["total"]), h(r["message"])] for r in runs]
    return table(f"{len(runs)} campaigns in the journal, newest first",
                 ("run", "kind", "state", "started", "progress", "message"), rows, "runs")


def _progress(done: int, total: int) -> str:
    return (f'<progress value="{done}" max="{max(total, 1)}" aria-label="{done} of {total} finished"></progress> '
            f'<span class="num">{done} of {total}</span>')


def campaign(data: dict[str, Any], csrf: str) -> str:
    rid = data["id"]
    actions = "".join(
        f'<button type="submit" name="action" value="{a}" class="{cls}" data-confirm="{h(q)}">{label}</button>'
        for a, label, cls, q in (
            ("pause", "Pause", "", f"Pause run {rid}? Nothing new starts; what is in flight finishes."),
            ("resume", "Resume", "", f"Resume run {rid}? The next VMs and steps start."),
            ("abort", "Abort", "danger", f"Abort run {rid}? Nothing new starts; the wave in flight is rolled back "
                                         "and the run ends halted.")))
    body = (f'<h1>Campaign <span class="mono">{h(rid)}</span></h1>'
            f'<form id="actions" method="post" action="/campaigns/{quote(rid)}/control" data-status="{h(data["status"])}"'
            f' data-control="{h(data["control"] or "")}" data-kind="{h(data["kind"])}" aria-label="Campaign controls">'
            f'<input type="hidden" name="csrf" value="{h(csrf)}">{actions}'
            '<p id="action-result" role="status" aria-live="polite"></p></form>'
            '<dialog id="confirm" aria-labelledby="confirm-text"><form method="dialog">'
            '<p id="confirm-text"></p><div class="buttons">'
            '<button value="cancel" id="confirm-cancel">Cancel</button>'
            '<button value="ok" id="confirm-ok" class="danger">Confirm</button></div></form></dialog>'
            f'<div id="live" data-stream="/campaigns/{quote(rid)}/events">{campaign_live(data)}</div>')
    return layout(f"Campaign {rid}", "/campaigns", body)


def campaign_live(d: dict[str, Any]) -> str:
    """The part of a campaign's page the event stream replaces."""
    pol = d["policy"]
    policy = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in pol.items() if v not in (None, "")) or "\u2014"
    wave = (f"{h(d['wave_label'])}: {d['wave_k']} of {d['wave_n']} waves" if d["wave_k"] else
            f"none started of {d['wave_n']} waves")
    head = ('<section aria-labelledby="h-state"><h2 id="h-state">State</h2><dl class="facts">'
            f'<dt>state</dt><dd id="run-state">{badge(d["status"])}'
            + (f' <span class="muted">control requested: {h(d["control"])}</span>' if d["control"] else "")
            + f'</dd><dt>message</dt><dd id="run-message">{h(d["message"]) or DASH}</dd>'
            f'<dt>kind</dt><dd>{h(d["kind"])}</dd><dt>wave</dt><dd id="run-wave">{wave}</dd>'
            f'<dt>change</dt><dd id="run-change">{h(d["change"]) or DASH}'
            + (f'<br>{h(d["image_change"])}' if d["image_change"] else "")
            + f'</dd><dt>policy</dt><dd>{h(policy)}</dd>'
            f'<dt>started</dt><dd>{h(d["started"])}</dd><dt>updated</dt><dd>{h(d["updated"])}</dd></dl>'
            + ('<p class="live-note">Live: this page follows the journal while the run goes on.</p>' if d["live"] else "")
            + "</section>")
    counts = "".join(f'<li data-state="{h(k)}">{badge(k)} <span class="num">{n}</span></li>'
                     for k, n in d["counts"].items())
    sm = d.get("summary")
    live_line = (f'<p id="live-summary">{sm["in_sync"]} of {sm["vms"]} VMs run their desired OS disk; '
                 f'{sm["running"]} running, {sm["deallocated"]} deallocated (live).</p>' if sm else "")
    counts_html = (f'<section aria-labelledby="h-counts"><h2 id="h-counts">{h(d["items"])} by state</h2>'
                   f'<ul class="counts" id="counts">{counts}</ul>{live_line}</section>')
    return head + counts_html + _waves(d) + _errors(d["errors"]) + _timeline(d["timeline"])


def _waves(d: dict[str, Any]) -> str:
    out = ['<section aria-labelledby="h-waves"><h2 id="h-waves">Waves</h2>']
    for w in d["waves"]:
        title = (f'{h(w["label"])}' + (f" \u00b7 zone {h(w['zone'])}" if w["zone"] else "")
                 + f' \u00b7 {w["size"]} {h(d["items"])}')
        out.append(f'<section class="wave" data-wave="{w["n"]}" data-status="{h(w["status"])}">'
                   f'<h3>{title} {badge(w["status"])}' + (f' <span class="bad-text">{w["failed"]} failed</span>'
                                                          if w["failed"] else "") + "</h3>")
        if d["items"] == "steps":
            rows = [[h(m["name"]), h(m["resource"]), badge(m["state"]),
                     h(", ".join(str(a) for a in m["after"]) or "\u2014"), h(m["detail"])] for m in w["members"]]
            out.append(table(f"{w['label']}: steps", ("step", "resource", "state", "waits for", "detail"), rows))
        else:
            rows = [[f'<span class="vm">{h(m["name"])}</span>', h(m["zone"]), badge(m["state"]),
                     badge(m["health"]) if m["health"] else "", badge(m["power"]) if m["power"] else "",
                     h(m["os_disk"]), h(m["desired"]), h(m["detail"] or m["health_detail"])] for m in w["members"]]
            out.append(table(f"{w['label']}: VMs", ("VM", "zone", "state", "health", "power", "OS disk (live)",
                                                    "desired", "detail"), rows))
        out.append("</section>")
    if d.get("outside"):
        rows = [[h(o["name"]), badge(o["state"]), h(o["detail"])] for o in d["outside"]]
        out.append(table("In scope, not changed by this run", ("VM", "state", "why"), rows))
    out.append("</section>")
    return "".join(out)


def _errors(errors: list[dict[str, str]]) -> str:
    if not errors:
        return '<section aria-labelledby="h-errors"><h2 id="h-errors">Errors</h2><p>None.</p></section>'
    rows = [[h(e["what"]), h(e["step"]), f'<code>{h(e["code"])}</code>' if e["code"] else "", h(e["message"])]
            for e in errors]
    return ('<section aria-labelledby="h-errors"><h2 id="h-errors">Errors</h2>'
            + table("Failures, with Azure's error code", ("where", "step", "code", "message"), rows, "errors")
            + "</section>")


def _timeline(events: list[dict[str, Any]]) -> str:
    rows = [[h(f"+{e['at']:.0f} s" if e["at"] is not None else ""), h(e["what"]), h(e["step"]), badge(e["status"]),
             h(e["detail"])] for e in reversed(events)]
    return ('<section aria-labelledby="h-timeline"><h2 id="h-timeline">Timeline</h2>'
            + table("Events, newest first (time on the campaign's clock since it started)",
                    ("time", "where", "step", "status", "detail"), rows, "timeline")
            + "</section>")


# ---- plan --------------------------------------------------------------------------------------------------------
def plan_index(sources: list) -> str:
    if not sources:
        body = ("<h1>Plan</h1><p>No plan given. Start the page with a plan file or a goal: "
                "<code>refit serve --plan plan.json</code> (written by <code>refit plan goal.yaml --out plan.json</code>)"
                " or <code>refit serve --goal goal.yaml</code> (planned afresh on the live state).</p>")
        return layout("Plan", "/plan", body)
    items = "".join(f'<li><a href="/plan/{i}">{h(s.label)}</a> <span class="muted mono">{h(s.path)}</span></li>'
                    for i, s in enumerate(sources))
    return layout("Plan", "/plan", f"<h1>Plans</h1><ul class=\"plain\">{items}</ul>")


def plan(page: dict[str, Any]) -> str:
    src = page["source"]
    title = f"<h1>Plan: {h(src.label)}</h1><p class=\"muted mono\">{h(src.path)}</p>"
    if page["error"]:
        return layout("Plan", "/plan", title + f'<p class="error" role="alert">{h(page["error"])}</p>')
    p = page["plan"]
    t = p["totals"]
    totals = table("Totals", ("steps", "duration, one after another", "downtime", "irreversible", "writes"),
                   [[f"{t['steps']}" + (f" (+{p['cleanup']} clean-up)" if p["cleanup"] else ""),
                     h(seconds(t["duration_seconds"])), h(seconds(t["downtime_seconds"]) if t["downtime_seconds"]
                                                          else "none"),
                     str(t["irreversible_steps"]), str(t["writes"])]])
    per = table("Downtime per resource", ("resource", "steps", "duration", "downtime"),
                [[f'<span title="{h(r["resource"])}">{h(r["name"])}</span>', str(r["steps"]), h(seconds(r["duration"])),
                  h(seconds(r["downtime"]) if r["downtime"] else "none")] for r in p["resources"]])
    waves = ['<section aria-labelledby="h-graph"><h2 id="h-graph">Steps by wave</h2>'
             '<p class="muted">A wave holds the steps whose every dependency is in an earlier wave: the order '
             "<code>refit apply</code> runs them in. \u201cwaits for\u201d links to the steps each one depends on.</p>"
             '<ol class="graph">']
    for w in p["waves"]:
        waves.append(f'<li class="wave-col" data-wave="{w["n"]}"><h3>Wave {w["n"]}'
                     + (" (clean-up)" if w["cleanup"] else "") + "</h3>")
        for s in w["steps"]:
            flag = (' <strong class="bad-text">irreversible</strong>' if s["irreversible"] else
                    ' <em>(temporary)</em>' if s["temporary"] else "")
            after = ", ".join(f'<a href="#step-{h(a)}">#{h(a)}</a>' for a in s["after"]) or "nothing"
            waves.append(
                f'<article class="step" id="step-{h(s["label"])}" data-step="{h(s["label"])}">'
                f'<h4><span class="num">#{h(s["label"])}</span> {h(s["summary"])}{flag}</h4>'
                f'<p class="muted"><span title="{h(s["resource"])}">{h(s["name"])}</span></p>'
                f'<dl class="facts"><dt>why</dt><dd>{h(s["why"])}</dd>'
                f'<dt>duration</dt><dd>{h(seconds(s["duration"]))}</dd>'
                f'<dt>downtime</dt><dd>{h(seconds(s["downtime"]) if s["downtime"] else "none")}</dd>'
                f'<dt>rollback</dt><dd><code>{h(s["rollback"])}</code></dd>'
                f'<dt>waits for</dt><dd>{after}</dd></dl></article>')
        waves.append("</li>")
    waves.append("</ol></section>")
    extra = ""
    for imp in p["impossible"]:
        items = "".join(f"<li>blocked by <strong>{h(b['rule'])}</strong> ({h(b['title'])}): Azure answers "
                        f"<code>{h(b['code'])}</code> {h(b['message'])}</li>" for b in imp["blocked_by"])
        extra += f'<section><h2>No path: {h(imp["name"])}</h2><ul>{items}</ul></section>'
    for msg in p["exhausted"]:
        extra += f"<section><h2>Not planned</h2><p>{h(msg)}</p></section>"
    body = (title + f'<p class="headline" id="plan-headline">{h(p["headline"])}</p>' + totals + per + "".join(waves)
            + extra)
    return layout("Plan", "/plan", body)


# ---- fleet -------------------------------------------------------------------------------------------------------
def fleet(d: dict[str, Any]) -> str:
    out = [f'<h1>Fleet</h1><p class="muted">{h(d["source"])}</p>',
           '<section aria-labelledby="h-images"><h2 id="h-images">Image versions per region</h2>']
    if not d["images"]:
        out.append("<p>No gallery image definition.</p>")
    for img in d["images"]:
        regions = img["regions"]
        rows = []
        for ver in img["versions"]:
            cells = [f'<span class="ver">{h(ver["name"])}</span>'
                     + (' <span class="badge warn">excluded from latest</span>' if ver["excludeFromLatest"] else "")]
            for r in regions:
                st = ver["regions"].get(r)
                cells.append(badge(st or "replicating") if r in ver["regions"] else '<span class="muted">not targeted</span>')
            rows.append(cells)
        rows.append(["<strong>latest</strong>"] + [h(img["latest"].get(r) or "none") if r in img["latest"] else
                                                   '<span class="muted">\u2014</span>' for r in regions])
        out.append(f'<section class="image" data-image="{h(img["name"])}"><h3>{h(img["name"])}</h3>')
        out.append(table(f"{img['name']}: replication of each version per region", ("version", *regions), rows,
                         "versions"))
        run_rows = []
        for r in regions:
            for ver, names in img["runs"].get(r, {}).items():
                run_rows.append([h(r), f'<span class="ver">{h(ver)}</span>', str(len(names)),
                                 h(", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else ""))])
        out.append(table(f"{img['name']}: what runs which version, per region", ("region", "version", "count", "who"),
                         run_rows or [['<span class="muted">nothing runs it</span>', "", "", ""]], "runs-per-region"))
        out.append("</section>")
    out.append("</section>")
    res_rows = [[h(g["name"]), h(g["location"]), h(", ".join(g["zones"]) or "regional"),
                 h("; ".join(f"{r['name']}: {r['size']} \u00d7 {r['capacity']}"
                             + (f" (zone {', '.join(r['zones'])})" if r["zones"] else "") for r in g["reservations"])
                   or "none"),
                 h(", ".join(f"{m['name']} ({m['power']})" for m in g["members"]) or "none")]
                for g in d["reservations"]]
    out.append('<section aria-labelledby="h-res"><h2 id="h-res">Capacity reservations</h2>'
               + (table("Capacity reservation groups", ("group", "region", "zones", "reservations", "serves"), res_rows)
                  if res_rows else "<p>No capacity reservation group.</p>") + "</section>")
    fr = [[f'<a class="nowrap" href="/docs/checks/{quote(f["check"])}">{h(f["check"])}</a>', badge(f["severity"]), badge(f["status"]),
           f'<span title="{h(f["resource"])}">{h(f["name"])}</span>', h(f["message"])] for f in d["findings"]]
    out.append('<section aria-labelledby="h-doctor"><h2 id="h-doctor">Doctor findings</h2>'
               + (table(f"{len(fr)} findings of refit doctor (each check links to its page, docs/checks/ID.md)",
                        ("check", "severity", "status", "resource", "message"), fr, "findings")
                  if fr else "<p>No finding: every check passed.</p>") + "</section>")
    return layout("Fleet", "/fleet", "".join(out))


def check_doc(check_id: str, body_html: str) -> str:
    return layout(check_id, "/fleet", f'<p><a href="/fleet">\u2190 Fleet</a> \u00b7 '
                                      f'<span class="muted mono">docs/checks/{h(check_id)}.md</span></p>{body_html}')


def message(title: str, text: str, back: str) -> str:
    return layout(title, back, f'<h1>{h(title)}</h1><p role="status">{h(text)}</p><p><a href="{h(back)}">Back</a></p>')
