"""The page: the JSON's numbers and nothing else, self-contained, escaped, with the
structure screen readers and keyboards need, and the words each figure comes with. (In a
real browser: tests/e2e/overview/test_browser.py.)"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from c7n_keyage.overview.aggregate import Options, overview
from c7n_keyage.overview.inputs import Stats
from c7n_keyage.overview.page import render_html
from c7n_keyage.overview.runs import Run, StaleKey
from tests.support.fleet import DEMO_DATES, demo_fleet, fleet_outputs, fold, runs_of
from tests.support.page import numbers_in_json, numbers_on_page, parse, structure_problems

HOSTILE = '<script>alert("x")</script> & "quoted" \'single\''


def render(found: dict) -> str:
    """The page, checked: closed as opened, lower case, no loose text, no stray attribute."""
    html = render_html(found)
    assert structure_problems(html) == []
    return html


def overview_of(runs: list[Run]) -> dict:
    found = overview(fold(runs))
    found["inputs"] = Stats(["in"], runs_found=len(runs), runs_read=len(runs)).as_dict()
    return found


@pytest.fixture(scope="module")
def demo_overview():
    return overview_of(list(runs_of(fleet_outputs(demo_fleet(), DEMO_DATES, other_policy=True))))


@pytest.fixture
def demo(demo_overview):
    """The demo's overview and its page, rendered in the test itself: a module-scoped page
    would be made during whichever test ran first, and mutmut, which runs for each mutant
    only the tests that reach the mutated function, would not count the others."""
    return demo_overview, render(demo_overview)


def stale(user: str, age: int, **kw) -> StaleKey:
    fields = dict(
        user=user, access_key_id=None, slot=1, last_rotated="2024-01-01T00:00:00+00:00",
        created=1704067200, last_used_date=None, last_used_service=None, last_used_region=None,
        reasons=("never-used",), age_days=age,
    )  # fmt: skip
    return StaleKey(**(fields | kw))


def run(*keys, account="111111111111", name=None, at=DEMO_DATES[-1]) -> Run:
    return Run(f"in/{account}", account, name, "stale-keys", at, None, tuple(keys), ())


def test_every_figure_on_the_page_is_the_jsons(demo):
    overview, html = demo
    assert numbers_on_page(html) == numbers_in_json(overview)
    # And the page has them all: every account, every date, the capped list of keys.
    shown = numbers_on_page(html)
    assert len(shown["accounts"]) == overview["totals"]["accounts"] == 12
    assert len(shown["runs"]) == len(DEMO_DATES)
    assert shown["keys_listed"] == min(25, overview["totals"]["stale_keys"])


def test_the_page_needs_nothing_from_elsewhere(demo):
    _, html = demo
    lowered = html.lower()
    for banned in ("<link", "<img", "<iframe", "<object", "@import", "url(", "src=", "fetch("):
        assert banned not in lowered, banned
    for banned in ("xmlhttprequest", "websocket", "import(", "eval(", "innerhtml"):
        assert banned not in lowered, banned
    assert not re.search(r"(https?:|ftp:)?//[a-z0-9]", lowered)
    # One script, inline, at the end: the page is whole before it runs.
    assert lowered.count("<script") == 1 and lowered.endswith("</script></body></html>\n")


def test_strings_from_the_inputs_are_escaped():
    html = render(overview_of([run(stale(HOSTILE, 400), name=HOSTILE, account="1<2")]))
    assert html.count("<script") == 1 and "<script>alert" not in html
    page = parse(html)
    row = page.find("tr", data_account="1<2")
    assert row.find("th").text() == HOSTILE
    assert page.find("table", id="keys-table").find("tbody").find("td").text() == HOSTILE


def test_tables_charts_and_sections_carry_what_assistive_technology_reads(demo):
    _, html = demo
    page = parse(html)
    assert page.find("html").attrs["lang"] == "en"
    assert len(list(page.iter("h1"))) == 1
    for table in page.iter("table"):
        assert table.find("caption").text().strip(), table.attrs
        headers = list(table.find("thead").iter("th"))
        assert headers and all(th.attrs.get("scope") == "col" for th in headers)
        for row in table.find("tbody").iter("tr"):
            assert all(th.attrs.get("scope") == "row" for th in row.iter("th"))
    charts = list(page.iter("svg"))
    assert len(charts) == 2
    for svg in charts:
        assert svg.attrs["role"] == "img"
        title_id, desc_id = svg.attrs["aria-labelledby"].split()
        assert svg.find("title", id=title_id).text() and svg.find("desc", id=desc_id).text()
    # Each section is labelled by its heading, and every in-page link has its target.
    for section in page.iter("section"):
        assert section.find("h2", id=section.attrs["aria-labelledby"]) is not None
    targets = {node.attrs["id"] for node in page.iter() if "id" in node.attrs}
    links = [a.attrs["href"] for a in page.iter("a")]
    assert links and all(href[1:] in targets for href in links)


def test_the_charts_text_equivalents_say_the_figures(demo):
    overview, html = demo
    page = parse(html)
    ages = page.find("desc", id="ages-desc").text()
    for label, count in overview["age_buckets"].items():
        assert f"{label} days: {count:,} keys" in ages
    first, last = overview["runs"][0], overview["runs"][-1]
    assert page.find("desc", id="trend-desc").text() == (
        f"From {first['stale_keys']:,} stale keys on {first['date']} to "
        f"{last['stale_keys']:,} on {last['date']}, over {len(overview['runs'])} run dates."
    )


def test_the_trend_line_is_drawn_only_with_two_dates_or_more():
    one = render(overview_of([run(stale("a", 100))]))
    assert parse(one).find("svg", aria_labelledby="trend-title trend-desc") is None
    assert "One run date so far" in one
    earlier = DEMO_DATES[-1] - timedelta(days=7)
    two = render(overview_of([run(stale("a", 93), at=earlier), run(stale("a", 100))]))
    line = parse(two).find("polyline")
    assert len(line.attrs["points"].split()) == 2


def test_a_drop_since_the_previous_run_shows_with_the_previous_count():
    earlier = DEMO_DATES[-1] - timedelta(days=7)
    before = run(stale("a", 93), stale("b", 95), stale("c", 99), at=earlier)
    html = render(overview_of([before, run(stale("a", 100))]))
    change = parse(html).find("td", data_field="change").text()
    assert change == "−2 (from 3)"


def test_an_empty_report_still_renders():
    html = render(overview_of([]))
    assert "no runs found" in html
    assert numbers_on_page(html)["totals"]["stale_keys"] == 0


def test_the_remediation_section_names_policies_and_the_lifecycle(demo):
    overview, html = demo
    summary = parse(html).find("p", id="remediation-summary").text()
    life = overview["remediation"]["lifecycle"]
    assert f"{overview['remediation']['actions']['disabled']} disabled" in summary
    assert f"{life['retired']} still retired, {life['restored']} restored" in summary
    rows = parse(html).find("table", id="lifecycle-table").find("tbody")
    assert rows.find("th").text() == "iam-access-key-retire"


def test_without_inputs_the_page_has_no_inputs_section():
    html = render(overview(fold([run(stale("a", 100))])))
    page = parse(html)
    assert page.find("section", id="inputs") is None
    assert not any(a.attrs["href"] == "#inputs" for a in page.iter("a"))
    assert numbers_on_page(html)["totals"]["stale_keys"] == 1


def text_of(html: str, tag: str, **attrs) -> str:
    return " ".join(parse(html).find(tag, **attrs).text().split())


def cells(row) -> str:
    """A row as a reader reads it: each cell's words, cells apart."""
    return " | ".join(" ".join(c.text().split()) for c in row.children if not isinstance(c, str))


