"""Finding runs in directories and S3 prefixes in c7n's layouts, and naming what cannot be
read. The layouts are checked on real c7n-org output in tests/e2e/overview/test_c7n_org.py;
here each case is made on purpose; S3 with botocore's Stubber (and on moto's server in
tests/e2e/overview/test_s3_inputs.py)."""

from __future__ import annotations

import gzip
import io
import json
import os
import threading
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from c7n_keyage.overview.inputs import (
    MB,
    InputError,
    LocalStore,
    S3Store,
    decode,
    in_order,
    load_run,
    read_inputs,
    read_stores,
    run_files,
    s3_client,
    split_dated,
    store_of,
)
from c7n_keyage.overview.runs import Unreadable
from tests.support.hostile import MIB, gzip_bomb
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
        (("p", "2026", "12", "02", "06"), (), datetime(2026, 12, 2, 6, tzinfo=timezone.utc)),
    ],
)  # fmt: skip
def test_a_dated_path_is_the_hour_below_the_policy(parts, above, dated):
    assert split_dated(parts) == (above, dated)


def test_other_policies_are_counted_and_their_resources_never_read(tmp_path):
    write(tmp_path / "old-amis", metadata(OTHER), b"this is not even read")
    write(tmp_path / "older-amis", metadata(dict(OTHER, name="older")), b"nor this")
    write(tmp_path / "stale-keys", metadata(), resources("alice"))
    runs, stats, warnings = read(tmp_path)
    assert [r.policy for r in runs] == ["stale-keys"]
    assert (stats.other_policy, stats.unreadable, warnings) == (2, [], [])


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
    assert (stats.runs_found, stats.runs_read) == (2, 2)


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


def test_every_member_of_a_gzip_file_is_read():
    assert decode("x/resources.json", gzip.compress(b"[1, ") + gzip.compress(b"2]"), 10) == [1, 2]


def test_a_file_expanding_to_the_cap_is_read_and_one_byte_more_is_not():
    data = gzip.compress(b"[1]")
    assert decode("x/resources.json", data, 3) == [1]
    with pytest.raises(Unreadable) as raised:
        decode("x/resources.json", data, 2)
    assert str(raised.value) == "x/resources.json: expands to more than 0 MB"


def test_a_gzip_file_whose_data_is_corrupt_is_named():
    data = bytearray(gzip.compress(b"[1, 2, 3]" * 10))
    data[10] = 0xFF  # the first deflate block's header: no such block type
    with pytest.raises(Unreadable) as raised:
        decode("x/resources.json", bytes(data), 1000)
    assert str(raised.value) == (
        "x/resources.json: not a readable gzip file (Error -3 while decompressing data: "
        "invalid block type)"
    )


def test_a_file_too_large_for_memory_is_named(monkeypatch):
    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(json, "loads", no_memory)
    with pytest.raises(Unreadable) as raised:
        decode("x/resources.json", b"[]", 10)
    assert str(raised.value) == "x/resources.json: too large to read into memory"


def without_start() -> dict:
    found = metadata()
    del found["execution"]["start"]
    return found


def test_a_run_without_a_start_is_dated_by_its_s3_path_with_a_warning(tmp_path):
    base = tmp_path / "dev" / "us-east-1" / "stale-keys" / "2026" / "12" / "02" / "06"
    write(base, without_start(), resources("alice"), gz=True)
    (run,), stats, warnings = read(tmp_path)
    assert (run.started, stats.unreadable) == (datetime(2026, 12, 2, 6, tzinfo=timezone.utc), [])
    assert warnings == [
        f"{base}/metadata.json: execution.start missing or not a time; the run is dated by its "
        "S3 path"
    ]


def test_a_run_without_a_start_or_a_dated_path_is_named(tmp_path):
    write(tmp_path / "stale-keys", without_start(), resources("alice"))
    runs, stats, _ = read(tmp_path)
    assert runs == []
    assert stats.unreadable == [
        f"{tmp_path}/stale-keys/metadata.json: execution.start missing or not a time"
    ]


@pytest.mark.parametrize(
    "changed, says",
    [
        (b"{not json", "metadata.json: not valid JSON"),
        (json.dumps({"policy": {}}).encode(), "metadata.json: no policy with a name"),
        (json.dumps(dict(metadata(), config="dev")).encode(), "metadata.json: config is not an"),
    ],
)
def test_a_metadata_file_changed_since_the_first_pass_is_named(changed, says):
    """A runner may rewrite a run's files between the reader's two passes."""
    files = run_files("out/stale-keys", ("stale-keys",), ["metadata.json", "resources.json"])
    fetch = {"metadata.json": changed, "resources.json": b"[]"}.__getitem__
    with pytest.raises(Unreadable) as raised:
        load_run(files, fetch, pytest.fail, 1000)
    assert str(raised.value).startswith(f"out/stale-keys/{says}")


def test_a_dry_runs_leftover_action_file_is_not_read(tmp_path):
    """c7n reuses a policy's output directory: a dry run after a real one leaves the real
    run's action file beside its own files."""
    dry = metadata(RETIRE)
    dry["config"]["dryrun"] = True
    write(tmp_path / "retire", dry, resources("alice"))
    (tmp_path / "retire" / "action-retirekeys").write_text("[{")
    (run,), _, warnings = read(tmp_path)
    assert (run.step, run.outcomes, warnings) == (None, None, [])


