"""The report stays out of the filter's way: Custodian loading the plugin (validate, and a
whole run) never imports ``c7n_keyage.overview``, and a local report loads neither c7n nor
boto3. (What each module imports is read from the source in
tests/unit/overview/test_imports.py.)"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from tests.support.fleet import entry, write_hand_run
from tests.support.localiam import KeySpec, LocalIAM, UserSpec

pytestmark = pytest.mark.slow

ROOT = pathlib.Path(__file__).resolve().parents[3]
POLICY = ROOT / "policies" / "access-key-unused-report.yml"
START = datetime(2026, 11, 2, 6, tzinfo=timezone.utc)
CREATED = "2025-01-01T00:00:00+00:00"
# The stock custodian CLI in a fresh interpreter; at exit, which c7n_keyage modules it loaded.
CUSTODIAN = """
import atexit, json, sys
atexit.register(lambda: print("MODULES=" + json.dumps(
    sorted(m for m in sys.modules if m.startswith("c7n_keyage")))))
from c7n.cli import main
sys.argv[0] = "custodian"
main()
"""


def loaded_by_custodian(*args: str, env=None) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", CUSTODIAN, *args], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("MODULES="))
    return json.loads(line.removeprefix("MODULES="))


def test_custodian_validate_loads_the_filter_and_not_the_report():
    loaded = loaded_by_custodian("validate", str(POLICY))
    assert "c7n_keyage.stale.access_key_unused" in loaded  # the plugin did load
    assert [m for m in loaded if m.startswith("c7n_keyage.overview")] == []


def test_a_custodian_run_loads_the_filter_and_not_the_report(tmp_path):
    with LocalIAM() as local:
        local.seed([UserSpec("stale", [KeySpec(created_days_ago=300, last_used_days_ago=200)])])
        env = dict(local.env(), HOME=str(tmp_path))
        loaded = loaded_by_custodian("run", "-s", str(tmp_path / "out"), str(POLICY), env=env)
    resources = json.loads(next((tmp_path / "out").rglob("resources.json")).read_text())
    assert [r["UserName"] for r in resources] == ["stale"]  # the policy did run
    assert "c7n_keyage.stale.access_key_unused" in loaded
    assert [m for m in loaded if m.startswith("c7n_keyage.overview")] == []


def test_a_local_report_loads_neither_c7n_nor_boto3(tmp_path):
    runs = tmp_path / "runs"
    write_hand_run(runs, "111111111111", "stale-keys", START, {"alice": [entry(1, CREATED)]})
    outputs = [f"--{kind}={tmp_path / ('o.' + kind)}" for kind in ("html", "json", "csv")]
    code = (
        "import sys, json; from c7n_keyage.overview.cli import main; "
        f"assert main(['report', {str(runs)!r}, *{outputs!r}]) == 0; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'c7n', 'boto3', 'botocore', 'c7n_org'})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
    assert json.loads((tmp_path / "o.json").read_text())["totals"]["stale_keys"] == 1
