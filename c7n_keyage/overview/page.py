"""The overview's numbers in, one self-contained HTML page out: pure.

Inline CSS, SVG and a small script (``assets``): nothing from anywhere, so the page opens
offline and can be mailed. Every chart has a title, a description and a table; every
table a caption and scoped headers; each figure is taken from the overview, never
recomputed here; every string from the inputs is escaped. At a thousand accounts it stays
short: the top accounts and the oldest keys show, and the full table, the trend's table
and each account's keys are collapsed (``<details>``), which print leaves out.
"""

from __future__ import annotations

from html import escape

from c7n_keyage.names import OUTCOMES, REASONS
from c7n_keyage.overview import steps
from c7n_keyage.overview.assets import CSS, SCRIPT
from c7n_keyage.overview.charts import age_chart, trend_chart

REASON_LABELS = {"unused": "Unused", "never-used": "Never used", "unrotated": "Unrotated"}
ACTION_LABELS = {"disabled": "Disabled", "deleted": "Deleted", "retired": "Retired"}
STEP_LABELS = {"notify": "To notify", "retire": "To retire", "delete": "To delete"}
STEP_LABELS["restore"] = "To restore"
# Rows shown before a list is collapsed; the JSON (and the CSV) have them all.
TOP_ACCOUNTS = 25
TREND_ROWS = 12
PROBLEMS_SHOWN = 50


def _n(value: int) -> str:
    return f"{value:,}"


# Cell kinds (CSS classes): numbers right-aligned; dates, IDs and steps kept on one line;
# names wrapping anywhere, however long.
NUM, DATE, ID, NAME, STEP = "num", "date", "id", "name", "step"


def _cell(value: object, kind: str | None = None, field: str | None = None) -> str:
    """A cell; ``field`` names it for a machine reading the page (the tests do)."""
    classes = f' class="{kind}"' if kind else ""
    data = f' data-field="{field}"' if field else ""
    text = "—" if value is None else _n(value) if isinstance(value, int) else escape(str(value))
    return f"<td{classes}{data}>{text}</td>"


def _table(table_id: str, caption: str, headers: list, rows: list[str], note: str = "") -> str:
    """A table with a caption and scoped column headers; (label, numeric) per column."""
    num = f' class="{NUM}"'
    head = "".join(
        f'<th scope="col"{num if numeric else ""}>{escape(label)}</th>'
        for label, numeric in headers
    )
    body = "".join(rows) or f'<tr><td colspan="{len(headers)}">None.</td></tr>'
    return (
        f'<div class="wide"><table id="{table_id}"><caption>{escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{note}"
    )


def _collapsed(details_id: str, summary: str, body: str) -> str:
    return f'<details id="{details_id}"><summary>{summary}</summary>{body}</details>'


def _card(card_id: str, label: str, value: int, extra: str = "", classes: str = "") -> str:
    cls = f' class="{classes}"' if classes else ""
    return (
        f'<div{cls}><dt>{escape(label)}</dt><dd id="{card_id}" data-value="{value}">'
        f"{_n(value)}{extra}</dd></div>"
    )


def _name(row: dict) -> str:
    return escape(row["account_name"] or row["account_id"])


def _key_id(key: dict) -> str:
    if key["access_key_id"]:
        return f"<code>{escape(key['access_key_id'])}</code>"
    return f"slot {key['slot']}" if key["slot"] else "—"


def _last_used(key: dict) -> str:
    if not key["last_used_date"]:
        return "never"
    where = ", ".join(escape(v) for v in (key["last_used_service"], key["last_used_region"]) if v)
    return escape(key["last_used_date"][:10]) + (f" <small>{where}</small>" if where else "")


def _owner(key: dict) -> str:
    """The owner, and the team under it."""
    owner, team = (escape(v) if v else "" for v in (key["owner"], key["team"]))
    return owner + (f"<br><small>{team}</small>" if owner and team else team) or "—"


def _reasons(key: dict) -> str:
    return escape(", ".join(REASON_LABELS[r].lower() for r in key["reasons"]))


