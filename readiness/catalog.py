"""The organisation catalog: parse a systems-registry export, validate it, upsert it.

Two file formats, one model: a YAML document with ``domains``, ``groups``,
``teams`` and ``systems`` lists, or a flat CSV export with one system a row
(hierarchy columns create the domains, groups and teams). See docs/catalog.md.
"""

from __future__ import annotations

import csv
import gc
import io
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from clikit import counted
from readiness.errors import InputError, MassRetirement
from readiness.limits import max_retire_share as max_retire_share_setting
from readiness.models import Dependency, Domain, Group, RoleGrant, System, Team
from readiness.rulekit import SystemView
from storage import YamlError, load_yaml, read_text, session_scope, utcnow

KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DomainIn(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1)
    architects: list[str] = []
    leads: list[str] = []


class GroupIn(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1)
    domain: str
    parent: str | None = None  # the parent group of a sub-group, in the same domain


class TeamIn(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1)
    group: str
    members: list[str] = []
    leads: list[str] = []
    oncall: list[str] = []


class ServiceIn(_Strict):
    name: str = Field(min_length=1)
    endpoint: str = ""
    method: str = "GET"


class DependencyIn(_Strict):
    system: str
    kind: Literal["sync", "async"] = "sync"


class SystemIn(_Strict):
    id: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1)
    team: str
    tier: Literal["critical", "high", "medium", "low"]
    public: bool = False
    purchase_flow: bool = False
    traffic_class: Literal["FLAS", "Baseline"] | None = None
    services: list[ServiceIn] = []
    dependencies: list[DependencyIn] = []

    @field_validator("tier", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value


UserName = Annotated[str, Field(min_length=1, max_length=200)]


class CatalogIn(_Strict):
    company: str = "Company"
    domains: list[DomainIn] = []
    groups: list[GroupIn] = []
    teams: list[TeamIn] = []
    systems: list[SystemIn] = []
    # Central roles; a list given replaces the stored grants, an absent one leaves them.
    readiness_team: list[UserName] | None = None
    admins: list[UserName] | None = None


@dataclass
class ImportReport:
    domains: int
    groups: int
    teams: int
    systems: int
    dependencies: int
    retired: list[str]
    created: list[str]


# ---------------------------------------------------------------- parsing


def load_catalog_file(path: Path) -> CatalogIn:
    """Read a YAML or CSV catalog, naming the file, record and field of every problem."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"file not found: {path}")
    if path.suffix.lower() == ".csv":
        return _load_csv(path)
    if path.suffix.lower() in (".yaml", ".yml", ".json"):
        return _load_yaml(path)
    raise InputError(f"{path}: unknown catalog format {path.suffix!r}; accepted: .yaml, .yml, .json, .csv")


def _load_yaml(path: Path) -> CatalogIn:
    # The garbage collector waits while the document's objects are built: at 10,000
    # systems its repeated passes over them (none of which it could free) took longer
    # than the building, in the YAML reader and in the validation alike.
    with gc_paused():
        try:
            raw = load_yaml(read_text(path), origin=str(path))
        except YamlError as exc:
            raise InputError(str(exc)) from None
        if not isinstance(raw, dict):
            raise InputError(f"{path}: expected a mapping with domains, groups, teams and systems")
        try:
            return CatalogIn.model_validate(raw)
        except ValidationError as exc:
            raise InputError(_describe(exc, raw, path) + _problems_across_valid_records(exc, raw, path)) from None


@contextmanager
def gc_paused() -> Iterator[None]:
    """Cyclic garbage collection off for a block that builds many small acyclic objects (a
    catalog's records, a collection's facts): the collector's scans would be most of its time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _describe(exc: ValidationError, raw: dict, path: Path) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = err["loc"]
        where = ".".join(str(p) for p in loc)
        record = ""
        if len(loc) >= 2 and isinstance(loc[1], int):
            item = (raw.get(loc[0]) or [])[loc[1]]
            if isinstance(item, dict) and ("id" in item or "key" in item):
                record = f" (record {item.get('id') or item.get('key')})"
        problems.append(f"{path}: {where}{record}: {err['msg']}")
    return problems


_LISTS = ("domains", "groups", "teams", "systems")
_PLACE = re.compile(r"\b(domains|groups|teams|systems)\[(\d+)\]")
_UNKNOWN = re.compile(r"unknown (?:domain|group|team|system) '([^']*)'")


def _problems_across_valid_records(exc: ValidationError, raw: dict, path: Path) -> list[str]:
    """The cross-record problems (duplicates, unknown references, cycles) among the records that
    are valid on their own, so a file's problems are all reported at once, not in stages.

    The invalid records are left out; their positions are put back into the messages, and a
    reference to one of them is not reported as unknown (its own problem is already listed).
    """
    invalid: dict[str, set[int]] = {kind: set() for kind in _LISTS}
    for err in exc.errors():
        loc = err["loc"]
        if loc[0] in _LISTS and (len(loc) < 2 or not isinstance(loc[1], int)):
            return []  # a whole list is wrong: nothing to compare across
        if loc[0] in _LISTS:
            invalid[loc[0]].add(loc[1])
    kept = {kind: [i for i in range(len(raw.get(kind) or [])) if i not in invalid[kind]] for kind in _LISTS}
    invalid_keys = {str(item.get("id") or item.get("key")) for kind in _LISTS for i, item in enumerate(raw.get(kind) or [])
                    if i in invalid[kind] and isinstance(item, dict)}
    try:
        partial = CatalogIn.model_validate({**{k: v for k, v in raw.items() if k in CatalogIn.model_fields},
                                            **{kind: [raw[kind][i] for i in kept[kind]] for kind in _LISTS if raw.get(kind)}})
        validate_catalog(partial, str(path))
    except (ValidationError, InputError) as problem:
        found = getattr(problem, "problems", [])
    else:
        found = []

    def position_in_file(match: re.Match) -> str:
        return f"{match.group(1)}[{kept[match.group(1)][int(match.group(2))]}]"

    return [_PLACE.sub(position_in_file, p) for p in found
            if not any(key in invalid_keys for key in _UNKNOWN.findall(p))]


CSV_COLUMNS = ("system_id", "name", "domain", "group", "team", "tier")
CSV_OPTIONAL = ("public", "purchase_flow", "traffic_class", "services", "dependencies",
                "domain_name", "group_name", "team_name", "architects", "members")


def _load_csv(path: Path) -> CatalogIn:
    """Every problem of the file at once: each row's, then those across rows (each naming its lines)."""
    try:
        text = read_text(path).removeprefix("\ufeff")  # a byte-order mark some spreadsheets write
    except YamlError as exc:  # not UTF-8, or above the size limit: named by file and line
        raise InputError(str(exc)) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise InputError(f"{path}:1: missing {counted(len(missing), 'column')} {missing}; required: {list(CSV_COLUMNS)}")
    unknown = [c for c in header if c not in CSV_COLUMNS + CSV_OPTIONAL]
    if unknown:
        raise InputError(f"{path}:1: unknown {counted(len(unknown), 'column')} {unknown}; accepted: "
                         f"{list(CSV_COLUMNS + CSV_OPTIONAL)}")
    rows = list(enumerate(reader, start=2))
    domains: dict[str, DomainIn] = {}
    groups: dict[str, GroupIn] = {}
    teams: dict[str, TeamIn] = {}
    systems: list[SystemIn] = []
    problems: list[str] = []
    for line, row in rows:
        try:
            domains.setdefault(row["domain"], DomainIn(
                key=row["domain"], name=row.get("domain_name") or row["domain"],
                architects=_split(row.get("architects"))))
            groups.setdefault(row["group"], GroupIn(
                key=row["group"], name=row.get("group_name") or row["group"], domain=row["domain"]))
            teams.setdefault(row["team"], TeamIn(
                key=row["team"], name=row.get("team_name") or row["team"], group=row["group"],
                members=_split(row.get("members"))))
            systems.append(SystemIn(
                id=row["system_id"], name=row["name"], team=row["team"], tier=row["tier"],
                public=_bool(row.get("public"), "public"),
                purchase_flow=_bool(row.get("purchase_flow"), "purchase_flow"),
                traffic_class=row.get("traffic_class") or None,
                services=[ServiceIn(name=s) for s in _split(row.get("services"))],
                dependencies=[_csv_dependency(d) for d in _split(row.get("dependencies"))]))
        except ValidationError as exc:
            for err in exc.errors():
                field = ".".join(str(p) for p in err["loc"])
                problems.append(f"{path}:{line}: record {row.get('system_id')!r}: field {field}: {err['msg']}")
        except ValueError as exc:
            problems.append(f"{path}:{line}: record {row.get('system_id')!r}: {exc}")
    problems += _csv_conflicts(path, rows)
    if problems:
        raise InputError(problems)
    return CatalogIn(domains=list(domains.values()), groups=list(groups.values()),
                     teams=list(teams.values()), systems=systems)


def _csv_conflicts(path: Path, rows: list[tuple[int, dict]]) -> list[str]:
    """Problems across rows: a group in two domains, a team in two groups, a system id twice,
    a dependency on a system no row has. Each names the lines involved."""
    problems: list[str] = []
    first: dict[tuple[str, str], tuple[int, str]] = {}  # (column, key) -> (line, the value it had there)
    for line, row in rows:
        where = f"{path}:{line}: record {row.get('system_id')!r}"
        for column, parent in (("group", "domain"), ("team", "group"), ("system_id", None)):
            key = (row.get(column) or "").strip()
            value = (row.get(parent) or "").strip() if parent else ""
            seen_line, seen_value = first.setdefault((column, key), (line, value))
            if seen_line == line or not key:
                continue
            if parent is None:
                problems.append(f"{where}: field system_id: duplicate system id {key!r}, also on line {seen_line}")
            elif seen_value != value:
                problems.append(f"{where}: field {parent}: {column} {key!r} is in {parent} {value!r} here "
                                f"but in {parent} {seen_value!r} on line {seen_line}; a {column} belongs to one {parent}")
    known = {key for column, key in first if column == "system_id"}
    for line, row in rows:
        for index, text in enumerate(_split(row.get("dependencies"))):
            target = text.partition(":")[0].strip()
            if target and target not in known:
                problems.append(f"{path}:{line}: record {row.get('system_id')!r}: field dependencies[{index}]: "
                                f"unknown system {target!r} (no row has it as system_id)")
    return problems


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(";") if part.strip()]


