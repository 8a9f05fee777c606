"""Backstage catalogs as a catalog format: entity YAML in, the organisation out.

Read the entity files (folders, multi-document files, ``Location`` targets),
resolve entity refs with Backstage's own rules, map the entities onto
company > domain > group > team > system, and hand the same validated catalog
document the registry YAML path builds to ``import_catalog`` (an upsert that
retires what disappeared). Every problem in the catalog is a ``Problem``
naming file, document, entity ref and field; the mapping applies a documented
policy and goes on. See docs/catalog-backstage.md.
"""

from __future__ import annotations

import glob
import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine

from readiness.catalog import (
    CatalogIn,
    DependencyIn,
    DomainIn,
    GroupIn,
    ImportReport,
    SystemIn,
    TeamIn,
    group_ancestry,
    import_catalog,
)
from storage import YamlDocument, YamlError, YamlLimitError, load_documents

PREFIX = "peak.example.com"  # annotations peak.example.com/tier ...; tags peak-tier-critical ...
TAG_PREFIX = "peak-"
DEFAULT_NAMESPACE = "default"
KINDS = ("Domain", "System", "Component", "Group", "User", "API", "Resource", "Location")
IGNORED_KINDS = ("Template",)  # a Backstage kind with no place in the organisation: counted, not mapped
SYSTEM_KINDS = ("component", "system", "resource")
DEFAULT_TIER = "medium"
TIERS = ("critical", "high", "medium", "low")
TRAFFIC_CLASSES = {"flas": "FLAS", "baseline": "Baseline"}

# Keys no Backstage entity can produce (its names never hold two separators in a row).
UNOWNED_TEAM = "backstage--unowned"
UNASSIGNED_DOMAIN = "backstage--unassigned"

# The fields holding refs per kind, with the kind a ref gets when it names none
# (Backstage's BuiltinKindsEntityProcessor; None: the ref must name its kind).
REF_FIELDS: dict[str, dict[str, str | None]] = {
    "component": {"owner": "group", "system": "system", "subcomponentOf": "component",
                  "providesApis": "api", "consumesApis": "api", "dependsOn": None},
    "api": {"owner": "group", "system": "system"},
    "resource": {"owner": "group", "system": "system", "dependsOn": None, "dependencyOf": None},
    "system": {"owner": "group", "domain": "domain"},
    "domain": {"owner": "group"},
    "group": {"parent": "group", "children": "group", "members": "user", "leader": "user"},
    "user": {"memberOf": "group", "leaderOf": "group"},
}

# The kinds a field may name for the mapping to use the link (dependsOn / dependencyOf: any).
EXPECTED_KINDS = {"owner": ("group", "user"), "system": ("system",), "domain": ("domain",),
                  "subcomponentOf": ("component",), "providesApis": ("api",), "consumesApis": ("api",),
                  "parent": ("group",), "children": ("group",), "memberOf": ("group",), "leaderOf": ("group",),
                  "members": ("user",), "leader": ("user",)}

# What Backstage's kind schemas (catalog-model src/schema/kinds) require; it refuses an entity without them.
API_VERSIONS = ("backstage.io/v1alpha1", "backstage.io/v1beta1")
REQUIRED_SPEC = {"component": ("type", "lifecycle", "owner"), "api": ("type", "lifecycle", "owner", "definition"),
                 "resource": ("type", "owner"), "system": ("owner",), "domain": ("owner",),
                 "group": ("type", "children"), "user": ("memberOf",), "location": ()}

# Backstage's FieldFormatEntityPolicy: names and namespaces.
_NAME = re.compile(r"^[A-Za-z0-9]+(?:[-_.][A-Za-z0-9]+)*$")
_NAMESPACE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_KNOWN = {kind.lower(): kind for kind in KINDS + IGNORED_KINDS}
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class Problem:
    file: str
    document: int  # 1-based index of the YAML document in its file; 0 for the file itself
    ref: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}#{self.document} {self.ref} {self.field}: {self.message}"