def _plural(count: int, noun: str) -> str:
    return f"{_n(count)} {noun}{'' if count == 1 else 's'}"


def _late(account: dict) -> str:
    if account["reporting"]:
        return ""
    days = account["days_since_last_run"]
    return f' <span class="late">not reporting: {_plural(days, "day")}</span>'


def _totals(overview: dict) -> str:
    totals = overview["totals"]
    acted = sum(overview["remediation"]["actions"].values())
    of_all = f" <small>of {_n(totals['accounts'])}</small>"
    silent = totals["accounts_not_reporting"]
    cards = [
        _card("total-stale-keys", "Stale keys", totals["stale_keys"], classes="lead"),
        _card("total-stale-users", "Users with stale keys", totals["stale_users"]),
        _card("total-accounts-with-stale", "Accounts with stale keys",
              totals["accounts_with_stale"], of_all),
        _card("total-oldest-days", "Oldest, days", totals["oldest_days"]),
        *(_card(f"total-{r}", REASON_LABELS[r], totals["by_reason"][r]) for r in REASONS),
        _card("total-not-reporting", "Accounts not reporting", silent,
              classes="alert" if silent else ""),
        _card("total-remediated", "Keys acted on", acted),
    ]  # fmt: skip
    next_steps = [
        _card(f"steps-{step}", label, totals["next_steps"][step])
        for step, label in STEP_LABELS.items()
    ]
    return (
        '<dl class="cards">' + "".join(cards) + "</dl>"
        '<h3 id="steps-h">Next steps</h3><dl class="cards" aria-labelledby="steps-h">'
        + "".join(next_steps)
        + "</dl>"
        + TOTALS_NOTE
    )


def _attention(overview: dict) -> str:
    silent = sorted(
        (a for a in overview["accounts"] if not a["reporting"]),
        key=lambda a: (
            -a["days_since_last_run"],
            (a["account_name"] or "").lower(),
            a["account_id"],
        ),
    )
    rows = [
        f'<tr data-account="{escape(a["account_id"])}"><th scope="row">{_name(a)}</th>'
        + _cell(a["account_id"], ID)
        + _cell(a["last_run"], DATE)
        + _cell(a["days_since_last_run"], NUM)
        + _cell(a["stale_keys"], NUM)
        + "</tr>"
        for a in silent
    ]
    rows += [
        f'<tr data-account="{escape(a["account_id"])}"><th scope="row">{_name(a)}</th>'
        + _cell(a["account_id"], ID)
        + _cell("no run", DATE)
        + _cell(None, NUM)
        + _cell(None, NUM)
        + "</tr>"
        for a in overview["accounts_without_runs"]
    ]
    headers = [("Account", False), ("Account ID", False), ("Last run", False)]
    headers += [("Days since", True), ("Stale keys at that run", True)]
    table = _table("not-reporting-table", "Accounts not reporting", headers, rows)
    grace = overview["grace_days"]
    never = len(overview["accounts_without_runs"])
    intro = (
        f"<p>{_plural(len(silent), 'account')} did not run on {overview['as_of']}"
        + (f" nor in the {_plural(grace, 'day')} before" if grace else "")
        + f": a runner may have failed. {'Its' if len(silent) == 1 else 'Their'} last figures "
        "still count, as last seen."
        + (f" {_plural(never, 'account')} of the accounts file never ran." if never else "")
        + "</p>"
    )
    if len(rows) > TOP_ACCOUNTS:
        return intro + _collapsed("all-not-reporting", f"All {_n(len(rows))}", table)
    return intro + table


