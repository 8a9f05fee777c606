"""The flash-sale review reads running capacity by the same policy as the rules: Kubernetes over the inventory."""

from __future__ import annotations

from datetime import timedelta

import readiness
from flashsales import capacity
from readiness import CollectedFacts


class _Workloads:
    """Kubernetes says checkout's api runs 10 replicas, where the inventory (chk/api) still says 4."""

    name, freshness = "kubernetes", timedelta(days=1)

    def collect(self, engine):
        return CollectedFacts("kubernetes", {"CHK": {"compute": [
            {"id": "shop/Deployment/api", "replicas": 10, "rps_per_replica": 25}]}})


def test_running_capacity_comes_from_kubernetes_workloads_when_collected(org_engine):
    before = {s.system_id: s for s in capacity.purchase_flow_capacity(org_engine).systems}
    assert before["CHK"].provisioned_rps == 100 and before["CHK"].limited_by == "provisioned"

    readiness.collect_and_store(org_engine, _Workloads())
    after = {s.system_id: s for s in capacity.purchase_flow_capacity(org_engine).systems}
    assert after["CHK"].provisioned_rps == 250
    # what runs absorbs the surge; the FLAS forecast (120) is traffic, not capacity
    assert (after["CHK"].capacity_rps, after["CHK"].limited_by) == (250, "provisioned")
    assert after["CHK"].source == "kubernetes"
