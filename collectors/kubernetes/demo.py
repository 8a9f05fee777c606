"""Demo manifests: every third demo system also runs on Kubernetes, mirroring its inventory with gaps.

The readiness demo calls ``demo_week`` through the ``peak_readiness.demo_week`` entry point.
"""

from __future__ import annotations

import json
import random
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import Engine

from collectors.kubernetes.facts import AUTO_ROLLBACK_ANNOTATION, RPS_ANNOTATION
from collectors.kubernetes.source import KubernetesScan, collect_kubernetes
from readiness import StoreReport
from storage import load_yaml

_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def write_demo_manifests(out_dir: Path, catalog_path: Path, inventory_path: Path, *, every: int = 3) -> list[Path]:
    """Manifests for every ``every``-th system of the demo catalog, mirroring its inventory with gaps.

    Deterministic: the same catalog and inventory give the same files. Besides the inventory's gaps
    (one replica, missing probes, no disruption budget, recreate deployments, no automatic rollback)
    seeded draws per workload add: a
    PodDisruptionBudget whose selector does not match, unpinned images, missing memory limits,
    no spread. One system in seven is written as a ``kubectl get -o yaml`` style ``kind: List``.
    """
    catalog = _catalog(Path(catalog_path).read_text(encoding="utf-8"))
    inventory = json.loads(Path(inventory_path).read_text(encoding="utf-8"))
    domain_of_group = {g["key"]: g["domain"] for g in catalog.get("groups", [])}
    domain_of_team = {t["key"]: domain_of_group.get(t["group"], "default") for t in catalog.get("teams", [])}
    compute: dict[str, list[dict]] = {}
    for asset in inventory.get("assets", []):
        if asset.get("type") == "compute":
            compute.setdefault(asset["tags"]["SystemID"], []).append(asset)
    written = []
    for position, system in enumerate(catalog.get("systems", [])):
        if position % every or not compute.get(system["id"]):
            continue
        namespace = domain_of_team.get(system["team"], "default")
        folder = out_dir / namespace
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{system['name']}.yaml"
        text = _manifest_text(json.dumps(system, sort_keys=True), namespace,
                          json.dumps(sorted(compute[system["id"]], key=lambda a: a["id"]), sort_keys=True),
                          position // every % 7 == 3)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


@lru_cache(maxsize=4096)
def _manifest_text(system: str, namespace: str, assets: str, as_list: bool) -> str:
    """One system's manifest text (cached: most systems do not change from one demo week to the next)."""
    documents = _system_documents(json.loads(system), namespace, json.loads(assets))
    if as_list:
        return yaml.dump({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
                          "items": documents}, Dumper=_DUMPER, sort_keys=False, width=120)
    return yaml.dump_all(documents, Dumper=_DUMPER, sort_keys=False, width=120)


@lru_cache(maxsize=4)
def _catalog(text: str) -> dict:
    return load_yaml(text, origin="the demo catalog")


def _system_documents(system: dict, namespace: str, assets: list[dict]) -> list[dict]:
    part_of = {"app.kubernetes.io/part-of": system["name"]}
    docs: list[dict] = [{"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": {"name": f"{system['name']}-config", "namespace": namespace, "labels": part_of},
                         "data": {"LOG_LEVEL": "info"}}]
    for asset in assets:
        docs += _asset_documents(system, namespace, asset, part_of)
    if random.Random(f"{system['id']}:k8s:agent").random() < 0.2:
        docs.append(_log_agent(system, namespace, part_of))
    return docs


def _asset_documents(system: dict, namespace: str, asset: dict, part_of: dict) -> list[dict]:
    """A compute asset's workload, service, autoscaler and disruption budget, with seeded gaps.

    The seeded draws happen in a fixed order (container, spread, autoscaler, replicas, budget),
    so the same asset always gives the same documents. Documents share the one ``labels`` dict,
    which the YAML dump writes as an anchor and aliases: keep it shared.
    """
    name = asset["id"].split("/", 1)[1]
    rng = random.Random(f"{system['id']}:k8s:{name}")
    kind = "StatefulSet" if name.endswith("-events") else "Deployment"
    labels = {"app.kubernetes.io/name": name, **part_of}
    scaling = asset.get("autoscaling") or {}
    replicas = asset.get("replicas", 1)
    pod_spec: dict[str, Any] = {"containers": [_container(rng, namespace, name, asset)],
                                **_pod_spread(rng, name, asset)}
    use_hpa = scaling.get("enabled") and rng.random() < 0.85
    spec: dict[str, Any] = {"selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                            "template": {"metadata": {"labels": labels}, "spec": pod_spec}}
    if not use_hpa or rng.random() < 0.5:
        spec = {"replicas": replicas, **spec}
    if kind == "StatefulSet":
        spec = {"serviceName": name, **spec}
    rollout = asset.get("deployment") or {}
    if rollout.get("strategy") == "recreate":
        spec = {**spec, "strategy": {"type": "Recreate"}} if kind == "Deployment" else \
            {**spec, "updateStrategy": {"type": "OnDelete"}}
    annotations = _annotations(asset, rollout)
    docs = [{"apiVersion": "apps/v1", "kind": kind,
             "metadata": {"name": name, "namespace": namespace, "labels": labels,
                          **({"annotations": annotations} if annotations else {})}, "spec": spec},
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace, "labels": labels},
             "spec": {"selector": {"app.kubernetes.io/name": name},
                      "ports": [{"port": 80, "targetPort": "http", "name": "http"}],
                      **({"clusterIP": "None"} if kind == "StatefulSet" else {})}}]
    if use_hpa:
        docs.append({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                     "metadata": {"name": name, "namespace": namespace, "labels": labels},
                     "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": name},
                              "minReplicas": scaling.get("min", replicas),
                              "maxReplicas": max(scaling.get("max", replicas), scaling.get("min", replicas)),
                              "metrics": [{"type": "Resource", "resource": {
                                  "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 65}}}]}})
    if asset.get("disruption_budget"):
        # a typo'd selector is a classic: the budget exists and protects nothing
        selector_name = f"{name}-svc" if rng.random() < 0.2 else name
        docs.append({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                     "metadata": {"name": name, "namespace": namespace, "labels": labels},
                     "spec": {"minAvailable": 1,
                              "selector": {"matchLabels": {"app.kubernetes.io/name": selector_name}}}})
    return docs


def _container(rng: random.Random, namespace: str, name: str, asset: dict) -> dict[str, Any]:
    """The app container: image, requests, sometimes no memory limit, the inventory's probes."""
    health = asset.get("health_checks") or {}
    container: dict[str, Any] = {
        "name": "app",
        "image": _image(rng, namespace, name),
        "ports": [{"containerPort": 8080, "name": "http"}],
        "resources": {"requests": {"cpu": rng.choice(["250m", "500m", "1"]), "memory": rng.choice(["512Mi", "1Gi"])},
                      "limits": {"memory": rng.choice(["1Gi", "2Gi"])}},
    }
    if rng.random() < 0.15:
        del container["resources"]["limits"]
    if health.get("readiness"):
        container["readinessProbe"] = {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 5}
    if health.get("liveness"):
        container["livenessProbe"] = {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 10}
    return container


def _pod_spread(rng: random.Random, name: str, asset: dict) -> dict[str, Any]:
    """Zone spread when the inventory has two zones; else, half the time, a spread over nodes only."""
    if len(set(asset.get("zones") or [])) >= 2:
        return {"topologySpreadConstraints": [{
            "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": name}}}]}
    if rng.random() < 0.5:
        return {"affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
            "weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname",
                                               "labelSelector": {"matchLabels": {"app.kubernetes.io/name": name}}}}]}}}
    return {}


