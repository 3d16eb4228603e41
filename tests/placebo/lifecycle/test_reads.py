"""The lifecycle's reads on stubbed IAM answers (botocore's Stubber: each call answered in
turn, and a call not answered is an error): a key's status when retire-keys looks at it,
and a user gone while their records are read."""

from __future__ import annotations

from datetime import datetime, timezone

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from c7n_keyage.lifecycle import reads

KEY, OTHER = "AKIAEXAMPLE000000001", "AKIAEXAMPLE000000002"
NOW = datetime(2026, 11, 1, 12, tzinfo=timezone.utc)


def retry(method, **params):
    return method(**params)


@pytest.fixture
def iam():
    client = boto3.client(
        "iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def listed(*keys: tuple[str, str]) -> dict:
    created = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return {
        "AccessKeyMetadata": [
            {"UserName": "u", "AccessKeyId": k, "Status": s, "CreateDate": created} for k, s in keys
        ]
    }


@pytest.mark.parametrize(
    "keys, status",
    [
        ([(KEY, "Active"), (OTHER, "Inactive")], "Active"),
        ([(OTHER, "Active"), (KEY, "Inactive")], "Inactive"),
        ([(OTHER, "Active")], "missing"),
        ([], "missing"),
    ],
    ids=["active", "inactive", "gone", "no-keys"],
)
def test_a_keys_status_is_read_from_one_listing(iam, keys, status):
    client, stub = iam
    stub.add_response("list_access_keys", listed(*keys), {"UserName": "u"})
    assert reads.key_status(client, "u", KEY, retry) == status


def test_a_key_whose_user_is_gone_is_missing(iam):
    client, stub = iam
    stub.add_client_error("list_access_keys", "NoSuchEntity", http_status_code=404)
    assert reads.key_status(client, "u", KEY, retry) == "missing"


def test_a_keys_status_that_cannot_be_read_is_an_error(iam):
    client, stub = iam
    stub.add_client_error("list_access_keys", "ServiceFailure", http_status_code=500)
    with pytest.raises(ClientError, match="ServiceFailure"):
        reads.key_status(client, "u", KEY, retry)


def test_a_user_gone_while_their_records_are_read_is_none(iam):
    client, stub = iam
    stub.add_client_error("list_user_tags", "NoSuchEntity", http_status_code=404)
    assert reads.read_records(client, "u", retry, NOW) is None


def test_a_user_without_records_costs_one_call(iam):
    client, stub = iam
    stub.add_response(
        "list_user_tags", {"Tags": [{"Key": "team", "Value": "x"}]}, {"UserName": "u"}
    )
    found = reads.read_records(client, "u", retry, NOW)
    assert (found.records, found.problems, found.tags) == ([], [], [{"Key": "team", "Value": "x"}])
