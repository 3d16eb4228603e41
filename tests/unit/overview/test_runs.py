"""One run's metadata.json and resources.json -> a Run: what is read, what is refused, and
the warning that names the file and the field."""

from __future__ import annotations

import copy
from datetime import datetime, timezone

import pytest

from c7n_keyage.names import ROOT_USER
from c7n_keyage.overview.runs import (
    Outcome,
    Unreadable,
    account_name_from_path,
    action_of,
    notifies,
    parse_run,
    text,
    uses_filter,
    worth_reading,
)

WHERE = "out/dev/us-east-1/stale-keys"
START = datetime(2026, 12, 2, 6, 30, tzinfo=timezone.utc)
POLICY = {
    "name": "stale-keys",
    "resource": "iam-user",
    "filters": [{"type": "access-key-unused", "days": 90}],
}
METADATA = {
    "policy": POLICY,
    "execution": {"id": "x", "start": START.timestamp(), "end_time": 0, "duration": 0},
    "config": {"region": "us-east-1", "account_id": "111111111111", "dryrun": False},
}
# Entries as the filter writes them (c7n_keyage/stale/findings.py): one report-only, one verified.
REPORT_ENTRY = {
    "slot": 1,
    "last_rotated": "2025-10-28T14:29:00+00:00",
    "last_used_date": "2026-05-16T14:29:00+00:00",
    "last_used_service": "s3",
    "last_used_region": "us-east-1",
    "reasons": ["unused"],
    "days_since_use": 199,
    "days_since_rotation": 399,
    "verified": False,
}
NEVER_USED = dict(
    REPORT_ENTRY,
    slot=2,
    last_used_date=None,
    last_used_service=None,
    last_used_region=None,
    reasons=["never-used", "unrotated"],
    days_since_use=None,
    days_since_rotation=250,
)


def user(name: str, *entries: dict, **extra) -> dict:
    return {
        "UserName": name,
        "Arn": f"arn:aws:iam::111111111111:user/{name}",
        "c7n:unused-keys": list(entries),
        **extra,
    }


def parse(metadata=METADATA, resources=(), **kw):
    warnings: list[str] = []
    run = parse_run(WHERE, metadata, list(resources), warn=warnings.append, **kw)
    return run, warnings


def test_a_run_of_the_filter_gives_its_keys_ages_and_account():
    run, warnings = parse(resources=[user("alice", REPORT_ENTRY, NEVER_USED)])
    assert warnings == []
    assert (run.where, run.account_id, run.policy, run.started, run.date.isoformat()) == (
        WHERE,
        "111111111111",
        "stale-keys",
        START,
        "2026-12-02",
    )
    assert (run.action, run.notifies) == (None, False)
    used, never = run.keys
    # Age: days since last use, or since creation when never used.
    assert (used.user, used.slot, used.age_days, used.reasons) == ("alice", 1, 199, ("unused",))
    assert (never.age_days, never.reasons) == (250, ("never-used", "unrotated"))
    assert (used.last_used_date, used.last_used_service, used.last_used_region) == (
        "2026-05-16T14:29:00+00:00",
        "s3",
        "us-east-1",
    )


def test_the_age_comes_from_the_dates_and_the_run_start_when_the_count_is_missing():
    entry = {k: v for k, v in REPORT_ENTRY.items() if k != "days_since_use"}
    never = {k: v for k, v in NEVER_USED.items() if k != "days_since_rotation"}
    run, warnings = parse(resources=[user("alice", entry, never)])
    # 2026-05-16T14:29 to 2026-12-02T06:30 is 199 whole days; 2025-10-28 to then, 399.
    assert [k.age_days for k in run.keys] == [199, 399]
    assert warnings == []


def test_the_run_date_is_execution_start_not_the_dated_path():
    dated = datetime(2026, 11, 30, 14, tzinfo=timezone.utc)
    run, _ = parse(resources=[], dated=dated)
    assert run.started == START


def test_without_execution_start_a_dated_path_dates_the_run_with_a_warning():
    metadata = copy.deepcopy(METADATA)
    del metadata["execution"]["start"]
    dated = datetime(2026, 11, 30, 14, tzinfo=timezone.utc)
    run, warnings = parse(metadata, dated=dated)
    assert run.started == dated
    assert warnings == [f"{WHERE}/metadata.json: execution.start missing or not a time; "
                        "the run is dated by its S3 path"]  # fmt: skip
    with pytest.raises(Unreadable, match=r"metadata.json: execution.start missing"):
        parse(metadata)


