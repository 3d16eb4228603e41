"""``c7n_keyage.testing``, the helper for users' own placebo tests: strict playback.

Placebo 0.10 wraps around to ``_1`` when an operation's numbered responses run out, so an
unexpected call used to get an old answer and pass: the helper's replay makes it an error,
unless the fixture directory declares the operation as repeating.
"""

from __future__ import annotations

import json
import pathlib
import shutil
import time
from datetime import datetime, timedelta, timezone

import boto3
import pytest
import time_machine
from c7n.exceptions import PolicyValidationError

from c7n_keyage.credential_report.fetch import utcnow
from c7n_keyage.stale.access_key_unused import UserAccessKeyUnused
from c7n_keyage.testing import (
    CLOCK_FILE,
    REPEAT_FILE,
    Flight,
    load_policy,
    note_recording,
    on_disk,
    record,
    replay,
)
from tests.support.localiam import KeySpec, LocalIAM, UserSpec
from tests.support.placebo_fixtures import (
    FLAGGED_USERS,
    NOW,
    PLACEBO,
    STANDARD_REPORT,
    USERS,
    FixtureDir,
    add_users,
    credential_report,
    error,
    ok,
)
from tests.support.placebo_replay import REPLAYS, Replay, UnexpectedCall, unexpected_calls
from tests.support.policies import LIVE_CALLS, REPORT_CALLS, disable_policy, names

NOT_PRESENT = error(410, "ReportNotPresent", "no report")
IN_PROGRESS = error(404, "ReportInProgress", "being made")


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


# --- a replay judges at the time it was recorded ---

# The standard account with the disable policy's responses, recorded at NOW (its report
# generated two hours before): bob, dave and erin have a stale key each.
RECORDED = PLACEBO / "test_remove_keys_disables_only_flagged"
DISABLED = [
    ("bob-stale", "AKIAEXAMPLEBOB000001"),
    ("dave-abandoned", "AKIAEXAMPLEDAVE00001"),
    ("erin-two-keys", "AKIAEXAMPLEERIN00002"),
]
LATER = [timedelta(days=1), timedelta(days=365)]


def recorded_copy(tmp_path: pathlib.Path, noted: datetime | None) -> pathlib.Path:
    """The recorded flight, with ``record()``'s note of when (None: without one)."""
    path = tmp_path / "flight"
    shutil.copytree(RECORDED, path)
    if noted is not None:
        note_recording(path, noted)
    return path


def replayed_later(path: pathlib.Path, later: timedelta, **options) -> tuple[Flight, list]:
    """Replay ``path`` ``later`` than NOW: the disable policy's resources, and the flight."""
    with time_machine.travel(NOW + later, tick=False):
        flight = replay(path)
        resources = load_policy(disable_policy(disable=True), flight, **options).run()
    return flight, resources


@pytest.mark.parametrize("later", LATER, ids=["a-day-later", "a-year-later"])
def test_a_noted_recording_replays_on_any_later_day(tmp_path, later):
    flight, resources = replayed_later(recorded_copy(tmp_path, NOW), later)

    assert flight.clock.moment == NOW
    assert names(resources) == FLAGGED_USERS
    assert flight.operations() == REPORT_CALLS + LIVE_CALLS + ["UpdateAccessKey"] * 3
    assert [(p["UserName"], p["AccessKeyId"]) for p in flight.params("UpdateAccessKey")] == (
        DISABLED
    )
    assert flight.unexpected == []


def test_without_a_note_the_newest_recorded_report_dates_the_recording(tmp_path):
    path = recorded_copy(tmp_path, None)
    older = json.loads((path / "iam.GetCredentialReport_1.json").read_text())
    older["data"]["GeneratedTime"] = on_disk(NOW - timedelta(days=3))
    (path / "iam.GetCredentialReport_2.json").write_text(json.dumps(older))

    flight, resources = replayed_later(path, timedelta(days=365))

    assert flight.clock.moment == NOW - timedelta(hours=2)  # the report's GeneratedTime
    assert names(resources) == FLAGGED_USERS
    assert flight.operations().count("GetCredentialReport") == 1
    assert flight.unexpected == []