def _bool(value: str | None, field: str) -> bool:
    text = (value or "").strip().lower()
    if text in ("", "false", "no", "0", "n"):
        return False
    if text in ("true", "yes", "1", "y"):
        return True
    raise ValueError(f"field {field}: {value!r} is not a boolean (accepted: true/false, yes/no, 1/0)")


def _csv_dependency(text: str) -> DependencyIn:
    target, _, kind = text.partition(":")
    return DependencyIn(system=target.strip(), kind=(kind.strip() or "sync"))


# ---------------------------------------------------------------- validation


def validate_catalog(doc: CatalogIn, origin: str = "catalog") -> None:
    """Cross-record checks: duplicates, unknown references, hierarchy shape."""
    problems: list[str] = []
    for kind, keys in (("domain", [d.key for d in doc.domains]), ("group", [g.key for g in doc.groups]),
                       ("team", [t.key for t in doc.teams]), ("system", [s.id for s in doc.systems])):
        seen: set[str] = set()
        for index, key in enumerate(keys):
            if key in seen:
                problems.append(f"{origin}: {kind}s[{index}]: duplicate {kind} id {key!r}")
            seen.add(key)
    domain_keys = {d.key for d in doc.domains}
    group_keys = {g.key for g in doc.groups}
    team_keys = {t.key for t in doc.teams}
    system_ids = {s.id for s in doc.systems}
    for index, group in enumerate(doc.groups):
        if group.domain not in domain_keys:
            problems.append(f"{origin}: groups[{index}] (record {group.key}): field domain: unknown domain {group.domain!r}")
    for index, team in enumerate(doc.teams):
        if team.group not in group_keys:
            problems.append(f"{origin}: teams[{index}] (record {team.key}): field group: unknown group {team.group!r}")
    for index, system in enumerate(doc.systems):
        if system.team not in team_keys:
            problems.append(f"{origin}: systems[{index}] (record {system.id}): field team: unknown team {system.team!r}")
        for dep_index, dep in enumerate(system.dependencies):
            if dep.system not in system_ids:
                problems.append(f"{origin}: systems[{index}] (record {system.id}): field dependencies[{dep_index}].system: "
                                f"unknown system {dep.system!r}")
            elif dep.system == system.id:
                problems.append(f"{origin}: systems[{index}] (record {system.id}): depends on itself")
    problems += _hierarchy_cycles(doc, origin)
    if problems:
        raise InputError(problems)


