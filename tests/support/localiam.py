"""A local IAM endpoint, seeded with users whose access keys have backdated ages.

`LocalIAM` runs moto's server in a thread of the current process. Anything that
speaks the AWS wire protocol can use it: boto3 clients made by `LocalIAM.client`,
or a separate `custodian run` process started with the environment from
`LocalIAM.env`. Nothing talks to real AWS.

AWS gives no API to set when an access key was created or last used, so `seed`
creates users and keys through the ordinary API and then backdates them by
editing moto's in-memory backend. That only works because the server runs in
this process.

Facts this module relies on (checked against moto 5.2.5):

* moto stores datetimes as *naive* UTC (`moto.core.utils.utcnow()` is
  `datetime.now(UTC).replace(tzinfo=None)`), so backdated values are naive UTC.
* `AccessKey.last_used` must be a `moto.iam.models.AccessKeyLastUsed(timestamp,
  service, region)`; a bare datetime makes GetAccessKeyLastUsed fail with HTTP 500.
* `User.access_keys` is a list kept in creation order and the credential report
  reads `access_keys[0]` / `[1]` as `access_key_1_*` / `access_key_2_*`, so the
  first key created is slot 1.
* The credential report and ListAccessKeys print `create_date` as-is: backdated
  values are truncated to whole seconds so both agree to the second.
* A request signed with a moto-issued access key marks that key as used "now".
  Only the fixed `testing` credentials (which moto does not know as a key) or
  STS temporary credentials are used here, so seeded keys keep their seeded age.
* moto's credential report differs from AWS's in two ways that matter here: its
  `GeneratedTime` is hard-coded to 2015-02-02 (so every report looks older than
  `report_max_age` and a client keeps regenerating it), and its CSV is rebuilt
  on every GetCredentialReport. While a LocalIAM runs, the report behaves as on
  AWS instead: GenerateCredentialReport takes a snapshot of the account (unless
  the last one is under 4 hours old), and GetCredentialReport returns that
  snapshot with the time it was taken. So a key changed after the report was
  generated keeps its old state in the report, as on AWS.

Example::

    with LocalIAM() as local:
        ids = local.seed(DEMO_ACCOUNT)
        # c7n's default cache, as users run; a HOME of its own keeps runs apart.
        subprocess.run(["custodian", "run", "-s", out, "policy.yml"],
                       env={**local.env(), "HOME": home}, check=True)
"""

from __future__ import annotations

import http.client
import io
import logging
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

import boto3
import botocore.session
from moto.core.responses import ActionResult
from moto.iam.models import AccessKeyLastUsed, IAMBackend, iam_backends
from moto.iam.responses import IamResponse
from moto.server import ThreadedMotoServer

__all__ = [
    "Call",
    "Fault",
    "DEFAULT_ACCOUNT_ID",
    "DEMO_ACCOUNT",
    "KeySpec",
    "LocalIAM",
    "UserSpec",
]

#: The account moto serves requests signed with unknown credentials from.
DEFAULT_ACCOUNT_ID = "123456789012"
#: Fake credentials; moto accepts any, and these are not one of its issued keys.
FAKE_ACCESS_KEY = "testing"
FAKE_SECRET_KEY = "testing"
REGION = "us-east-1"

# Recorded as the service / region of a seeded "last use". The credential report
# ignores them (moto prints `not_supported`); GetAccessKeyLastUsed returns them.
_LAST_USED_SERVICE = "iam"

# Environment variables that could make a subprocess use real credentials, a
# real profile or a different endpoint. env() removes them; names starting
# with AWS_ENDPOINT_URL_ (per-service endpoints) are removed as well.
_UNSAFE_ENV = frozenset(
    {
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_CREDENTIAL_EXPIRATION",
        "AWS_ROLE_ARN",
        "AWS_ROLE_SESSION_NAME",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        # Would make botocore ignore AWS_ENDPOINT_URL and resolve real endpoints.
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        "AWS_USE_FIPS_ENDPOINT",
        "AWS_USE_DUALSTACK_ENDPOINT",
    }
)