def test_without_a_note_or_a_report_the_real_clock_judges(tmp_path):
    path = tmp_path / "no_report"
    FixtureDir("no_report", tmp_path).add("iam", "ListUsers", ok({"Users": []})).write()
    flight = replay(path)
    policy = load_policy(disable_policy(disable=True), flight)

    assert flight.clock.moment is None
    assert "no placebo-clock.json and no recorded credential report" in flight.clock.source
    (flt,) = policy.resource_manager.filters
    assert "clock" not in vars(flt) and "sleep" not in vars(flt)
    assert policy.run() == []


def test_a_policy_judging_at_the_real_clock_is_told_why_it_asked_for_a_report(tmp_path):
    path = recorded_copy(tmp_path, NOW)
    with time_machine.travel(NOW + timedelta(days=2), tick=False):
        flight = replay(path)
        # Loaded without the flight itself (as c7n's TestUtils would load it): not pinned.
        policy = load_policy(
            disable_policy(disable=True), lambda region=None, assume=None: flight.session
        )
        with pytest.raises(UnexpectedCall) as raised:
            policy.run()

    message = str(raised.value)
    assert message.startswith("unexpected call: iam.GenerateCredentialReport call 1 ")
    assert message.endswith(
        "here an extra call is an error. The policy asked for a new credential report: the "
        "recorded one looked older than its report_max_age at the time it judged. A policy "
        "loaded with load_policy(data, flight) judges at "
        f"{NOW.isoformat()} (recorded then, says placebo-clock.json); one loaded otherwise "
        "judges at the real clock (pin it with flight.pin(policy))."
    )
    assert REPEAT_FILE not in message
    assert flight.unexpected == [("iam.GenerateCredentialReport", 1)]


def test_pinning_sets_each_loaded_policy_alone(tmp_path):
    flight = replay(recorded_copy(tmp_path, NOW))
    either = {
        "name": "either",
        "resource": "iam-user",
        "filters": [
            {"tag:team": "absent"},
            {"or": [{"type": "access-key-unused"}, {"not": [{"type": "access-key-unused"}]}]},
        ],
    }
    restore = {
        "name": "restore",
        "resource": "iam-user",
        "filters": [{"type": "retired-keys"}],
        "actions": [{"type": "restore-keys"}],
    }
    pinned = [load_policy(data, flight) for data in (either, restore)]
    unpinned = load_policy(either, lambda region=None, assume=None: flight.session)

    ours = [part for policy in pinned for part in plugin_parts(policy)]
    assert [type(part).__name__ for part in ours] == [
        "UserAccessKeyUnused",
        "UserAccessKeyUnused",
        "RetiredKeys",
        "RestoreKeys",
    ]
    assert {part.clock() for part in ours} == {NOW}
    # Nothing global changed: c7n's own filter, the classes and another policy keep theirs.
    assert "clock" not in vars(pinned[0].resource_manager.filters[0])
    assert not any("clock" in vars(part) for part in plugin_parts(unpinned))
    assert {type(part).clock for part in ours} == {utcnow}
    # Another plugin's filter with a clock of its own keeps it.
    foreign = type("Foreign", (), {"clock": staticmethod(utcnow), "sleep": None})()
    pinned[0].resource_manager.filters.append(foreign)
    flight.pin(pinned[0])
    assert vars(foreign) == {}


def plugin_parts(policy) -> list:
    """The plugin's filters (nested ones too) and actions of a loaded policy."""
    manager = policy.resource_manager
    parts, filters = [], list(manager.filters)
    while filters:
        flt = filters.pop(0)
        filters[:0] = getattr(flt, "filters", [])
        parts.append(flt)
    return [p for p in [*parts, *manager.actions] if type(p).__module__.startswith("c7n_keyage.")]


