"""The periodic Lambda: the archive ``custodian run`` would upload carries the plugin and
its handler, and that handler, run from the unpacked archive alone, finds stale keys.

``custodian run`` provisions a Lambda policy with ``c7n.mu.PolicyLambda(policy)``; its
``get_archive()`` is the zip uploaded and ``get_config()`` the function configuration.
The handler is then run in a fresh interpreter as Lambda would: ``python -S`` (no site
processing, so the installed ``.pth`` hook cannot register anything), the unpacked
archive first on ``sys.path``, then a directory holding only what Lambda's Python runtime
provides (boto3 and its dependencies, linked from this environment's site-packages).
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import sysconfig
import zipfile

import pytest
import yaml
from c7n.config import Config
from c7n.loader import PolicyLoader
from c7n.mu import PolicyLambda
from c7n.policy import Policy

import c7n_keyage
from demo.localiam import DEMO_ACCOUNT, LocalIAM

POLICIES = pathlib.Path(__file__).resolve().parent.parent / "policies"
POLICY_FILE = POLICIES / "access-key-unused-lambda.yml"
HANDLER = "c7n_keyage.handler.run"

SCHEDULED_EVENT = {
    "version": "0",
    "id": "5d7c4f3e-0000-4000-8000-000000000001",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-11-01T12:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/custodian-keyage"],
    "detail": {},
}

# The libraries Lambda's Python runtime has besides the function's archive.
LAMBDA_RUNTIME = ("boto3", "botocore", "jmespath", "dateutil", "s3transfer", "six", "urllib3")

# Runs in the fresh interpreter: argv = [archive dir, runtime dir, event JSON, handler]. The
# handler runs twice, as a warm Lambda container would run two invocations.
INVOKE = """
import importlib, json, sys
task, runtime, event = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
hooked = "c7n_keyage" in sys.modules or any(
    getattr(f, "c7n_keyage", False) for f in sys.meta_path)
