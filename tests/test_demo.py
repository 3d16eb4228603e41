"""The demo (``python -m demo``, the README's first command) does what it prints.

It runs as users run it: a subprocess started from the repository root, whose own
``custodian run`` subprocesses go to the local IAM endpoint the demo starts.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import threading
from dataclasses import dataclass

import pytest
import yaml

import demo.__main__ as demo_main

ROOT = pathlib.Path(__file__).resolve().parent.parent
# (user, slot) of the DEMO_ACCOUNT keys that are active and stale at 90 days.
STALE = {("bob-stale", "1"), ("dave-abandoned", "1"), ("erin-two-keys", "2")}


@dataclass
class DemoRun:
    returncode: int
    stdout: str
    stderr: str
    group_left: bool  # whether any process of the demo's process group outlived it


def section(output: str, title: str) -> list[list[str]]:
    """The rows (split on whitespace) of the first table after ``title``, header dropped."""
    lines = output.split(title, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  user "))
    rows = []
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        rows.append(line.split())
    return rows


@pytest.fixture(scope="module")
def demo_run() -> DemoRun:
    # A session of its own: custodian runs inherit its process group, so a process still
    # in that group after the demo exits is one it left behind.
    process = subprocess.Popen(
        [sys.executable, "-m", "demo"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    stdout, stderr = process.communicate(timeout=300)
    try:
        os.killpg(process.pid, 0)
        group_left = True
    except ProcessLookupError:
        group_left = False
    return DemoRun(process.returncode, stdout, stderr, group_left)


def test_demo_exits_cleanly(demo_run):
    assert demo_run.returncode == 0, demo_run.stderr
    assert demo_run.stderr == ""
    assert not demo_run.group_left
    assert demo_run.stdout.rstrip().endswith("Local IAM endpoint stopped.")


def test_demo_seeds_the_account_it_describes(demo_run):
    seeded = section(demo_run.stdout, "seeded with:")
    # user, key id, slot, status, created (days ago), last used (days ago)
    assert [(r[0], r[2], r[3], r[4], r[5]) for r in seeded] == [
        ("alice-fresh", "1", "Active", "30", "1"),
        ("bob-stale", "1", "Active", "400", "200"),
        ("carol-new", "1", "Active", "10", "never"),
        ("dave-abandoned", "1", "Active", "200", "never"),
        ("erin-two-keys", "1", "Active", "20", "2"),
        ("erin-two-keys", "2", "Active", "300", "150"),
        ("frank-rotated", "1", "Inactive", "300", "250"),
        ("frank-rotated", "2", "Active", "5", "1"),
    ]


def test_demo_reports_exactly_the_stale_keys_with_their_ids(demo_run):
    found = section(demo_run.stdout, "Report:")
    # user, key id, slot, last used, days, reason
    assert sorted((r[0], r[2], r[4], r[5]) for r in found) == [
        ("bob-stale", "1", "200", "unused"),
        ("dave-abandoned", "1", "200", "never-used"),
        ("erin-two-keys", "2", "150", "unused"),
    ]
    assert [r[3] for r in found if r[0] == "dave-abandoned"] == ["never"]
    seeded_ids = {(r[0], r[2]): r[1] for r in section(demo_run.stdout, "seeded with:")}
    # resolve-key-ids: each row carries the flagged key's own ID, not another slot's.
    assert {(r[0], r[2]): r[1] for r in found} == {k: seeded_ids[k] for k in STALE}


def test_demo_disables_exactly_the_reported_keys(demo_run):
    after = section(demo_run.stdout, "Remediation:")
    # user, key id, slot, before, after[, "<-", "disabled"]
    assert len(after) == 8
    disabled = {(r[0], r[2]) for r in after if (r[3], r[4]) == ("Active", "Inactive")}
    assert disabled == STALE
    assert all(r[3] == r[4] for r in after if (r[0], r[2]) not in STALE)
    assert [r[5:] for r in after if (r[0], r[2]) in STALE] == [["<-", "disabled"]] * 3
    reported = {r[1] for r in section(demo_run.stdout, "Report:")}
    assert {r[1] for r in after if r[4] == "Inactive" and r[3] == "Active"} == reported
    assert "3 key(s) disabled, 0 other key(s) changed." in demo_run.stdout


def test_sample_policies_untouched_by_the_demo(demo_run):
    # The demo runs copies with report_delay: 0; the shipped samples keep their defaults.
    for name in (demo_main.REPORT_POLICY, demo_main.DISABLE_POLICY):
        (policy,) = yaml.safe_load((ROOT / "policies" / name).read_text())["policies"]
        assert "report_delay" not in policy["filters"][0]
        assert "resolve-key-ids" not in policy["filters"][0]


def test_demo_fails_clearly_when_custodian_fails(tmp_path, monkeypatch, capsys):
    # A report policy the stock CLI rejects (days: 0) stands in for any custodian failure.
    for name in (demo_main.REPORT_POLICY, demo_main.DISABLE_POLICY):
        data = yaml.safe_load((ROOT / "policies" / name).read_text())
        if name == demo_main.REPORT_POLICY:
            data["policies"][0]["filters"][0]["days"] = 0
        (tmp_path / name).write_text(yaml.safe_dump(data))
    monkeypatch.setattr(demo_main, "POLICIES", tmp_path)
    threads = set(threading.enumerate())

    assert demo_main.main() == 1

    out, err = capsys.readouterr()
    assert "demo: custodian run access-key-unused-report.yml failed (exit code 1)" in err
    assert "0 is less than the minimum of 1" in err  # custodian's own message, passed on
    assert "Remediation:" not in out
    # The endpoint was stopped on the way out: no server thread is left running.
    assert set(threading.enumerate()) == threads
