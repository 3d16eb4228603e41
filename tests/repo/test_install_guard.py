"""The stale-install guard: the tests never run on an installed copy that is not the checkout.

The tests import the installed copy of the package (its ``.pth`` runs before pytest sets
the path): ``tests/support/install_guard.py`` stops the session when that copy differs from
the checkout.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

import c7n_keyage
from tests.support.install_guard import CHECKOUT, FIX, PACKAGE, imported_from, stale_install


@pytest.fixture
def copy_of_the_package(tmp_path):
    """A copy of the checkout's package, as an install would hold it (bytecode included)."""
    copy = tmp_path / "site" / PACKAGE
    shutil.copytree(CHECKOUT / PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "__pycache__").mkdir()
    (copy / "__pycache__" / "rule.cpython-311.pyc").write_bytes(b"not compared")
    return copy


def test_this_session_tests_the_checkouts_code():
    # The guard looks where this session imported the package from, and found it current.
    assert imported_from() == pathlib.Path(c7n_keyage.__file__).resolve().parent
    assert stale_install(imported_from()) is None


def test_guard_passes_on_the_checkout_itself_and_on_an_identical_copy(copy_of_the_package):
    assert stale_install(CHECKOUT / PACKAGE) is None  # imported from the checkout: no .pth
    assert stale_install(None) is None  # not importable at all: the imports will say so
    assert stale_install(copy_of_the_package) is None


def test_guard_names_every_difference_and_the_fix(copy_of_the_package):
    rule = copy_of_the_package / "stale" / "rule.py"
    rule.write_text(rule.read_text().replace("> limit", ">= limit"))
    template = copy_of_the_package / "templates" / "access-key-unused.html.j2"
    template.write_text(template.read_text() + "<!-- old -->")
    (copy_of_the_package / "options.py").unlink()
    (copy_of_the_package / "retired.py").write_text("")

    problem = stale_install(copy_of_the_package)

    assert problem == (
        f"stale install: the tests would import {PACKAGE} from {copy_of_the_package}, not "
        f"from {CHECKOUT / PACKAGE}: the installed .pth imports it before pytest sets the "
        "path, and its files differ from the checkout's:\n"
        "  changed: stale/rule.py, templates/access-key-unused.html.j2\n"
        "  only in the checkout: options.py\n"
        "  only in the installed copy: retired.py\n"
        f"{FIX}"
    )
    assert "make install" in FIX and "pip install --no-deps --force-reinstall ." in FIX


@pytest.mark.slow
def test_guard_stops_a_real_session_at_once(copy_of_the_package):
    # A pytest process that imports the differing copy first, as the .pth of a stale
    # install does: it must exit 2 before collecting anything, and say why.
    (copy_of_the_package / "stale" / "rule.py").write_text("# an older rule\n")
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import c7n_keyage, pytest, sys; sys.exit(pytest.main(sys.argv[1:]))",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(CHECKOUT),
            "-c",
            str(CHECKOUT / "pyproject.toml"),
            str(CHECKOUT / "tests" / "unit" / "test_options.py"),
        ],
        # The copy comes first on sys.path both for the .pth (PYTHONPATH) and without it (cwd).
        cwd=copy_of_the_package.parent,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST")},
            "PYTHONPATH": str(copy_of_the_package.parent),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert f"stale install: the tests would import {PACKAGE} from {copy_of_the_package}," in (
        run.stderr
    )
    assert "  changed: stale/rule.py\n" in run.stderr
    assert "make install" in run.stderr
    assert "passed" not in run.stdout and "collected" not in run.stdout