sys.path[:0] = [task]
sys.path.append(runtime)
module_name, _, function = sys.argv[4].rpartition(".")
handler = getattr(importlib.import_module(module_name), function)
result = handler(event, None)
result = result and handler(event, None)
import c7n, c7n_keyage
from c7n.resources.iam import User
print(json.dumps({
    "result": result,
    "hooked_before_import": hooked,
    "c7n": c7n.__file__,
    "c7n_keyage": c7n_keyage.__file__,
    "filter_module": sys.modules[User.filter_registry.get("access-key-unused").__module__].__file__,
}))
"""

# From the demo account: fresh, stale, never used, two keys with slot 1 the newer.
DEMO_USERS = {"alice-fresh", "bob-stale", "dave-abandoned", "erin-two-keys"}
USERS = [user for user in DEMO_ACCOUNT if user.name in DEMO_USERS]


def lambda_runtime(path: pathlib.Path, names: tuple[str, ...]) -> pathlib.Path:
    """A directory holding only ``names`` (packages or modules) from site-packages."""
    site_packages = pathlib.Path(sysconfig.get_paths()["purelib"])
    path.mkdir()
    for name in names:
        (found,) = [p for p in (site_packages / name, site_packages / f"{name}.py") if p.exists()]
        (path / found.name).symlink_to(found)
    return path


def lambda_policy(
    output_dir: pathlib.Path, source: str | None = None, actions: list[dict] | None = None
) -> Policy:
    """The sample policy (on ``source`` and with ``actions`` if given), with its output kept
    out of /tmp."""
    (data,) = yaml.safe_load(POLICY_FILE.read_text())["policies"]
    # Lambda writes to /tmp unless the mode's execution-options say otherwise.
    data["mode"]["execution-options"] = {"output_dir": str(output_dir)}
    if source:
        data["source"] = source
    if actions:
        data["actions"] = actions
    config = Config.empty(region="us-east-1", account_id="123456789012")
    (policy,) = PolicyLoader(config).load_data(
        {"policies": [data]}, file_uri=str(POLICY_FILE), validate=True
    )
    return policy


@pytest.fixture(params=[None, "credential-report"], ids=["describe", "credential-report"])
def archive(request, tmp_path):
    """The zip and function configuration ``custodian run`` would publish."""
    policy = lambda_policy(tmp_path / "lambda-output", request.param)
    return build(policy, tmp_path), PolicyLambda(policy).get_config()


def test_archive_carries_the_plugin_and_its_handler(archive):
    path, config = archive
    assert config["Handler"] == HANDLER
    assert config["Runtime"] == "python3.11"

    names = set(zipfile.ZipFile(path).namelist())
    package = pathlib.Path(c7n_keyage.__file__).parent
    modules = {f"c7n_keyage/{p.relative_to(package).as_posix()}" for p in package.rglob("*.py")}
    assert {
        "c7n_keyage/__init__.py",
        "c7n_keyage/handler.py",
        "c7n_keyage/stale/access_key_unused.py",
    } <= modules
    assert modules <= names
    # The mailer template travels too (packages are added as whole directories).
    assert "c7n_keyage/templates/access-key-unused.html.j2" in names
    assert "c7n/handler.py" in names and "c7n/resources/iam.py" in names
    # The .pth hook is not in the archive: Lambda would not read it anyway.
    assert not any(name.endswith(".pth") for name in names)

    packaged = json.loads(zipfile.ZipFile(path).read("config.json"))
    (policy,) = packaged["policies"]
    assert policy["mode"]["handler"] == HANDLER
    assert policy["mode"]["packages"] == ["c7n_keyage"]
    assert policy["filters"][0]["type"] == "access-key-unused"


def build(policy: Policy, tmp_path: pathlib.Path) -> pathlib.Path:
    """The zip ``custodian run`` would publish for ``policy``."""
    built = PolicyLambda(policy).get_archive()
    path = tmp_path / "function.zip"
    path.write_bytes(pathlib.Path(built.path).read_bytes())
    return path


def invoke(path: pathlib.Path, tmp_path: pathlib.Path, local: LocalIAM):
    """Unpack the archive and run its handler twice, as a warm container would, in a bare
    interpreter; return the process and the actions the endpoint received."""
    task = tmp_path / "task"
    zipfile.ZipFile(path).extractall(task)
    runtime = lambda_runtime(tmp_path / "runtime", LAMBDA_RUNTIME)
    local.clear_calls()
    result = subprocess.run(
        [sys.executable, "-S", "-c", INVOKE, str(task), str(runtime)]
        + [json.dumps(SCHEDULED_EVENT), HANDLER],
        cwd=task,
        env=local.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result, local.calls


@pytest.mark.parametrize("aws_like", [True, False], ids=["aws-like-report", "unmodified-moto"])
def test_handler_from_the_unpacked_archive_finds_stale_keys(archive, tmp_path, aws_like):
    path, config = archive
    task = tmp_path / "task"
    source = json.loads(zipfile.ZipFile(path).read("config.json"))["policies"][0].get("source")

    with LocalIAM(aws_like_report=aws_like) as local:
        local.seed(USERS)
        result, calls = invoke(path, tmp_path, local)
        actions = [c.action for c in calls]

    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["result"] is True
    # Nothing registered the filter before the handler imported the plugin from the zip.
    assert seen["hooked_before_import"] is False
    for module in ("c7n", "c7n_keyage", "filter_module"):
        assert pathlib.Path(seen[module]).is_relative_to(task), module

    resources = json.loads(
        (tmp_path / "lambda-output" / "iam-access-key-unused-daily" / "resources.json").read_text()
    )
    found = [
        (r["UserName"], k["slot"], k["reasons"]) for r in resources for k in r["c7n:unused-keys"]
    ]
    assert found == [
        ("bob-stale", 1, ["unused"]),
        ("dave-abandoned", 1, ["never-used"]),
        ("erin-two-keys", 2, ["unused"]),
    ]
    # Lambda has no cache: each invocation fetched the report itself (a warm container's
    # second invocation does not reuse the first one's). The first is generated at its
    # request and used as served, with no wait.
    assert actions.count("GetCallerIdentity") == 1  # c7n keeps the account ID
    reports = [a for a in actions if "CredentialReport" in a]
    first = ["GetCredentialReport", "GenerateCredentialReport", "GetCredentialReport"]
    # The AWS-like snapshot is fresh for the second; moto's is dated 2015: asked again.
    second = ["GetCredentialReport"] if aws_like else first
    assert reports == first + second
    assert "ListAccessKeys" not in actions
    # The report is the listing on that source: nothing per user.
    per_user = ["ListUsers"] + ["GetUser"] * len(USERS)
    assert [a for a in actions if "User" in a] == ([] if source else per_user * 2)
