"""The page in a real browser: Debian's Chromium, headless, driven over the DevTools pipe
(tests/support/browser.py) with the network off, on the twelve-account demo fleet (made by
the installed console script) and on 1,000 accounts (built in memory once).

The DOM Chromium renders shows the JSON's figures, which equal a count made from the
fleet's own keys; with script off the page is whole; the filter box and the sortable
headings work when typed into and clicked; no chart label overlaps another; long names
wrap; print stays short. The screenshots are the docs' (docs/overview.png and
docs/overview-1000.png), rewritten only when they differ.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import struct
import subprocess
import sys
import tempfile
from dataclasses import replace
from datetime import timedelta

import pytest

from c7n_keyage.overview.aggregate import overview
from c7n_keyage.overview.page import render_html
from c7n_keyage.overview.runs import Run
from tests.support.browser import Browser
from tests.support.fleet import (
    DEMO_DATES,
    as_truth,
    demo_fleet,
    fleet_outputs,
    fold,
    runs_of,
    scale_fleet,
    truth,
    write_fleet,
)
from tests.support.page import numbers_in_json, numbers_on_page, parse

pytestmark = pytest.mark.slow

DOCS = pathlib.Path(__file__).resolve().parents[3] / "docs"
WIDTH, HEIGHT = 1280, 1500
BIG, BIG_KEYS, STOPPED = 1_000, 30, 10


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with Browser(str(tmp_path_factory.mktemp("profile")), WIDTH, HEIGHT) as opened:
        yield opened


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo fleet's page, made as a user makes it: the console script on c7n-org's
    layout (a relative input: the page names it, and the screenshot must not depend on tmp)."""
    tmp = tmp_path_factory.mktemp("demo")
    fleet = demo_fleet()
    write_fleet(tmp / "runs", fleet, DEMO_DATES, other_policy=True)
    script = pathlib.Path(sys.executable).parent / "c7n-keyage"
    done = subprocess.run(
        [script, "report", "runs", "--html", "keys.html", "--json", "keys.json"],
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return tmp / "keys.html", fleet, json.loads((tmp / "keys.json").read_text())


def next_day(run: Run) -> Run:
    """The same run a day later: every key still stale, a day older."""
    keys = tuple(replace(k, age_days=k.age_days + 1) for k in run.keys)
    later = run.started + timedelta(days=1)
    return replace(run, started=later, where=f"{run.where}+1", keys=keys)


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """1,000 accounts of 30 stale keys over two daily dates, ten of them silent on the
    second: runs made and read in memory (the second date's by moving the first's a day
    on), the page written once."""
    first = DEMO_DATES[-1] - timedelta(days=1)
    fleet = scale_fleet(BIG, BIG_KEYS, first)
    runs = list(runs_of(fleet_outputs(fleet, [first])))
    silent = {a.account_id for a in fleet[-STOPPED:]}
    runs += [next_day(r) for r in runs if r.account_id not in silent]
    found = overview(fold(runs))
    page = tmp_path_factory.mktemp("big") / "keys.html"
    page.write_text(render_html(found), encoding="utf-8")
    return page, found


def test_the_rendered_dom_shows_the_figures_of_the_json_and_of_the_fleet(browser, demo):
    page, fleet, found = demo
    browser.open(page.as_uri())
    dom = browser.dom()
    assert parse(dom).find("h1").text() == f"Stale IAM access keys, as of {DEMO_DATES[-1].date()}"
    shown = numbers_on_page(dom)
    assert shown == numbers_in_json(found)
    assert as_truth(found) == truth(fleet, DEMO_DATES)
    assert shown["totals"]["stale_keys"] == found["totals"]["stale_keys"] > 0
    by_name = {a["account_name"]: a["account_id"] for a in found["accounts"]}
    assert shown["not_reporting"] == {by_name["sandbox-02"]}
    for name in ("data-lake", "logging", "legacy-erp"):
        expected = truth(fleet, DEMO_DATES)["accounts"][by_name[name]]["stale_keys"]
        assert shown["accounts"][by_name[name]]["stale_keys"] == expected


def test_1000_accounts_show_the_jsons_figures(browser, big):
    page, found = big
    browser.open(page.as_uri())
    shown = numbers_on_page(browser.dom())
    assert shown == numbers_in_json(found)
    assert found["totals"]["stale_keys"] == BIG * BIG_KEYS
    assert len(shown["accounts"]) == BIG and len(shown["not_reporting"]) == STOPPED
    assert page.stat().st_size < 5_000_000


def test_with_script_off_the_page_is_whole(browser, demo, big):
    page, _, found = demo
    browser.open(page.as_uri(), script=False)
    dom = browser.dom()
    assert numbers_on_page(dom) == numbers_in_json(found)
    assert parse(dom).find("div", id="finder").attrs.get("hidden") is not None
    # At 1,000 accounts too: every row and every account's keys, nothing added by a script.
    page, found = big
    browser.open(page.as_uri(), script=False)
    counts = browser.run(
        "[document.querySelectorAll('#accounts-table tbody tr').length, "
        "document.querySelectorAll('details.account').length, "
        "document.querySelectorAll('details.account tbody tr').length, "
        "document.querySelectorAll('thead button').length, "
        "document.getElementById('finder').hidden]"
    )
    listed = sum(len(a["keys"]) for a in found["accounts"])
    assert counts == [BIG, BIG, listed, 0, True]


def visible_accounts(browser: Browser) -> list[str]:
    return browser.run(
        "Array.from(document.querySelectorAll('#accounts-table tbody tr'))"
        ".filter(r => !r.hidden).map(r => r.dataset.account)"
    )


def test_the_filter_box_finds_an_account_by_name_or_by_a_user(browser, big):
    page, found = big
    browser.open(page.as_uri())
    wanted = next(a for a in found["accounts"] if a["account_name"] == "acct-0777")
    browser.type("#account-filter", "ACCT-0777")
    assert visible_accounts(browser) == [wanted["account_id"]]
    assert browser.run("document.getElementById('all-accounts').open") is True
    assert browser.run("document.getElementById('filter-status').textContent") == (
        f"1 of {BIG} accounts match"
    )
    shown = browser.run(
        "Array.from(document.querySelectorAll('details.account'))"
        ".filter(d => !d.hidden).map(d => d.dataset.account)"
    )
    assert shown == [wanted["account_id"]]
    # A user listed in an account's keys finds its account.
    browser.run("document.getElementById('account-filter').value = ''")
    browser.type("#account-filter", wanted["keys"][0]["user"])
    assert visible_accounts(browser) == [wanted["account_id"]]


def test_a_heading_sorts_the_accounts_and_says_how(browser, big):
    page, found = big
    age = {a["account_id"]: a["oldest_days"] for a in found["accounts"]}
    name = {a["account_id"]: a["account_name"] for a in found["accounts"]}
    browser.open(page.as_uri())
    browser.run("document.getElementById('all-accounts').open = true")
    oldest = "#accounts-table thead th:nth-child(8) button"
    browser.click(oldest)
    assert [age[a] for a in visible_accounts(browser)] == sorted(age.values(), reverse=True)
    sorted_by = (
        "document.querySelector('#accounts-table th:nth-child(8)').getAttribute('aria-sort')"
    )
    assert browser.run(sorted_by) == "descending"
    browser.click(oldest)
    assert [age[a] for a in visible_accounts(browser)] == sorted(age.values())
    assert browser.run(sorted_by) == "ascending"
    browser.click("#accounts-table thead th:nth-child(1) button")
    names = [name[a] for a in visible_accounts(browser)]
    assert names == sorted(names, key=str.lower) and names != [name[a] for a in name]


def test_an_accounts_link_opens_its_keys(browser, big):
    page, _ = big
    browser.open(page.as_uri())
    browser.click("#top-accounts-table tbody tr:nth-child(3) a")
    assert browser.run("location.hash") == "#account-2"
    assert browser.run("document.getElementById('account-2').open") is True


OVERLAPS = """
(() => {
  const found = [];
  for (const svg of document.querySelectorAll('svg')) {
    const boxes = Array.from(svg.querySelectorAll('text')).map(t => [t.textContent,
      t.getBoundingClientRect()]);
    boxes.forEach(([a, p], i) => boxes.slice(i + 1).forEach(([b, q]) => {
      if (p.left < q.right - 0.5 && q.left < p.right - 0.5 && p.top < q.bottom - 0.5
          && q.top < p.bottom - 0.5) { found.push([svg.id || svg.getAttribute('aria-labelledby'),
          a, b]); }
    }));
  }
  return found;
})()
"""


@pytest.mark.parametrize("which", ["demo", "big", "wide"])
def test_no_chart_label_overlaps_another(browser, demo, big, tmp_path, which):
    if which == "wide":  # six-figure ticks and a year of dates
        runs = [
            {"date": (DEMO_DATES[0] + timedelta(days=d)).date().isoformat(),
             "stale_keys": 60_000 + d * 150, "accounts": {}, "ran": 0, "remediated": 0}
            for d in range(365)
        ]  # fmt: skip
        found = dict(big[1], runs=runs, age_buckets=dict.fromkeys(big[1]["age_buckets"], 99_999))
        page = tmp_path / "wide.html"
        page.write_text(render_html(found), encoding="utf-8")
    else:
        page = demo[0] if which == "demo" else big[0]
    browser.open(page.as_uri())
    assert browser.run("document.querySelectorAll('svg text').length") > 10
    assert browser.run(OVERLAPS) == []


def test_long_names_wrap_and_nothing_is_wider_than_the_window(browser, big, tmp_path):
    page, found = big
    long_name = "production-payments-settlement-" * 8
    accounts = [dict(a) for a in found["accounts"][:30]]
    accounts[0]["account_name"] = long_name
    accounts[0]["keys"] = [dict(k, user="svc-" + "x" * 120) for k in accounts[0]["keys"]]
    page = tmp_path / "long.html"
    page.write_text(render_html(dict(found, accounts=accounts)), encoding="utf-8")
    browser.open(page.as_uri())
    browser.run("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert browser.run("document.documentElement.scrollWidth") <= WIDTH
    wrapped = browser.run(
        "document.querySelector('#accounts-table tbody th').getBoundingClientRect().height"
    )
    assert wrapped > 40  # several lines, not one line pushing the table wider


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", pdf))


def test_print_is_short_and_keeps_the_figures(browser, demo, big):
    browser.open(demo[0].as_uri())
    demo_pages = pages(browser.pdf())
    browser.open(big[0].as_uri())
    big_pages = pages(browser.pdf())
    # The demo's page on a few sheets (one would mean the tables were cut off); a thousand
    # accounts add the top accounts and the not-reporting list, not a sheet per account.
    assert 2 <= demo_pages <= 8, demo_pages
    assert big_pages <= 12, big_pages


def save_if_changed(data: bytes, target: pathlib.Path) -> None:
    if not target.exists() or target.read_bytes() != data:
        # Atomic: make test runs this in two environments at once.
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as out:
            out.write(data)
        os.chmod(out.name, 0o644)
        os.replace(out.name, target)
    assert target.read_bytes() == data


@pytest.mark.parametrize("which", ["demo", "big"])
def test_the_screenshots_are_the_docs(browser, demo, big, which):
    page = demo[0] if which == "demo" else big[0]
    browser.open(page.as_uri())
    data = browser.screenshot()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (WIDTH, HEIGHT)
    assert len(data) < 600_000
    save_if_changed(data, DOCS / ("overview.png" if which == "demo" else "overview-1000.png"))