@pytest.mark.parametrize(
    "broken, field",
    [
        ({"policy": None}, "policy.name"),
        ({"policy": {"resource": "iam-user"}}, "policy.name"),
        ({"execution": {"start": "yesterday"}}, "execution.start"),
        ({"execution": {"start": float("nan")}}, "execution.start"),
        ({"execution": {"start": True}}, "execution.start"),
        ({"config": {"region": "us-east-1"}}, "config.account_id"),
        ({"config": "us-east-1"}, "config is not an object"),
        ({"execution": ["start"]}, "execution.start"),
    ],
)
def test_an_unusable_metadata_names_the_file_and_the_field(broken, field):
    metadata = {**copy.deepcopy(METADATA), **broken}
    with pytest.raises(Unreadable) as raised:
        parse(metadata, resources=[])
    assert str(raised.value).startswith(f"{WHERE}/metadata.json: ")
    assert field in str(raised.value)


def test_resources_that_are_not_a_list_name_the_file():
    with pytest.raises(Unreadable, match=r"stale-keys/resources.json: not a list"):
        parse_run(WHERE, METADATA, {"UserName": "x"}, warn=lambda m: None)


def test_the_account_comes_from_the_arns_when_the_config_has_none():
    metadata = copy.deepcopy(METADATA)
    metadata["config"]["account_id"] = None
    run, _ = parse(metadata, resources=[user("alice", REPORT_ENTRY)])
    assert run.account_id == "111111111111"


@pytest.mark.parametrize(
    "first",
    [
        {"UserName": "nobody"},
        {"UserName": "nobody", "Arn": "not-an-arn"},
        {"UserName": "nobody", "Arn": "arn:aws:iam:::user/nobody"},
    ],
    ids=["no arn", "not an arn", "no account in the arn"],
)
def test_without_config_a_resource_that_cannot_say_the_account_is_passed_over(first):
    metadata = {k: v for k, v in copy.deepcopy(METADATA).items() if k != "config"}
    run, _ = parse(metadata, resources=[first, user("alice", REPORT_ENTRY)])
    assert run.account_id == "111111111111"


def test_without_config_the_account_resource_says_the_account():
    metadata = {k: v for k, v in copy.deepcopy(METADATA).items() if k != "config"}
    metadata["policy"] = dict(POLICY, resource="account")
    account = {"account_id": "222222222222", "account_name": "dev", "c7n:unused-keys": []}
    run, _ = parse(metadata, resources=[account])
    assert (run.account_id, run.account_name) == ("222222222222", "dev")


def test_a_used_key_whose_creation_date_is_garbage_keeps_its_age_and_no_creation():
    """Go's zero time for an unknown creation, beside a recent use (Panther's fixture)."""
    zero = dict(REPORT_ENTRY, last_rotated="0001-01-01T00:00:00Z")
    run, warnings = parse(resources=[user("alice", zero)])
    (key,) = run.keys
    assert (key.age_days, key.last_rotated, key.created, warnings) == (199, None, None, [])


@pytest.mark.parametrize(
    "entry, says",
    [
        ("not a dict", " is not an object"),
        (dict(REPORT_ENTRY, reasons=["stale-ish"]), " without a known reason"),
        (dict(REPORT_ENTRY, reasons=None), " without a known reason"),
        (dict(REPORT_ENTRY, days_since_use=None, last_used_date="garbled"),
         ": last_used_date missing, unreadable or out of range; the key is left out"),
        (dict(NEVER_USED, days_since_rotation="250", last_rotated=None),
         ": days_since_rotation missing, unreadable or out of range; the key is left out"),
    ],
)  # fmt: skip
def test_a_bad_entry_is_a_warning_naming_file_user_and_field_and_the_rest_is_read(entry, says):
    run, warnings = parse(resources=[user("alice", entry), user("bob", REPORT_ENTRY)])
    assert [k.user for k in run.keys] == ["bob"]
    assert warnings == [f"{WHERE}/resources.json: user alice: c7n:unused-keys entry{says}"]


