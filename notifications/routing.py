"""Which channel hears what: apprise URLs per team, group, domain and central role, with a fallback.

The routing file (YAML, path in ``PEAK_NOTIFY_ROUTING``)::

    default: json://chat.example/peak          # one URL or a list
    roles: {readiness_team: ..., ratelimit_team: ...}
    domains: {checkout: ...}
    groups: {payments: ...}
    teams: {pay-core: ...}
    people: {alice: alice@corp.example}        # e-mail addresses (only these people get e-mail)

An audience is a chain of ``level:key`` links, most specific first
(``team:pay-core>group:payments>domain:checkout``); the first link with URLs
receives the message, else ``default``. Without a routing file, ``default`` is
``PEAK_NOTIFY_URLS``, as before routing existed.

E-mail to one person is the audience ``person:<user>``: it goes only to a person
with an address (``people`` in the routing file, or a user name that is an
address) and only when SMTP is configured (``PEAK_SMTP_HOST``, ``PEAK_SMTP_PORT``,
``PEAK_SMTP_FROM``, ``PEAK_SMTP_USER``, ``PEAK_SMTP_PASSWORD``, ``PEAK_SMTP_MODE``:
insecure, starttls or ssl), through the apprise ``mailto://`` URL built from them.
It never falls back to a channel.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

from notifications.channel import split_urls, with_recipients
from storage import YamlError, read_config

ROUTING_ENV = "PEAK_NOTIFY_ROUTING"
LEVELS = {"roles": "role", "domains": "domain", "groups": "group", "teams": "team"}  # file section -> link level
PERSON = "person:"
SMTP_MODES = ("insecure", "starttls", "ssl")
ROLES = ("readiness_team", "ratelimit_team")


class RoutingError(ValueError):
    """A routing file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Routing:
    default: tuple[str, ...] = ()
    channels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # "team:pay-core" -> URLs
    addresses: Mapping[str, str] = field(default_factory=dict)  # user name -> e-mail address
    email_url: str = ""  # apprise mailto:// URL of the SMTP server ("" : no e-mail to people)

    def email_of(self, user: str) -> str | None:
        """The person's address: from ``people``, or the user name when it is one."""
        return self.addresses.get(user) or (user if "@" in user else None)

    def emailable(self, users) -> dict[str, list[str]]:
        """``person:<user>`` audiences for the users who can get e-mail (an address and SMTP set)."""
        if not self.email_url:
            return {}
        return {f"{PERSON}{u}": [self.email_of(u)] for u in sorted(set(users)) if self.email_of(u)}

    def urls_for(self, audience: str) -> tuple[str, ...]:
        """The URLs of the first link of ``audience`` that has any, else the default's."""
        if audience.startswith(PERSON):  # e-mail to one person, never a channel
            address = self.email_of(audience[len(PERSON):])
            return (with_recipients(self.email_url, [address]),) if address and self.email_url else ()
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
    email_url = smtp_url(env)
    if not path:
        return Routing(fallback, email_url=email_url)
    path = Path(path)
    if not path.is_file():
        raise RoutingError(f"{path}: routing file not found ({ROUTING_ENV})")
    try:
        data = read_config(path) or {}
    except YamlError as exc:
        raise RoutingError(str(exc)) from None
    routing = parse_routing(data, origin=str(path), fallback=fallback)
    return Routing(routing.default, routing.channels, routing.addresses, email_url)


def smtp_url(env: Mapping[str, str]) -> str:
    """The apprise ``mailto://`` URL of the SMTP settings (``PEAK_SMTP_*``); "" when no host is set."""
    host = env.get("PEAK_SMTP_HOST", "").strip()
    if not host:
        return ""
    mode = env.get("PEAK_SMTP_MODE", "starttls").strip() or "starttls"
    if mode not in SMTP_MODES:
        raise RoutingError(f"PEAK_SMTP_MODE: {mode!r} is not known (use {', '.join(SMTP_MODES)})")
    port = env.get("PEAK_SMTP_PORT", "").strip()
    if port and not port.isdigit():
        raise RoutingError(f"PEAK_SMTP_PORT: {port!r} is not a port number")
    user, password = env.get("PEAK_SMTP_USER", ""), env.get("PEAK_SMTP_PASSWORD", "")
    login = f"{quote(user, safe='')}:{quote(password, safe='')}@" if user else ""
    query = {"from": env.get("PEAK_SMTP_FROM") or "peak-readiness@localhost", "mode": mode}
    return f"mailto://{login}{host}{':' + port if port else ''}?{urlencode(query, safe='@')}"


def parse_routing(data: object, *, origin: str, fallback: Sequence[str] = ()) -> Routing:
    if not isinstance(data, dict):
        raise RoutingError(f"{origin}: expected a mapping with default, roles, domains, groups, teams")
    unknown = sorted(set(data) - {"default", "people", *LEVELS})
    if unknown:
        raise RoutingError(f"{origin}: field {unknown[0]!r} is not known (use default, {', '.join(LEVELS)}, people)")
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
    people = data.get("people") or {}
    if not isinstance(people, dict):
        raise RoutingError(f"{origin}: field people: expected a mapping of user name -> e-mail address")
    for user, mail in people.items():
        if not isinstance(mail, str) or "@" not in mail or " " in mail.strip():
            raise RoutingError(f"{origin}: field people.{user}: expected an e-mail address (name@domain)")
    return Routing(default, channels, {str(u): m.strip() for u, m in people.items()})


def _urls(value: object, origin: str, where: str) -> tuple[str, ...]:
    items = split_urls(value) if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(u, str) and "://" in u for u in items):
        raise RoutingError(f"{origin}: field {where}: expected an apprise URL or a list of them (scheme://...)")
    return tuple(items)