def test_each_accounts_keys_say_who_what_and_the_next_step():
    used = stale("svc", 400, access_key_id="AKIAEXAMPLE000000001", slot=None,
                 last_used_date="2025-10-01T08:00:00+00:00", last_used_service="s3",
                 last_used_region="eu-west-1", reasons=("unused", "unrotated"),
                 owner="ana@example.com", team="payments")  # fmt: skip
    never = stale("ci", 200, team="build")
    found = overview_of([run(used, never, name="prod")])
    html = render(found)
    rows = [cells(row) for row in parse(html).find("table", id="keys-0").find("tbody").iter("tr")]
    assert rows == [
        "svc | ana@example.compayments | AKIAEXAMPLE000000001 | 400 | unused, unrotated | "
        "2025-10-01 s3, eu-west-1 | notify owner",
        "ci | build | slot 1 | 200 | never used | never | notify owner",
    ]
    summary = " ".join(parse(html).find("details", id="account-0").find("summary").text().split())
    assert summary == "prod 111111111111: 2 stale keys, oldest 400 days; last run 2026-12-02"


def test_an_account_not_reporting_says_since_when():
    earlier = DEMO_DATES[-1] - timedelta(days=1)
    found = overview_of([run(stale("a", 100)), run(stale("b", 90), account="2", at=earlier)])
    html = render(found)
    row = parse(html).find("table", id="accounts-table").find("tr", data_account="2")
    assert cells(row) == "2 | 2 | 1 | 1 | 0 | 1 | 0 | 90 | 2026-12-01 not reporting: 1 day | —"
    assert " ".join(parse(html).find("section", id="attention").find("p").text().split()) == (
        "1 account did not run on 2026-12-02: a runner may have failed. Its "
        "last figures still count, as last seen."
    )
    assert text_of(html, "p", **{"class": "sub"}).startswith("2 accounts, 1 not reporting.")


