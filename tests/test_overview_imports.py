"""The report stays out of the filter's way: Custodian loading the plugin (validate, and a
whole run) never imports ``c7n_keyage.overview``, no filter-path module imports it, and it
imports nothing of the filter path, nor c7n, nor (for a local report) boto3."""

from __future__ import annotations

import ast
import json
import pathlib
import subprocess
import sys

from tests.support.localiam import KeySpec, LocalIAM, UserSpec

PACKAGE = pathlib.Path(__import__("c7n_keyage").__file__).parent
ROOT = pathlib.Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "access-key-unused-report.yml"
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


def _imports(path: pathlib.Path) -> set[str]:
    """Every module a file imports, at any level of the file (functions included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _top_level_imports(path: pathlib.Path) -> set[str]:
    found = set()
    for node in ast.parse(path.read_text(), str(path)).body:
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add(node.module.split(".")[0])
    return found


def test_no_filter_path_module_imports_the_report():
    outside = [p for p in PACKAGE.rglob("*.py") if "overview" not in p.relative_to(PACKAGE).parts]
    assert len(outside) > 10
    for path in outside:
        assert not {m for m in _imports(path) if m.startswith("c7n_keyage.overview")}, path


def test_the_report_imports_nothing_of_the_filter_path_nor_c7n():
    modules = sorted((PACKAGE / "overview").glob("*.py"))
    assert {p.stem for p in modules} >= {"read", "records", "aggregate", "render", "cli"}
    for path in modules:
        imported = _imports(path)
        ours = {m for m in imported if m.startswith("c7n_keyage")}
        assert all(m.startswith("c7n_keyage.overview") for m in ours), (path, ours)
        assert not {m for m in imported if m == "c7n" or m.startswith("c7n.")}, path
        # boto3 only inside the S3 reader: a local report never pays for it.
        assert not _top_level_imports(path) & {"boto3", "botocore"}, path


def test_a_local_report_loads_neither_c7n_nor_boto3(tmp_path):
    code = (
        "import sys, json; from c7n_keyage.overview.cli import main; "
        f"main(['report', {str(tmp_path)!r}]); "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'c7n', 'boto3', 'botocore', 'c7n_org'})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
