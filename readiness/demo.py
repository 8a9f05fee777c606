"""A deterministic demo organisation: catalog and inventory files with realistic gaps.

The files go through the same import path as real data. Gaps close over the
weeks before today (each has a "fixed in week" drawn from the seed), so the
demo has a history to show trends and a projection; some stay open.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import yaml

DOMAINS = [
    ("payments", "Payments"), ("checkout", "Checkout"), ("risk", "Risk & Fraud"), ("merchant", "Merchant"),
    ("identity", "Consumer Identity"), ("cards", "Card Issuing"), ("banking", "Banking Platform"),
    ("collections", "Collections"), ("settlement", "Settlement"), ("shopping", "Shopping"),
    ("marketing", "Marketing"), ("data", "Data Platform"), ("infra", "Core Infrastructure"),
    ("support", "Customer Service"), ("compliance", "Compliance"), ("postpurchase", "Post-Purchase"),
    ("growth", "Growth"),
]
NOUNS = ["orders", "payments", "ledger", "auth", "tokens", "limits", "pricing", "invoices", "refunds",
         "disputes", "kyc", "scoring", "onboarding", "catalog", "search", "notifications", "webhooks",
         "sessions", "profiles", "merchants", "payouts", "fx", "fees", "receipts", "loyalty", "offers",
         "cards", "accounts", "balances", "statements", "reminders", "consents", "devices", "addresses"]
SUFFIXES = ["api", "service", "worker", "gateway", "engine", "store", "processor", "router", "sync", "hub"]
FIRST = ["alex", "sam", "kim", "noor", "li", "maria", "omar", "ines", "jon", "ana", "eva", "raj", "mia",
         "leo", "sara", "tom", "ida", "max", "zoe", "ali", "nina", "erik", "lena", "yuki", "hugo", "emma"]
LAST = ["berg", "lund", "khan", "silva", "novak", "ito", "moreau", "rossi", "nagy", "kowal", "fischer",
        "haddad", "larsen", "costa", "weber", "okafor", "dahl", "popov", "garcia", "stein"]
TIERS = [("critical", 0.1), ("high", 0.25), ("medium", 0.4), ("low", 0.25)]
HISTORY_WEEKS = 8


@dataclass
class DemoFiles:
    catalog: Path
    inventories: list[tuple[datetime, Path]]  # oldest first; the last one is "now"


def peak_event_for(today: date) -> dict:
    """This year's season while its deadline (31 October) is ahead, else next year's."""
    year = today.year if today <= date(today.year, 10, 31) else today.year + 1
    november = date(year, 11, 1)
    thanksgiving = november + timedelta(days=(3 - november.weekday()) % 7 + 21)
    return {"key": f"peak-{year}", "name": f"Peak season {year}", "starts_on": thanksgiving + timedelta(days=1),
            "ends_on": date(year, 12, 31), "target_date": date(year, 10, 31)}


def generate(out_dir: Path, *, systems: int = 450, seed: int = 7, now: datetime) -> DemoFiles:
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    catalog, plans = _catalog(rng, systems)
    catalog_path = out_dir / "catalog.yaml"
    catalog_path.write_text(yaml.safe_dump(catalog, sort_keys=False, width=120), encoding="utf-8")
    inventories = []
    for week in range(HISTORY_WEEKS, -1, -1):
        at = now - timedelta(weeks=week)
        path = out_dir / f"inventory-week-{HISTORY_WEEKS - week}.json"
        assets = [a for plan in plans for a in _assets(plan, HISTORY_WEEKS - week)]
        path.write_text(json.dumps({"generated_at": at.isoformat(), "assets": assets}, indent=1), encoding="utf-8")
        inventories.append((at, path))
    return DemoFiles(catalog_path, inventories)


def _people(rng: random.Random, n: int, used: set[str]) -> list[str]:
    names = []
    while len(names) < n:
        base = name = f"{rng.choice(FIRST)}.{rng.choice(LAST)}"
        suffix = 1
        while name in used:  # more people than name pairs: number them like a directory would
            suffix += 1
            name = f"{base}{suffix}"
        used.add(name)
        names.append(name)
    return names


def _catalog(rng: random.Random, n_systems: int) -> tuple[dict, list[dict]]:
    n_teams = max(1, round(n_systems / 2.5))
    n_groups = max(1, round(n_teams / 3))
    n_domains = min(len(DOMAINS), n_groups)
    used: set[str] = set()
    domains = [{"key": key, "name": name, "architects": _people(rng, 2, used), "leads": _people(rng, 1, used)}
               for key, name in DOMAINS[:n_domains]]
    groups = [{"key": f"{domains[i % n_domains]['key']}-g{i // n_domains + 1}",
               "name": f"{domains[i % n_domains]['name']} group {i // n_domains + 1}",
               "domain": domains[i % n_domains]["key"]} for i in range(n_groups)]
    teams = []
    for i in range(n_teams):
        group = groups[i % n_groups]
        members = _people(rng, rng.randint(3, 7), used)
        teams.append({"key": f"team-{i + 1:03d}", "name": f"{group['domain'].title()} team {i + 1}",
                      "group": group["key"], "members": members, "leads": members[:1], "oncall": members[:2]})
    systems, plans = [], []
    names: set[str] = set()
    for i in range(n_systems):
        team = teams[i % n_teams] if i < n_teams else teams[rng.randrange(n_teams)]
        tier = rng.choices([t for t, _ in TIERS], [w for _, w in TIERS])[0]
        name = _system_name(rng, names)
        system_id = f"SYS-{i + 1:04d}"
        purchase_flow = tier in ("critical", "high") and rng.random() < 0.3
        public = purchase_flow and rng.random() < 0.6 or rng.random() < 0.1
        services = [{"name": f"{name}-{kind}", "endpoint": f"/{name}/{kind}", "method": "POST" if kind == "write" else "GET"}
                    for kind in rng.sample(["read", "write", "events"], rng.randint(1, 3))]
        systems.append({"id": system_id, "name": name, "team": team["key"], "tier": tier, "public": public,
                        "purchase_flow": purchase_flow, "services": services, "dependencies": []})
        plans.append({"id": system_id, "tier": tier, "public": public, "purchase_flow": purchase_flow,
                      "team": team, "services": services, "maturity": rng.random()})
    for i, system in enumerate(systems):
        if i == 0:
            continue
        # Depend on earlier systems only: a layered graph, like a real estate grown over time.
        for target in sorted(set(rng.sample(range(i), min(i, rng.choice([0, 1, 1, 2, 2, 3, 4]))))):
            system["dependencies"].append({"system": systems[target]["id"],
                                           "kind": "sync" if rng.random() < 0.7 else "async"})
    for system, plan in zip(systems, plans, strict=True):
        plan["dependencies"] = system["dependencies"]
    readiness_team, admins = _people(rng, 3, used), _people(rng, 1, used)  # central roles (governance)
    return {"company": "Demo Payments", "domains": domains, "groups": groups, "teams": teams,
            "systems": systems, "readiness_team": readiness_team, "admins": admins}, plans


def _system_name(rng: random.Random, used: set[str]) -> str:
    while True:
        name = f"{rng.choice(NOUNS)}-{rng.choice(SUFFIXES)}"
        if name in used:
            name = f"{name}-{len(used)}"
        if name not in used:
            used.add(name)
            return name


def _gap(plan: dict, week: int, probability: float, name: str) -> bool:
    """Whether a named gap is still open in ``week``: drawn once per gap, closes in a fixed week."""
    rng = random.Random(f"{plan['id']}:{name}")
    open_at_start = rng.random() < probability * (1.3 - plan["maturity"])
    fixed_in = rng.randint(1, HISTORY_WEEKS * 2)  # about half close before today
    return open_at_start and week < fixed_in


def _assets(plan: dict, week: int) -> list[dict]:
    rng = random.Random(plan["id"])  # the same draws every week: only ``week`` differs
    sid = plan["id"]
    tags = {"SystemID": sid}
    assets: list[dict] = []
    base_rps = round(rng.lognormvariate(3.5, 1.0), 1)
    spike = rng.choice([3, 5, 8, 8, 12, 20, 40]) if plan["purchase_flow"] else rng.choice([1.5, 2, 3])
    for svc in plan["services"]:
        per_replica = rng.choice([25, 50, 100, 200])
        baseline = round(base_rps * 3.2, 1)
        needed = max(1, math.ceil(baseline / per_replica))
        replicas = 1 if _gap(plan, week, 0.25, f"replicas:{svc['name']}") else max(2, needed)
        zones = ["eu-west-1a"] if _gap(plan, week, 0.2, f"zones:{svc['name']}") else ["eu-west-1a", "eu-west-1b", "eu-west-1c"][: min(3, max(2, replicas))]
        max_replicas = needed if _gap(plan, week, 0.3, f"maxrep:{svc['name']}") else math.ceil(needed * 2)
        assets.append({
            "id": f"{sid.lower()}/{svc['name']}", "type": "compute", "tags": tags, "replicas": replicas,
            "zones": zones, "autoscaling": {"enabled": True, "min": replicas, "max": max(max_replicas, replicas)},
            "health_checks": {"readiness": not _gap(plan, week, 0.2, f"ready:{svc['name']}"), "liveness": not _gap(plan, week, 0.15, f"live:{svc['name']}")},
            "disruption_budget": None if _gap(plan, week, 0.3, f"pdb:{svc['name']}") else {"min_available": 1},
            "rps_per_replica": per_replica, "forecast_baseline_rps": baseline,
            "forecast_flas_rps": round(base_rps * spike, 1),
        })
    for n in range(rng.choice([0, 0, 1, 1, 2])):
        retention, engine = rng.choice([7, 14, 35]), rng.choice(["postgres", "aurora-postgresql", "mysql", "dynamodb"])
        assets.append({
            "id": f"{sid.lower()}-db{n + 1}", "type": "database", "tags": tags,
            "engine": engine,
            "multi_az": not _gap(plan, week, 0.25, f"maz:{n}"), "automatic_failover": not _gap(plan, week, 0.2, f"afo:{n}"),
            "backup_retention_days": 1 if _gap(plan, week, 0.2, f"backup:{n}") else retention,
            "storage_used_gb": rng.randint(10, 900), "storage_allocated_gb": 1000,
            "read_replicas": rng.choice([0, 1, 2]),
            "client": {"connect_timeout_ms": None if _gap(plan, week, 0.25, f"connect:{n}") else 2000,
                       "query_timeout_ms": None if _gap(plan, week, 0.3, f"query:{n}") else 5000, "pool_size": rng.choice([10, 20, 50])},
        })
    for dep in plan["dependencies"]:
        timeout = rng.choice([500, 1000, 2000, 3000])
        assets.append({
            "id": f"{sid.lower()}->{dep['system'].lower()}", "type": "dependency_client", "tags": tags,
            "target": dep["system"], "third_party": False,
            "timeout_ms": None if _gap(plan, week, 0.3, f"timeout:{dep['system']}") else timeout,
            "retries": {"max": 10, "backoff": "fixed"} if _gap(plan, week, 0.2, f"retries:{dep['system']}") else {"max": 2, "backoff": "exponential"},
            "circuit_breaker": rng.random() < 0.5,
        })
    if plan["purchase_flow"] or rng.random() < 0.15:
        provider = rng.choice(["card-network", "bank-gateway", "sms-provider", "address-lookup"])
        assets.append({"id": f"{sid.lower()}->{provider}", "type": "dependency_client", "tags": tags,
                       "target": provider, "third_party": True, "timeout_ms": 3000,
                       "retries": {"max": 2, "backoff": "exponential"},
                       "circuit_breaker": not _gap(plan, week, 0.4, "breaker"), "fallback": False})
    for signal in ("error_rate", "latency", "saturation"):
        if not _gap(plan, week, 0.25, f"alarm:{signal}"):
            assets.append({"id": f"{sid.lower()}-alarm-{signal}", "type": "alarm", "tags": tags,
                           "signal": signal, "notifies": f"oncall-{plan['team']['key']}"})
    if not _gap(plan, week, 0.1, "dashboard"):
        assets.append({"id": f"{sid.lower()}-dashboard", "type": "dashboard", "tags": tags,
                       "url": f"https://grafana.example.internal/d/{sid.lower()}"})
    if not _gap(plan, week, 0.08, "oncall"):
        members = plan["team"]["oncall"][:1] if _gap(plan, week, 0.15, "oncall-size") else plan["team"]["oncall"]
        assets.append({"id": f"oncall-{plan['team']['key']}", "type": "oncall_rotation", "tags": tags,
                       "members": members})
    if plan["public"] and not _gap(plan, week, 0.15, "edge"):
        assets.append({"id": f"{sid.lower()}-edge", "type": "cdn", "tags": tags, "waf": not _gap(plan, week, 0.2, "waf"),
                       "rate_limiting": not _gap(plan, week, 0.3, "ratelimit"), "ddos_protection": True})
    assets.append({"id": f"{sid.lower()}-logs", "type": "log_group", "tags": tags,
                   "retention_days": 7 if _gap(plan, week, 0.2, "logs") else 30})
    return assets
