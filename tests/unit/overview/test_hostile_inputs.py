"""Any input, never a traceback: valid JSON of the wrong types or out of range, and files
made to hurt (deep nesting, a gzip bomb, a folder name that is not UTF-8). Each bad run is
named, skipped and counted; the good runs beside it are still reported; memory stays
bounded. An input with no run at all is an error, not an all-clear page."""

from __future__ import annotations

import gzip
import json
import os
import tracemalloc
from datetime import datetime, timezone

import pytest

from c7n_keyage.overview.cli import main
from tests.support.fleet import entry, write_hand_run
from tests.support.hostile import deep_json, gzip_bomb

START = datetime(2026, 11, 2, 6, tzinfo=timezone.utc)
CREATED = "2025-01-01T00:00:00+00:00"


@pytest.fixture
def runs(tmp_path):
    """A good run, beside which each test puts a bad one."""
    root = tmp_path / "runs"
    write_hand_run(root, "111111111111", "good", START, {"alice": [entry(1, CREATED)]})
    return root


def bad_run(runs, name="bad"):
    return write_hand_run(runs, "222222222222", name, START, {"bob": [entry(1, CREATED)]})


def report(runs, tmp_path, capsys, *options) -> tuple[int, dict | None, str]:
    out = tmp_path / "o.json"
    code = main(["report", str(runs), "--json", str(out), *options])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, json.loads(out.read_text()) if out.exists() else None, err


def only_the_good_run_counts(overview: dict, says: str) -> None:
    assert overview["totals"]["stale_keys"] == 1
    (unreadable,) = overview["inputs"]["unreadable"]
    assert says in unreadable, unreadable
    assert overview["inputs"]["skipped"]["unreadable"] == 1


def edit_metadata(run_dir, change) -> None:
    path = run_dir / "metadata.json"
    metadata = json.loads(path.read_text())
    change(metadata)
    path.write_text(json.dumps(metadata))


@pytest.mark.parametrize(
    "change, says",
    [
        (lambda m: m["execution"].update(start=m["execution"]["start"] * 1000),
         "metadata.json: execution.start"),
        (lambda m: m["execution"].update(start=-62135596800), "metadata.json: execution.start"),
        (lambda m: m["policy"].update(actions={"type": "remove-keys"}),
         "metadata.json: policy.actions is not a list"),
        (lambda m: m["policy"].update(actions=7), "metadata.json: policy.actions is not a list"),
        (lambda m: m["policy"].update(filters="access-key-unused"),
         "metadata.json: policy.filters is not a list"),
        (lambda m: m.update(config=["us-east-1"]), "metadata.json: config is not an object"),
    ],
)  # fmt: skip
def test_wrong_types_and_out_of_range_values_are_named_and_skipped(
    runs, tmp_path, capsys, change, says
):
    edit_metadata(bad_run(runs), change)
    code, overview, err = report(runs, tmp_path, capsys)
    assert code == 0
    only_the_good_run_counts(overview, says)
    assert says in err


@pytest.mark.parametrize(
    "field, value",
    [
        ("last_rotated", "0001-01-01T00:00:00Z"),
        ("last_rotated", "9999-12-31T00:00:00Z"),
        ("days_since_rotation", 10**9),
        ("days_since_rotation", -3),
        ("days_since_rotation", 12.5),
    ],
)
def test_an_entry_out_of_range_is_a_warning_naming_user_and_field(
    runs, tmp_path, capsys, field, value
):
    bad = dict(entry(1, CREATED), **{field: value})
    if field.startswith("days"):
        bad["last_rotated"] = None
    else:
        bad["days_since_rotation"] = None
    write_hand_run(runs, "222222222222", "odd", START, {"bob": [bad]})
    code, overview, err = report(runs, tmp_path, capsys)
    assert code == 0 and overview["totals"]["stale_keys"] == 1
    assert "user bob: c7n:unused-keys entry" in err
    assert overview["inputs"]["skipped"]["unreadable"] == 0


