"""The key lifecycle: retire stale keys, restore them in one step, delete them after a grace.

``record.py`` (the tag a retirement leaves on its user) and ``plan.py`` (what to do with each
record) are pure; ``reads.py`` makes the API reads, ``retired_keys.py`` is the filter and
``actions.py`` the three actions.
"""