@dataclass
class Entity:
    kind: str  # lower case, as compared
    namespace: str
    name: str
    raw: dict
    file: str
    document: int
    ref: str = field(init=False)  # kind:namespace/name in lower case: how entities are compared

    def __post_init__(self) -> None:
        self.ref = _ref_text(self.kind, self.namespace, self.name)

    @property
    def spec(self) -> dict:
        return self.raw.get("spec") if isinstance(self.raw.get("spec"), dict) else {}

    @property
    def metadata(self) -> dict:
        return self.raw["metadata"]

    @property
    def key(self) -> str:
        """Our key: the name in lower case, namespaced as ``ns:name`` outside the default namespace."""
        name = self.name.lower()
        return name if self.namespace == DEFAULT_NAMESPACE else f"{self.namespace}:{name}"

    @property
    def title(self) -> str:
        profile = self.spec.get("profile") if isinstance(self.spec.get("profile"), dict) else {}
        return str(profile.get("displayName") or self.metadata.get("title") or self.name)


@dataclass(frozen=True)
class Became:
    ref: str
    level: str  # domain | group | team | system
    key: str
    parent: str | None = None


@dataclass
class BackstageCatalog:
    """What a set of Backstage files says and what it becomes, before anything is stored."""
    files: list[str]
    entities: dict[str, int]  # per kind, the entities kept (those Backstage would keep)
    external: list[dict]
    problems: list[Problem]
    became: list[Became]
    notes: list[str]
    document: CatalogIn


@dataclass
class BackstageReport:
    catalog: BackstageCatalog
    refused: bool
    imported: ImportReport | None

    def as_dict(self) -> dict:
        cat = self.catalog
        return {"files": cat.files, "entities": cat.entities, "external": cat.external,
                "became": [asdict(b) for b in cat.became], "notes": cat.notes,
                "problems": [asdict(p) for p in cat.problems], "refused": self.refused,
                "imported": asdict(self.imported) if self.imported else None}


# ---------------------------------------------------------------- use case


def import_backstage(engine: Engine, paths: list[Path], *, system_kind: str = "component",
                     strict: bool = False) -> BackstageReport:
    """Read, map and upsert a Backstage catalog; with ``strict`` any problem refuses it, writing nothing."""
    catalog = read_backstage(paths, system_kind=system_kind)
    if strict and catalog.problems:
        return BackstageReport(catalog, refused=True, imported=None)
    origin = "backstage:" + ",".join(str(p) for p in paths)
    return BackstageReport(catalog, refused=False, imported=import_catalog(engine, catalog.document, origin=origin))


def read_backstage(paths: list[Path], *, system_kind: str = "component") -> BackstageCatalog:
    """The organisation the files describe, with every problem found; stores nothing."""
    kind = system_kind.lower()
    if kind not in SYSTEM_KINDS:
        raise ValueError(f"system kind {system_kind!r}: accepted: {', '.join(SYSTEM_KINDS)}")
    reader = _Reader()
    for path in paths:
        reader.add(Path(path))
    resolver = _Resolver(reader.entities, reader.problems)
    mapping = _Mapping(resolver, kind)
    document = mapping.build()
    return BackstageCatalog(files=reader.files, entities=dict(sorted(reader.counts.items())),
                            external=reader.external, became=mapping.became,
                            problems=sorted(reader.problems, key=lambda p: (p.file, p.document)),
                            notes=mapping.notes, document=document)


# ---------------------------------------------------------------- reading


