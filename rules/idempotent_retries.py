"""Calls that are retried are idempotent, or carry an idempotency key."""

from readiness.rulekit import Facts, RuleMeta, SystemView, each_asset, not_applicable

META = RuleMeta(
    id="idempotent_retries",
    title="Retried calls are idempotent or use idempotency keys",
    category="resilience",
    severity="high",
    rationale="Retrying a payment capture or a refund that timed out but succeeded charges the "
              "customer twice; under peak load timeouts are common, so every retried operation "
              "must be safe to repeat.",
    remediation="Only retry idempotent operations, or send an idempotency key the provider "
                "de-duplicates on (e.g. the Idempotency-Key header); record idempotent and "
                "idempotency_key on the dependency client.",
    facts=("inventory",),
    version="2",  # 2: "all <assets> comply (1 of 1)", not "all 1 <assets> comply"
)


def _retries(client: dict) -> int:
    return int((client.get("retries") or {}).get("max") or 0)


def evaluate(system: SystemView, facts: Facts):
    """Every dependency client with ``retries.max`` above 0 must be ``idempotent`` or send an
    ``idempotency_key``; not applicable when nothing is retried."""
    retried = [c for c in facts.assets("dependency_clients") if _retries(c) > 0]
    if not retried:
        return not_applicable("no dependency call is retried")
    return each_asset(
        retried,
        lambda c: None if c.get("idempotent", True) or c.get("idempotency_key")
        else f"retries a non-idempotent call to {c['target']} without an idempotency key",
        what="retried dependency clients")
