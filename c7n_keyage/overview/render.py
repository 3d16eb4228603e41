"""The numbers in, one self-contained HTML page out: pure.

Inline CSS and SVG only: no script, font or image from anywhere, so the page opens offline
and can be mailed. Every chart has a title, a description and a table with its figures; every
table has a caption and header cells with a scope; each figure the page shows is taken from
the aggregate's dict, never recomputed here. Every string from the inputs is escaped.
"""

from __future__ import annotations

from datetime import date
from html import escape

from c7n_keyage.overview.records import OUTCOMES, REASONS

REASON_LABELS = {"unused": "Unused", "never-used": "Never used", "unrotated": "Unrotated"}
ACTION_LABELS = {"disabled": "Disabled", "deleted": "Deleted", "retired": "Retired"}
# Sequential, light to dark with age (ColorBrewer OrRd); each bar is outlined as well.
BAR_COLOURS = ("#fdd49e", "#fdbb84", "#fc8d59", "#e34a33", "#b30000")
# Rows of long lists shown on the page; the JSON has them all.
UNREADABLE_SHOWN = 50

CSS = """
:root { color-scheme: light; --ink: #1b1f24; --muted: #4a5562; --line: #d0d7de;
  --band: #f6f8fa; --accent: #b30000; --link: #0a50a0; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto,
  "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: #fff; }
header, main { max-width: 76rem; margin: 0 auto; padding: 0 1.25rem; }
header { padding-top: 1.25rem; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.7rem; margin: 0 0 .25rem; }
h2 { font-size: 1.3rem; margin: 2rem 0 .75rem; }
p { margin: .4rem 0; max-width: 60rem; }
.sub, .note, figcaption { color: var(--muted); }
a { color: var(--link); }
a:focus-visible { outline: 3px solid #0969da; outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: .5rem; background: #fff; padding: .4rem .8rem; }
.skip:focus { left: .5rem; z-index: 1; }
nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1.25rem;
  padding: 0; margin: .75rem 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr));
  gap: .75rem; margin: 0; }
.cards div { border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem; }
.cards dt { color: var(--muted); font-size: .9rem; }
.cards dd { margin: 0; font-size: 1.6rem; font-weight: 600;
  font-variant-numeric: tabular-nums; }
.cards .lead dd { color: var(--accent); }
.cards dd small { font-size: .95rem; font-weight: 400; color: var(--muted); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr));
  gap: 1.5rem; align-items: start; }
figure { margin: 0; }
svg { width: 100%; height: auto; max-width: 40rem; display: block; }
svg text { font: 13px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  fill: var(--ink); }
svg .grid { stroke: var(--line); }
svg .axis { stroke: var(--muted); }
svg .bar { stroke: #5c1a00; stroke-width: 1; }
svg .line { fill: none; stroke: var(--accent); stroke-width: 2.5; }
svg .point { fill: var(--accent); stroke: #fff; stroke-width: 1.5; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .7rem .3rem 0;
  text-align: left; vertical-align: top; }
td.num, td.date, tbody th { white-space: nowrap; }
td small { color: var(--muted); }
thead th { border-bottom: 2px solid var(--muted); font-size: .9rem; }
tbody tr:nth-child(even) { background: var(--band); }
tbody th { font-weight: 500; }
.num { text-align: right; padding-left: .7rem; }
.wide { overflow-x: auto; }
code { font-size: .92em; }
.up { color: var(--accent); }
@media print {
  .skip, nav { display: none; }
  body { font-size: 11pt; }
  header, main { max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  figure, tr, .cards div { break-inside: avoid; }
  tbody tr:nth-child(even) { background: none; }
  .wide { overflow: visible; }
  .charts { display: block; }
  svg { max-width: 30rem; }
  table { font-size: 9pt; }
  td.num, td.date, tbody th { white-space: normal; }
  a { color: inherit; text-decoration: none; }
}
"""


def _n(value: int) -> str:
    return f"{value:,}"


def _cell(value: object, field: str | None = None, numeric: bool = False, day: bool = False) -> str:
    classes = ' class="num"' if numeric else ' class="date"' if day else ""
    data = f' data-field="{field}"' if field else ""
    text = "—" if value is None else _n(value) if isinstance(value, int) else escape(str(value))
    return f"<td{classes}{data}>{text}</td>"


