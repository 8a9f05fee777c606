"""Guards every run passes before k6 starts: allow-listed hosts, bounded duration and rate."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from perftest.errors import HostNotAllowed, TargetUnreachable, UsageError
from perftest.settings import PerftestSettings
from perftest.spec import TestSpec
from perftest.urls import k6_host


def check_hosts(spec: TestSpec, settings: PerftestSettings) -> list[str]:
    """Refuse hosts not on the allow-list; return the IP addresses k6 may reach.

    The host checked is the one k6 connects to: a URL that k6 would read differently
    from Python (a backslash, a user name) is refused before any host is compared.
    """
    allowed = {h.lower() for h in settings.allowed_hosts}
    for endpoint in spec.endpoints:
        try:
            host = k6_host(endpoint.url)
        except ValueError as exc:
            raise HostNotAllowed(f"endpoint {endpoint.name!r}: {exc}; nothing was run or stored") from None
        if host not in allowed:
            raise HostNotAllowed(
                f"endpoint {endpoint.name!r}: host {host!r} is not on the allow-list "
                f"({', '.join(sorted(allowed)) or 'empty'}). perftest only sends load to allowed hosts "
                "so that a typo or a copied plan cannot load-test production or a third party; "
                "if this host is a test environment you own, add it to PERFTEST_ALLOWED_HOSTS "
                "(comma-separated)."
            )
    ips: set[str] = set()
    for host in allowed:
        try:
            for info in socket.getaddrinfo(host, None):
                ips.add(info[4][0].split("%")[0])
        except socket.gaierror:
            continue  # an allowed name that does not resolve cannot be reached anyway
    return sorted(ips)


def check_bounds(spec: TestSpec, settings: PerftestSettings) -> None:
    duration = spec.planned_duration_s()
    if duration > settings.max_duration_s:
        raise UsageError(
            f"{spec.test_type.value} test would run {duration:g} s, above the limit of "
            f"{settings.max_duration_s:g} s (PERFTEST_MAX_DURATION_S); shorten duration or steps"
        )
    peak = spec.peak_rps()
    if peak > settings.max_rps:
        raise UsageError(
            f"{spec.test_type.value} test would reach {peak} rps, above the limit of "
            f"{settings.max_rps:g} rps (PERFTEST_MAX_RPS); lower --rps or the overload max factor"
        )


def check_reachable(spec: TestSpec, timeout_s: float = 3.0) -> None:
    """Every endpoint accepts a TCP connection (else the run would only measure refusals)."""
    seen: set[tuple[str, int]] = set()
    for endpoint in spec.endpoints:
        parts = urlsplit(endpoint.url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        key = (parts.hostname or "", port)
        if key in seen:
            continue
        seen.add(key)
        try:
            with socket.create_connection(key, timeout=timeout_s):
                pass
        except OSError as exc:
            raise TargetUnreachable(
                f"endpoint {endpoint.name!r}: {endpoint.url} is unreachable ({exc.strerror or exc}); "
                "start the service (for a local target: `perftest target --capacity-rps N`) "
                "or fix the URL; nothing was run or stored"
            ) from exc
