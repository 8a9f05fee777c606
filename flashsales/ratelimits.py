"""The effective rate-limit configuration at a moment, for Envoy and other gateways.

Category limits apply to each merchant of the category separately; an approved
flash sale adds a per-merchant override from the sale's start until its end
(or until it is cancelled). Overrides end on their own: the configuration at a
later moment no longer contains them.

Envoy's rate-limit service (github.com/envoyproxy/ratelimit) reads a YAML
``domain`` with nested ``descriptors``. The gateway sends the descriptor pair
``(merchant_category, merchant_id)``; a key without a value gives each merchant
its own counter at the category limit, and a key with a value (the merchant's
id) overrides it for that merchant::

    domain: merchant_rate_limits
    descriptors:
      - key: merchant_category
        value: fashion
        descriptors:
          - key: merchant_id
            rate_limit: {unit: minute, requests_per_unit: 600}
          - key: merchant_id
            value: M-1001
            rate_limit: {unit: minute, requests_per_unit: 2400, name: flash-sale-12}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import yaml
from sqlalchemy import or_, select
from sqlalchemy.engine import Engine

from clikit import counted
from flashsales.errors import FieldProblem, InputError
from flashsales.models import Category, Override
from storage import session_scope

ENVOY_DOMAIN = "merchant_rate_limits"
CATEGORY_KEY = "merchant_category"
MERCHANT_KEY = "merchant_id"
# Envoy's rate-limit service reads requests_per_unit as a uint32: a larger limit is refused
# by the gateway (or wraps), so no limit above this is stored or exported.
MAX_REQUESTS_PER_UNIT = 2**32 - 1


def limit_problem(field: str, rpm: object) -> FieldProblem | None:
    """Why ``rpm`` cannot be a rate limit (requests per minute), or None."""
    if isinstance(rpm, bool) or not isinstance(rpm, int) or not 1 <= rpm <= MAX_REQUESTS_PER_UNIT:
        return FieldProblem(field, f"a whole number of requests per minute from 1 to {MAX_REQUESTS_PER_UNIT} "
                                   "(the most Envoy's requests_per_unit holds)")
    return None


@dataclass(frozen=True)
class CategoryLimit:
    category: str
    name: str
    requests_per_minute: int


@dataclass(frozen=True)
class MerchantOverride:
    merchant_id: str
    category: str
    requests_per_minute: int
    starts_at: datetime
    expires_at: datetime
    request_ids: tuple[int, ...]


@dataclass(frozen=True)
class EffectiveLimits:
    at: datetime  # naive UTC
    categories: tuple[CategoryLimit, ...]
    overrides: tuple[MerchantOverride, ...]


def effective_limits(engine: Engine, at: datetime) -> EffectiveLimits:
    """Category limits and the overrides in force at ``at`` (naive UTC)."""
    with session_scope(engine) as session:
        categories = {c.key: c for c in session.exec(select(Category).order_by(Category.key)).scalars()}
        active = session.exec(
            select(Override).where(Override.starts_at <= at).where(Override.expires_at > at)
            .where(or_(Override.revoked_at.is_(None), Override.revoked_at > at))
            .order_by(Override.merchant_id, Override.id)).scalars().all()
    merged: dict[str, MerchantOverride] = {}
    for o in active:  # two sales of one merchant at once: the higher limit wins
        category = categories.get(o.category_key)
        floor = category.rate_limit_rpm if category else 0
        limit = max(o.limit_rpm, floor)
        prev = merged.get(o.merchant_id)
        if prev is None:
            merged[o.merchant_id] = MerchantOverride(o.merchant_id, o.category_key, limit, o.starts_at,
                                                     o.expires_at, (o.request_id,))
        else:
            merged[o.merchant_id] = MerchantOverride(
                o.merchant_id, prev.category, max(prev.requests_per_minute, limit),
                min(prev.starts_at, o.starts_at), max(prev.expires_at, o.expires_at),
                prev.request_ids + (o.request_id,))
    return EffectiveLimits(
        at, tuple(CategoryLimit(c.key, c.name, c.rate_limit_rpm) for c in categories.values()),
        tuple(sorted(merged.values(), key=lambda m: (m.category, m.merchant_id))))


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds") + "Z"


def _check_exportable(limits: EffectiveLimits) -> None:
    """Limits stored before the bound existed are named, not exported past what Envoy reads."""
    problems = [limit_problem(f"category {c.category}", c.requests_per_minute) for c in limits.categories]
    problems += [limit_problem(f"override {o.merchant_id}", o.requests_per_minute) for o in limits.overrides]
    problems = [p for p in problems if p is not None]
    if problems:
        raise InputError(problems, origin="rate-limit export")


def envoy_config(limits: EffectiveLimits, *, domain: str = ENVOY_DOMAIN) -> dict:
    _check_exportable(limits)
    by_category: dict[str, list[MerchantOverride]] = {}
    for override in limits.overrides:
        by_category.setdefault(override.category, []).append(override)
    descriptors = []
    for category in limits.categories:
        nested = [{"key": MERCHANT_KEY,
                   "rate_limit": {"unit": "minute", "requests_per_unit": category.requests_per_minute}}]
        for override in by_category.get(category.category, []):
            nested.append({"key": MERCHANT_KEY, "value": override.merchant_id,
                           "rate_limit": {"unit": "minute", "requests_per_unit": override.requests_per_minute,
                                          "name": "flash-sale-" + "-".join(map(str, override.request_ids))}})
        descriptors.append({"key": CATEGORY_KEY, "value": category.category, "descriptors": nested})
    return {"domain": domain, "descriptors": descriptors}


def render_envoy(limits: EffectiveLimits, *, domain: str = ENVOY_DOMAIN) -> str:
    header = [f"# Envoy rate-limit service configuration in force at {_iso(limits.at)}",
              f"# {counted(len(limits.categories), 'merchant category', 'merchant categories')}, "
              f"{counted(len(limits.overrides), 'temporary override')}"]
    for o in limits.overrides:
        header.append(f"#   {o.merchant_id}: {o.requests_per_minute}/min from {_iso(o.starts_at)} "
                      f"until {_iso(o.expires_at)} (flash sale {', '.join(f'#{i}' for i in o.request_ids)})")
    body = yaml.safe_dump(envoy_config(limits, domain=domain), sort_keys=False, default_flow_style=False)
    return "\n".join(header) + "\n" + body


def json_config(limits: EffectiveLimits) -> dict:
    _check_exportable(limits)
    return {
        "at": _iso(limits.at), "unit": "minute",
        "categories": [{"category": c.category, "name": c.name, "requests_per_minute": c.requests_per_minute}
                       for c in limits.categories],
        "overrides": [{"merchant_id": o.merchant_id, "category": o.category,
                       "requests_per_minute": o.requests_per_minute, "starts_at": _iso(o.starts_at),
                       "expires_at": _iso(o.expires_at), "request_ids": list(o.request_ids)}
                      for o in limits.overrides],
    }


def render_json(limits: EffectiveLimits) -> str:
    return json.dumps(json_config(limits), indent=2) + "\n"
