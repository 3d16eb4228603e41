"""Finding runs in directories and S3 prefixes in c7n's layouts, and naming what cannot be
read. The layouts are checked on real c7n-org output in tests/e2e/overview/test_c7n_org.py;
here each case is made on purpose; S3 with botocore's Stubber (and on moto's server in
tests/e2e/overview/test_s3_inputs.py)."""

from __future__ import annotations

import gzip
import io
import json
from datetime import datetime, timezone

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from c7n_keyage.overview.inputs import (
    MB,
    InputError,
    S3Store,
    decode,
    s3_client,
    split_dated,
    store_of,
)
from c7n_keyage.overview.runs import Unreadable
from tests.support.run_files import KEYAGE, OTHER, START, metadata, read, resources, write


def test_custodian_run_layout_one_directory_per_policy(tmp_path):
    write(tmp_path / "stale-keys", metadata(), resources("alice", "bob"))
    (run,), stats, warnings = read(tmp_path)
    assert (run.account_id, run.account_name, run.policy, run.started) == (
        "111111111111",
        None,
        "stale-keys",
        START,
    )
    assert [k.user for k in run.keys] == ["alice", "bob"]
    assert (stats.runs_found, stats.runs_read, warnings) == (1, 1, [])


def test_c7n_org_layout_names_the_account_and_days_side_by_side_are_all_found(tmp_path):
    for day, account in (("2026-12-01", "dev"), ("2026-12-02", "dev"), ("2026-12-02", "prod")):
        number = "111111111111" if account == "dev" else "222222222222"
        write(tmp_path / day / account / "us-east-1" / "stale-keys", metadata(account=number), [])
    runs, stats, _ = read(tmp_path)
    assert sorted((r.account_name, r.account_id) for r in runs) == [
        ("dev", "111111111111"),
        ("dev", "111111111111"),
        ("prod", "222222222222"),
    ]
    assert stats.runs_found == 3


def test_a_local_copy_of_the_dated_s3_layout_reads_the_same(tmp_path):
    base = tmp_path / "dev" / "us-east-1" / "stale-keys" / "2026" / "12" / "02" / "06"
    write(base, metadata(), resources("alice"), gz=True)
    (run,), _, warnings = read(tmp_path)
    assert (run.account_name, run.started, [k.user for k in run.keys]) == ("dev", START, ["alice"])
    assert warnings == []


def test_gzip_is_known_by_its_content_not_its_name():
    assert decode("x/resources.json", gzip.compress(b"[1]"), 10) == [1]
    assert decode("x/resources.json.gz", b"[2]", 10) == [2]


@pytest.mark.parametrize(
    "parts, above, dated",
    [
        (("org", "dev", "us-east-1", "p", "2026", "12", "02", "06"), ("org", "dev", "us-east-1"),
         datetime(2026, 12, 2, 6, tzinfo=timezone.utc)),
        (("dev", "us-east-1", "p"), ("dev", "us-east-1"), None),
        (("p", "2026", "13", "02", "06"), ("p", "2026", "13", "02"), None),  # not a date
        (("2026", "12", "02", "06"), ("2026", "12", "02"), None),  # no policy above it
    ],
)  # fmt: skip
def test_a_dated_path_is_the_hour_below_the_policy(parts, above, dated):
    assert split_dated(parts) == (above, dated)


def test_other_policies_are_counted_and_their_resources_never_read(tmp_path):
    write(tmp_path / "old-amis", metadata(OTHER), b"this is not even read")
    write(tmp_path / "stale-keys", metadata(), resources("alice"))
    runs, stats, warnings = read(tmp_path)
    assert [r.policy for r in runs] == ["stale-keys"]
    assert (stats.other_policy, stats.unreadable, warnings) == (1, [], [])


TRUNCATED_GZIP = gzip.compress(b'{"policy": {}}')[:12]