def _charts(overview: dict) -> str:
    ages = overview["age_buckets"]
    age_rows = [
        f'<tr><th scope="row">{escape(label)}</th>{_cell(count, NUM)}</tr>'
        for label, count in ages.items()
    ]
    ages_html = (
        f"<figure>{age_chart(ages)}<figcaption>Days since last use, or since creation for keys "
        "never used, at each key's latest run.</figcaption></figure>"
        + _table("ages-table", "Stale keys by age", [("Days", False), ("Stale keys", True)],
                 age_rows)
    )  # fmt: skip
    runs = overview["runs"]
    trend_rows = [
        f'<tr><th scope="row" class="date">{r["date"]}</th>'
        + _cell(r["stale_keys"], NUM, "stale_keys")
        + _cell(r["ran"], NUM)
        + _cell(len(r["accounts"]), NUM)
        + _cell(r["remediated"], NUM)
        + "</tr>"
        for r in runs
    ]
    headers = [("Run date", False), ("Stale keys", True), ("Accounts that ran", True)]
    headers += [("Accounts counted", True), ("Acted on", True)]
    table = _table("runs-table", "Stale keys per run date", headers, trend_rows)
    if len(runs) > TREND_ROWS:
        table = _collapsed("trend-figures", f"The {_n(len(runs))} dates' figures", table)
    if len(runs) > 1:
        trend = (
            f"<figure>{trend_chart(runs)}<figcaption>Stale keys as of each run date: every "
            "account with its latest runs on or before it.</figcaption></figure>" + table
        )
    else:
        trend = "<p>One run date so far: the line appears with two dates or more.</p>" + table
    return f'<div class="charts"><div>{ages_html}</div><div>{trend}</div></div>'


def _key_cells(key: dict) -> str:
    """A key's cells after its user's."""
    return (
        f'<td class="name">{_owner(key)}</td>'
        + f'<td class="id">{_key_id(key)}</td>'
        + _cell(key["age_days"], NUM)
        + f"<td>{_reasons(key)}</td>"
        + f'<td class="date">{_last_used(key)}</td>'
        + _cell(steps.label(key["next_step"]), STEP)
    )


KEY_HEADERS = [("User", False), ("Owner, team", False), ("Access key", False)]
KEY_HEADERS += [("Days", True), ("Why", False), ("Last used", False), ("Next step", False)]


def _oldest(overview: dict) -> str:
    keys = overview["keys"]
    rows = [
        f'<tr><th scope="row">{_name(k)}</th>' + _cell(k["user"], NAME) + _key_cells(k) + "</tr>"
        for k in keys
    ]
    total = _n(overview["totals"]["stale_keys"])
    note = f'<p class="note">The {_n(len(keys))} oldest of {total} stale keys. {KEYS_NOTE}</p>'
    headers = [("Account", False), *KEY_HEADERS]
    return _table("keys-table", "Oldest stale keys", headers, rows, note)


def _change(account: dict) -> str:
    before = account["previous_stale_keys"]
    if before is None:
        return '<td class="num" data-field="change" data-sort="0">—</td>'
    delta = account["stale_keys"] - before
    label = "0"
    if delta:  # a sign, and a true minus sign for a drop
        label = f"{delta:+,}".replace("-", "−") + f" <small>(from {_n(before)})</small>"
    up = " up" if delta > 0 else ""
    return f'<td class="num{up}" data-field="change" data-sort="{delta}">{label}</td>'


def _sortable(value: int, field: str) -> str:
    return f'<td class="num" data-field="{field}" data-sort="{value}">{_n(value)}</td>'


def _account_row(index: int, a: dict) -> str:
    return (
        f'<tr data-account="{escape(a["account_id"])}"><th scope="row">'
        f'<a href="#account-{index}">{_name(a)}</a></th>'
        + _cell(a["account_id"], ID)
        + _sortable(a["stale_keys"], "stale_keys")
        + _sortable(a["stale_users"], "stale_users")
        + "".join(_sortable(a["by_reason"][r], r) for r in REASONS)
        + _sortable(a["oldest_days"], "oldest_days")
        + f'<td class="date" data-sort="{a["last_run"]}">'
        + f"{a['last_run']}{_late(a)}</td>"
        + _change(a)
        + "</tr>"
    )


