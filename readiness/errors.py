"""Errors that name the place: file, line or record, field, and what is accepted."""

from __future__ import annotations

from clikit import counted


class ReadinessError(Exception):
    """Base for errors the CLI reports as a clear message (exit 1)."""


class InputError(ReadinessError):
    """Bad input: one or more problems, each naming where it is."""

    def __init__(self, problems: list[str] | str, *, origin: str = ""):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.origin = origin
        head = f"{origin}: " if origin else ""
        listed = "\n".join(f"  - {p}" for p in self.problems[:50])
        more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        super().__init__(f"{head}{counted(len(self.problems), 'problem')}; nothing was written\n{listed}{more}")


class RuleLoadError(ReadinessError):
    """A rule module could not be loaded (import error, bad metadata, duplicate id)."""

    def __init__(self, module: str, reason: str, rule_id: str | None = None):
        self.module = module
        self.reason = reason
        self.rule_id = rule_id
        super().__init__(f"rule module {module}: {reason}")


class PermissionDenied(ReadinessError):
    """A write refused by the role check; nothing was changed."""


class NotFound(ReadinessError):
    """A named thing (system, run, rule) does not exist."""


class MassRetirement(InputError):
    """A catalog import would retire more of the active systems than allowed; nothing was written."""

    def __init__(self, *, leaving: int, active: int, share: float, origin: str = ""):
        self.leaving, self.active, self.share = leaving, active, share
        super().__init__(
            f"would retire {leaving} of the {active} active systems ({leaving / active:.0%}), more than the "
            f"{share:.0%} an import may retire: is the export truncated? If the retirement is intended, "
            f"import again with --allow-retire", origin=origin)


class NothingToEvaluate(ReadinessError):
    """No active system is in scope: an evaluation would score nothing, so none is stored."""
