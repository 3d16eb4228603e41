"""``c7n-keyage report`` in this process: what it writes (HTML, JSON, CSV, the history),
what it says, its exit codes (0 written, 1 error, 2 usage, 3 a --fail-on condition met),
and how it fails: one line, never a traceback. (The installed console script runs in
tests/e2e/overview/test_console_script.py.)"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from c7n_keyage.overview.cli import EPILOG, OPTIONS, REPORT_HELP, main
from tests.support.fleet import DEMO_DATES, demo_fleet, entry, write_fleet, write_hand_run
from tests.support.page import parse
from tests.support.paths import REPO

DAY = datetime(2026, 11, 2, 6, tzinfo=timezone.utc)
CREATED = "2025-01-01T00:00:00+00:00"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    root = tmp_path_factory.mktemp("fleet")
    write_fleet(root, demo_fleet(), DEMO_DATES[-2:], other_policy=True)
    return root


def test_the_files_are_written_and_the_summary_is_printed(fleet, tmp_path, capsys):
    out = {kind: tmp_path / f"o.{kind}" for kind in ("json", "html", "csv")}
    options = [arg for kind, path in out.items() for arg in (f"--{kind}", str(path))]
    assert main(["report", str(fleet), *options]) == 0
    overview = json.loads(out["json"].read_text())
    assert overview["schema"] == "c7n-keyage-overview/2"
    assert set(overview) >= {"accounts", "totals", "age_buckets", "runs", "keys", "inputs"}
    assert out["html"].read_text().startswith("<!DOCTYPE html>")
    rows = list(csv.DictReader(io.StringIO(out["csv"].read_text())))
    assert sum(r["state"] == "stale" for r in rows) == overview["totals"]["stale_keys"]
    printed = capsys.readouterr()
    totals = overview["totals"]
    assert printed.out.startswith(
        f"{totals['stale_keys']} stale keys of {totals['stale_users']} users in "
        f"{totals['accounts_with_stale']} of 11 accounts, as of 2026-12-02"
    )
    assert "other policies skipped: 22" in printed.out  # sandbox-02 stopped running
    assert printed.err == ""


@pytest.mark.parametrize("kind", ["json", "csv", "html"])
def test_one_output_to_stdout_keeps_stdout_for_it(fleet, capsys, kind):
    assert main(["report", str(fleet), f"--{kind}", "-", "--top", "3"]) == 0
    printed = capsys.readouterr()
    assert "stale keys of" in printed.err and "stale keys of" not in printed.out
    if kind == "json":
        assert len(json.loads(printed.out)["keys"]) == 3
    elif kind == "csv":
        assert printed.out.startswith("state,account_id,account_name,reporting,")
    else:
        assert printed.out.startswith("<!DOCTYPE html>") and printed.out.endswith("</html>\n")


def test_a_missing_input_is_one_line_and_exit_1(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nowhere"), "--json", str(tmp_path / "o.json")]) == 1
    assert capsys.readouterr().err == (
        f"c7n-keyage: error: {tmp_path / 'nowhere'}: not a directory\n"
    )
    assert not (tmp_path / "o.json").exists()


def test_an_unwritable_output_is_one_line_and_exit_1(fleet, tmp_path, capsys):
    target = tmp_path / "no" / "such" / "dir" / "o.html"
    assert main(["report", str(fleet), "--html", str(target)]) == 1
    assert capsys.readouterr().err == (
        f"c7n-keyage: error: {target}: cannot write (No such file or directory)\n"
    )


@pytest.mark.parametrize(
    "argv, says",
    [
        ([], "c7n-keyage: error: the following arguments are required: COMMAND"),
        (["report"], "c7n-keyage: error: the following arguments are required: INPUT (or "
         "--history FILE)"),
        (["report", "in", "--html", "-", "--json", "-"],
         "c7n-keyage: error: only one of --html, --json and --csv can be '-' (stdout)"),
        (["report", "in", "--fail-on", "stale-older-than=x"],
         "c7n-keyage report: error: argument --fail-on: 'stale-older-than=x': not one of stale, "
         "stale-older-than=N, not-reporting, unreadable"),
        (["report", "in", "--top", "-1"],
         "c7n-keyage report: error: argument --top: '-1': not a whole number of 0 or more"),
    ],
)  # fmt: skip
def test_usage_errors_exit_2(capsys, argv, says):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == says


def test_warnings_name_the_files_and_are_capped_unless_verbose(tmp_path, capsys):
    runs = tmp_path / "runs"
    write_hand_run(runs, "111111111111", "good", DAY, {"alice": [entry(1, CREATED)]})
    broken_runs(runs, 25)
    assert main(["report", str(runs), "--json", str(tmp_path / "o.json")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (
        f"c7n-keyage: warning: {runs}/acct-00/stale-keys/metadata.json: not valid JSON "
        "(Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"
    )
    assert len(err) == 20 + 1  # 20 shown, then the count
    assert err[20] == (
        "c7n-keyage: 25 warnings in all (20 shown; -v shows every one; unreadable files are "
        "listed in the JSON and the page)"
    )
    assert len(json.loads((tmp_path / "o.json").read_text())["inputs"]["unreadable"]) == 25
    assert main(["report", str(runs), "-v"]) == 0
    assert len(capsys.readouterr().err.splitlines()) == 25


def test_runs_of_other_policies_only_are_an_error_not_an_all_clear(tmp_path, capsys):
    run = tmp_path / "mfa"
    run.mkdir()
    policy = {"name": "mfa", "resource": "ec2", "filters": []}
    start = DAY.timestamp()
    metadata = {"policy": policy, "execution": {"start": start}, "config": {"account_id": "1"}}
    (run / "metadata.json").write_text(json.dumps(metadata))
    (run / "resources.json").write_text("[]")
    assert main(["report", str(tmp_path), "--html", str(tmp_path / "o.html")]) == 1
    assert capsys.readouterr().err == (
        "c7n-keyage: error: no run of a policy using access-key-unused (nor lifecycle records) "
        "in the inputs (1 runs found, 1 of other policies)\n"
    )
    assert not (tmp_path / "o.html").exists()


def test_help_names_the_tool_the_command_and_every_option(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    top = capsys.readouterr().out
    assert exited.value.code == 0 and top.startswith("usage: c7n-keyage [-h] COMMAND ...")
    assert "Tools for the c7n-keyage Cloud Custodian plugin." in top.splitlines()
    assert "report stale keys across accounts, from run outputs, as HTML, JSON and CSV" in " ".join(
        top.split()
    )
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    helped = capsys.readouterr().out
    assert helped.startswith("usage: c7n-keyage report [-h] [--html FILE] [--json FILE]")
    # argparse wraps the help, at spaces and after hyphens: compare without white space.
    flat = "".join(helped.split())
    for flags, options in OPTIONS:
        assert "".join(options["help"].split()) in flat, flags
    assert "".join(REPORT_HELP.split()) in flat and "".join(EPILOG.split()) in flat
    # The description's paragraphs and lines as written, not rewrapped.
    assert REPORT_HELP in helped


def test_the_summary_says_the_figures_and_every_age_bucket(fleet, tmp_path, capsys):
    target = tmp_path / "o.json"
    assert main(["report", str(fleet), "--json", str(target)]) == 0
    found = json.loads(target.read_text())
    t, read, ages = found["totals"], found["inputs"], found["age_buckets"]
    assert capsys.readouterr().out == (
        f"{t['stale_keys']} stale keys of {t['stale_users']} users in "
        f"{t['accounts_with_stale']} of 11 accounts, as of 2026-12-02; oldest "
        f"{t['oldest_days']} days (0-90: {ages['0-90']}, 91-180: {ages['91-180']}, 181-365: "
        f"{ages['181-365']}, 366-730: {ages['366-730']}, 731+: {ages['731+']}); 0 accounts not "
        f"reporting.\nRuns read: {read['runs_read']} of {read['runs_found']} found; other "
        "policies skipped: 22; unreadable: 0; failed before writing resources: 0.\n"
    )


def test_a_history_is_named_in_the_json_and_on_the_page(fleet, tmp_path):
    out, kept = tmp_path / "o", str(tmp_path / "history.json")
    args = ["--history", kept, "--json", f"{out}.json", "--html", f"{out}.html"]
    assert main(["report", str(fleet), *args]) == 0
    read = json.loads((tmp_path / "o.json").read_text())["inputs"]
    runs = read["runs_read"]
    assert read["history"] == {"file": kept, "runs": runs, "added": runs}
    section = parse((tmp_path / "o.html").read_text()).find("section", id="inputs")
    said = " ".join(section.find("p").text().split())
    assert said.endswith(f"The history {kept} holds {runs} runs, {runs} of them added now.")


def test_the_page_is_utf_8_on_a_host_whose_locale_is_ascii(tmp_path):
    """LC_ALL=C with Python's UTF-8 defaults turned off (PEP 538, 540): the locale's encoding
    is ASCII, and the page's dash for a change not yet known is not. The page written there
    (by this tree, as the tests import it) is the page written here."""
    runs = tmp_path / "runs"
    write_hand_run(runs, "111111111111", "stale-keys", DAY, {"alice": [entry(1, CREATED)]})
    here, there = tmp_path / "here.html", tmp_path / "there.html"
    assert main(["report", str(runs), "--html", str(here)]) == 0
    code = "import sys; from c7n_keyage.overview.cli import main; sys.exit(main(sys.argv[1:]))"
    env = dict(os.environ, LC_ALL="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    env["PYTHONPATH"] = str(REPO)
    args = ["report", str(runs), "--html", str(there)]
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert there.read_bytes() == here.read_bytes()
    change = parse(there.read_bytes().decode("utf-8")).find("td", data_field="change")
    assert change.text() == "—"


def broken_runs(root, count: int) -> None:
    """``count`` runs whose metadata.json is not JSON: one warning each."""
    for i in range(count):
        run = root / f"acct-{i:02d}" / "stale-keys"
        run.mkdir(parents=True)
        (run / "metadata.json").write_text("{broken")
        (run / "resources.json").write_text("[]")


def test_as_many_warnings_as_are_shown_need_no_count(tmp_path, capsys):
    runs = tmp_path / "runs"
    write_hand_run(runs, "111111111111", "good", DAY, {"alice": [entry(1, CREATED)]})
    broken_runs(runs, 20)
    assert main(["report", str(runs)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 20 and all(line.startswith("c7n-keyage: warning: ") for line in err)


def test_warnings_are_said_once_where_logging_is_set_up(tmp_path, capsys):
    """A script that set up logging (a handler on the root logger) before calling the
    report does not get each warning a second time."""
    runs = tmp_path / "runs"
    write_hand_run(runs, "111111111111", "good", DAY, {"alice": [entry(1, CREATED)]})
    broken_runs(runs, 1)
    root, caught = logging.getLogger(), io.StringIO()
    handler = logging.StreamHandler(caught)
    root.addHandler(handler)
    try:
        assert main(["report", str(runs)]) == 0
    finally:
        root.removeHandler(handler)
    assert capsys.readouterr().err.startswith("c7n-keyage: warning: ")
    assert caught.getvalue() == ""


def test_the_accounts_file_names_the_accounts_and_those_without_runs(tmp_path):
    runs, target = tmp_path / "runs", tmp_path / "o.json"
    write_hand_run(runs, "111111111111", "stale-keys", DAY, {"alice": [entry(1, CREATED)]})
    accounts = tmp_path / "accounts.yml"
    accounts.write_text(
        "accounts:\n- account_id: '111111111111'\n  name: payments-prod\n"
        "- account_id: '222222222222'\n  name: never-ran\n"
    )
    assert main(["report", str(runs), "-c", str(accounts), "--json", str(target)]) == 0
    found = json.loads(target.read_text())
    assert [a["account_name"] for a in found["accounts"]] == ["payments-prod"]
    assert found["accounts_without_runs"] == [
        {"account_id": "222222222222", "account_name": "never-ran"}
    ]