def _hierarchy_cycles(doc: CatalogIn, origin: str) -> list[str]:
    """Sub-groups must form a tree inside their domain: no cycles, no unknown or foreign parents."""
    import networkx as nx  # only an import needs it: reads skip its 0.2 s

    groups = {g.key: g for g in doc.groups}
    problems = []
    graph = nx.DiGraph()
    for index, group in enumerate(doc.groups):
        if group.parent is None:
            continue
        parent = groups.get(group.parent)
        where = f"{origin}: groups[{index}] (record {group.key}): field parent"
        if parent is None:
            problems.append(f"{where}: unknown group {group.parent!r}")
        elif parent.domain != group.domain:
            problems.append(f"{where}: parent {parent.key!r} is in domain {parent.domain!r}, not {group.domain!r}")
        else:
            graph.add_edge(group.key, group.parent)
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return problems
    chain = " -> ".join(f"group {child}" for child, _ in cycle) + f" -> group {cycle[0][0]}"
    return problems + [f"{origin}: cycle in the hierarchy: {chain}"]


def group_ancestry(parents: dict[str, str | None], group: str) -> list[str]:
    """The group and every group above it, nearest first."""
    chain = []
    while group is not None and group not in chain:
        chain.append(group)
        group = parents.get(group)
    return chain


