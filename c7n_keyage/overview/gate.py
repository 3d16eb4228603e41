"""``--fail-on``: conditions a pipeline gates on, read from the overview's numbers. Pure.

- ``stale``: any stale key;
- ``stale-older-than=N``: any stale key more than N days old (since last use, or since
  creation when never used);
- ``not-reporting``: any account not reporting (its latest run more than ``--grace-days``
  before the fleet's latest date, or in the accounts file with no run at all);
- ``unreadable``: any run skipped as unreadable, or that failed before writing resources.

The report is written either way; a condition met makes the exit status ``GATE_FAILED``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

GATE_FAILED = 3
NAMES = ("stale", "stale-older-than=N", "not-reporting", "unreadable")


@dataclass(frozen=True)
class Condition:
    name: str
    days: int | None = None

    def __str__(self) -> str:
        return self.name if self.days is None else f"{self.name}={self.days}"


def parse(value: str) -> Condition:
    """An argparse type: a condition, or a usage error naming the ones there are."""
    name, _, days = value.partition("=")
    if name == "stale-older-than" and days.isdigit():
        return Condition(name, int(days))
    if not days and name in ("stale", "not-reporting", "unreadable"):
        return Condition(name)
    raise argparse.ArgumentTypeError(f"{value!r}: not one of {', '.join(NAMES)}")


def met(condition: Condition, overview: dict) -> str | None:
    """What the overview shows that meets the condition; None when it does not."""
    totals = overview["totals"]
    if condition.name == "stale" and totals["stale_keys"]:
        return f"{totals['stale_keys']:,} stale keys"
    # With no stale key the oldest is 0 days, and N is 0 or more: never met.
    if condition.name == "stale-older-than" and totals["oldest_days"] > condition.days:
        older = sum(1 for a in overview["accounts"] if a["oldest_days"] > condition.days)
        return f"stale keys older than {condition.days} days in {older:,} accounts"
    if condition.name == "not-reporting" and totals["accounts_not_reporting"]:
        return f"{totals['accounts_not_reporting']:,} accounts not reporting"
    skipped = overview.get("inputs", {}).get("skipped", {})
    bad = skipped.get("unreadable", 0) + skipped.get("failed", 0)
    if condition.name == "unreadable" and bad:
        return f"{bad:,} runs unreadable or failed"
    return None


def failures(conditions: list[Condition], overview: dict) -> list[str]:
    return [f"--fail-on {c}: {found}" for c in conditions if (found := met(c, overview))]
