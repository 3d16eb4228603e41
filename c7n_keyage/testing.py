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
  read a garbled report and match nothing), and without placebo's debug printing. It also
  notes when it recorded (``placebo-clock.json``).
- A replayed policy judges at the recording's time: its ``access-key-unused`` filters and
  lifecycle actions see that moment as now (and do not pause, as nothing is being made).
  Otherwise, a day later, the recorded report would look too old, the filter would ask for
  a new one, and a recording that worked would fail. A recording without the note is dated
  by its newest recorded credential report; one without either judges at the real clock.
- Each ``replay`` drops c7n's per-thread session cache, and each ``load_policy`` builds a
  config of its own, so one test never sees another's responses or report.

Import it from tests only: it needs placebo, which the plugin itself does not
(``pip install 'c7n-keyage[testing]'`` brings it).
"""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import threading
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from c7n.config import Config
from c7n.loader import PolicyLoader, SchemaValidator
from c7n.utils import reset_session_cache
from placebo.pill import Pill
from placebo.serializer import deserialize

from c7n_keyage.dates import parse_iso, utc

# Cloud Custodian's own tests run as this account.
ACCOUNT_ID = "644160558196"
REGION = "us-east-1"
# Operations listed here (a JSON list of "service.Operation" in the flight's directory)
# answer every call past their last response with it: "never ready" on purpose.
REPEAT_FILE = "placebo-repeat.json"
# When the responses were recorded: {"recorded": "<ISO 8601 time, UTC>"}, written by record().
CLOCK_FILE = "placebo-clock.json"
REPORT_RESPONSES = "iam.GetCredentialReport_*.json"


class UnexpectedCall(Exception):
    """A call for which the flight's directory holds no numbered response."""


class _StrictPill(Pill):
    """Placebo's player without its wrap-around to ``_1``, and a recorder that saves
    responses as they must replay."""

    def __init__(self, path: pathlib.Path, repeat: frozenset[str], clock: RecordedClock):
        super().__init__()
        self.path = path
        self.repeat = repeat
        self.clock = clock
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
            f"_1; here an extra call is an error. {self.likely_cause(base)}"
        )

    def likely_cause(self, base: str) -> str:
        if base != "iam.GenerateCredentialReport":
            return (
                "If the scenario answers this call the same way for ever on purpose, list it "
                f"in {REPEAT_FILE}."
            )
        return (
            "The policy asked for a new credential report: the recorded one looked older than "
            "its report_max_age at the time it judged. A policy loaded with "
            f"load_policy(data, flight) judges at {self.clock.describe()}; one loaded "
            "otherwise judges at the real clock (pin it with flight.pin(policy))."
        )

    def save_response(self, service, operation, response_data, http_response):
        # placebo's own writer prints every value it serializes and saves bytes as base64,
        # which it then replays as that text: save text as text instead. JSON escapes
        # everything but ASCII, so the file reads the same in any locale.
        path = pathlib.Path(self.get_new_file_path(service, operation))
        data = {"status_code": http_response, "data": on_disk(response_data)}
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def on_disk(value: Any) -> Any:
    """A response as placebo stores it, JSON-ready: datetimes in placebo's form (its player
    turns them back into datetimes, in UTC), bytes as the text they hold."""
    if isinstance(value, datetime.datetime):
        value = utc(value)
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
        return value.decode()  # UTF-8
    if isinstance(value, dict):
        return {k: on_disk(v) for k, v in value.items()}
    if isinstance(value, list):
        return [on_disk(v) for v in value]
    return value


@dataclass(frozen=True)
class RecordedClock:
    """When a flight's responses were recorded (None: unknown), and how that is known."""

    moment: datetime.datetime | None
    source: str

    def describe(self) -> str:
        if self.moment is None:
            return f"the real clock: {self.source}"
        return f"{self.moment.isoformat()} ({self.source})"


def recorded_clock(path: pathlib.Path) -> RecordedClock:
    """When the responses in ``path`` were recorded: as ``record()`` noted it, else as the
    newest credential report among them was generated (at most 4 hours before, on AWS)."""
    note = path / CLOCK_FILE
    if note.exists():
        moment = parse_iso(str(json.loads(note.read_text()).get("recorded")))
        if moment is None:
            raise ValueError(f"{note}: 'recorded' is not an ISO 8601 time")
        return RecordedClock(moment, f"recorded then, says {CLOCK_FILE}")
    generated = [
        utc(response["data"]["GeneratedTime"])
        for response in map(_response, sorted(path.glob(REPORT_RESPONSES)))
        if isinstance(response.get("data", {}).get("GeneratedTime"), datetime.datetime)
    ]
    if generated:
        return RecordedClock(max(generated), "the newest recorded report's GeneratedTime")
    return RecordedClock(None, f"no {CLOCK_FILE} and no recorded credential report")


