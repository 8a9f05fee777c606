"""Query timeouts bound both indexed lookups and non-indexed scans."""

from readiness.rulekit import Facts, RuleMeta, SystemView, each_asset, not_applicable

META = RuleMeta(
    id="db_query_timeouts",
    title="Query timeouts for indexed and non-indexed lookups",
    category="databases",
    severity="high",
    rationale="A query that runs long holds a connection and database resources; at peak a few "
              "slow scans exhaust the pool and stall the fast lookups that the purchase flow needs.",
    remediation="Set a statement timeout of at most 5 s for indexed lookups "
                "(client.query_timeout_ms) and at most 30 s for non-indexed queries and reports "
                "(client.scan_timeout_ms), e.g. per role or per connection pool.",
    facts=("inventory",),
    version="2",  # 2: "all <assets> comply (1 of 1)", not "all 1 <assets> comply"
)

MAX_QUERY_MS = 5_000
MAX_SCAN_MS = 30_000


def evaluate(system: SystemView, facts: Facts):
    """Each database needs ``client.query_timeout_ms`` at most 5000 and
    ``client.scan_timeout_ms`` at most 30000; not applicable without databases."""
    databases = facts.assets("databases")
    if not databases:
        return not_applicable("the system owns no databases")

    def check(db):
        client = db.get("client") or {}
        problems = []
        for key, limit, what in (("query_timeout_ms", MAX_QUERY_MS, "query"),
                                 ("scan_timeout_ms", MAX_SCAN_MS, "scan")):
            value = client.get(key)
            if value is None:
                problems.append(f"no {what} timeout")
            elif value > limit:
                problems.append(f"{what} timeout {value} ms > {limit} ms")
        return ", ".join(problems) or None

    return each_asset(databases, check, what="databases")
