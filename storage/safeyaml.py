"""The one YAML reader for files from outside: catalogs, inventories, manifests, test plans.

A YAML file is data someone else wrote, so reading it has limits: its size, how
deep it nests, and how far its aliases may expand it. PyYAML's safe loader shares
an aliased object instead of copying it, so a 600-byte "billion laughs" file loads
quickly, but everything that walks the result afterwards (validation, JSON for the
database, template checks) sees hundreds of millions of nodes. Aliases stay
allowed (anchors and merge keys are ordinary in manifests and catalogs) but the
document they expand to must stay within a budget; a recursive alias is refused.
Every refusal is a :class:`YamlLimitError` naming the file and line.

Plain documents (no alias, tag or date) are built straight from libyaml's node
tree, several times faster than PyYAML's constructor on a 10,000-system catalog;
anything else goes to PyYAML's SafeConstructor, so results and errors stay its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.constructor import SafeConstructor

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster on large exports

MAX_BYTES = 256 * 1024 * 1024  # a 10,000-system catalog is 5 MB
MAX_DEPTH = 100  # mappings and lists inside each other; manifests need about 15
MAX_NODES = 20_000_000  # nodes once aliases are expanded; a 10,000-system catalog has about 600,000
ALIAS_FLOOR = 100_000  # aliases may always expand a document to this many nodes...
ALIAS_RATIO = 10  # ...or to this many times the nodes written out, whichever is more


class YamlError(ValueError):
    """A YAML file that cannot be read: ``origin`` (the file), ``line`` (1-based, or None), ``problem``."""

    def __init__(self, origin: str, line: int | None, problem: str):
        self.origin, self.line, self.problem = origin, line, problem
        super().__init__(f"{origin}:{line}: {problem}" if line is not None else f"{origin}: {problem}")


class YamlLimitError(YamlError):
    """Valid YAML beyond a limit (size, depth, alias expansion): refused before anything uses it."""


@dataclass(frozen=True)
class YamlDocument:
    index: int  # 0-based position in a multi-document file
    line: int  # 1-based line where the document starts
    data: object
    node: yaml.Node | None  # the node tree, for callers that point at lines of fields


def read_text(path: Path, *, max_bytes: int = MAX_BYTES) -> str:
    """A file's UTF-8 text; too large or not UTF-8 is a :class:`YamlLimitError` / :class:`YamlError`."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise YamlLimitError(str(path), None, f"file is {size:,} bytes, above the limit of {max_bytes:,}")
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise YamlError(str(path), line, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                                         "save the file as UTF-8") from None


CONFIG_MAX_BYTES = 1_000_000  # a settings file (serve config, users, routing, events) is a few kilobytes


def read_config(path: Path, *, max_bytes: int = CONFIG_MAX_BYTES) -> object:
    """A settings file's single YAML document (None when empty), within the limits and at most 1 MB."""
    return load_yaml(read_text(path, max_bytes=max_bytes), origin=str(path))


def load_yaml(text: str, *, origin: str) -> object:
    """The single document in ``text`` (None when empty), within the limits."""
    return load_document(text, origin=origin).data


def load_document(text: str, *, origin: str) -> YamlDocument:
    """The single document in ``text`` with its node tree; more than one document is an error."""
    documents = load_documents(text, origin=origin)
    if len(documents) > 1:
        raise YamlError(origin, documents[1].line, "expected one YAML document, found several (a second `---`)")
    return documents[0] if documents else YamlDocument(0, 1, None, None)


