"""``-c accounts.yml``: c7n-org's accounts file names the accounts, and lists those that
never ran; a file that is not one is an error naming it."""

from __future__ import annotations

import json

import pytest

from c7n_keyage.overview.accounts_file import read_accounts
from c7n_keyage.overview.inputs import InputError


def test_names_by_account_id_from_yaml_or_json(tmp_path):
    yml = tmp_path / "accounts.yml"
    yml.write_text(
        "accounts:\n"
        "- account_id: '111111111111'\n  name: payments-prod\n  role: arn:x\n  tags: [a]\n"
        "- account_id: 22222222222\n  name: eleven-digits\n"  # YAML reads it as a number
    )
    assert read_accounts(str(yml)) == {
        "111111111111": "payments-prod",
        "022222222222": "eleven-digits",
    }
    js = tmp_path / "accounts.json"
    js.write_text(json.dumps({"accounts": [{"account_id": "333333333333", "name": "dev"}]}))
    assert read_accounts(str(js)) == {"333333333333": "dev"}


@pytest.mark.parametrize(
    "content, says",
    [
        ("accounts: {}", "no accounts list (c7n-org's accounts file has one)"),
        ("- just a list", "no accounts list"),
        ("accounts:\n- name: x", "accounts[0]: no account_id and name"),
        ("accounts:\n- account_id: '1'", "accounts[0]: no account_id and name"),
        ("accounts:\n- account_id: true\n  name: x", "accounts[0]: no account_id and name"),
        ("accounts:\n- dev", "accounts[0]: no account_id and name"),
        ("accounts: [\n", "not a readable YAML or JSON file"),
    ],
)
def test_a_file_that_is_not_an_accounts_file_is_named(tmp_path, content, says):
    path = tmp_path / "accounts.yml"
    path.write_text(content)
    with pytest.raises(InputError, match=rf"^{path}: ") as raised:
        read_accounts(str(path))
    assert says in str(raised.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(InputError, match=r"nowhere.yml: No such file or directory"):
        read_accounts(str(tmp_path / "nowhere.yml"))
