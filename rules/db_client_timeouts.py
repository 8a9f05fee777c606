"""Database clients set a short connect timeout."""

from readiness.rulekit import Facts, RuleMeta, SystemView, each_asset, not_applicable

META = RuleMeta(
    id="db_client_timeouts",
    title="Connect timeouts on database clients",
    category="databases",
    severity="high",
    version="3",  # 3: "all <assets> comply (1 of 1)", not "all 1 <assets> comply"
    rationale="During a failover, clients without a connect timeout wait on a dead primary for the "
              "operating system's default (minutes) and pile up requests, so the service stays "
              "down after the database is back.",
    remediation="Set a connect timeout of at most 5 s on every database client and record it in the "
                "inventory as client.connect_timeout_ms (query timeouts: see db_query_timeouts).",
    facts=("inventory",),
)

MAX_CONNECT_MS = 5_000


def evaluate(system: SystemView, facts: Facts):
    """Each database needs ``client.connect_timeout_ms`` set and at most 5000; not applicable
    when the system owns no database. Partial credit is half the share that comply."""
    databases = facts.assets("databases")
    if not databases:
        return not_applicable("the system owns no databases")

    def check(db):
        connect = (db.get("client") or {}).get("connect_timeout_ms")
        if connect is None:
            return "no connect timeout"
        if connect > MAX_CONNECT_MS:
            return f"connect timeout {connect} ms > {MAX_CONNECT_MS} ms"
        return None

    return each_asset(databases, check, what="databases")