def derive_traffic_classes(doc: CatalogIn) -> dict[str, str]:
    """FLAS for purchase-flow systems and everything they reach synchronously.

    A surge at the purchase-flow entry points arrives at those systems within
    the same two minutes; an explicit ``traffic_class`` in the file wins.
    """
    import networkx as nx  # only an import needs it: reads skip its 0.2 s

    graph = nx.DiGraph()
    graph.add_nodes_from(s.id for s in doc.systems)
    for system in doc.systems:
        for dep in system.dependencies:
            if dep.kind == "sync":
                graph.add_edge(system.id, dep.system)
    flas: set[str] = set()
    for system in doc.systems:
        if system.purchase_flow:
            flas.add(system.id)
            flas |= nx.descendants(graph, system.id)
    return {s.id: s.traffic_class or ("FLAS" if s.id in flas else "Baseline") for s in doc.systems}


# ---------------------------------------------------------------- import


@dataclass(frozen=True)
class RoleChange:
    """A central role the catalog import granted (``granted``) or removed."""

    user: str
    role: str
    granted: bool


# f(session, changes, *, now, actor): called in the import's transaction (the audit log records them).
RoleHook = Callable[..., None]


def import_catalog(engine: Engine, doc: CatalogIn, *, origin: str = "catalog",
                   role_hooks: Sequence[RoleHook] = (), allow_retire: bool = False,
                   max_retire_share: float | None = None) -> ImportReport:
    """Write the whole catalog in one transaction; systems that disappeared are retired.

    Set-based: each table is read once, then new rows are inserted and changed
    rows updated in batches, so re-importing an unchanged catalog writes nothing.
    Each of ``role_hooks`` sees the central role changes in the same transaction.
    Retiring more than ``max_retire_share`` of the active systems (default 10%, at
    least one system) is refused with MassRetirement, nothing written, unless
    ``allow_retire``: a truncated export must not retire the organisation.
    """
    validate_catalog(doc, origin)
    share = max_retire_share_setting(max_retire_share)
    classes = derive_traffic_classes(doc)
    now = utcnow()
    with session_scope(engine) as session:
        connection = session.connection()
        if not allow_retire:
            _refuse_mass_retirement(connection, {s.id for s in doc.systems}, share, origin)
        # Parents before children: SQLite checks each foreign key as the row is written.
        _sync_rows(connection, Domain, "key", [
            {"key": d.key, "name": d.name, "architects": d.architects, "leads": d.leads, "retired": False}
            for d in doc.domains], retire={"retired": True})
        _sync_rows(connection, Group, "key", [
            {"key": g.key, "name": g.name, "domain_key": g.domain, "parent_key": g.parent, "retired": False}
            for g in doc.groups], retire={"retired": True})
        _sync_rows(connection, Team, "key", [
            {"key": t.key, "name": t.name, "group_key": t.group, "members": t.members,
             "leads": t.leads, "oncall": t.oncall, "retired": False} for t in doc.teams], retire={"retired": True})
        stored_systems, retired = _sync_rows(connection, System, "system_id", [
            {"system_id": s.id, "name": s.name, "team_key": s.team, "tier": s.tier, "public": s.public,
             "purchase_flow": s.purchase_flow, "traffic_class": classes[s.id],
             "services": [svc.model_dump() for svc in s.services], "retired": False, "retired_at": None}
            for s in doc.systems], retire={"retired": True, "retired_at": now})
        dependencies = _sync_dependencies(connection, doc)
        changes = _sync_roles(session, doc, now, origin)
        for hook in role_hooks:
            hook(session, changes, now=now, actor=f"catalog import {origin}")
    return ImportReport(domains=len(doc.domains), groups=len(doc.groups), teams=len(doc.teams),
                        systems=len(doc.systems), dependencies=dependencies, retired=retired,
                        created=sorted({s.id for s in doc.systems} - stored_systems))


