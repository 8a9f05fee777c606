"""Database clients set connect and query timeouts."""

from readiness.rulekit import Facts, RuleMeta, SystemView, each_asset, not_applicable

META = RuleMeta(
    id="db_client_timeouts",
    title="Connect and query timeouts on database clients",
    category="databases",
    severity="high",
    rationale="During a failover or a slow query, clients without timeouts pile up connections "
              "and exhaust the pool, so the service stays down after the database is back.",
    remediation="Set a connect timeout (at most 5 s) and a statement/query timeout on every "
                "database client; record them in the inventory under client.",
    facts=("inventory",),
)

MAX_CONNECT_MS = 5_000


def evaluate(system: SystemView, facts: Facts):
    databases = facts.assets("databases")
    if not databases:
        return not_applicable("the system owns no databases")

    def check(db):
        client = db.get("client") or {}
        problems = []
        connect = client.get("connect_timeout_ms")
        if connect is None:
            problems.append("no connect timeout")
        elif connect > MAX_CONNECT_MS:
            problems.append(f"connect timeout {connect} ms > {MAX_CONNECT_MS} ms")
        if client.get("query_timeout_ms") is None:
            problems.append("no query timeout")
        return ", ".join(problems) or None

    return each_asset(databases, check, what="databases")