def test_an_account_with_no_stale_key_and_retired_keys_to_act_on():
    from c7n_keyage.overview.runs import RetiredKey

    retired = RetiredKey("old", "AKIAEXAMPLE000000009", "2026-10-01T00:00:00Z", "retire",
                         "Inactive", False, "2026-11-30T00:00:00Z")  # fmt: skip
    html = render(overview_of([Run("w", "1", "quiet", "p", DEMO_DATES[-1], None, (), (retired,))]))
    assert text_of(html, "summary") == (
        "quiet 1: no stale key; 1 retired key to act on; last run 2026-12-02"
    )
    row = parse(html).find("table", id="retired-0").find("tbody").find("tr")
    assert cells(row) == (
        "old | AKIAEXAMPLE000000009 | 2026-10-01 | retire | no | delete due on 2026-11-30"
    )
    assert row.find("td", **{"class": "step"}).text() == "delete due on 2026-11-30"
    used = RetiredKey("old", "AKIAEXAMPLE000000009", "2026-10-01T00:00:00Z", "retire",
                      "Inactive", True)  # fmt: skip
    html = render(overview_of([Run("w", "1", "q", "p", DEMO_DATES[-1], None, (), (used,))]))
    row = parse(html).find("table", id="retired-0").find("tbody").find("tr")
    assert cells(row) == "old | AKIAEXAMPLE000000009 | 2026-10-01 | retire | yes | restore"


def test_the_accounts_not_reporting_longest_silent_first_then_those_that_never_ran():
    day = DEMO_DATES[-1]
    runs = [run(stale("a", 100))]
    silent = (
        ("2", "zeta", 1),
        ("3", "Alpha", 3),
        ("4", "beta", 1),
        ("5", "_ops", 1),
        ("6", None, 1),
    )
    runs += [
        run(stale("b", 90), account=a, name=n, at=day - timedelta(days=d)) for a, n, d in silent
    ]
    found = overview(fold(runs), Options(names={"9": "never", "2": "zeta"}, grace_days=0))
    found["inputs"] = Stats(["in"]).as_dict()
    table = parse(render(found)).find("table", id="not-reporting-table")
    assert [cells(row) for row in table.find("tbody").iter("tr")] == [
        "Alpha | 3 | 2026-11-29 | 3 | 1",
        "6 | 6 | 2026-12-01 | 1 | 1",  # no name: its ID, and first of the day's
        "_ops | 5 | 2026-12-01 | 1 | 1",  # case-blind: "_" sorts before letters
        "beta | 4 | 2026-12-01 | 1 | 1",
        "zeta | 2 | 2026-12-01 | 1 | 1",
        "never | 9 | no run | — | —",
    ]
    assert {
        tuple(c.attrs.get("class") for c in row.children if not isinstance(c, str))
        for row in table.find("tbody").iter("tr")
    } == {(None, "id", "date", "num", "num")}
    assert [cells(row) for row in table.find("thead").iter("tr")] == [
        "Account | Account ID | Last run | Days since | Stale keys at that run"
    ]
    intro = " ".join(parse(render(found)).find("section", id="attention").find("p").text().split())
    assert intro == (
        "5 accounts did not run on 2026-12-02: a runner may have failed. Their last figures "
        "still count, as last seen. 1 account of the accounts file never ran."
    )
    graced = overview(fold(runs), Options(grace_days=1))
    graced["inputs"] = Stats(["in"]).as_dict()
    html = render(graced)
    assert " ".join(parse(html).find("section", id="attention").find("p").text().split()) == (
        "1 account did not run on 2026-12-02 nor in the 1 day before: a runner may have "
        "failed. Its last figures still count, as last seen."
    )


def test_25_accounts_not_reporting_are_listed_and_26_collapsed():
    day = DEMO_DATES[-1]
    silent = [run(account=f"{n:03d}", at=day - timedelta(days=2)) for n in range(25)]
    html = render(overview_of([run(stale("a", 100)), *silent]))
    assert parse(html).find("details", id="all-not-reporting") is None
    assert len(list(parse(html).find("table", id="not-reporting-table").iter("tr"))) == 26