def _refuse_mass_retirement(connection: Connection, listed: set[str], share: float, origin: str) -> None:
    system = System.__table__.c
    active = set(connection.execute(select(system.system_id).where(system.retired == False)).scalars())  # noqa: E712
    leaving = len(active - listed)
    if leaving > max(1, int(share * len(active))):
        raise MassRetirement(leaving=leaving, active=len(active), share=share, origin=origin)


def _sync_rows(connection: Connection, model: type[SQLModel], key: str, rows: list[dict], *,
               retire: dict) -> tuple[set[str], list[str]]:
    """Insert the new rows, update the changed ones (a retired row coming back is one),
    and set ``retire`` on stored rows missing from ``rows`` that are not retired yet.

    Returns the keys stored before and, sorted, the keys retired now.
    """
    table = model.__table__
    stored = {row[key]: row for row in connection.execute(select(table)).mappings()}
    wanted = {row[key] for row in rows}
    new = [row for row in rows if row[key] not in stored]
    changed = [row for row in rows if row[key] in stored and _differs(stored[row[key]], row)]
    retired = sorted(k for k, row in stored.items() if k not in wanted and not row["retired"])
    if new:
        connection.execute(insert(table), new)
    _update_rows(connection, table, key, changed)
    _update_rows(connection, table, key, [{key: k, **retire} for k in retired])
    return set(stored), retired


def _differs(stored, row: dict) -> bool:
    return any(stored[column] != value for column, value in row.items())


def _update_rows(connection: Connection, table, key: str, rows: list[dict]) -> None:
    """One executemany UPDATE by primary key; every row must name the same columns."""
    if not rows:
        return
    statement = update(table).where(table.c[key] == bindparam("where_key"))
    connection.execute(statement, [{**{c: v for c, v in row.items() if c != key}, "where_key": row[key]}
                                   for row in rows])


def _sync_dependencies(connection: Connection, doc: CatalogIn) -> int:
    """Make the stored dependencies of the systems in the file match it; returns how many it lists.

    Those of systems no longer in the file stay as they were. A target named twice
    counts once, with the kind given last.
    """
    table = Dependency.__table__
    present = {s.id for s in doc.systems}
    wanted = {(s.id, d.system): d.kind for s in doc.systems for d in s.dependencies}
    stored = {(source, target): kind
              for source, target, kind in connection.execute(select(table.c.source_id, table.c.target_id, table.c.kind))
              if source in present}
    pair = (table.c.source_id == bindparam("where_source")) & (table.c.target_id == bindparam("where_target"))
    gone = [{"where_source": s, "where_target": t} for s, t in stored.keys() - wanted.keys()]
    if gone:
        connection.execute(delete(table).where(pair), gone)
    new = [{"source_id": s, "target_id": t, "kind": kind} for (s, t), kind in wanted.items() if (s, t) not in stored]
    if new:
        connection.execute(insert(table), new)
    changed = [{"where_source": s, "where_target": t, "kind": kind}
               for (s, t), kind in wanted.items() if stored.get((s, t), kind) != kind]
    if changed:
        connection.execute(update(table).where(pair), changed)
    return len(wanted)


