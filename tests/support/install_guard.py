"""Refuse to test an installed ``c7n_keyage`` that is not this checkout's code.

``pip install .`` puts ``c7n_keyage.pth`` in site-packages, and that file imports the
package when the interpreter starts, before pytest puts the checkout on ``sys.path``. So
the tests import the INSTALLED copy: after an edit, a plain ``pytest`` would test the old
code and could pass. conftest's ``pytest_configure`` calls ``stale_install`` and stops the
session at once when the copy it would test differs from the checkout.
"""

from __future__ import annotations

import importlib.util
import pathlib
import sys

from tests.support.paths import REPO

PACKAGE = "c7n_keyage"
CHECKOUT = REPO
FIX = (
    "Reinstall this checkout, then run pytest again:\n"
    "    make install\n"
    "or, in the environment that runs pytest:\n"
    "    python -m pip install --no-deps --force-reinstall ."
)


def imported_from() -> pathlib.Path | None:
    """The directory the package is (or, not imported yet, would be) imported from."""
    module = sys.modules.get(PACKAGE)
    origin = getattr(module, "__file__", None)
    if origin is None:
        spec = importlib.util.find_spec(PACKAGE)
        origin = spec.origin if spec is not None else None
    return pathlib.Path(origin).resolve().parent if origin else None


def source_files(package: pathlib.Path) -> dict[str, bytes]:
    """What the package is made of: its ``*.py`` files and its templates, by relative path."""
    files = {}
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(package)
        if not path.is_file() or "__pycache__" in relative.parts:
            continue
        if path.suffix == ".py" or relative.parts[0] == "templates":
            files[relative.as_posix()] = path.read_bytes()
    return files


def stale_install(
    installed: pathlib.Path | None, checkout: pathlib.Path = CHECKOUT / PACKAGE
) -> str | None:
    """Why the tests must not run on ``installed``; None when it is ``checkout``'s code."""
    if installed is None or installed.resolve() == checkout.resolve():
        return None  # not installed, or imported from the checkout itself
    ours, theirs = source_files(checkout), source_files(installed)
    differences = [
        ("changed", sorted(n for n in ours.keys() & theirs.keys() if ours[n] != theirs[n])),
        ("only in the checkout", sorted(ours.keys() - theirs.keys())),
        ("only in the installed copy", sorted(theirs.keys() - ours.keys())),
    ]
    if not any(names for _, names in differences):
        return None
    listed = "\n".join(f"  {what}: {', '.join(names)}" for what, names in differences if names)
    return (
        f"stale install: the tests would import {PACKAGE} from {installed}, not from "
        f"{checkout}: the installed .pth imports it before pytest sets the path, and its "
        f"files differ from the checkout's:\n{listed}\n{FIX}"
    )