def load_documents(text: str, *, origin: str) -> list[YamlDocument]:
    """Every document in ``text`` (multi-document files), within the limits taken together."""
    _check_size(text, origin)
    loader = SafeLoader(text)
    budget = _Budget(origin)
    documents = []
    try:
        while loader.check_node():
            node = loader.get_node()
            data = _construct(loader, node, budget)
            documents.append(YamlDocument(len(documents), node.start_mark.line + 1, data, node))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlError(origin, mark.line + 1 if mark else None,
                        f"invalid YAML: {exc.problem or exc.context or exc}") from None
    except yaml.YAMLError as exc:
        raise YamlError(origin, None, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    return documents


def _check_size(text: str, origin: str) -> None:
    # A character is at most 4 bytes in UTF-8: only a text near the limit needs encoding to tell.
    if len(text) > MAX_BYTES or (len(text) > MAX_BYTES // 4 and len(text.encode("utf-8")) > MAX_BYTES):
        raise YamlLimitError(origin, None, f"document is above the limit of {MAX_BYTES:,} bytes")


class _Budget:
    """Nodes counted so far in one file (documents together), expanded and as written."""

    def __init__(self, origin: str):
        self.origin = origin
        self.written = 0
        self.expanded = 0

    def add(self, written: int, expanded: int, sizes: dict[int, tuple[yaml.Node, int]] | None = None) -> None:
        """Count one document; ``sizes`` (expanded size per node) points the error at the anchor that grew too much."""
        self.written += written
        self.expanded += expanded
        allowed = min(MAX_NODES, max(ALIAS_FLOOR, ALIAS_RATIO * self.written))
        if self.expanded > allowed:
            over = [(size, node) for node, size in (sizes or {}).values() if size > allowed]
            line = min(over, key=lambda pair: pair[0])[1].start_mark.line + 1 if over else None
            raise YamlLimitError(self.origin, line,
                                 f"aliases expand the document to more than {allowed:,} nodes "
                                 f"({self.written:,} written); expand them in the file or remove them")


# ---------------------------------------------------------------- construction


_STR, _SEQ, _MAP = (f"tag:yaml.org,2002:{kind}" for kind in ("str", "seq", "map"))
_PLAIN_SCALARS = tuple(f"tag:yaml.org,2002:{kind}" for kind in ("null", "bool", "int", "float"))


class _Unusual(Exception):
    """A node the fast path leaves to PyYAML's constructor: an alias, a merge key, a tag, a date..."""


def _construct(loader: SafeConstructor, node: yaml.Node, budget: _Budget) -> object:
    # The node tree dies when this returns; callers that read a large file pause the
    # garbage collector around it so its passes do not walk the tree.
    plain = _Plain(loader, budget.origin)
    try:
        value = plain.value(node, 1)
    except _Unusual:
        sizes = _measure(node, budget.origin)
        budget.add(len(sizes), sizes[id(node)][1], sizes)
        return loader.construct_document(node)
    budget.add(plain.count, plain.count)
    return value


class _Plain:
    """Builds plain strings, numbers, booleans, nulls, lists and mappings from the nodes, counting them."""

    def __init__(self, loader: SafeConstructor, origin: str):
        self.loader, self.origin = loader, origin
        self.count = 0
        self.seen: set[int] = set()

    def value(self, node: yaml.Node, depth: int) -> object:
        self.count += 1
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _STR:
                return node.value
            if node.tag in _PLAIN_SCALARS:  # the resolver's YAML 1.1 verdict: yes/no are booleans, ~ is null
                return self.loader.yaml_constructors[node.tag](self.loader, node)
            raise _Unusual
        if depth > MAX_DEPTH:
            raise _too_deep(self.origin, node)
        if id(node) in self.seen:  # an alias: PyYAML shares the object (and handles recursion)
            raise _Unusual
        self.seen.add(id(node))
        if node.tag == _SEQ and isinstance(node, yaml.SequenceNode):
            return [self.value(item, depth + 1) for item in node.value]
        if node.tag == _MAP and isinstance(node, yaml.MappingNode):
            mapping = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):  # a list or mapping as a key: unhashable
                    raise _Unusual
                mapping[self.value(key_node, depth + 1)] = self.value(value_node, depth + 1)
            return mapping
        raise _Unusual


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    return []


def _measure(root: yaml.Node, origin: str) -> dict[int, tuple[yaml.Node, int]]:
    """Each distinct node (by id) with its size once every alias in it is expanded, expanding nothing.

    Each distinct node is visited once (iteratively: a deep file cannot exhaust the
    stack); its expanded size is one plus its children's. A node met again below
    itself is a recursive alias, which would expand without end.
    """
    sizes: dict[int, tuple[yaml.Node, int]] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, finished = stack.pop()
        key = id(node)
        if finished:
            open_nodes.discard(key)
            sizes[key] = node, 1 + sum(sizes[id(child)][1] for child in _children(node))
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise YamlLimitError(origin, node.start_mark.line + 1, "a recursive alias (a node that contains itself)")
        if depth > MAX_DEPTH and _children(node):
            raise _too_deep(origin, node)
        open_nodes.add(key)
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in _children(node) if id(child) not in sizes)
    return sizes


def _too_deep(origin: str, node: yaml.Node) -> YamlLimitError:
    return YamlLimitError(origin, node.start_mark.line + 1, f"nested more than {MAX_DEPTH} levels deep")
