"""Put the plugin on c7n's registries; safe to call any number of times.

The filter goes on ``iam-user`` and ``account``; the key lifecycle's filter
(``retired-keys``) and actions (``retire-keys``, ``restore-keys``, ``delete-retired-keys``)
on ``iam-user``. The ``credential-report`` source goes in
c7n's global ``sources`` registry as soon as ``c7n.query`` is imported (the policy schema's
``source`` enum is built from it, so the stock ``custodian validate`` accepts it; the
source itself refuses every resource but ``iam-user``), and in ``iam-user``'s
``source_mapping``, where c7n looks first.
"""

from __future__ import annotations

from types import ModuleType

from c7n_keyage.names import DELETE, FILTER, RESTORE, RETIRE, RETIRED_FILTER, SOURCE

LIFECYCLE_ACTIONS = {RETIRE: "RetireKeys", RESTORE: "RestoreKeys", DELETE: "DeleteRetiredKeys"}


def register_module(module: ModuleType) -> None:
    """Register what belongs on ``module`` (``c7n.query``, ``c7n.resources.iam``, ``.account``)."""
    if module.__name__ == "c7n.query":
        from c7n_keyage.credential_report.source import CredentialReportSource

        _register(module.sources, SOURCE, CredentialReportSource)
    elif module.__name__ == "c7n.resources.iam":
        _register_user(module.User)
    elif module.__name__ == "c7n.resources.account":
        from c7n_keyage.stale.access_key_unused import AccountAccessKeyUnused

        _register(module.Account.filter_registry, FILTER, AccountAccessKeyUnused)


def _register_user(user: type) -> None:
    """The filter, the key lifecycle and the ``credential-report`` source on ``iam-user``."""
    from c7n_keyage.credential_report.source import CredentialReportSource
    from c7n_keyage.lifecycle import actions
    from c7n_keyage.lifecycle.retired_keys import RetiredKeys
    from c7n_keyage.stale.access_key_unused import UserAccessKeyUnused

    _register(user.filter_registry, FILTER, UserAccessKeyUnused)
    _register(user.filter_registry, RETIRED_FILTER, RetiredKeys)
    for name, cls in LIFECYCLE_ACTIONS.items():
        _register(user.action_registry, name, getattr(actions, cls))
    if user.source_mapping.get(SOURCE) is not CredentialReportSource:
        # A copy: c7n's mapping is a class attribute that other code may hold.
        user.source_mapping = {**user.source_mapping, SOURCE: CredentialReportSource}


def _register(registry, name: str, cls) -> None:
    if registry.get(name) is not cls:
        registry.register(name, cls)