def test_many_accounts_not_reporting_are_collapsed():
    day = DEMO_DATES[-1]
    runs = [run(stale("a", 100))] + [
        run(account=f"{n:03d}", at=day - timedelta(days=2)) for n in range(26)
    ]
    html = render(overview_of(runs))
    details = parse(html).find("details", id="all-not-reporting")
    assert " ".join(details.find("summary").text().split()) == "All 26"
    assert len(list(details.find("tbody").iter("tr"))) == 26


TABLES = {
    # id: (caption, headers, the numeric ones: right-aligned)
    "accounts-table": (
        "Accounts, most stale keys first (select a heading to sort)",
        "Account|Account ID|Stale keys|Users|Unused|Never used|Unrotated|Oldest, days|"
        "Latest run|Change since its previous run",
        {2, 3, 4, 5, 6, 7, 9},
    ),
    "actions-table": (
        "Keys acted on, by policy (each key once)",
        "Policy|Action|Keys|Accounts|Last acted",
        {2, 3},
    ),
    "ages-table": ("Stale keys by age", "Days|Stale keys", {1}),
    "keys-0": (
        "Stale keys, oldest first",
        "User|Owner, team|Access key|Days|Why|Last used|Next step",
        {3},
    ),
    "keys-table": (
        "Oldest stale keys",
        "Account|User|Owner, team|Access key|Days|Why|Last used|Next step",
        {4},
    ),
    "lifecycle-table": (
        "Key lifecycle, each key as it is now, by retiring policy",
        "Policy|Still retired|Restored|Deleted|Used after retirement",
        {1, 2, 3, 4},
    ),
    "not-reporting-table": (
        "Accounts not reporting",
        "Account|Account ID|Last run|Days since|Stale keys at that run",
        {3, 4},
    ),
    "outcomes-table": (
        "Key lifecycle actions, by their own per-key results (the latest of each key)",
        "Policy|Action|Retired|Restored|Deleted|Record removed|Kept|Refused|Failed",
        {2, 3, 4, 5, 6, 7, 8},
    ),
    "policies-table": ("Policies read", "Policy|Latest run|Accounts", {2}),
    "runs-table": (
        "Stale keys per run date",
        "Run date|Stale keys|Accounts that ran|Accounts counted|Acted on",
        {1, 2, 3, 4},
    ),
}


def test_every_table_has_its_caption_its_headings_and_numbers_right_aligned(demo):
    _, html = demo
    page = parse(html)
    found = {}
    for table in page.iter("table"):
        headers = list(table.find("thead").iter("th"))
        found[table.attrs["id"]] = (
            " ".join(table.find("caption").text().split()),
            "|".join(" ".join(th.text().split()) for th in headers),
            {i for i, th in enumerate(headers) if th.attrs.get("class") == "num"},
        )
    assert {k: v for k, v in found.items() if k in TABLES} == TABLES
    retired = next(v for k, v in found.items() if k.startswith("retired-"))
    assert retired == (
        "Retired keys (key lifecycle)",
        "User|Access key|Retired|By|Used since|Next step",
        set(),
    )
    for table_id in ("accounts-table", "keys-table", "runs-table"):
        for row in page.find("table", id=table_id).find("tbody").iter("tr"):
            numeric = [td for i, td in enumerate(row.find_all("td"), 1) if i in TABLES[table_id][2]]
            assert all(td.attrs.get("class", "").split()[0] == "num" for td in numeric)


def test_the_checks_of_the_markup_find_what_they_look_for(demo):
    _, html = demo
    assert structure_problems(html) == []
    broken = {
        "</td></tr>": "</td>",  # a row left open
        '<td class="num"': '<td class="NUM"',  # a class no style reads
        "<tbody>": "<tbody>XX",  # text loose in a table
        "</tr>": "</TR>",  # upper case
        '<th scope="col"': '<th scope="col" xx',  # an attribute the page does not mean
        '<div class="wide">': '<div class="">',
    }
    for good, bad in broken.items():
        assert structure_problems(html.replace(good, bad, 1)) != [], bad


NUMBER = re.compile(r"^[−+]?[\d,]+( \(from [\d,]+\))?$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")


def test_numbers_are_right_aligned_and_dates_kept_on_one_line(demo):
    _, html = demo
    checked = 0
    for table in parse(html).iter("table"):
        for cell in [*table.find("tbody").iter("td"), *table.find("tbody").iter("th")]:
            words = " ".join(cell.text().split())
            classes = cell.attrs.get("class", "").split()
            if NUMBER.match(words) and cell.tag == "td" and classes != ["id"]:
                assert "num" in classes, (table.attrs["id"], words)
                checked += 1
            elif DAY.match(words):
                assert classes and classes[0] in ("date", "num"), (table.attrs["id"], words)
                checked += 1
    assert checked > 250


