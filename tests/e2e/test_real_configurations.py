"""Right in the configurations users run: default cache, composition, their own tests.

Every run here is the stock ``custodian`` CLI against an unmodified moto server (moto's own
credential report, as LocalStack serves it), with c7n's default 15-minute file cache in a
private ``HOME`` unless the case is about another cache (``tests/support/stock_cli.py``). Each test
is one of the ways a valid-looking policy went wrong for users (issue 14), and fails on
the code before its fix.
"""

from __future__ import annotations

import gc
import textwrap

import boto3
import pytest
import yaml

from c7n_keyage.credential_report.parse import Report
from c7n_keyage.testing import load_policy, record
from tests.support import model
from tests.support.localiam import DEFAULT_ACCOUNT_ID, KeySpec, LocalIAM, UserSpec
from tests.support.paths import REPO
from tests.support.stock_cli import custodian, pytest_file

ROOT = REPO

ACCOUNT = (
    UserSpec("used-yesterday", [KeySpec(300, 1)]),
    UserSpec("used-40-days-ago", [KeySpec(300, 40)]),
    UserSpec("used-200-days-ago", [KeySpec(400, 200)]),
    UserSpec("never-used-200-days", [KeySpec(200, None)]),
    # Slot 1 is the newer, fresh key; slot 2 is stale.
    UserSpec("two-keys-one-stale", [KeySpec(20, 2), KeySpec(300, 150)]),
    UserSpec("stale-but-inactive", [KeySpec(300, 250, active=False)]),
)


def unused(days: int = 90, **options) -> dict:
    return {"type": "access-key-unused", "days": days, **options}


def remove(disable: bool = True) -> dict:
    return {"type": "remove-keys", "matched": True, "disable": disable}


# c7n's own credential filter sleeps report_delay (10 s) once against moto's report, which
# is dated 2015; 0 keeps these tests quick and changes nothing they check.
NO_PASSWORD = {"type": "credential", "key": "password_enabled", "value": False, "report_delay": 0}


def disabled_by(run) -> set[tuple[str, str]]:
    assert {action for action, _, _ in run.changed()} <= {"UpdateAccessKey"}
    return {(user, key) for _, user, key in run.changed()}


def pairs(keys: dict[str, set[str]]) -> set[tuple[str, str]]:
    return {(user, key) for user, ids in keys.items() for key in ids}


def sample(name: str) -> list[dict]:
    return yaml.safe_load((ROOT / "policies" / name).read_text())["policies"]


# --- 1. source: credential-report under the default file cache ---


@pytest.mark.parametrize(
    "name", ["access-key-unused-large-accounts.yml", "access-key-unused-exemptions.yml"]
)
def test_report_source_samples_run_under_the_default_cache(tmp_path, name):
    """Both shipped samples on this source, run twice as shipped (no cache option): the
    source used to close c7n's cache connection under it (TypeError in cache.save)."""
    policies = sample(name)
    (policy,) = policies
    acting = bool(policy.get("actions"))
    with LocalIAM(aws_like_report=False) as local:
        ids = local.seed(ACCOUNT)
        first = custodian(local, policies, tmp_path)
        second = custodian(local, policies, tmp_path)

    first.assert_clean()
    second.assert_clean()
    expected = model.stale_keys(ACCOUNT, ids)
    assert set(first.users(policy["name"])) == set(expected)
    assert disabled_by(first) == (pairs(expected) if acting else set())
    # Within the cache period the second run takes users and report from c7n's cache; on
    # the acting sample the live check then finds the keys disabled and leaves them be.
    assert second.count()["GetCredentialReport"] == 0
    assert second.changed() == []
    assert second.resources(policy["name"]) == ([] if acting else first.resources(policy["name"]))


# --- 2. a policy after another one, behind a c7n filter, under --cache memory ---


