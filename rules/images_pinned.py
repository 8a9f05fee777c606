"""Container images are pinned to a version or digest."""

from readiness.rulekit import Facts, RuleMeta, SystemView, each_asset, not_applicable

META = RuleMeta(
    id="images_pinned",
    title="Container images pinned to a version or digest",
    category="availability",
    severity="medium",
    rationale="An image tagged `latest` (or untagged) changes under a running service: a node "
              "replacement during peak can pull a different build than the one that was tested.",
    remediation="Reference every container image by an immutable tag (e.g. `:2.14.3`) or a digest "
                "(`@sha256:...`) in the workload manifest; let the deploy pipeline bump it.",
    facts=("kubernetes",),
    version="2",  # 2: "all <assets> comply (1 of 1)", not "all 1 <assets> comply"
)


def evaluate(system: SystemView, facts: Facts):
    """Every Kubernetes workload's images have a tag other than ``latest``, or a digest.

    Only Kubernetes workloads say which images run; systems without them are
    not applicable rather than missing data.
    """
    workloads = list((facts.source("kubernetes") or {}).get("workloads") or [])
    if not workloads:
        return not_applicable("no Kubernetes workloads collected for this system")
    named = [{**w, "id": f"{w['kind']} {w['namespace']}/{w['name']}"} for w in workloads]
    return each_asset(named, lambda w: None if w.get("image_pinned") else "image not pinned (latest or no tag)",
                      what="workloads")
