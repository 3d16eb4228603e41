"""The key lifecycle in process against moto's IAM (``tests/support/localiam.py``): the real API's
shapes for tags and keys, and a lifecycle over weeks, with the clock moved by time-machine.

Retire four stale keys; then, by hand, re-enable one, delete one, use one while retired
(re-enabled, used, disabled again); 31 days later delete with a 30-day grace: only the
untouched one goes, the records of the re-enabled and deleted keys are removed, the used
one is kept; then restore: the used one comes back, and no record is left.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3
import pytest
import time_machine
from c7n.utils import reset_session_cache

from c7n_keyage.testing import load_policy
from tests.support.localiam import KeySpec, LocalIAM, UserSpec

# A local IAM endpoint in process, weeks of a lifecycle on it: seconds.
pytestmark = pytest.mark.slow

T0 = datetime(2026, 11, 1, 12, 0, 0, tzinfo=timezone.utc)
USERS = [UserSpec(name, [KeySpec(400, 200)]) for name in ("due", "reenabled", "gone", "used")]
# What the retirement writes: when, by which policy, and the last use it saw (200 days before).
RECORD = "2026-11-01T12:00:00Z retire-stale last-used=2026-04-15T12:00:00Z"
RETIRE = {
    "name": "retire-stale",
    "resource": "iam-user",
    "filters": [{"type": "access-key-unused", "days": 90, "report_delay": 0}],
    "actions": [{"type": "retire-keys"}],
}
DELETE = {
    "name": "delete-retired",
    "resource": "iam-user",
    "filters": [{"type": "retired-keys", "days": 30}],
    "actions": [{"type": "delete-retired-keys"}],
}
RESTORE = {
    "name": "restore-retired",
    "resource": "iam-user",
    "filters": [{"type": "retired-keys", "policy": "retire-stale"}],
    "actions": [{"type": "restore-keys"}],
}


@pytest.fixture
def local(monkeypatch):
    with LocalIAM() as endpoint:
        for name, value in endpoint.env().items():
            monkeypatch.setenv(name, value)
        yield endpoint


def run(data: dict, tmp_path) -> list[dict]:
    reset_session_cache()
    session = boto3.Session(region_name="us-east-1")
    policy = load_policy(data, lambda region=None, assume=None: session, output_dir=str(tmp_path))
    return policy.run()


def records(iam, user: str) -> dict[str, str]:
    tags = iam.list_user_tags(UserName=user)["Tags"]
    return {t["Key"]: t["Value"] for t in tags if t["Key"].startswith("c7n-keyage:")}


def test_a_lifecycle_on_moto(local, tmp_path):
    iam = local.client()
    with time_machine.travel(T0, tick=False):
        ids = {user: keys[0] for user, keys in local.seed(USERS, now=T0).items()}
        iam.generate_credential_report()
        retired = run(RETIRE, tmp_path / "retire")
        assert sorted(r["UserName"] for r in retired) == sorted(ids)
        assert local.key_states() == {u: {k: "Inactive"} for u, k in ids.items()}
        assert records(iam, "due") == {f"c7n-keyage:retired:{ids['due']}": RECORD}
    # By hand, in the days after.
    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        iam.update_access_key(UserName="reenabled", AccessKeyId=ids["reenabled"], Status="Active")
        iam.delete_access_key(UserName="gone", AccessKeyId=ids["gone"])
        iam.update_access_key(UserName="used", AccessKeyId=ids["used"], Status="Active")
        local.use_key("used", ids["used"], when=T0 + timedelta(days=2))
        iam.update_access_key(UserName="used", AccessKeyId=ids["used"], Status="Inactive")
    with time_machine.travel(T0 + timedelta(days=31), tick=False):
        matched = run(DELETE, tmp_path / "delete")
        by_user = {r["UserName"]: r["c7n:retired-keys"][0] for r in matched}
        assert {u: (e["status"], e["used_since_retired"]) for u, e in by_user.items()} == {
            "due": ("Inactive", False),
            "reenabled": ("Active", False),
            "gone": ("missing", False),
            "used": ("Inactive", True),
        }
        assert local.key_states() == {
            "due": {},
            "reenabled": {ids["reenabled"]: "Active"},
            "gone": {},
            "used": {ids["used"]: "Inactive"},
        }
        assert {u: records(iam, u) for u in ids} == {
            "due": {},
            "reenabled": {},
            "gone": {},
            "used": {f"c7n-keyage:retired:{ids['used']}": RECORD},
        }
        run(RESTORE, tmp_path / "restore")
        assert local.key_states()["used"] == {ids["used"]: "Active"}
        assert {u: records(iam, u) for u in ids} == {u: {} for u in ids}