@pytest.mark.parametrize(
    "earlier",
    [
        {"name": "report-75", "resource": "iam-user", "filters": [unused(75)]},
        {
            "name": "resolve-30",
            "resource": "iam-user",
            "filters": [unused(30, **{"resolve-key-ids": True})],
        },
    ],
    ids=["report-75-first", "resolve-30-first"],
)
def test_memory_cache_policy_after_a_c7n_filter_acts_on_its_own_verdict(tmp_path, earlier):
    """--cache memory hands the second policy the first one's records, annotations and
    all; behind c7n's credential filter the plugin used to keep them: intersected to
    nothing (after a report) or acting on the earlier policy's 30-day keys."""
    disable = {
        "name": "disable-no-password",
        "resource": "iam-user",
        "filters": [NO_PASSWORD, unused(90)],
        "actions": [remove()],
    }
    with LocalIAM(aws_like_report=False) as local:
        ids = local.seed(ACCOUNT)
        run = custodian(local, [earlier, disable], tmp_path, "--cache", "memory")

    run.assert_clean()
    expected = model.stale_keys(ACCOUNT, ids, 90)
    assert disabled_by(run) == pairs(expected)
    assert "used-40-days-ago" not in {user for user, _ in disabled_by(run)}
    found = run.users("disable-no-password")
    assert {u: {k["access_key_id"] for k in r["c7n:unused-keys"]} for u, r in found.items()} == (
        expected
    )


# --- 3, 4. compositions whose keys cannot be guaranteed are refused, saying why ---

OR_WITHOUT_KEYS = "an or: block that holds access-key-unused may hold nothing but"
REFUSED = [
    pytest.param(
        [{"or": [unused(), {"tag:force-rotate": "present"}]}],
        [remove()],
        OR_WITHOUT_KEYS,
        id="or-with-a-tag",
    ),
    pytest.param(
        [{"or": [dict(NO_PASSWORD, value=True), unused()]}],
        [remove()],
        OR_WITHOUT_KEYS,
        id="or-with-credential-password",
    ),
    pytest.param(
        [
            {
                "type": "credential",
                "key": "access_keys.last_used_date",
                "value_type": "age",
                "op": "gt",
                "value": 90,
            },
            unused(),
        ],
        [remove()],
        "c7n's credential filter on access_keys.last_used_date cannot be combined",
        id="and-credential-access-keys",
    ),
    pytest.param(
        [unused(), {"or": [{"type": "access-key", "key": "Status", "value": "Active"}]}],
        [remove()],
        "c7n's access-key filter directly under or: would add keys of its own",
        id="access-key-under-or",
    ),
    pytest.param(
        [unused()],
        [{"type": "delete", "options": ["access-keys"]}],
        "c7n's delete action deletes every access key of each matched user",
        id="delete-access-keys",
    ),
    pytest.param(
        [unused()],
        [{"type": "delete"}],
        "c7n's delete action deletes every access key of each matched user",
        id="delete-user",
    ),
]


@pytest.mark.parametrize("filters, actions, message", REFUSED)
@pytest.mark.parametrize("command", ["validate", "run"])
def test_compositions_without_a_meaning_for_keys_are_refused(
    tmp_path, filters, actions, message, command
):
    """Each used to pass validate(): the or: with a tag crashed in c7n's remove-keys on the
    first user the tag matched alone, leaving later users' stale keys active; the
    credential filter intersected to nothing; delete removed every key of a flagged user,
    one used yesterday included, on the report's word."""
    policy = {"name": "refused", "resource": "iam-user", "filters": filters, "actions": actions}
    with LocalIAM(aws_like_report=False) as local:
        ids = local.seed([*ACCOUNT, UserSpec("tagged", [KeySpec(10, 1)], {"force-rotate": "y"})])
        before = local.key_states()
        result = custodian(local, policy, tmp_path, command=command)
        after = local.key_states()

    assert result.returncode != 0
    assert message in result.log, result.log
    assert "Traceback" not in result.log
    assert result.changed() == [] and after == before
    assert ids  # seeded


