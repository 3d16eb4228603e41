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

NAME = "access-key-unused"
LIFECYCLE_ACTIONS = {
    "retire-keys": "RetireKeys",
    "restore-keys": "RestoreKeys",
    "delete-retired-keys": "DeleteRetiredKeys",
}


def register_module(module: ModuleType) -> None:
    """Register what belongs on ``module`` (``c7n.query``, ``c7n.resources.iam``, ``.account``)."""
    if module.__name__ == "c7n.query":
        from c7n_keyage import source

        _register(module.sources, source.NAME, source.CredentialReportSource)
    elif module.__name__ == "c7n.resources.iam":
        from c7n_keyage import filters, source
        from c7n_keyage.lifecycle import actions as lifecycle
        from c7n_keyage.lifecycle import filters as lifecycle_filters

        _register(module.User.filter_registry, NAME, filters.UserAccessKeyUnused)
        # The key lifecycle (issue 15): iam-user only.
        _register(module.User.filter_registry, "retired-keys", lifecycle_filters.RetiredKeys)
        for name, cls in LIFECYCLE_ACTIONS.items():
            _register(module.User.action_registry, name, getattr(lifecycle, cls))
        if module.User.source_mapping.get(source.NAME) is not source.CredentialReportSource:
            # A copy: c7n's mapping is a class attribute that other code may hold.
            module.User.source_mapping = {
                **module.User.source_mapping,
                source.NAME: source.CredentialReportSource,
            }
    elif module.__name__ == "c7n.resources.account":
        from c7n_keyage import filters

        _register(module.Account.filter_registry, NAME, filters.AccountAccessKeyUnused)


def _register(registry, name: str, cls) -> None:
    if registry.get(name) is not cls:
        registry.register(name, cls)