def test_an_annotation_that_is_not_a_list_is_a_warning():
    wrong = {"UserName": "alice", "c7n:unused-keys": {"slot": 1}, "c7n:retired-keys": "K1"}
    run, warnings = parse(resources=[wrong])
    assert (run.keys, run.retired) == ((), ())
    assert warnings == [
        f"{WHERE}/resources.json: user alice: c7n:unused-keys is not a list",
        f"{WHERE}/resources.json: user alice: c7n:retired-keys is not a list",
    ]


def test_a_resource_that_is_not_an_object_is_named_and_the_rest_read():
    run, warnings = parse(resources=[7, user("bob", REPORT_ENTRY)])
    assert [k.user for k in run.keys] == ["bob"]
    assert warnings == [f"{WHERE}/resources.json: a resource is not an object"]


def test_metadata_that_is_not_an_object_is_named():
    with pytest.raises(Unreadable) as raised:
        parse(["policy"])
    assert str(raised.value) == (
        f"{WHERE}/metadata.json: no policy with a name (field policy.name)"
    )


@pytest.mark.parametrize("dryrun, said", [(False, True), (True, False)])
def test_a_run_of_a_policy_that_notifies_notified_unless_a_dry_run(dryrun, said):
    metadata = copy.deepcopy(METADATA)
    metadata["policy"] = dict(POLICY, actions=[{"type": "notify", "to": ["resource-owner"]}])
    metadata["config"]["dryrun"] = dryrun
    run, _ = parse(metadata, resources=[user("alice", REPORT_ENTRY)])
    assert run.notifies is said


def test_the_account_resource_is_the_root_user_and_names_the_account():
    metadata = copy.deepcopy(METADATA)
    metadata["policy"] = dict(POLICY, resource="account")
    account = {"account_id": "111111111111", "account_name": "dev", "c7n:unused-keys": [NEVER_USED]}
    run, _ = parse(metadata, resources=[account])
    assert (run.keys[0].user, run.account_name) == (ROOT_USER, "dev")


def test_a_policy_without_the_filter_is_not_read_and_its_keys_do_not_count():
    metadata = copy.deepcopy(METADATA)
    metadata["policy"] = {"name": "mfa", "resource": "iam-user", "filters": [{"type": "value"}]}
    # A user record from c7n's shared cache may still carry another policy's annotation.
    run, _ = parse(metadata, resources=[user("alice", REPORT_ENTRY)])
    assert run is None


def test_lifecycle_records_are_read_from_any_key_policy():
    record = {
        "access_key_id": "AKIAEXAMPLE000000001",
        "retired_at": "2026-11-01T00:00:00Z",
        "policy": "retire",
        "status": "Inactive",
        "used_since_retired": False,
    }
    metadata = copy.deepcopy(METADATA)
    metadata["policy"] = {"name": "lifecycle", "resource": "iam-user", "filters": []}
    bad = dict(record, status="Paused", used_since_retired="no")
    resources = [{"UserName": "alice", "c7n:retired-keys": [record, bad, 7]}]
    run, warnings = parse(metadata, resources=resources)
    assert [(r.user, r.status, r.policy) for r in run.retired] == [("alice", "Inactive", "retire")]
    assert warnings == [
        f"{WHERE}/resources.json: user alice: c7n:retired-keys record: bad status, "
        "used_since_retired",
        f"{WHERE}/resources.json: user alice: c7n:retired-keys record is not an object",
    ]


@pytest.mark.parametrize(
    "filters, found",
    [
        ([{"type": "access-key-unused"}], True),
        (["access-key-unused"], True),
        ([{"and": [{"type": "access-key-unused"}]}, {"or": [{"type": "value"}]}], True),
        ([{"or": [{"type": "value"}, {"and": [{"type": "access-key-unused"}]}]}], True),
        ([{"not": [{"type": "access-key-unused"}]}], True),
        ([{"type": "credential", "key": "access_keys.last_used_date"}], False),
        ([{"type": "value", "key": "access-key-unused"}], False),
        (None, False),
    ],
)
def test_the_filter_is_found_at_any_depth(filters, found):
    assert uses_filter(filters) is found


def test_only_key_resources_are_worth_reading_without_the_filter():
    assert worth_reading({"resource": "aws.iam-user"})
    assert worth_reading({"resource": "account"})
    assert not worth_reading({"resource": "ec2", "filters": []})
    assert worth_reading({"resource": "ec2", "filters": [{"type": "access-key-unused"}]})