def test_an_or_with_a_tag_still_reports(tmp_path):
    """Report only, the same or: has a meaning: users stale, or tagged (with no finding)."""
    policy = {
        "name": "stale-or-tagged",
        "resource": "iam-user",
        "filters": [{"or": [unused(), {"tag:force-rotate": "present"}]}],
    }
    users = [*ACCOUNT, UserSpec("tagged", [KeySpec(10, 1)], {"force-rotate": "y"})]
    with LocalIAM(aws_like_report=False) as local:
        ids = local.seed(users)
        run = custodian(local, policy, tmp_path)

    run.assert_clean()
    found = run.users("stale-or-tagged")
    assert set(found) == set(model.stale_keys(users, ids)) | {"tagged"}
    assert "c7n:unused-keys" not in found["tagged"]


# --- 5. two access-key-unused filters under or: ---


def test_an_or_of_two_filters_lists_every_key_it_changes(tmp_path):
    """Unused for 90 days, or created more than 200 days ago: both keys are disabled, and
    the output (what the mailer and Security Hub read) used to list the second's only."""
    users = (
        UserSpec("one-of-each", [KeySpec(150, 100), KeySpec(300, 1)]),
        UserSpec("fresh", [KeySpec(30, 1)]),
    )
    policy = {
        "name": "unused-or-unrotated",
        "resource": "iam-user",
        "filters": [{"or": [unused(90), unused(36500, **{"rotation-days": 200})]}],
        "actions": [remove()],
    }
    with LocalIAM(aws_like_report=False) as local:
        ids = local.seed(users)
        run = custodian(local, policy, tmp_path)

    run.assert_clean()
    old, in_use = ids["one-of-each"]
    assert disabled_by(run) == {("one-of-each", old), ("one-of-each", in_use)}
    (user,) = run.resources("unused-or-unrotated")
    findings = {k["access_key_id"]: k["reasons"] for k in user["c7n:unused-keys"]}
    assert findings == {old: ["unused"], in_use: ["unrotated"]}
    assert sorted(m["AccessKeyId"] for m in user["c7n:matched-keys"]) == sorted([old, in_use])


# --- 6. one user denied by an SCP ---


def test_a_user_denied_by_an_scp_leaves_the_others_remediated(tmp_path):
    """An SCP denying IAM on the break-glass user (tagged exempt, even) answers
    AccessDenied for its keys: that user is left alone and named, the others' stale keys
    are disabled; it used to stop the whole policy."""
    users = (*ACCOUNT, UserSpec("breakglass", [KeySpec(400, 200)], {"keyage-exempt": "scp"}))
    (policy,) = sample("access-key-unused-exemptions.yml")
    policy = dict(policy, source="describe")
    with LocalIAM(aws_like_report=False) as local:
        ids = local.seed(users)
        before = local.key_states()
        local.fail("ListAccessKeys", UserName="breakglass")
        run = custodian(local, policy, tmp_path)
        local.clear_faults()
        after = local.key_states()

    assert run.returncode == 0, run.log
    assert "Traceback" not in run.log
    errors = [line for line in run.log.splitlines() if ":ERROR " in line]
    assert len(errors) == 1
    assert (
        "access denied reading the keys of 1 user(s): breakglass; the role running this policy "
        "needs iam:ListAccessKeys and iam:GetAccessKeyLastUsed on them"
    ) in errors[0]
    expected = model.stale_keys(ACCOUNT, ids)
    assert disabled_by(run) == pairs(expected)
    assert after["breakglass"] == before["breakglass"]


