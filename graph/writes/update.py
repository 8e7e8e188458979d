"""SPARQL 1.1 Update requests and Graph Store operations, evaluated against an Overlay.

rdflib parses the request and evaluates each WHERE clause (over `graph.writes.overlay`); the
operations themselves are carried out here, following SPARQL 1.1 Update §3 to the letter,
because rdflib's own update evaluator mixes the union default graph with the stored one, cannot
CREATE, and dereferences USING IRIs. Nothing here touches the store: the Overlay collects the
change, and `graph.writes.repository` checks and commits it.

Two choices DiploKG makes, documented in docs/writes.md:

* The default graph of a query is the union of all graphs; the default graph an update *writes*
  to (INSERT DATA without GRAPH, CLEAR DEFAULT, `?default`) is the stored default graph alone,
  so `CLEAR DEFAULT` never empties the named graphs.
* A graph exists while it holds a triple (as in Jena TDB): CREATE of a new graph changes
  nothing, and an emptied graph is gone. Blank nodes written are replaced by fresh IRIs under
  `/.well-known/genid/` (RDF 1.1 §3.5), so that every change can be logged, reverted and
  exported exactly.
"""

from __future__ import annotations

import itertools
import re
import secrets
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
from pyparsing import ParseException
from rdflib import BNode, Graph, URIRef, Variable
from rdflib.plugins.sparql.algebra import BGP, Join, translateUpdate
from rdflib.plugins.sparql.algebra import Graph as GraphPattern
from rdflib.plugins.sparql.evaluate import evalPart
from rdflib.plugins.sparql.parser import parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.plugins.sparql.sparql import QueryContext
from rdflib.term import Node

from graph.errors import DiploKGError, ForbiddenService, QueryRefused, QuerySyntaxError
from graph.namespaces import BASE, PREFIXES
from graph.stores.analysis import _OPAQUE, _blank, engine_syntax_error
from graph.writes.delta import Quad, from_ox_quad
from graph.writes.overlay import Overlay, view_dataset

#: Where blank nodes written are skolemized (RDF 1.1 Concepts §3.5).
GENID = BASE + ".well-known/genid/"


class UpdateFailed(DiploKGError):
    """An update is well-formed but one of its operations fails (SPARQL 1.1 Update §3: a
    failing operation aborts the request; nothing of it is applied)."""


class LoadRefused(QueryRefused):
    """LOAD of an IRI outside the update allow-list."""


class GraphNotFound(DiploKGError):
    """A Graph Store request names a graph that holds no triple."""

    def __init__(self, graph: str) -> None:
        self.graph = graph
        super().__init__(f"no graph <{graph}> in the store")


class BodyError(DiploKGError):
    """A Graph Store request body that does not parse as its content type says."""


def skolem() -> URIRef:
    return URIRef(GENID + secrets.token_hex(12))


@dataclass(frozen=True)
class UpdateRequest:
    """One SPARQL 1.1 Update request, with the protocol's dataset parameters (§2.2)."""

    text: str
    using_graph_uris: tuple[str, ...] = ()
    using_named_graph_uris: tuple[str, ...] = ()


def parse_update(text: str) -> Any:
    """rdflib's algebra of an update request; QuerySyntaxError with line and column."""
    try:
        return translateUpdate(parseUpdate(text), initNs=PREFIXES)
    except ParseException as exc:
        raise QuerySyntaxError(str(exc.msg), exc.lineno, exc.col) from None
    except Exception as exc:  # rdflib reports unknown prefixes and the like as plain Exceptions
        raise QuerySyntaxError(str(exc)) from None


#: The operation keywords a request of INSERT DATA (or DELETE DATA) alone never contains.
_OTHER_OPERATIONS = frozenset(
    {"LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH", "USING", "WHERE",
     "SERVICE", "FROM"}
)  # fmt: skip
_WORD = re.compile(r"\b([A-Z]+)\b(?!:)")
_DELETE_DATA = re.compile(r"\bDELETE(\s+)DATA\b", re.IGNORECASE)