ACCOUNT_HEADERS = [("Account", False), ("Account ID", False), ("Stale keys", True)]
ACCOUNT_HEADERS += [("Users", True), *((REASON_LABELS[r], True) for r in REASONS)]
ACCOUNT_HEADERS += [("Oldest, days", True), ("Latest run", False)]
ACCOUNT_HEADERS += [("Change since its previous run", True)]
FINDER = (
    '<div class="finder" id="finder" hidden><label for="account-filter">Filter accounts'
    '</label><input type="search" id="account-filter" autocomplete="off" '
    'placeholder="name, ID, user or key"><output id="filter-status" aria-live="polite">'
    "</output></div>"
)


def _accounts(overview: dict) -> str:
    accounts = overview["accounts"]
    rows = [_account_row(i, a) for i, a in enumerate(accounts)]
    table = _table(
        "accounts-table",
        "Accounts, most stale keys first (select a heading to sort)",
        ACCOUNT_HEADERS,
        rows,
    )
    if len(accounts) <= TOP_ACCOUNTS:
        return FINDER + table
    top = _table(
        "top-accounts-table",
        f"The {TOP_ACCOUNTS} accounts with the most stale keys",
        ACCOUNT_HEADERS,
        rows[:TOP_ACCOUNTS],
    )
    every = _collapsed("all-accounts", f"All {_n(len(accounts))} accounts", table)
    return top + FINDER + every


def _retired_table(index: int, retired: list[dict]) -> str:
    rows = [
        f'<tr><th scope="row">{escape(r["user"])}</th><td><code>{escape(r["access_key_id"])}'
        f"</code></td>"
        + _cell(r["retired_at"][:10], DATE)
        + _cell(r["policy"])
        + _cell("yes" if r["used_since_retired"] else "no")
        + _cell(steps.label(r["next_step"], r["due"]), STEP)
        + "</tr>"
        for r in retired
    ]
    headers = [("User", False), ("Access key", False), ("Retired", False), ("By", False)]
    headers += [("Used since", False), ("Next step", False)]
    return _table(f"retired-{index}", "Retired keys (key lifecycle)", headers, rows)


def _account_details(index: int, a: dict) -> str:
    keys = a["keys"]
    rows = [f'<tr><th scope="row">{escape(k["user"])}</th>{_key_cells(k)}</tr>' for k in keys]
    more = a["stale_keys"] - len(keys)
    note = f'<p class="note">and {_n(more)} more, in the CSV.</p>' if more > 0 else ""
    body = _table(f"keys-{index}", "Stale keys, oldest first", KEY_HEADERS, rows, note)
    if a["retired_keys"]:
        body += _retired_table(index, a["retired_keys"])
    stale = (
        f"{_plural(a['stale_keys'], 'stale key')}, oldest {_n(a['oldest_days'])} days"
        if a["stale_keys"]
        else "no stale key"
    )
    retired = len(a["retired_keys"])
    retired_text = f"; {_plural(retired, 'retired key')} to act on" if retired else ""
    summary = (
        f"<strong>{_name(a)}</strong> <small>{escape(a['account_id'])}</small>: {stale}"
        f"{retired_text}; last run {a['last_run']}{_late(a)}"
    )
    return (
        f'<details class="account" id="account-{index}" '
        f'data-account="{escape(a["account_id"])}"><summary>{summary}</summary>'
        f"<div>{body}</div></details>"
    )


def _drilldown(overview: dict) -> str:
    per_account = overview["keys_per_account"]
    shown = f"; the page lists up to {_n(per_account)} per account" if per_account else ""
    intro = f'<p class="note">{DRILLDOWN_NOTE}{shown}.</p>'
    return intro + "".join(_account_details(i, a) for i, a in enumerate(overview["accounts"]))


def _action_rows(remediation: dict) -> list[str]:
    return [
        f'<tr><th scope="row">{escape(p["policy"])}</th>'
        + _cell(ACTION_LABELS[p["action"]].lower())
        + _cell(p["keys"], NUM, "keys")
        + _cell(p["accounts"], NUM)
        + _cell(p["last_acted"], DATE)
        + "</tr>"
        for p in remediation["by_policy"]
    ]


