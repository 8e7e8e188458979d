"""The SHACL check of one commit: the changed neighbourhood, never the whole store.

Which nodes a change can make invalid follows from what the shapes read (checked when the
checker is built, see `Reach`): a node shape reads its focus node's own triples, the rdf:type of
the values `sh:class` names, and, in SHACL-SPARQL constraints, paths of at most `depth` hops out
of the focus node. So the nodes to check are the subjects and IRI objects of the quads changed
(the touched nodes), and, when a changed quad's predicate is one a constraint reads at a distance
(rdf:type, rdfs:subClassOf, or a predicate a SPARQL constraint follows from another node), the
nodes that reach a touched node in at most `depth` hops.

Those focus nodes, every node up to `depth` hops out of them, each with all of its triples as they
will be after the commit, and the class hierarchy, are what the check reads. The SHACL Core
shapes are asked in Python over those triples (graph.writes.narrowing: no SPARQL planner per
commit); the shapes with SPARQL targets by the build's narrowing queries (graph.shacl_candidates),
answered in Python too where they keep to the subset graph.writes.sparql_targets evaluates, and
otherwise over a small in-memory Oxigraph store of the same triples. Either finds the focus nodes
that may violate a shape, and pyshacl judges only those, on that store, and writes the report. A
commit that conforms costs a few Python tests over a few dozen triples (and a SPARQL query only
for a shape beyond that subset whose predicates it holds); pyshacl runs only for a commit about
to be refused.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
from pyshacl import validate as shacl_validate
from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.namespace import OWL, RDF, RDFS, SH
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import Node

from graph.namespaces import PREFIXES
from graph.shacl_candidates import ShapeQuery, shape_queries
from graph.validate import (
    ValidationReport,
    ValidationResult,
    _focus,
    _OxigraphData,
    _results,
    load_shapes,
)
from graph.writes.delta import Delta, Quad, quad_line
from graph.writes.narrowing import Triple, Triples, compile_shapes
from graph.writes.overlay import Overlay
from graph.writes.sparql_targets import Unknown, compile_queries, triples_block

log = logging.getLogger(__name__)


#: Nodes whose distant reads are kept between commits (cleared when full).
DISTANT_KEPT = 100_000


@dataclass(frozen=True)
class Reach:
    """What the shapes read beyond a focus node's own triples."""

    #: Predicates read from a node other than the focus node.
    remote: frozenset[URIRef]
    #: The longest path, in hops, a constraint follows out of its focus node.
    depth: int
    #: A constraint reads triples pointing *to* its focus node: the objects of a changed quad
    #: are then focus nodes too.
    incoming: bool = False


def shapes_reach(shapes: Graph) -> Reach:
    """Reach of the shapes; ValueError for a construct this check does not follow (sh:node,
    inverse paths...), so that a shape added later cannot silently escape the commit check."""
    unsupported = [SH.node, SH.qualifiedValueShape, SH.inversePath, SH.equals, SH.disjoint,
                   SH.lessThan, SH.lessThanOrEquals, SH.targetObjectsOf]  # fmt: skip
    for term in unsupported:
        if any(True for _ in shapes.subject_objects(term)):
            raise ValueError(f"the commit check does not follow {term} in the shapes")
    remote: set[URIRef] = {RDF.type, RDFS.subClassOf}
    depth = 1  # sh:class reads the rdf:type of a value, one hop out
    incoming = False
    prefixes = {str(k): v for k, v in PREFIXES.items()}
    for select in shapes.objects(None, SH.select):
        query = prepareQuery(str(select), initNs=prefixes)
        edges: list[tuple[Node, Node, Node]] = []
        _collect(query.algebra, edges)
        hops = _hops(edges)
        depth = max(depth, hops)
        for s, p, o in edges:
            if not (isinstance(s, Variable) and str(s) == "this"):
                remote.update(_iris(p))
            if isinstance(o, Variable) and str(o) == "this":
                incoming = True
    return Reach(frozenset(remote), depth, incoming)


