"""The Kubernetes collector, one module per step (import it through ``collectors``):

- ``parse``: safe reading of manifest files, folders, multi-document files and List exports
- ``facts``: what is extracted per workload, and its compute-asset shape
- ``mapping``: which system a workload belongs to (mapping file, labels, namespaces)
- ``source``: the fact source: scan, map, collect and store
- ``demo``: manifests mirroring the demo inventory, and the demo's weekly step
"""
