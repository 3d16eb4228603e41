"""The bad-report corpus: ``tests/data/bad_reports/<case>.csv`` and ``cases.json``.

``cases.json`` states per case, at a fixed ``now``, every key the rule must flag and every
problem the parser must report, per row (``[user, column]``) and for the whole report.
"""

from __future__ import annotations

import json
from datetime import datetime

from tests.support.paths import DATA

CORPUS = DATA / "bad_reports"
SPEC = json.loads((CORPUS / "cases.json").read_text())
NOW = datetime.fromisoformat(SPEC["now"])
CASES = {case["name"]: case for case in SPEC["cases"]}


def content(case: dict, mode: str) -> str | bytes:
    data = (CORPUS / f"{case['name']}.csv").read_bytes()
    # Decoded as plain UTF-8, a BOM stays in the text, as a str report would carry it.
    return data if mode == "bytes" else data.decode("utf-8")


def unmatched(problems: list[str], expected: list[list]) -> tuple[list, list]:
    """Pair each expected [user, column] with a distinct problem naming both."""
    left = list(problems)
    missing = []
    # Whole-row expectations (column None) last, so they do not take a column's problem.
    for user, column in sorted(expected, key=lambda e: e[1] is None):
        found = next(
            (p for p in left if p.startswith(f"user {user}:") and (column is None or column in p)),
            None,
        )
        if found is None:
            missing.append([user, column])
        else:
            left.remove(found)
    return missing, left
