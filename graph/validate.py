"""SHACL validation (W3C SHACL, section 3.6 validation reports) of a dataset, as a typed report."""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from pyshacl import validate as shacl_validate
from pyshacl.graph_abstraction import OxigraphDataGraph
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH, XSD
from rdflib.term import Node

from graph.errors import DiploKGError, RDFParseError
from graph.layout import SHAPES_DIR
from graph.loading import new_dataset, parse_into, parser_for
from graph.namespaces import PREFIXES
from graph.shacl_candidates import ShapeQuery, named_classes, shape_queries, subclass_query

log = logging.getLogger(__name__)


@dataclass(frozen=True, order=True)
class ValidationResult:
    """One sh:ValidationResult, with IRIs shortened to prefixed names for reading."""

    severity: str
    focus: str
    path: str
    shape: str
    constraint: str
    message: str
    value: str = ""

    def text(self) -> str:
        lines = [f"{self.severity}: {self.message}", f"  focus node: {self.focus}"]
        if self.path:
            lines.append(f"  path:       {self.path}")
        if self.value:
            lines.append(f"  value:      {self.value}")
        lines.append(f"  shape:      {self.shape} ({self.constraint})")
        return "\n".join(lines)


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of validating a dataset against the shapes."""

    conforms: bool
    results: tuple[ValidationResult, ...] = field(default_factory=tuple)

    @property
    def violations(self) -> tuple[ValidationResult, ...]:
        return tuple(r for r in self.results if r.severity == "Violation")

    def summary(self) -> str:
        if self.conforms:
            return f"conforms ({len(self.results)} warnings or notes)"
        return f"{len(self.violations)} violation(s), {len(self.results)} result(s) in all"

    def text(self) -> str:
        head = (
            "Conforms: the data satisfies every shape."
            if self.conforms
            else (f"Does not conform: {self.summary()}.")
        )
        return "\n\n".join([head, *(r.text() for r in self.results)]) + "\n"


class ValidationFailed(DiploKGError):
    """The data does not conform to the SHACL shapes; carries the full report."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        super().__init__(f"the data does not conform to the shapes: {report.summary()}")


def load_shapes(shapes_dir: Path = SHAPES_DIR) -> Graph:
    """Every Turtle file under `shapes_dir`, as one shapes graph."""
    ds = Dataset()
    shapes = Graph()
    for path in sorted(shapes_dir.glob("*.ttl")):
        parse_into(ds, path, graph_name=path.resolve().as_uri())
    for graph in ds.graphs():
        for triple in graph:
            shapes.add(triple)
    return shapes


def union_graph(ds: Dataset) -> Graph:
    """All triples of all graphs of `ds` in one graph (SHACL validates a single data graph)."""
    merged = Graph()
    for name, iri in PREFIXES.items():
        merged.bind(name, iri)
    for quad in ds.quads((None, None, None, None)):
        merged.add(quad[:3])
    return merged


