"""Put the filter classes on c7n's resource registries; safe to call any number of times."""

from __future__ import annotations

from types import ModuleType

NAME = "access-key-unused"


def register_module(module: ModuleType) -> None:
    """Register on the resource class ``module`` defines (``c7n.resources.iam`` / ``.account``)."""
    from c7n_keyage import filters

    if module.__name__ == "c7n.resources.iam":
        _register(module.User.filter_registry, filters.UserAccessKeyUnused)
    elif module.__name__ == "c7n.resources.account":
        _register(module.Account.filter_registry, filters.AccountAccessKeyUnused)


def _register(registry, cls) -> None:
    if registry.get(NAME) is not cls:
        registry.register(NAME, cls)
