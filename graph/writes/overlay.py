"""The store as a write request sees it while it runs: the base, less what the request removed,
plus what it added; nothing reaches the store until the request commits.

`Base` is what a writable backend lends to a request: quads by pattern, membership, named
graphs. `Overlay` stages the request's changes on top of a Base and yields the concrete Delta.
`view_dataset` lets rdflib's SPARQL engine evaluate a WHERE clause over the overlay, with the
dataset SPARQL 1.1 Update §3.1.3 describes (the union of all graphs, or what WITH, USING and
USING NAMED choose).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

from rdflib import Dataset, Graph, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.store import Store as RdflibStore
from rdflib.term import Node

from graph.writes.delta import Delta, Quad, canonical, canonical_quad

#: The identifier of the default graph of a WHERE clause's dataset (a view, never stored).
VIEW_DEFAULT = URIRef("urn:x-diplokg:where-default")


class Base(Protocol):
    """Read access to a writable store's current state."""

    def quads(
        self,
        s: Node | None,
        p: Node | None,
        o: Node | None,
        graph: URIRef | None,
        *,
        any_graph: bool,
    ) -> Iterator[Quad]:
        """Quads matching the pattern: in `graph` (None: the default graph), or in any graph,
        the default one included, when `any_graph`."""

    def contains(self, quad: Quad) -> bool: ...

    def graphs(self) -> list[URIRef]:
        """The named graphs that hold at least one quad."""


class Overlay:
    """A request's staged changes over a Base; `delta()` is what it changed."""

    def __init__(self, base: Base) -> None:
        self.base = base
        self._added: set[Quad] = set()
        self._removed: set[Quad] = set()
        #: Every subject a change was staged for (kept even if the change is undone).
        self._subjects: set[Node] = set()
        #: The added quads by subject and by object (lookups name one or the other).
        self._by_subject: dict[Node, set[Quad]] = {}
        self._by_object: dict[Node, set[Quad]] = {}
        #: Named graph -> True if the base holds no quad in it (then none of the quads staged
        #: for it: one read for a graph instead of one per quad). The base does not change
        #: while an overlay stands on it.
        self._absent: dict[URIRef, bool] = {}

    def touches(self, node: Node) -> bool:
        """True if this overlay, or one it stands on, staged a change about `node`."""
        if node in self._subjects:
            return True
        return isinstance(self.base, Overlay) and self.base.touches(node)

    def _index(self, quad: Quad, keep: bool) -> None:
        for key, index in ((quad[0], self._by_subject), (quad[2], self._by_object)):
            if keep:
                index.setdefault(key, set()).add(quad)
            else:
                index[key].discard(quad)

    def add(self, quad: Quad, *, new: bool = False) -> None:
        """Stage `quad`; `new` says it cannot be in the base (a fresh commit record's IRIs)."""
        quad = canonical_quad(quad)
        self._subjects.add(quad[0])
        if quad in self._removed:
            self._removed.discard(quad)
        elif quad not in self._added and (new or not self._in_base(quad)):
            self._added.add(quad)
            self._index(quad, True)

    def remove(self, quad: Quad) -> None:
        quad = canonical_quad(quad)
        self._subjects.add(quad[0])
        if quad in self._added:
            self._added.discard(quad)
            self._index(quad, False)
        elif quad not in self._removed and self._in_base(quad):
            self._removed.add(quad)

    def _in_base(self, quad: Quad) -> bool:
        g = quad[3]
        if g is not None:
            absent = self._absent.get(g)
            if absent is None:
                found = self.base.quads(None, None, None, g, any_graph=False)
                absent = next(iter(found), None) is None
                self._absent[g] = absent
            if absent:
                return False
        return self.base.contains(quad)

    def contains(self, quad: Quad) -> bool:
        quad = canonical_quad(quad)
        if quad in self._added:
            return True
        return quad not in self._removed and self._in_base(quad)

    def quads(
        self,
        s: Node | None,
        p: Node | None,
        o: Node | None,
        graph: URIRef | None,
        *,
        any_graph: bool = False,
    ) -> Iterator[Quad]:
        if o is not None:
            o = canonical(o)
        removed, added = self._removed, self._added
        for quad in self.base.quads(s, p, o, graph, any_graph=any_graph):
            # A staged addition the base holds too (its batch was applied to the store since,
            # see Repository.apply_in_background) is yielded once, below.
            if (not removed or quad not in removed) and (not added or quad not in added):
                yield quad
        if not self._added:
            return
        if s is not None:
            candidates: set[Quad] = self._by_subject.get(s, set())
        elif o is not None:
            candidates = self._by_object.get(o, set())
        else:
            candidates = self._added
        for quad in list(candidates):
            if _matches(quad, s, p, o) and (any_graph or quad[3] == graph):
                yield quad

    def graph_quads(self, graph: URIRef | None) -> list[Quad]:
        return list(self.quads(None, None, None, graph))

    def graph_exists(self, graph: URIRef) -> bool:
        """A named graph exists while it holds a quad (empty graphs are not kept)."""
        return next(iter(self.quads(None, None, None, graph)), None) is not None

    def graphs(self) -> list[URIRef]:
        found = {g for g in self.base.graphs() if self.graph_exists(g)}
        found |= {q[3] for q in self._added if q[3] is not None}
        return sorted(found)

    def delta(self) -> Delta:
        return Delta(frozenset(self._removed), frozenset(self._added))


