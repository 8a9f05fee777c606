"""Errors that name the place (file, field) and what would be accepted.

The CLI maps every :class:`FlashSalesError` to a one-line-per-problem message and
exit code 1; nothing is written when one is raised from a service function.
"""

from __future__ import annotations

from dataclasses import dataclass

from clikit import counted


class FlashSalesError(Exception):
    """Base for errors the CLI reports as a clear message (exit 1)."""


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one field of a request: ``field`` is the JSON key (dotted for lists)."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class InputError(FlashSalesError):
    """Bad input: every problem names its field; nothing was stored."""

    def __init__(self, problems: list[FieldProblem] | FieldProblem | str, *, origin: str = ""):
        if isinstance(problems, str):
            problems = [FieldProblem("request", problems)]
        elif isinstance(problems, FieldProblem):
            problems = [problems]
        self.problems: list[FieldProblem] = list(problems)
        self.origin = origin
        head = f"{origin}: " if origin else ""
        listed = "\n".join(f"  - {head}{p}" for p in self.problems)
        super().__init__(f"{counted(len(self.problems), 'problem')}; nothing was stored\n{listed}")

    @property
    def fields(self) -> dict[str, list[str]]:
        """Messages by field, for a form that shows each next to its input."""
        out: dict[str, list[str]] = {}
        for problem in self.problems:
            out.setdefault(problem.field, []).append(problem.message)
        return out


class NotFound(FlashSalesError):
    """A named request, category or merchant does not exist."""


class PermissionDenied(FlashSalesError):
    """The actor lacks the role the action needs; nothing was changed."""


class InvalidTransition(FlashSalesError):
    """The request's state does not allow the action."""


class CapacityExceeded(FlashSalesError):
    """Granting would take more than the platform's headroom; nothing was changed."""


class HistoryUnavailable(FlashSalesError):
    """A merchant's traffic history could not be read."""
