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
    _mark_flas(plans)
    catalog_path = out_dir / "catalog.yaml"
    catalog_path.write_text(yaml.safe_dump(catalog, sort_keys=False, width=120), encoding="utf-8")
    inventories = []
    start = (now - timedelta(weeks=HISTORY_WEEKS)).date()  # the day of week 0's inventory
    for week in range(HISTORY_WEEKS, -1, -1):
        at = now - timedelta(weeks=week)
        path = out_dir / f"inventory-week-{HISTORY_WEEKS - week}.json"
        assets = [a for plan in plans for a in _assets(plan, HISTORY_WEEKS - week, start)]
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


def _mark_flas(plans: list[dict]) -> None:
    """Set ``plan["flas"]`` like the catalog derives it: purchase flow and what it reaches synchronously."""
    calls = {p["id"]: [d["system"] for d in p["dependencies"] if d["kind"] == "sync"] for p in plans}
    flas: set[str] = set()
    stack = [p["id"] for p in plans if p["purchase_flow"]]
    while stack:
        system_id = stack.pop()
        if system_id not in flas:
            flas.add(system_id)
            stack.extend(calls.get(system_id, []))
    for plan in plans:
        plan["flas"] = plan["id"] in flas


def _done_in(plan: dict, week: int, probability: float, name: str) -> int | None:
    """The week a named activity (a test, a drill, a runbook update) was done, if done by ``week``.

    Drawn once per activity: mature teams do more; the week may lie before the
    history (last season: stale by now) or after today (not done yet).
    """
    rng = random.Random(f"{plan['id']}:{name}")
    if rng.random() >= probability * (0.4 + plan["maturity"]):
        return None
    done = rng.randint(-HISTORY_WEEKS * 2, HISTORY_WEEKS + 4)
    return done if done <= week else None


def _draw(plan: dict, name: str) -> random.Random:
    """A draw of its own per system and name: the same every week, whatever else was drawn."""
    return random.Random(f"{plan['id']}:draw:{name}")


def _day(start: date, week: int, plan: dict, name: str) -> str:
    """The date within ``week`` an activity was done (a few days before that week's export)."""
    return (start + timedelta(weeks=week, days=-random.Random(f"{plan['id']}:{name}:day").randint(0, 6))).isoformat()


