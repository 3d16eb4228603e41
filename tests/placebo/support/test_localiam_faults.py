"""LocalIAM.fail answers matching requests with AWS's error, and leaves the rest to moto."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.support.localiam import KeySpec, LocalIAM, UserSpec

# Each test starts a local IAM endpoint (a second or two).
pytestmark = pytest.mark.slow


def test_a_fault_denies_one_user_and_moto_answers_the_others():
    with LocalIAM() as local:
        ids = local.seed([UserSpec("open", [KeySpec(10, 1)]), UserSpec("denied", [KeySpec(10, 1)])])
        fault = local.fail("ListAccessKeys", UserName="denied")
        iam = local.client()
        listed = iam.list_access_keys(UserName="open")["AccessKeyMetadata"]
        with pytest.raises(ClientError) as denied:
            iam.list_access_keys(UserName="denied")
        local.clear_faults()
        after = iam.list_access_keys(UserName="denied")["AccessKeyMetadata"]

    assert [k["AccessKeyId"] for k in listed] == ids["open"]
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert fault.seen == 1
    assert [k["AccessKeyId"] for k in after] == ids["denied"]


def test_a_fault_with_times_answers_that_many_requests_then_moto_again():
    with LocalIAM() as local:
        local.seed([UserSpec("someone", [KeySpec(10, 1)])])
        # A code botocore does not retry: the second request is the caller's own.
        local.fail("TagUser", code="ConcurrentModification", status=409, times=1)
        iam = local.client()
        tags = [{"Key": "k", "Value": "v"}]
        with pytest.raises(ClientError) as failed:
            iam.tag_user(UserName="someone", Tags=tags)
        iam.tag_user(UserName="someone", Tags=tags)
        listed = iam.list_user_tags(UserName="someone")["Tags"]
        calls = [c.action for c in local.calls if c.action == "TagUser"]

    assert failed.value.response["Error"]["Code"] == "ConcurrentModification"
    assert listed == tags
    assert calls == ["TagUser", "TagUser"]