@pytest.mark.parametrize(
    "meta, found, message",
    [
        (b"{not json", resources("a"), "metadata.json: not valid JSON"),
        (metadata(), b'[{"UserName": ', "resources.json: not valid JSON"),
        (metadata(), b"\xff\xfe[]", "resources.json: not valid JSON"),
        (TRUNCATED_GZIP, resources("a"), "metadata.json: not a readable gzip file"),
        ({"policy": {"resource": "iam-user"}}, [], "metadata.json: no policy with a name"),
        (metadata(), {"UserName": "a"}, "resources.json: not a list"),
    ],
)
def test_an_unreadable_file_is_named_and_the_other_runs_are_still_read(
    tmp_path, meta, found, message
):
    write(tmp_path / "broken", meta, found)
    write(tmp_path / "fine", metadata(), resources("alice"))
    runs, stats, warnings = read(tmp_path)
    assert [r.policy for r in runs] == ["stale-keys"]
    (unreadable,) = stats.unreadable
    assert unreadable.startswith(f"{tmp_path}/broken/{message}")
    assert warnings == [unreadable]
    assert stats.as_dict()["skipped"] == {"other-policy": 0, "unreadable": 1, "failed": 0}


def test_a_run_without_metadata_is_named(tmp_path):
    (tmp_path / "stale-keys").mkdir()
    (tmp_path / "stale-keys" / "resources.json").write_text("[]")
    _, stats, _ = read(tmp_path)
    assert stats.unreadable == [
        f"{tmp_path}/stale-keys/metadata.json: missing (c7n writes it with every run)"
    ]


def test_a_run_that_stopped_before_its_resources_is_named_as_failed(tmp_path):
    # c7n writes metadata.json whatever happens, resources.json once resources are listed.
    for name, policy in (("stale-keys", KEYAGE), ("old-amis", OTHER)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metadata.json").write_text(json.dumps(metadata(policy)))
        (tmp_path / name / "custodian-run.log").write_text("AccessDenied")
    runs, stats, warnings = read(tmp_path)
    assert runs == [] and stats.other_policy == 1 and stats.unreadable == []
    assert stats.failed == [
        f"{tmp_path}/stale-keys: no resources.json: the run stopped before listing its "
        "resources (its custodian-run.log says why); its account keeps its previous figures"
    ]
    assert warnings == stats.failed
    assert stats.as_dict()["skipped"] == {"other-policy": 1, "unreadable": 0, "failed": 1}


def test_a_missing_directory_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="nowhere: not a directory"):
        read(tmp_path / "nowhere")


def test_several_inputs_merge(tmp_path):
    write(tmp_path / "a" / "dev" / "us-east-1" / "stale-keys", metadata(), resources("alice"))
    other = metadata(account="222222222222")
    write(tmp_path / "b" / "prod" / "us-east-1" / "stale-keys", other, resources("bob"))
    runs, stats, _ = read(tmp_path / "a", tmp_path / "b")
    assert sorted(r.account_name for r in runs) == ["dev", "prod"]
    assert stats.inputs == [str(tmp_path / "a"), str(tmp_path / "b")]


RETIRE = dict(KEYAGE, name="retire", actions=[{"type": "retire-keys"}])
RESULT = {"UserName": "alice", "AccessKeyId": "AKIAEXAMPLE000000001", "outcome": "retired"}


@pytest.mark.parametrize("gz", [False, True], ids=["directory", "s3-copy"])
def test_a_lifecycle_runs_action_results_are_read(tmp_path, gz):
    run_dir = tmp_path / "retire"
    write(run_dir, metadata(RETIRE), resources("alice"), gz=gz)
    data = json.dumps([RESULT]).encode()
    name = "action-retirekeys.gz" if gz else "action-retirekeys"
    (run_dir / name).write_bytes(gzip.compress(data) if gz else data)
    (run,), _, warnings = read(tmp_path)
    assert [(o.access_key_id, o.outcome) for o in run.outcomes] == [
        ("AKIAEXAMPLE000000001", "retired")
    ]
    assert warnings == []