def validate(
    ds: Dataset | Graph, shapes: Graph | None = None, *, exhaustive: bool = False
) -> ValidationReport:
    """Validate the union of all graphs of `ds` (ontology included, for class hierarchy).

    By default the data goes into an in-memory Oxigraph store, SPARQL narrows each shape to the
    focus nodes that could fail it (graph.shacl_candidates), and pyshacl validates those. With
    `exhaustive`, pyshacl validates every focus node over rdflib, as the SHACL spec reads; the
    reports are the same, the exhaustive run is ~20x slower at 100,000 triples.
    """
    shapes_graph = shapes if shapes is not None else load_shapes()
    if exhaustive:
        return _validate_exhaustively(ds, shapes_graph)
    store = ox.Store()
    if isinstance(ds, Dataset):
        store.load(ds.serialize(format="nquads", encoding="utf-8"), format=ox.RdfFormat.N_QUADS)
    else:
        store.load(ds.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    return validate_store(store, shapes_graph)


#: The formats Oxigraph parses itself (rdflib takes about 30 s per million triples, Oxigraph 3 s).
_OXIGRAPH_FORMATS = {
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS,
    ".ttl": ox.RdfFormat.TURTLE,
    ".trig": ox.RdfFormat.TRIG,
}


def load_store(paths: Iterable[Path], base: Dataset | None = None) -> ox.Store:
    """An in-memory Oxigraph store holding `base` and every file.

    N-Triples, N-Quads, Turtle and TriG are parsed by Oxigraph, other RDF files by rdflib; a
    file that does not parse raises RDFParseError with its line.
    """
    store = ox.Store()
    if base is not None:
        store.load(base.serialize(format="nquads", encoding="utf-8"), format=ox.RdfFormat.N_QUADS)
    for path in paths:
        parser_for(path)  # an unknown suffix is refused as by every other command
        if not path.is_file():
            raise RDFParseError(path, "no such file")
        rdf_format = _OXIGRAPH_FORMATS.get(path.suffix.lower())
        if rdf_format is None:
            ds = new_dataset()
            parse_into(ds, path)
            store.load(ds.serialize(format="nquads", encoding="utf-8"), format=ox.RdfFormat.N_QUADS)
            continue
        graph = None if rdf_format.supports_datasets else ox.NamedNode(path.resolve().as_uri())
        try:
            if graph is None:
                store.load(path=path, format=rdf_format)
            else:
                store.load(path=path, format=rdf_format, to_graph=graph)
        except SyntaxError as exc:
            raise RDFParseError(path, str(exc.msg), line=exc.lineno) from None
    return store


def validate_store(store: ox.Store, shapes: Graph | None = None) -> ValidationReport:
    """Validate the union of the graphs of an Oxigraph store: narrowed by SPARQL, judged by pyshacl.

    Where the narrowing cannot be expressed (a shape it cannot translate, a blank focus node),
    the whole store is validated exhaustively instead: slower, never less strict.
    """
    shapes_graph = shapes if shapes is not None else load_shapes()
    plans = find_candidates(store, shapes_graph)
    if any(focus is None or any(isinstance(n, BNode) for n in focus) for _, focus in plans):
        log.warning("validating exhaustively: the shapes or data are beyond the SPARQL narrowing")
        dataset = Dataset()
        dataset.parse(data=store.dump(format=ox.RdfFormat.N_QUADS), format="nquads")
        return _validate_exhaustively(dataset, shapes_graph)
    conforms = True
    results: set[ValidationResult] = set()
    data = _OxigraphData(store)
    for plan, focus in plans:
        if not focus:
            continue
        shape_conforms, shape_results = _pyshacl(
            data, shapes_graph, use_shapes=[plan.shape, *plan.companions], focus_nodes=focus
        )
        conforms = conforms and shape_conforms
        results.update(shape_results)
    log.info("validated %d quads: %s", len(store), "conforms" if conforms else "violations")
    return ValidationReport(conforms=conforms, results=tuple(sorted(results)))


class _OxigraphData(OxigraphDataGraph):
    """pyshacl's view of an Oxigraph store, less one cost and one crash.

    The cost: for every result it reports, pyshacl tests the data graph for truth
    (`datagraph or shapes`), which an Oxigraph data graph answers by counting all of its triples
    (about 3 s per result at a million triples). The crash: pyshacl 0.40 asks for the objects of
    a literal (sh:class follows rdfs:subClassOf from each rdf:type, and data may say
    `rdf:type "a literal"`), which pyoxigraph refuses with a TypeError; no triple has a literal
    subject, so the answer is none."""

    def __bool__(self) -> bool:
        return True

    def objects(  # pyshacl's signature (Any: it and rdflib disagree)
        self, subject: Any = None, predicate: Any = None, unique: bool = False
    ) -> Any:
        if isinstance(subject, Literal):
            return iter(())
        return super().objects(subject, predicate, unique=unique)


def find_candidates(store: ox.Store, shapes: Graph) -> list[tuple[ShapeQuery, list[Node] | None]]:
    """Each node shape with the focus nodes that may violate it (`None`: cannot tell)."""
    subclasses: dict[Node, list[Node]] = defaultdict(list)
    for row in _select(store, subclass_query(named_classes(shapes))):
        subclasses[_term(row["class"])].append(_term(row["sub"]))
    plans = shape_queries(shapes, subclasses)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        found = pool.map(
            lambda q: None if q is None else _focus(store, q), (p.query for p in plans)
        )
        return list(zip(plans, found, strict=True))


def _focus(store: ox.Store, query: str) -> list[Node]:
    return [_term(row["this"]) for row in _select(store, query)]


def _term(term: object) -> Node:
    node = to_rdflib(term)
    assert node is not None  # SELECT ?this / ?class ?sub bind every row
    return node


def _select(store: ox.Store, query: str) -> ox.QuerySolutions:
    solutions = store.query(query, use_default_graph_as_union=True)
    assert isinstance(solutions, ox.QuerySolutions)
    return solutions


def _validate_exhaustively(ds: Dataset | Graph, shapes: Graph) -> ValidationReport:
    data = union_graph(ds) if isinstance(ds, Dataset) else ds
    conforms, results = _pyshacl(data, shapes)
    log.info("validated %d triples: %s", len(data), "conforms" if conforms else "violations")
    return ValidationReport(conforms=conforms, results=tuple(sorted(results)))


def _pyshacl(data: Any, shapes: Graph, **selection: Any) -> tuple[bool, list[ValidationResult]]:
    """pyshacl with the project's options (SHACL-SPARQL on, no inference, warnings allowed, the
    data graph used in place, not copied: with no inference and no rules pyshacl leaves it as is)."""
    conforms, report, _ = shacl_validate(
        data,
        shacl_graph=shapes,
        inference="none",
        abort_on_first=False,
        allow_warnings=True,
        advanced=True,
        inplace=True,
        **selection,
    )
    return bool(conforms), list(_results(report, shapes))


def _results(report: Graph, shapes: Graph) -> Iterable[ValidationResult]:
    for node in report.subjects(RDF.type, SH.ValidationResult):
        severity = report.value(node, SH.resultSeverity)
        yield ValidationResult(
            severity=_local(severity) if severity is not None else "Violation",
            focus=_show(report.value(node, SH.focusNode)),
            path=_show(report.value(node, SH.resultPath)),
            shape=_show_shape(report.value(node, SH.sourceShape), shapes),
            constraint=_show(report.value(node, SH.sourceConstraintComponent)),
            message="; ".join(sorted(str(m) for m in report.objects(node, SH.resultMessage))),
            value=_show(report.value(node, SH.value)),
        )


def _show_shape(node: Node | None, shapes: Graph) -> str:
    """A shape's name; an anonymous property shape is named after its node shape and path."""
    if isinstance(node, BNode):
        parent = shapes.value(None, SH.property, node)
        path = shapes.value(node, SH.path)
        if parent is not None and path is not None:
            return f"{_show(parent)}[{_show(path)}]"
    return _show(node)


def _local(node: Node) -> str:
    text = str(node)
    return text.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _show(node: Node | None) -> str:
    if node is None:
        return ""
    if isinstance(node, URIRef):
        for name, iri in PREFIXES.items():
            if str(node).startswith(iri) and str(node) != iri:
                return f"{name}:{str(node)[len(iri) :]}"
        if str(node).startswith(str(SH)):
            return "sh:" + str(node)[len(str(SH)) :]
        return f"<{node}>"
    if isinstance(node, Literal):
        if node.datatype == XSD.string:  # RDF 1.1: the same term as the plain literal
            return Literal(str(node)).n3()
        return node.n3()
    if isinstance(node, BNode):
        return "[blank node]"
    return str(node)


def to_rdflib(term: Any) -> Node | None:
    """A pyoxigraph term as an rdflib term (a blank node keeps its id, as pyshacl's Oxigraph
    backend names it)."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise DiploKGError(f"unsupported term in a result: {term!r}")