@pytest.mark.parametrize(
    "actions, dryrun, action",
    [
        ([{"type": "remove-keys", "matched": True, "disable": True}], False, "disabled"),
        ([{"type": "remove-keys", "matched": True}], False, "deleted"),
        (["notify", {"type": "retire-keys"}], False, "retired"),
        ([{"type": "remove-keys", "matched": True, "disable": True}], True, None),
        ([{"type": "notify"}], False, None),
        (None, False, None),
    ],
)
def test_what_a_run_did_is_its_policys_action_unless_a_dry_run(actions, dryrun, action):
    assert action_of({"actions": actions}, dryrun) == action


def test_a_dry_run_of_a_remove_keys_policy_counts_its_keys_as_stale():
    metadata = copy.deepcopy(METADATA)
    metadata["policy"] = dict(POLICY, actions=[{"type": "remove-keys", "matched": True}])
    metadata["config"]["dryrun"] = True
    run, _ = parse(metadata, resources=[user("alice", REPORT_ENTRY)])
    assert run.action is None and len(run.keys) == 1


@pytest.mark.parametrize(
    "parts, region, name",
    [
        (("dev", "us-east-1"), "us-east-1", "dev"),
        (("2026-12-02", "prod", "us-east-1"), "us-east-1", "prod"),
        (("us-east-1",), "us-east-1", None),  # custodian run -r a -r b: no account level
        (("dev", "eu-west-1"), "us-east-1", None),
        ((), "us-east-1", None),
    ],
)
def test_c7n_org_names_the_account_by_the_directory_before_the_region(parts, region, name):
    assert account_name_from_path(parts, region) == name


RETIRE = dict(POLICY, name="retire", actions=[{"type": "retire-keys"}])
VERIFIED = dict(REPORT_ENTRY, access_key_id="AKIAEXAMPLE000000001", verified=True)


def test_a_lifecycle_actions_results_say_which_keys_it_acted_on():
    metadata = dict(copy.deepcopy(METADATA), policy=RETIRE)
    results = [
        {"UserName": "alice", "AccessKeyId": "AKIAEXAMPLE000000001", "outcome": "retired"},
        {"UserName": "alice", "AccessKeyId": "AKIAEXAMPLE000000002", "outcome": "failed"},
    ]
    run, warnings = parse(
        metadata, [user("alice", VERIFIED)], results=[("x/action-retirekeys", results)]
    )
    assert (run.action, run.step) == ("retired", "retire-keys")
    assert [(o.access_key_id, o.outcome) for o in run.outcomes] == [
        ("AKIAEXAMPLE000000001", "retired"),
        ("AKIAEXAMPLE000000002", "failed"),
    ]
    assert run.done() == {"AKIAEXAMPLE000000001"}
    assert warnings == []


def test_without_results_the_policys_word_is_all_there_is():
    metadata = dict(copy.deepcopy(METADATA), policy=RETIRE)
    run, _ = parse(metadata, [user("alice", VERIFIED)])
    assert (run.outcomes, run.done()) == (None, None)
    # And a dry run takes no step: its results, if any, are not read.
    metadata["config"]["dryrun"] = True
    results = [
        ("x/action-retirekeys", [{"UserName": "a", "AccessKeyId": "K", "outcome": "retired"}])
    ]
    dry, _ = parse(metadata, [user("alice", VERIFIED)], results=results)
    assert (dry.action, dry.step, dry.outcomes) == (None, None, None)


@pytest.mark.parametrize(
    "results, warning",
    [
        ({"outcome": "retired"}, "x/action-retirekeys: not a list of per-key results"),
        ([{"UserName": "a", "outcome": "retired"}], "a result without UserName, AccessKeyId"),
        ([{"UserName": "a", "AccessKeyId": "K", "outcome": "paused"}], "unknown outcome 'paused'"),
    ],
)
def test_bad_results_are_warnings_naming_the_file(results, warning):
    metadata = dict(copy.deepcopy(METADATA), policy=RETIRE)
    run, warnings = parse(
        metadata, [user("alice", VERIFIED)], results=[("x/action-retirekeys", results)]
    )
    (said,) = warnings
    assert said.startswith("x/action-retirekeys: ") and warning in said


