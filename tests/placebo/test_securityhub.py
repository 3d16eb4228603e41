"""Security Hub: the sample ``post-finding`` policy builds ASFF findings c7n sends as is.

The policy file ``policies/access-key-unused-securityhub.yml`` runs on replayed responses;
the findings are read from the recorded ``BatchImportFindings`` parameters, i.e. exactly
the payload c7n would post.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json

import pytest
import yaml

from tests.support.paths import POLICIES
from tests.support.placebo_fixtures import (
    ACCOUNT_ID,
    FLAGGED_USERS,
    NOW,
    STANDARD_REPORT,
    USERS,
    FixtureDir,
    K,
    add_users,
    credential_report,
    live_keys,
    live_operations,
    ok,
)
from tests.support.placebo_replay import Replay

POLICY_FILE = POLICIES / "access-key-unused-securityhub.yml"
TITLE = "IAM access keys unused for more than 90 days"


@pytest.fixture
def replay(tmp_path, replay_from):
    """The standard account, with listed keys, Security Hub and tagging responses."""
    fixtures = add_users(FixtureDir("securityhub", root=tmp_path), list(USERS))
    fixtures.add("iam", "GetCredentialReport", credential_report(STANDARD_REPORT))
    for user in FLAGGED_USERS:
        live_keys(fixtures, user)
        fixtures.add(
            "securityhub", "BatchImportFindings", ok({"FailedCount": 0, "SuccessCount": 1})
        )
        fixtures.add("iam", "TagUser", ok({}))
    fixtures.write()
    return Replay(fixtures.path)  # replay_from has reset c7n's session cache


def sample_policy() -> dict:
    (policy,) = yaml.safe_load(POLICY_FILE.read_text())["policies"]
    return policy


def md5(value) -> str:
    return hashlib.md5(json.dumps(value).encode()).hexdigest()


def test_post_finding_payload(replay, frozen, run_policy):
    run_policy(sample_policy(), replay)

    # Keys listed for the flagged users only; then, per user, the tag and the finding.
    assert replay.operations() == (
        ["ListUsers"]
        + ["GetUser"] * len(USERS)
        + ["GetCredentialReport"]
        + live_operations(FLAGGED_USERS)
        + ["TagUser", "BatchImportFindings"] * len(FLAGGED_USERS)
    )
    # One finding per flagged user (c7n's default batch_size is 1), no more.
    calls = replay.params("BatchImportFindings")
    findings = [finding for call in calls for finding in call["Findings"]]
    assert [len(call["Findings"]) for call in calls] == [1, 1, 1]
    arns = [f"arn:aws:iam::{ACCOUNT_ID}:user/{user}" for user in FLAGGED_USERS]
    assert [f["Resources"][0]["Id"] for f in findings] == arns

    check_finding_fields(findings[0])
    check_compliance_mapping(findings[0])
    check_finding_resource(findings[0])
    erin = json.loads(findings[2]["Resources"][0]["Details"]["Other"]["c7n:unused-keys"])
    assert [(k["slot"], k["access_key_id"]) for k in erin] == [(2, K["erin2"]["id"])]


def check_finding_fields(bob: dict) -> None:
    """bob's finding: ASFF's fields, and an Id stable across runs."""
    action = sample_policy()["actions"][0]
    assert sorted(bob) == [
        "AwsAccountId",
        "Compliance",
        "Confidence",
        "CreatedAt",
        "Description",
        "GeneratorId",
        "Id",
        "ProductArn",
        "ProductFields",
        "RecordState",
        "Remediation",
        "Resources",
        "SchemaVersion",
        "Severity",
        "Title",
        "Types",
        "UpdatedAt",
    ]
    assert bob["SchemaVersion"] == "2018-10-08"
    assert bob["ProductArn"] == (
        "arn:aws:securityhub:us-east-1::product/cloud-custodian/cloud-custodian"
    )
    assert bob["AwsAccountId"] == ACCOUNT_ID
    assert bob["GeneratorId"] == "iam-access-key-unused-securityhub"
    assert bob["Title"] == TITLE
    assert bob["Description"] == action["description"].strip()
    assert bob["Description"].startswith("The user has an active access key")
    # Stable across runs (c7n updates, not duplicates, the finding): region, account, and
    # digests of the policy and of the user.
    assert bob["Id"] == f"us-east-1/{ACCOUNT_ID}/{md5(sample_policy())}/{md5(['bob-stale'])}"
    assert bob["CreatedAt"] == bob["UpdatedAt"] == NOW.isoformat()
    assert bob["RecordState"] == "ACTIVE"


def check_compliance_mapping(bob: dict) -> None:
    """The compliance mapping: Types, Compliance.Status, ProductFields."""
    assert bob["Types"] == [
        "Software and Configuration Checks/Industry and Regulatory Standards/"
        "CIS AWS Foundations Benchmark",
        "Software and Configuration Checks/Industry and Regulatory Standards/PCI-DSS",
    ]
    assert bob["Compliance"] == {"Status": "FAILED"}
    assert bob["Severity"] == {"Label": "MEDIUM", "Normalized": 0, "Product": 0}
    assert bob["Confidence"] == 100
    assert bob["ProductFields"] == {
        "resource": "iam-user",
        "ProviderName": "CloudCustodian",
        "ProviderVersion": importlib.metadata.version("c7n"),
        "CIS": "1.3",
        "PCI-DSS": "8.1.4",
        "SecurityHubControl": "IAM.8",
        "Rule": "access-key-unused days=90",
    }
    assert bob["Remediation"] == {
        "Recommendation": {
            "Text": "Delete the keys listed in c7n:unused-keys, or rotate them if still needed.",
            "Url": "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html",
        }
    }


def check_finding_resource(bob: dict) -> None:
    """The flagged keys ride in the resource details, with their IDs."""
    (resource,) = bob["Resources"]
    assert resource["Type"] == "Other"
    assert resource["Region"] == "us-east-1"
    details = resource["Details"]["Other"]
    assert details["UserName"] == "bob-stale"
    assert details["c7n:resource-type"] == "iam-user"
    assert json.loads(details["c7n:unused-keys"]) == [
        {
            "slot": 1,
            # The live values: ListAccessKeys gives CreateDate to the microsecond here.
            "last_rotated": "2025-09-27T12:00:00.517000+00:00",
            "last_used_date": "2026-04-15T12:00:00+00:00",
            "last_used_service": "s3",
            "last_used_region": "us-east-1",
            "reasons": ["unused"],
            "days_since_use": 200,
            "days_since_rotation": 399,
            "verified": True,
            "access_key_id": K["bob"]["id"],
        }
    ]
    # ASFF detail values are strings of at most 1024 characters (c7n truncates).
    assert all(isinstance(v, str) and len(v) <= 1024 for v in details.values())


def test_post_finding_tags_users_for_updates(replay, frozen, run_policy):
    # c7n tags each user with the finding ID so the next run updates, not duplicates, it.
    run_policy(sample_policy(), replay)

    findings = [call["Findings"][0] for call in replay.params("BatchImportFindings")]
    tags = replay.params("TagUser")
    assert [t["UserName"] for t in tags] == FLAGGED_USERS
    assert [t["Tags"] for t in tags] == [
        [{"Key": f"c7n:FindingId:{TITLE}", "Value": f"{f['Id']}:{NOW.isoformat()}"}]
        for f in findings
    ]
    assert replay.operations().count("ListAccessKeys") == len(FLAGGED_USERS)