def test_an_unreadable_action_file_is_named_and_the_run_still_counts(tmp_path):
    write(tmp_path / "retire", metadata(RETIRE), resources("alice"))
    (tmp_path / "retire" / "action-retirekeys").write_text("[{")
    (run,), stats, warnings = read(tmp_path)
    assert run.outcomes is None and len(run.keys) == 1
    (warning,) = warnings
    assert warning.startswith(f"{tmp_path}/retire/action-retirekeys: not valid JSON")


def test_action_files_of_other_policies_are_not_read(tmp_path):
    # remove-keys returns nothing; a notify action's results are none of the report's business.
    notify = dict(KEYAGE, actions=[{"type": "notify"}])
    write(tmp_path / "stale-keys", metadata(notify), resources("alice"))
    (tmp_path / "stale-keys" / "action-notify").write_text("not json, never read")
    (run,), _, warnings = read(tmp_path)
    assert (run.outcomes, warnings) == (None, [])


def stubbed_s3():
    """A real S3 client whose every call is one the test queued (botocore's Stubber): a call
    not queued fails, and a queued one not made shows in assert_no_pending_responses."""
    client = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    return client, Stubber(client)


def listed(*keys: str) -> list[dict]:
    return [{"Key": key, "Size": 1} for key in keys]


def test_every_page_of_an_s3_listing_is_read():
    client, stub = stubbed_s3()
    first = "org/dev/us-east-1/stale-keys/2026/12/02/06"
    second = "org/prod/us-east-1/stale-keys/2026/12/02/06"
    stub.add_response(
        "list_objects_v2",
        {"Contents": listed(f"{first}/metadata.json.gz", f"{first}/resources.json.gz",
                            f"{second}/metadata.json.gz"),
         "IsTruncated": True, "NextContinuationToken": "page-2"},
        {"Bucket": "audit", "Prefix": "org/"},
    )  # fmt: skip
    stub.add_response(
        "list_objects_v2",
        {"Contents": listed(f"{second}/resources.json.gz", f"{second}/action-retirekeys.gz")},
        {"Bucket": "audit", "Prefix": "org/", "ContinuationToken": "page-2"},
    )
    with stub:
        found = list(S3Store("s3://audit/org?region=us-east-1", client).listing([]))
        stub.assert_no_pending_responses()
    assert [(f.where, f.resources, f.metadata, f.actions, f.path_parts) for f in found] == [
        (f"s3://audit/{first}", "resources.json.gz", "metadata.json.gz", (), ("dev", "us-east-1")),
        (f"s3://audit/{second}", "resources.json.gz", "metadata.json.gz",
         ("action-retirekeys.gz",), ("prod", "us-east-1")),
    ]  # fmt: skip
    assert {f.dated for f in found} == {datetime(2026, 12, 2, 6, tzinfo=timezone.utc)}


def test_a_bucket_root_lists_everything_and_names_runs_by_their_key():
    client, stub = stubbed_s3()
    stub.add_response(
        "list_objects_v2",
        {"Contents": listed("stale-keys/metadata.json", "stale-keys/resources.json", "x.json")},
        {"Bucket": "audit", "Prefix": ""},
    )
    with stub:
        (found,) = S3Store("s3://audit", client).listing([])
    assert (found.where, found.path_parts) == ("s3://audit/stale-keys", ())


def body(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))