def _sync_roles(session, doc: CatalogIn, now, origin: str) -> list[RoleChange]:
    """Make the stored central role grants match the document's lists; returns the changes."""
    changes = []
    for role, users in (("readiness_team", doc.readiness_team), ("admin", doc.admins)):
        if users is None:
            continue
        stored = {g.user_name: g for g in session.exec(select(RoleGrant).where(RoleGrant.role == role)).scalars()}
        wanted = set(users)
        for user in sorted(wanted - stored.keys()):
            session.add(RoleGrant(user_name=user, role=role, granted_at=now, origin=origin))
            changes.append(RoleChange(user, role, granted=True))
        for user in sorted(stored.keys() - wanted):
            session.delete(stored[user])
            changes.append(RoleChange(user, role, granted=False))
    return changes


# ---------------------------------------------------------------- queries


@dataclass(frozen=True)
class OrgUnit:
    level: str
    key: str
    name: str
    parent_key: str | None
    parent_level: str | None = None  # a group's parent is its parent group, else its domain


def active_systems(engine: Engine) -> list[SystemView]:
    """Every system in service, with its team, domain and dependencies, sorted by id."""
    system, team, group, dependency = (System.__table__.c, Team.__table__.c, Group.__table__.c,
                                       Dependency.__table__.c)
    # Plain rows, not ORM objects: every evaluation reads all systems (10,000 in the benchmark).
    query = (select(system.system_id, system.name, system.tier, system.traffic_class, system.public,
                    system.purchase_flow, system.team_key, group.domain_key, system.services)
             .join(Team.__table__, team.key == system.team_key).join(Group.__table__, group.key == team.group_key)
             .where(system.retired == False).order_by(system.system_id))  # noqa: E712
    with engine.connect() as connection:
        deps: dict[str, list[tuple[str, str]]] = {}
        for source_id, target_id, kind in connection.execute(
                select(dependency.source_id, dependency.target_id, dependency.kind)).all():
            deps.setdefault(source_id, []).append((target_id, kind))
        return [
            SystemView(system_id=sid, name=name, tier=tier, traffic_class=traffic_class, public=public,
                       purchase_flow=purchase_flow, team=team_key, domain=domain, services=tuple(services),
                       dependencies=tuple(sorted(deps.get(sid, []))))
            for sid, name, tier, traffic_class, public, purchase_flow, team_key, domain, services
            in connection.execute(query).all()  # one fetch: row by row costs a fifth of the read
        ]


def active_system_ids(engine: Engine) -> list[str]:
    """The ids of the systems in service, sorted: one column, for callers that need no more."""
    with engine.connect() as connection:
        return connection.execute(select(System.system_id).where(System.retired == False)  # noqa: E712
                                  .order_by(System.system_id)).scalars().all()


def org_units(engine: Engine) -> list[OrgUnit]:
    """Domains, groups and teams in service, each with its parent's key."""
    domain, group, team = Domain.__table__.c, Group.__table__.c, Team.__table__.c
    with engine.connect() as connection:  # plain rows: every evaluation reads them all (5,000 at 10,000 systems)
        units = [OrgUnit("domain", key, name, None, None) for key, name in connection.execute(
            select(domain.key, domain.name).where(domain.retired == False))]  # noqa: E712
        units += [OrgUnit("group", key, name, parent or domain_key, "group" if parent else "domain")
                  for key, name, parent, domain_key in connection.execute(
                      select(group.key, group.name, group.parent_key, group.domain_key)
                      .where(group.retired == False))]  # noqa: E712
        units += [OrgUnit("team", key, name, group_key, "group") for key, name, group_key in connection.execute(
            select(team.key, team.name, team.group_key).where(team.retired == False))]  # noqa: E712
    return units