def _table(
    table_id: str, caption: str, headers: list[tuple[str, bool]], rows: list[str], note: str = ""
) -> str:
    """A table with a caption and scoped column headers; (label, numeric) per column."""
    num = ' class="num"'
    head = "".join(
        f'<th scope="col"{num if numeric else ""}>{escape(label)}</th>'
        for label, numeric in headers
    )
    body = "".join(rows) or f'<tr><td colspan="{len(headers)}">None.</td></tr>'
    return (
        f'<div class="wide"><table id="{table_id}"><caption>{escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{note}"
    )


def _nice_top(value: int) -> tuple[int, int]:
    """A round axis maximum >= value and its tick step (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1, 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            candidate = step * factor
            if value / candidate <= 5:
                return candidate * -(-value // candidate), candidate
        step *= 10


def _svg(chart_id: str, title: str, desc: str, width: int, height: int, body: str) -> str:
    return (
        f'<svg role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'viewBox="0 0 {width} {height}">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>{body}</svg>'
    )


def _y_axis(top: int, step: int, left: int, right: int, y0: float, plot_h: float) -> str:
    parts = [
        f'<text x="{left - 44}" y="{y0 - plot_h / 2:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 {left - 44} {y0 - plot_h / 2:.0f})">stale keys</text>'
    ]
    for tick in range(0, top + 1, step):
        y = y0 - plot_h * tick / top
        parts.append(
            f'<line class="grid" x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_n(tick)}</text>'
        )
    return "".join(parts)


def age_chart(buckets: dict[str, int]) -> str:
    """Bars of stale keys by age bucket."""
    width, height, left, right, top_pad, bottom = 640, 260, 56, 624, 24, 52
    plot_h = height - top_pad - bottom
    y0 = height - bottom
    top, step = _nice_top(max(buckets.values(), default=0))
    slot = (right - left) / max(len(buckets), 1)
    body = [_y_axis(top, step, left, right, y0, plot_h)]
    for i, (label, count) in enumerate(buckets.items()):
        x = left + i * slot + slot * 0.15
        bar_h = plot_h * count / top
        colour = BAR_COLOURS[min(i, len(BAR_COLOURS) - 1)]
        body.append(
            f'<rect class="bar" x="{x:.1f}" y="{y0 - bar_h:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{bar_h:.1f}" fill="{colour}"><title>{escape(label)} days: '
            f"{_n(count)} keys</title></rect>"
            f'<text x="{x + slot * 0.35:.1f}" y="{y0 - bar_h - 6:.1f}" '
            f'text-anchor="middle">{_n(count)}</text>'
            f'<text x="{x + slot * 0.35:.1f}" y="{y0 + 18}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    body.append(
        f'<line class="axis" x1="{left}" x2="{right}" y1="{y0}" y2="{y0}"/>'
        f'<text x="{(left + right) / 2:.0f}" y="{height - 8}" text-anchor="middle">'
        "days since last use (or since creation, if never used)</text>"
    )
    desc = "; ".join(f"{label} days: {_n(count)} keys" for label, count in buckets.items())
    return _svg("ages", "Stale keys by days since last use", desc, width, height, "".join(body))


def trend_chart(runs: list[dict]) -> str:
    """A line of stale keys per run date, dates placed by time so gaps show."""
    width, height, left, right, top_pad, bottom = 640, 260, 56, 610, 24, 52
    plot_h = height - top_pad - bottom
    y0 = height - bottom
    days = [date.fromisoformat(r["date"]) for r in runs]
    span = max((days[-1] - days[0]).days, 1)
    top, step = _nice_top(max(r["stale_keys"] for r in runs))

    def x_of(day: date) -> float:
        return left + (right - left) * (day - days[0]).days / span

    body = [_y_axis(top, step, left, right, y0, plot_h)]
    points = [
        (x_of(d), y0 - plot_h * r["stale_keys"] / top) for d, r in zip(days, runs, strict=True)
    ]
    body.append(
        '<polyline class="line" points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in points) + '"/>'
    )
    # At most about eight date labels, always the first and the last; month-day within a year.
    every = max(1, -(-len(runs) // 8))
    one_year = days[0].year == days[-1].year
    for i, ((x, y), run) in enumerate(zip(points, runs, strict=True)):
        body.append(
            f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="4">'
            f"<title>{run['date']}: {_n(run['stale_keys'])} stale keys</title></circle>"
        )
        if i % every == 0 or i == len(runs) - 1:
            label = run["date"][5:] if one_year else run["date"]
            body.append(f'<text x="{x:.1f}" y="{y0 + 18}" text-anchor="middle">{label}</text>')
    year = f", {days[0].year}" if one_year else ""
    body.append(
        f'<line class="axis" x1="{left}" x2="{right}" y1="{y0}" y2="{y0}"/>'
        f'<text x="{(left + right) / 2:.0f}" y="{height - 8}" text-anchor="middle">'
        f"run date{year} (UTC)</text>"
    )
    first, last = runs[0], runs[-1]
    desc = (
        f"From {_n(first['stale_keys'])} stale keys on {first['date']} to "
        f"{_n(last['stale_keys'])} on {last['date']}, over {len(runs)} run dates."
    )
    return _svg("trend", "Stale keys per run date", desc, width, height, "".join(body))


def _change(account: dict) -> str:
    before = account["previous_stale_keys"]
    if before is None:
        return '<td class="num" data-field="change">—</td>'
    delta = account["stale_keys"] - before
    sign = "+" if delta > 0 else "−"
    label = "0" if delta == 0 else f"{sign}{_n(abs(delta))} <small>(from {_n(before)})</small>"
    return f'<td class="num{" up" if delta > 0 else ""}" data-field="change">{label}</td>'


def _accounts(accounts: list[dict]) -> str:
    rows = []
    for a in accounts:
        name = a["account_name"] or a["account_id"]
        rows.append(
            f'<tr data-account="{escape(a["account_id"])}"><th scope="row">{escape(name)}</th>'
            + _cell(a["account_id"])
            + _cell(a["stale_keys"], "stale_keys", True)
            + _cell(a["stale_users"], "stale_users", True)
            + "".join(_cell(a["by_reason"][r], r, True) for r in REASONS)
            + _cell(a["oldest_days"], "oldest_days", True)
            + _cell(a["last_run"], day=True)
            + _change(a)
            + "</tr>"
        )
    headers = [("Account", False), ("Account ID", False), ("Stale keys", True)]
    headers += [("Users", True), *((REASON_LABELS[r], True) for r in REASONS)]
    headers += [
        ("Oldest, days", True),
        ("Latest run", False),
        ("Change since previous run", True),
    ]
    return _table(
        "accounts-table",
        "Accounts, most stale keys first, as of each account's latest run",
        headers,
        rows,
    )


def _keys(keys: list[dict], total: int) -> str:
    rows = []
    for k in keys:
        key_id = (
            f"<code>{escape(k['access_key_id'])}</code>"
            if k["access_key_id"]
            else f"slot {k['slot']} (ID not read)"
            if k["slot"]
            else "ID not read"
        )
        rows.append(
            "<tr>"
            f'<th scope="row">{escape(k["account_name"] or k["account_id"])}</th>'
            + _cell(k["user"])
            + f"<td>{key_id}</td>"
            + _cell((k["last_used_date"] or "never")[:10], day=True)
            + _cell(k["last_used_service"])
            + _cell(k["last_used_region"])
            + _cell(k["age_days"], numeric=True)
            + _cell(", ".join(REASON_LABELS[r].lower() for r in k["reasons"]))
            + _cell((k["last_rotated"] or "")[:10] or None, day=True)
            + "</tr>"
        )
    headers = [("Account", False), ("User", False), ("Access key", False)]
    headers += [("Last used", False), ("Service", False), ("Region", False)]
    headers += [("Days", True), ("Why", False), ("Created", False)]
    note = (
        f'<p class="note">The {_n(len(keys))} oldest of {_n(total)} stale keys. "Days" is '
        "since last use, or since creation for a key never used. A report-only policy reads "
        "the credential report, which has no key IDs: its keys are named by slot; a policy "
        "with <code>resolve-key-ids: true</code> or an action lists them.</p>"
    )
    return _table("keys-table", "Oldest stale keys", headers, rows, note)


def _remediation(remediation: dict) -> str:
    actions = remediation["actions"]
    action_rows = [
        "<tr>"
        f'<th scope="row">{escape(p["policy"])}</th>'
        + _cell(ACTION_LABELS[p["action"]].lower())
        + _cell(p["keys"], "keys", True)
        + _cell(p["accounts"], numeric=True)
        + _cell(p["last_acted"], day=True)
        + "</tr>"
        for p in remediation["by_policy"]
    ]
    lifecycle_rows = [
        "<tr>"
        f'<th scope="row">{escape(p["policy"])}</th>'
        + "".join(
            _cell(p[f], f, True) for f in ("retired", "restored", "deleted", "used_since_retired")
        )
        + "</tr>"
        for p in remediation["lifecycle_by_policy"]
    ]
    summary = ", ".join(f"{_n(actions[a])} {ACTION_LABELS[a].lower()}" for a in ACTION_LABELS)
    life = remediation["lifecycle"]
    return (
        f'<p id="remediation-summary">Keys acted on by policies in these runs: {summary}. '
        f"Key lifecycle records: {_n(life['retired'])} still retired, {_n(life['restored'])} "
        f"restored, {_n(life['deleted'])} deleted; {_n(life['used_since_retired'])} used "
        "after retirement.</p>"
        + _table(
            "actions-table",
            "Keys acted on, by policy (each key once)",
            [("Policy", False), ("Action", False), ("Keys", True)]
            + [("Accounts", True), ("Last acted", False)],
            action_rows,
        )
        + _table(
            "outcomes-table",
            "Key lifecycle actions, by their own per-key results (the latest of each key)",
            [("Policy", False), ("Action", False)]
            + [(o.replace("-", " ").capitalize(), True) for o in OUTCOMES],
            [
                "<tr>"
                f'<th scope="row">{escape(p["policy"])}</th>'
                + _cell(p["action"])
                + "".join(_cell(p[o], o, True) for o in OUTCOMES)
                + "</tr>"
                for p in remediation["outcomes_by_policy"]
            ],
        )
        + _table(
            "lifecycle-table",
            "Key lifecycle (c7n:retired-keys), the latest record of each key",
            [("Policy", False), ("Still retired", True), ("Restored", True)]
            + [("Deleted", True), ("Used after retirement", True)],
            lifecycle_rows,
        )
        + '<p class="note">What the outputs tell: c7n writes <code>resources.json</code> '
        "before a policy's actions run and no per-key result after, so a key counts as "
        "disabled or deleted when a policy with <code>remove-keys</code> matched it in a run "
        "that was not a dry run; a call that failed shows only in that run's "
        "<code>custodian-run.log</code>. The key lifecycle's actions return one result per "
        "key, which c7n keeps (<code>action-&lt;name&gt;</code>): where they are, they are "
        "counted as they say. A policy that acted on keys without this filter, and keys "
        "changed by hand, are not seen.</p>"
    )


def _inputs(inputs: dict, superseded: int) -> str:
    skipped = inputs["skipped"]
    unreadable = inputs["unreadable"]
    items = "".join(f"<li><code>{escape(name)}</code></li>" for name in inputs["inputs"])
    text = (
        f"<ul>{items}</ul><p>Runs found: {_n(inputs['runs_found'])}; read: "
        f"{_n(inputs['runs_read'])}; of other policies, skipped: "
        f"{_n(skipped['other-policy'])}; superseded by a later run of the same account, "
        f"policy and date: {_n(superseded)}; unreadable: {_n(skipped['unreadable'])}; "
        f"failed before writing their resources: {_n(skipped['failed'])}.</p>"
    )
    for list_id, problems in (("unreadable", unreadable), ("failed", inputs["failed"])):
        if problems:
            shown = "".join(f"<li>{escape(u)}</li>" for u in problems[:UNREADABLE_SHOWN])
            more = len(problems) - UNREADABLE_SHOWN
            text += f'<ul id="{list_id}">{shown}</ul>' + (
                f"<p>and {_n(more)} more (all in the JSON).</p>" if more > 0 else ""
            )
    return text


def _card(card_id: str, label: str, value: str, lead: bool = False, raw: int | None = None) -> str:
    data = f' data-value="{raw}"' if raw is not None else ""
    classes = ' class="lead"' if lead else ""
    return f'<div{classes}><dt>{escape(label)}</dt><dd id="{card_id}"{data}>{value}</dd></div>'


def render_html(overview: dict) -> str:
    """The page for an overview made by ``aggregate`` (and ``inputs``, when the CLI adds
    what it read)."""
    totals = overview["totals"]
    runs = overview["runs"]
    remediation = overview["remediation"]
    acted = sum(remediation["actions"].values())
    as_of = overview["as_of"]
    span = (
        f"Runs from {overview['first_run']} to {as_of}"
        if overview["first_run"] != as_of
        else f"Runs of {as_of}"
    )
    heading = f"as of {as_of}" if as_of else "no runs found"
    cards = [
        _card(
            "total-stale-keys", "Stale keys", _n(totals["stale_keys"]), True, totals["stale_keys"]
        ),
        _card(
            "total-stale-users",
            "Users with stale keys",
            _n(totals["stale_users"]),
            raw=totals["stale_users"],
        ),
        _card(
            "total-accounts-with-stale",
            "Accounts with stale keys",
            f"{_n(totals['accounts_with_stale'])} <small>of {_n(totals['accounts'])}</small>",
            raw=totals["accounts_with_stale"],
        ),
        _card(
            "total-oldest-days",
            "Oldest, days",
            _n(totals["oldest_days"]),
            raw=totals["oldest_days"],
        ),
        *(
            _card(
                f"total-{r}",
                REASON_LABELS[r],
                _n(totals["by_reason"][r]),
                raw=totals["by_reason"][r],
            )
            for r in REASONS
        ),
        _card("total-remediated", "Keys acted on", _n(acted), raw=acted),
    ]
    age_rows = [
        f'<tr><th scope="row">{escape(label)}</th>{_cell(count, label, True)}</tr>'
        for label, count in overview["age_buckets"].items()
    ]
    ages = (
        f"<figure>{age_chart(overview['age_buckets'])}<figcaption>Days since last use, or "
        "since creation for keys never used, at each account's latest run.</figcaption></figure>"
        + _table(
            "ages-table", "Stale keys by age", [("Days", False), ("Stale keys", True)], age_rows
        )
    )
    trend_rows = [
        f'<tr><th scope="row" class="date">{r["date"]}</th>'
        + _cell(r["stale_keys"], "stale_keys", True)
        + _cell(len(r["accounts"]), "accounts", True)
        + _cell(r["remediated"], "remediated", True)
        + "</tr>"
        for r in runs
    ]
    trend_table = _table(
        "runs-table",
        "Stale keys per run date",
        [
            ("Run date", False),
            ("Stale keys", True),
            ("Accounts that ran", True),
            ("Acted on", True),
        ],
        trend_rows,
    )
    if len(runs) > 1:
        trend = (
            f"<figure>{trend_chart(runs)}<figcaption>Stale keys left after each date's runs, "
            "all accounts that ran that date.</figcaption></figure>" + trend_table
        )
    else:
        trend = (
            "<p>One run date so far: the line appears once the inputs hold runs of two "
            "dates or more.</p>" + trend_table
        )
    sections = [
        (
            "totals",
            "Totals",
            '<dl class="cards">' + "".join(cards) + "</dl>"
            '<p class="note">A key can be stale for several reasons: the reasons can add up to '
            "more than the keys.</p>",
        ),
        (
            "charts",
            "Age and trend",
            f'<div class="charts"><div>{ages}</div><div>{trend}</div></div>',
        ),
        ("accounts", "Accounts", _accounts(overview["accounts"])),
        ("keys", "Oldest keys", _keys(overview["keys"], totals["stale_keys"])),
        ("remediation", "What remediation did", _remediation(remediation)),
    ]
    if "inputs" in overview:  # what was read: the CLI adds it; aggregate() alone has not
        sections.append(
            ("inputs", "Inputs", _inputs(overview["inputs"], overview["superseded_runs"]))
        )
    nav = "".join(f'<li><a href="#{sid}">{escape(title)}</a></li>' for sid, title, _ in sections)
    main = "".join(
        f'<section id="{sid}" aria-labelledby="{sid}-h"><h2 id="{sid}-h">{escape(title)}</h2>'
        f"{body}</section>"
        for sid, title, body in sections
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Stale IAM access keys, {escape(heading)}</title><style>{CSS}</style></head>"
        '<body><a class="skip" href="#accounts">Skip to the accounts</a><header>'
        f"<h1>Stale IAM access keys, {escape(heading)}</h1>"
        f'<p class="sub">{_n(totals["accounts"])} accounts. {escape(span)} (UTC), read by '
        "<code>c7n-keyage report</code> from Cloud Custodian's outputs.</p>"
        f'<nav aria-label="Sections"><ul>{nav}</ul></nav></header>'
        f"<main>{main}</main></body></html>\n"
    )