def test_a_role_denied_for_every_user_stops_the_policy(tmp_path):
    with LocalIAM(aws_like_report=False) as local:
        local.seed(ACCOUNT)
        local.fail("ListAccessKeys")
        run = custodian(local, sample("access-key-unused-disable.yml"), tmp_path)

    assert run.returncode != 0
    assert "access denied reading user " in run.log
    assert "needs iam:ListAccessKeys and iam:GetAccessKeyLastUsed" in run.log
    assert run.changed() == []
    # Every flagged user was tried before stopping: one of them alone may be denied.
    flagged = model.stale_keys(ACCOUNT, {u.name: ["k"] * len(u.keys) for u in ACCOUNT})
    assert len(run.operations("ListAccessKeys")) == len(flagged)


# --- 7. a user's own tests, in Cloud Custodian's style; and long-lived workers ---

USER_TESTS = '''
"""Three tests of one policy, each on its own recorded account, as a user writes them."""
from c7n_keyage.testing import load_policy, replay

POLICY = {"name": "stale", "resource": "iam-user", "filters": [{"type": "access-key-unused"}]}


def run(flight_dir):
    flight = replay(flight_dir)
    policy = load_policy(POLICY, flight, account_id="123456789012")
    return sorted(r["UserName"] for r in policy.run()), flight.operations()

'''


def test_a_users_own_tests_each_see_their_own_report(tmp_path, monkeypatch):
    """Recorded against a local endpoint with the helper, replayed by a pytest run of the
    user's own: a fresh config per test and one account id, as Cloud Custodian's tests
    have it. The second and third tests used to see the first test's report."""
    accounts = {
        "alice": [UserSpec("alice", [KeySpec(300, 200)]), UserSpec("bob", [KeySpec(300, 1)])],
        "bob": [UserSpec("alice", [KeySpec(300, 1)]), UserSpec("bob", [KeySpec(300, 200)])],
        "both": [UserSpec("alice", [KeySpec(300, 200)]), UserSpec("bob", [KeySpec(300, 100)])],
    }
    module = USER_TESTS
    with LocalIAM(aws_like_report=False) as local:
        for name, value in local.env().items():
            monkeypatch.setenv(name, value)
        for name, users in accounts.items():
            local.reset()
            local.seed(users)
            flight = record(tmp_path / "flights" / name, boto3.Session(region_name="us-east-1"))
            policy = load_policy(
                {"name": "stale", "resource": "iam-user", "filters": [unused()]},
                flight,
                account_id=DEFAULT_ACCOUNT_ID,
            )
            stale = sorted(r["UserName"] for r in policy.run())
            assert stale == (["alice", "bob"] if name == "both" else [name])
            module += textwrap.dedent(
                f"""
                def test_{name}():
                    users, calls = run({str(tmp_path / "flights" / name)!r})
                    assert users == {stale!r}
                    assert calls.count("GetCredentialReport") >= 1
                """
            )
    (tmp_path / "test_my_policies.py").write_text(module)
    # The report was recorded as text, so it replays as the report it was.
    content = (tmp_path / "flights" / "alice").glob("iam.GetCredentialReport_*.json")
    assert any('"Content": "user,arn,' in path.read_text() for path in content)

    result = pytest_file(tmp_path, "test_my_policies.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_nothing_of_a_run_outlives_it(monkeypatch):
    """A c7n-org worker runs account after account in one process: no report may stay
    behind (about 5 MB per 5,000-user account used to, for every account)."""
    gc.collect()
    earlier = {id(o) for o in gc.get_objects() if isinstance(o, Report)}  # other tests'
    with LocalIAM(aws_like_report=False) as local:
        local.seed(ACCOUNT)
        for name, value in local.env().items():
            monkeypatch.setenv(name, value)
        session = boto3.Session(region_name="us-east-1")
        for account in ("111111111111", "222222222222", "333333333333"):
            policy = load_policy(
                {"name": "stale", "resource": "iam-user", "filters": [unused()]},
                lambda region=None, assume=None: session,
                account_id=account,
            )
            assert policy.run()
            del policy
    gc.collect()
    assert [o for o in gc.get_objects() if isinstance(o, Report) and id(o) not in earlier] == []
