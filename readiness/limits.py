"""The guards' settings: the rule time limit and the share of systems an import may retire.

Each is given explicitly (a CLI option) or read from the environment, else its
default; a bad value is an error naming the variable.
"""

from __future__ import annotations

import math
import os

from readiness.errors import InputError

RULE_TIMEOUT_ENV = "PEAK_RULE_TIMEOUT"
DEFAULT_RULE_TIMEOUT = 5.0  # seconds per rule call; the pack's slowest takes milliseconds
MAX_RETIRE_SHARE_ENV = "PEAK_MAX_RETIRE_SHARE"
DEFAULT_MAX_RETIRE_SHARE = 0.10  # of the active systems, per catalog import


def rule_timeout(explicit: float | None = None) -> float | None:
    """Seconds one rule call (or one rule module's import) may take; None means no limit (0 given)."""
    seconds = _setting(explicit, RULE_TIMEOUT_ENV, DEFAULT_RULE_TIMEOUT, "--rule-timeout")
    if seconds < 0:
        raise InputError(f"rule time limit {seconds:g}: must be 0 (no limit) or more seconds")
    return seconds or None


def max_retire_share(explicit: float | None = None) -> float:
    """The share (0 to 1) of the active systems one catalog import may retire without --allow-retire."""
    share = _setting(explicit, MAX_RETIRE_SHARE_ENV, DEFAULT_MAX_RETIRE_SHARE, "--max-retire-share")
    if not 0 <= share <= 1:
        raise InputError(f"retire share {share:g}: must be between 0 and 1 (0.1 is 10%)")
    return share


def _setting(explicit: float | None, env: str, default: float, option: str) -> float:
    if explicit is not None:
        value, where = explicit, option
    elif os.environ.get(env, "").strip():
        where = env
        try:
            value = float(os.environ[env])
        except ValueError:
            raise InputError(f"{env}={os.environ[env]!r}: not a number") from None
    else:
        return default
    if not math.isfinite(value):
        raise InputError(f"{where} {value}: must be a finite number")
    return float(value)