def words(node) -> str:
    return " ".join(node.text().split())


def outside_tables(page, tags: tuple[str, ...]) -> list[tuple[str, str]]:
    """(tag, words) of each element of ``tags`` that is not in a table or a chart."""
    found = []

    def walk(node):
        for child in node.children:
            if isinstance(child, str) or child.tag in ("table", "svg", "style", "script"):
                continue
            if child.tag in tags:
                found.append((child.tag, words(child)))
            walk(child)

    walk(page)
    return found


SECTIONS = ["Totals", "Not reporting", "Age and trend", "Oldest keys", "Accounts",
            "Each account's keys", "What remediation did", "Policies", "Inputs"]  # fmt: skip
CARDS = ["Stale keys", "Users with stale keys", "Accounts with stale keys", "Oldest, days",
         "Unused", "Never used", "Unrotated", "Accounts not reporting", "Keys acted on",
         "To notify", "To retire", "To delete", "To restore"]  # fmt: skip


def summary_of(a: dict) -> str:
    stale = (f"{a['stale_keys']:,} stale key{'s' if a['stale_keys'] != 1 else ''}, oldest "
             f"{a['oldest_days']:,} days" if a["stale_keys"] else "no stale key")  # fmt: skip
    retired = len(a["retired_keys"])
    said = f"{a['account_name']} {a['account_id']}: {stale}"
    said += f"; {retired} retired key{'s' if retired != 1 else ''} to act on" if retired else ""
    said += f"; last run {a['last_run']}"
    return said + ("" if a["reporting"] else f" not reporting: {a['days_since_last_run']} days")


def test_the_pages_words_say_its_figures(demo):
    found, _ = demo
    found = dict(found, inputs=Stats(["in"], 3, 2, 1, ["x: bad"], ["y: stopped"]).as_dict())
    found["inputs"]["history"] = {"file": "out/history.json", "runs": 1234, "added": 2}
    page = parse(render(found))
    t, r = found["totals"], found["remediation"]
    assert [w for _, w in outside_tables(page, ("h2",))] == SECTIONS
    assert [w for _, w in outside_tables(page, ("dt",))] == CARDS
    assert [w for tag, w in outside_tables(page, ("a",))] == ["Skip to the accounts", *SECTIONS]
    assert [w for _, w in outside_tables(page, ("summary",))] == [
        summary_of(a) for a in found["accounts"]
    ]
    paragraphs = [w for _, w in outside_tables(page, ("p",))]
    assert paragraphs[0] == (
        f"{t['accounts']} accounts, {t['accounts_not_reporting']} not reporting. Runs from "
        f"{found['first_run']} to {found['as_of']} (UTC), read by c7n-keyage report from Cloud "
        "Custodian's outputs."
    )
    a, life = r["actions"], r["lifecycle"]
    assert (
        f"Keys acted on by policies in these runs: {a['disabled']} disabled, {a['deleted']} "
        f"deleted, {a['retired']} retired. Key lifecycle: {life['retired']} still retired, "
        f"{life['restored']} restored, {life['deleted']} deleted; {life['used_since_retired']} "
        "used after retirement."
    ) in paragraphs
    assert (
        "Runs found: 3; read: 2; of other policies, skipped: 1; superseded by a later run of the "
        f"same account, policy and date: {found['superseded_runs']}; older than the run already "
        f"counted for their account and policy: {found['not_newer_runs']}; unreadable: 1; failed "
        "before writing their resources: 1. The history out/history.json holds 1,234 runs, 2 of "
        "them added now."
    ) in paragraphs
    more = [f"and {x['stale_keys'] - len(x['keys'])} more, in the CSV." for x in found["accounts"]
            if x["stale_keys"] > len(x["keys"])]  # fmt: skip
    assert [p for p in paragraphs if p.startswith("and ")] == more
    assert [w for _, w in outside_tables(page, ("li",))][len(SECTIONS) :] == [
        "in",
        "x: bad",
        "y: stopped",
    ]
    assert [u.attrs.get("id") for u in page.iter("ul")][1:] == [None, "unreadable", "failed"]
    assert (
        words(page.find("title"))
        == words(page.find("h1"))
        == (f"Stale IAM access keys, as of {found['as_of']}")
    )


