"""Read the report's page back as a person would see it: the numbers in its cells.

A small DOM (the standard library's HTMLParser) for the HTML as written and as Chromium
serialises it after loading (``--dump-dom``), and the figures the page shows, in the same
shape as the ones taken from the JSON, so a test compares the two whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"meta", "br", "hr", "img", "input", "link", "source", "wbr", "col", "area", "base"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self, tag: str | None = None):
        if tag is None or self.tag == tag:
            yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter(tag)

    def find(self, tag: str | None = None, **attrs) -> Node | None:
        return next(self.find_all(tag, **attrs), None)

    def find_all(self, tag: str | None = None, **attrs):
        wanted = {k.replace("_", "-"): v for k, v in attrs.items()}
        for node in self.iter(tag):
            if all(node.attrs.get(k) == v for k, v in wanted.items()):
                yield node


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


def _int(text: str) -> int:
    return int(text.strip().split()[0].replace(",", ""))


REASONS = ("unused", "never-used", "unrotated")
STEPS = ("notify", "retire", "delete", "restore")


def rows_of(page: Node, table_id: str) -> list[Node]:
    """A table's body rows with a row header (an empty table's row is "None.")."""
    table = page.find("table", id=table_id)
    if table is None:
        return []
    return [row for row in table.find("tbody").iter("tr") if row.find("th") is not None]


def _accounts(page: Node) -> dict:
    accounts = {}
    for row in rows_of(page, "accounts-table"):
        cells = {td.attrs.get("data-field"): td.text() for td in row.find_all("td")}
        accounts[row.attrs["data-account"]] = {
            "stale_keys": _int(cells["stale_keys"]),
            "stale_users": _int(cells["stale_users"]),
            "by_reason": {r: _int(cells[r]) for r in REASONS},
            "oldest_days": _int(cells["oldest_days"]),
        }
    return accounts


def _remediation(page: Node) -> tuple[dict, dict]:
    acted = {
        (row.find("th").text(), next(row.find_all("td")).text()): _int(
            row.find("td", data_field="keys").text()
        )
        for row in rows_of(page, "actions-table")
    }
    outcomes = {
        (row.find("th").text(), next(row.find_all("td")).text()): {
            td.attrs["data-field"]: _int(td.text())
            for td in row.find_all("td")
            if td.attrs.get("data-field")
        }
        for row in rows_of(page, "outcomes-table")
    }
    return acted, outcomes


def _drilldown(page: Node) -> dict[str, int]:
    """Each account's drill-down: how many of its keys it lists."""
    found = {}
    for details in page.find_all("details", **{"class": "account"}):
        body = details.find("table").find("tbody")
        found[details.attrs["data-account"]] = sum(1 for row in body.iter("tr") if row.find("th"))
    return found


def numbers_on_page(html: str) -> dict:
    """The figures a reader sees: totals, each account's row and drill-down, the age and run
    tables, the accounts not reporting, and the remediation tables."""
    page = parse(html)

    def card(card_id: str) -> int:
        return _int(page.find("dd", id=card_id).text())

    acted, outcomes = _remediation(page)
    return {
        "outcomes": outcomes,
        "totals": {
            "stale_keys": card("total-stale-keys"),
            "stale_users": card("total-stale-users"),
            "accounts_with_stale": card("total-accounts-with-stale"),
            "accounts_not_reporting": card("total-not-reporting"),
            "oldest_days": card("total-oldest-days"),
            "by_reason": {r: card(f"total-{r}") for r in REASONS},
            "next_steps": {s: card(f"steps-{s}") for s in STEPS},
        },
        "accounts": _accounts(page),
        "not_reporting": {r.attrs["data-account"] for r in rows_of(page, "not-reporting-table")},
        "drilldown": _drilldown(page),
        "age_buckets": {r.find("th").text(): _int(r.find("td").text())
                        for r in rows_of(page, "ages-table")},
        "runs": {r.find("th").text(): _int(r.find("td", data_field="stale_keys").text())
                 for r in rows_of(page, "runs-table")},
        "acted": acted,
        "keys_listed": len(rows_of(page, "keys-table")),
    }  # fmt: skip