def _lifecycle_rows(remediation: dict) -> list[str]:
    fields = ("retired", "restored", "deleted", "used_since_retired")
    return [
        f'<tr><th scope="row">{escape(p["policy"])}</th>'
        + "".join(_cell(p[f], NUM) for f in fields)
        + "</tr>"
        for p in remediation["lifecycle_by_policy"]
    ]


def _outcome_rows(remediation: dict) -> list[str]:
    return [
        f'<tr><th scope="row">{escape(p["policy"])}</th>'
        + _cell(p["action"])
        + "".join(_cell(p[o], NUM, o) for o in OUTCOMES)
        + "</tr>"
        for p in remediation["outcomes_by_policy"]
    ]


TOTALS_NOTE = (
    '<p class="note">A key can be stale for several reasons: the reasons can add up to more '
    "than the keys. Each account counts with its policies' latest runs, also when it did not "
    "run on the latest date (it is then marked as not reporting).</p>"
)
KEYS_NOTE = (
    'Every one is in its account\'s drill-down below and in the CSV. "Days" is since last '
    "use, or since creation for a key never used, at its latest run. A report-only policy "
    "reads the credential report, which has no key IDs: its keys are named by slot; a policy "
    "with <code>resolve-key-ids: true</code> or an action lists them. Owner and team come "
    "from the user's <code>owner</code> and <code>team</code> tags, when the run read them."
)
DRILLDOWN_NOTE = (
    "Each account's stale keys, oldest first, with the next step for each: notify the owner, "
    "retire (a policy with <code>notify</code> already told them), delete a retired key on its "
    "date, or restore one used since it was retired. Open an account to see (and print) its "
    "keys"
)
POLICIES_NOTE = (
    '<p class="note">A policy keeps its accounts\' last figures until it runs again: one that '
    "no longer runs (renamed, removed) shows here with an old date; remove its outputs from "
    "the inputs (or start a new history) to stop counting it.</p>"
)
REMEDIATION_NOTE = (
    '<p class="note">What the outputs tell: c7n writes <code>resources.json</code> before a '
    "policy's actions run and no per-key result after, so a key counts as disabled or "
    "deleted when a policy with <code>remove-keys</code> matched it in a run that was not a "
    "dry run; a call that failed shows only in that run's <code>custodian-run.log</code>. The "
    "key lifecycle's actions return one result per key, which c7n keeps "
    "(<code>action-&lt;name&gt;</code>): where they are, they are counted as they say, and a "
    "key's latest result stands over the record its run read before acting. A policy that "
    "acted on keys without these filters, and keys changed by hand, are not seen.</p>"
)


def _remediation(remediation: dict) -> str:
    actions, life = remediation["actions"], remediation["lifecycle"]
    said = ", ".join(f"{_n(actions[a])} {ACTION_LABELS[a].lower()}" for a in ACTION_LABELS)
    tables = [
        _table("actions-table", "Keys acted on, by policy (each key once)",
               [("Policy", False), ("Action", False), ("Keys", True), ("Accounts", True),
                ("Last acted", False)], _action_rows(remediation)),
        _table("outcomes-table",
               "Key lifecycle actions, by their own per-key results (the latest of each key)",
               [("Policy", False), ("Action", False)]
               + [(o.replace("-", " ").capitalize(), True) for o in OUTCOMES],
               _outcome_rows(remediation)),
        _table("lifecycle-table", "Key lifecycle, each key as it is now, by retiring policy",
               [("Policy", False), ("Still retired", True), ("Restored", True),
                ("Deleted", True), ("Used after retirement", True)],
               _lifecycle_rows(remediation)),
    ]  # fmt: skip
    return (
        f'<p id="remediation-summary">Keys acted on by policies in these runs: {said}. Key '
        f"lifecycle: {_n(life['retired'])} still retired, {_n(life['restored'])} restored, "
        f"{_n(life['deleted'])} deleted; {_n(life['used_since_retired'])} used after "
        "retirement.</p>" + "".join(tables) + REMEDIATION_NOTE
    )


