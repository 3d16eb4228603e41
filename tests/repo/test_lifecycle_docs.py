"""What the lifecycle's documents promise is what the code does.

- A key re-enabled and disabled again between two lifecycle runs, without a use, cannot be
  told from one that stayed retired (``tests/e2e/lifecycle/test_promises.py`` shows it
  deleted on its original schedule): the documents say so, and never that a key
  re-enabled by hand is never deleted.
- The record each document shows is one the code writes and reads back, whole.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from c7n_keyage.lifecycle.record import TAG_PREFIX, format_record, parse_records
from tests.support.paths import REPO

DOCS = ["docs/lifecycle.md", "docs/incident-runbook.md"]
# | `c7n-keyage:retired:<key>` | `<value>` |: a record in a document's table.
ROW = re.compile(r"^\| `(" + re.escape(TAG_PREFIX) + r"\w+)` \| `([^`]+)` \|$", re.M)


def text(path: str) -> str:
    return " ".join((REPO / path).read_text().split())


@pytest.mark.parametrize("path", DOCS)
def test_the_documents_say_what_holds_for_keys_re_enabled_by_hand(path):
    found = text(path)
    assert "that key is never deleted" not in found
    assert "such a key is never deleted" not in found
    assert "disabled again before the next lifecycle run" in found


@pytest.mark.parametrize("path", DOCS)
def test_the_record_shown_is_one_the_code_writes(path):
    ((key, value),) = ROW.findall((REPO / path).read_text())
    (record,), problems = parse_records([{"Key": key, "Value": value}], datetime.now(timezone.utc))
    assert problems == [] and record.seen is not None
    assert format_record(record.key_id, record.retired_at, record.policy, record.seen) == (
        key,
        value,
    )