def numbers_in_json(overview: dict) -> dict:
    """The same figures, from the JSON."""
    fields = ("stale_keys", "stale_users", "by_reason", "oldest_days")
    totals = overview["totals"]
    outcomes = {
        (p["policy"], p["action"]): {k: v for k, v in p.items() if k not in ("policy", "action")}
        for p in overview["remediation"]["outcomes_by_policy"]
    }
    silent = {a["account_id"] for a in overview["accounts"] if not a["reporting"]}
    return {
        "outcomes": outcomes,
        "totals": {
            f: totals[f]
            for f in ("stale_keys", "stale_users", "accounts_with_stale",
                      "accounts_not_reporting", "oldest_days", "by_reason", "next_steps")
        },
        "accounts": {a["account_id"]: {f: a[f] for f in fields} for a in overview["accounts"]},
        "not_reporting": silent | {a["account_id"] for a in overview["accounts_without_runs"]},
        "drilldown": {a["account_id"]: len(a["keys"]) for a in overview["accounts"]},
        "age_buckets": overview["age_buckets"],
        "runs": {r["date"]: r["stale_keys"] for r in overview["runs"]},
        "acted": {
            (p["policy"], p["action"]): p["keys"] for p in overview["remediation"]["by_policy"]
        },
        "keys_listed": len(overview["keys"]),
    }  # fmt: skip


# Where text may stand: every other element holds only elements (a table's rows, a list's
# items, a chart's shapes...).
TEXT_IN = {
    "p", "li", "td", "th", "dt", "dd", "h1", "h2", "h3", "summary", "label", "output",
    "figcaption", "caption", "small", "strong", "code", "a", "span", "title", "desc", "text",
    "button", "style", "script", "br",
}  # fmt: skip
ATTRIBUTES = {
    "lang", "charset", "name", "content", "class", "href", "id", "aria-labelledby", "scope",
    "data-account", "data-field", "data-sort", "data-value", "hidden", "for", "type",
    "autocomplete", "placeholder", "aria-live", "aria-label", "role", "viewbox", "x", "y",
    "x1", "x2", "y1", "y2", "width", "height", "fill", "points", "cx", "cy", "r",
    "text-anchor", "transform", "colspan",
}  # fmt: skip
# Every class the page uses is one its style sheet or its script reads.
CLASSES = {
    "account", "alert", "axis", "bar", "cards", "charts", "date", "finder", "grid", "id",
    "late", "lead", "line", "name", "note", "num", "point", "skip", "step", "sub", "up",
    "wide",
}  # fmt: skip


class _Structure(HTMLParser):
    """Every element the page opens it closes, in order; markup in lower case; text only
    where text stands; only the attributes and classes the page means."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        said = self.get_starttag_text()
        if said[1:].split()[0].rstrip(">/") != tag:
            self.problems.append(f"{said[:30]!r}: not in lower case")
        for name, value in attrs:
            if name not in ATTRIBUTES or value in ("None", "") and name != "hidden":
                self.problems.append(f"<{tag}> {name}={value!r}")
        for token in dict(attrs).get("class", "").split():
            if token not in CLASSES:
                self.problems.append(f"<{tag}> class {token!r}: no style reads it")
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.open[-1] if self.open else None}>")
        else:
            self.open.pop()

    def handle_data(self, data):
        where = self.open[-1] if self.open else None
        if data.strip() and where not in TEXT_IN:
            self.problems.append(f"text {data.strip()[:40]!r} loose in <{where}>")


def structure_problems(html: str) -> list[str]:
    """What is wrong with the page's markup; the end tags' case is read from the source."""
    checker = _Structure()
    checker.feed(html)
    checker.close()
    problems = checker.problems + [f"<{tag}> never closed" for tag in checker.open]
    return problems + [
        f"{tag!r}: not in lower case" for tag in re.findall(r"</[^>]*[A-Z][^>]*>", html)
    ]
