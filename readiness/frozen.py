"""Read-only facts: what one rule sees, every later rule sees too.

The engine freezes a system's facts once, before its rules run: dicts become
:class:`FrozenDict` and lists :class:`FrozenList`. Both are subclasses of the
plain types, so reading, ``isinstance(x, dict)``, ``{**asset}``, ``list(...)``,
slicing, ``copy.deepcopy`` (a mutable copy) and JSON encoding of evidence work
as before; changing one in place raises ``TypeError`` and the rule that tried
gets an ``error`` result. This guards against mistakes, not malice: a rule can
still call ``dict.__setitem__`` on one directly.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from readiness.rulekit import Facts, SystemView

_READ_ONLY = "facts are read-only: change a copy (dict(asset), {**asset}, list(items) or copy.deepcopy)"


def _refuse(self, *_args, **_kwargs):
    raise TypeError(_READ_ONLY)


class FrozenDict(dict):
    """A dict that refuses changes in place."""

    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __copy__(self) -> dict:
        return dict(self)

    def __deepcopy__(self, _memo) -> dict:
        return thaw(self)

    def __reduce__(self):
        return dict, (dict(self),)


class FrozenList(list):
    """A list that refuses changes in place."""

    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse

    def __copy__(self) -> list:
        return list(self)

    def __deepcopy__(self, _memo) -> list:
        return thaw(self)

    def __reduce__(self):
        return list, (list(self),)


_LEAVES = frozenset({str, int, float, bool, type(None)})  # immutable already: shared, not copied


def freeze(value: Any) -> Any:
    """A read-only copy of JSON-like data (dicts, lists, tuples of them); leaves are shared."""
    kind = type(value)
    if kind is dict:
        return FrozenDict({k: v if type(v) in _LEAVES else freeze(v) for k, v in value.items()})
    if kind is list:
        return FrozenList([v if type(v) in _LEAVES else freeze(v) for v in value])
    if kind is tuple:
        return tuple(v if type(v) in _LEAVES else freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """A plain, mutable deep copy of frozen (or plain) data."""
    if isinstance(value, dict):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list):
        return [thaw(v) for v in value]
    if isinstance(value, tuple):
        return tuple(thaw(v) for v in value)
    return value


def rule_inputs(system: SystemView, by_source: dict[str, Any]) -> tuple[SystemView, Facts]:
    """A system and its facts as every rule receives them: frozen once, shared by all its rules."""
    if system.services:
        system = replace(system, services=freeze(system.services))
    return system, Facts(freeze(by_source))
