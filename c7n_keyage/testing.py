"""Test your own policies on recorded API responses, the way Cloud Custodian tests its own.

Cloud Custodian's tests replay recorded responses with placebo (its ``tests/zpill.py``,
which is not in the c7n wheel) and build a fresh config per test. This module gives a
policy author the same, for policies that use ``access-key-unused``::

    from c7n_keyage.testing import load_policy, replay

    def test_disables_the_stale_key():
        flight = replay("tests/data/placebo/test_disables_the_stale_key")
        policy = load_policy(MY_POLICY, flight)
        resources = policy.run()
        assert [r["UserName"] for r in resources] == ["bob"]
        assert flight.params("UpdateAccessKey") == [{...}]

What it adds to plain placebo:

- Playback is strict: a call with no numbered response left fails (``UnexpectedCall``),
  where placebo would serve ``_1`` again and the test would pass on an old answer.
  ``flight.unexpected`` lists such calls even where c7n swallowed the error.
- Every call is recorded (``flight.calls``, ``operations()``, ``params(op)``), so a test can
  assert the calls made, and not made.
- ``record(path, session)`` saves responses the way they replay: the credential report's
  ``Content`` as CSV text (placebo saves bytes as base64 and replays that text, so c7n would
  read a garbled report and match nothing), and without placebo's debug printing.
- Each ``replay`` drops c7n's per-thread session cache, and each ``load_policy`` builds a
  config of its own, so one test never sees another's responses or report.

Import it from tests only: it needs placebo, which the plugin itself does not.
"""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import threading
from typing import Any

import boto3
from c7n.config import Config
from c7n.loader import PolicyLoader
from c7n.utils import reset_session_cache
from placebo.pill import Pill

# Cloud Custodian's own tests run as this account.
ACCOUNT_ID = "644160558196"
REGION = "us-east-1"
# Operations listed here (a JSON list of "service.Operation" in the flight's directory)
# answer every call past their last response with it: "never ready" on purpose.
REPEAT_FILE = "placebo-repeat.json"


class UnexpectedCall(Exception):
    """A call for which the flight's directory holds no numbered response."""


class _StrictPill(Pill):
    """Placebo's player without its wrap-around to ``_1``, and a recorder that saves
    responses as they must replay."""

    def __init__(self, path: pathlib.Path, repeat: frozenset[str]):
        super().__init__()
        self.path = path
        self.repeat = repeat
        self.unexpected: list[tuple[str, int]] = []
        self._lock = threading.Lock()  # c7n makes some calls on worker threads

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
            f"way for ever on purpose, list it in {REPEAT_FILE}."
        )

    def save_response(self, service, operation, response_data, http_response=200):
        # placebo's own writer prints every value it serializes and saves bytes as base64,
        # which it then replays as that text: save text as text instead.
        path = self.get_new_file_path(service, operation)
        data = {"status_code": http_response, "data": on_disk(response_data)}
        with open(path, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2, sort_keys=True)
            out.write("\n")


def on_disk(value: Any) -> Any:
    """A response as placebo stores it, JSON-ready: datetimes in placebo's form (its player
    turns them back into datetimes, in UTC), bytes as the text they hold."""
    if isinstance(value, datetime.datetime):
        value = value.astimezone(datetime.timezone.utc) if value.tzinfo else value
        return {
            "__class__": "datetime",
            "year": value.year,
            "month": value.month,
            "day": value.day,
            "hour": value.hour,
            "minute": value.minute,
            "second": value.second,
            "microsecond": value.microsecond,
        }
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, dict):
        return {k: on_disk(v) for k, v in value.items()}
    if isinstance(value, list):
        return [on_disk(v) for v in value]
    return value


class Flight:
    """A boto3 session answered from (or recorded to) a directory of placebo responses.

    A flight is also the session factory c7n wants (``session_factory=flight``): it
    returns its one session whatever region or role c7n asks for.
    """

    def __init__(
        self, path: str | os.PathLike, session: boto3.Session | None = None, region: str = REGION
    ):
        self.path = pathlib.Path(path)
        recording = session is not None
        if recording:
            self.path.mkdir(parents=True, exist_ok=True)
        elif not self.path.is_dir():
            raise FileNotFoundError(f"no recorded responses at {self.path}")
        repeat_file = self.path / REPEAT_FILE
        repeat = frozenset(json.loads(repeat_file.read_text()) if repeat_file.exists() else ())
        for base in sorted(repeat):
            if not (self.path / f"{base}_1.json").exists():
                raise FileNotFoundError(f"{REPEAT_FILE} repeats {base}, which has no response")
        self.session = session or boto3.Session(
            region_name=region, aws_access_key_id="placebo", aws_secret_access_key="placebo"
        )
        self.pill = _StrictPill(self.path, repeat)
        self.pill.attach(self.session, str(self.path))
        if recording:
            self.pill.record()
        else:
            self.pill.playback()
        self.calls: list[tuple[str, str, dict]] = []
        # provide-client-params: placebo answers before-call itself, so a hook there
        # registered after it would never fire.
        self.session.events.register("provide-client-params", self._record)
        # c7n caches one session per thread for 45 minutes: without this, a test would
        # replay the previous test's flight.
        reset_session_cache()

    def __call__(self, region: str | None = None, assume: Any = None) -> boto3.Session:
        return self.session

    @property
    def unexpected(self) -> list[tuple[str, int]]:
        """``(service.Operation, call number)`` of each call that had no response."""
        return self.pill.unexpected

    def _record(self, params, model, **kwargs) -> None:
        self.calls.append((model.service_model.service_name, model.name, dict(params)))

    def operations(self) -> list[str]:
        return [operation for _, operation, _ in self.calls]

    def params(self, operation: str) -> list[dict]:
        return [params for _, op, params in self.calls if op == operation]


def replay(path: str | os.PathLike, region: str = REGION) -> Flight:
    """Answer every call from the responses recorded in ``path``, strictly."""
    return Flight(path, region=region)


def record(path: str | os.PathLike, session: boto3.Session) -> Flight:
    """Save every response ``session`` gets into ``path``, numbered as ``replay`` reads them.

    ``session`` talks to a real endpoint (your test account, or a local emulator).
    """
    return Flight(path, session=session)


def load_policy(
    data: dict,
    session_factory: Any,
    *,
    account_id: str = ACCOUNT_ID,
    region: str = REGION,
    output_dir: str = "null://",
    cache: str = "",
    dryrun: bool = False,
    validate: bool = True,
) -> Any:
    """Load one policy as ``custodian run`` would, on a config of its own.

    ``validate`` checks the JSON schema (c7n's ``custodian validate``); the policy's own
    ``validate()`` (the filter's option and composition checks) always runs. ``cache`` is
    off by default, as in Cloud Custodian's tests; ``"memory"`` or a file path turns it on.
    Nothing is written unless ``output_dir`` names a directory.
    """
    config = Config.empty(
        account_id=account_id,
        region=region,
        output_dir=output_dir,
        # c7n's null output still logs to a file beside it; its null log does not.
        log_group="null://" if output_dir == "null://" else None,
        cache=cache,
        cache_period=15 if cache else 0,
        dryrun=dryrun,
    )
    collection = PolicyLoader(config).load_data(
        {"policies": [data]},
        file_uri="memory://test",
        validate=validate,
        session_factory=session_factory,
    )
    (policy,) = list(collection)
    policy.validate()
    return policy
