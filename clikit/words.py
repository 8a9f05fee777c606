"""Counts in words for people, shared by every CLI, the rule pack (through ``readiness.rulekit``)
and the services' messages. Imports nothing, so an errors module or a rule can use it without
loading the command-line stack."""

from __future__ import annotations


def counted(n: int, thing: str, plural: str | None = None) -> str:
    """A count in words for people: "1 workload", "1,200 workloads", "2 policies" (never "workload(s)")."""
    return f"{n:,} {thing if n == 1 else plural or thing + 's'}"