class _Reader:
    """Files and folders in, entities out; ``Location`` targets followed once each."""

    def __init__(self) -> None:
        self.entities: dict[str, Entity] = {}
        self.problems: list[Problem] = []
        self.files: list[str] = []
        self.counts: Counter[str] = Counter()
        self.external: list[dict] = []
        self._seen: set[Path] = set()

    def add(self, path: Path) -> None:
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") or part == "node_modules" for part in found.relative_to(path).parts)
                if found.suffix.lower() in (".yaml", ".yml") and found.is_file() and not hidden:
                    self._read_file(found)
        elif path.exists():
            self._read_file(path)
        else:
            self.problems.append(Problem(str(path), 0, "-", "-", "file not found"))

    def _read_file(self, path: Path) -> None:
        resolved = path.resolve()
        if resolved in self._seen:  # a second Location naming it, or a cycle of Locations
            return
        self._seen.add(resolved)
        self.files.append(str(path))
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.problems.append(Problem(str(path), 0, "-", "-", f"cannot read: {exc}"))
            return
        documents, error = _documents(text, str(path))
        for document in documents:
            self._add_document(document.data, path, document.index + 1)
        if error is not None:
            line = f" at line {error.line}" if error.line else ""
            self.problems.append(Problem(str(path), len(documents) + 1, "-", "-",
                                         f"invalid YAML{line}: {error.problem.removeprefix('invalid YAML: ')}; "
                                         "the rest of the file is skipped"))

    def _add_document(self, doc: object, path: Path, index: int) -> None:
        if doc is None:  # an empty document, as after a trailing ---
            return
        entity = self._entity(doc, str(path), index)
        if entity is None:
            return
        first = self.entities.get(entity.ref)
        if first is not None:
            self.problems.append(Problem(entity.file, index, entity.ref, "metadata.name",
                                         f"duplicate of {first.file}#{first.document}; this one is ignored"))
            return
        self.entities[entity.ref] = entity
        self.counts[_KNOWN[entity.kind]] += 1
        if entity.kind == "location":
            self._follow(entity, path)

    def _entity(self, doc: object, file: str, index: int) -> Entity | None:
        def problem(ref: str, field: str, message: str) -> None:
            self.problems.append(Problem(file, index, ref, field, message))

        if not isinstance(doc, dict):
            problem("-", "-", "not an entity: expected a mapping with apiVersion, kind, metadata and spec")
            return None
        kind, metadata = doc.get("kind"), doc.get("metadata")
        if not isinstance(kind, str) or not kind:
            problem("-", "kind", "missing kind; the document is ignored")
            return None
        if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
            problem(f"{kind.lower()}:?", "metadata.name", "missing metadata.name; the document is ignored")
            return None
        name, namespace = metadata["name"], metadata.get("namespace") or DEFAULT_NAMESPACE
        ref = _ref_text(kind, str(namespace), name)
        if not isinstance(namespace, str) or len(namespace) > 63 or not _NAMESPACE.match(namespace):
            problem(ref, "metadata.namespace", f"{namespace!r} is not a valid namespace (lower-case letters, "
                                               f"digits and single dashes); the entity is ignored")
            return None
        if len(name) > 63 or not _NAME.match(name):
            problem(ref, "metadata.name", f"{name!r} is not a valid entity name (letters and digits, single "
                                          f"- _ . between them, at most 63); the entity is ignored")
            return None
        if len(namespace) + len(name) > 99:  # our keys are namespace:name, at most 100 characters
            problem(ref, "metadata.name", "namespace and name together exceed 99 characters; the entity is ignored")
            return None
        if kind.lower() not in _KNOWN:
            problem(ref, "kind", f"unknown kind {kind!r} (known: {', '.join(KINDS)}); the entity is ignored")
            return None
        if not self._valid_envelope(doc, kind.lower(), lambda field, message: problem(ref, field, message)):
            return None
        return Entity(kind.lower(), namespace, name, doc, file, index)

    @staticmethod
    def _valid_envelope(doc: dict, kind: str, problem) -> bool:
        """Backstage's schema checks for the kinds we map: apiVersion, and the spec fields it requires."""
        if kind not in REQUIRED_SPEC:
            return True
        if doc.get("apiVersion") not in API_VERSIONS:
            problem("apiVersion", f"{doc.get('apiVersion')!r} is not one of {', '.join(API_VERSIONS)}; "
                                  f"Backstage refuses the entity, so it is ignored")
            return False
        spec = doc.get("spec")
        missing = [f for f in REQUIRED_SPEC[kind] if not isinstance(spec, dict) or spec.get(f) in (None, "")]
        if not isinstance(spec, dict) or missing:
            problem("spec", f"missing {', '.join(f'spec.{f}' for f in missing) or 'spec'}; Backstage refuses "
                            f"the entity, so it is ignored")
            return False
        return True

    def _follow(self, location: Entity, path: Path) -> None:
        spec = location.spec
        listed = spec.get("targets") or []
        targets = ([spec["target"]] if spec.get("target") else []) + (listed if isinstance(listed, list) else [listed])
        for target in targets:
            if not isinstance(target, str):
                self.problems.append(Problem(location.file, location.document, location.ref, "spec.targets",
                                             f"{target!r} is not a path or URL"))
            elif _URL.match(target):
                self.external.append({"target": target, "file": location.file, "document": location.document,
                                      "ref": location.ref})
            else:
                self._follow_file(location, path.parent, target)

    def _follow_file(self, location: Entity, base: Path, target: str) -> None:
        pattern = target if Path(target).is_absolute() else str(base / target)
        if glob.has_magic(pattern):
            found = sorted(Path(p) for p in glob.glob(pattern, recursive=True))
        else:
            found = [Path(pattern)] if Path(pattern).is_file() else []
        if not found:
            self.problems.append(Problem(location.file, location.document, location.ref, "spec.target",
                                         f"target {target!r} matches no file"))
        for path in found:
            self._read_file(path)


