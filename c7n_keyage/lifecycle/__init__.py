"""The key lifecycle: retire stale keys, restore them in one step, delete them after a grace.

``record.py`` (the tag a retirement leaves on its user) and ``plan.py`` (what to do with each
record) are pure; ``filters.py`` and ``actions.py`` are the c7n shell around them, and
``live.py`` the API calls they share.
"""
