"""Finding runs in directories and S3 prefixes in c7n's layouts, and naming what cannot be
read. The layouts are checked on real c7n-org output in test_overview_e2e.py; here each case
is made on purpose, S3 on moto's server."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from c7n_keyage.overview.read import InputError, decode, read_inputs, split_dated
from tests.support.localiam import LocalIAM

START = datetime(2026, 12, 2, 6, 30, tzinfo=timezone.utc)
ENTRY = {
    "slot": 1,
    "last_rotated": "2025-10-28T14:29:00+00:00",
    "last_used_date": None,
    "last_used_service": None,
    "last_used_region": None,
    "reasons": ["never-used"],
    "days_since_use": None,
    "days_since_rotation": 400,
    "verified": False,
}
KEYAGE = {"name": "stale-keys", "resource": "iam-user", "filters": [{"type": "access-key-unused"}]}
OTHER = {"name": "old-amis", "resource": "ami", "filters": [{"type": "image-age", "days": 90}]}


def metadata(policy=KEYAGE, account="111111111111", start=START, region="us-east-1") -> dict:
    return {
        "policy": policy,
        "execution": {"start": start.timestamp()},
        "config": {"account_id": account, "region": region, "dryrun": False},
    }


def resources(*users: str) -> list:
    return [{"UserName": u, "c7n:unused-keys": [ENTRY]} for u in users]


def write(directory: Path, meta: object, found: object, gz: bool = False) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, value in (("metadata.json", meta), ("resources.json", found)):
        data = (value if isinstance(value, bytes) else json.dumps(value).encode()) or b""
        if gz:
            (directory / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (directory / name).write_bytes(data)


def read(*inputs, **kw):
    warnings: list[str] = []
    runs, stats = read_inputs([str(i) for i in inputs], warnings.append, **kw)
    return runs, stats, warnings


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
    assert decode("x/resources.json", gzip.compress(b"[1]")) == [1]
    assert decode("x/resources.json.gz", b"[2]") == [2]


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


@pytest.fixture(scope="module")
def s3():
    """moto's server (every service on one endpoint) with a bucket, and its environment for
    boto3 in this process."""
    with LocalIAM() as local:
        client = local.client("s3")
        client.create_bucket(Bucket="audit")
        yield local, client


@pytest.fixture
def s3_env(s3, monkeypatch):
    local, client = s3
    for name, value in local.env().items():
        if name.startswith("AWS") or name.lower() == "no_proxy":
            monkeypatch.setenv(name, value)
    return client


def put(client, key: str, value: object, gz: bool = True) -> None:
    data = value if isinstance(value, bytes) else json.dumps(value).encode()
    client.put_object(Bucket="audit", Key=key, Body=gzip.compress(data) if gz else data)


def test_s3_dated_gzip_layout_prefixes_and_region(s3_env):
    dated = "org/dev/us-east-1/stale-keys/2026/12/02/06"
    put(s3_env, f"{dated}/metadata.json.gz", metadata())
    put(s3_env, f"{dated}/resources.json.gz", resources("alice"))
    put(s3_env, f"{dated}/custodian-run.log.gz", b"log")
    # A sibling prefix that starts with the same letters is not under s3://audit/org.
    put(s3_env, "org2/x/stale-keys/2026/12/02/06/metadata.json.gz", metadata())
    put(s3_env, "org2/x/stale-keys/2026/12/02/06/resources.json.gz", resources("eve"))
    (run,), stats, warnings = read("s3://audit/org?region=us-east-1")
    assert (run.where, run.account_name, run.started) == (f"s3://audit/{dated}", "dev", START)
    assert [k.user for k in run.keys] == ["alice"]
    assert (stats.runs_found, warnings) == (1, [])


def test_s3_layout_of_a_periodic_lambda_has_no_account_directory(s3_env):
    # mode: periodic with execution-options output_dir s3://audit/lambda: <policy>/<date>/.
    dated = "lambda/stale-keys/2026/12/02/06"
    put(s3_env, f"{dated}/metadata.json.gz", metadata(account="444444444444"))
    put(s3_env, f"{dated}/resources.json.gz", resources("alice"))
    (run,), _, warnings = read("s3://audit/lambda")
    assert (run.account_id, run.account_name, run.started) == ("444444444444", None, START)
    assert warnings == []


def test_s3_unreadable_object_is_named_by_its_url(s3_env):
    put(s3_env, "bad/stale-keys/2026/12/02/06/metadata.json.gz", b"{oops")
    put(s3_env, "bad/stale-keys/2026/12/02/06/resources.json.gz", resources("alice"))
    _, stats, _ = read("s3://audit/bad")
    assert stats.unreadable[0].startswith(
        "s3://audit/bad/stale-keys/2026/12/02/06/metadata.json.gz: not valid JSON"
    )


def test_s3_missing_bucket_is_an_input_error_without_a_traceback(s3_env):
    with pytest.raises(InputError, match=r"^s3://no-such-bucket/x: .*NoSuchBucket"):
        read("s3://no-such-bucket/x")


def test_s3_bad_region_is_an_input_error():
    with pytest.raises(InputError, match=r"region=bad region!: Provided region_name 'bad region!'"):
        read("s3://audit/x?region=bad region!")


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
