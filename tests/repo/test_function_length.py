"""No function over 50 lines, in the product or around it.

- every function and method (nested ones too) of every module under ``c7n_keyage/``,
  ``tests/``, ``benchmarks/``, ``tools/`` and ``demo/``, and of ``setup.py``, is at most
  ``LIMIT`` lines long, from its ``def`` line to its last (decorators not counted);
- ``tests/data/`` holds recordings, not code, and virtualenvs, builds and mutmut's copies
  (``.venv*``, ``build/``, ``mutants/``) are not the project's: they are left out.
"""

from __future__ import annotations

import ast
import pathlib

from tests.support.paths import REPO

LIMIT = 50
FOLDERS = ("c7n_keyage", "tests", "benchmarks", "tools", "demo")
FILES = ("setup.py",)
NOT_CODE = ("tests/data",)
NOT_OURS = {"build", "mutants"}


def ours(path: pathlib.Path) -> bool:
    """Whether ``path`` (relative to the checkout) is the project's code."""
    parts = path.parts[:-1]
    if any(part.startswith(".venv") or part in NOT_OURS for part in parts):
        return False
    return not any(path.is_relative_to(folder) for folder in NOT_CODE)


def modules(root: pathlib.Path) -> list[pathlib.Path]:
    """The checked modules under ``root``, relative to it."""
    found = [p.relative_to(root) for f in FOLDERS for p in (root / f).rglob("*.py")]
    found += [pathlib.Path(f) for f in FILES if (root / f).is_file()]
    return sorted(path for path in found if ours(path))


def too_long(root: pathlib.Path) -> list[str]:
    """``path:line name: N lines`` for each function over ``LIMIT`` lines, in file order."""
    found = []
    for path in modules(root):
        tree = ast.parse((root / path).read_text(), filename=str(path))
        functions = [
            n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        for node in sorted(functions, key=lambda n: n.lineno):
            length = node.end_lineno - node.lineno + 1
            if length > LIMIT:
                found.append(f"{path.as_posix()}:{node.lineno} {node.name}: {length} lines")
    return found


def test_no_function_is_over_50_lines():
    assert too_long(REPO) == []


def function(name: str, lines: int, indent: str = "", head: str = "def") -> str:
    """A function ``lines`` long, from its ``def`` line to its last."""
    body = "".join(f"{indent}    x{i} = {i}\n" for i in range(lines - 1))
    return f"{indent}{head} {name}():\n{body}"


def write(root: pathlib.Path, files: dict[str, str]) -> pathlib.Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_a_function_of_51_lines_is_named_and_one_of_50_is_not(tmp_path):
    method = "class Thing:\n" + function("method", 51, "    ")
    # outer: 9 lines of its own, then inner's 51.
    nested = function("outer", 10) + function("inner", 51, "    ")
    # Decorators are not counted: 52 lines from the first decorator, 50 from the def.
    decorated = "@staticmethod\n@property\n" + function("decorated", 50)
    root = write(
        tmp_path,
        {
            "c7n_keyage/core.py": function("fits", 50) + function("long", 51),
            "c7n_keyage/lifecycle/plan.py": method,
            "tests/unit/test_x.py": nested + function("waits", 52, head="async def"),
            "benchmarks/run.py": decorated,
            "tools/mutation.py": function("table", 60),
            "demo/__main__.py": function("run_demo", 50),
            "setup.py": function("long_setup", 51),
        },
    )
    assert too_long(root) == [
        "c7n_keyage/core.py:51 long: 51 lines",
        "c7n_keyage/lifecycle/plan.py:2 method: 51 lines",
        "setup.py:1 long_setup: 51 lines",
        "tests/unit/test_x.py:1 outer: 61 lines",
        "tests/unit/test_x.py:11 inner: 51 lines",
        "tests/unit/test_x.py:62 waits: 52 lines",
        "tools/mutation.py:1 table: 60 lines",
    ]


def test_data_virtualenvs_builds_and_mutants_are_left_out(tmp_path):
    long = function("long", 51)
    root = write(
        tmp_path,
        {
            "tests/data/placebo/recorder.py": long,
            "tests/.venv/lib/site.py": long,
            "demo/.venv-c7n-0.9.40/lib/site.py": long,
            "c7n_keyage/build/lib/c7n_keyage/core.py": long,
            "tools/mutants/c7n_keyage/core.py": long,
            "docs/example.py": long,
            "tests/database.py": long,
        },
    )
    assert too_long(root) == ["tests/database.py:1 long: 51 lines"]