def test_cards_mark_the_lead_and_an_alert_and_say_of_how_many(demo):
    found, html = demo
    page = parse(html)
    totals = found["totals"]
    assert words(page.find("dd", id="total-accounts-with-stale")) == (
        f"{totals['accounts_with_stale']} of {totals['accounts']}"
    )
    classes = {dd.attrs["id"]: parent.attrs.get("class") for parent in page.iter("div")
               for dd in parent.children if not isinstance(dd, str) and dd.tag == "dd"}  # fmt: skip
    assert classes["total-stale-keys"] == "lead" and classes["total-not-reporting"] == "alert"
    assert {k for k, v in classes.items() if v} == {"total-stale-keys", "total-not-reporting"}
    quiet = render(overview_of([run(stale("a", 100))]))
    assert 'class="alert"' not in quiet and 'class="lead"' in quiet
    assert [w for _, w in outside_tables(page, ("figcaption",))] == [
        "Days since last use, or since creation for keys never used, at each key's latest run.",
        "Stale keys as of each run date: every account with its latest runs on or before it.",
    ]


def test_long_lists_are_collapsed_and_the_first_ones_shown():
    day = DEMO_DATES[-1]
    runs = [run(*(stale(f"u{i}", 100 + i) for i in range(n)), account=f"{n:03d}", name=f"a{n}",
                at=day - timedelta(days=n % 13)) for n in range(27)]  # fmt: skip
    page = parse(render(overview_of(runs)))
    top = page.find("table", id="top-accounts-table")
    assert len(list(top.find("tbody").iter("tr"))) == 25
    assert words(top.find("caption")) == "The 25 accounts with the most stale keys"
    every = page.find("details", id="all-accounts")
    assert words(every.find("summary")) == "All 27 accounts" and "open" not in every.attrs
    assert len(list(every.find("tbody").iter("tr"))) == 27
    trend = page.find("details", id="trend-figures")
    assert words(trend.find("summary")) == "The 13 dates' figures"
    short = parse(render(overview_of(runs[:3])))
    assert short.find("details", id="all-accounts") is None
    assert short.find("table", id="top-accounts-table") is None


def test_a_rise_since_the_previous_run_is_marked():
    earlier = DEMO_DATES[-1] - timedelta(days=7)
    now = run(stale("a", 100), stale("b", 95), stale("c", 99))
    html = render(overview_of([run(stale("a", 93), at=earlier), now]))
    change = parse(html).find("td", data_field="change")
    assert (words(change), change.attrs["class"], change.attrs["data-sort"]) == (
        "+2 (from 1)",
        "num up",
        "2",
    )
    same = render(overview_of([run(stale("a", 93), at=earlier), run(stale("a", 100))]))
    change = parse(same).find("td", data_field="change")
    assert (words(change), change.attrs["class"], change.attrs["data-sort"]) == ("0", "num", "0")


def test_a_long_list_of_problems_is_cut_and_says_how_many_more():
    found = overview_of([run(stale("a", 100))])
    found["inputs"] = Stats(["in"], 60, 1, 0, [f"file-{i:02d}: bad" for i in range(53)]).as_dict()
    page = parse(render(found))
    listed = [words(li) for li in page.find("ul", id="unreadable").iter("li")]
    assert listed == [f"file-{i:02d}: bad" for i in range(50)]
    assert "and 3 more (all in the JSON)." in [w for _, w in outside_tables(page, ("p",))]
    assert page.find("ul", id="failed") is None


def rows_of(html: str, table_id: str) -> list[str]:
    table = parse(html).find("table", id=table_id)
    return [cells(row) for row in table.find("tbody").iter("tr")]


def test_the_tables_of_the_trend_and_of_remediation_are_the_jsons(demo):
    found, html = demo
    assert rows_of(html, "runs-table") == [
        f"{r['date']} | {r['stale_keys']:,} | {r['ran']} | {len(r['accounts'])} | {r['remediated']}"
        for r in found["runs"]
    ]
    r = found["remediation"]
    assert rows_of(html, "actions-table") == [
        f"{p['policy']} | {p['action']} | {p['keys']} | {p['accounts']} | {p['last_acted']}"
        for p in r["by_policy"]
    ]
    assert rows_of(html, "lifecycle-table") == [
        f"{p['policy']} | {p['retired']} | {p['restored']} | {p['deleted']} | "
        f"{p['used_since_retired']}"
        for p in r["lifecycle_by_policy"]
    ]
    assert rows_of(html, "policies-table") == [
        f"{p['policy']} | {p['last_run']} | {p['accounts']}" for p in found["policies"]
    ]
    oldest = max(found["accounts"], key=lambda a: a["oldest_days"])
    row = (
        parse(html).find("table", id="accounts-table").find("tr", data_account=oldest["account_id"])
    )
    assert words(row.find("td", data_field="oldest_days")) == f"{oldest['oldest_days']:,}"
    assert oldest["oldest_days"] >= 1000


