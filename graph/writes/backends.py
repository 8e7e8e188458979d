"""What a writable store lends to the writer: reads for the Overlay, and `apply`.

`OxigraphBackend` writes to a read-write pyoxigraph store (`oxigraph:DIR`, or in memory for
tests) through its API: the removals, then the additions in one `extend`; no reader sees the
store in between (the query workers read replicas that follow the change log). `RemoteBackend`
writes to a SPARQL 1.1 store through its update endpoint, as one request (`DELETE DATA ... ;
INSERT DATA ...`). Either way a commit the writer logged is made whole after a crash by
Repository.recover: applying a change twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

import pyoxigraph as ox
from rdflib import BNode, URIRef
from rdflib.term import Node

from graph.errors import StoreError
from graph.stores.remote import STATE_GRAPH, RemoteStore
from graph.writes.delta import Quad, from_ox_quad, nt, quad_line, to_ox, to_ox_quad

#: Quads per DELETE DATA / INSERT DATA block of an applied commit.
_BLOCK = 5_000


class Backend(Protocol):
    """A writable store: the Overlay's Base, plus `apply`, a SELECT for the checks, and a dump."""

    def quads(
        self,
        s: Node | None,
        p: Node | None,
        o: Node | None,
        graph: URIRef | None,
        *,
        any_graph: bool,
    ) -> Iterator[Quad]: ...

    def contains(self, quad: Quad) -> bool: ...

    def graphs(self) -> list[URIRef]: ...

    #: Whether the store has a default graph of its own that writes may target.
    default_graph: bool

    def apply(self, removed: Iterable[Quad], added: Iterable[Quad]) -> None:
        """Remove, then add; applying the same change again changes nothing."""

    def count(self) -> int: ...


def update_text(removed: Iterable[Quad], added: Iterable[Quad]) -> str:
    """One SPARQL Update request that removes then adds exactly these quads."""
    parts: list[str] = []
    for keyword, quads in (("DELETE DATA", list(removed)), ("INSERT DATA", list(added))):
        for quad in quads:
            if isinstance(quad[0], BNode) or isinstance(quad[2], BNode):
                raise StoreError("a commit cannot name a stored blank node in SPARQL Update")
        for start in range(0, len(quads), _BLOCK):
            block = quads[start : start + _BLOCK]
            default = [quad_line((s, p, o, None)) for s, p, o, g in block if g is None]
            named: dict[URIRef, list[str]] = {}
            for s, p, o, g in block:
                if g is not None:
                    named.setdefault(g, []).append(quad_line((s, p, o, None)))
            body = "\n".join(default)
            for g, lines in named.items():
                body += f"\nGRAPH {nt(g)} {{\n" + "\n".join(lines) + "\n}"
            parts.append(f"{keyword} {{\n{body}\n}}")
    return " ;\n".join(parts)


def drop_emptied(store: ox.Store, graphs: Iterable[URIRef | str]) -> None:
    """Forget the named graphs left empty: Oxigraph keeps a graph until it is removed, and in
    DiploKG a graph exists while it holds a triple (docs/writes.md)."""
    for graph in graphs:
        node = ox.NamedNode(str(graph))
        if next(iter(store.quads_for_pattern(None, None, None, node)), None) is None:
            store.remove_graph(node)


class OxigraphBackend:
    """A read-write pyoxigraph store."""

    #: The stored default graph can be written (INSERT DATA without GRAPH).
    default_graph = True

    def __init__(self, store: ox.Store) -> None:
        self.store = store

    def quads(
        self,
        s: Node | None,
        p: Node | None,
        o: Node | None,
        graph: URIRef | None,
        *,
        any_graph: bool = False,
    ) -> Iterator[Quad]:
        g: ox.NamedNode | ox.DefaultGraph | None = None
        if not any_graph:
            g = ox.DefaultGraph() if graph is None else ox.NamedNode(str(graph))
        subject, predicate, obj = (None if t is None else to_ox(t) for t in (s, p, o))
        for quad in self.store.quads_for_pattern(subject, predicate, obj, g):  # type: ignore[arg-type]
            yield from_ox_quad(quad)

    def contains(self, quad: Quad) -> bool:
        return to_ox_quad(quad) in self.store

    def graphs(self) -> list[URIRef]:
        found = []
        for g in self.store.named_graphs():
            if isinstance(g, ox.NamedNode) and next(
                iter(self.store.quads_for_pattern(None, None, None, g)), None
            ):
                found.append(URIRef(g.value))
        return sorted(found)

    def apply(self, removed: Iterable[Quad], added: Iterable[Quad]) -> None:
        """Remove, then add (in one transaction: `extend`). Readers never see the store
        between the two (the query workers read replicas), and after a crash the change log
        makes it whole (Repository.recover)."""
        removed = list(removed)
        try:
            for quad in removed:
                self.store.remove(to_ox_quad(quad))
            self.store.extend([to_ox_quad(q) for q in added])
        except (OSError, ValueError) as exc:
            raise StoreError(f"oxigraph could not apply a commit: {exc}") from None
        drop_emptied(self.store, {q[3] for q in removed if q[3] is not None})

    def count(self) -> int:
        return len(self.store)


class RemoteBackend:
    """A remote SPARQL 1.1 store, through its query and update endpoints.

    Its default graph is not a graph of its own (Virtuoso answers queries over all of its
    graphs), so writes name their graphs; a write to the default graph is refused.
    """

    default_graph = False

    def __init__(self, remote: RemoteStore) -> None:
        self.remote = remote

    def _rows(self, query: str) -> list[tuple[Node, ...]]:
        result = self.remote._select(query, {})
        return [tuple(row) for row in result]  # type: ignore[arg-type]

    def quads(
        self,
        s: Node | None,
        p: Node | None,
        o: Node | None,
        graph: URIRef | None,
        *,
        any_graph: bool = False,
    ) -> Iterator[Quad]:
        if graph is None and not any_graph:
            return
        terms = [nt(t) if t is not None else f"?{v}" for t, v in zip((s, p, o), "spo", strict=True)]
        where = f"GRAPH {'?g' if any_graph else nt(graph)} {{ {' '.join(terms)} }}"
        for row in self._rows(f"SELECT ?s ?p ?o ?g WHERE {{ {where} }}"):
            values = dict(zip(("s", "p", "o", "g"), row, strict=False))
            g = values.get("g") if any_graph else graph
            if str(g) == STATE_GRAPH:
                continue
            yield (
                s if s is not None else values["s"],
                p if p is not None else values["p"],
                o if o is not None else values["o"],
                URIRef(str(g)) if g is not None else None,
            )

    def contains(self, quad: Quad) -> bool:
        s, p, o, g = quad
        if g is None:
            return False
        return bool(
            self._rows(f"SELECT * WHERE {{ GRAPH {nt(g)} {{ {nt(s)} {nt(p)} {nt(o)} }} }} LIMIT 1")
        )

    def graphs(self) -> list[URIRef]:
        rows = self._rows("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return sorted(URIRef(str(r[0])) for r in rows if str(r[0]) != STATE_GRAPH)

    def apply(self, removed: Iterable[Quad], added: Iterable[Quad]) -> None:
        removed, added = list(removed), list(added)
        if any(q[3] is None for q in (*removed, *added)):
            raise StoreError(
                "the remote store has no default graph of its own: name the graph to write"
            )
        text = update_text(removed, added)
        if text:
            self.remote._update(text)

    def count(self) -> int:
        return self.remote.triple_count()
