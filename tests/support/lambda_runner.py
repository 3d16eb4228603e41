"""Run a Lambda policy as Lambda would: the archive ``custodian run`` would upload,
unpacked, its handler run in a bare interpreter against a ``LocalIAM``.

``custodian run`` provisions a Lambda policy with ``c7n.mu.PolicyLambda(policy)``; its
``get_archive()`` is the zip uploaded. The handler runs in a fresh interpreter: ``python -S``
(no site processing, so the installed ``.pth`` hook cannot register anything), the unpacked
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

import yaml
from c7n.config import Config
from c7n.loader import PolicyLoader
from c7n.mu import PolicyLambda
from c7n.policy import Policy

from tests.support.localiam import LocalIAM
from tests.support.paths import POLICIES

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


def lambda_runtime(path: pathlib.Path, names: tuple[str, ...]) -> pathlib.Path:
    """A directory holding only ``names`` (packages or modules) from site-packages."""
    site_packages = pathlib.Path(sysconfig.get_paths()["purelib"])
    path.mkdir()
    for name in names:
        (found,) = [p for p in (site_packages / name, site_packages / f"{name}.py") if p.exists()]
        (path / found.name).symlink_to(found)
    return path


def load_lambda(data: dict, output_dir: pathlib.Path) -> Policy:
    """``data`` as a periodic Lambda policy with the Lambda sample's mode, output kept out of
    /tmp (where Lambda writes unless the mode's execution-options say otherwise)."""
    (shipped,) = yaml.safe_load(POLICY_FILE.read_text())["policies"]
    mode = dict(shipped["mode"], **{"execution-options": {"output_dir": str(output_dir)}})
    config = Config.empty(region="us-east-1", account_id="123456789012")
    (policy,) = PolicyLoader(config).load_data(
        {"policies": [dict(data, mode=mode)]}, file_uri=str(POLICY_FILE), validate=True
    )
    return policy


def lambda_policy(
    output_dir: pathlib.Path, source: str | None = None, actions: list[dict] | None = None
) -> Policy:
    """The sample policy (on ``source`` and with ``actions`` if given), output kept local."""
    (data,) = yaml.safe_load(POLICY_FILE.read_text())["policies"]
    if source:
        data["source"] = source
    if actions:
        data["actions"] = actions
    return load_lambda(data, output_dir)


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