def test_a_directory_that_cannot_be_listed_is_named_and_the_rest_read(tmp_path, monkeypatch):
    write(tmp_path / "fine", metadata(), resources("alice"))
    locked = tmp_path / "locked"
    locked.mkdir()
    scandir = os.scandir

    def refusing(path="."):
        if os.fspath(path) == str(locked):  # as a directory of another owner, mode 700
            raise PermissionError(13, "Permission denied", str(locked))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    runs, stats, warnings = read(tmp_path)
    assert [r.policy for r in runs] == ["stale-keys"]
    assert stats.unreadable == [f"{locked}: Permission denied"] == warnings


def test_a_file_that_cannot_be_opened_is_named(tmp_path):
    write(tmp_path / "stale-keys", metadata(), [])
    (tmp_path / "stale-keys" / "resources.json").unlink()
    (tmp_path / "stale-keys" / "resources.json").symlink_to(tmp_path / "gone.json")
    runs, stats, _ = read(tmp_path)
    assert runs == []
    assert stats.unreadable == [f"{tmp_path}/stale-keys/resources.json: No such file or directory"]


def test_a_local_file_is_read_up_to_the_cap_and_no_further(tmp_path, monkeypatch):
    (tmp_path / "resources.json").write_bytes(b"x" * 10)
    store = LocalStore(str(tmp_path))
    assert store.read(str(tmp_path), "resources.json", 10) == b"x" * 10
    (tmp_path / "resources.json").write_bytes(b"x" * (2 * MB + 5))
    asked, opened = [], Path.open

    class Spy:
        def __init__(self, f):
            self.f = f

        def read(self, size=-1):
            asked.append(size)
            return self.f.read(size)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr(Path, "open", lambda path, *a, **kw: Spy(opened(path, *a, **kw)))
    with pytest.raises(Unreadable) as raised:
        store.read(str(tmp_path), "resources.json", 2 * MB)
    assert str(raised.value) == f"{tmp_path}/resources.json: larger than 2 MB"
    assert asked == [2 * MB + 1]


def test_in_order_draws_no_more_items_than_its_threads_ahead_of_the_results():
    drawn = []

    def items():
        for i in range(5):
            drawn.append(i)
            yield i

    with ThreadPoolExecutor(2) as pool:
        results = in_order(lambda i: i * 10, items(), 2, pool)
        assert (next(results), drawn) == (0, [0, 1])
        assert list(results) == [10, 20, 30, 40]


class Remote:
    """Runs in memory, listed and read as a remote store is: each read waits until as many
    reads as the store allows are in flight, so a reader that reads fewer at once (or one
    at a time) breaks the barrier, and one that reads more cannot pass it."""

    def __init__(self, count: int, threads: int) -> None:
        self.label, self.threads = "remote://runs", threads
        self.barrier = threading.Barrier(threads, timeout=10)
        # Listed by name, started in the other order.
        self.files = {
            f"remote://runs/p{i:02d}": {
                "metadata.json": json.dumps(
                    metadata(dict(KEYAGE, name=f"p{i:02d}"), start=START - timedelta(hours=i))
                ).encode(),
                "resources.json": json.dumps(resources(f"u{i:02d}")).encode(),
            }
            for i in range(count)
        }

    def listing(self, problems):
        for where in sorted(self.files):
            yield run_files(where, where.split("/")[3:], self.files[where])

    def read(self, where: str, name: str, cap: int) -> bytes:
        self.barrier.wait()
        return self.files[where][name]


def test_a_remote_stores_files_are_read_as_many_at_once_as_it_allows():
    store = Remote(40, 40)  # more than a thread pool's default on any machine (32)
    warnings: list[str] = []
    runs, stats = read_stores([store], warnings.append)
    assert [r.policy for r in runs] == [f"p{i:02d}" for i in reversed(range(40))]
    assert (stats.runs_read, warnings) == (40, [])


def test_an_s3_input_is_read_with_the_client_given(monkeypatch):
    def no_other_client(*args, **kwargs):
        raise AssertionError("a client other than the one given was made")

    client, stub = stubbed_s3()
    monkeypatch.setattr(boto3, "client", no_other_client)
    run = "org/stale-keys"
    stub.add_response("list_objects_v2", {"Contents": listed(f"{run}/metadata.json",
                      f"{run}/resources.json")}, {"Bucket": "audit", "Prefix": "org/"})  # fmt: skip
    for name in ("metadata.json", "metadata.json", "resources.json"):  # two passes
        data = json.dumps(metadata() if name == "metadata.json" else resources("alice"))
        params = {"Bucket": "audit", "Key": f"{run}/{name}"}
        stub.add_response("get_object", {"Body": body(data.encode())}, params)
    with stub:
        runs, stats = read_inputs(["s3://audit/org"], pytest.fail, make_client=lambda u: client)
        assert [k.user for r in runs for k in r.keys] == ["alice"]
        stub.assert_no_pending_responses()
    assert stats.inputs == ["s3://audit/org"]


def test_a_gzip_file_of_several_members_is_expanded_no_further_than_its_cap():
    """A first member just under the cap, then a bomb: the refusal comes at the cap, so
    memory holds about the cap (one copy of it as it grows), never the bomb's next part."""
    cap = 8 * MIB
    data = gzip_bomb(7) + gzip_bomb(64)
    tracemalloc.start()
    try:
        with pytest.raises(Unreadable) as raised:
            decode("x/resources.json.gz", data, cap)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(raised.value) == "x/resources.json.gz: expands to more than 8 MB"
    assert peak < 3 * cap, f"peak {peak / MIB:.0f} MiB"