#: A SPARQL target's type condition, as the project's shapes write it, last in its WHERE clause.
_TYPE_TARGET = re.compile(r"\?this\s+rdf:type/rdfs:subClassOf\*\s+(\w+):([\w-]+)\s*\.\s*\}\s*$")


def target_classes(shapes: Graph, shape: Node) -> set[Node] | None:
    """The classes whose instances (subclasses included) are the only possible targets of
    `shape`; None when its targets are not so bounded (then it is checked on every commit)."""
    classes: set[Node] = set(shapes.objects(shape, SH.targetClass))
    if {RDFS.Class, OWL.Class} & set(shapes.objects(shape, RDF.type)):
        classes.add(shape)
    for other in (SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf):
        if next(iter(shapes.objects(shape, other)), None) is not None:
            return None
    for target in shapes.objects(shape, SH.target):
        select = shapes.value(target, SH.select)
        found = _TYPE_TARGET.search(str(select)) if select is not None else None
        if found is None or found.group(1) not in PREFIXES:
            return None
        classes.add(URIRef(PREFIXES[found.group(1)] + found.group(2)))
    return classes or None


def _collect(node: object, out: list[tuple[Node, Node, Node]]) -> None:
    if isinstance(node, CompValue):
        if node.name == "BGP":
            out.extend(node.triples)
        elif node.name == "TriplesBlock":  # inside FILTER (NOT) EXISTS: not translated, flat
            out.extend(triples_block(node))
        for value in node.values():
            _collect(value, out)
    elif isinstance(node, list | tuple):
        for item in node:
            _collect(item, out)


def required_predicates(query: str) -> frozenset[URIRef]:
    """The predicates `query` cannot answer without: those of the triple patterns every solution
    matches (joined, filtered, projected; in every branch of a UNION; never under OPTIONAL,
    MINUS, EXISTS or an aggregate, which answer without them). A store holding none of one of
    them has no solution, so the query need not be planned."""
    found: set[URIRef] = set()
    _required(prepareQuery(query).algebra, found)
    return frozenset(found)


_PASS_THROUGH = {"SelectQuery", "Project", "Distinct", "Reduced", "Slice", "ToMultiSet",
                 "Extend", "Filter", "OrderBy"}  # fmt: skip


def _required(node: object, out: set[URIRef]) -> None:
    if not isinstance(node, CompValue):
        return
    if node.name == "BGP":
        out.update(p for _, p, _ in node.triples if isinstance(p, URIRef))
    elif node.name in _PASS_THROUGH:
        _required(node.p, out)
    elif node.name == "Join":
        _required(node.p1, out)
        _required(node.p2, out)
    elif node.name in ("LeftJoin", "Minus"):
        _required(node.p1, out)
    elif node.name == "Union":
        left: set[URIRef] = set()
        right: set[URIRef] = set()
        _required(node.p1, left)
        _required(node.p2, right)
        out.update(left & right)


def _iris(path: object) -> set[URIRef]:
    if isinstance(path, URIRef):
        return {path}
    found: set[URIRef] = set()
    for attr in ("args", "path"):
        value = getattr(path, attr, None)
        if isinstance(value, list):
            for item in value:
                found |= _iris(item)
        elif value is not None:
            found |= _iris(value)
    return found


def _hops(edges: list[tuple[Node, Node, Node]]) -> int:
    """The longest chain of triple patterns starting at ?this (a path counts as its length,
    `*` paths as one hop to the class hierarchy, which is always loaded whole)."""
    start = Variable("this")
    depth: dict[Node, int] = {start: 0}
    changed = True
    while changed:
        changed = False
        for s, p, o in edges:
            if s in depth and isinstance(o, Variable):  # a constant is a class: loaded whole
                d = depth[s] + (len(getattr(p, "args", [p])) if not isinstance(p, URIRef) else 1)
                if d > depth.get(o, -1) and d <= 8:
                    depth[o] = d
                    changed = True
    return max(depth.values())


