"""``--csv``: every key that needs a step, one row each (not only those the page lists),
its next step, and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

from c7n_keyage.overview.aggregate import Options, overview
from c7n_keyage.overview.runs import RetiredKey, Run, StaleKey
from c7n_keyage.overview.spreadsheet import COLUMNS, safe, to_csv
from tests.support.fleet import fold

DAY = datetime(2026, 11, 2, 6, tzinfo=timezone.utc)


def key(user: str, age: int, **kw) -> StaleKey:
    fields = dict(
        user=user, access_key_id=None, slot=1, last_rotated="2025-01-01T00:00:00+00:00",
        created=1735689600, last_used_date=None, last_used_service=None,
        last_used_region=None, reasons=("never-used",), age_days=age,
    )  # fmt: skip
    return StaleKey(**(fields | kw))


def rows(runs: list[Run], **options) -> list[dict]:
    fleet = fold(runs)
    chosen = Options(**options)
    text = to_csv(fleet, overview(fleet, chosen), chosen)
    assert text.splitlines()[0] == ",".join(COLUMNS)
    return list(csv.DictReader(io.StringIO(text)))


def test_every_stale_key_and_every_retired_key_to_act_on():
    keys = [key(f"u{n}", 100 + n) for n in range(15)]
    retired = (
        RetiredKey("old", "AKIAEXAMPLE000000001", "2026-10-01T00:00:00Z", "retire", "Inactive",
                   False, "2026-10-31T00:00:00Z"),
        RetiredKey("back", "AKIAEXAMPLE000000002", "2026-10-01T00:00:00Z", "retire", "Active",
                   True),
    )  # fmt: skip
    run = Run("w", "111111111111", "dev", "p", DAY, None, tuple(keys), retired)
    found = rows([run, Run("w2", "222222222222", None, "p", DAY - timedelta(days=3), None, ())],
                 per_account=5)  # fmt: skip
    stale = [r for r in found if r["state"] == "stale"]
    assert [r["user"] for r in stale] == [f"u{n}" for n in range(14, -1, -1)]
    assert {(r["next_step"], r["account_name"], r["reporting"]) for r in stale} == {
        ("notify", "dev", "True")
    }
    (old,) = [r for r in found if r["state"] == "retired"]
    assert (old["user"], old["next_step"], old["due"], old["retired_at"]) == (
        "old", "delete", "2026-10-31", "2026-10-01T00:00:00Z")  # fmt: skip
    assert (old["reporting"], old["last_run"], old["account_name"]) == ("True", "2026-11-02", "dev")
    silent = [r for r in found if r["account_id"] == "222222222222"]
    assert silent == []  # no key to act on: no row


def test_a_told_key_is_to_retire_its_reasons_are_words_and_lines_end_in_newlines():
    told = key("told", 300, reasons=("unused", "unrotated"))
    fleet = fold([Run("w", "1", None, "p", DAY, None, (told,), notifies=True)])
    text = to_csv(fleet, overview(fleet), Options())
    assert "\r" not in text and text.endswith("\n")
    (row,) = csv.DictReader(io.StringIO(text))
    assert (row["next_step"], row["reasons"], row["age_days"]) == (
        "retire",
        "unused unrotated",
        "300",
    )


def test_cells_that_would_be_formulas_are_quoted():
    texts = [COLUMNS.index(c) for c in ("user", "owner", "policy", "retired_at")]
    for value in ("=HYPERLINK(1)", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        row = [value] * len(COLUMNS)
        quoted = safe(list(row))
        assert all(quoted[i] == "'" + value for i in texts)
        assert quoted[COLUMNS.index("age_days")] == value  # the report's own: never quoted
    assert safe([None, "", 7, "a=b"] + [None] * (len(COLUMNS) - 4))[:4] == [None, "", 7, "a=b"]
    found = rows([Run("w", "1", None, "p", DAY, None, (key("=cmd|' /C calc'!A0", 100),))])
    assert found[0]["user"] == "'=cmd|' /C calc'!A0"
