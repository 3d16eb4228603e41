"""What the report may import, read from its source: the rest of the plugin imports
nothing of it, and it imports only the plugin's shared vocabulary (``names``, ``dates``),
never c7n, nor boto3 at module level (only the S3 reader does, when an input is on S3).
Module names are unique across the package, so each is found by its name."""

from __future__ import annotations

import ast
import pathlib

PACKAGE = pathlib.Path(__import__("c7n_keyage").__file__).parent
SHARED = {"c7n_keyage.names", "c7n_keyage.dates"}
OVERVIEW = {
    "__init__", "inputs", "runs", "identity", "combine", "fleet", "remediation", "steps",
    "aggregate", "history", "gate", "accounts_file", "spreadsheet", "charts", "assets", "page",
    "cli",
}  # fmt: skip


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


def test_the_report_imports_only_the_shared_vocabulary_and_never_c7n():
    modules = sorted((PACKAGE / "overview").glob("*.py"))
    assert {p.stem for p in modules} == OVERVIEW
    for path in modules:
        imported = _imports(path)
        ours = {m for m in imported if m.startswith("c7n_keyage")}
        shared = {m for m in ours if any(m == s or m.startswith(s + ".") for s in SHARED)}
        outside = {m for m in ours - shared if not m.startswith("c7n_keyage.overview")}
        assert outside == set(), (path, outside)
        assert not {m for m in imported if m == "c7n" or m.startswith("c7n.")}, path
        # boto3 only inside the S3 reader: a local report never pays for it.
        assert not _top_level_imports(path) & {"boto3", "botocore"}, path


def test_the_reports_module_names_are_unique_across_the_package():
    elsewhere = {
        p.stem for p in PACKAGE.rglob("*.py") if "overview" not in p.relative_to(PACKAGE).parts
    }
    assert len(elsewhere) > 10
    assert (OVERVIEW - {"__init__"}) & elsewhere == set()
