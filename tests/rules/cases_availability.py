"""Fixtures for the availability rules."""

from tests.rules.kit import D, F, N, P, case, compute, facts

CASES = [
    # replicas_across_zones
    case("replicas_across_zones", "medium-tier", N, 0.0, tier="medium"),
    case("replicas_across_zones", "no-compute", D, 0.0),
    case("replicas_across_zones", "two-zones", P, 1.0, facts({"compute": [compute(replicas=2, zones=["a", "b"])]})),
    case("replicas_across_zones", "one-replica", F, 0.0, facts({"compute": [compute(replicas=1)]})),
    case("replicas_across_zones", "one-zone", F, 0.0, facts({"compute": [compute(zones=["a"])]})),
    # disruption_budget
    case("disruption_budget", "low-tier", N, 0.0, tier="low"),
    case("disruption_budget", "budget", P, 1.0, facts({"compute": [compute()]})),
    case("disruption_budget", "half", F, 0.25, facts({"compute": [compute(), compute("b", disruption_budget=None)]})),
    # health_checks
    case("health_checks", "both", P, 1.0, facts({"compute": [compute()]})),
    case("health_checks", "no-liveness", F, 0.0,
         facts({"compute": [compute(health_checks={"readiness": True, "liveness": False})]})),
    case("health_checks", "no-compute", D, 0.0),
    # oncall_rotation
    case("oncall_rotation", "none", D, 0.0),
    case("oncall_rotation", "two-people", P, 1.0, facts({"oncall": [{"id": "o", "members": ["a", "b"]}]})),
    case("oncall_rotation", "one-person-twice", F, 0.0, facts({"oncall": [{"id": "o", "members": ["a", "a"]}]})),
    # slo_defined
    case("slo_defined", "low-tier", N, 0.0, tier="low"),
    case("slo_defined", "none", F, 0.0),
    case("slo_defined", "both", P, 1.0,
         facts({"slos": [{"id": "s", "latency_ms": 500, "latency_percentile": 99, "error_rate": 0.001}]})),
    case("slo_defined", "split-over-two", P, 1.0,
         facts({"slos": [{"id": "a", "latency_ms": 500, "latency_percentile": 99},
                         {"id": "b", "error_rate": 0.001}]})),
    case("slo_defined", "latency-without-percentile", F, 0.5,
         facts({"slos": [{"id": "s", "latency_ms": 500, "latency_percentile": None, "error_rate": 0.001}]})),
    case("slo_defined", "latency-only", F, 0.5, facts({"slos": [{"id": "s", "latency_ms": 500, "latency_percentile": 95}]})),
    # load_balancer_health
    case("load_balancer_health", "no-balancer", N, 0.0),
    case("load_balancer_health", "healthy", P, 1.0,
         facts({"load_balancers": [{"id": "lb", "health_check": True, "cross_zone": True}]})),
    case("load_balancer_health", "no-cross-zone", F, 0.0,
         facts({"load_balancers": [{"id": "lb", "health_check": True, "cross_zone": False}]})),
    case("load_balancer_health", "one-of-two", F, 0.25,
         facts({"load_balancers": [{"id": "a", "health_check": True, "cross_zone": True},
                                   {"id": "b", "health_check": False, "cross_zone": True}]})),
    # deployment_safety
    case("deployment_safety", "medium-tier", N, 0.0, tier="medium"),
    case("deployment_safety", "canary-with-rollback", P, 1.0, facts({"compute": [compute()]})),
    case("deployment_safety", "recreate", F, 0.0,
         facts({"compute": [compute(deployment={"strategy": "recreate", "auto_rollback": True})]})),
    case("deployment_safety", "no-auto-rollback", F, 0.0,
         facts({"compute": [compute(deployment={"strategy": "rolling", "auto_rollback": False})]})),
    case("deployment_safety", "unknown", F, 0.0, facts({"compute": [compute(deployment=None)]})),
    case("deployment_safety", "kubernetes-workloads-win", F, 0.0,  # the same service api: Kubernetes' settings win
         facts({"compute": [compute("svc/api")]},
               kubernetes={"compute": [compute("ns/Deployment/api", deployment={"strategy": "on_delete"})]})),
    case("deployment_safety", "services-one-source-knows-are-kept", F, 0.25,
         facts({"compute": [compute("svc/web")]},
               kubernetes={"compute": [compute("ns/Deployment/api", deployment={"strategy": "on_delete"})]})),
]


def _workload(name: str, pinned: bool) -> dict:
    return {"kind": "Deployment", "namespace": "pay", "name": name, "image_pinned": pinned,
            "source": {"file": "k8s/pay.yaml", "document": 0}}


CASES += [
    # images_pinned
    case("images_pinned", "no-workloads", N, 0.0),
    case("images_pinned", "pinned", P, 1.0, facts(kubernetes={"workloads": [_workload("api", True)]})),
    case("images_pinned", "one-of-two-latest", F, 0.25,
         facts(kubernetes={"workloads": [_workload("api", True), _workload("worker", False)]})),
    case("images_pinned", "latest", F, 0.0, facts(kubernetes={"workloads": [_workload("api", False)]})),
]