def _matches(quad: Quad, s: Node | None, p: Node | None, o: Node | None) -> bool:
    return (
        (s is None or quad[0] == s) and (p is None or quad[1] == p) and (o is None or quad[2] == o)
    )


class _ViewStore(RdflibStore):
    """rdflib's read-only view of an Overlay as the dataset of one WHERE clause: the default
    graph is the merge of `default` (None: every graph, the default one included), the named
    graphs are `named` (None: every named graph)."""

    context_aware = True
    graph_aware = True
    formula_aware = False
    transaction_aware = False

    def __init__(
        self,
        overlay: Overlay,
        default: Sequence[URIRef | None] | None,
        named: Sequence[URIRef] | None,
    ) -> None:
        super().__init__()
        self.overlay = overlay
        self.default = default
        self.named = named

    def triples(
        self, triple_pattern: tuple[Node | None, Node | None, Node | None], context: Any = None
    ) -> Iterator[tuple[tuple[Node, Node, Node], Iterator[Any]]]:
        s, p, o = triple_pattern
        ident = getattr(context, "identifier", context)
        if ident is None or ident == VIEW_DEFAULT:
            yield from self._default(s, p, o)
            return
        if ident == DATASET_DEFAULT_GRAPH_ID:
            graph: URIRef | None = None
        else:
            graph = URIRef(str(ident))
            if self.named is not None and graph not in self.named:
                return
        for quad in self.overlay.quads(s, p, o, graph):
            yield quad[:3], iter([context])

    def _default(
        self, s: Node | None, p: Node | None, o: Node | None
    ) -> Iterator[tuple[tuple[Node, Node, Node], Iterator[Any]]]:
        seen: set[tuple[Node, Node, Node]] = set()
        if self.default is None:
            sources: Iterable[Quad] = self.overlay.quads(s, p, o, None, any_graph=True)
        else:
            sources = (q for g in self.default for q in self.overlay.quads(s, p, o, g))
        for quad in sources:
            triple = quad[:3]
            if triple not in seen:  # a merge is a set of triples
                seen.add(triple)
                yield triple, iter([None])

    def contexts(self, triple: Any = None) -> Iterator[Any]:  # type: ignore[override]
        names = self.overlay.graphs() if self.named is None else list(self.named)
        for name in names:
            yield Graph(store=self, identifier=name)

    def __len__(self, context: Any = None) -> int:
        return sum(1 for _ in self.triples((None, None, None), context))

    def add(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("the WHERE clause's dataset is read-only")

    def remove(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("the WHERE clause's dataset is read-only")

    def add_graph(self, graph: Any) -> None:
        pass  # rdflib's Dataset registers graphs as it names them; the view has nothing to do

    def bind(self, *args: Any, **kwargs: Any) -> None:
        pass

    def namespace(self, prefix: str) -> URIRef | None:
        return None

    def prefix(self, namespace: Any) -> str | None:
        return None

    def namespaces(self) -> Iterator[tuple[str, URIRef]]:
        return iter(())


def view_dataset(
    overlay: Overlay,
    default: Sequence[URIRef | None] | None = None,
    named: Sequence[URIRef] | None = None,
) -> tuple[Dataset, Graph]:
    """The dataset a WHERE clause is evaluated over, and its default graph."""
    store = _ViewStore(overlay, default, named)
    dataset = Dataset(store=store, default_union=False)
    return dataset, Graph(store=store, identifier=VIEW_DEFAULT)