# ---------------------------------------------------------------- refs


def _ref_text(kind: str, namespace: str, name: str) -> str:
    return f"{kind}:{namespace}/{name}".lower()


def parse_ref(ref: object, *, default_kind: str | None, default_namespace: str) -> tuple[str, str, str]:
    """``[kind:][namespace/]name`` (or the compound mapping form) as (kind, namespace, name), lower case.

    Backstage's parseEntityRef: a ``/`` before the first ``:`` makes the rest the
    name; a part written empty is an error, as is a kind neither written nor defaulted.
    """
    if isinstance(ref, dict):
        kind, namespace, name = ref.get("kind"), ref.get("namespace"), ref.get("name")
    elif isinstance(ref, str) and ref:
        colon, slash = ref.find(":"), ref.find("/")
        if slash != -1 and slash < colon:
            colon = -1
        kind = ref[:colon] if colon != -1 else None
        namespace = ref[colon + 1:slash] if slash != -1 else None
        name = ref[max(colon + 1, slash + 1):]
        if "" in (kind, namespace, name):
            raise ValueError(f"{ref!r} is not of the form [<kind>:][<namespace>/]<name>")
    else:
        raise ValueError(f"{ref!r} is not an entity ref")
    kind, namespace = kind or default_kind, namespace or default_namespace
    if not kind:
        raise ValueError(f"{ref!r} names no kind, and this field has no default kind (write e.g. 'component:{ref}')")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{ref!r} has no name")
    return str(kind).lower(), str(namespace).lower(), name.lower()


class _Resolver:
    """Every ref of every entity resolved once; each one that does not resolve is a problem."""

    def __init__(self, entities: dict[str, Entity], problems: list[Problem]) -> None:
        self.entities = entities
        self.problems = problems
        self._by_kind_name: dict[tuple[str, str], list[str]] = defaultdict(list)
        for entity in entities.values():
            self._by_kind_name[(entity.kind, entity.name.lower())].append(entity.ref)
        self._resolved: dict[tuple[str, str], list[Entity]] = {}
        self._of: dict[str, list[Entity]] = {}
        for entity in entities.values():
            for name, default_kind in REF_FIELDS.get(entity.kind, {}).items():
                self._resolved[(entity.ref, name)] = self._resolve_field(entity, name, default_kind)

    def of(self, kind: str) -> list[Entity]:
        if kind not in self._of:
            self._of[kind] = sorted((e for e in self.entities.values() if e.kind == kind), key=lambda e: e.ref)
        return self._of[kind]

    def get(self, entity: Entity, name: str) -> list[Entity]:
        return self._resolved.get((entity.ref, name), [])

    def first(self, entity: Entity, name: str) -> Entity | None:
        found = self.get(entity, name)
        return found[0] if found else None

    def problem(self, entity: Entity, name: str, message: str) -> None:
        self.problems.append(Problem(entity.file, entity.document, entity.ref, name, message))

    def _resolve_field(self, entity: Entity, name: str, default_kind: str | None) -> list[Entity]:
        value = entity.spec.get(name)
        if value is None:
            return []
        found = []
        for ref in value if isinstance(value, list) else [value]:
            target = self._resolve_one(entity, f"spec.{name}", ref, default_kind)
            expected = EXPECTED_KINDS.get(name)
            if target is not None and expected and target.kind not in expected:
                self.problem(entity, f"spec.{name}", f"{ref!r} -> {target.ref} is a {_KNOWN[target.kind]}, not "
                                                     f"a {' or '.join(_KNOWN[k] for k in expected)}; ignored")
                continue
            if target is not None and target not in found:
                found.append(target)
        return found

    def _resolve_one(self, entity: Entity, where: str, ref: object, default_kind: str | None) -> Entity | None:
        try:
            kind, namespace, name = parse_ref(ref, default_kind=default_kind, default_namespace=entity.namespace)
        except ValueError as exc:
            self.problem(entity, where, str(exc))
            return None
        target = self.entities.get(_ref_text(kind, namespace, name))
        if target is None:
            self.problem(entity, where, self._dangling(ref, kind, namespace, name))
        return target

    def _dangling(self, ref: object, kind: str, namespace: str, name: str) -> str:
        message = f"{ref!r} -> {_ref_text(kind, namespace, name)}: no such entity"
        elsewhere = [r for r in self._by_kind_name.get((kind, name), [])]
        if elsewhere:
            message += f" in namespace {namespace!r} (namespace mismatch? found {', '.join(elsewhere)})"
        elif not _NAME.match(name):
            message += " (not a valid entity name: letters and digits, single - _ . between them, no spaces)"
        return message


