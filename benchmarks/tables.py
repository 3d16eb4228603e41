"""Formatting shared by the benchmark's tables: call counts, verdicts, markdown."""

from __future__ import annotations

from collections import Counter

# Short names for the IAM actions the tables count.
SHORT = {
    "GetCredentialReport": "Get",
    "GenerateCredentialReport": "Generate",
    "ListAccessKeys": "ListAccessKeys",
    "GetAccessKeyLastUsed": "LastUsed",
    "UpdateAccessKey": "Update",
}


def calls(counter: Counter) -> str:
    """``12 (1 Get, 5 ListAccessKeys, ...)``: the total, then each action, by short name."""
    named = sorted((SHORT.get(op, op), n) for op, n in counter.items() if n)
    parts = [f"{n} {name}" for name, n in named]
    return f"{sum(counter.values())} ({', '.join(parts)})" if parts else "0"


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**MISSED**"


def goal(met: dict[str, bool], name: str, ok: bool | None, text: str, why_missed: str = "") -> str:
    """Record a target; ``ok`` is None when this run lacks the sizes it is judged on.

    ``why_missed`` is printed beside a missed target: what makes it miss.
    """
    if ok is None:
        return text
    met[name] = ok
    reason = f" ({why_missed})" if why_missed and not ok else ""
    return f"{text}: {verdict(ok)}{reason}"


def markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(lines)
