"""Database failover is fast on both sides: short DNS TTL, failover-aware clients."""

from readiness.rulekit import Applicability, Facts, RuleMeta, SystemView, each_asset, not_applicable

META = RuleMeta(
    id="db_failover_settings",
    title="Fast failover settings on database server and client",
    category="databases",
    severity="high",
    rationale="A database failover completes in seconds only if clients find the new primary "
              "quickly: a long DNS TTL or a driver that keeps dead connections turns a 30-second "
              "failover into minutes of errors.",
    remediation="Keep the failover endpoint's DNS TTL at 30 s or less and use a failover-aware "
                "driver or proxy (e.g. RDS Proxy, the AWS JDBC wrapper, PgBouncer with health "
                "checks) that drops connections to the old primary.",
    applies_to=Applicability(tiers=("critical", "high")),
    facts=("inventory",),
    version="2",  # 2: "all <assets> comply (1 of 1)", not "all 1 <assets> comply"
)

MAX_TTL_S = 30
SERVERLESS = ("dynamodb",)  # no primary to fail over to


def evaluate(system: SystemView, facts: Facts):
    """Each database (except serverless engines such as DynamoDB) needs
    ``failover_dns_ttl_seconds`` at most 30 and ``client.failover_aware``."""
    databases = [d for d in facts.assets("databases") if d.get("engine") not in SERVERLESS]
    if not databases:
        return not_applicable("no database with a primary to fail over")

    def check(db):
        problems = []
        ttl = db.get("failover_dns_ttl_seconds")
        if ttl is None:
            problems.append("failover DNS TTL unknown")
        elif ttl > MAX_TTL_S:
            problems.append(f"DNS TTL {ttl} s > {MAX_TTL_S} s")
        if not (db.get("client") or {}).get("failover_aware"):
            problems.append("client is not failover-aware")
        return ", ".join(problems) or None

    return each_asset(databases, check, what="databases")
