"""A commit's concrete change, as sets of quads, and its RDF Patch form (https://afs.github.io/rdf-patch/).

A quad is `(subject, predicate, object, graph)` in rdflib terms; the graph is None for the
default graph. A Delta is *concrete*: it removes only quads that were there and adds only quads
that were not, so applying it is idempotent and its inverse undoes it exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeVar

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from graph.errors import DiploKGError

Quad = tuple[Node, Node, Node, URIRef | None]


class PatchError(DiploKGError):
    """An RDF Patch that does not parse (a corrupt change log)."""


@dataclass(frozen=True)
class Delta:
    """Quads removed and quads added by one commit (disjoint sets)."""

    removed: frozenset[Quad] = field(default_factory=frozenset)
    added: frozenset[Quad] = field(default_factory=frozenset)

    def __bool__(self) -> bool:
        return bool(self.removed or self.added)

    @cached_property
    def ordered(self) -> tuple[tuple[tuple[str, Quad], ...], tuple[tuple[str, Quad], ...]]:
        """The removed quads, then the added ones, each with its N-Quads line and sorted by it
        (the commit record, the log and the patch text all write them so: worked out once)."""
        return _by_line(self.removed), _by_line(self.added)

    def inverse(self) -> Delta:
        return Delta(removed=self.added, added=self.removed)

    def graphs(self) -> set[URIRef | None]:
        return {q[3] for q in self.removed} | {q[3] for q in self.added}

    def nodes(self) -> set[Node]:
        """The subjects, and the objects that are IRIs or blank nodes, of every quad changed."""
        found: set[Node] = set()
        for s, _, o, _ in (*self.removed, *self.added):
            found.add(s)
            if not isinstance(o, Literal):
                found.add(o)
        return found

    def predicates(self) -> set[Node]:
        return {q[1] for q in self.removed} | {q[1] for q in self.added}


def nt(term: Node | None) -> str:
    """A term in N-Triples syntax (the graph None is the default graph: empty)."""
    if term is None:
        return ""
    found = _NT.get(term)
    if found is None:
        found = str(to_ox(term))
        if _worth_keeping(term):
            _keep(_NT, term, found)
    return found


def quad_line(quad: Quad) -> str:
    s, p, o, g = quad
    graph = f" {nt(g)}" if g is not None else ""
    return f"{nt(s)} {nt(p)} {nt(o)}{graph} ."


def sorted_quads(quads: Iterable[Quad]) -> list[Quad]:
    """Quads in a stable order (by their N-Quads lines)."""
    return [q for _, q in _by_line(quads)]


def _by_line(quads: Iterable[Quad]) -> tuple[tuple[str, Quad], ...]:
    return tuple(sorted(((quad_line(q), q) for q in quads), key=lambda pair: pair[0]))


@dataclass(frozen=True)
class Patch:
    """One change-log entry: its header (id, previous id) and its operations in order."""

    id: str
    previous: str | None
    #: ("D" | "A", quad), removals first.
    operations: tuple[tuple[str, Quad], ...]
    #: Each operation's N-Quads line, when known already (not part of the patch's identity).
    lines: tuple[str, ...] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, id: str, previous: str | None, delta: Delta, extra: Iterable[Quad] = ()) -> Patch:
        removed, added = delta.ordered
        more = [(quad_line(q), q) for q in extra]
        ops = [("D", q) for _, q in removed] + [("A", q) for _, q in (*added, *more)]
        lines = [line for line, _ in (*removed, *added, *more)]
        return cls(id, previous, tuple(ops), tuple(lines))

    def text(self) -> str:
        lines = [f"H id <{self.id}> ."]
        if self.previous:
            lines.append(f"H prev <{self.previous}> .")
        lines.append("TX .")
        if self.lines is not None:
            lines += [
                f"{op} {line}" for (op, _), line in zip(self.operations, self.lines, strict=True)
            ]
        else:
            lines += [f"{op} {quad_line(q)}" for op, q in self.operations]
        lines.append("TC .")
        return "\n".join(lines) + "\n"

    def delta(self, graphs: Iterable[URIRef] = ()) -> Delta:
        """The data change (quads in `graphs`, the commit's own records, left out)."""
        skip = set(graphs)
        removed = frozenset(q for op, q in self.operations if op == "D" and q[3] not in skip)
        added = frozenset(q for op, q in self.operations if op == "A" and q[3] not in skip)
        return Delta(removed, added)


def parse_patches(text: str) -> Iterator[Patch]:
    """The complete entries of a change log, in order (a torn last entry, without `TC`, is
    not yielded: see `complete_length`)."""
    header: dict[str, str] = {}
    ops: list[tuple[str, str]] = []
    open_tx = False
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        code, _, rest = line.partition(" ")
        if code == "H":
            name, _, value = rest.partition(" ")
            header[name] = value.rstrip(" .").strip().removeprefix("<").removesuffix(">")
        elif code == "TX":
            open_tx, ops = True, []
        elif code in ("A", "D") and open_tx:
            ops.append((code, rest))
        elif code == "TC" and open_tx:
            if "id" not in header:
                raise PatchError(f"change log line {number}: a transaction without `H id`")
            yield Patch(header["id"], header.get("prev"), tuple(_parse_ops(ops, number)))
            header, ops, open_tx = {}, [], False
        elif code == "TA":  # an aborted transaction: nothing of it applies
            header, ops, open_tx = {}, [], False
        else:
            raise PatchError(f"change log line {number}: unexpected {line[:60]!r}")


def parse_operations(text: str) -> list[tuple[str, Quad]]:
    """`A` and `D` lines of RDF Patch (a dk:patch), in order."""
    ops = [(line[0], line[2:]) for line in text.splitlines() if line[:2] in ("A ", "D ")]
    return list(_parse_ops(ops, 0))


def complete_length(data: bytes) -> int:
    """How many leading bytes of a change log hold complete entries (up to the last `TC .`)."""
    end = data.rfind(b"\nTC .\n")
    if end >= 0:
        return end + len(b"\nTC .\n")
    return len(b"TC .\n") if data.startswith(b"TC .\n") else 0


def _parse_ops(ops: list[tuple[str, str]], number: int) -> Iterator[tuple[str, Quad]]:
    if not ops:
        return
    document = "\n".join(rest for _, rest in ops) + "\n"
    try:
        parsed = list(ox.parse(document.encode("utf-8"), format=ox.RdfFormat.N_QUADS))
    except SyntaxError as exc:
        raise PatchError(f"change log entry ending at line {number}: {exc}") from None
    if len(parsed) != len(ops):
        raise PatchError(f"change log entry ending at line {number}: a line holds no quad")
    for (code, _), quad in zip(ops, parsed, strict=True):
        yield code, from_ox_quad(quad)


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def canonical(term: Node) -> Node:
    """One rdflib term per RDF term: a literal keeps its lexical form exactly as written, and
    an xsd:string is a plain literal (RDF 1.1: they are the same term; rdflib tells them apart)."""
    # rdflib compares and hashes literals by lexical form, datatype and language (never by
    # value), so any other literal is already the one term: returned as it is, not rebuilt
    # (24 literals a commit, up to 12 µs each).
    if (
        isinstance(term, Literal)
        and term.datatype is not None
        and str(term.datatype) == _XSD_STRING
    ):
        return Literal(str(term))
    return term


def canonical_quad(quad: Quad) -> Quad:
    s, p, o, g = quad
    return (s, p, canonical(o), g)


#: IRIs and typed literals converted lately, each way: the same states, articles, predicates,
#: graphs and dates come back commit after commit, and building an rdflib typed literal costs
#: up to 12 µs (a lookup, 0.1 µs). Plain and language-tagged literals (labels, excerpts) are
#: mostly new each time, and a blank node belongs to one document: they are not kept, so that
#: the maps hold no one-off terms for the garbage collector to walk. Each map is emptied when it
#: reaches `TERMS_KEPT`. rdflib compares literals by their lexical form (and language tags
#: without case, as Oxigraph stores them), so a key never stands for another term.
TERMS_KEPT = 50_000
K = TypeVar("K")
V = TypeVar("V")
_FROM_OX: dict[object, Node] = {}
_TO_OX: dict[Node, ox.NamedNode | ox.BlankNode | ox.Literal] = {}
_NT: dict[Node, str] = {}


def _keep(kept: dict[K, V], key: K, value: V) -> V:
    if len(kept) >= TERMS_KEPT:
        kept.clear()
    kept[key] = value
    return value


def _worth_keeping(term: Node) -> bool:
    if isinstance(term, Literal):
        return term.datatype is not None
    return not isinstance(term, BNode)


def from_ox(term: object) -> Node:
    found = _FROM_OX.get(term)
    if found is None:
        found = _from_ox(term)
        if _worth_keeping(found):
            _keep(_FROM_OX, term, found)
    return found


def _from_ox(term: object) -> Node:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype == _XSD_STRING:
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(datatype), normalize=False)
    raise PatchError(f"unsupported term {term!r}")


def from_ox_quad(quad: ox.Quad) -> Quad:
    g = quad.graph_name
    graph = None if isinstance(g, ox.DefaultGraph) else URIRef(g.value)
    return (from_ox(quad.subject), from_ox(quad.predicate), from_ox(quad.object), graph)


def to_ox(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    found = _TO_OX.get(term)
    if found is None:
        found = _to_ox(term)
        if _worth_keeping(term):
            _keep(_TO_OX, term, found)
    return found


def _to_ox(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise PatchError(f"unsupported term {term!r}")


def to_ox_quad(quad: Quad) -> ox.Quad:
    s, p, o, g = quad
    graph = ox.DefaultGraph() if g is None else ox.NamedNode(str(g))
    return ox.Quad(to_ox(s), to_ox(p), to_ox(o), graph)  # type: ignore[arg-type]
