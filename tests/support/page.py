"""Read the report's page back as a person would see it: the numbers in its cells.

A small DOM (the standard library's HTMLParser) for the HTML as written and as Chromium
serialises it after loading (``--dump-dom``), and the figures the page shows, in the same
shape as the ones taken from the JSON, so a test compares the two whole.
"""

from __future__ import annotations

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


def numbers_on_page(html: str) -> dict:
    """The figures a reader sees: totals, each account's row, the age and run tables, and
    the remediation tables."""
    page = parse(html)

    def card(card_id: str) -> int:
        return _int(page.find("dd", id=card_id).text())

    def table_rows(table_id: str) -> list[Node]:
        # Without a row header, the row is the empty table's "None.".
        rows = page.find("table", id=table_id).find("tbody").iter("tr")
        return [row for row in rows if row.find("th") is not None]

    accounts = {}
    for row in table_rows("accounts-table"):
        cells = {td.attrs.get("data-field"): td.text() for td in row.find_all("td")}
        accounts[row.attrs["data-account"]] = {
            "stale_keys": _int(cells["stale_keys"]),
            "stale_users": _int(cells["stale_users"]),
            "by_reason": {r: _int(cells[r]) for r in ("unused", "never-used", "unrotated")},
            "oldest_days": _int(cells["oldest_days"]),
        }
    ages = {row.find("th").text(): _int(row.find("td").text()) for row in table_rows("ages-table")}
    runs = {
        row.find("th").text(): _int(row.find("td", data_field="stale_keys").text())
        for row in table_rows("runs-table")
    }
    acted = {
        (row.find("th").text(), next(row.find_all("td")).text()): _int(
            row.find("td", data_field="keys").text()
        )
        for row in table_rows("actions-table")
    }
    outcomes = {
        (row.find("th").text(), next(row.find_all("td")).text()): {
            td.attrs["data-field"]: _int(td.text())
            for td in row.find_all("td")
            if td.attrs.get("data-field")
        }
        for row in table_rows("outcomes-table")
    }
    return {
        "outcomes": outcomes,
        "totals": {
            "stale_keys": card("total-stale-keys"),
            "stale_users": card("total-stale-users"),
            "accounts_with_stale": card("total-accounts-with-stale"),
            "oldest_days": card("total-oldest-days"),
            "by_reason": {r: card(f"total-{r}") for r in ("unused", "never-used", "unrotated")},
        },
        "accounts": accounts,
        "age_buckets": ages,
        "runs": runs,
        "acted": acted,
        "keys_listed": len(table_rows("keys-table")),
    }


def numbers_in_json(overview: dict) -> dict:
    """The same figures, from the JSON."""
    fields = ("stale_keys", "stale_users", "by_reason", "oldest_days")
    totals = overview["totals"]
    outcomes = {
        (p["policy"], p["action"]): {k: v for k, v in p.items() if k not in ("policy", "action")}
        for p in overview["remediation"]["outcomes_by_policy"]
    }
    return {
        "outcomes": outcomes,
        "totals": {
            "stale_keys": totals["stale_keys"],
            "stale_users": totals["stale_users"],
            "accounts_with_stale": totals["accounts_with_stale"],
            "oldest_days": totals["oldest_days"],
            "by_reason": totals["by_reason"],
        },
        "accounts": {a["account_id"]: {f: a[f] for f in fields} for a in overview["accounts"]},
        "age_buckets": overview["age_buckets"],
        "runs": {r["date"]: r["stale_keys"] for r in overview["runs"]},
        "acted": {
            (p["policy"], p["action"]): p["keys"] for p in overview["remediation"]["by_policy"]
        },
        "keys_listed": len(overview["keys"]),
    }