def test_a_bad_result_is_named_and_the_results_after_it_still_read():
    metadata = dict(copy.deepcopy(METADATA), policy=RETIRE)
    results = [
        {"UserName": "alice", "outcome": "retired"},
        {"UserName": "alice", "AccessKeyId": "AKIAEXAMPLE000000002", "outcome": "paused"},
        {"UserName": "alice", "AccessKeyId": "AKIAEXAMPLE000000001", "outcome": "retired"},
    ]
    run, warnings = parse(
        metadata, [user("alice", VERIFIED)], results=[("x/action-retirekeys", results)]
    )
    assert run.outcomes == (Outcome("alice", "AKIAEXAMPLE000000001", "retired"),)
    assert warnings == [
        "x/action-retirekeys: a result without UserName, AccessKeyId and outcome",
        "x/action-retirekeys: key AKIAEXAMPLE000000002: unknown outcome 'paused'",
    ]


def test_strings_from_the_inputs_are_cut_and_others_are_none():
    assert text("a" * 256) == "a" * 256
    assert text("a" * 257) == "a" * 255 + "…"
    assert (text(None), text(7), text(["x"])) == (None, None, None)


def test_owner_and_team_come_from_the_users_tags_without_case():
    tags = [
        {"Key": "OWNER", "Value": "ana@example.com"},
        {"Key": "owner", "Value": "second@example.com"},  # the first one counts
        {"Key": "Team", "Value": "payments"},
        {"Key": "team"},
        7,
    ]
    run, warnings = parse(resources=[user("alice", VERIFIED, Tags=tags)])
    assert (run.keys[0].owner, run.keys[0].team) == ("ana@example.com", "payments")
    assert warnings == []
    run, _ = parse(resources=[user("bob", VERIFIED, Tags={"owner": "x"})])
    assert (run.keys[0].owner, run.keys[0].team) == (None, None)


def test_an_entry_is_verified_only_with_its_key_id():
    plain, _ = parse(resources=[user("a", dict(REPORT_ENTRY, verified=True))])
    verified, _ = parse(resources=[user("a", VERIFIED)])
    assert (plain.keys[0].verified, verified.keys[0].verified) == (False, True)
    assert verified.keys[0].access_key_id == "AKIAEXAMPLE000000001"


@pytest.mark.parametrize("slot, kept", [(1, 1), (2, 2), (3, None), (0, None), (True, None)])
def test_a_slot_is_1_or_2(slot, kept):
    run, _ = parse(resources=[user("a", dict(REPORT_ENTRY, slot=slot))])
    assert run.keys[0].slot == kept


def test_creation_to_the_second_whatever_the_fraction_or_offset():
    later = dict(REPORT_ENTRY, last_rotated="2025-10-28T16:29:00.750+02:00")
    run, _ = parse(resources=[user("a", REPORT_ENTRY, later)])
    first, second = run.keys
    assert (
        first.created
        == second.created
        == int(datetime(2025, 10, 28, 14, 29, tzinfo=timezone.utc).timestamp())
    )
    assert second.last_rotated == "2025-10-28T16:29:00.750+02:00"


@pytest.mark.parametrize(
    "actions, dryrun, says",
    [
        ([{"type": "notify", "to": ["x"]}], False, True),
        (["notify"], False, True),
        ([{"type": "notify"}], True, False),
        ([{"type": "remove-keys"}], False, False),
        (None, False, False),
    ],
)
def test_a_run_that_notified(actions, dryrun, says):
    assert notifies({"actions": actions}, dryrun) is says


def test_filters_nested_past_the_limit_are_not_read():
    nested: list = [{"type": "access-key-unused"}]
    for _ in range(64):
        nested = [{"and": nested}]
    assert uses_filter(nested)
    assert not uses_filter([{"or": nested}])


def test_a_resource_that_is_not_a_key_resource_is_not_worth_reading_even_as_a_list():
    assert not worth_reading({"resource": ["iam-user"], "filters": []})


def test_remove_keys_disables_only_with_disable_true():
    assert action_of({"actions": [{"type": "remove-keys", "disable": "yes"}]}, False) == "deleted"


@pytest.mark.parametrize(
    "start",
    [datetime(2005, 12, 31, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc)],
)
def test_a_start_out_of_range_is_refused_with_the_value(start):
    metadata = dict(copy.deepcopy(METADATA), execution={"start": start.timestamp()})
    with pytest.raises(Unreadable) as raised:
        parse(metadata)
    assert str(raised.value) == (
        f"{WHERE}/metadata.json: execution.start {start.timestamp()!r} is not a time in "
        "seconds since 1970 between 2006 and 2100 (milliseconds?)"
    )
    earliest = datetime(2006, 1, 1, tzinfo=timezone.utc)
    metadata["execution"]["start"] = earliest.timestamp()
    assert parse(metadata)[0].started == earliest


