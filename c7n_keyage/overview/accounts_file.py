"""Account names from a c7n-org accounts file (``-c accounts.yml``): the names the
organisation gives its accounts, over the ones the runs' paths carry.

c7n-org's file: ``accounts:`` a list of ``{account_id, name, ...}`` (YAML or JSON). An
account listed there with no run is shown as not reporting.
"""

from __future__ import annotations

from pathlib import Path

from c7n_keyage.overview.inputs import InputError
from c7n_keyage.overview.runs import text


def read_accounts(path: str) -> dict[str, str]:
    """``{account_id: name}``; ``InputError`` naming the file and what is wrong."""
    import yaml  # c7n's own dependency; only read with -c

    try:
        with Path(path).open("rb") as f:
            data = yaml.safe_load(f)
    except OSError as e:
        raise InputError(f"{path}: {e.strerror or e}") from None
    except (yaml.YAMLError, RecursionError, ValueError) as e:
        raise InputError(f"{path}: not a readable YAML or JSON file ({e})") from None
    accounts = data.get("accounts") if isinstance(data, dict) else None
    if not isinstance(accounts, list):
        raise InputError(f"{path}: no accounts list (c7n-org's accounts file has one)")
    names = {}
    for n, account in enumerate(accounts):
        number = account.get("account_id") if isinstance(account, dict) else None
        if isinstance(number, int) and not isinstance(number, bool):
            number = f"{number:012d}"  # YAML reads an unquoted ID as a number
        if not text(number) or not text(account.get("name")):
            raise InputError(f"{path}: accounts[{n}]: no account_id and name")
        names[text(number)] = text(account["name"])
    return names