def test_json_nested_100000_deep_is_named_and_skipped(runs, tmp_path, capsys):
    (bad_run(runs) / "resources.json").write_bytes(deep_json(100_000))
    code, overview, err = report(runs, tmp_path, capsys)
    assert code == 0
    only_the_good_run_counts(overview, "resources.json: nested too deep")


def test_a_gzip_bomb_is_refused_with_memory_bounded(runs, tmp_path, capsys):
    run_dir = bad_run(runs)
    (run_dir / "resources.json").unlink()
    (run_dir / "resources.json.gz").write_bytes(gzip_bomb(1024))  # 1 MB, 1 GiB expanded
    tracemalloc.start()
    try:
        code, overview, err = report(runs, tmp_path, capsys)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert code == 0
    only_the_good_run_counts(overview, "resources.json.gz: expands to more than 50 MB")
    assert peak < 250 * 2**20, f"peak {peak / 2**20:.0f} MiB"


def test_a_file_over_the_cap_is_refused_and_the_cap_is_an_option(runs, tmp_path, capsys):
    run_dir = bad_run(runs)
    resources = json.loads((run_dir / "resources.json").read_text())
    (run_dir / "resources.json").write_text(json.dumps(resources * 20_000))  # about 30 MB
    code, overview, _ = report(runs, tmp_path, capsys, "--max-file-mb", "1")
    assert code == 0
    only_the_good_run_counts(overview, "resources.json: larger than 1 MB")
    code, overview, _ = report(runs, tmp_path, capsys)
    assert (code, overview["inputs"]["skipped"]["unreadable"]) == (0, 0)


def test_a_folder_name_that_is_not_utf8_is_named_and_skipped(runs, tmp_path, capsys):
    good = next(runs.rglob("metadata.json")).parent
    odd = os.path.join(os.fsencode(runs), b"caf\xe9")
    os.mkdir(odd)
    for name in ("metadata.json", "resources.json"):
        with open(os.path.join(odd, name.encode()), "wb") as out:
            out.write((good / name).read_bytes())
    code, overview, err = report(runs, tmp_path, capsys, "--html", str(tmp_path / "o.html"))
    assert code == 0
    only_the_good_run_counts(overview, "caf\N{REPLACEMENT CHARACTER}: a name that is not UTF-8")
    assert overview["inputs"]["unreadable"] == [
        f"{runs}/caf\N{REPLACEMENT CHARACTER}: a name that is not UTF-8; not read"
    ]
    assert "caf\N{REPLACEMENT CHARACTER}" in (tmp_path / "o.html").read_text(encoding="utf-8")


def test_a_truncated_gzip_and_bad_utf8_are_named(runs, tmp_path, capsys):
    first, second = bad_run(runs, "cut"), bad_run(runs, "latin")
    (first / "metadata.json.gz").write_bytes(
        gzip.compress((first / "metadata.json").read_bytes())[:30]
    )
    (first / "metadata.json").unlink()
    (second / "resources.json").write_bytes(b'[{"UserName": "caf\xe9"}]')
    code, overview, _ = report(runs, tmp_path, capsys)
    assert code == 0 and overview["inputs"]["skipped"]["unreadable"] == 2


def test_an_input_with_no_run_is_an_error_and_nothing_is_written(tmp_path, capsys):
    (tmp_path / "empty" / "some" / "dir").mkdir(parents=True)
    html = tmp_path / "o.html"
    code = main(["report", str(tmp_path / "empty"), "--html", str(html)])
    assert code == 1 and not html.exists()
    assert capsys.readouterr().err == (
        f"c7n-keyage: error: {tmp_path / 'empty'}: no Cloud Custodian run found there\n"
    )


def test_html_to_stdout_writes_only_the_page(runs, capsys):
    assert main(["report", str(runs), "--html", "-"]) == 0
    printed = capsys.readouterr()
    assert printed.out.startswith("<!DOCTYPE html>") and printed.out.endswith("</html>\n")
    assert "stale keys of" in printed.err
