"""Which channel hears what: apprise URLs per team, group, domain and central role, with a fallback.

The routing file (YAML, path in ``PEAK_NOTIFY_ROUTING``)::

    default: json://chat.example/peak          # one URL or a list
    roles: {readiness_team: ..., ratelimit_team: ...}
    domains: {checkout: ...}
    groups: {payments: ...}
    teams: {pay-core: ...}

An audience is a chain of ``level:key`` links, most specific first
(``team:pay-core>group:payments>domain:checkout``); the first link with URLs
receives the message, else ``default``. Without a routing file, ``default`` is
``PEAK_NOTIFY_URLS``, as before routing existed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from notifications.channel import split_urls
from storage import YamlError, read_config

ROUTING_ENV = "PEAK_NOTIFY_ROUTING"
LEVELS = {"roles": "role", "domains": "domain", "groups": "group", "teams": "team"}  # file section -> link level
ROLES = ("readiness_team", "ratelimit_team")


class RoutingError(ValueError):
    """A routing file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Routing:
    default: tuple[str, ...] = ()
    channels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # "team:pay-core" -> URLs

    def urls_for(self, audience: str) -> tuple[str, ...]:
        """The URLs of the first link of ``audience`` that has any, else the default's."""
        for link in chain(audience):
            if self.channels.get(link):
                return self.channels[link]
        return self.default


def chain(audience: str) -> list[str]:
    return [link for link in audience.split(">") if link]


def audience(*links: tuple[str, str | None]) -> str:
    """``audience(("team", "a"), ("group", None), ("domain", "d"))`` -> ``team:a>domain:d``."""
    return ">".join(f"{level}:{key}" for level, key in links if key)


def load_routing(path: str | Path | None = None, *, default: Sequence[str] | None = None,
                 env: Mapping[str, str] | None = None) -> Routing:
    """The routing file (``path`` or ``PEAK_NOTIFY_ROUTING``); its ``default`` falls back to ``default``
    (the caller's configured URLs), else ``PEAK_NOTIFY_URLS``."""
    env = os.environ if env is None else env
    fallback = tuple(default) if default else tuple(split_urls(env.get("PEAK_NOTIFY_URLS", "")))
    path = path or env.get(ROUTING_ENV)
    if not path:
        return Routing(fallback)
    path = Path(path)
    if not path.is_file():
        raise RoutingError(f"{path}: routing file not found ({ROUTING_ENV})")
    try:
        data = read_config(path) or {}
    except YamlError as exc:
        raise RoutingError(str(exc)) from None
    return parse_routing(data, origin=str(path), fallback=fallback)


def parse_routing(data: object, *, origin: str, fallback: Sequence[str] = ()) -> Routing:
    if not isinstance(data, dict):
        raise RoutingError(f"{origin}: expected a mapping with default, roles, domains, groups, teams")
    unknown = sorted(set(data) - {"default", *LEVELS})
    if unknown:
        raise RoutingError(f"{origin}: field {unknown[0]!r} is not known (use default, {', '.join(LEVELS)})")
    default = _urls(data.get("default"), origin, "default") if "default" in data else tuple(fallback)
    channels = {}
    for section, level in LEVELS.items():
        entries = data.get(section) or {}
        if not isinstance(entries, dict):
            raise RoutingError(f"{origin}: field {section}: expected a mapping of {level} -> URLs")
        for key, value in entries.items():
            if section == "roles" and key not in ROLES:
                raise RoutingError(f"{origin}: field roles.{key}: unknown role (use {', '.join(ROLES)})")
            channels[f"{level}:{key}"] = _urls(value, origin, f"{section}.{key}")
    return Routing(default, channels)


def _urls(value: object, origin: str, where: str) -> tuple[str, ...]:
    items = split_urls(value) if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(u, str) and "://" in u for u in items):
        raise RoutingError(f"{origin}: field {where}: expected an apprise URL or a list of them (scheme://...)")
    return tuple(items)
