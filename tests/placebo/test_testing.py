"""``c7n_keyage.testing``, the helper for users' own placebo tests: strict playback.

Placebo 0.10 wraps around to ``_1`` when an operation's numbered responses run out, so an
unexpected call used to get an old answer and pass: the helper's replay makes it an error,
unless the fixture directory declares the operation as repeating.
"""

from __future__ import annotations

import pytest

from tests.support.placebo_fixtures import NOW, FixtureDir, credential_report, error, ok
from tests.support.placebo_replay import REPLAYS, Replay, UnexpectedCall, unexpected_calls

NOT_PRESENT = error(410, "ReportNotPresent", "no report")


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
