"""Shared test harness: placebo replay with call recording, frozen clocks, policy runs."""

from __future__ import annotations

import contextvars
import pathlib

import boto3
import placebo
import pytest
import time_machine
from c7n.cache import InMemoryCache
from c7n.config import Config
from c7n.loader import PolicyLoader
from c7n.utils import reset_session_cache

from c7n_keyage import reports
from c7n_keyage.filters import AccessKeyUnused
from tests.placebo_fixtures import ACCOUNT_ID, NOW, PLACEBO

# IAM calls made while an access-key-unused filter runs (see filter_calls_are_declared).
_FILTER_CALLS: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "filter_calls", default=None
)


class Replay:
    """A boto3 session answered by placebo from a fixture directory.

    Placebo wraps around to ``_1`` when a numbered response runs out, so extra calls do
    not fail: every call is recorded here, from ``provide-client-params`` (placebo
    answers ``before-call`` itself, so a hook there would never fire).
    """

    def __init__(self, path: pathlib.Path):
        if not path.is_dir():
            raise FileNotFoundError(path)
        self.session = boto3.Session(
            region_name="us-east-1",
            aws_access_key_id="placebo",
            aws_secret_access_key="placebo",
        )
        self.pill = placebo.attach(self.session, data_path=str(path))
        self.pill.playback()
        self.calls: list[tuple[str, str, dict]] = []
        self.session.events.register("provide-client-params", self._record)
        # c7n sets attributes on the factory (policy_name, region): a plain function.
        self.session_factory = lambda region=None, assume=None: self.session

    def _record(self, params, model, **kwargs):
        call = (model.service_model.service_name, model.name, dict(params))
        self.calls.append(call)
        if (in_filter := _FILTER_CALLS.get()) is not None:
            in_filter.append(call)

    def operations(self) -> list[str]:
        return [operation for _, operation, _ in self.calls]

    def params(self, operation: str) -> list[dict]:
        return [params for _, op, params in self.calls if op == operation]


@pytest.fixture
def replay_from():
    """Replay ``tests/data/placebo/<name>/`` (or a directory path): for shared data.

    c7n keeps sessions in a thread-local cache for 45 minutes; it is reset around each
    test, or a test would replay the previous test's session.
    """
    reset_session_cache()
    yield lambda name: Replay(PLACEBO / name)
    reset_session_cache()


@pytest.fixture
def replay(request, replay_from):
    """Replay ``tests/data/placebo/<test function name>/``."""
    return replay_from(request.node.originalname)


@pytest.fixture(autouse=True)
def no_report_held():
    """Each test fetches its own report: the process-wide store starts and ends empty."""
    reports.forget()
    yield
    reports.forget()


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
    """Load (validating against the JSON schema) and run one policy; return the policy."""

    def run(
        data: dict,
        replay: Replay,
        cache: str = "",
        dryrun: bool = False,
        validate=True,
        account_id: str = ACCOUNT_ID,
    ):
        config = Config.empty(
            account_id=account_id,
            region="us-east-1",
            output_dir=str(tmp_path / "out"),
            cache=cache,
            cache_period=15 if cache else 0,
            dryrun=dryrun,
        )
        collection = PolicyLoader(config).load_data(
            {"policies": [data]},
            file_uri="memory://test",
            validate=validate,
            session_factory=replay.session_factory,
        )
        policy = list(collection)[0]
        policy.validate()
        policy.resources = policy.run()
        return policy

    return run


@pytest.fixture(autouse=True)
def filter_calls_are_declared(monkeypatch):
    """Across the whole suite: every API call a filter makes is in its get_permissions()."""
    runs: list[tuple[set[str], list]] = []
    for cls in {*AccessKeyUnused.__subclasses__()}:
        original = cls.process

        def process(self, resources, event=None, _original=original):
            token = _FILTER_CALLS.set([])
            try:
                return _original(self, resources, event)
            finally:
                runs.append((set(self.get_permissions()), _FILTER_CALLS.get()))
                _FILTER_CALLS.reset(token)

        monkeypatch.setattr(cls, "process", process)
    yield runs
    for declared, calls in runs:
        made = {f"{service}:{operation}" for service, operation, _ in calls}
        assert made <= declared, f"undeclared calls: {made - declared}"
