"""LocalIAM.seed_in_process leaves the account LocalIAM.seed leaves, without a request."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError

from tests.support.localiam import KeySpec, LocalIAM, UserSpec

# Each test starts a local IAM endpoint (a second or two).
pytestmark = pytest.mark.slow

NOW = datetime.now(timezone.utc).replace(microsecond=0)
SPECS = (
    UserSpec("used-yesterday", [KeySpec(30, 1)]),
    # Slot 1 newer than slot 2, and slot 2 inactive.
    UserSpec("two-keys", [KeySpec(20, 2), KeySpec(300, 150, active=False)]),
    UserSpec("never-used", [KeySpec(200, None)]),
    UserSpec("no-keys"),
    UserSpec("tagged", [KeySpec(400, 200)], tags={"keyage-exempt": "break-glass"}),
)


def account_state(local: LocalIAM, ids: dict[str, list[str]]) -> dict:
    """Everything the API says about the seeded account but key IDs, and the dates of
    users without keys (moto dates them, and their password, at the moment of seeding)."""
    iam = local.client()
    iam.generate_credential_report()
    users = iam.list_users()["Users"]
    report = list(csv.DictReader(io.StringIO(iam.get_credential_report()["Content"].decode())))
    for row in report:
        if not ids[row["user"]]:
            row["user_creation_time"] = row["password_last_changed"] = "when seeded"
    state = {
        "report": report,
        "users": [(u["UserName"], u["CreateDate"] if ids[u["UserName"]] else None) for u in users],
        "tags": {u["UserName"]: iam.list_user_tags(UserName=u["UserName"])["Tags"] for u in users},
        "keys": {},
    }
    for user in users:
        name = user["UserName"]
        listed = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
        # The returned IDs are in slot order, as ListAccessKeys lists them.
        assert [k["AccessKeyId"] for k in listed] == ids[name]
        state["keys"][name] = [
            (
                k["Status"],
                k["CreateDate"],
                iam.get_access_key_last_used(AccessKeyId=k["AccessKeyId"])["AccessKeyLastUsed"],
            )
            for k in listed
        ]
    return state


def test_seed_in_process_matches_seed_through_the_api():
    with LocalIAM() as local:
        through_api = account_state(local, local.seed(SPECS, now=NOW))
    with LocalIAM() as local:
        ids = local.seed_in_process(SPECS, now=NOW)
        assert local.calls == []  # no request was made
        in_process = account_state(local, ids)

    assert in_process == through_api
    assert in_process["tags"]["tagged"] == [{"Key": "keyage-exempt", "Value": "break-glass"}]
    assert in_process["tags"]["no-keys"] == []
    statuses = [status for status, _, _ in in_process["keys"]["two-keys"]]
    assert statuses == ["Active", "Inactive"]


def test_user_spec_takes_tags_as_a_mapping_or_pairs_and_stays_hashable():
    as_mapping = UserSpec("u", tags={"team": "data", "keyage-exempt": "yes"})
    as_pairs = UserSpec("u", tags=[("team", "data"), ("keyage-exempt", "yes")])
    assert as_mapping == as_pairs and hash(as_mapping) == hash(as_pairs)
    assert as_mapping.api_tags() == [
        {"Key": "team", "Value": "data"},
        {"Key": "keyage-exempt", "Value": "yes"},
    ]


def test_reset_empties_the_endpoint_report_included():
    with LocalIAM() as local:
        iam = local.client()
        local.seed_in_process(SPECS, now=NOW)
        iam.generate_credential_report()
        iam.get_credential_report()
        local.reset()
        assert local.calls == []
        assert iam.list_users()["Users"] == []
        with pytest.raises(ClientError, match="ReportNotPresent"):
            iam.get_credential_report()
        # Seeding again works on the emptied endpoint.
        ids = local.seed_in_process(SPECS[:1], now=NOW)
        assert [u["UserName"] for u in iam.list_users()["Users"]] == ["used-yesterday"]
        assert len(ids["used-yesterday"]) == 1


def test_handler_cpu_is_counted_per_action_and_cleared_with_the_calls():
    with LocalIAM() as local:
        iam = local.client()
        local.seed_in_process(SPECS, now=NOW)
        for _ in range(3):
            iam.get_user(UserName="tagged")
        iam.list_users()
        cpu = local.handler_cpu()
        assert set(cpu) == {("iam", "GetUser"), ("iam", "ListUsers")}
        assert all(seconds > 0 for seconds in cpu.values())
        local.clear_calls()
        assert local.handler_cpu() == {}
