"""Finding and loading rules: the built-in pack, extra folders, entry-point packs.

Loading never stops at a bad module: it is recorded as a load error naming
the module, and the engine turns it into error results for that rule only.
That includes a module that calls ``sys.exit`` or hangs while it is imported
(under the rule time limit, see ``readiness.watchdog``); only a real interrupt
(KeyboardInterrupt) stops loading.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

from pydantic import ValidationError

from readiness.errors import RuleLoadError
from readiness.limits import rule_timeout
from readiness.rulekit import Facts, Outcome, RuleMeta, SystemView
from readiness.watchdog import Watchdog

ENTRY_POINT_GROUP = "peak_readiness.rules"
BUILTIN_PACK = "rules"

Evaluate = Callable[[SystemView, Facts], Outcome]


@dataclass(frozen=True)
class Rule:
    meta: RuleMeta
    evaluate: Evaluate
    origin: str  # module path, for errors and audit


@dataclass
class RuleSet:
    rules: list[Rule] = field(default_factory=list)
    load_errors: list[RuleLoadError] = field(default_factory=list)

    def by_id(self) -> dict[str, Rule]:
        return {rule.meta.id: rule for rule in self.rules}

    def versions(self) -> dict[str, str]:
        return {rule.meta.id: rule.meta.version for rule in self.rules}


def load_rules(extra_dirs: Iterable[Path] = (), *, builtin: bool = True,
               entry_point_packs: bool = True, time_limit: float | None = None,
               only: Collection[str] | None = None) -> RuleSet:
    """Every rule from the built-in pack, the given folders and installed packs, sorted by id.

    ``time_limit``: seconds one module's import may take (None: the configured default; 0: none).
    ``only``: load just the modules named like these rule ids (an id is its module's name), for
    a reader that needs a few rules' metadata; those rules come out as a full load gives them.
    """
    modules: list[tuple[str, str, Callable[[], ModuleType]]] = []  # (module name, origin, importer)
    if builtin:
        modules += _package_modules(BUILTIN_PACK)
    for folder in extra_dirs:
        modules += _folder_modules(Path(folder))
    if entry_point_packs:
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            modules += _package_modules(ep.value)
    if only is not None:
        modules = [module for module in modules if module[0] in only]
    ruleset = RuleSet()
    seen: dict[str, str] = {}
    watchdog = Watchdog(rule_timeout(time_limit), caller=_load_one)
    with watchdog.watching():
        loaded = [_load_one(stem, origin, importer, watchdog) for stem, origin, importer in modules]
    for rule, origin in zip(loaded, (origin for _, origin, _ in modules), strict=True):
        if isinstance(rule, RuleLoadError):
            ruleset.load_errors.append(rule)
            continue
        if rule.meta.id in seen:
            ruleset.load_errors.append(RuleLoadError(
                origin, f"duplicate rule id {rule.meta.id!r} (already defined by {seen[rule.meta.id]})", None))
            continue
        seen[rule.meta.id] = origin
        ruleset.rules.append(rule)
    ruleset.rules.sort(key=lambda r: r.meta.id)
    return ruleset


def _load_one(stem: str, origin: str, importer: Callable[[], ModuleType],
              watchdog: Watchdog) -> Rule | RuleLoadError:
    try:
        watchdog.started += 1
        module = importer()
        watchdog.finished = watchdog.started
        if watchdog.overran:
            raise RuleLoadError(origin, f"import ran longer than the {watchdog.limit:g} s rule time limit", stem)
        return _rule_from_module(module, stem, origin)
    except KeyboardInterrupt:  # a real interrupt stops loading
        raise
    except RuleLoadError as exc:
        watchdog.finished, watchdog.overran = watchdog.started, False
        return exc
    except BaseException as exc:  # the module itself is broken: import error, sys.exit, time limit...
        watchdog.finished, watchdog.overran = watchdog.started, False
        reason = (f"called sys.exit({exc.code!r}) while imported" if isinstance(exc, SystemExit)
                  else f"failed to import: {type(exc).__name__}: {exc}")
        return RuleLoadError(origin, reason, stem)


def _package_modules(package_name: str) -> list[tuple[str, str, Callable[[], ModuleType]]]:
    try:
        package = importlib.import_module(package_name)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # sys.exit in a pack's __init__ too: recorded as that pack's load error
        def fail(exc=exc):
            raise exc
        return [(package_name.rsplit(".", 1)[-1], package_name, fail)]
    found = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("_") or info.ispkg:
            continue
        name = f"{package_name}.{info.name}"
        found.append((info.name, name, lambda name=name: importlib.import_module(name)))
    return found


def _folder_modules(folder: Path) -> list[tuple[str, str, Callable[[], ModuleType]]]:
    if not folder.is_dir():
        def missing(folder=folder):
            raise RuleLoadError(str(folder), "rules folder does not exist")
        return [(folder.name, str(folder), missing)]
    return [(path.stem, str(path), lambda path=path: _import_file(path))
            for path in sorted(folder.glob("*.py")) if not path.name.startswith("_")]


def _import_file(path: Path) -> ModuleType:
    module_name = f"_peak_extra_rules.{path.parent.name}.{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


def _rule_from_module(module: ModuleType, stem: str, origin: str) -> Rule:
    meta = getattr(module, "META", None)
    if isinstance(meta, dict):
        try:
            meta = RuleMeta.model_validate(meta)
        except ValidationError as exc:
            fields = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise RuleLoadError(origin, f"invalid META: {fields}", stem) from None
    if not isinstance(meta, RuleMeta):
        raise RuleLoadError(origin, "defines no META = RuleMeta(...)", stem)
    if meta.id != stem:
        raise RuleLoadError(origin, f"META.id {meta.id!r} must equal the module name {stem!r}", stem)
    evaluate = getattr(module, "evaluate", None)
    if not callable(evaluate):
        raise RuleLoadError(origin, "defines no evaluate(system, facts) function", meta.id)
    return Rule(meta=meta, evaluate=evaluate, origin=origin)