def test_keys_acted_on_counts_every_action_retired_keys_too():
    retire = Run("w", "1", None, "retire", DEMO_DATES[-1], "retired",
                 (stale("a", 100, access_key_id="AKIAEXAMPLE000000001"),))  # fmt: skip
    disable = Run("v", "2", None, "disable", DEMO_DATES[-1], "disabled",
                  (stale("b", 100, access_key_id="AKIAEXAMPLE000000002"),))  # fmt: skip
    found = overview_of([retire, disable])
    assert found["remediation"]["actions"] == {"disabled": 1, "deleted": 0, "retired": 1}
    page = parse(render(found))
    assert words(page.find("dd", id="total-remediated")) == "2"


def test_a_key_without_id_slot_use_or_owner_says_so():
    bare = stale("bare", 100, slot=None)
    alone = stale("owned", 90, owner="ana@example.com", last_used_date="2026-01-01T00:00:00Z")
    teamed = stale("teamed", 80, team="ops")
    html = render(overview_of([run(bare, alone, teamed)]))
    assert rows_of(html, "keys-0") == [
        "bare | — | — | 100 | never used | never | notify owner",
        "owned | ana@example.com | slot 1 | 90 | never used | 2026-01-01 | notify owner",
        "teamed | ops | slot 1 | 80 | never used | never | notify owner",
    ]
    row = parse(html).find("table", id="keys-0").find("tbody").find("tr")
    assert [c.attrs.get("class") for c in row.children if not isinstance(c, str)] == [
        None, "name", "id", "num", None, "date", "step"
    ]  # fmt: skip
    row = parse(html).find("table", id="keys-table").find("tbody").find("tr")
    assert [c.attrs.get("class") for c in row.children if not isinstance(c, str)] == [
        None, "name", "name", "id", "num", None, "date", "step"
    ]  # fmt: skip


def test_the_lines_between_shown_and_collapsed():
    day = DEMO_DATES[-1]
    twelve = [run(stale("a", 100), at=day - timedelta(days=d)) for d in range(12)]
    page = parse(render(overview_of(twelve)))
    assert page.find("details", id="trend-figures") is None
    assert len(rows_of(render(overview_of(twelve)), "runs-table")) == 12
    thirteen = parse(render(overview_of([*twelve, run(stale("a", 90), at=day - timedelta(13))])))
    folded = thirteen.find("details", id="trend-figures")
    assert len(list(folded.find("table", id="runs-table").find("tbody").iter("tr"))) == 13
    accounts = [run(stale("a", 100), account=f"{n:03d}") for n in range(25)]
    page = parse(render(overview_of(accounts)))
    assert page.find("table", id="top-accounts-table") is None
    assert page.find("details", id="all-accounts") is None


def test_how_many_more_keys_and_problems_each_list_has():
    one_more = run(*(stale(f"u{i}", 100 + i) for i in range(11)))
    html = render(overview_of([one_more]))
    assert "and 1 more, in the CSV." in [w for _, w in outside_tables(parse(html), ("p",))]
    found = overview_of([run(*(stale(f"u{i}", 100 + i) for i in range(10)))])
    assert not [w for _, w in outside_tables(parse(render(found)), ("p",)) if w.startswith("and")]
    for problems, more in ((50, []), (51, ["and 1 more (all in the JSON)."])):
        found["inputs"] = Stats(["in"], unreadable=[f"f{i}" for i in range(problems)]).as_dict()
        said = [w for _, w in outside_tables(parse(render(found)), ("p",)) if "JSON" in w]
        assert said == more


def test_each_accounts_keys_list_and_its_retired_keys_together(demo):
    found, html = demo
    identity = next(i for i, a in enumerate(found["accounts"]) if a["retired_keys"])
    details = parse(html).find("details", id=f"account-{identity}")
    assert [t.attrs["id"] for t in details.iter("table")] == [
        f"keys-{identity}", f"retired-{identity}"
    ]  # fmt: skip
    intro = words(parse(html).find("section", id="drilldown").find("p"))
    assert intro.endswith("Open an account to see (and print) its keys; the page lists up to "
                          "10 per account.")  # fmt: skip
    every = dict(found, keys_per_account=0)
    intro = words(parse(render(every)).find("section", id="drilldown").find("p"))
    assert intro.endswith("Open an account to see (and print) its keys.")


