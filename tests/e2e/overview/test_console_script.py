"""The ``c7n-keyage`` console script as installed, run as a user runs it: it explains
itself, writes its files, and fails on one line with exit 1, never a traceback. (Its code
runs in this process in tests/unit/overview/test_cli.py; from the built wheel in
tests/test_packaging.py.)"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from tests.support.fleet import entry, write_hand_run

pytestmark = pytest.mark.slow

SCRIPT = pathlib.Path(sys.executable).parent / "c7n-keyage"


def test_the_console_script_explains_itself():
    done = subprocess.run([SCRIPT, "report", "--help"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    said = ("INPUT", "c7n-org run -s DIR", "s3://bucket/prefix", "--html FILE", "--json",
            "--csv FILE", "--history FILE", "--fail-on CONDITION", "Exit status")  # fmt: skip
    for words in said:
        assert words in done.stdout
    top = subprocess.run([SCRIPT, "--help"], capture_output=True, text=True)
    assert "report" in top.stdout and top.returncode == 0


def test_it_writes_its_files_and_fails_on_one_line(tmp_path):
    runs = tmp_path / "runs"
    start = datetime(2026, 11, 2, 6, tzinfo=timezone.utc)
    write_hand_run(runs, "111111111111", "p", start, {"a": [entry(1, "2025-01-01T00:00:00Z")]})
    out = [f"--{kind}={tmp_path / ('o.' + kind)}" for kind in ("html", "json", "csv")]
    done = subprocess.run([SCRIPT, "report", runs, *out], capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == ""
    assert json.loads((tmp_path / "o.json").read_text())["totals"]["stale_keys"] == 1
    missing = tmp_path / "nowhere"
    done = subprocess.run([SCRIPT, "report", missing, "--json", tmp_path / "x.json"],
                          capture_output=True, text=True)  # fmt: skip
    assert (done.returncode, done.stderr) == (1, f"c7n-keyage: error: {missing}: not a directory\n")
    assert not (tmp_path / "x.json").exists()