def data_only(text: str) -> tuple[str, list[Quad]] | None:
    """The quads of a request made of INSERT DATA operations only ("A"), or of DELETE DATA
    only ("D"), parsed by Oxigraph (a few hundred microseconds, where rdflib's parser takes
    milliseconds; its syntax errors give a line and column). None for any other request, or
    any doubt (codepoint escapes, keywords in strings): rdflib then reads it in full."""
    if "\\u" in text or "\\U" in text:
        return None
    words = _WORD.findall(_OPAQUE.sub(_blank, text).upper())
    operations = [w for w in words if w in ("INSERT", "DELETE")]
    if not operations or _OTHER_OPERATIONS.intersection(words) or len(set(operations)) != 1:
        return None
    pairs = sum(1 for a, b in itertools.pairwise(words) if a in operations and b == "DATA")
    if pairs != len(operations):
        return None
    kind = operations[0]
    if kind == "DELETE":
        if len(_DELETE_DATA.findall(text)) != len(operations):
            return None  # "DELETE DATA" also inside a string or an IRI: no textual rewrite
        text = _DELETE_DATA.sub(lambda m: f"INSERT{m.group(1)}DATA", text)
    scratch = ox.Store()
    try:
        scratch.update(text, prefixes=PREFIXES)
    except SyntaxError as exc:
        raise engine_syntax_error(str(exc)) from None
    quads = [from_ox_quad(q) for q in scratch]
    if kind == "DELETE" and any(isinstance(t, BNode) for q in quads for t in q):
        raise QuerySyntaxError("DELETE DATA cannot contain blank nodes (SPARQL 1.1 Update §3.1.2)")
    return ("A" if kind == "INSERT" else "D"), quads


def run_update(
    request: UpdateRequest,
    overlay: Overlay,
    *,
    allowed_urls: Sequence[str] = (),
    fetch: Callable[[str], Graph] | None = None,
) -> int:
    """Carry out every operation of `request` on `overlay`, in order; the number of operations.

    Raises QuerySyntaxError, ForbiddenService (SERVICE outside `allowed_urls`), LoadRefused,
    UpdateFailed; on any error the overlay is to be discarded.
    """
    simple = data_only(request.text)
    if simple is not None:
        kind, quads = simple
        runner = _Runner(overlay, request, allowed_urls, fetch or fetch_rdf)
        for s, p, o, g in quads:
            if kind == "A":
                runner._add(s, p, o, g)
            else:
                overlay.remove((s, p, o, g))
        return 1
    algebra = parse_update(request.text)
    operations = list(algebra.algebra)
    protocol_dataset = bool(request.using_graph_uris or request.using_named_graph_uris)
    for op in operations:
        _check_services(op, allowed_urls)
        if protocol_dataset and (getattr(op, "using", None) or getattr(op, "withClause", None)):
            raise UpdateFailed(
                "using-graph-uri / using-named-graph-uri cannot be combined with an operation "
                "that has USING, USING NAMED or WITH (SPARQL 1.1 Protocol §2.2.3)"
            )
    runner = _Runner(overlay, request, allowed_urls, fetch or fetch_rdf)
    for op in operations:
        try:
            runner.run(op)
        except UpdateFailed:
            if not op.silent:
                raise
        except DiploKGError:  # refusals and syntax errors: SILENT does not hide them
            raise
        except Exception as exc:  # rdflib's evaluator signals failures as plain exceptions
            if not getattr(op, "silent", False):
                raise UpdateFailed(f"{op.name}: {exc}") from None
    return len(operations)


def _check_services(node: object, allowed: Sequence[str]) -> None:
    if isinstance(node, CompValue):
        if node.name == "ServiceGraphPattern":
            target = node.get("term")
            if not isinstance(target, URIRef) or str(target) not in allowed:
                raise ForbiddenService(str(target), allowed)
        for value in node.values():
            _check_services(value, allowed)
    elif isinstance(node, list | tuple):
        for item in node:
            _check_services(item, allowed)
    elif isinstance(node, dict):
        for item in node.values():
            _check_services(item, allowed)


