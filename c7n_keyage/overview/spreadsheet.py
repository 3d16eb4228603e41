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

from c7n_keyage.overview import steps
from c7n_keyage.overview.aggregate import Options, account_name, oldest_first
from c7n_keyage.overview.fleet import Fleet
from c7n_keyage.overview.identity import Held

COLUMNS = (
    "state", "account_id", "account_name", "reporting", "last_run", "user", "owner", "team",
    "access_key_id", "slot", "age_days", "reasons", "last_used_date", "last_used_service",
    "last_used_region", "last_rotated", "retired_at", "policy", "run_date", "next_step", "due",
)  # fmt: skip
FORMULA = frozenset("=+-@\t\r")
# The columns whose strings come from the inputs (the others are numbers, dates and names
# the report gives).
TEXT_COLUMNS = tuple(
    COLUMNS.index(c)
    for c in ("account_id", "account_name", "user", "owner", "team", "access_key_id",
              "last_used_date", "last_used_service", "last_used_region", "last_rotated",
              "retired_at", "policy")
)  # fmt: skip


def safe(row: list) -> list:
    """The row with each string a spreadsheet would run as a formula quoted (None is written
    empty by the csv module). In place: it runs for every cell of every key."""
    for i in TEXT_COLUMNS:
        value = row[i]
        if value.__class__ is str and value[:1] in FORMULA:
            row[i] = "'" + value
    return row


def _stale_row(held: Held, account: dict, name: str | None) -> list:
    key, run = held.key, held.run
    step, due = steps.stale_step(held.notified)
    return [
        "stale", run.account_id, name, account["reporting"], account["last_run"], key.user,
        key.owner, key.team, key.access_key_id, key.slot, key.age_days, " ".join(key.reasons),
        key.last_used_date, key.last_used_service, key.last_used_region, key.last_rotated,
        None, run.policy, run.date.isoformat(), step, due,
    ]  # fmt: skip


def _retired_row(row: dict, account: dict) -> list:
    found = {"state": "retired", "reporting": account["reporting"], **row}
    found["last_run"] = account["last_run"]
    return [found.get(column) for column in COLUMNS]


def rows(fleet: Fleet, overview: dict, options: Options) -> Iterator[list]:
    """Each account's stale keys, oldest first, then its retired keys needing a step, in
    the order of the accounts table."""
    for account in overview["accounts"]:
        name = account_name(fleet, options, account["account_id"])
        for held in sorted(fleet.state(account["account_id"]), key=oldest_first):
            yield _stale_row(held, account, name)
        for retired in account["retired_keys"]:
            yield _retired_row(retired, account)


def to_csv(fleet: Fleet, overview: dict, options: Options) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows(fleet, overview, options):
        writer.writerow(safe(row))
    return out.getvalue()