@dataclass(frozen=True)
class KeySpec:
    """One access key: its age and, if it was ever used, when it was last used.

    Ages are in days before the seeding time (fractions allowed); they are
    rounded to whole seconds when seeded.
    """

    created_days_ago: float
    last_used_days_ago: float | None  # None: never used
    active: bool = True

    def __post_init__(self) -> None:
        if self.created_days_ago < 0:
            raise ValueError("created_days_ago must be >= 0")
        if self.last_used_days_ago is not None:
            if self.last_used_days_ago < 0:
                raise ValueError("last_used_days_ago must be >= 0")
            if self.last_used_days_ago > self.created_days_ago:
                raise ValueError("a key cannot be last used before it was created")


@dataclass(frozen=True)
class UserSpec:
    """An IAM user, its access keys in slot order, and its tags.

    `keys[0]` is created first and appears as `access_key_1_*` in the
    credential report; `keys[1]` is `access_key_2_*`. Slot order is independent
    of age: a slot-2 key may be older than the slot-1 key. `tags` is a mapping
    (or ``(key, value)`` pairs) set when the user is created.
    """

    name: str
    keys: tuple[KeySpec, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    path: str = "/"
    password: bool = False  # a console password (the report's password_enabled)
    mfa: bool = False  # an MFA device (the report's mfa_active)

    def __post_init__(self) -> None:
        # Accept a list or a mapping too, but store tuples so the spec stays hashable.
        object.__setattr__(self, "keys", tuple(self.keys))
        tags = self.tags.items() if isinstance(self.tags, Mapping) else self.tags
        object.__setattr__(self, "tags", tuple((str(k), str(v)) for k, v in tags))
        if len(self.keys) > 2:
            raise ValueError("IAM allows at most two access keys per user")

    def api_tags(self) -> list[dict[str, str]]:
        """The tags as IAM's API takes them: ``[{"Key": ..., "Value": ...}]``."""
        return [{"Key": k, "Value": v} for k, v in self.tags]


def _naive_utc(moment: datetime) -> datetime:
    """`moment` as the naive-UTC, whole-second datetime moto stores.

    A naive `moment` is taken to be UTC already.
    """
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def _days_before(now: datetime, days: float) -> datetime:
    """`days` before `now`, rounded to whole seconds (so `now` must be whole too)."""
    return now - timedelta(seconds=round(days * 86400))


def _isolated_boto3_session(**credentials: str) -> boto3.session.Session:
    """A boto3 session that ignores the caller's profile and config files.

    A plain `boto3.session.Session()` reads AWS_PROFILE and ~/.aws; a missing
    profile would raise ProfileNotFound, and a real config could add settings.
    """
    core = botocore.session.Session(
        # (config name, env var, default, converter); no env var -> not read.
        session_vars={"profile": (None, None, None, None)}
    )
    core.set_config_variable("config_file", os.devnull)
    core.set_config_variable("credentials_file", os.devnull)
    return boto3.session.Session(botocore_session=core, region_name=REGION, **credentials)


@dataclass(frozen=True)
class Call:
    """One API request the server received (query protocol: IAM, STS)."""

    service: str  # from the request's signature scope: "iam", "sts", ...
    action: str  # "ListUsers", "UpdateAccessKey", ...
    params: dict[str, str]  # the form parameters other than Action and Version


def _parse_call(environ: dict[str, Any], body: bytes) -> Call:
    # SigV4: "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/iam/aws4_request, ..."
    scope = environ.get("HTTP_AUTHORIZATION", "").partition("Credential=")[2].split("/")
    service = scope[3] if len(scope) > 3 else ""
    params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    action = params.pop("Action", "") or environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
    params.pop("Version", None)
    return Call(service, action, params)


@dataclass
class Fault:
    """An error answered instead of moto for matching requests (see `LocalIAM.fail`).

    moto cannot express what AWS can (an SCP or a permissions boundary denying IAM on one
    user's ARN: moto resolves IAM resources for roles only), and never fails on its own.
    A fault stands in front of the unmodified server and answers as AWS would, in AWS's
    query-protocol error document; every other request reaches moto unchanged.
    """

    action: str
    code: str
    status: int
    params: dict[str, str]  # every one must equal the request's parameter
    times: int | None  # None: every matching request; else this many, then moto again
    message: str
    seen: int = 0

    def matches(self, call: Call) -> bool:
        return call.action == self.action and all(
            call.params.get(name) == value for name, value in self.params.items()
        )

    def body(self) -> bytes:
        return (
            '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
            f"<Error><Type>Sender</Type><Code>{self.code}</Code>"
            f"<Message>{self.message}</Message></Error>"
            "<RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ErrorResponse>"
        ).encode()


class _Recorder:
    """WSGI middleware that logs every API request before moto answers it, and the CPU
    time moto's handler then spends answering it; it answers injected faults itself."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.calls: list[Call] = []
        self.cpu: Counter[tuple[str, str]] = Counter()
        self.faults: list[Fault] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO", "").startswith("/moto-api"):
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        # Hand moto an unread copy of the body.
        environ["wsgi.input"] = io.BytesIO(body)
        call = _parse_call(environ, body)
        self.calls.append(call)  # list.append is thread-safe
        if (fault := self._fault(call)) is not None:
            start_response(
                f"{fault.status} Error",
                [("Content-Type", "text/xml"), ("x-amzn-ErrorType", fault.code)],
            )
            return [fault.body()]
        # Each request has its own thread: its thread CPU time is this request's alone.
        start = time.thread_time()
        try:
            return self.app(environ, start_response)
        finally:
            spent = time.thread_time() - start
            with self._lock:
                self.cpu[(call.service, call.action)] += spent

    def _fault(self, call: Call) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(call) and (fault.times is None or fault.seen < fault.times):
                    fault.seen += 1
                    return fault
        return None


# Where the AWS-like credential report snapshot lives on a moto IAM backend.
_SNAPSHOT = "_localiam_credential_report"
# AWS makes a new report only when the last one is older than this; else it keeps it.
_REPORT_REFRESH = timedelta(hours=4)


def _generate_report(backend: IAMBackend) -> None:
    """GenerateCredentialReport: snapshot the account now, as AWS does."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    snapshot = getattr(backend, _SNAPSHOT, None)
    if snapshot is not None and now - snapshot[1] < _REPORT_REFRESH:
        return
    backend.credential_report = True
    setattr(backend, _SNAPSHOT, (_MOTO_REPORT["backend"](backend), now))


def _get_credential_report(response: IamResponse) -> ActionResult:
    """GetCredentialReport: the last snapshot and when it was taken."""
    snapshot = getattr(response.backend, _SNAPSHOT, None)
    if snapshot is None:
        return _MOTO_REPORT["response"](response)  # raises ReportNotPresent
    content, generated = snapshot
    return ActionResult(
        {"Content": content, "ReportFormat": "text/csv", "GeneratedTime": generated}
    )


# moto's own methods, put back when the server stops.
_MOTO_REPORT: dict[str, Callable[..., Any]] = {
    "backend": IAMBackend.get_credential_report,
    "response": IamResponse.get_credential_report,
    "generate": IAMBackend.generate_report,
}


def _aws_like_report(enable: bool) -> None:
    IAMBackend.generate_report = _generate_report if enable else _MOTO_REPORT["generate"]
    IamResponse.get_credential_report = (
        _get_credential_report if enable else _MOTO_REPORT["response"]
    )


class LocalIAM:
    """Context manager running moto's server on 127.0.0.1 in a thread.

    ``port=0`` (the default) binds a free port chosen by the OS; the bound port
    is read back from the server, so there is no race with other processes.
    Entering starts the server and resets all moto state in this process;
    exiting resets it again, closes clients handed out by `client`, stops the
    server thread and closes the listening socket.

    moto keeps its state in module globals, so run one LocalIAM per process at
    a time (and not alongside `moto.mock_aws` in the same process): entering
    or leaving one wipes the state of every other.

    Every API request the server receives (from this process or another) is
    logged in `calls`, so a test can assert what a `custodian run` did, and the
    CPU time moto spent answering each action is in `handler_cpu()`.
    While it runs, the credential report behaves as on AWS (see the module
    docstring): a snapshot with its real generation time. With
    ``aws_like_report=False`` it is moto's own, as LocalStack serves it: rebuilt
    on every read and dated 2015-02-02.

    While running, werkzeug's per-request access log (INFO on the "werkzeug"
    logger, printed to stderr by default) is silenced unless that logger's level
    was set explicitly; the level is restored on exit.
    """

    def __init__(self, port: int = 0, aws_like_report: bool = True) -> None:
        self._requested_port = port
        self._aws_like_report = aws_like_report
        self._server: ThreadedMotoServer | None = None
        self._port: int | None = None
        self._clients: list[Any] = []
        # account id -> assumed-role credentials for that account
        self._account_credentials: dict[str, dict[str, str]] = {}
        self._werkzeug_level: int | None = None
        self._recorder: _Recorder | None = None

    # -- lifecycle ---------------------------------------------------------

    def __enter__(self) -> LocalIAM:
        if self._server is not None:
            raise RuntimeError("LocalIAM is already running")
        if self._requested_port:
            # ThreadedMotoServer.start() waits forever if its thread fails to
            # bind (werkzeug exits that thread), so check the port first,
            # binding it the way werkzeug does (SO_REUSEADDR).
            _check_port_free(self._requested_port)
        self._quiet_werkzeug()
        try:
            server = ThreadedMotoServer(
                ip_address="127.0.0.1", port=self._requested_port, verbose=False
            )
            server.start()
            self._server = server
            # werkzeug's request handler calls server.app: log requests there.
            wsgi_server = server._server
            self._recorder = _Recorder(wsgi_server.app)
            wsgi_server.app = self._recorder
            _aws_like_report(self._aws_like_report)
            # With port 0 the OS picked the port; read back what was bound.
            self._port = server.get_host_and_port()[1]
            self._reset()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._reset()
        finally:
            self._stop()

    def _stop(self) -> None:
        # Close our keep-alive connections first, so the server's per-connection
        # handler threads see EOF and finish.
        for client in self._clients:
            client.close()
        self._clients.clear()
        self._account_credentials.clear()
        server, self._server = self._server, None
        self._port = None
        if server is not None:
            server.stop()  # shutdown() the serve_forever loop, join its thread
            # stop() does not close the listening socket; close it so the port
            # is released now rather than at garbage collection.
            wsgi_server = getattr(server, "_server", None)
            if wsgi_server is not None:
                wsgi_server.server_close()
            _aws_like_report(False)
        self._recorder = None
        self._restore_werkzeug()

    def _quiet_werkzeug(self) -> None:
        logger = logging.getLogger("werkzeug")
        if logger.level == logging.NOTSET:
            # werkzeug would set INFO and add a stderr handler on first request.
            logger.setLevel(logging.WARNING)
            self._werkzeug_level = logging.NOTSET

    def _restore_werkzeug(self) -> None:
        if self._werkzeug_level is not None:
            logging.getLogger("werkzeug").setLevel(self._werkzeug_level)
            self._werkzeug_level = None

    def _reset(self) -> None:
        """Wipe every moto backend (all accounts, all services) in this process."""
        # http.client, not urllib: urllib would honour HTTP(S)_PROXY.
        conn = http.client.HTTPConnection("127.0.0.1", self._running_port(), timeout=30)
        try:
            conn.request("POST", "/moto-api/reset")
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"moto reset failed: HTTP {response.status}")
        finally:
            conn.close()

    def _running_port(self) -> int:
        if self._port is None:
            raise RuntimeError("LocalIAM is not running; use it as a context manager")
        return self._port

    # -- access ------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        """`http://127.0.0.1:N`, the endpoint for every service."""
        return f"http://127.0.0.1:{self._running_port()}"

    @property
    def calls(self) -> list[Call]:
        """The API requests received since start (or `clear_calls`), in order."""
        if self._recorder is None:
            raise RuntimeError("LocalIAM is not running; use it as a context manager")
        return list(self._recorder.calls)

    def clear_calls(self) -> None:
        """Forget the requests logged so far (and their `handler_cpu`)."""
        if self._recorder is not None:
            self._recorder.calls.clear()
            with self._recorder._lock:
                self._recorder.cpu.clear()

    def fail(
        self,
        action: str,
        code: str = "AccessDenied",
        status: int = 403,
        times: int | None = None,
        message: str | None = None,
        **params: str,
    ) -> Fault:
        """Answer `action` requests whose parameters include ``params`` with an AWS error.

        ``fail("ListAccessKeys", UserName="breakglass")`` answers what AWS answers when an
        SCP denies IAM on that user: every other user's keys are listed by moto as usual.
        ``times=1`` fails the first matching request only. Returns the fault, whose
        ``seen`` counts the requests it answered; `clear_faults` removes them all.
        """
        fault = Fault(
            action,
            code,
            status,
            dict(params),
            times,
            message or f"injected {code} for {action} {dict(params)}",
        )
        with self._running_recorder()._lock:
            self._running_recorder().faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._running_recorder()._lock:
            self._running_recorder().faults.clear()

    def _running_recorder(self) -> _Recorder:
        if self._recorder is None:
            raise RuntimeError("LocalIAM is not running; use it as a context manager")
        return self._recorder

    def handler_cpu(self) -> dict[tuple[str, str], float]:
        """CPU seconds moto's handlers spent answering the logged requests, by
        ``(service, action)``: the emulator's own cost, apart from HTTP and the client."""
        if self._recorder is None:
            raise RuntimeError("LocalIAM is not running; use it as a context manager")
        with self._recorder._lock:
            return dict(self._recorder.cpu)

    def reset(self) -> None:
        """Empty the endpoint, as on entering: every account's users, keys and credential
        report are wiped (all moto state in this process), and the logged calls too."""
        self._reset()
        self.clear_calls()

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """Environment for a subprocess (e.g. `custodian run`) using this server.

        A copy of `base` (default `os.environ`) with fake credentials, the global
        AWS_ENDPOINT_URL pointing here (so STS and IAM both stay local), and
        everything removed that could select real credentials or endpoints.
        """
        env = dict(os.environ if base is None else base)
        for name in list(env):
            if name in _UNSAFE_ENV or name.startswith("AWS_ENDPOINT_URL_"):
                del env[name]
        env.update(
            {
                "AWS_ENDPOINT_URL": self.endpoint_url,
                "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_KEY,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                # No profile, config or credentials file can be read.
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                # Never ask an instance metadata service for credentials.
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )
        # Keep any configured HTTP proxy away from the local endpoint.
        for name in ("NO_PROXY", "no_proxy"):
            hosts = [h for h in env.get(name, "").split(",") if h.strip()]
            for host in ("127.0.0.1", "localhost"):
                if host not in hosts:
                    hosts.append(host)
            env[name] = ",".join(hosts)
        return env

    def client(self, service: str = "iam", account_id: str | None = None) -> Any:
        """A boto3 client for `service` on this server.

        For the default account it signs with the fixed `testing` credentials.
        For another account it assumes `arn:aws:iam::<account_id>:role/x` on
        this server; moto serves requests signed with those temporary
        credentials from that account's own, isolated backend. Clients are
        closed when the context exits.
        """
        endpoint = self.endpoint_url
        if account_id is None or account_id == DEFAULT_ACCOUNT_ID:
            credentials = {
                "aws_access_key_id": FAKE_ACCESS_KEY,
                "aws_secret_access_key": FAKE_SECRET_KEY,
            }
        else:
            credentials = self._credentials_for(account_id)
        client = _isolated_boto3_session(**credentials).client(service, endpoint_url=endpoint)
        self._clients.append(client)
        return client

    def _credentials_for(self, account_id: str) -> dict[str, str]:
        cached = self._account_credentials.get(account_id)
        if cached is None:
            sts = self.client("sts")
            assumed = sts.assume_role(
                RoleArn=f"arn:aws:iam::{account_id}:role/x",
                RoleSessionName="seed",
            )["Credentials"]
            cached = {
                "aws_access_key_id": assumed["AccessKeyId"],
                "aws_secret_access_key": assumed["SecretAccessKey"],
                "aws_session_token": assumed["SessionToken"],
            }
            self._account_credentials[account_id] = cached
        return cached

    # -- seeding -----------------------------------------------------------

    def seed(
        self,
        users: Iterable[UserSpec],
        account_id: str = DEFAULT_ACCOUNT_ID,
        now: datetime | None = None,
    ) -> dict[str, list[str]]:
        """Create `users` in `account_id` and backdate their access keys.

        Ages count back from `now` (default: the real current time; a naive
        value is taken as UTC). Subprocesses cannot see a frozen clock, so for
        them leave `now` unset. Each user's own creation date is backdated to
        its oldest key, so a user is never younger than its keys.

        Returns ``{user_name: [access_key_id, ...]}`` in slot order.
        """
        specs = tuple(users)
        now_utc = _naive_utc(now if now is not None else datetime.now(timezone.utc))
        iam = self.client("iam", account_id)

        # 1. Create everything through the API, as a real account would.
        key_ids = {user.name: _create_through_the_api(iam, user) for user in specs}

        # 2. Backdate in the server's backend (same process, same objects).
        backend = iam_backends[account_id]["global"]
        for user in specs:
            model = backend.users[user.name]
            by_id = {k.access_key_id: k for k in model.access_keys}
            keys = [by_id[key_id] for key_id in key_ids[user.name]]
            _backdate(model, keys, user.keys, now_utc)
        return key_ids

    def seed_in_process(
        self,
        users: Iterable[UserSpec],
        account_id: str = DEFAULT_ACCOUNT_ID,
        now: datetime | None = None,
    ) -> dict[str, list[str]]:
        """`seed`, made through moto's backend in this process instead of its API.

        The end state is the one `seed` leaves (users in order, tags, keys in slot
        order, statuses, backdated dates), made by the backend methods the API
        calls would reach, without a request: thousands of users take about a
        second instead of minutes. Nothing is logged in `calls`. ``account_id``
        needs no role: a later request reaches that account the usual way (the
        default account with the `testing` credentials, another through
        `client(..., account_id)`).

        Returns ``{user_name: [access_key_id, ...]}`` in slot order.
        """
        self._running_port()
        now_utc = _naive_utc(now if now is not None else datetime.now(timezone.utc))
        backend = iam_backends[account_id]["global"]
        key_ids: dict[str, list[str]] = {}
        for user in users:
            model = backend.create_user(REGION, user.name, path=user.path, tags=user.api_tags())
            if user.password:
                backend.create_login_profile(user.name, "Seeded-Password-1")
            if user.mfa:
                device = backend.create_virtual_mfa_device(user.name, "/")
                backend.enable_mfa_device(user.name, device.serial_number, "123456", "654321")
            keys = [
                backend.create_access_key(user.name, status="Active" if key.active else "Inactive")
                for key in user.keys
            ]
            _backdate(model, keys, user.keys, now_utc)
            key_ids[user.name] = [k.access_key_id for k in keys]
        return key_ids

    def use_key(
        self,
        user: str,
        key_id: str,
        account_id: str = DEFAULT_ACCOUNT_ID,
        when: datetime | None = None,
    ) -> None:
        """Record a use of `key_id` at `when` (default now), as a signed request would.

        The credential report snapshot taken before keeps the older date, as on AWS.
        """
        self._running_port()
        key = next(
            k
            for k in iam_backends[account_id]["global"].users[user].access_keys
            if k.access_key_id == key_id
        )
        key.last_used = AccessKeyLastUsed(
            timestamp=_naive_utc(when if when is not None else datetime.now(timezone.utc)),
            service=_LAST_USED_SERVICE,
            region=REGION,
        )

    def key_states(self, account_id: str = DEFAULT_ACCOUNT_ID) -> dict[str, dict[str, str]]:
        """``{user: {access_key_id: "Active" | "Inactive"}}`` read through the API."""
        iam = self.client("iam", account_id)
        states: dict[str, dict[str, str]] = {}
        for page in iam.get_paginator("list_users").paginate():
            for user in page["Users"]:
                name = user["UserName"]
                states[name] = {}
                for key_page in iam.get_paginator("list_access_keys").paginate(UserName=name):
                    for key in key_page["AccessKeyMetadata"]:
                        states[name][key["AccessKeyId"]] = key["Status"]
        return states


def _create_through_the_api(iam: Any, user: UserSpec) -> list[str]:
    """Create ``user`` (password, MFA, keys in slot order) with IAM calls; its key IDs."""
    extra = {"Tags": user.api_tags()} if user.tags else {}
    iam.create_user(UserName=user.name, Path=user.path, **extra)
    if user.password:
        iam.create_login_profile(UserName=user.name, Password="Seeded-Password-1")
    if user.mfa:
        serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=user.name)["VirtualMFADevice"][
            "SerialNumber"
        ]
        iam.enable_mfa_device(
            UserName=user.name,
            SerialNumber=serial,
            AuthenticationCode1="123456",
            AuthenticationCode2="654321",
        )
    ids: list[str] = []
    for key in user.keys:
        key_id = iam.create_access_key(UserName=user.name)["AccessKey"]["AccessKeyId"]
        if not key.active:
            iam.update_access_key(UserName=user.name, AccessKeyId=key_id, Status="Inactive")
        ids.append(key_id)
    return ids