def _response(path: pathlib.Path) -> dict:
    # JSON read from bytes: its encoding is told from the bytes, whatever the locale's.
    return json.loads(path.read_bytes(), object_hook=deserialize)


def note_recording(path: pathlib.Path, moment: datetime.datetime) -> None:
    (path / CLOCK_FILE).write_text(json.dumps({"recorded": utc(moment).isoformat()}) + "\n")


# botocore reads and parses its JSON models (endpoints, each service's model) once per
# session, and a test makes a session per flight: parsing was most of a replay's cost. A
# loader only caches what it has read, so the replays of a process share one.
_MODELS = botocore.loaders.create_loader()


def _replay_session(region: str) -> boto3.Session:
    core = botocore.session.get_session()
    core.register_component("data_loader", _MODELS)
    session = boto3.Session(
        botocore_session=core,
        region_name=region,
        aws_access_key_id="placebo",
        aws_secret_access_key="placebo",
    )
    # boto3 adds its own data folder to the loader's search path with every session.
    _MODELS.search_paths[:] = list(dict.fromkeys(_MODELS.search_paths))
    return session


class Flight:
    """A boto3 session answered from (or recorded to) a directory of placebo responses.

    A flight is also the session factory c7n wants (``session_factory=flight``): it
    returns its one session whatever region or role c7n asks for. ``clock`` says when
    the responses were recorded; ``pin(policy)`` makes a policy judge at that time.
    """

    def __init__(
        self, path: str | os.PathLike, session: boto3.Session | None = None, region: str = REGION
    ):
        self.path = pathlib.Path(path)
        recording = session is not None
        if recording:
            self.path.mkdir(parents=True, exist_ok=True)
            note_recording(self.path, datetime.datetime.now(datetime.timezone.utc))
            self.clock = RecordedClock(None, "recording now")
        elif not self.path.is_dir():
            raise FileNotFoundError(f"no recorded responses at {self.path}")
        else:
            self.clock = recorded_clock(self.path)
        self.session = session or _replay_session(region)
        # As c7n's own session factories: c7n keeps the session it caches under this name.
        self.region = region
        self.pill = _StrictPill(self.path, _repeated(self.path), self.clock)
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

    def pin(self, policy: Any) -> Any:
        """Make ``policy``'s access-key filters and lifecycle actions judge at the time the
        responses were recorded, without pausing; returns ``policy``. Nothing else changes:
        c7n's own filters (``value_type: age``) still judge at the real clock."""
        moment = self.clock.moment
        if moment is None:
            return policy
        manager = policy.resource_manager
        for part in [*_nested(manager.filters), *manager.actions]:
            if type(part).__module__.startswith(f"{__package__}.") and hasattr(part, "clock"):
                part.clock = lambda: moment
                if hasattr(part, "sleep"):
                    part.sleep = lambda seconds: None
        return policy


def _repeated(path: pathlib.Path) -> frozenset[str]:
    repeat_file = path / REPEAT_FILE
    repeat = frozenset(json.loads(repeat_file.read_text()) if repeat_file.exists() else ())
    for base in sorted(repeat):
        if not (path / f"{base}_1.json").exists():
            raise FileNotFoundError(f"{REPEAT_FILE} repeats {base}, which has no response")
    return repeat


def _nested(filters: list) -> list:
    """Every filter of a policy, those inside ``or``, ``and`` and ``not`` blocks too."""
    return [f for flt in filters for f in [flt, *_nested(getattr(flt, "filters", []))]]


def replay(path: str | os.PathLike, region: str = REGION) -> Flight:
    """Answer every call from the responses recorded in ``path``, strictly."""
    return Flight(path, region=region)


def record(path: str | os.PathLike, session: boto3.Session) -> Flight:
    """Save every response ``session`` gets into ``path``, numbered as ``replay`` reads it,
    and when it was recorded.

    ``session`` talks to a real endpoint (your test account, or a local emulator).
    """
    return Flight(path, session=session)


# c7n's schema validator caches the schema it generates per validator, and a loader makes
# a validator of its own: the policies loaded here share one, as a run's policies do.
_SCHEMA = SchemaValidator()


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
    Nothing is written unless ``output_dir`` names a directory. On a replayed flight, the
    policy judges at the time the flight was recorded (``Flight.pin``).
    """
    config = Config.empty(
        account_id=account_id,
        region=region,
        output_dir=output_dir,
        # c7n's null output still logs to a file beside it; its null log does not.
        log_group="null://" if output_dir == "null://" else None,
        cache=cache,
        # c7n's default period; without a cache c7n ignores it.
        cache_period=15,
        dryrun=dryrun,
    )
    loader = PolicyLoader(config)
    loader.validator = _SCHEMA
    collection = loader.load_data(
        {"policies": [data]},
        file_uri="memory://test",
        validate=validate,
        session_factory=session_factory,
    )
    (policy,) = list(collection)
    policy.validate()
    if isinstance(session_factory, Flight):
        session_factory.pin(policy)
    return policy
