"""Databases have free storage for the peak's growth."""

from readiness.rulekit import Band, Facts, RuleMeta, SystemView, graded, no_data, not_applicable

META = RuleMeta(
    id="db_storage_headroom",
    title="Database storage headroom",
    category="databases",
    severity="medium",
    rationale="Peak weeks write several weeks' worth of orders, payments and logs; a database that "
              "runs out of storage stops accepting writes, and growing storage under load is slow "
              "and risky.",
    remediation="Keep at least 30% of allocated storage free before peak, or enable storage "
                "autoscaling with a maximum that covers the peak's growth.",
    bands=(Band(at_least=0.3, credit=1.0), Band(at_least=0.15, credit=0.5)),
    facts=("inventory",),
)


def evaluate(system: SystemView, facts: Facts):
    """Free share = 1 - ``storage_used_gb`` / ``storage_allocated_gb`` for each database
    without ``storage_autoscaling``; the smallest share is graded by the bands (30% free
    full credit, 15% half)."""
    databases = facts.assets("databases")
    if not databases:
        return not_applicable("the system owns no databases")
    shares = []
    evidence = []
    for db in databases:
        if db.get("storage_autoscaling"):
            evidence.append({"asset": db["id"], "storage_autoscaling": True})
            continue
        used, allocated = db.get("storage_used_gb"), db.get("storage_allocated_gb")
        if used is None or not allocated:
            return no_data(f"{db['id']}: storage_used_gb and storage_allocated_gb not recorded")
        free = 1 - used / allocated
        shares.append((free, db["id"]))
        evidence.append({"asset": db["id"], "used_gb": used, "allocated_gb": allocated, "free_share": round(free, 3)})
    if not shares:
        return graded(1.0, "storage autoscaling on every database", evidence)
    free, worst = min(shares)
    return graded(META.credit_for(free), f"{worst} has {free:.0%} of its storage free", evidence)
