"""The SPARQL narrowing never hides a violation: narrowed and exhaustive validation agree.

Each case pairs a small shapes graph with data that breaks it (and data that does not); the
narrowed run (graph.shacl_candidates + pyshacl on Oxigraph) must give exactly the report of
pyshacl run over every focus node.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, URIRef

from graph.build import Inputs, load_sources
from graph.loading import parse_into
from graph.shacl_candidates import shape_queries
from graph.validate import ValidationReport, find_candidates, load_shapes, validate

BROKEN = sorted((Path(__file__).parents[1] / "data" / "broken").glob("*.trig"))
SHAPES = load_shapes()

PREFIXES = """
@prefix ex: <http://example.org/> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
"""

#: (case, shapes, data breaking them): each a SHACL Core construct the narrowing translates, or
#: one it does not (the last ones), where it must fall back and still report.
CASES = [
    (
        "min-count-2",
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:minCount 2 ] .",
        "ex:a a ex:C ; ex:p 1 .",
    ),
    (
        "max-count-2",
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:maxCount 2 ] .",
        "ex:a a ex:C ; ex:p 1, 2, 3 .",
    ),
    (
        "max-count-1",
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:maxCount 1 ] .",
        "ex:a a ex:C ; ex:p 1, 2 .",
    ),
    (
        "subclass-instance-is-a-target",
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:minCount 1 ] .",
        "ex:D rdfs:subClassOf ex:C . ex:a a ex:D .",
    ),
    (
        "ill-formed-date",
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; "
        "sh:property [ sh:path ex:p ; sh:datatype xsd:date ] .",
        'ex:a a ex:C ; ex:p "2025-13-45"^^xsd:date . ex:b a ex:C ; ex:p "2025-01-02" .',
    ),
    (
        "or-of-datatypes",
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; "
        "sh:or ( [ sh:datatype xsd:gYear ] [ sh:datatype xsd:date ] ) ] .",
        'ex:a a ex:C ; ex:p "2003"^^xsd:gYear, "2003"^^xsd:integer .',
    ),
    (
        "not-of-datatype-with-ill-formed-value",
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; "
        "sh:property [ sh:path ex:p ; sh:not [ sh:datatype xsd:date ] ] .",
        'ex:a a ex:C ; ex:p "2025-01-02"^^xsd:date . ex:b a ex:C ; ex:p "soon"^^xsd:date .',
    ),
    (
        "pattern-with-flags",
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; "
        'sh:property [ sh:path ex:p ; sh:pattern "^ab" ; sh:flags "i" ] .',
        'ex:a a ex:C ; ex:p "ABc", "xab" .',
    ),
    (
        "lengths-and-blank-values",
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; "
        "sh:property [ sh:path ex:p ; sh:minLength 2 ; sh:maxLength 3 ] .",
        'ex:a a ex:C ; ex:p "a", "abcd", "ab", [] .',
    ),
    (
        "in-compares-terms",
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:in ( 1 ex:x ) ] .",
        'ex:a a ex:C ; ex:p "01"^^xsd:integer, ex:y, 1 .',
    ),
    (
        "class-and-node-kind",
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; "
        "sh:property [ sh:path ex:p ; sh:class ex:D ; sh:nodeKind sh:IRI ] .",
        'ex:a a ex:C ; ex:p ex:b, "lit" . ex:E rdfs:subClassOf ex:D . ex:b a ex:E .',
    ),
    (
        "inverse-path",
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; "
        "sh:property [ sh:path [ sh:inversePath ex:p ] ; sh:minCount 1 ] .",
        "ex:a a ex:C . ex:b a ex:C . ex:x ex:p ex:b .",
    ),
    (
        "comparisons",
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; "
        "sh:property [ sh:path ex:p ; sh:minInclusive 2 ; sh:maxExclusive 5 ] .",
        'ex:a a ex:C ; ex:p 1, 2, 5, "two" .',
    ),
    (
        "node-level-not-class",
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:not [ sh:class ex:D ] .",
        "ex:a a ex:C, ex:D . ex:b a ex:C .",
    ),
    (
        "node-reference-to-blank-shape",
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; "
        "sh:property [ sh:path ex:p ; sh:node [ sh:datatype xsd:string ] ] .",
        'ex:a a ex:C ; ex:p "x", 3 .',
    ),
    (
        "named-property-shape",
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property ex:P . "
        "ex:P a sh:PropertyShape ; sh:path ex:p ; sh:minCount 1 .",
        "ex:a a ex:C .",
    ),
    (
        "other-targets",
        "ex:S a sh:NodeShape ; sh:targetNode ex:n ; sh:targetSubjectsOf ex:q ; "
        "sh:targetObjectsOf ex:r ; sh:nodeKind sh:BlankNode .",
        "ex:x ex:q 1 . ex:y ex:r ex:z .",
    ),
    (
        "implicit-class-target",
        "ex:C a rdfs:Class, sh:NodeShape ; sh:property [ sh:path ex:p ; sh:minCount 1 ] .",
        "ex:a a ex:C .",
    ),
    (
        "untranslated-component-falls-back",
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; "
        'sh:property [ sh:path ex:p ; sh:languageIn ( "en" ) ] .',
        'ex:a a ex:C ; ex:p "x"@fr .',
    ),
    (
        "named-shape-under-node-falls-back",
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:node ex:N ] . "
        "ex:N a sh:NodeShape ; sh:property [ sh:path ex:q ; sh:minCount 1 ] .",
        "ex:a a ex:C ; ex:p ex:b .",
    ),
    (
        "blank-focus-node-falls-back",
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:nodeKind sh:IRI .",
        "[] a ex:C .",
    ),
]


def _graph(text: str) -> Graph:
    return Graph().parse(data=PREFIXES + text, format="turtle")


def _same(narrowed: ValidationReport, exhaustive: ValidationReport, *, messages: bool) -> None:
    """The same results; with `messages`, word for word (pyshacl's own default messages name
    nodes with the data graph's prefixes, which an Oxigraph store does not carry)."""
    assert narrowed.conforms == exhaustive.conforms
    if not messages:
        assert all(r.message for r in narrowed.results + exhaustive.results)
        narrowed = replace(
            narrowed, results=tuple(replace(r, message="") for r in narrowed.results)
        )
        exhaustive = replace(
            exhaustive, results=tuple(replace(r, message="") for r in exhaustive.results)
        )
    assert narrowed.results == exhaustive.results, (narrowed.text(), exhaustive.text())


@pytest.mark.parametrize(("shapes", "data"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_narrowed_validation_reports_what_exhaustive_validation_reports(
    shapes: str, data: str
) -> None:
    shapes_graph, data_graph = _graph(shapes), _graph(data)
    exhaustive = validate(data_graph, shapes_graph, exhaustive=True)
    assert not exhaustive.conforms  # the case does break its shapes
    _same(validate(data_graph, shapes_graph), exhaustive, messages=False)


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_every_broken_fixture_gets_the_exhaustive_report(path: Path, without_lists: Inputs) -> None:
    ds = load_sources(without_lists)
    parse_into(ds, path)
    _same(validate(ds, SHAPES), validate(ds, SHAPES, exhaustive=True), messages=True)


def test_conforming_seed_yields_no_candidates() -> None:
    store = ox.Store()
    store.bulk_load(
        load_sources().serialize(format="nquads", encoding="utf-8"), ox.RdfFormat.N_QUADS
    )
    plans = find_candidates(store, SHAPES)
    assert plans and all(focus == [] for _, focus in plans)


def test_every_project_shape_is_narrowed_or_targeted_by_its_own_sparql() -> None:
    """Our own shapes never take the slow path: each core shape is translated; each shape with
    sh:sparql has a SPARQL target that selects exactly the nodes it reports."""
    for plan in shape_queries(SHAPES):
        assert plan.query is not None, plan.shape
        if not plan.narrowed:
            assert (plan.shape, URIRef("http://www.w3.org/ns/shacl#sparql"), None) in SHAPES