def test_sections_have_the_ids_links_point_at_and_the_heading_says_the_dates(demo):
    found, html = demo
    ids = [s.attrs["id"] for s in parse(html).iter("section")]
    assert ids == ["totals", "attention", "charts", "keys", "accounts", "drilldown",
                   "remediation", "policies", "inputs"]  # fmt: skip
    one_day = render(overview_of([run(stale("a", 100))]))
    assert words(parse(one_day).find("p", **{"class": "sub"})) == (
        "1 account. Runs of 2026-12-02 (UTC), read by c7n-keyage report from Cloud Custodian's "
        "outputs."
    )
    from c7n_keyage.overview.fleet import Fleet

    empty = overview(Fleet())
    empty["inputs"] = Stats(["in"]).as_dict()
    page = parse(render(empty))
    assert words(page.find("h1")) == "Stale IAM access keys, no runs found"
    assert words(page.find("h3")) == "Next steps"


def test_a_last_use_is_dated_and_placed_only_as_far_as_the_run_knew():
    used = dict(last_used_date="2026-01-05T10:00:00+00:00", reasons=("unused",))
    placed = stale("a", 331, **used, last_used_service="s3", last_used_region="eu-west-1")
    unplaced = stale("b", 331, **used)
    html = render(overview_of([run(placed, unplaced)]))
    rows = {
        r.find("th").text(): r.find("td", **{"class": "date"})
        for r in parse(html).find_all("tr")
        if r.find("th") is not None and r.find("td", **{"class": "date"}) is not None
    }
    assert rows["a"].text() == "2026-01-05 s3, eu-west-1"
    assert rows["b"].text() == "2026-01-05" and rows["b"].find("small") is None


def test_a_keys_days_are_grouped_by_thousands_as_every_figure_is():
    html = render(overview_of([run(stale("old", 1400))]))
    assert rows_of(html, "keys-0") == [
        "old | — | slot 1 | 1,400 | never used | never | notify owner"
    ]


def test_the_owner_with_the_team_under_it_and_either_alone():
    both = stale("both", 100, owner="ana@example.com", team="payments")
    owner = stale("owner", 90, owner="ana@example.com")
    team = stale("team", 80, team="ops")
    page = parse(render(overview_of([run(both, owner, team)])))
    cells = {
        row.find("th").text(): row.find("td", **{"class": "name"})
        for row in page.find("table", id="keys-0").find("tbody").iter("tr")
    }
    shown = {
        user: [c if isinstance(c, str) else (c.tag, c.text()) for c in cell.children]
        for user, cell in cells.items()
    }
    assert shown == {
        "both": ["ana@example.com", ("br", ""), ("small", "payments")],
        "owner": ["ana@example.com"],
        "team": ["ops"],
    }


def test_the_oldest_keys_say_how_many_of_all_the_stale_keys_they_are():
    found = overview(fold([run(stale("a", 100), stale("b", 200), stale("c", 300))]), Options(top=2))
    found["inputs"] = Stats(["in"], runs_found=1, runs_read=1).as_dict()
    note = words(parse(render(found)).find("section", id="keys").find("p", **{"class": "note"}))
    assert note.startswith("The 2 oldest of 3 stale keys. Every one is in its account's")


def test_a_rise_of_one_key_since_the_previous_run_is_marked_up_and_a_drop_is_not():
    earlier = DEMO_DATES[-1] - timedelta(days=7)
    for before, now, said, marked in (
        ([stale("a", 93)], [stale("a", 100), stale("b", 95)], "+1 (from 1)", "num up"),
        ([stale("a", 93), stale("b", 88)], [stale("a", 100)], "−1 (from 2)", "num"),
    ):
        html = render(overview_of([run(*before, at=earlier), run(*now)]))
        change = parse(html).find("td", data_field="change")
        assert (words(change), change.attrs["class"]) == (said, marked)


def test_the_inputs_section_lists_each_input_and_says_what_was_read():
    found = overview_of([run(stale("a", 100))])
    found["inputs"] = Stats(["out/daily", "s3://bucket/keyage"], 4, 2, 1, ["x: bad"]).as_dict()
    section = parse(render(found)).find("section", id="inputs")
    items = [c if isinstance(c, str) else words(c) for c in section.find("ul").children]
    assert items == [
        "out/daily",
        "s3://bucket/keyage",
    ]
    assert words(section.find("p")) == (
        "Runs found: 4; read: 2; of other policies, skipped: 1; superseded by a later run of the "
        "same account, policy and date: 0; older than the run already counted for their account "
        "and policy: 0; unreadable: 1; failed before writing their resources: 0."
    )


def test_the_policies_read_say_how_a_policy_no_longer_run_keeps_counting():
    html = render(overview_of([run(stale("a", 100))]))
    assert rows_of(html, "policies-table") == ["stale-keys | 2026-12-02 | 1"]
    section = parse(html).find("section", id="policies")
    assert words(section.find("p", **{"class": "note"})).startswith(
        "A policy keeps its accounts' last figures until it runs again: one that no longer "
        "runs (renamed, removed) shows here with an old date"
    )