def test_a_pinned_policy_does_not_wait_for_a_report(tmp_path, monkeypatch):
    """A recording where the report was generated: its replay asks again at once, where
    the real run paused ``report_delay`` between asking and reading."""
    slept = []
    monkeypatch.setattr(UserAccessKeyUnused, "sleep", staticmethod(slept.append))
    fixtures = add_users(FixtureDir("generated", tmp_path), list(USERS))
    fixtures.add("iam", "GetCredentialReport", NOT_PRESENT)
    fixtures.add("iam", "GenerateCredentialReport", state("STARTED"))
    fixtures.add("iam", "GetCredentialReport", IN_PROGRESS)
    fixtures.add("iam", "GetCredentialReport", credential_report(STANDARD_REPORT))
    fixtures.write()
    report_only = {
        "name": "stale",
        "resource": "iam-user",
        "filters": [{"type": "access-key-unused"}],
    }

    with time_machine.travel(NOW, tick=False):
        pinned = replay(fixtures.path)
        assert names(load_policy(report_only, pinned).run()) == FLAGGED_USERS
        unpinned = replay(fixtures.path)
        load_policy(report_only, lambda region=None, assume=None: unpinned.session).run()

    assert pinned.clock.moment == NOW - timedelta(hours=2)
    assert slept == [10]  # the unpinned policy's pause, report_delay; none for the pinned one


# A user's flow, against moto in process: record as the README says, replay days later.
ACCOUNT = (
    UserSpec("alice", [KeySpec(created_days_ago=150, last_used_days_ago=1)]),
    UserSpec("bob", [KeySpec(created_days_ago=400, last_used_days_ago=200)]),
)


@pytest.mark.slow  # a local IAM endpoint in process
def test_a_recording_against_moto_replays_a_day_and_a_year_later(tmp_path, monkeypatch):
    with LocalIAM() as local:
        ids = local.seed(ACCOUNT)
        local.client("iam").generate_credential_report()  # as on AWS: a report at hand
        for name, value in local.env().items():
            monkeypatch.setenv(name, value)
        recorded = datetime.now(timezone.utc)
        flight = record(tmp_path / "flight", boto3.Session(region_name="us-east-1"))
        resources = load_policy(disable_policy(disable=True), flight).run()
    assert names(resources) == ["bob"]
    calls = flight.operations()
    assert calls.count("GetCredentialReport") == 1 and "GenerateCredentialReport" not in calls

    for later in LATER:
        with time_machine.travel(recorded + later, tick=False):
            flight = replay(tmp_path / "flight")
            resources = load_policy(disable_policy(disable=True), flight).run()
        assert names(resources) == ["bob"]
        assert flight.operations() == calls
        assert flight.params("UpdateAccessKey") == [
            {"UserName": "bob", "AccessKeyId": ids["bob"][0], "Status": "Inactive"}
        ]
        assert flight.unexpected == []


# --- what a flight and a loaded policy are made of ---


def one_response(tmp_path: pathlib.Path, name: str = "flight") -> pathlib.Path:
    fixtures = FixtureDir(name, tmp_path).add("iam", "ListUsers", ok({"Users": []}))
    fixtures.write()
    return fixtures.path


