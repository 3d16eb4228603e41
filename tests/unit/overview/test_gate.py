"""``--fail-on``: each condition, met and not met, and the exit code a pipeline gates on
(3, with every file written)."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta, timezone

import pytest

from c7n_keyage.overview import gate
from c7n_keyage.overview.cli import main
from tests.support.fleet import entry, write_hand_run

DAY = datetime(2026, 11, 2, 6, tzinfo=timezone.utc)
CREATED = "2025-01-01T00:00:00+00:00"


def found(stale=0, oldest=0, silent=0, unreadable=0, failed=0) -> dict:
    accounts = [{"oldest_days": oldest}] if stale else []
    return {
        "totals": {"stale_keys": stale, "oldest_days": oldest, "accounts_not_reporting": silent},
        "accounts": accounts,
        "inputs": {"skipped": {"unreadable": unreadable, "failed": failed}},
    }


@pytest.mark.parametrize(
    "text, condition",
    [
        ("stale", gate.Condition("stale")),
        ("not-reporting", gate.Condition("not-reporting")),
        ("unreadable", gate.Condition("unreadable")),
        ("stale-older-than=0", gate.Condition("stale-older-than", 0)),
        ("stale-older-than=365", gate.Condition("stale-older-than", 365)),
    ],
)
def test_conditions_are_read_and_said_back(text, condition):
    assert gate.parse(text) == condition and str(condition) == text


@pytest.mark.parametrize(
    "text", ["stale=3", "stale-older-than", "stale-older-than=-1", "stale-older-than=1d", "all"]
)
def test_anything_else_is_a_usage_error_naming_the_conditions(text):
    with pytest.raises(argparse.ArgumentTypeError) as raised:
        gate.parse(text)
    assert str(raised.value) == (
        f"{text!r}: not one of stale, stale-older-than=N, not-reporting, unreadable"
    )


@pytest.mark.parametrize(
    "condition, overview, says",
    [
        ("stale", found(), None),
        ("stale", found(stale=2, oldest=100), "--fail-on stale: 2 stale keys"),
        ("stale-older-than=100", found(stale=2, oldest=100), None),
        ("stale-older-than=99", found(stale=2, oldest=100),
         "--fail-on stale-older-than=99: stale keys older than 99 days in 1 accounts"),
        ("stale-older-than=0", found(), None),
        ("not-reporting", found(), None),
        ("not-reporting", found(silent=3), "--fail-on not-reporting: 3 accounts not reporting"),
        ("unreadable", found(), None),
        ("unreadable", found(unreadable=1, failed=1),
         "--fail-on unreadable: 2 runs unreadable or failed"),
        ("unreadable", found(failed=1), "--fail-on unreadable: 1 runs unreadable or failed"),
    ],
)  # fmt: skip
def test_each_condition_is_met_only_when_the_overview_shows_it(condition, overview, says):
    assert gate.failures([gate.parse(condition)], overview) == ([says] if says else [])


def test_stale_older_than_counts_the_accounts_past_it_and_needs_no_inputs():
    overview = found(stale=3, oldest=200)
    overview["accounts"] = [{"oldest_days": d} for d in (200, 100, 101, 0)]
    del overview["inputs"]
    assert gate.failures([gate.parse("stale-older-than=100")], overview) == [
        "--fail-on stale-older-than=100: stale keys older than 100 days in 2 accounts"
    ]
    assert gate.failures([gate.parse("unreadable")], overview) == []
    overview["inputs"] = {}
    assert gate.failures([gate.parse("unreadable")], overview) == []


def test_a_condition_met_exits_3_with_every_file_written(tmp_path, capsys):
    runs = tmp_path / "runs"
    write_hand_run(runs, "111111111111", "p", DAY, {"alice": [entry(1, CREATED, age=400)]})
    write_hand_run(runs, "222222222222", "p", DAY - timedelta(days=2), {})
    out = tmp_path / "o.json"
    conditions = ["--fail-on", "stale-older-than=365", "--fail-on", "not-reporting"]
    assert main(["report", str(runs), "--json", str(out), *conditions]) == 3
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "c7n-keyage: --fail-on stale-older-than=365: stale keys older than 365 days in 1 accounts",
        "c7n-keyage: --fail-on not-reporting: 1 accounts not reporting",
    ]
    assert json.loads(out.read_text())["totals"]["stale_keys"] == 1
    assert main(["report", str(runs), "--fail-on", "stale-older-than=400"]) == 3 - 3
    assert main(["report", str(runs), "--grace-days", "2", "--fail-on", "not-reporting"]) == 0
