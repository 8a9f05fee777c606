"""Retries are bounded and back off exponentially."""

from readiness.rulekit import Facts, RuleMeta, SystemView, each_asset, not_applicable

META = RuleMeta(
    id="retries_with_backoff",
    title="Retries bounded and with exponential backoff",
    category="resilience",
    severity="medium",
    rationale="Unbounded or immediate retries multiply load on a struggling dependency exactly when "
              "it can least take it, turning a brief slowdown into an outage (retry storms).",
    remediation="Cap retries (at most 3) and use exponential backoff with jitter in the client "
                "of every dependency; never retry non-idempotent calls without an idempotency key.",
    facts=("inventory",),
    version="2",  # 2: "all <assets> comply (1 of 1)", not "all 1 <assets> comply"
)

MAX_RETRIES = 3


def evaluate(system: SystemView, facts: Facts):
    """Each dependency client that retries needs retries.max of at most 3 and exponential
    backoff; clients that do not retry pass."""
    clients = facts.assets("dependency_clients")
    if not clients:
        return not_applicable("no dependency clients in the inventory")

    def check(client):
        retries = client.get("retries")
        if not retries or not retries.get("max"):
            return None  # no retries at all is safe
        if retries["max"] > MAX_RETRIES:
            return f"{retries['max']} retries towards {client['target']} (at most {MAX_RETRIES})"
        if retries.get("backoff") != "exponential":
            return f"retries towards {client['target']} use {retries.get('backoff', 'no')} backoff"
        return None

    return each_asset(clients, check, what="dependency clients")