def _policies(overview: dict) -> str:
    rows = [
        f'<tr><th scope="row">{escape(p["policy"])}</th>'
        + _cell(p["last_run"], DATE)
        + _cell(p["accounts"], NUM)
        + "</tr>"
        for p in overview["policies"]
    ]
    headers = [("Policy", False), ("Latest run", False), ("Accounts", True)]
    return _table("policies-table", "Policies read", headers, rows, POLICIES_NOTE)


def _problems(list_id: str, problems: list[str]) -> str:
    if not problems:
        return ""
    shown = "".join(f"<li>{escape(p)}</li>" for p in problems[:PROBLEMS_SHOWN])
    more = len(problems) - PROBLEMS_SHOWN
    rest = f"<p>and {_n(more)} more (all in the JSON).</p>" if more > 0 else ""
    return f'<ul id="{list_id}">{shown}</ul>{rest}'


def _inputs(overview: dict) -> str:
    inputs = overview["inputs"]
    skipped = inputs["skipped"]
    items = "".join(f"<li><code>{escape(name)}</code></li>" for name in inputs["inputs"])
    kept = inputs.get("history")
    history = (
        f" The history <code>{escape(kept['file'])}</code> holds {_n(kept['runs'])} runs, "
        f"{_n(kept['added'])} of them added now."
        if kept
        else ""
    )
    return (
        f"<ul>{items}</ul><p>Runs found: {_n(inputs['runs_found'])}; read: "
        f"{_n(inputs['runs_read'])}; of other policies, skipped: "
        f"{_n(skipped['other-policy'])}; superseded by a later run of the same account, "
        f"policy and date: {_n(overview['superseded_runs'])}; older than the run already "
        f"counted for their account and policy: {_n(overview['not_newer_runs'])}; "
        f"unreadable: {_n(skipped['unreadable'])}; failed before writing their resources: "
        f"{_n(skipped['failed'])}.{history}</p>"
        + _problems("unreadable", inputs["unreadable"])
        + _problems("failed", inputs["failed"])
    )


def _sections(overview: dict) -> list[tuple[str, str, str]]:
    silent = overview["totals"]["accounts_not_reporting"]
    sections = [("totals", "Totals", _totals(overview))]
    if silent:
        sections.append(("attention", "Not reporting", _attention(overview)))
    sections += [
        ("charts", "Age and trend", _charts(overview)),
        ("keys", "Oldest keys", _oldest(overview)),
        ("accounts", "Accounts", _accounts(overview)),
        ("drilldown", "Each account's keys", _drilldown(overview)),
        ("remediation", "What remediation did", _remediation(overview["remediation"])),
        ("policies", "Policies", _policies(overview)),
    ]
    if "inputs" in overview:  # what was read: the CLI adds it; aggregate alone has not
        sections.append(("inputs", "Inputs", _inputs(overview)))
    return sections


def render_html(overview: dict) -> str:
    """The page for an overview made by ``aggregate.overview`` (and ``inputs``, when the
    CLI adds what it read)."""
    totals, as_of = overview["totals"], overview["as_of"]
    span = (
        f"Runs from {overview['first_run']} to {as_of}"
        if overview["first_run"] != as_of
        else f"Runs of {as_of}"
    )
    heading = f"as of {as_of}" if as_of else "no runs found"
    silent = totals["accounts_not_reporting"]
    sections = _sections(overview)
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
        f'<p class="sub">{_plural(totals["accounts"], "account")}'
        + (f", {_n(silent)} not reporting" if silent else "")
        + f". {escape(span)} (UTC), read by <code>c7n-keyage report</code> from Cloud "
        "Custodian's outputs.</p>"
        f'<nav aria-label="Sections"><ul>{nav}</ul></nav></header>'
        f"<main>{main}</main><script>{SCRIPT}</script></body></html>\n"
    )
