"""The test harness itself: the stale-install guard and strict placebo playback.

The tests import the installed copy of the package (its ``.pth`` runs before pytest sets
the path): ``tests/install_guard.py`` stops the session when that copy differs from the
checkout. Placebo 0.10 wraps around to ``_1`` when an operation's numbered responses run
out, so an unexpected call used to get an old answer and pass: ``tests/placebo_replay.py``
makes it an error, unless the fixture directory declares the operation as repeating.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

import c7n_keyage
from tests.install_guard import CHECKOUT, FIX, PACKAGE, imported_from, stale_install
from tests.placebo_fixtures import NOW, FixtureDir, credential_report, error, ok
from tests.placebo_replay import REPLAYS, Replay, UnexpectedCall, unexpected_calls

NOT_PRESENT = error(410, "ReportNotPresent", "no report")

# --- the stale-install guard ---


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
            str(CHECKOUT / "tests" / "test_options.py"),
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


# --- strict placebo playback ---


def state(value: str) -> dict:
    return ok({"State": value})


def test_an_extra_call_fails_naming_the_operation_and_its_number(tmp_path):
    fixtures = FixtureDir("one_report", tmp_path).add(
        "iam", "GetCredentialReport", credential_report("user\n", NOW)
    )
    fixtures.write()
    iam = Replay(fixtures.path).session.client("iam")

    assert iam.get_credential_report()["Content"] == "user\n"
    with pytest.raises(UnexpectedCall) as raised:
        iam.get_credential_report()

    assert str(raised.value).startswith(
        "unexpected call: iam.GetCredentialReport call 2 has no response "
        "iam.GetCredentialReport_2.json in one_report/ (1 recorded)."
    )
    (replay,) = REPLAYS
    assert replay.unexpected == [("iam.GetCredentialReport", 2)]
    replay.unexpected.clear()  # provoked on purpose: do not fail this test at teardown


def test_an_operation_with_no_response_fails_at_its_first_call(tmp_path):
    fixtures = FixtureDir("nothing", tmp_path).add("iam", "ListUsers", ok({"Users": []}))
    fixtures.write()
    replay = Replay(fixtures.path)
    with pytest.raises(UnexpectedCall, match=r"iam\.ListAccessKeys call 1 has no response"):
        replay.session.client("iam").list_access_keys(UserName="x")
    assert replay.unexpected == [("iam.ListAccessKeys", 1)]
    replay.unexpected.clear()


def test_an_extra_call_in_a_policy_fails(replay_from, frozen, run_policy):
    # The report-only fixture holds no ListAccessKeys: a policy that lists keys must fail,
    # where placebo used to answer with another file and let the test pass.
    replay = replay_from("test_report_only_flags_stale_keys")
    policy = {
        "name": "resolve-ids",
        "resource": "iam-user",
        "filters": [{"type": "access-key-unused", "resolve-key-ids": True}],
    }
    with pytest.raises(UnexpectedCall, match=r"iam\.ListAccessKeys call 1 has no response"):
        run_policy(policy, replay)
    assert replay.unexpected == [("iam.ListAccessKeys", 1)]
    replay.unexpected.clear()


def test_a_swallowed_extra_call_still_fails_the_test(tmp_path, request):
    # Code under test may catch the error (c7n logs and drops some): the autouse fixture
    # unexpected_calls_fail still sees the call and fails the test at teardown.
    assert "unexpected_calls_fail" in request.fixturenames
    fixtures = FixtureDir("swallowed", tmp_path).add("iam", "ListUsers", ok({"Users": []}))
    fixtures.write()
    replay = Replay(fixtures.path)
    iam = replay.session.client("iam")
    iam.list_users()
    try:
        iam.list_users()
    except Exception:  # standing in for code that swallows errors
        pass
    assert unexpected_calls() == ["swallowed: iam.ListUsers call 2"]
    replay.unexpected.clear()
    assert unexpected_calls() == []


def test_declared_repetition_repeats_the_last_response_only_there(tmp_path):
    fixtures = (
        FixtureDir("never_ready", tmp_path)
        .add("iam", "GetCredentialReport", NOT_PRESENT)
        .add("iam", "GenerateCredentialReport", state("STARTED"))
        .add("iam", "GenerateCredentialReport", state("INPROGRESS"))
        .repeat("iam", "GenerateCredentialReport")
    )
    fixtures.write()
    replay = Replay(fixtures.path)
    iam = replay.session.client("iam")

    states = [iam.generate_credential_report()["State"] for _ in range(4)]
    # The last response repeats; placebo's wrap-around would have given STARTED again.
    assert states == ["STARTED", "INPROGRESS", "INPROGRESS", "INPROGRESS"]
    with pytest.raises(iam.exceptions.CredentialReportNotPresentException):
        iam.get_credential_report()
    # Undeclared operations stay strict.
    with pytest.raises(UnexpectedCall, match=r"iam\.GetCredentialReport call 2 "):
        iam.get_credential_report()
    replay.unexpected.clear()


def test_repetition_must_name_a_recorded_operation(tmp_path):
    fixtures = FixtureDir("bad_repeat", tmp_path).repeat("iam", "GetCredentialReport")
    fixtures.add("iam", "ListUsers", ok({"Users": []})).write()
    with pytest.raises(FileNotFoundError, match="repeats iam.GetCredentialReport"):
        Replay(fixtures.path)