def test_an_s3_object_is_read_up_to_the_cap():
    client, stub = stubbed_s3()
    where = "s3://audit/org/stale-keys"
    key = {"Bucket": "audit", "Key": "org/stale-keys/resources.json"}
    stub.add_response("get_object", {"Body": body(b"x" * 10)}, key)
    stub.add_response("get_object", {"Body": body(b"x" * 11)}, key)
    stub.add_client_error("get_object", "NoSuchKey", expected_params=key)
    store = S3Store("s3://audit/org", client)
    with stub:
        assert store.read(where, "resources.json", 10) == b"x" * 10
        with pytest.raises(Unreadable, match=r"^s3://audit/org/stale-keys/resources.json: larger"):
            store.read(where, "resources.json", 10)
        with pytest.raises(Unreadable, match=r"resources.json: .*NoSuchKey"):
            store.read(where, "resources.json", 10)
        stub.assert_no_pending_responses()


def test_an_s3_listing_refused_is_an_input_error():
    client, stub = stubbed_s3()
    stub.add_client_error("list_objects_v2", "AccessDenied", http_status_code=403)
    with stub, pytest.raises(InputError, match=r"^s3://audit/org: .*AccessDenied"):
        list(S3Store("s3://audit/org", client).listing([]))


def test_a_prefix_is_read_with_or_without_its_slashes_and_an_empty_page_is_no_run():
    for url in ("s3://audit/Xorg/", "s3://audit//Xorg"):
        client, stub = stubbed_s3()
        stub.add_response(
            "list_objects_v2", {"KeyCount": 0}, {"Bucket": "audit", "Prefix": "Xorg/"}
        )
        with stub:
            assert list(S3Store(url, client).listing([])) == []
            stub.assert_no_pending_responses()


def test_a_run_at_the_root_of_a_bucket_is_read_from_there():
    client, stub = stubbed_s3()
    stub.add_response(
        "list_objects_v2",
        {"Contents": listed("metadata.json", "resources.json")},
        {"Bucket": "audit", "Prefix": ""},
    )
    stub.add_response(
        "get_object", {"Body": body(b"[]")}, {"Bucket": "audit", "Key": "resources.json"}
    )
    store = S3Store("s3://audit", client)
    with stub:
        (found,) = store.listing([])
        assert (found.where, found.path_parts) == ("s3://audit", ())
        assert store.read(found.where, "resources.json", 10) == b"[]"
        stub.assert_no_pending_responses()


class Counted(StreamingBody):
    """A body that says how much was asked of it."""

    asked: list = []

    def read(self, amt=None):
        self.asked.append(amt)
        return super().read(amt)


def test_an_s3_object_is_read_no_further_than_one_byte_past_the_cap():
    client, stub = stubbed_s3()
    data = b"x" * (2 * MB + 5)
    key = {"Bucket": "audit", "Key": "org/stale-keys/resources.json"}
    stub.add_response("get_object", {"Body": Counted(io.BytesIO(data), len(data))}, key)
    Counted.asked = []
    with stub, pytest.raises(Unreadable) as raised:
        S3Store("s3://audit/org", client).read(
            "s3://audit/org/stale-keys", "resources.json", 2 * MB
        )
    assert str(raised.value) == "s3://audit/org/stale-keys/resources.json: larger than 2 MB"
    assert Counted.asked == [2 * MB + 1]


def test_an_s3_client_for_the_urls_region_and_a_bad_one_named(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    assert s3_client("s3://audit/org").meta.region_name == "us-west-2"  # boto3's default
    assert s3_client("s3://audit/org?region=eu-west-1").meta.region_name == "eu-west-1"
    assert s3_client("s3://audit/org?region=ap-south-2&x=1").meta.region_name == "ap-south-2"
    with pytest.raises(InputError, match=r"^s3://a/x\?region=bad region!: Provided region_name"):
        s3_client("s3://a/x?region=bad region!")
    store = store_of("s3://audit/org?region=eu-west-1")
    assert (store.label, store.client.meta.region_name, store.threads) == (
        "s3://audit/org?region=eu-west-1", "eu-west-1", 16)  # fmt: skip
    local = store_of("out/2026-12-02")
    assert (type(local).__name__, local.label, local.threads) == ("LocalStore", "out/2026-12-02", 0)
