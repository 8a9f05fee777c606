"""The dependency rule of the modular monolith (docs/architecture.md), checked on every import.

Each top-level package is a bounded context. A package may import only packages of a
lower layer, and only through their public surface: the package itself (its
``__init__``), never a submodule, except the rule-authoring kit the rule pack is written
against. Imports inside functions count as well; tests and benchmarks are not product code.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

REPO = Path(__file__).resolve().parents[1]

# Lowest first; a package imports only from layers below its own.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"storage"}),  # the kernel: engine, settings, migrations
    frozenset({"identity"}),  # the kernel: who is acting (personal API tokens)
    frozenset({"notifications", "clikit"}),  # the kernel's shared channels: messages, command lines
    frozenset({"readiness"}),  # catalog, facts, engine, scores
    frozenset({"rules", "governance", "collectors"}),  # plug into the core
    frozenset({"kapacity"}),
    frozenset({"perftest"}),
    frozenset({"flashsales"}),
    frozenset({"operations"}),  # serve, metrics, digests: composes the others
    frozenset({"app"}),
)
# Public submodules: the kit rule modules are written against.
PUBLIC_MODULES = frozenset({"readiness.rulekit", "readiness.capacity"})
RANK = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}


def _packages() -> list[str]:
    return sorted(p.name for p in REPO.iterdir()
                  if (p / "__init__.py").is_file() and p.name not in ("tests", "benchmarks"))


def _imports(path: Path):
    """(line, imported module, names) for every absolute import in a file."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, ()
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module, tuple(alias.name for alias in node.names)


def _cross_imports():
    """(importing package, file:line, imported package, imported module, names)."""
    packages = set(_packages())
    for package in sorted(packages):
        for path in sorted((REPO / package).rglob("*.py")):
            for line, module, names in _imports(path):
                target = module.split(".")[0]
                if target in packages and target != package:
                    yield package, f"{path.relative_to(REPO)}:{line}", target, module, names


def test_every_package_has_a_layer():
    assert set(_packages()) <= set(RANK), f"add new packages to LAYERS: {set(_packages()) - set(RANK)}"


def test_no_package_imports_a_higher_or_equal_layer():
    upward = [f"{where}: {package} imports {module}" for package, where, target, module, _ in _cross_imports()
              if RANK[target] >= RANK[package]]
    assert upward == [], "\n".join(upward)


def test_packages_import_each_other_only_through_their_public_surface():
    private = []
    for _, where, target, module, names in _cross_imports():
        if module in PUBLIC_MODULES:
            continue
        if module != target:
            private.append(f"{where}: imports {module} (use `{target}`'s public names)")
            continue
        exported = set(getattr(__import__(target), "__all__", ()))
        hidden = [name for name in names if name.startswith("_") or (exported and name not in exported)]
        if hidden:
            private.append(f"{where}: {target}.{', '.join(hidden)} is not in {target}.__all__")
    assert private == [], "\n".join(private)


def test_no_import_cycles_between_modules():
    """Imports inside functions count: deferring one is no cure for a tangle."""
    graph = nx.DiGraph()
    modules = {".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__"): p
               for package in _packages() for p in (REPO / package).rglob("*.py")}
    for name, path in modules.items():
        for _, module, names in _imports(path):
            for target in (module, *(f"{module}.{n}" for n in names)):
                # a submodule importing its own package's __init__ (or the reverse) is no cycle
                if target in modules and not (name + ".").startswith(target + ".") \
                        and not target.startswith(name + "."):
                    graph.add_edge(name, target)
    cycles = [cycle for cycle in nx.simple_cycles(graph) if len(cycle) > 1]
    assert cycles == [], f"import cycles: {cycles[:5]}"


@pytest.mark.parametrize("package", [p for layer in LAYERS for p in sorted(layer)])
def test_each_package_states_its_public_surface(package):
    init = REPO / package / "__init__.py"
    if not init.exists():
        pytest.skip(f"{package} not in this checkout")
    assert ast.get_docstring(ast.parse(init.read_text())), f"{package}/__init__.py needs a docstring saying what it owns"
