"""Shared test harness: strict placebo replay (``support/placebo_replay.py``), frozen clocks,
runs, and the slow marker on every end-to-end test."""

from __future__ import annotations

import pathlib

import pytest
import time_machine
from c7n.cache import InMemoryCache
from hypothesis import settings

from tests.support.install_guard import imported_from, stale_install
from tests.support.placebo_fixtures import ACCOUNT_ID, NOW, PLACEBO
from tests.support.placebo_replay import FILTER_CALLS, REPLAYS, Replay, unexpected_calls

# Property tests (hypothesis) must fail the same way on every run, so a failure
# seen once can be replayed: "ci", the default, is derandomized (the same examples every
# run, until hypothesis, Python or the test changes) and prints the failing example's
# @reproduce_failure(...) blob; no example database, so nothing depends on earlier runs.
# "explore" draws new random examples: pytest --hypothesis-profile=explore; a failure there
# prints the blob too, and --hypothesis-seed=N replays that run.
settings.register_profile("ci", derandomize=True, print_blob=True, database=None, deadline=None)
settings.register_profile("explore", print_blob=True, database=None, deadline=None)
settings.load_profile("ci")

# No c7n_keyage import at the top of this file: pytest_configure checks first which copy
# of the package the tests would import.


def pytest_configure(config):
    """Stop at once when the tests would import a stale installed copy of the package."""
    if problem := stale_install(imported_from()):
        pytest.exit(problem, returncode=2)


E2E = pathlib.Path(__file__).parent / "e2e"


def pytest_collection_modifyitems(config, items):
    """Every test under ``tests/e2e/`` is slow: it runs the stock CLIs or the Lambda handler
    in a subprocess (``make check`` leaves them out). Slow tests elsewhere say so themselves."""
    for item in items:
        if item.path.is_relative_to(E2E):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def unexpected_calls_fail():
    """Fail a test in which any replay got a call it had no response for.

    ``UnexpectedCall`` is raised where the call is made, but c7n logs and drops some
    errors (worker threads, actions): this catches those too. A test that provokes one
    on purpose clears ``replay.unexpected`` once it has checked it.
    """
    REPLAYS.clear()
    yield
    unexpected = unexpected_calls()
    REPLAYS.clear()
    assert not unexpected, f"calls with no recorded response: {unexpected}"


@pytest.fixture
def replay_from():
    """Replay ``tests/data/placebo/<name>/`` (or a directory path): for shared data.

    Each replay drops c7n's per-thread session cache (``c7n_keyage.testing.Flight``), or a
    test would replay the previous test's session.
    """
    return lambda name: Replay(PLACEBO / name)


@pytest.fixture
def replay(request, replay_from):
    """Replay ``tests/data/placebo/<test function name>/``."""
    return replay_from(request.node.originalname)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def memory_cache():
    InMemoryCache._InMemoryCache__shared_state.clear()
    yield "memory"
    InMemoryCache._InMemoryCache__shared_state.clear()


@pytest.fixture
def run_policy(tmp_path):
    """Load (validating against the JSON schema) and run one policy; return the policy.

    Each call is a policy of its own on a config of its own, as in Cloud Custodian's tests
    (``c7n_keyage.testing.load_policy``, the helper users get).
    """
    from c7n_keyage.testing import load_policy

    def run(
        data: dict,
        replay: Replay,
        cache: str = "",
        dryrun: bool = False,
        validate=True,
        account_id: str = ACCOUNT_ID,
    ):
        policy = load_policy(
            data,
            replay.session_factory,
            account_id=account_id,
            output_dir=str(tmp_path / "out"),
            cache=cache,
            dryrun=dryrun,
            validate=validate,
        )
        policy.resources = policy.run()
        return policy

    return run


@pytest.fixture(autouse=True)
def filter_calls_are_declared(monkeypatch):
    """Across the whole suite: every API call a filter makes is in its get_permissions()."""
    from c7n_keyage.credential_report.reader import ReportFilter

    runs: list[tuple[set[str], list]] = []

    def descendants(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from descendants(sub)

    for cls in {c for c in descendants(ReportFilter) if "process" in vars(c)}:
        original = cls.process

        def process(self, resources, event=None, _original=original):
            token = FILTER_CALLS.set([])
            try:
                return _original(self, resources, event)
            finally:
                runs.append((set(self.get_permissions()), FILTER_CALLS.get()))
                FILTER_CALLS.reset(token)

        monkeypatch.setattr(cls, "process", process)
    yield runs
    for declared, calls in runs:
        made = {f"{service}:{operation}" for service, operation, _ in calls}
        assert made <= declared, f"undeclared calls: {made - declared}"


@pytest.fixture
def zone_elsewhere(monkeypatch):
    """The machine's local time zone set to UTC-5 for one test (a POSIX TZ rule: no tz
    database needed): dates must come out the same as on a UTC machine."""
    import time

    monkeypatch.setenv("TZ", "XST+05")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
