"""The filter's own validation, which stands in for the JSON schema where c7n skips it, and
policies left to c7n. The hook and the registries in process: ``test_hook.py``; the
installed ``.pth``: ``tests/e2e/plugin/test_registration_cli.py``."""

from __future__ import annotations

import pytest
from c7n.exceptions import PolicyValidationError

from tests.support.policies import BAD_OPTIONS, bad_policy


@pytest.mark.parametrize("option, value, message", BAD_OPTIONS)
def test_filter_validate_rejects_bad_options_without_the_schema(
    option, value, message, replay_from, run_policy
):
    # c7n-org, Lambda and --skip-validation skip the JSON schema: validate() still refuses.
    replay = replay_from("test_report_only_flags_stale_keys")
    with pytest.raises(PolicyValidationError) as raised:
        run_policy(bad_policy(option, value), replay, validate=False)
    assert message in str(raised.value) and "policy:bad" in str(raised.value)
    assert replay.calls == []


def test_policies_without_the_filter_filter_exactly_as_c7n_does(replay_from, frozen, run_policy):
    """Only a policy that uses access-key-unused has its run scoped (scope.bind); a policy
    of c7n's filters alone keeps c7n's own filter_resources and annotations."""
    from c7n.query import QueryResourceManager

    replay = replay_from("test_report_only_flags_stale_keys")
    ours = run_policy(
        {"name": "ours", "resource": "iam-user", "filters": [{"type": "access-key-unused"}]},
        replay,
    ).resource_manager
    theirs = run_policy(
        {"name": "theirs", "resource": "iam-user", "filters": [{"tag:team": "absent"}]},
        replay_from("test_report_only_flags_stale_keys"),
    ).resource_manager

    assert "filter_resources" in vars(ours)
    assert "filter_resources" not in vars(theirs)
    assert type(theirs).filter_resources is QueryResourceManager.filter_resources
