"""Replay of recorded API responses for the tests: strict placebo playback, calls recorded.

Kept out of ``conftest.py`` so that test modules import it under one name: pytest imports
``tests/conftest.py`` as ``conftest``, so ``from tests.conftest import ...`` would load a
second copy whose state (the replays of the running test, the filter's calls) the fixtures
never see.
"""

from __future__ import annotations

import contextvars
import json
import os
import pathlib
import threading

import boto3
from placebo.pill import Pill

from tests.placebo_fixtures import REPEAT_FILE

# IAM calls made while an access-key-unused filter runs (see filter_calls_are_declared).
FILTER_CALLS: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "filter_calls", default=None
)


class UnexpectedCall(Exception):
    """A call for which the fixture directory holds no numbered response."""


class StrictPill(Pill):
    """Placebo's player without its wrap-around: a call past the recorded ones fails.

    placebo 0.10's ``Pill.get_next_file_path`` serves ``<service>.<Operation>_1.json`` again
    once the numbered responses run out, so an unexpected call gets an old answer and the
    test passes by accident. Here the call raises ``UnexpectedCall`` naming the operation
    and its number, and is remembered (code under test may swallow the exception: conftest's
    ``unexpected_calls_fail`` fails the test all the same). Operations listed in the
    directory's ``REPEAT_FILE`` (``FixtureDir.repeat``) answer every call past the end with
    their last response: "never ready" and "always throttled" are declared, never accidental.
    """

    def __init__(self, path: pathlib.Path, repeat: frozenset[str]):
        super().__init__()
        self.path = path
        self.repeat = repeat
        self.unexpected: list[tuple[str, int]] = []
        self._lock = threading.Lock()  # c7n runs some calls on worker threads

    def get_next_file_path(self, service, operation):
        base = f"{service}.{operation}"
        with self._lock:
            number = self._index.get(base, 1)
            found = self.find_file_format(os.path.join(self.data_path, f"{base}_{number}"))
            if found[0] is not None:
                self._index[base] = number + 1
                return found
            if base in self.repeat and number > 1:
                return self.find_file_format(os.path.join(self.data_path, f"{base}_{number - 1}"))
            self.unexpected.append((base, number))
        raise UnexpectedCall(
            f"unexpected call: {base} call {number} has no response {base}_{number}.json in "
            f"{self.path.name}/ ({number - 1} recorded). Placebo would have wrapped around to "
            f"_1; here an extra call is an error. If the scenario answers this call the same "
            f"way for ever on purpose, declare it with FixtureDir.repeat ({REPEAT_FILE})."
        )


# The replays made by the running test (see conftest's unexpected_calls_fail).
REPLAYS: list[Replay] = []


class Replay:
    """A boto3 session answered by placebo from a fixture directory, strictly.

    Every call is recorded here, from ``provide-client-params`` (placebo answers
    ``before-call`` itself, so a hook there would never fire); a call with no numbered
    response left fails (``StrictPill``).
    """

    def __init__(self, path: pathlib.Path):
        if not path.is_dir():
            raise FileNotFoundError(path)
        self.path = path
        repeat_file = path / REPEAT_FILE
        repeat = frozenset(json.loads(repeat_file.read_text()) if repeat_file.exists() else ())
        for base in sorted(repeat):
            if not (path / f"{base}_1.json").exists():
                raise FileNotFoundError(f"{REPEAT_FILE} repeats {base}, which has no response")
        self.session = boto3.Session(
            region_name="us-east-1",
            aws_access_key_id="placebo",
            aws_secret_access_key="placebo",
        )
        self.pill = StrictPill(path, repeat)
        self.pill.attach(self.session, str(path))
        self.pill.playback()
        self.calls: list[tuple[str, str, dict]] = []
        self.session.events.register("provide-client-params", self._record)
        # c7n sets attributes on the factory (policy_name, region): a plain function.
        self.session_factory = lambda region=None, assume=None: self.session
        REPLAYS.append(self)

    @property
    def unexpected(self) -> list[tuple[str, int]]:
        """``(service.Operation, call number)`` of each call that had no response."""
        return self.pill.unexpected

    def _record(self, params, model, **kwargs):
        call = (model.service_model.service_name, model.name, dict(params))
        self.calls.append(call)
        if (in_filter := FILTER_CALLS.get()) is not None:
            in_filter.append(call)

    def operations(self) -> list[str]:
        return [operation for _, operation, _ in self.calls]

    def params(self, operation: str) -> list[dict]:
        return [params for _, op, params in self.calls if op == operation]


def unexpected_calls() -> list[str]:
    """The calls of the running test's replays that had no response: ``dir: op call N``."""
    return [f"{r.path.name}: {base} call {n}" for r in REPLAYS for base, n in r.unexpected]