def central_roles(engine: Engine) -> dict[str, set[str]]:
    """The central roles (``readiness_team``, ``admin``) by user name: a handful of rows."""
    roles: dict[str, set[str]] = {}
    with engine.connect() as connection:
        for user, role in connection.execute(select(RoleGrant.user_name, RoleGrant.role)):
            roles.setdefault(user, set()).add(role)
    return roles


@dataclass(frozen=True)
class SystemPeople:
    """One system (retired or not) and who answers for it: its team's owners, its domain's architects."""

    system_id: str
    team: str
    domain: str
    tier: str
    retired: bool
    owners: tuple[str, ...]  # members and leads of its team
    architects: tuple[str, ...]


def system_people(engine: Engine, system_id: str) -> SystemPeople | None:
    with session_scope(engine) as session:
        system = session.get(System, system_id)
        if system is None:
            return None
        team = session.get(Team, system.team_key)
        domain = session.get(Domain, session.get(Group, team.group_key).domain_key)
        return SystemPeople(system.system_id, team.key, domain.key, system.tier, system.retired,
                            tuple(dict.fromkeys([*team.members, *team.leads])), tuple(domain.architects))


def domain_architects(engine: Engine) -> dict[str, tuple[str, ...]]:
    """Each domain's architects, in the catalog's order."""
    with session_scope(engine) as session:
        return {d.key: tuple(d.architects) for d in session.exec(select(Domain)).scalars()}


def get_system(engine: Engine, system_id: str) -> System | None:
    with session_scope(engine) as session:
        return session.get(System, system_id)


@dataclass(frozen=True)
class TeamContacts:
    team: str
    name: str
    leads: tuple[str, ...]
    oncall: tuple[str, ...]
    members: tuple[str, ...]


def team_contacts(engine: Engine) -> dict[str, TeamContacts]:
    """Who to reach per active team: accountable leads, on-call, all members."""
    with session_scope(engine) as session:
        teams = session.exec(select(Team).where(Team.retired == False)).scalars()  # noqa: E712
        return {t.key: TeamContacts(t.key, t.name, tuple(t.leads), tuple(t.oncall), tuple(t.members))
                for t in teams}


@dataclass(frozen=True)
class Ownership:
    """Who answers for what, retired units included (flagged): system -> (team, domain),
    and per team (members, leads) and per domain (architects, leads)."""

    systems: dict[str, tuple[str, str | None]]
    teams: dict[str, dict]  # key -> name, domain, members, leads, retired
    domains: dict[str, dict]  # key -> name, architects, leads, retired


def ownership(engine: Engine) -> Ownership:
    with session_scope(engine) as session:
        groups = {g.key: g.domain_key for g in session.execute(select(Group)).scalars()}
        teams = {t.key: {"name": t.name, "group": t.group_key, "domain": groups.get(t.group_key), "members": list(t.members),
                         "leads": list(t.leads), "retired": t.retired}
                 for t in session.execute(select(Team)).scalars()}
        domains = {d.key: {"name": d.name, "architects": list(d.architects), "leads": list(d.leads),
                           "retired": d.retired} for d in session.execute(select(Domain)).scalars()}
        systems = {s.system_id: (s.team_key, teams[s.team_key]["domain"])
                   for s in session.execute(select(System)).scalars()}
    return Ownership(systems, teams, domains)


def people(engine: Engine) -> dict[str, set[str]]:
    """Roles by user name from the catalog: ``owner:<team>`` (members and leads),
    ``architect:<domain>``, and the central ``readiness_team`` and ``admin`` roles."""
    roles: dict[str, set[str]] = {}
    with session_scope(engine) as session:
        for team in session.exec(select(Team)).scalars():
            for user in set(team.members) | set(team.leads):
                roles.setdefault(user, set()).add(f"owner:{team.key}")
        for domain in session.exec(select(Domain)).scalars():
            for user in domain.architects:
                roles.setdefault(user, set()).add(f"architect:{domain.key}")
        for grant in session.exec(select(RoleGrant)).scalars():
            roles.setdefault(grant.user_name, set()).add(grant.role)  # readiness_team | admin
    return roles


