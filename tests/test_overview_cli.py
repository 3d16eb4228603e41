"""``c7n-keyage report``: what it writes, what it says, and how it fails (one line, exit 1,
never a traceback). The console script itself runs here as installed, and from the built
wheel in test_packaging.py."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest

from c7n_keyage.overview.cli import main
from tests.support.fleet import DEMO_DATES, demo_fleet, write_fleet

SCRIPT = pathlib.Path(sys.executable).parent / "c7n-keyage"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory) -> pathlib.Path:
    root = tmp_path_factory.mktemp("fleet")
    write_fleet(root, demo_fleet(), DEMO_DATES[-2:], other_policy=True)
    return root


def test_the_console_script_is_installed_and_explains_itself():
    done = subprocess.run([SCRIPT, "report", "--help"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for words in ("INPUT", "c7n-org run -s DIR", "s3://bucket/prefix", "--html FILE", "--json"):
        assert words in done.stdout
    top = subprocess.run([SCRIPT, "--help"], capture_output=True, text=True)
    assert "report" in top.stdout and top.returncode == 0


def test_both_files_are_written_and_the_summary_is_printed(fleet, tmp_path, capsys):
    out_json, out_html = tmp_path / "o.json", tmp_path / "o.html"
    assert main(["report", str(fleet), "--json", str(out_json), "--html", str(out_html)]) == 0
    overview = json.loads(out_json.read_text())
    assert overview["schema"] == "c7n-keyage-overview/1"
    assert set(overview) >= {"accounts", "totals", "age_buckets", "runs", "keys", "inputs"}
    assert out_html.read_text().startswith("<!DOCTYPE html>")
    printed = capsys.readouterr()
    totals = overview["totals"]
    assert printed.out.startswith(
        f"{totals['stale_keys']} stale keys of {totals['stale_users']} users in "
        f"{totals['accounts_with_stale']} of 12 accounts, as of 2026-12-02"
    )
    assert "other policies skipped: 24" in printed.out
    assert printed.err == ""


def test_json_to_stdout_keeps_stdout_for_the_json(fleet, capsys):
    assert main(["report", str(fleet), "--json", "-", "--top", "3"]) == 0
    printed = capsys.readouterr()
    overview = json.loads(printed.out)
    assert len(overview["keys"]) == 3
    assert "stale keys of" in printed.err


def test_a_missing_input_is_one_line_and_exit_1(tmp_path):
    done = subprocess.run(
        [SCRIPT, "report", str(tmp_path / "nowhere"), "--json", str(tmp_path / "o.json")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert done.stderr == f"c7n-keyage: error: {tmp_path / 'nowhere'}: not a directory\n"
    assert not (tmp_path / "o.json").exists()


def test_an_unwritable_output_is_one_line_and_exit_1(fleet, tmp_path, capsys):
    target = tmp_path / "no" / "such" / "dir" / "o.html"
    assert main(["report", str(fleet), "--html", str(target)]) == 1
    assert (
        capsys.readouterr().err
        == f"c7n-keyage: error: {target}: cannot write (No such file or directory)\n"
    )


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["report"])
    assert exited.value.code == 2
    assert "the following arguments are required: INPUT" in capsys.readouterr().err


def test_warnings_name_the_files_and_are_capped_unless_verbose(tmp_path, capsys):
    for i in range(25):
        run = tmp_path / f"acct-{i:02d}" / "stale-keys"
        run.mkdir(parents=True)
        (run / "metadata.json").write_text("{broken")
        (run / "resources.json").write_text("[]")
    assert main(["report", str(tmp_path), "--json", str(tmp_path / "o.json")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (
        f"c7n-keyage: warning: {tmp_path}/acct-00/stale-keys/metadata.json: not valid JSON "
        "(Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"
    )
    assert len(err) == 20 + 2  # 20 shown, the count, and "no run found"
    assert err[20].startswith("c7n-keyage: 25 warnings in all (20 shown; -v shows every one")
    assert err[21] == "c7n-keyage: warning: no run of access-key-unused found in the inputs"
    assert len(json.loads((tmp_path / "o.json").read_text())["inputs"]["unreadable"]) == 25
    assert main(["report", str(tmp_path), "-v"]) == 0
    assert len(capsys.readouterr().err.splitlines()) == 25 + 1
