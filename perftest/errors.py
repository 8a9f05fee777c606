"""Errors raised by perftest; each names the place and what would be accepted."""

from __future__ import annotations


class PerftestError(Exception):
    """Base class: a run could not be prepared or executed."""

    exit_code = 1


class UsageError(PerftestError):
    """Bad input from the caller (arguments, plan, allow-list)."""

    exit_code = 2


class HostNotAllowed(UsageError):
    """The target host is not on the allow-list."""


class PlanError(UsageError):
    """A test plan file is invalid; ``problems`` lists ``(place, message)`` pairs."""

    def __init__(self, path: str, problems: list[tuple[str, str]]) -> None:
        self.path = path
        self.problems = problems
        lines = [f"{path}: {place}: {message}" for place, message in problems]
        super().__init__("invalid test plan\n" + "\n".join(lines))


class K6NotFound(PerftestError):
    """No usable k6 binary."""


class TargetUnreachable(PerftestError):
    """The target URL does not accept connections."""
