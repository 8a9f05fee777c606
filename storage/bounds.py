"""Numbers the storage keeps as they were given: whole numbers and finite, plausible decimals.

JSON columns (facts, evidence) are written by orjson, which stops at 64-bit
integers (an unnamed error deep in the database driver) and writes NaN and
infinity as null (silently). Readers of those columns (the app, exports,
browsers) keep whole numbers exact only up to 2**53. So numbers read from
outside are checked here first, and each one out of bounds is named.
"""

from __future__ import annotations

import math

MAX_WHOLE = 2**53  # whole numbers stay exact in JSON readers and as floats
MAX_DECIMAL = 1e15  # far above any rate, size or duration; keeps sums and products finite


def out_of_bounds(value: object) -> list[tuple[str, str]]:
    """``(field, problem)`` for every number in ``value`` (nested lists and mappings) out of bounds.

    The field is a dotted path (``client.pool_size``, ``zones[2]``); iterative, so
    a deeply nested document cannot exhaust the stack.
    """
    problems: list[tuple[str, str]] = []
    stack: list[tuple[str, object]] = [("", value)]
    while stack:
        field, item = stack.pop()
        if isinstance(item, dict):
            stack.extend((f"{field}.{key}" if field else str(key), child) for key, child in reversed(item.items()))
        elif isinstance(item, list | tuple):
            stack.extend((f"{field}[{index}]", child) for index, child in reversed(list(enumerate(item))))
        else:
            problem = number_problem(item)
            if problem:
                problems.append((field, problem))
    return problems


def number_problem(value: object) -> str | None:
    """Why one number cannot be stored, or None (also for anything that is not a number)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and abs(value) > MAX_WHOLE:
        return f"{_short(value)} is out of range (whole numbers between -2**53 and 2**53 are accepted)"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value} is not a finite number"
    if isinstance(value, float) and abs(value) > MAX_DECIMAL:
        return f"{value:g} is out of range (numbers between -1e15 and 1e15 are accepted)"
    return None


def _short(value: int) -> str:
    digits = len(str(abs(value))) if value.bit_length() < 10_000 else None
    return f"a {digits}-digit number" if digits and digits > 20 else str(value) if digits else "a huge number"