class _Runner:
    def __init__(
        self,
        overlay: Overlay,
        request: UpdateRequest,
        allowed_urls: Sequence[str],
        fetch: Callable[[str], Graph],
    ) -> None:
        self.overlay = overlay
        self.request = request
        self.allowed_urls = allowed_urls
        self.fetch = fetch
        self.bnodes: dict[Node, URIRef] = {}

    # --- helpers ------------------------------------------------------------------------

    def _skolem(self, term: Node) -> Node:
        if isinstance(term, BNode):
            found = self.bnodes.get(term)
            if found is None:
                found = self.bnodes[term] = skolem()
            return found
        return term

    def _add(self, s: Node, p: Node, o: Node, graph: URIRef | None) -> None:
        self.overlay.add((self._skolem(s), p, self._skolem(o), graph))

    def _graph(self, name: object) -> URIRef | None:
        """'DEFAULT' (or None) is the stored default graph; anything else a graph IRI."""
        if name is None or name == "DEFAULT":
            return None
        return URIRef(str(name))

    def _targets(self, which: object) -> list[URIRef | None]:
        if which == "DEFAULT":
            return [None]
        if which == "NAMED":
            return list(self.overlay.graphs())
        if which == "ALL":
            return [None, *self.overlay.graphs()]
        return [URIRef(str(which))]

    def _clear(self, graph: URIRef | None) -> None:
        for quad in self.overlay.graph_quads(graph):
            self.overlay.remove(quad)

    def _copy_into(self, src: URIRef | None, dst: URIRef | None) -> None:
        for s, p, o, _ in self.overlay.graph_quads(src):
            self.overlay.add((s, p, o, dst))

    def _exists(self, graph: URIRef | None) -> bool:
        return graph is None or self.overlay.graph_exists(graph)

    # --- operations -----------------------------------------------------------------------

    def run(self, op: CompValue) -> None:
        handler = getattr(self, "_" + op.name, None)
        if handler is None:
            raise UpdateFailed(f"unknown update operation {op.name}")
        handler(op)

    def _InsertData(self, op: CompValue) -> None:
        for s, p, o in op.triples or ():
            self._add(s, p, o, None)
        for graph, triples in (op.quads or {}).items():
            for s, p, o in triples:
                self._add(s, p, o, URIRef(str(graph)))

    def _DeleteData(self, op: CompValue) -> None:
        for s, p, o in op.triples or ():
            self.overlay.remove((s, p, o, None))
        for graph, triples in (op.quads or {}).items():
            for s, p, o in triples:
                self.overlay.remove((s, p, o, URIRef(str(graph))))

    def _DeleteWhere(self, op: CompValue) -> None:
        pattern: CompValue = BGP(list(op.triples or ()))
        for graph, triples in (op.quads or {}).items():
            pattern = Join(pattern, GraphPattern(graph, BGP(list(triples))))
        solutions = self._solutions(op, pattern, None, None)
        self._apply_templates(solutions, op.triples or (), op.quads or {}, None, delete=True)

    def _Modify(self, op: CompValue) -> None:
        using = [URIRef(u) for u in self.request.using_graph_uris]
        using_named = [URIRef(u) for u in self.request.using_named_graph_uris]
        for clause in op.using or ():
            if clause.default is not None:
                using.append(URIRef(str(clause.default)))
            elif clause.named is not None:
                using_named.append(URIRef(str(clause.named)))
        with_graph = self._graph(op.withClause) if op.withClause else None
        default: list[URIRef | None] | None
        named: list[URIRef] | None
        if using or using_named:
            default, named = list(using), using_named
        elif with_graph is not None:
            default, named = [with_graph], None
        else:
            default, named = None, None
        solutions = self._solutions(op, op.where, default, named)
        if op.delete:
            self._apply_templates(
                solutions, op.delete.triples or (), op.delete.quads or {}, with_graph, delete=True
            )
        if op.insert:
            self._apply_templates(
                solutions, op.insert.triples or (), op.insert.quads or {}, with_graph, delete=False
            )

    def _solutions(
        self,
        op: CompValue,
        where: CompValue,
        default: list[URIRef | None] | None,
        named: list[URIRef] | None,
    ) -> list[Any]:
        dataset, default_graph = view_dataset(self.overlay, default, named)
        ctx = QueryContext(dataset, initBindings={})
        ctx.prologue = op.prologue
        ctx = ctx.pushGraph(default_graph)
        return list(evalPart(ctx, where))

    def _apply_templates(
        self,
        solutions: Iterable[Any],
        triples: Iterable[tuple[Node, Node, Node]],
        quads: dict[Any, Iterable[tuple[Node, Node, Node]]],
        default_graph: URIRef | None,
        *,
        delete: bool,
    ) -> None:
        changes: list[Quad] = []
        triples = list(triples)
        quad_templates = [(g, list(ts)) for g, ts in quads.items()]
        for solution in solutions:
            fresh: dict[Node, Node] = {}
            for s, p, o in _fill(triples, solution, fresh):
                changes.append((s, p, o, default_graph))
            for g, ts in quad_templates:
                graph = solution.get(g) if isinstance(g, Variable) else g
                if not isinstance(graph, URIRef):
                    continue  # an unbound or non-IRI graph: this template instance is skipped
                for s, p, o in _fill(ts, solution, fresh):
                    changes.append((s, p, o, graph))
        for s, p, o, g in changes:
            if delete:
                if not isinstance(s, BNode) and not isinstance(o, BNode):
                    self.overlay.remove((s, p, o, g))
            else:
                self._add(s, p, o, g)

    def _Clear(self, op: CompValue) -> None:
        targets = self._targets(op.graphiri)
        for graph in targets:
            if not self._exists(graph) and not op.silent:
                raise UpdateFailed(f"CLEAR: there is no graph <{graph}>")
            self._clear(graph)

    def _Drop(self, op: CompValue) -> None:
        targets = self._targets(op.graphiri)
        for graph in targets:
            if not self._exists(graph) and not op.silent:
                raise UpdateFailed(f"DROP: there is no graph <{graph}>")
            self._clear(graph)

    def _Create(self, op: CompValue) -> None:
        graph = self._graph(op.graphiri)
        if graph is not None and self.overlay.graph_exists(graph) and not op.silent:
            raise UpdateFailed(f"CREATE: the graph <{graph}> exists already")

    def _graphs_of(self, op: CompValue) -> tuple[URIRef | None, URIRef | None]:
        src, dst = op.graph
        source, target = self._graph(src), self._graph(dst)
        if not self._exists(source) and not op.silent:
            raise UpdateFailed(f"{op.name.upper()}: there is no graph <{source}>")
        return source, target

    def _Add(self, op: CompValue) -> None:
        source, target = self._graphs_of(op)
        if source != target:
            self._copy_into(source, target)

    def _Copy(self, op: CompValue) -> None:
        source, target = self._graphs_of(op)
        if source != target:
            self._clear(target)
            self._copy_into(source, target)

    def _Move(self, op: CompValue) -> None:
        source, target = self._graphs_of(op)
        if source != target:
            self._clear(target)
            self._copy_into(source, target)
            self._clear(source)

    def _Load(self, op: CompValue) -> None:
        url = str(op.iri)
        if url not in self.allowed_urls:
            raise LoadRefused(
                f"LOAD <{url}> is refused: updates may load only from the allow-list "
                f"({', '.join(self.allowed_urls) or 'empty'})"
            )
        graph = self._graph(op.graphiri) if op.graphiri else None
        for s, p, o in self.fetch(url):
            self._add(s, p, o, graph)