# ---------------------------------------------------------------- mapping


class _Mapping:
    """The documented policy: which entity becomes which unit of the organisation."""

    def __init__(self, resolver: _Resolver, system_kind: str) -> None:
        self.r = resolver
        self.system_kind = system_kind
        self.became: list[Became] = []
        self.notes: list[str] = []
        # Who names whom, from both sides: (group ref, field) -> users; user ref -> groups listing it.
        self._named_by: dict[tuple[str, str], list[Entity]] = defaultdict(list)
        for user in resolver.of("user"):
            for name in ("memberOf", "leaderOf"):
                for group in resolver.get(user, name):
                    self._named_by[(group.ref, name)].append(user)
        self._listed_in: dict[str, list[Entity]] = defaultdict(list)
        for group in resolver.of("group"):
            for user in resolver.get(group, "members"):
                self._listed_in[user.ref].append(group)

    def build(self) -> CatalogIn:
        systems = self.r.of(self.system_kind)
        parents = self._group_parents()
        owner_of = {s.ref: self._owner(s) for s in systems}
        domain_of = {s.ref: self._domain(s) for s in systems}
        teams = sorted({g for g in owner_of.values() if g is not None})
        team_group, group_domains, parents = self._place_teams(teams, systems, owner_of, domain_of, parents)
        doc = CatalogIn(domains=self._domains(), groups=self._groups(group_domains, parents),
                        teams=self._teams(teams, team_group), systems=self._systems(systems, owner_of))
        if None in owner_of.values():  # the unowned systems' team, in a group and domain of its own
            doc.groups.append(GroupIn(key=UNOWNED_TEAM, name="Unowned", domain=UNASSIGNED_DOMAIN))
            doc.teams.append(TeamIn(key=UNOWNED_TEAM, name="Unowned (Backstage owner not found)",
                                    group=UNOWNED_TEAM))
        if UNASSIGNED_DOMAIN in {g.domain for g in doc.groups}:
            doc.domains.append(DomainIn(key=UNASSIGNED_DOMAIN, name="Unassigned (no Backstage domain)"))
        return doc

    # -- groups

    def _group_parents(self) -> dict[str, str | None]:
        """Each group's parent: ``spec.parent``, else the first group listing it in ``spec.children``."""
        parents: dict[str, str | None] = {}
        listed: dict[str, list[Entity]] = defaultdict(list)
        for group in self.r.of("group"):
            for child in self.r.get(group, "children"):
                listed[child.ref].append(group)
        for group in self.r.of("group"):
            parent = self.r.first(group, "parent")
            if parent is None and listed[group.ref]:
                parent = listed[group.ref][0]
            for other in listed[group.ref]:
                if other is not parent:
                    self.r.problem(other, "spec.children", f"lists {group.ref}, whose parent is "
                                                           f"{parent.ref if parent else None}; that parent is kept")
            parents[group.ref] = parent.ref if parent else None
        for ref in sorted(parents):  # a cycle is cut where it is found
            chain = group_ancestry(parents, ref)
            last = parents.get(chain[-1])
            if last is not None and last in chain:
                entity = self.r.entities[chain[-1]]
                self.r.problem(entity, "spec.parent", f"cycle in the group hierarchy ({' -> '.join(chain)} -> "
                                                      f"{last}); {entity.ref} is made a top-level group")
                parents[chain[-1]] = None
        return parents

    def _owner(self, system: Entity) -> str | None:
        """The group that owns a system (a User owner: the user's first group); None: unowned."""
        owner = self.r.first(system, "owner")
        if owner is None:  # the dangling ref is already a problem
            self.notes.append(f"{system.ref}: owner not found, placed in the unowned team")
            return None
        if owner.kind == "group":
            return owner.ref
        groups = sorted(g.ref for g in self._groups_of_user(owner))  # a User
        if groups:
            return groups[0]
        self.r.problem(system, "spec.owner", f"owner {owner.ref} is in no group; the system goes to the "
                                             f"unowned team")
        return None

    def _groups_of_user(self, user: Entity) -> list[Entity]:
        groups = list(self.r.get(user, "memberOf"))
        return groups + [g for g in self._listed_in[user.ref] if g not in groups]

    def _people(self, group_ref: str, group_field: str, user_field: str) -> list[str]:
        """Users a group names (members, leader) and users naming the group (memberOf, leaderOf)."""
        group = self.r.entities[group_ref]
        users = self.r.get(group, group_field) + self._named_by[(group_ref, user_field)]
        return sorted({u.key.replace(":", "/", 1) for u in users})

    def _team_group(self, team_ref: str, parents: dict[str, str | None]) -> str:
        parent = parents.get(team_ref)
        if parent is None:
            self.r.problem(self.r.entities[team_ref], "spec.parent",
                           "owns systems but has no parent group; its team is placed in a group of its own")
            return team_ref
        return parent

    def _place_teams(self, teams, systems, owner_of, domain_of, parents):
        """Each team's group (its parent group) and each group's domain (the one most systems below it are
        in). A team whose systems are mostly in another domain than its group gets a group of its own."""
        parents = dict(parents)
        team_group = {t: self._team_group(t, parents) for t in teams}
        domains_of_team: dict[str, list] = defaultdict(list)
        for system in systems:
            domains_of_team[owner_of[system.ref]].append(domain_of[system.ref])
        team_domain = {t: _majority(domains_of_team[t]) for t in teams}
        while True:
            group_domains = _group_domains(systems, owner_of, domain_of, team_group, parents)
            moved = [t for t in teams if team_domain[t] and team_group[t] != t
                     and group_domains[team_group[t]] != team_domain[t]]
            if not moved:
                break
            for team in moved:
                self.notes.append(f"{team}: its systems are mostly in domain {team_domain[team]!r}, its group "
                                  f"{team_group[team]}'s in {group_domains[team_group[team]]!r}: "
                                  f"placed in a group of its own")
                team_group[team], parents[team] = team, None
        for group, domain in group_domains.items():
            if domain is None:
                self.r.problem(self.r.entities[group], "domain",
                               f"none of its systems is in a domain; placed in domain {UNASSIGNED_DOMAIN!r}")
                group_domains[group] = UNASSIGNED_DOMAIN
        return team_group, group_domains, parents

    def _domain(self, system: Entity) -> str | None:
        """The Domain of a system: its own ``spec.domain``, or that of the System it is part of."""
        holder = system if system.kind == "system" else self.r.first(system, "system")
        domain = self.r.first(holder, "domain") if holder is not None else None
        return domain.key if domain is not None else None

    # -- rows

    def _domains(self) -> list[DomainIn]:
        rows = []
        for domain in self.r.of("domain"):
            rows.append(DomainIn(key=domain.key, name=domain.title))
            self.became.append(Became(domain.ref, "domain", domain.key))
        return rows

    def _groups(self, group_domains: dict[str, str], parents: dict[str, str | None]) -> list[GroupIn]:
        rows = []
        # Parents first: SQLite checks each row's parent as it is written.
        for ref, domain in sorted(group_domains.items(), key=lambda item: (len(group_ancestry(parents, item[0])),
                                                                             item[0])):
            entity, parent = self.r.entities[ref], parents.get(ref)
            if parent is not None and group_domains.get(parent) != domain:
                self.notes.append(f"{ref}: its systems are mostly in domain {domain!r}, its parent {parent}'s in "
                                  f"{group_domains.get(parent)!r}: made a top-level group of {domain!r}")
                parent = None
            parent_key = self.r.entities[parent].key if parent else None
            rows.append(GroupIn(key=entity.key, name=entity.title, domain=domain, parent=parent_key))
            self.became.append(Became(ref, "group", entity.key, parent_key or domain))
        return rows

    def _teams(self, teams: list[str], team_group: dict[str, str]) -> list[TeamIn]:
        rows = []
        for ref in teams:
            entity, group_key = self.r.entities[ref], self.r.entities[team_group[ref]].key
            rows.append(TeamIn(key=entity.key, name=entity.title, group=group_key,
                               members=self._people(ref, "members", "memberOf"),
                               leads=self._people(ref, "leader", "leaderOf")))
            self.became.append(Became(ref, "team", entity.key, group_key))
        return rows

    def _systems(self, systems: list[Entity], owner_of: dict[str, str | None]) -> list[SystemIn]:
        ids = self._system_ids(systems)
        deps = self._dependencies(systems)
        rows = []
        for system in systems:
            owner = owner_of[system.ref]
            team = self.r.entities[owner].key if owner else UNOWNED_TEAM
            rows.append(SystemIn(id=ids[system.ref], name=system.title, team=team,
                                 dependencies=[DependencyIn(system=ids[t]) for t in deps[system.ref]],
                                 **self._attributes(system)))
            self.became.append(Became(system.ref, "system", ids[system.ref], team))
        return rows

    def _system_ids(self, systems: list[Entity]) -> dict[str, str]:
        """The entity key, or the ``<prefix>/system-id`` annotation (the SystemID assets are tagged with)."""
        ids: dict[str, str] = {}
        taken: dict[str, str] = {}
        for system in systems:
            wanted = _annotation(system, "system-id")
            if wanted is not None and (not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$", wanted) or wanted in taken):
                why = f"already used by {taken[wanted]}" if wanted in taken else "not a valid SystemID"
                self.r.problem(system, f"metadata.annotations.{PREFIX}/system-id",
                               f"{wanted!r} is {why}; the entity key {system.key!r} is used")
                wanted = None
            ids[system.ref] = wanted or system.key
            taken[ids[system.ref]] = system.ref
        return ids

    def _dependencies(self, systems: list[Entity]) -> dict[str, list[str]]:
        """Sync dependencies between scored systems: ``dependsOn`` / ``dependencyOf``, and each consumed API
        to the components providing it, lifted to the scored kind (a component's System when that is scored)."""
        providers: dict[str, list[Entity]] = defaultdict(list)
        for component in self.r.of("component"):
            for api in self.r.get(component, "providesApis"):
                providers[api.ref].append(component)
        edges: set[tuple[str, str]] = set()
        for entity in self.r.entities.values():
            targets = list(self.r.get(entity, "dependsOn"))
            targets += [p for api in self.r.get(entity, "consumesApis") for p in providers[api.ref]]
            edges |= {(entity.ref, t.ref) for t in targets}
            edges |= {(d.ref, entity.ref) for d in self.r.get(entity, "dependencyOf")}
        scored = {s.ref for s in systems}
        deps: dict[str, set[str]] = defaultdict(set)
        for source, target in edges:
            a, b = self._scored_unit(source), self._scored_unit(target)
            if a in scored and b in scored and a != b:
                deps[a].add(b)
        return {s.ref: sorted(deps[s.ref]) for s in systems}

    def _scored_unit(self, ref: str) -> str | None:
        entity = self.r.entities[ref]
        if entity.kind == self.system_kind:
            return ref
        if self.system_kind == "system":
            holder = self.r.first(entity, "system")
            return holder.ref if holder else None
        return None

    def _attributes(self, system: Entity) -> dict:
        """Tier, public, purchase flow and traffic class: the entity's annotations, else its tags, else those
        of the System it is part of, else the defaults (medium, no, no, derived)."""
        holders = [system] + [h for h in [self.r.first(system, "system")] if h is not None]
        return {"tier": self._choice(holders, "tier", {t: t for t in TIERS}) or DEFAULT_TIER,
                "public": self._flag(holders, "public"),
                "purchase_flow": self._flag(holders, "purchase-flow"),
                "traffic_class": self._choice(holders, "traffic-class", TRAFFIC_CLASSES, tag="traffic")}

    def _choice(self, holders: list[Entity], name: str, accepted: dict[str, str], tag: str | None = None):
        for holder in holders:
            value = _annotation(holder, name)
            if value is not None:
                if value.strip().lower() in accepted:
                    return accepted[value.strip().lower()]
                self.r.problem(holder, f"metadata.annotations.{PREFIX}/{name}",
                               f"{value!r} is not one of {', '.join(accepted.values())}; ignored")
            for value in accepted:
                if f"{TAG_PREFIX}{tag or name}-{value}" in _tags(holder):
                    return accepted[value]
        return None

    def _flag(self, holders: list[Entity], name: str) -> bool:
        for holder in holders:
            value = _annotation(holder, name)
            if value is not None:
                if value.strip().lower() in ("true", "yes", "1", "false", "no", "0"):
                    return value.strip().lower() in ("true", "yes", "1")
                self.r.problem(holder, f"metadata.annotations.{PREFIX}/{name}",
                               f"{value!r} is not true or false; ignored")
            if f"{TAG_PREFIX}{name}" in _tags(holder):
                return True
        return False


def _group_domains(systems, owner_of, domain_of, team_group, parents) -> dict[str, str | None]:
    """Each group in the hierarchy above a team, with the domain most of its systems are in."""
    votes: dict[str, list] = defaultdict(list)
    for system in systems:
        team = owner_of[system.ref]
        if team is not None:
            for group in group_ancestry(parents, team_group[team]):
                votes[group].append(domain_of[system.ref])
    return {group: _majority(domains) for group, domains in sorted(votes.items())}


def _majority(values) -> str | None:
    """The most frequent value that is not None (ties: the first in sort order)."""
    counts = Counter(v for v in values if v is not None)
    return min(counts, key=lambda v: (-counts[v], v)) if counts else None


def _annotation(entity: Entity, name: str) -> str | None:
    annotations = entity.metadata.get("annotations")
    value = annotations.get(f"{PREFIX}/{name}") if isinstance(annotations, dict) else None
    return None if value is None else str(value)


def _tags(entity: Entity) -> set[str]:
    tags = entity.metadata.get("tags")
    return {str(t).lower() for t in tags} if isinstance(tags, list) else set()


# ---------------------------------------------------------------- summary


def summary_text(report: BackstageReport) -> str:
    """The summary a person reads: entities per kind, what became what, every problem, the outcome."""
    cat = report.catalog
    lines = [f"read {sum(cat.entities.values())} entities from {_count(len(cat.files), 'file')}"]
    lines += [f"  {kind}: {count}" for kind, count in cat.entities.items()]
    doc = cat.document
    dependencies = sum(len(s.dependencies) for s in doc.systems)
    lines.append(f"became: {_count(len(doc.domains), 'domain')}, {_count(len(doc.groups), 'group')}, "
                 f"{_count(len(doc.teams), 'team')}, {_count(len(doc.systems), 'system')}, "
                 f"{_count(dependencies, 'dependency', 'dependencies')}")
    lines += [f"  {b.ref} -> {b.level} {b.key}" + (f" (in {b.parent})" if b.parent else "") for b in cat.became]
    lines += [f"note: {note}" for note in cat.notes]
    lines += [f"external (not fetched): {e['target']} ({e['file']}#{e['document']} {e['ref']})" for e in cat.external]
    lines.append(_count(len(cat.problems), "problem"))
    lines += [f"  {problem}" for problem in cat.problems]
    if report.refused:
        lines.append("refused (--strict): nothing written")
    elif report.imported:
        imported = report.imported
        lines.append(f"catalog: {imported.systems} systems ({len(imported.created)} new, {len(imported.retired)} "
                     f"retired), {imported.teams} teams, {imported.groups} groups, {imported.domains} domains, "
                     f"{imported.dependencies} dependencies")
    return "\n".join(lines)


def _count(n: int, one: str, many: str | None = None) -> str:
    """'1 file', '3 files': counts written for a person."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _documents(text: str, origin: str) -> tuple[list[YamlDocument], YamlError | None]:
    """The file's documents, read within the safe reader's limits; on a syntax error, the
    documents before the one that holds it, and the error (a limit refuses the whole file)."""
    try:
        return load_documents(text, origin=origin), None
    except YamlLimitError as exc:
        return [], exc
    except YamlError as exc:
        if not exc.line:
            return [], exc
        lines = text.splitlines(keepends=True)[:exc.line - 1]
        cut = max((i for i, line in enumerate(lines) if line.startswith("---")), default=0)
        try:
            return load_documents("".join(lines[:cut]), origin=origin), exc
        except YamlError:
            return [], exc