class CommitCheck:
    """Checks a commit's neighbourhood against the shapes (built once per writer)."""

    def __init__(self, shapes: Graph | None = None, hierarchy: Iterable[Quad] = ()) -> None:
        self.shapes = shapes if shapes is not None else load_shapes()
        self.reach = shapes_reach(self.shapes)
        #: rdfs:subClassOf triples (the ontology graph cannot be written, so they are kept).
        self.hierarchy: list[Triple] = [(s, p, o) for s, p, o, _ in hierarchy]
        self._hierarchy = self._hierarchy_nquads()
        #: A class's superclasses, as the hierarchy says (which shapes a focus node's types reach).
        self.classes = Triples(self.hierarchy)
        # The candidate queries depend on the shapes only: made once. They follow
        # rdf:type/rdfs:subClassOf* paths (the small store holds the hierarchy) rather than
        # listing each class's subclasses: a third the text, and a third the planning time
        # (the fact shape's query: 6.9 kB and 1.1 ms, against 16.7 kB and 2.9 ms).
        self.plans = shape_queries(self.shapes)
        #: The plans' shapes that run in Python (graph.writes.narrowing); the rest by SPARQL,
        #: and only over a neighbourhood holding the predicates their query requires.
        self.compiled = compile_shapes(self.shapes, [p.shape for p in self.plans])
        self.required = {
            p.shape: required_predicates(p.query)
            for p in self.plans
            if p.query is not None and p.shape not in self.compiled
        }
        #: The SPARQL narrowing queries answered in Python (graph.writes.sparql_targets): all
        #: but those beyond its subset, which the small store answers.
        self.queries = compile_queries(
            {
                p.shape: p.query
                for p in self.plans
                if p.query is not None and p.shape in self.required
            }
        )
        #: Node -> what the shapes read of it at a distance, while no commit changes it.
        self._distant_cache: dict[Node, tuple[tuple[Triple, ...], tuple[Node, ...]]] = {}
        #: Each plan's target classes (None: any node), to skip the shapes no focus node has.
        self.plan_classes = {p.shape: target_classes(self.shapes, p.shape) for p in self.plans}

    def _hierarchy_nquads(self) -> bytes:
        lines = [quad_line((s, p, o, None)) for s, p, o in self.hierarchy]
        return ("\n".join(lines) + "\n").encode("utf-8")

    def focus_nodes(self, delta: Delta, view: Overlay) -> set[Node]:
        changed = (*delta.added, *delta.removed)
        focus: set[Node] = {q[0] for q in changed}
        if self.reach.incoming:
            focus |= {q[2] for q in changed if isinstance(q[2], URIRef | BNode)}
        distant = {q[0] for q in (*delta.added, *delta.removed) if q[1] in self.reach.remote}
        frontier = set(distant)
        for _ in range(self.reach.depth):
            incoming: set[Node] = set()
            for node in frontier:
                incoming.update(q[0] for q in view.quads(None, None, node, None, any_graph=True))
            frontier = incoming - focus
            focus |= incoming
        return focus

    def check(self, delta: Delta, view: Overlay) -> CheckOutcome:
        """Validate the neighbourhood of `delta` in `view` (the store as it will be)."""
        if not delta:
            return CheckOutcome(ValidationReport(True), None, 0)
        return self.judge(self.gather(delta, view))

    def gather(self, delta: Delta, view: Overlay) -> Neighbourhood:
        """What the check of `delta` reads in `view`: the focus nodes with all their triples,
        and, up to `depth` hops out, the triples the shapes read at a distance (rdf:type and
        the predicates of `reach.remote`)."""
        focus = self.focus_nodes(delta, view)
        triples: list[Triple] = []
        types: set[Node] = set()
        nodes: set[Node] = set(focus)
        frontier: set[Node] = set()
        for node in focus:
            for s, p, o, _ in view.quads(node, None, None, None, any_graph=True):
                triples.append((s, p, o))
                if not isinstance(o, Literal):
                    frontier.add(o)
                if p == RDF.type:
                    types |= self.classes.superclasses(o)
        for _ in range(self.reach.depth):
            following: set[Node] = set()
            for node in frontier - nodes:
                nodes.add(node)
                read, objects = self._distant(node, view)
                triples.extend(read)
                following.update(objects)
            frontier = following
        return Neighbourhood(frozenset(focus), tuple(triples), frozenset(types), frozenset(nodes))

    def _distant(self, node: Node, view: Overlay) -> tuple[tuple[Triple, ...], tuple[Node, ...]]:
        """What the shapes read of a node at a distance (its remote-predicate triples, and
        their objects), from the view; kept between commits for the nodes no pending change
        touches (a state, a government, an article read by commit after commit)."""
        if not view.touches(node):
            found = self._distant_cache.get(node)
            if found is not None:
                return found
        triples: list[Triple] = []
        objects: list[Node] = []
        for predicate in self.reach.remote:
            for s, p, o, _ in view.quads(node, predicate, None, None, any_graph=True):
                triples.append((s, p, o))
                if not isinstance(o, Literal):
                    objects.append(o)
        found = (tuple(triples), tuple(objects))
        if not view.touches(node):
            if len(self._distant_cache) >= DISTANT_KEPT:
                self._distant_cache.clear()
            self._distant_cache[node] = found
        return found

    def forget(self, nodes: set[Node] | None = None) -> None:
        """A commit changed these nodes (None: any): drop what was kept of them."""
        if nodes is None:
            self._distant_cache.clear()
        else:
            for node in nodes:
                self._distant_cache.pop(node, None)

    def judge(self, around: Neighbourhood) -> CheckOutcome:
        """The shapes' verdict on the focus nodes of `around`: the compiled shapes and queries
        asked in Python, the others by their SPARQL query over one small store, and pyshacl, on
        that store, for the candidates either finds."""
        focus = set(around.focus)
        relevant = [
            p
            for p in self.plans
            if self.plan_classes[p.shape] is None or self.plan_classes[p.shape] & around.types  # type: ignore[operator]
        ]
        data = Triples(itertools.chain(around.triples, self.hierarchy))
        store: ox.Store | None = None
        plans: list[tuple[ShapeQuery, list[Node] | None]] = []
        for plan in relevant:
            compiled = self.compiled.get(plan.shape)
            if compiled is not None:
                plans.append((plan, compiled.candidates(focus, data)))
                continue
            if plan.query is None:
                plans.append((plan, None))
                continue
            if not self.required[plan.shape] <= data.predicates:
                plans.append((plan, []))
                continue
            query = self.queries.get(plan.shape)
            if query is not None:
                try:
                    plans.append((plan, query.candidates(focus, data)))
                    continue
                except Unknown:  # literals a store may canonicalize: the store answers
                    pass
            if store is None:
                store = self._store(around)
            plans.append((plan, _focus(store, plan.query)))
        if all(found is not None and focus.isdisjoint(found) for _, found in plans):
            return CheckOutcome(ValidationReport(True), None, len(focus))
        return self._verdict(store or self._store(around), focus, plans)

    def _store(self, around: Neighbourhood) -> ox.Store:
        """The neighbourhood and the class hierarchy in a small in-memory store."""
        lines = [quad_line((s, p, o, None)) for s, p, o in around.triples]
        store = ox.Store()
        data = ("\n".join(lines) + "\n").encode("utf-8") + self._hierarchy
        store.load(data, format=ox.RdfFormat.N_QUADS)
        return store

    def _verdict(
        self,
        store: ox.Store,
        focus: set[Node],
        plans: list[tuple[ShapeQuery, list[Node] | None]],
    ) -> CheckOutcome:
        data = _OxigraphData(store)
        results: set[ValidationResult] = set()
        report = Graph()
        conforms = True
        for plan, candidates in plans:
            if candidates is not None:
                mine = [n for n in candidates if n in focus]
                if not mine:
                    continue
                selection: dict[str, Any] = {"focus_nodes": mine}
            else:
                selection = {}
            use: list[str | URIRef] = [plan.shape, *plan.companions]
            ok, graph = _pyshacl(data, self.shapes, use, selection)
            for node in list(graph.subjects(RDF.type, SH.ValidationResult)):
                if graph.value(node, SH.focusNode) not in focus:
                    _drop(graph, node)
            kept = list(_results(graph, self.shapes))
            if not ok and kept:
                severe = [r for r in kept if r.severity == "Violation"]
                conforms = conforms and not severe
                results.update(kept)
                for triple in graph:
                    if triple[1] != SH.conforms and triple[2] != SH.ValidationReport:
                        report.add(triple)
        outcome = ValidationReport(conforms=conforms, results=tuple(sorted(results)))
        return CheckOutcome(
            outcome, None if conforms else _report_graph(report, conforms), len(focus)
        )