def test_a_replay_never_carries_your_credentials(tmp_path, monkeypatch):
    """Nothing is signed in a replay; were anything to be, it would not be with yours."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAYOURREALKEY00001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "your-secret")
    credentials = replay(one_response(tmp_path)).session.get_credentials()
    assert (credentials.access_key, credentials.secret_key) == ("placebo", "placebo")


def test_replays_share_botocores_parsed_models(tmp_path):
    first, second = replay(one_response(tmp_path, "a")), replay(one_response(tmp_path, "b"))
    loaders = [f.session._session.get_component("data_loader") for f in (first, second)]
    assert loaders[0] is loaders[1]
    assert first.session is not second.session


def test_a_replay_and_a_policy_take_the_region_given(tmp_path):
    flight = replay(one_response(tmp_path), region="eu-west-1")
    assert flight.session.region_name == "eu-west-1"
    policy = load_policy(disable_policy(disable=True), flight, region="eu-west-1")
    assert policy.options.region == "eu-west-1"
    assert load_policy(disable_policy(disable=True), flight).options.region == "us-east-1"


def test_a_policy_is_checked_against_the_json_schema_unless_told_not_to(tmp_path):
    flight = replay(one_response(tmp_path))
    # The schema's boolean; remove-keys' own validate() reads only whether it is set.
    data = disable_policy(matched="yes")
    with pytest.raises(PolicyValidationError, match="'yes' is not of type 'boolean'"):
        load_policy(data, flight)
    assert load_policy(data, flight, validate=False).name == "stale-keys"


def test_a_cache_keeps_custodians_default_period(tmp_path):
    flight = replay(one_response(tmp_path))
    options = load_policy(disable_policy(disable=True), flight, cache="memory").options
    assert (options.cache, options.cache_period) == ("memory", 15)


def test_an_output_directory_gets_custodians_run_log(tmp_path):
    path = recorded_copy(tmp_path, NOW)
    load_policy(disable_policy(disable=True), replay(path), output_dir=str(tmp_path / "out")).run()
    written = {p.name for p in (tmp_path / "out" / "stale-keys").iterdir()}
    assert {"custodian-run.log", "resources.json"} <= written


def test_a_missing_flight_is_named(tmp_path):
    with pytest.raises(FileNotFoundError) as missing:
        replay(tmp_path / "nowhere")
    assert str(missing.value) == f"no recorded responses at {tmp_path / 'nowhere'}"


def test_a_single_response_repeats_from_the_second_call(tmp_path):
    fixtures = FixtureDir("once", tmp_path).add("iam", "ListUsers", ok({"Users": []}))
    fixtures.repeat("iam", "ListUsers").write()
    iam = replay(fixtures.path).session.client("iam")
    assert [iam.list_users()["Users"] for _ in range(3)] == [[], [], []]


def test_a_recording_is_noted_in_utc_and_may_be_made_again(tmp_path, monkeypatch):
    """The note says when, in UTC whatever the machine's zone; the folder is made with its
    parents, and recording again into it is fine."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        path = tmp_path / "new" / "flight"
        before = datetime.now(timezone.utc)
        flight = record(path, boto3.Session(region_name="us-east-1"))
        record(path, boto3.Session(region_name="us-east-1"))
    finally:
        monkeypatch.undo()
        time.tzset()
    noted = datetime.fromisoformat(json.loads((path / CLOCK_FILE).read_text())["recorded"])
    assert before <= noted <= datetime.now(timezone.utc)
    assert flight.clock.describe() == "the real clock: recording now"


def test_a_recorded_response_is_written_as_it_replays(tmp_path):
    """Sorted keys, two-space indents, a final line break: a recording diffs cleanly."""
    flight = record(tmp_path / "flight", boto3.Session(region_name="us-east-1"))
    flight.pill.save_response("iam", "ListUsers", {"Users": [], "IsTruncated": False}, 200)
    text = (tmp_path / "flight" / "iam.ListUsers_1.json").read_text()
    data = {"data": {"IsTruncated": False, "Users": []}, "status_code": 200}
    assert text == json.dumps(data, indent=2, sort_keys=True) + "\n"


def test_a_clock_says_where_it_comes_from(tmp_path):
    path = recorded_copy(tmp_path, None)
    assert replay(path).clock.describe() == (
        f"{(NOW - timedelta(hours=2)).isoformat()} (the newest recorded report's GeneratedTime)"
    )
    (path / CLOCK_FILE).write_text(json.dumps({"recorded": "last tuesday"}))
    with pytest.raises(ValueError) as refused:
        replay(path)
    assert str(refused.value) == f"{path / CLOCK_FILE}: 'recorded' is not an ISO 8601 time"


def test_an_unexpected_call_says_what_to_do(tmp_path):
    path = one_response(tmp_path)
    iam = replay(path).session.client("iam")
    iam.list_users()
    with pytest.raises(UnexpectedCall) as raised:
        iam.list_users()
    assert str(raised.value).endswith(
        "Placebo would have wrapped around to _1; here an extra call is an error. If the "
        "scenario answers this call the same way for ever on purpose, list it in "
        "placebo-repeat.json."
    )