@pytest.mark.parametrize(
    "entry, age",
    [
        (dict(REPORT_ENTRY, days_since_use=0), 0),
        (dict(NEVER_USED, days_since_rotation=None, last_rotated="2026-12-03T06:00:00+00:00"), 0),
        (dict(NEVER_USED, days_since_rotation=None, last_rotated="2006-01-01T00:00:00+00:00"),
         7640),
        # A day after the run's start is still a key's date; AWS's first day to a day after
        # the run (2006-01-01 to 2026-12-03T06:30) is the oldest count.
        (dict(NEVER_USED, days_since_rotation=None, last_rotated="2026-12-03T06:30:00+00:00"), 0),
        (dict(NEVER_USED, days_since_rotation=7641), 7641),
    ],
)  # fmt: skip
def test_ages_at_the_edges_of_their_range(entry, age):
    run, warnings = parse(resources=[user("a", entry)])
    assert (run.keys[0].age_days, warnings) == (age, [])


def test_a_date_more_than_a_day_after_the_run_is_not_a_keys_date():
    entry = dict(NEVER_USED, days_since_rotation=None, last_rotated="2026-12-03T06:31:00+00:00")
    run, warnings = parse(resources=[user("a", entry)])
    assert run.keys == ()
    assert warnings == [
        f"{WHERE}/resources.json: user a: c7n:unused-keys entry: last_rotated missing, "
        "unreadable or out of range; the key is left out"
    ]


def test_a_record_with_an_unreadable_time_or_delete_date():
    record = {
        "access_key_id": "AKIAEXAMPLE000000001",
        "retired_at": "2026-11-01T00:00:00Z",
        "policy": "retire",
        "status": "Inactive",
        "used_since_retired": False,
    }
    metadata = copy.deepcopy(METADATA)
    resources = [
        {"UserName": "a", "c7n:retired-keys": [
            dict(record, delete_after="2026-12-01T00:00:00Z"),
            dict(record, access_key_id="AKIAEXAMPLE000000002", delete_after="soon"),
            dict(record, retired_at="last week"),
        ]},
    ]  # fmt: skip
    run, warnings = parse(metadata, resources=resources)
    assert [(r.access_key_id, r.delete_after) for r in run.retired] == [
        ("AKIAEXAMPLE000000001", "2026-12-01T00:00:00Z"),
        ("AKIAEXAMPLE000000002", None),
    ]
    assert warnings == [f"{WHERE}/resources.json: user a: c7n:retired-keys record: bad retired_at"]


def test_a_username_that_is_not_a_name_is_a_warning():
    run, warnings = parse(resources=[{"UserName": 7}, {"UserName": ""}, user("b", REPORT_ENTRY)])
    assert [k.user for k in run.keys] == ["b"]
    assert warnings == [f"{WHERE}/resources.json: a resource whose UserName is not a name"] * 2


MISSING = object()
RECORD = {
    "access_key_id": "AKIAEXAMPLE000000001",
    "retired_at": "2026-11-01T00:00:00Z",
    "policy": "retire",
    "status": "Inactive",
    "used_since_retired": False,
}


@pytest.mark.parametrize(
    "field, value",
    [
        ("status", MISSING),
        ("status", ["Inactive"]),
        ("status", 5),
        ("retired_at", MISSING),
        ("retired_at", 1793491200),
        ("retired_at", {"at": "2026-11-01"}),
    ],
)
def test_a_record_whose_status_or_time_is_not_a_string_is_named_and_skipped(field, value):
    bad = {k: v for k, v in RECORD.items() if k != field}
    if value is not MISSING:
        bad[field] = value
    later = dict(RECORD, access_key_id="AKIAEXAMPLE000000002")
    run, warnings = parse(resources=[{"UserName": "a", "c7n:retired-keys": [bad, later]}])
    assert [r.access_key_id for r in run.retired] == ["AKIAEXAMPLE000000002"]
    assert warnings == [f"{WHERE}/resources.json: user a: c7n:retired-keys record: bad {field}"]
