"""The suite's layout: tests in tier folders that mirror the package, helpers in one place.

- every test module is under ``tests/unit``, ``tests/placebo``, ``tests/e2e`` or
  ``tests/repo``, and its basename is unique across ``tests/``;
- every other module is a shared helper in ``tests/support`` (or a package's
  ``__init__.py``, or ``tests/conftest.py``);
- every folder of Python files is a package (``__init__.py``), so each module has one name;
- no test module imports another test module: what tests share lives in ``tests/support``.
"""

from __future__ import annotations

import ast
import pathlib
from collections import Counter

from tests.support.paths import REPO

TIERS = ("unit", "placebo", "e2e", "repo")
# Folders that hold data, not modules.
NOT_PACKAGES = {"data", "__pycache__"}


def modules(root: pathlib.Path) -> list[pathlib.Path]:
    """Every Python module under ``root`` (a ``tests/`` folder), data folders left out."""
    return sorted(
        path
        for path in root.rglob("*.py")
        if not NOT_PACKAGES & set(path.relative_to(root).parts[:-1])
    )


def is_test(path: pathlib.Path) -> bool:
    return path.name.startswith("test_")


def shown(path: pathlib.Path, root: pathlib.Path) -> str:
    """``path`` as the messages name it: from the ``tests/`` folder on."""
    return path.relative_to(root.parent).as_posix()


def misplaced(root: pathlib.Path) -> list[str]:
    """Modules outside the folders their kind belongs in."""
    found = []
    for path in modules(root):
        where = path.relative_to(root).parts
        if where == ("conftest.py",):
            continue
        if is_test(path) and where[0] not in TIERS:
            found.append(f"{shown(path, root)}: a test module outside {', '.join(TIERS)}")
        elif not is_test(path) and where[0] != "support" and where[-1] != "__init__.py":
            found.append(f"{shown(path, root)}: a helper outside support/")
    return found


def without_init(root: pathlib.Path) -> list[str]:
    """Folders holding Python modules (or holding such folders) with no ``__init__.py``."""
    folders = {root} | {p.parent for p in modules(root)}
    folders |= {parent for folder in folders for parent in folder.parents if root in parent.parents}
    return [
        f"{shown(folder, root)}/: no __init__.py"
        for folder in sorted(folders)
        if not (folder / "__init__.py").is_file()
    ]


def duplicate_names(root: pathlib.Path) -> list[str]:
    counts = Counter(path.name for path in modules(root) if is_test(path))
    return [f"{name}: {n} test modules of this name" for name, n in counts.items() if n > 1]


def imported(tree: ast.Module, package: str) -> set[str]:
    """The modules ``tree`` imports, by absolute dotted name (``package`` for relative ones),
    each name of a ``from x import a`` counted as ``x.a`` too."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return names


def imports_of_tests(root: pathlib.Path) -> list[str]:
    """Test modules that import a test module."""
    found = []
    for path in modules(root):
        if not is_test(path):
            continue
        package = ".".join((root.name, *path.relative_to(root).parts[:-1]))
        for name in sorted(imported(ast.parse(path.read_text()), package)):
            if name.startswith(f"{root.name}.") and name.rsplit(".", 1)[-1].startswith("test_"):
                found.append(f"{shown(path, root)} imports the test module {name}")
    return found


def problems(root: pathlib.Path) -> list[str]:
    return misplaced(root) + without_init(root) + duplicate_names(root) + imports_of_tests(root)


def test_the_suite_keeps_its_layout():
    assert problems(REPO / "tests") == []


def write(root: pathlib.Path, files: dict[str, str]) -> pathlib.Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_a_tidy_tree_has_no_problems(tmp_path):
    tests = write(
        tmp_path / "tests",
        {
            "__init__.py": "",
            "conftest.py": "",
            "support/__init__.py": "",
            "support/fixtures.py": "",
            "unit/__init__.py": "",
            "unit/stale/__init__.py": "",
            "unit/stale/test_rule.py": "from tests.support.fixtures import NOW\n",
            "e2e/__init__.py": "",
            "e2e/test_cli.py": "from ..support import fixtures\nimport tests.support\n",
        },
    )
    assert problems(tests) == []


def test_each_breach_is_named(tmp_path):
    tests = write(
        tmp_path / "tests",
        {
            "__init__.py": "",
            "test_loose.py": "",
            "helper.py": "",
            "unit/__init__.py": "",
            "unit/test_rule.py": "from tests.placebo.stale import test_rule as other\n",
            "unit/lifecycle/test_plan.py": "import tests.unit.test_rule\n",
            "placebo/__init__.py": "",
            "placebo/stale/__init__.py": "",
            "placebo/stale/test_rule.py": "from .test_cache import CALLS\n",
            "placebo/stale/helpers.py": "",
            "data/placebo/not_a_package/script.py": "",
        },
    )
    assert problems(tests) == [
        "tests/helper.py: a helper outside support/",
        "tests/placebo/stale/helpers.py: a helper outside support/",
        "tests/test_loose.py: a test module outside unit, placebo, e2e, repo",
        "tests/unit/lifecycle/: no __init__.py",
        "test_rule.py: 2 test modules of this name",
        "tests/placebo/stale/test_rule.py imports the test module tests.placebo.stale.test_cache",
        "tests/unit/lifecycle/test_plan.py imports the test module tests.unit.test_rule",
        "tests/unit/test_rule.py imports the test module tests.placebo.stale.test_rule",
    ]