def _backdate(model: Any, keys: list[Any], specs: tuple[KeySpec, ...], now: datetime) -> None:
    """Date a seeded user's keys (moto ``AccessKey``s, in slot order) as ``specs`` say, and
    the user as its oldest key."""
    created_dates = []
    for access_key, key in zip(keys, specs, strict=True):
        access_key.create_date = _days_before(now, key.created_days_ago)
        created_dates.append(access_key.create_date)
        if key.last_used_days_ago is None:
            access_key.last_used = None
        else:
            access_key.last_used = AccessKeyLastUsed(
                timestamp=_days_before(now, key.last_used_days_ago),
                service=_LAST_USED_SERVICE,
                region=REGION,
            )
    if created_dates:
        model.create_date = min(created_dates)


def _check_port_free(port: int) -> None:
    """Raise OSError if 127.0.0.1:`port` cannot be bound."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
    finally:
        probe.close()


#: One account showing each case a key-age policy must tell apart.
DEMO_ACCOUNT: tuple[UserSpec, ...] = (
    # In use and young: compliant.
    UserSpec("alice-fresh", (KeySpec(created_days_ago=30, last_used_days_ago=1),)),
    # Used, but not for 200 days; 400 days old.
    UserSpec("bob-stale", (KeySpec(created_days_ago=400, last_used_days_ago=200),)),
    # Never used, but only 10 days old: give it time.
    UserSpec("carol-new", (KeySpec(created_days_ago=10, last_used_days_ago=None),)),
    # Never used in 200 days.
    UserSpec("dave-abandoned", (KeySpec(created_days_ago=200, last_used_days_ago=None),)),
    # Slot 1 is the newer key (created first, then backdated less than slot 2).
    UserSpec(
        "erin-two-keys",
        (
            KeySpec(created_days_ago=20, last_used_days_ago=2),
            KeySpec(created_days_ago=300, last_used_days_ago=150),
        ),
    ),
    # Rotated: the old key was deactivated and a new one took over.
    UserSpec(
        "frank-rotated",
        (
            KeySpec(created_days_ago=300, last_used_days_ago=250, active=False),
            KeySpec(created_days_ago=5, last_used_days_ago=1),
        ),
    ),
)
