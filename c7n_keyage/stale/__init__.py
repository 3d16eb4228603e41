"""Stale keys: the rule, the live confirmation, the findings, and ``access-key-unused``.

``rule.py``, ``verify.py`` and ``findings.py`` are pure; ``confirm.py`` reads flagged users'
keys live before any action; ``access_key_unused.py`` is the filter on ``iam-user`` and
``account``.
"""