def _annotations(asset: dict, rollout: dict) -> dict[str, str]:
    annotations = {}
    if asset.get("rps_per_replica") is not None:
        annotations[RPS_ANNOTATION] = str(asset["rps_per_replica"])
    if rollout.get("auto_rollback") and rollout.get("strategy") != "recreate":
        annotations[AUTO_ROLLBACK_ANNOTATION] = "true"  # a progressive-delivery controller watches it
    return annotations


def _log_agent(system: dict, namespace: str, part_of: dict) -> dict:
    """A node-level DaemonSet some systems run: no replicas, no autoscaler, no disruption budget."""
    name = f"{system['name']}-log-agent"
    labels = {"app.kubernetes.io/name": name, **part_of}
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [{
                         "name": "agent", "image": "registry.example.internal/platform/log-agent:3.4.1",
                         "resources": {"requests": {"cpu": "50m", "memory": "64Mi"},
                                       "limits": {"memory": "128Mi"}},
                         "livenessProbe": {"httpGet": {"path": "/health", "port": 2020}}}]}}}}


def _image(rng: random.Random, namespace: str, name: str) -> str:
    repository = f"registry.example.internal/{namespace}/{name}"
    draw = rng.random()
    if draw < 0.1:
        return f"{repository}:latest"
    if draw < 0.15:
        return repository
    if draw < 0.3:
        return f"{repository}@sha256:{rng.getrandbits(256):064x}"
    return f"{repository}:1.{rng.randint(0, 40)}.{rng.randint(0, 9)}"


def collect_demo(engine: Engine, out_dir: Path, catalog_path: Path, inventory_path: Path, *,
                 now: datetime | None = None) -> tuple[KubernetesScan, StoreReport]:
    """Write the demo manifests into ``out_dir`` and collect them as `readiness collect kubernetes` does."""
    write_demo_manifests(out_dir, catalog_path, inventory_path)
    return collect_kubernetes(engine, [out_dir], now=now)


def demo_week(engine: Engine, out_dir: Path, catalog_path: Path, inventory_path: Path, *,
              now: datetime | None = None) -> None:
    """The demo's hook: every third system also runs on Kubernetes, mirroring this week's inventory."""
    collect_demo(engine, out_dir / "kubernetes", catalog_path, inventory_path, now=now)
