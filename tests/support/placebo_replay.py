"""The project's replays: the shipped helper (``c7n_keyage.testing``), plus what the suite
checks across every test: the calls a filter makes, and calls that had no response.

Kept out of ``conftest.py`` so that test modules import it under one name: pytest imports
``tests/conftest.py`` as ``conftest``, so ``from tests.conftest import ...`` would load a
second copy whose state (the replays of the running test, the filter's calls) the fixtures
never see.
"""

from __future__ import annotations

import contextvars
import pathlib

from c7n_keyage.testing import Flight, UnexpectedCall

__all__ = ["FILTER_CALLS", "REPLAYS", "Replay", "UnexpectedCall", "unexpected_calls"]

# IAM calls made while an access-key-unused filter runs (see filter_calls_are_declared).
FILTER_CALLS: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "filter_calls", default=None
)

# The replays made by the running test (see conftest's unexpected_calls_fail).
REPLAYS: list[Replay] = []


class Replay(Flight):
    """A strict replay (``c7n_keyage.testing.Flight``) that the suite keeps track of.

    ``UnexpectedCall`` is raised where a call is made, but c7n logs and drops some errors:
    conftest fails the test on any call of a replay in ``REPLAYS`` that had no response.
    """

    def __init__(self, path: pathlib.Path):
        super().__init__(path)

        # c7n sets attributes on the factory (policy_name, region): a plain function. It has
        # a region from the start, as c7n's own factories: c7n caches sessions under it.
        def session_factory(region=None, assume=None):
            return self.session

        session_factory.region = self.region
        self.session_factory = session_factory
        REPLAYS.append(self)

    def _record(self, params, model, **kwargs):
        super()._record(params, model, **kwargs)
        if (in_filter := FILTER_CALLS.get()) is not None:
            in_filter.append(self.calls[-1])


def unexpected_calls() -> list[str]:
    """The calls of the running test's replays that had no response: ``dir: op call N``."""
    return [f"{r.path.name}: {base} call {n}" for r in REPLAYS for base, n in r.unexpected]
