"""Runs read from S3 on moto's server: c7n's dated, gzipped layout, prefixes, a region,
and the errors S3 gives, each named without a traceback. (Listing pages and reading caps
are unit-tested with botocore's Stubber in tests/unit/overview/test_inputs.py.)"""

from __future__ import annotations

import gzip
import json

import pytest

from c7n_keyage.overview.inputs import InputError
from tests.support.localiam import LocalIAM
from tests.support.run_files import START, metadata, read, resources

pytestmark = pytest.mark.slow


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
