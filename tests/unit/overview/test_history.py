"""``--history FILE``: day by day, the report adds each day's runs to the fleet it keeps in
FILE, and says the same as one report over every day; a late run updates the current
figures and the latest point only; a file it cannot read is refused, never guessed at."""

from __future__ import annotations

import errno
import json
import os
from datetime import timedelta
from pathlib import Path

import pytest

from c7n_keyage.overview import history
from c7n_keyage.overview.aggregate import overview
from c7n_keyage.overview.cli import main
from c7n_keyage.overview.inputs import read_inputs
from tests.support.fleet import (
    DEMO_DATES,
    demo_fleet,
    entry,
    fleet_outputs,
    fold,
    runs_of,
    write_fleet,
    write_hand_run,
)

CREATED = "2025-01-01T00:00:00+00:00"


def report(capsys, *args: str) -> dict:
    code = main(["report", *args, "--json", "-"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    return json.loads(printed.out)


def figures(found: dict) -> dict:
    return {k: v for k, v in found.items() if k != "inputs"}


@pytest.fixture(scope="module")
def days(tmp_path_factory):
    root = tmp_path_factory.mktemp("days")
    write_fleet(root, demo_fleet(), DEMO_DATES, other_policy=True)
    return root


def test_day_by_day_into_a_history_says_what_one_report_over_all_days_says(days, tmp_path, capsys):
    whole = report(capsys, str(days))
    kept = str(tmp_path / "history.json")
    for started in DEMO_DATES:
        daily = report(capsys, str(days / started.date().isoformat()), "--history", kept)
        assert daily["inputs"]["history"]["added"] == daily["inputs"]["runs_read"]
    assert figures(daily) == figures(whole)
    assert daily["inputs"]["history"]["runs"] == whole["inputs"]["runs_read"]
    # No input: the page again, from the history alone.
    assert figures(report(capsys, "--history", kept)) == figures(whole)


def test_the_same_day_twice_changes_nothing_but_the_count_of_runs_read_twice(
    days, tmp_path, capsys
):
    kept = str(tmp_path / "history.json")
    day = str(days / DEMO_DATES[-1].date().isoformat())
    first = report(capsys, day, "--history", kept)
    again = report(capsys, day, "--history", kept)
    assert again["superseded_runs"] == first["superseded_runs"] + first["inputs"]["runs_read"]
    assert {**figures(again), "superseded_runs": 0} == {**figures(first), "superseded_runs": 0}


def test_a_late_run_updates_the_latest_point_and_leaves_earlier_ones(tmp_path, capsys):
    runs, kept = tmp_path / "runs", str(tmp_path / "history.json")
    day = [DEMO_DATES[0] + timedelta(days=d) for d in range(3)]
    write_hand_run(runs / "1", "111111111111", "p", day[0], {"a": [entry(1, CREATED)]})
    write_hand_run(runs / "1", "222222222222", "p", day[0], {"b": [entry(1, CREATED)]})
    write_hand_run(runs / "3", "111111111111", "p", day[2], {"a": [entry(1, CREATED)]})
    report(capsys, str(runs / "1"), "--history", kept)
    before = report(capsys, str(runs / "3"), "--history", kept)
    assert [p["stale_keys"] for p in before["runs"]] == [2, 2]
    late = {"b": [entry(1, CREATED)], "c": [entry(1, CREATED), entry(2, CREATED)]}
    write_hand_run(runs / "2", "222222222222", "p", day[1], late)
    after = report(capsys, str(runs / "2"), "--history", kept)
    assert [p["stale_keys"] for p in after["runs"]] == [2, 4]
    assert after["totals"]["stale_keys"] == 4
    silent = next(a for a in after["accounts"] if a["account_id"] == "222222222222")
    assert (silent["last_run"], silent["days_since_last_run"]) == (day[1].date().isoformat(), 1)


@pytest.mark.parametrize(
    "content, says",
    [
        (b"{not json", "JSONDecodeError"),
        (b'{"schema": "c7n-keyage-history/0"}', "schema 'c7n-keyage-history/0', not"),
        (b"[]", "schema None, not"),
        (b'{"schema": "c7n-keyage-history/1", "runs": 7}', "KeyError"),
    ],
)
def test_a_history_it_cannot_read_is_refused_and_left_as_it_is(
    days, tmp_path, capsys, content, says
):
    kept = tmp_path / "history.json"
    kept.write_bytes(content)
    assert main(["report", str(days), "--history", str(kept), "--html", "o.html"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"c7n-keyage: error: {kept}: cannot read the history (")
    assert says in err and "delete it to rebuild it from all the outputs" in err
    assert kept.read_bytes() == content


def test_a_history_that_cannot_be_written_is_an_error(days, tmp_path, capsys):
    kept = tmp_path / "no" / "such" / "history.json"
    assert main(["report", str(days), "--history", str(kept)]) == 1
    assert capsys.readouterr().err.startswith(
        f"c7n-keyage: error: {kept}: cannot write the history (No such file or directory)"
    )
    assert not list(tmp_path.glob("no/such/*"))


def test_the_history_reads_back_as_the_fleet_it_saved():
    fleet = fold(runs_of(fleet_outputs(demo_fleet(), DEMO_DATES, other_policy=True)))
    saved = json.loads(json.dumps(history.to_dict(fleet)))
    assert overview(history.from_dict(saved)) == overview(fleet)
    assert json.loads(json.dumps(history.to_dict(history.from_dict(saved)))) == saved


@pytest.fixture
def one_day():
    return fold(runs_of(fleet_outputs(demo_fleet(), DEMO_DATES[:1])))


@pytest.fixture
def previous(tmp_path) -> Path:
    path = tmp_path / "history.json"
    path.write_text("the previous history")
    return path


def test_a_history_is_replaced_whole_from_a_file_beside_it(one_day, previous, monkeypatch):
    moved, replace = [], os.replace

    def recorded(source, target):
        moved.append((Path(source), Path(target)))
        replace(source, target)

    monkeypatch.setattr(os, "replace", recorded)
    history.save(one_day, previous)
    [(source, target)] = moved  # one rename, on the same file system: never half a file
    assert (target, source.parent) == (previous, previous.parent)
    assert source.name.startswith(".history.json.") and source.name.endswith(".tmp")
    text = previous.read_text(encoding="utf-8")
    assert json.dumps(json.loads(text), separators=(",", ":")) == text  # compact
    assert [p.name for p in previous.parent.iterdir()] == ["history.json"]


@pytest.mark.parametrize("cleanup_fails", [False, True], ids=["cleaned", "cleanup-fails"])
def test_a_history_that_fails_as_it_is_written_leaves_the_previous_one(
    one_day, previous, monkeypatch, cleanup_fails
):
    def full(*paths):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    if cleanup_fails:
        monkeypatch.setattr(os, "unlink", full)
    with pytest.raises(history.HistoryError) as raised:
        history.save(one_day, previous)
    assert str(raised.value) == f"{previous}: cannot write the history (No space left on device)"
    assert previous.read_text() == "the previous history"
    left = sorted(p.name for p in previous.parent.iterdir())
    assert left[-1] == "history.json" and len(left) == 1 + cleanup_fails


def test_a_history_keeps_each_runs_results_and_whether_it_notified(tmp_path):
    """A retire run whose results say one key failed leaves that key stale, and a key a
    notify policy flagged is next retired: read back from the history, as when first read."""
    runs, a, b = tmp_path / "runs", "AKIAEXAMPLE000000001", "AKIAEXAMPLE000000002"
    told = {"told": [entry(1, CREATED, key_id="AKIAEXAMPLE000000009")]}
    notify = [{"type": "notify", "to": ["resource-owner"], "transport": {"type": "sqs"}}]
    write_hand_run(runs, "111111111111", "notify-75", DEMO_DATES[0], told, actions=notify)
    flagged = {"a": [entry(1, CREATED, key_id=a)], "b": [entry(1, CREATED, key_id=b)]}
    said = [
        {"UserName": "a", "AccessKeyId": a, "outcome": "retired"},
        {"UserName": "b", "AccessKeyId": b, "outcome": "failed"},
    ]
    write_hand_run(runs, "111111111111", "retire-90", DEMO_DATES[0] + timedelta(hours=1),
                   flagged, actions=[{"type": "retire-keys"}],
                   results={"action-retirekeys": said})  # fmt: skip
    found, _ = read_inputs([str(runs)], warn=pytest.fail)
    fleet = fold(found)
    back = overview(history.from_dict(json.loads(json.dumps(history.to_dict(fleet)))))
    assert back == overview(fleet)
    assert {k["user"]: k["next_step"] for k in back["keys"]} == {"told": "retire", "b": "notify"}