@dataclass(frozen=True)
class Neighbourhood:
    """What one check reads: its focus nodes, the triples it reads, the focus nodes' classes,
    and every node whose triples it reads."""

    focus: frozenset[Node]
    triples: tuple[Triple, ...]
    types: frozenset[Node]
    nodes: frozenset[Node]

    @staticmethod
    def merge(parts: list[Neighbourhood]) -> Neighbourhood:
        return Neighbourhood(
            frozenset().union(*(p.focus for p in parts)),
            tuple(t for p in parts for t in p.triples),
            frozenset().union(*(p.types for p in parts)),
            frozenset().union(*(p.nodes for p in parts)),
        )


@dataclass(frozen=True)
class CheckOutcome:
    report: ValidationReport
    #: The W3C SHACL validation report, for a refusal (N-Quads/Turtle/JSON-LD by Accept).
    graph: Graph | None
    focus_nodes: int


def _pyshacl(
    data: Any, shapes: Graph, use: list[str | URIRef], selection: dict[str, Any]
) -> tuple[bool, Graph]:
    conforms, report, _ = shacl_validate(
        data,
        shacl_graph=shapes,
        inference="none",
        abort_on_first=False,
        allow_warnings=True,
        advanced=True,
        inplace=True,
        use_shapes=use,
        **selection,
    )
    assert isinstance(report, Graph)
    return bool(conforms), report


def _drop(graph: Graph, node: Node) -> None:
    for triple in list(graph.triples((node, None, None))):
        graph.remove(triple)
        if isinstance(triple[2], BNode):
            _drop(graph, triple[2])
    for triple in list(graph.triples((None, SH.result, node))):
        graph.remove(triple)


def _report_graph(results: Graph, conforms: bool) -> Graph:
    report = Graph()
    for name, iri in PREFIXES.items():
        report.bind(name, iri)
    report.bind("sh", str(SH))
    root = BNode("report")
    report.add((root, RDF.type, SH.ValidationReport))
    report.add((root, SH.conforms, Literal(conforms)))
    for triple in results:
        if triple[1] == SH.result:
            report.add((root, SH.result, triple[2]))
        else:
            report.add(triple)
    return report


def report_nquads(graph: Graph) -> bytes:
    """The report as N-Quads (in the default graph), what RDF4J sends with a 409."""
    lines = sorted(quad_line((s, p, o, None)) for s, p, o in graph)
    return ("\n".join(lines) + "\n").encode("utf-8")


__all__ = ["CheckOutcome", "CommitCheck", "Neighbourhood", "Reach", "report_nquads", "shapes_reach"]
