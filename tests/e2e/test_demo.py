"""The demo (``python -m demo``, the README's first command) does what it prints.

It runs as users run it: a subprocess started from the repository root, whose own
``custodian run`` subprocesses go to the local IAM endpoint the demo starts. So does
``python -m demo serve``, with a ``custodian run`` from another process.
"""

from __future__ import annotations

import json
import os
import pathlib
import queue
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import pytest
import yaml

import demo.__main__ as demo_main
from tests.support.paths import REPO

ROOT = REPO
# (user, slot) of the DEMO_ACCOUNT keys that are active and stale at 90 days.
STALE = {("bob-stale", "1"), ("dave-abandoned", "1"), ("erin-two-keys", "2")}
# Stale in the report too, but used again before the remediation: kept.
BACK = ("gus-back-in-use", "1")


@dataclass
class DemoRun:
    returncode: int
    stdout: str
    stderr: str
    group_left: bool  # whether any process of the demo's process group outlived it


def section(output: str, title: str) -> list[list[str]]:
    """The rows (split on whitespace) of the first table after ``title``, header dropped."""
    lines = output.split(title, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  user "))
    rows = []
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        rows.append(line.split())
    return rows


@pytest.fixture(scope="module")
def demo_run() -> DemoRun:
    # A session of its own: custodian runs inherit its process group, so a process still
    # in that group after the demo exits is one it left behind.
    process = subprocess.Popen(
        [sys.executable, "-m", "demo"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    stdout, stderr = process.communicate(timeout=300)
    try:
        os.killpg(process.pid, 0)
        group_left = True
    except ProcessLookupError:
        group_left = False
    return DemoRun(process.returncode, stdout, stderr, group_left)


def test_demo_exits_cleanly(demo_run):
    assert demo_run.returncode == 0, demo_run.stderr
    assert demo_run.stderr == ""
    assert not demo_run.group_left
    assert demo_run.stdout.rstrip().endswith("Local IAM endpoint stopped.")


def test_demo_seeds_the_account_it_describes(demo_run):
    seeded = section(demo_run.stdout, "seeded with:")
    # user, key id, slot, status, created (days ago), last used (days ago)
    assert [(r[0], r[2], r[3], r[4], r[5]) for r in seeded] == [
        ("alice-fresh", "1", "Active", "30", "1"),
        ("bob-stale", "1", "Active", "400", "200"),
        ("carol-new", "1", "Active", "10", "never"),
        ("dave-abandoned", "1", "Active", "200", "never"),
        ("erin-two-keys", "1", "Active", "20", "2"),
        ("erin-two-keys", "2", "Active", "300", "150"),
        ("frank-rotated", "1", "Inactive", "300", "250"),
        ("frank-rotated", "2", "Active", "5", "1"),
        ("gus-back-in-use", "1", "Active", "400", "200"),
    ]


def test_demo_reports_exactly_the_stale_keys_with_their_ids(demo_run):
    found = section(demo_run.stdout, "Report:")
    # user, key id, slot, last used, days, reason
    assert sorted((r[0], r[2], r[4], r[5]) for r in found) == [
        ("bob-stale", "1", "200", "unused"),
        ("dave-abandoned", "1", "200", "never-used"),
        ("erin-two-keys", "2", "150", "unused"),
        ("gus-back-in-use", "1", "200", "unused"),
    ]
    assert [r[3] for r in found if r[0] == "dave-abandoned"] == ["never"]
    seeded_ids = {(r[0], r[2]): r[1] for r in section(demo_run.stdout, "seeded with:")}
    # resolve-key-ids: each row carries the flagged key's own ID, not another slot's.
    assert {(r[0], r[2]): r[1] for r in found} == {k: seeded_ids[k] for k in STALE | {BACK}}


def test_demo_disables_exactly_the_reported_keys(demo_run):
    after = section(demo_run.stdout, "Remediation:")
    # user, key id, slot, before, after[, "<-", "disabled"]
    assert len(after) == 9
    disabled = {(r[0], r[2]) for r in after if (r[3], r[4]) == ("Active", "Inactive")}
    assert disabled == STALE
    assert all(r[3] == r[4] for r in after if (r[0], r[2]) not in STALE)
    assert [r[5:] for r in after if (r[0], r[2]) in STALE] == [["<-", "disabled"]] * 3
    # Every key the report named is disabled, but the one used since the report.
    reported = {(r[0], r[2]): r[1] for r in section(demo_run.stdout, "Report:")}
    disabled_ids = {r[1] for r in after if r[4] == "Inactive" and r[3] == "Active"}
    assert disabled_ids == {key for user_slot, key in reported.items() if user_slot != BACK}
    assert "3 key(s) disabled, 0 other key(s) changed." in demo_run.stdout


def test_demo_keeps_the_key_used_since_the_report_and_says_why(demo_run):
    assert "is used again. The credential report," in demo_run.stdout
    kept = demo_run.stdout.split("Kept although the report found them stale", 1)[1]
    rows = []
    for line in kept.splitlines()[3:]:  # the table, up to the lifecycle's part
        if not line.startswith("  "):
            break
        rows.append(line.split(None, 2))
    assert [(user, slot) for user, slot, _ in rows] == [BACK]
    assert rows[0][2].startswith("used since the report (last used ")


# The lifecycle runs on the account seeded afresh: gus's key is not used again there.
RETIRED = STALE | {BACK}
RECORD = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
LAST_USED = re.compile(r"last-used=(never|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")


def test_demo_retires_exactly_the_stale_keys_and_records_each(demo_run):
    rows = section(demo_run.stdout, "Retire: custodian run")
    # user, key id, slot, before, after, record: "<time> <policy> last-used=<...>" or "-"
    assert len(rows) == 9
    retired = {(r[0], r[2]) for r in rows if (r[3], r[4]) == ("Active", "Inactive")}
    assert retired == RETIRED
    assert all(r[3] == r[4] for r in rows if (r[0], r[2]) not in RETIRED)
    for row in rows:
        if (row[0], row[2]) in RETIRED:
            assert RECORD.fullmatch(row[5]) and row[6] == demo_main.RETIRE, row
            assert len(row) == 8 and LAST_USED.fullmatch(row[7]), row
        else:
            assert row[5:] == ["-"], row


def test_demo_restores_them_in_one_step(demo_run):
    retired = section(demo_run.stdout, "Retire: custodian run")
    rows = section(demo_run.stdout, "Restore, in one step:")
    assert [(r[0], r[1], r[2]) for r in rows] == [(r[0], r[1], r[2]) for r in retired]
    restored = {(r[0], r[2]) for r in rows if (r[3], r[4]) == ("Inactive", "Active")}
    assert restored == RETIRED
    # No record left, and every key as seeded (frank's old key was inactive from the start).
    assert all(r[5:] == ["-"] for r in rows)
    seeded = {(r[0], r[2]): r[3] for r in section(demo_run.stdout, "seeded with:")}
    assert {(r[0], r[2]): r[4] for r in rows} == seeded
    assert "0 key(s) not as seeded, 0 record(s) left." in demo_run.stdout


def test_sample_policies_untouched_by_the_demo(demo_run):
    # The demo runs copies with resolve-key-ids on the report; the samples stay as shipped.
    for name in (demo_main.REPORT_POLICY, demo_main.DISABLE_POLICY):
        (policy,) = yaml.safe_load((ROOT / "policies" / name).read_text())["policies"]
        assert "report_delay" not in policy["filters"][0]
        assert "resolve-key-ids" not in policy["filters"][0]


def test_demo_fails_clearly_when_custodian_fails(tmp_path, monkeypatch, capsys):
    # A report policy the stock CLI rejects (days: 0) stands in for any custodian failure.
    for name in (demo_main.REPORT_POLICY, demo_main.DISABLE_POLICY):
        data = yaml.safe_load((ROOT / "policies" / name).read_text())
        if name == demo_main.REPORT_POLICY:
            data["policies"][0]["filters"][0]["days"] = 0
        (tmp_path / name).write_text(yaml.safe_dump(data))
    monkeypatch.setattr(demo_main, "POLICIES", tmp_path)
    threads = set(threading.enumerate())

    assert demo_main.main([]) == 1

    out, err = capsys.readouterr()
    assert "demo: custodian run access-key-unused-report.yml failed (exit code 1)" in err
    assert "0 is less than the minimum of 1" in err  # custodian's own message, passed on
    assert "Remediation:" not in out
    # The endpoint was stopped on the way out: no server thread is left running.
    assert set(threading.enumerate()) == threads


# -- python -m demo serve: the seeded endpoint, for the user's own policies ----------------

SERVE_READY = "# Ctrl-C here stops the endpoint."
# What a client shell needs: LocalIAM.env()'s endpoint, fake credentials, region, no config
# files, no instance metadata, no proxy for the endpoint.
CLIENT_ENV = {
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_EC2_METADATA_DISABLED",
    "NO_PROXY",
    "no_proxy",
}


class Served:
    """``python -m demo serve`` as a user starts it, in a session of its own."""

    def __init__(self, tmp_path: pathlib.Path, *args: str, env: dict[str, str] | None = None):
        self.stderr_path = tmp_path / f"serve-{len(list(tmp_path.glob('serve-*')))}.err"
        with self.stderr_path.open("w") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "demo", "serve", *args],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                start_new_session=True,
            )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def _next(self, deadline: float) -> str | None:
        return self._lines.get(timeout=max(0.1, deadline - time.monotonic()))

    def instructions(self, timeout: float = 120) -> list[str]:
        """The lines printed once the endpoint is ready."""
        deadline = time.monotonic() + timeout
        lines: list[str] = []
        while (line := self._next(deadline)) != SERVE_READY:
            if line is None:
                self.process.wait(timeout=30)
                raise AssertionError(f"serve exited {self.process.returncode}: {self.stderr}")
            lines.append(line)
        return lines + [line]

    def rest(self, timeout: float = 30) -> list[str]:
        """The lines printed after the instructions, until the process closed stdout."""
        deadline = time.monotonic() + timeout
        lines = []
        while (line := self._next(deadline)) is not None:
            lines.append(line)
        return lines

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def group_left(self) -> bool:
        """Whether any process of the server's process group is still there."""
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def kill(self) -> None:
        if self.group_left():
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@pytest.fixture
def serve(tmp_path):
    started: list[Served] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Served:
        started.append(Served(tmp_path, *args, env=env))
        return started[-1]

    yield start
    for served in started:
        served.kill()


def endpoint_port(lines: list[str]) -> int:
    match = re.search(r"Local IAM endpoint on http://127\.0\.0\.1:(\d+),", lines[0])
    assert match, lines[0]
    return int(match.group(1))


def shell_env(lines: list[str], base: dict[str, str]) -> dict[str, str]:
    """``base`` after the printed ``unset`` and ``export`` lines, as a shell would make it."""
    env = dict(base)
    for line in lines:
        words = shlex.split(line, comments=True)
        if words[:1] == ["unset"]:
            for name in words[1:]:
                env.pop(name, None)
        elif words[:1] == ["export"]:
            (assignment,) = words[1:]
            name, _, value = assignment.partition("=")
            env[name] = value
    return env


def port_is_free(port: int) -> bool:
    """Bind it as a server does (SO_REUSEADDR), and find nothing listening on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as client:
        return client.connect_ex(("127.0.0.1", port)) != 0


def test_serve_runs_a_users_policy_from_another_process_until_ctrl_c(serve, tmp_path):
    # A profile left set in the user's shell makes every client fail (ProfileNotFound, as
    # the config file is /dev/null): serve says to unset it, and the run below needs that.
    base = {**os.environ, "AWS_PROFILE": "c7n-keyage-no-such-profile"}
    served = serve("--port", "0", env=base)
    lines = served.instructions()
    port = endpoint_port(lines)

    exports = {line.split()[1].partition("=")[0] for line in lines if line.startswith("export ")}
    assert exports == CLIENT_ENV
    assert "unset AWS_PROFILE" in lines
    env = shell_env(lines, base)
    assert env["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{port}"
    assert "AWS_PROFILE" not in env
    # The printed line runs as printed (from the directory serve was started in), with its
    # output directory moved out of the repository.
    (run_line,) = [line for line in lines if " run --cache-period 0 " in line]
    command = shlex.split(run_line)
    assert command[1:] == [
        "run", "--cache-period", "0", "-s", "out", "policies/access-key-unused-report.yml"
    ]  # fmt: skip
    # The stock CLI beside this interpreter: by name if on PATH, else by its path from here.
    named = shutil.which(command[0], path=env["PATH"]) if "/" not in command[0] else command[0]
    assert (ROOT / named).resolve() == demo_main.CUSTODIAN.resolve()
    command[command.index("-s") + 1] = str(tmp_path / "out")

    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    assert run.returncode == 0, run.stderr
    assert ":ERROR " not in run.stderr
    found = json.loads(
        (tmp_path / "out" / "iam-access-key-unused-90" / "resources.json").read_text()
    )
    assert {
        (user["UserName"], key["slot"]) for user in found for key in user["c7n:unused-keys"]
    } == {(user, int(slot)) for user, slot in STALE}

    os.kill(served.process.pid, signal.SIGINT)
    assert served.process.wait(timeout=30) == 0
    assert served.rest() == ["Local IAM endpoint stopped."]
    assert served.stderr == ""
    assert not served.group_left()
    assert port_is_free(port)


def test_serve_on_a_chosen_port_stops_on_sigterm_and_refuses_a_taken_port(serve):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    served = serve("--port", str(port))
    assert endpoint_port(served.instructions()) == port

    taken = serve("--port", str(port))
    assert taken.process.wait(timeout=60) == 1
    assert f"demo serve: cannot serve on 127.0.0.1:{port}:" in taken.stderr
    assert taken.rest() == []

    os.kill(served.process.pid, signal.SIGTERM)
    assert served.process.wait(timeout=30) == 0
    assert served.rest() == ["Local IAM endpoint stopped."]
    assert not served.group_left()
    assert port_is_free(port)


def test_help_prints_usage_and_runs_nothing():
    done = subprocess.run(
        [sys.executable, "-m", "demo", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m demo [-h] [serve [--port N]]")
    assert "serve" in done.stdout and "make demo" in done.stdout
    assert "Local IAM endpoint" not in done.stdout + done.stderr


def test_serve_help_and_bad_arguments(capsys):
    with pytest.raises(SystemExit) as done:
        demo_main.main(["serve", "--help"])
    assert done.value.code == 0
    assert "--port N" in capsys.readouterr().out
    for bad in (["serve", "--port", "65536"], ["serve", "--port", "x"], ["deploy"]):
        with pytest.raises(SystemExit) as done:
            demo_main.main(bad)
        assert done.value.code == 2
        assert "usage: python -m demo" in capsys.readouterr().err