def _fill(
    template: Iterable[tuple[Node, Node, Node]], solution: Any, fresh: dict[Node, Node]
) -> Iterator[tuple[Node, Node, Node]]:
    """A template's triples for one solution: variables bound, blank nodes fresh per solution;
    a triple with an unbound variable is left out (SPARQL 1.1 Update §3.1.3)."""
    for triple in template:
        out = []
        for term in triple:
            if isinstance(term, Variable):
                value = solution.get(term)
            elif isinstance(term, BNode):
                value = fresh.setdefault(term, BNode())
            else:
                value = term
            if value is None:
                break
            out.append(value)
        else:
            yield out[0], out[1], out[2]


def fetch_rdf(url: str, timeout: float = 30.0, max_bytes: int = 50_000_000) -> Graph:
    """The RDF at an allow-listed URL, parsed by its content type (LOAD)."""
    request = urllib.request.Request(url, headers={"Accept": "text/turtle, application/n-triples"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        data = response.read(max_bytes + 1)
        ctype = response.headers.get("Content-Type", "text/turtle").split(";")[0].strip()
    if len(data) > max_bytes:
        raise UpdateFailed(f"LOAD <{url}>: more than {max_bytes} bytes")
    graph = Graph()
    graph.parse(data=data, format=ctype, publicID=url)
    return graph


#: Graph Store request bodies: media type -> pyoxigraph parser.
BODY_FORMATS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/ld+json": ox.RdfFormat.JSON_LD,
}


def parse_body(body: bytes, media_type: str, base: str) -> list[tuple[Node, Node, Node]]:
    """A Graph Store request's triples (Oxigraph parses them); BodyError (400) with the line and
    column when the body does not parse."""
    try:
        quads = list(ox.parse(body, format=BODY_FORMATS[media_type], base_iri=base))
    except (SyntaxError, ValueError) as exc:
        raise BodyError(f"the {media_type} body does not parse: {exc}") from None
    return [from_ox_quad(q)[:3] for q in quads]


@dataclass(frozen=True)
class GraphOperation:
    """One Graph Store HTTP Protocol write: PUT, POST or DELETE of a graph (None: the default)."""

    method: str
    graph: str | None
    body: bytes = b""
    media_type: str = ""


def run_graph_operation(op: GraphOperation, overlay: Overlay) -> bool:
    """Carry out a Graph Store write on `overlay`; True when it created the graph."""
    graph = URIRef(op.graph) if op.graph is not None else None
    existed = graph is None or overlay.graph_exists(graph)
    bnodes: dict[Node, URIRef] = {}

    def add_all(parsed: list[tuple[Node, Node, Node]]) -> None:
        for s, p, o in parsed:
            if isinstance(s, BNode):
                s = bnodes.setdefault(s, skolem())
            if isinstance(o, BNode):
                o = bnodes.setdefault(o, skolem())
            overlay.add((s, p, o, graph))

    if op.method == "DELETE":
        if graph is not None and not existed:
            raise GraphNotFound(str(graph))
        for quad in overlay.graph_quads(graph):
            overlay.remove(quad)
        return False
    parsed = parse_body(op.body, op.media_type, op.graph or BASE)
    if op.method == "PUT":
        for quad in overlay.graph_quads(graph):
            overlay.remove(quad)
    add_all(parsed)
    return not existed and graph is not None and overlay.graph_exists(graph)
