"""Every synchronous dependency is called with a client timeout."""

from readiness.rulekit import Facts, RuleMeta, SystemView, each_asset, no_data, not_applicable

META = RuleMeta(
    id="dependency_timeouts",
    title="Client timeouts on every synchronous dependency",
    category="resilience",
    severity="high",
    rationale="Without a timeout a slow dependency holds threads and connections until the caller "
              "runs out of them; during peak one slow system then takes its callers down with it.",
    remediation="Set a connect and request timeout on the client of each dependency, below the "
                "caller's own latency SLO (typically 1-3 s), and record it in the inventory.",
    link="https://sre.google/sre-book/addressing-cascading-failures/",
    facts=("inventory",),
    version="2",  # 2: "all <assets> comply (1 of 1)", not "all 1 <assets> comply"
)

MAX_TIMEOUT_MS = 10_000


def evaluate(system: SystemView, facts: Facts):
    """Every synchronous dependency in the catalog needs a dependency_client with timeout_ms
    set and at most 10000; a dependency without a client entry counts as having no timeout."""
    sync_targets = sorted(t for t, kind in system.dependencies if kind == "sync")
    if not sync_targets:
        return not_applicable("no synchronous dependencies")
    clients = {c["target"]: c for c in facts.assets("dependency_clients")}
    if not clients:
        return no_data("no dependency client settings in the inventory")
    declared = [clients.get(t, {"id": f"client->{t}", "target": t, "timeout_ms": None}) for t in sync_targets]

    def check(client):
        timeout = client.get("timeout_ms")
        if timeout is None:
            return f"no timeout towards {client['target']}"
        if timeout > MAX_TIMEOUT_MS:
            return f"timeout {timeout} ms towards {client['target']} exceeds {MAX_TIMEOUT_MS} ms"
        return None

    return each_asset(declared, check, what="dependency clients")
