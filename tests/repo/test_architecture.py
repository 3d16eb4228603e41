"""The package's imports run one way (docs/architecture.md), and pure modules stay pure.

Read from the source with ``ast`` (every import, also those inside functions), so a new
import against the direction fails here before anyone has to untangle it.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "c7n_keyage"

# Lower layers never import higher ones; within a layer, a package imports only itself.
LAYERS = {
    "names": 0,
    "dates": 0,
    "options": 1,
    "composition": 1,
    "aws": 2,
    "policy_run": 2,
    "credential_report": 3,
    "stale": 4,
    "lifecycle": 4,
    "plugin": 5,
    "handler": 5,
    "testing": 5,
    "__init__": 6,
}
# Data in, data out: no AWS SDK, no Custodian.
PURE = {
    "names",
    "dates",
    "options",
    "composition",
    "credential_report.parse",
    "stale.rule",
    "stale.verify",
    "stale.findings",
    "lifecycle.record",
    "lifecycle.plan",
    "lifecycle.select",
    "lifecycle.rules",
}
HEAVY = ("c7n", "c7n_org", "c7n_mailer", "boto3", "botocore", "placebo")


def modules() -> dict[str, pathlib.Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)
        found[name] = path
    return found


def imports(path: pathlib.Path) -> set[str]:
    """Every module ``path`` imports, by dotted name (``from c7n_keyage import x`` -> x)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def internal(imported: set[str]) -> set[str]:
    """The plugin's own modules among ``imported``, relative to the package."""
    known = modules()
    return {
        name.removeprefix("c7n_keyage.")
        for name in imported
        if name.startswith("c7n_keyage.") and name.removeprefix("c7n_keyage.") in known
    }


def room(module: str) -> str:
    return module.split(".")[0]


def violations(module: str, imported: set[str]) -> list[str]:
    """The imports of ``module`` (the plugin's own, relative names) against the direction."""
    mine, found = room(module), []
    for other in sorted(imported):
        theirs = room(other)
        if mine == "overview":
            if theirs not in ("overview", "names", "dates"):
                found.append(f"{module} imports {other}: the fleet page imports only names, dates")
        elif theirs == "overview":
            found.append(f"{module} imports {other}: the fleet page stands apart")
        elif theirs != mine and LAYERS[theirs] >= LAYERS[mine]:
            found.append(
                f"{module} (layer {LAYERS[mine]}) imports {other} (layer {LAYERS[theirs]})"
            )
    return found


@pytest.mark.parametrize("module", sorted(modules()))
def test_imports_run_one_way(module):
    assert violations(module, internal(imports(modules()[module]))) == []


@pytest.mark.parametrize("module", sorted(PURE | {m for m in modules() if room(m) == "overview"}))
def test_pure_modules_and_the_fleet_page_import_no_sdk(module):
    heavy = {name for name in imports(modules()[module]) if name.split(".")[0] in HEAVY}
    if room(module) == "overview":
        # An s3:// input needs boto3, imported only where it is read.
        heavy = {name for name in heavy if name.split(".")[0] not in ("boto3", "botocore")}
    assert heavy == set(), f"{module} imports {sorted(heavy)}"


def test_no_two_modules_share_a_name():
    leaves = [name.split(".")[-1] for name in modules() if "." in name or name != "__init__"]
    assert sorted({n for n in leaves if leaves.count(n) > 1}) == []


def test_every_room_is_placed():
    rooms = {room(m) for m in modules()} - {"overview"}
    assert rooms <= set(LAYERS), f"place {sorted(rooms - set(LAYERS))} in LAYERS and the doc"


def test_the_checks_catch_an_import_against_the_direction(tmp_path):
    path = tmp_path / "rule.py"
    path.write_text("def f():\n    from c7n_keyage.plugin import registration\n")
    assert violations("stale.rule", internal(imports(path))) != []
    assert violations("lifecycle.actions", {"stale.confirm"}) != []  # siblings stay apart
    assert violations("overview.page", {"stale.rule"}) != []
    assert violations("stale.confirm", {"overview.runs"}) != []
    assert violations("policy_run", {"credential_report.cache"}) != []
    assert violations("stale.confirm", {"aws", "names", "credential_report.parse"}) == []