def _assets(plan: dict, week: int, start: date) -> list[dict]:
    rng = random.Random(plan["id"])  # the same draws every week: only ``week`` differs
    sid = plan["id"]
    tags = {"SystemID": sid}
    critical_high = plan["tier"] in ("critical", "high")
    assets: list[dict] = []
    base_rps = round(rng.lognormvariate(3.5, 1.0), 1)
    spike = rng.choice([3, 5, 8, 8, 12, 20, 40]) if plan["purchase_flow"] else rng.choice([1.5, 2, 3])
    baseline_total = flas_total = 0.0
    for svc in plan["services"]:
        per_replica = rng.choice([25, 50, 100, 200])
        baseline = round(base_rps * 3.2, 1)
        # FLAS systems face the surge on top of the Baseline peak
        flas = round(max(base_rps * spike, baseline * 1.25) if plan["flas"] else base_rps * spike, 1)
        baseline_total, flas_total = baseline_total + baseline, flas_total + flas
        needed = max(1, math.ceil(baseline / per_replica))
        if plan["flas"] and not _gap(plan, week, 0.35, f"preprov:{svc['name']}"):
            needed = max(needed, math.ceil(flas / per_replica))  # minimum raised for the season
        replicas = 1 if _gap(plan, week, 0.25, f"replicas:{svc['name']}") else max(2, needed)
        zones = ["eu-west-1a"] if _gap(plan, week, 0.2, f"zones:{svc['name']}") else ["eu-west-1a", "eu-west-1b", "eu-west-1c"][: min(3, max(2, replicas))]
        max_replicas = needed if _gap(plan, week, 0.3, f"maxrep:{svc['name']}") else math.ceil(needed * 2)
        strategy = "recreate" if _gap(plan, week, 0.1, f"recreate:{svc['name']}") else _draw(plan, f"strategy:{svc['name']}").choice(["rolling", "rolling", "canary", "blue_green"])
        assets.append({
            "id": f"{sid.lower()}/{svc['name']}", "type": "compute", "tags": tags, "replicas": replicas,
            "zones": zones, "autoscaling": {"enabled": True, "min": replicas, "max": max(max_replicas, replicas), "target_cpu": 60},
            "health_checks": {"readiness": not _gap(plan, week, 0.2, f"ready:{svc['name']}"), "liveness": not _gap(plan, week, 0.15, f"live:{svc['name']}")},
            "disruption_budget": None if _gap(plan, week, 0.3, f"pdb:{svc['name']}") else {"min_available": 1},
            "rps_per_replica": per_replica, "forecast_baseline_rps": baseline,
            "forecast_flas_rps": flas,
            "capacity_reservation": critical_high and not _gap(plan, week, 0.45, f"reserve:{svc['name']}"),
            "quota_headroom": 0.1 if _gap(plan, week, 0.2, "quota") else round(_draw(plan, "quota").uniform(0.3, 0.7), 2),
            "failover": ({"mode": "none"} if _gap(plan, week, 0.35, f"failover:{svc['name']}")
                         else {"mode": _draw(plan, f"failover-mode:{svc['name']}").choice(["active-passive", "active-active"]), "rto_minutes": _draw(plan, f"rto:{svc['name']}").choice([5, 15, 30])}),
            "deployment": {"strategy": strategy, "auto_rollback": not _gap(plan, week, 0.35, f"rollback:{svc['name']}")},
            "tracing": not _gap(plan, week, 0.4, f"tracing:{svc['name']}"),
        })
    for n in range(rng.choice([0, 0, 1, 1, 2])):
        retention, engine = rng.choice([7, 14, 35]), rng.choice(["postgres", "aurora-postgresql", "mysql", "dynamodb"])
        assets.append({
            "id": f"{sid.lower()}-db{n + 1}", "type": "database", "tags": tags,
            "engine": engine,
            "multi_az": not _gap(plan, week, 0.25, f"maz:{n}"), "automatic_failover": not _gap(plan, week, 0.2, f"afo:{n}"),
            "failover_dns_ttl_seconds": 300 if _gap(plan, week, 0.25, f"ttl:{n}") else _draw(plan, f"ttl:{n}").choice([5, 30]),
            "backup_retention_days": 1 if _gap(plan, week, 0.2, f"backup:{n}") else retention,
            "storage_used_gb": rng.randint(10, 900), "storage_allocated_gb": 1000,
            "storage_autoscaling": _draw(plan, f"storage-autoscaling:{n}").random() < 0.25,
            "read_replicas": rng.choice([0, 1, 2]), "read_share": round(_draw(plan, f"read-share:{n}").uniform(0.4, 0.95), 2),
            "client": {"connect_timeout_ms": None if _gap(plan, week, 0.25, f"connect:{n}") else 2000,
                       "query_timeout_ms": None if _gap(plan, week, 0.3, f"query:{n}") else 5000, "pool_size": rng.choice([10, 20, 50]),
                       "scan_timeout_ms": None if _gap(plan, week, 0.35, f"scan:{n}") else 30000,
                       "failover_aware": not _gap(plan, week, 0.3, f"driver:{n}"),
                       "query_ms_p99": 400 if _gap(plan, week, 0.15, f"slowq:{n}") else _draw(plan, f"query-ms:{n}").choice([5, 10, 20, 40]),
                       "queries_per_request": _draw(plan, f"queries:{n}").choice([1, 2, 3])},
        })
        if critical_high:
            done = _done_in(plan, week, 0.7, f"restore:{n}")
            if done is not None:
                assets.append({"id": f"{sid.lower()}-db{n + 1}-restore", "type": "drill", "tags": tags, "kind": "restore",
                               "performed_on": _day(start, done, plan, f"restore:{n}"),
                               "outcome": "failed" if _draw(plan, f"restore-outcome:{n}").random() < 0.1 else "passed"})
    for dep in plan["dependencies"]:
        timeout = rng.choice([500, 1000, 2000, 3000])
        essential = dep["kind"] == "sync" and _draw(plan, f"essential:{dep['system']}").random() < 0.75
        writes = _draw(plan, f"writes:{dep['system']}").random() < 0.3
        assets.append({
            "id": f"{sid.lower()}->{dep['system'].lower()}", "type": "dependency_client", "tags": tags,
            "target": dep["system"], "third_party": False,
            "timeout_ms": None if _gap(plan, week, 0.3, f"timeout:{dep['system']}") else timeout,
            "retries": {"max": 10, "backoff": "fixed"} if _gap(plan, week, 0.2, f"retries:{dep['system']}") else {"max": 2, "backoff": "exponential"},
            "circuit_breaker": rng.random() < 0.5,
            "essential": essential, "fallback": not essential and not _gap(plan, week, 0.4, f"fallback:{dep['system']}"),
            "idempotent": not writes,
            "idempotency_key": writes and not _gap(plan, week, 0.3, f"idemkey:{dep['system']}"),
        })
    if plan["purchase_flow"] or rng.random() < 0.15:
        provider = rng.choice(["card-network", "bank-gateway", "sms-provider", "address-lookup"])
        need = flas_total if plan["flas"] else baseline_total
        limit = None if _gap(plan, week, 0.25, "provider-limit") else round(need * _draw(plan, "provider-limit").choice([1.1, 1.6, 2, 3, 5]))
        assets.append({"id": f"{sid.lower()}->{provider}", "type": "dependency_client", "tags": tags,
                       "target": provider, "third_party": True, "timeout_ms": 3000,
                       "retries": {"max": 2, "backoff": "exponential"},
                       "circuit_breaker": not _gap(plan, week, 0.4, "breaker"), "fallback": False,
                       "idempotent": provider not in ("card-network", "bank-gateway"), "idempotency_key": True,
                       "provider_rate_limit_rps": limit, "calls_per_request": 1.0})
    for signal in ("error_rate", "latency", "saturation"):
        if not _gap(plan, week, 0.25, f"alarm:{signal}"):
            notifies = f"{plan['team']['key']}@example.com" if _gap(plan, week, 0.1, "alarm-route") else f"oncall-{plan['team']['key']}"
            assets.append({"id": f"{sid.lower()}-alarm-{signal}", "type": "alarm", "tags": tags,
                           "signal": signal, "notifies": notifies})
    if critical_high and not _gap(plan, week, 0.5, "alarm:burn"):
        assets.append({"id": f"{sid.lower()}-alarm-slo-burn", "type": "alarm", "tags": tags,
                       "signal": "slo_burn_rate", "notifies": f"oncall-{plan['team']['key']}"})
    if not _gap(plan, week, 0.1, "dashboard"):
        assets.append({"id": f"{sid.lower()}-dashboard", "type": "dashboard", "tags": tags,
                       "url": f"https://grafana.example.internal/d/{sid.lower()}"})
    if not _gap(plan, week, 0.08, "oncall"):
        members = plan["team"]["oncall"][:1] if _gap(plan, week, 0.15, "oncall-size") else plan["team"]["oncall"]
        assets.append({"id": f"oncall-{plan['team']['key']}", "type": "oncall_rotation", "tags": tags,
                       "members": members})
    if plan["public"] and not _gap(plan, week, 0.15, "edge"):
        assets.append({"id": f"{sid.lower()}-edge", "type": "cdn", "tags": tags, "waf": not _gap(plan, week, 0.2, "waf"),
                       "rate_limiting": not _gap(plan, week, 0.3, "ratelimit"),
                       "ddos_protection": not _gap(plan, week, 0.1, "shield"),
                       "bot_management": plan["purchase_flow"] and not _gap(plan, week, 0.4, "bots")})
    if plan["public"] or _draw(plan, "lb").random() < 0.4:
        assets.append({"id": f"{sid.lower()}-lb", "type": "load_balancer", "tags": tags, "public": plan["public"],
                       "health_check": not _gap(plan, week, 0.15, "lb-health"), "cross_zone": not _gap(plan, week, 0.2, "lb-zones"),
                       "restricted_to_cdn": plan["public"] and not _gap(plan, week, 0.35, "origin")})
    if _draw(plan, "function").random() < 0.15:
        peak = _draw(plan, "fn-peak").choice([50, 100, 200, 500])
        assets.append({"id": f"{sid.lower()}-fn", "type": "function", "tags": tags, "peak_concurrency": peak,
                       "reserved_concurrency": None if _gap(plan, week, 0.4, "fn-reserved") else round(peak * _draw(plan, "fn-reserved").choice([1.0, 1.5, 2]))})
    if not _gap(plan, week, 0.3, "slo"):
        assets.append({"id": f"{sid.lower()}-slo", "type": "slo", "tags": tags,
                       "latency_ms": _draw(plan, "slo-latency").choice([300, 500, 800]), "latency_percentile": 99,
                       "error_rate": None if _gap(plan, week, 0.2, "slo-errors") else 0.001})
    topics = [t for t in ("dependency_failure", "traffic_surge", "rollback", "database_failover")
              if not _gap(plan, week, 0.3, f"runbook:{t}")]
    if topics:
        assets.append({"id": f"{sid.lower()}-runbook", "type": "runbook", "tags": tags, "topics": topics,
                       "url": f"https://wiki.example.internal/runbooks/{sid.lower()}"})
    if plan["public"]:
        updated = _done_in(plan, week, 0.8, "ddos-runbook")
        assets.append({"id": f"{sid.lower()}-runbook-ddos", "type": "runbook", "tags": tags, "topics": ["ddos"],
                       "url": f"https://wiki.example.internal/runbooks/{sid.lower()}-ddos",
                       "updated_on": _day(start, updated if updated is not None else -40, plan, "ddos-runbook")})
        assets += _drill(plan, week, start, tags, "ddos", 0.7)
    if plan["flas"] and not _gap(plan, week, 0.5, "killswitch"):
        assets.append({"id": f"{sid.lower()}-flag-shed", "type": "feature_flag", "tags": tags, "kill_switch": True,
                       "sheds": _draw(plan, "sheds").choice(["recommendations", "rich receipts", "loyalty points", "analytics events"])})
    if critical_high:
        assets += _drill(plan, week, start, tags, "failover", 0.7, time_to_recovery_s=_draw(plan, "recovery").choice([45, 90, 240, 600]))
    assets += _drill(plan, week, start, tags, "load", 0.8, rps=round(baseline_total * _draw(plan, "load-rps").choice([0.75, 0.9, 1.05, 1.2, 1.5]), 1),
                     p99_ms=_draw(plan, "load-p99").choice([120, 250, 450, 900]), error_rate=_draw(plan, "load-errors").choice([0.0, 0.0005, 0.002]))
    assets += _drill(plan, week, start, tags, "overload", 0.65,
                     breaking_point_rps=round((flas_total if plan["flas"] else baseline_total) * _draw(plan, "breaking-point").choice([0.9, 1.1, 1.3, 1.6, 2.2]), 1))
    if plan["flas"]:
        assets += _drill(plan, week, start, tags, "spike", 0.7, rps=round(flas_total * _draw(plan, "spike-rps").choice([0.7, 1.0, 1.1]), 1),
                         ramp_seconds=_draw(plan, "ramp").choice([60, 90, 120, 300]))
    assets.append({"id": f"{sid.lower()}-logs", "type": "log_group", "tags": tags,
                   "retention_days": 7 if _gap(plan, week, 0.2, "logs") else 30})
    return assets


def _drill(plan: dict, week: int, start: date, tags: dict, kind: str, probability: float, **figures) -> list[dict]:
    """A test or drill of ``kind`` once it has been done, failing now and then (less in mature teams)."""
    done = _done_in(plan, week, probability, f"drill:{kind}")
    if done is None:
        return []
    failed = random.Random(f"{plan['id']}:drill:{kind}:outcome").random() < 0.25 * (1.2 - plan["maturity"])
    return [{"id": f"{plan['id'].lower()}-{kind}-test", "type": "drill", "tags": tags, "kind": kind,
             "performed_on": _day(start, done, plan, f"drill:{kind}"), "outcome": "failed" if failed else "passed",
             **figures}]
