"""``--csv``: every key that needs a step, one row each, for spreadsheets: each stale key
of each account (not only the oldest the page lists), then each retired key.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed
with ``'``: names come from the inputs, and a spreadsheet would run such a cell as a
formula (OWASP's CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from c7n_keyage.overview.aggregate import Options, account_name, key_row, oldest_first
from c7n_keyage.overview.fleet import Fleet

COLUMNS = (
    "state", "account_id", "account_name", "reporting", "last_run", "user", "owner", "team",
    "access_key_id", "slot", "age_days", "reasons", "last_used_date", "last_used_service",
    "last_used_region", "last_rotated", "retired_at", "policy", "run_date", "next_step", "due",
)  # fmt: skip
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = " ".join(value)
    value = str(value)
    return "'" + value if value.startswith(FORMULA) else value


def rows(fleet: Fleet, overview: dict, options: Options) -> Iterator[dict]:
    accounts = {a["account_id"]: a for a in overview["accounts"]}
    for account in (a["account_id"] for a in overview["accounts"]):
        seen = {"reporting": accounts[account]["reporting"]}
        seen["last_run"] = accounts[account]["last_run"]
        name = account_name(fleet, options, account)
        for held in sorted(fleet.state(account), key=oldest_first):
            yield {"state": "stale", **seen, **key_row(held, name)}
        for retired in accounts[account]["retired_keys"]:
            yield {"state": "retired", **seen, **retired}


def to_csv(fleet: Fleet, overview: dict, options: Options) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows(fleet, overview, options):
        writer.writerow([cell(row.get(c)) for c in COLUMNS])
    return out.getvalue()
