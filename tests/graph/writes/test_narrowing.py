"""The commit check's Python narrowing never misses a violation: on the seed build and on
neighbourhoods broken at random, every focus node pyshacl finds violating a shape, and every one
the SPARQL narrowing finds, is a candidate in Python."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD
from rdflib.term import Node

from graph.dumps import dump_path
from graph.shacl_candidates import shape_queries
from graph.validate import _focus
from graph.writes.backends import OxigraphBackend
from graph.writes.check import CommitCheck, Neighbourhood, required_predicates
from graph.writes.delta import Delta, from_ox_quad
from graph.writes.narrowing import Triples, compile_shape
from graph.writes.overlay import Overlay
from graph.writes.sparql_targets import Unknown

DK = "https://w3id.org/diplokg/ontology#"
RES = "https://w3id.org/diplokg/resource/"


@pytest.fixture(scope="module")
def store(built_dir: Path) -> ox.Store:
    store = ox.Store()
    store.load(path=str(dump_path(built_dir)), format=ox.RdfFormat.N_QUADS)
    return store


@pytest.fixture(scope="module")
def check(store: ox.Store) -> CommitCheck:
    backend = OxigraphBackend(store)
    return CommitCheck(hierarchy=backend.quads(None, RDFS.subClassOf, None, None, any_graph=True))


@pytest.fixture(scope="module")
def typed_nodes(store: ox.Store) -> list[Node]:
    rdf_type = ox.NamedNode(str(RDF.type))
    found = {from_ox_quad(q)[0] for q in store.quads_for_pattern(None, rdf_type, None, None)}
    return sorted((n for n in found if isinstance(n, URIRef)), key=str)


def test_every_shacl_core_shape_runs_in_python(check: CommitCheck) -> None:
    """Only the shapes that need SPARQL (SHACL-SPARQL constraints, SPARQL targets) keep their
    query: a Core shape that stopped compiling would silently cost a planner per commit."""
    sparql = {
        p.shape
        for p in check.plans
        if (p.shape, SH.sparql, None) in check.shapes or (p.shape, SH.target, None) in check.shapes
    }
    assert set(check.compiled) == {p.shape for p in check.plans} - sparql
    assert len(check.compiled) >= 20


def test_the_seed_build_has_no_candidates(store: ox.Store, check: CommitCheck) -> None:
    """Over the whole seed build (which conforms), Python finds no candidate for any compiled
    shape (a conforming commit costs no pyshacl), and neither does SPARQL."""
    triples = Triples(
        (s, p, o)
        for s, p, o, _ in (from_ox_quad(q) for q in store.quads_for_pattern(None, None, None))
    )
    subjects = {from_ox_quad(q)[0] for q in store.quads_for_pattern(None, None, None)}
    queries = {p.shape: p.query for p in shape_queries(check.shapes)}
    for shape, compiled in check.compiled.items():
        assert compiled.candidates(subjects, triples) == [], shape
        query = queries[shape]
        assert query is not None
        assert _focus(store, query) == [], shape


# --- neighbourhoods broken at random --------------------------------------------------------------

LITERALS = [
    Literal("2020-13-01", datatype=XSD.date),
    Literal("2020-02-30", datatype=XSD.date),
    Literal("2020-1-5", datatype=XSD.date),
    Literal("2020-02-29", datatype=XSD.date),
    Literal("2021-02-29", datatype=XSD.date),
    Literal("0999-01-01", datatype=XSD.date),
    Literal("2020-01-01Z", datatype=XSD.date),
    Literal("1999", datatype=XSD.gYear),
    Literal("99", datatype=XSD.gYear),
    Literal("1999-07", datatype=XSD.gYearMonth),
    Literal("1999-7", datatype=XSD.gYearMonth),
    Literal("2020-01-01", datatype=XSD.dateTime),
    Literal("true", datatype=XSD.boolean),
    Literal("1", datatype=XSD.boolean),
    Literal("01", datatype=XSD.integer),
    Literal("7", datatype=XSD.integer),
    Literal("2020"),
    Literal("short"),
    Literal(""),
    Literal("A long enough excerpt of a source, verbatim."),
    Literal("A long enough excerpt, in German.", lang="de"),
    Literal("x" * 4001),
    Literal("line one\nline two, long enough"),
    Literal("a" * 64),
    Literal("A" * 64),
    Literal("0123456789abcdef" * 4),
    Literal("0123456789abcdef" * 4 + "\n"),
    Literal("http://www.wikidata.org/entity/Q42"),
]
IRIS = [
    URIRef("http://www.wikidata.org/entity/Q42"),
    URIRef("http://www.wikidata.org/entity/Q0"),
    URIRef("http://www.wikidata.org/entity/Q42\u0661"),
    URIRef("https://www.wikidata.org/wiki/Q42"),
    URIRef(DK + "delisting"),
    URIRef(DK + "ambassador"),
    URIRef(DK + "nonsense"),
    URIRef(RES + "russia"),
    URIRef(RES + "islamic-emirate-of-afghanistan"),
    URIRef(RES + "article-russia-recognizes-islamic-emirate"),
    URIRef(RES + "no-such-thing"),
    BNode("b0"),
]
CLASSES = [URIRef(DK + c) for c in (
    "Fact", "Recognition", "RecognitionStance", "State", "Government", "Envoy", "SourceArticle",
    "TerrorDesignation", "Listing", "ListVersion", "Organization", "Person",
)]  # fmt: skip
PREDICATES = [URIRef(DK + p) for p in (
    "evidence", "evidenceTranslation", "startDate", "endDate", "hasEnded", "endedNoLaterThan",
    "sameFactAs", "recognizingState", "recognizedGovernment", "recognizedVia", "endKind",
    "envoyRank", "sha256", "governs", "sendingState", "receivingState", "sendingGovernment",
    "endedBy", "endedAfter", "viaEnvoy", "stanceHolder", "towardGovernment",
)] + [RDFS.label, OWL.sameAs, RDF.type, URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")]  # fmt: skip

VALUES = st.sampled_from(LITERALS + IRIS + CLASSES)
EDIT = st.one_of(
    st.tuples(st.just("drop"), st.integers(0, 40)),
    st.tuples(st.just("add"), st.sampled_from(PREDICATES), VALUES),
    st.tuples(st.just("set"), st.integers(0, 40), VALUES),
)


def _read(
    check: CommitCheck, delta: Delta, overlay: Overlay
) -> tuple[Neighbourhood, ox.Store, Triples]:
    """What the check of `delta` reads: the neighbourhood, in a small store and as Triples."""
    around = check.gather(delta, overlay)
    return around, check._store(around), Triples([*around.triples, *check.hierarchy])


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pick=st.integers(0, 10_000), edits=st.lists(EDIT, min_size=1, max_size=4))
def test_broken_neighbourhoods_are_candidates(
    store: ox.Store,
    check: CommitCheck,
    typed_nodes: list[Node],
    pick: int,
    edits: list[tuple[object, ...]],
) -> None:
    node = typed_nodes[pick % len(typed_nodes)]
    overlay = Overlay(OxigraphBackend(store))
    graph = URIRef(RES + "graph/curated-test")
    for edit in edits:
        own = sorted(overlay.quads(node, None, None, None, any_graph=True), key=str)
        if edit[0] == "drop" and own:
            overlay.remove(own[int(edit[1]) % len(own)])  # type: ignore[call-overload]
        elif edit[0] == "add":
            overlay.add((node, edit[1], edit[2], graph))  # type: ignore[arg-type]
        elif edit[0] == "set" and own:
            s, p, _, g = own[int(edit[1]) % len(own)]  # type: ignore[call-overload]
            overlay.remove((s, p, _, g))
            overlay.add((s, p, edit[2], g))  # type: ignore[arg-type]
    delta = overlay.delta()
    if not delta:
        return
    around, small, data = _read(check, delta, overlay)
    for plan in check.plans:
        compiled = check.compiled.get(plan.shape)
        if compiled is None:
            # A SPARQL plan skipped for want of a predicate its query requires has no answer.
            if plan.query is not None and not check.required[plan.shape] <= data.predicates:
                assert _focus(small, plan.query) == [], plan.shape
            # A narrowing query answered in Python answers as the store does.
            query = check.queries.get(plan.shape)
            if query is not None:
                assert plan.query is not None
                with contextlib.suppress(Unknown):
                    python_answer = set(query.candidates(around.focus, data))
                    expected = set(_focus(small, plan.query)) & around.focus
                    assert python_answer == expected, plan.shape
            continue
        python = set(compiled.candidates(around.focus, data))
        assert plan.query is not None
        sparql = set(_focus(small, plan.query)) & around.focus
        assert sparql <= python, (plan.shape, sparql - python)
        if not any(compiled.targets(n, data) for n in around.focus):
            continue  # no focus node is a target: pyshacl has nothing to judge
        judged = check._verdict(small, set(around.focus), [(plan, None)])
        violating: set[Node] = set()
        if judged.graph is not None:
            for result in judged.graph.subjects(RDF.type, SH.ValidationResult):
                if judged.graph.value(result, SH.resultSeverity) == SH.Violation:
                    violating.add(judged.graph.value(result, SH.focusNode))  # type: ignore[arg-type]
        assert violating <= python, (plan.shape, violating - python)


#: The predicates the SPARQL-target shapes read, and values to set them to.
SPARQL_READ = [URIRef(DK + p) for p in (
    "recognizedGovernment", "recognizingState", "sendingState", "receivingState",
    "sendingGovernment", "viaEnvoy", "stanceHolder", "towardGovernment", "endedBy", "endKind",
    "endedAfter", "hasEnded", "endDate", "endedNoLaterThan", "governs",
)]  # fmt: skip


def test_sparql_shapes_answer_in_python_as_the_store_does(
    store: ox.Store, check: CommitCheck
) -> None:
    """Facts of every kind the SPARQL-target shapes read, each with one of those predicates set
    to another state, government, envoy or boolean: the narrowing queries answered in Python
    find exactly the focus nodes the small store's SPARQL finds (or leave it to the store)."""
    backend = OxigraphBackend(store)
    kinds = ["Recognition", "Envoy", "RecognitionStance", "TerrorDesignation", "Listing",
             "Government"]  # fmt: skip
    nodes: list[Node] = []
    for kind in kinds:
        found = sorted({q[0] for q in backend.quads(None, RDF.type, URIRef(DK + kind), None,
                                                    any_graph=True)}, key=str)  # fmt: skip
        nodes.extend(found[:: max(1, len(found) // 4)][:4])
    values: list[Node] = [
        URIRef(RES + "russia"),
        URIRef(RES + "afghanistan"),
        URIRef(RES + "islamic-emirate-of-afghanistan"),
        Literal("true", datatype=XSD.boolean),
        Literal("false", datatype=XSD.boolean),
        Literal("1", datatype=XSD.boolean, normalize=False),
    ]
    envoys = [q[0] for q in backend.quads(None, RDF.type, URIRef(DK + "Envoy"), None,
                                          any_graph=True)][:1]  # fmt: skip
    values.extend(envoys)
    found_some: set[str] = set()
    for node in nodes:
        own = [q for q in backend.quads(node, None, None, None, any_graph=True)
               if q[1] in SPARQL_READ]  # fmt: skip
        for s, p, o, g in own:
            for value in values:
                overlay = Overlay(backend)
                overlay.remove((s, p, o, g))
                overlay.add((s, p, value, g))
                delta = overlay.delta()
                if not delta:
                    continue
                around, small, data = _read(check, delta, overlay)
                for shape, query in check.queries.items():
                    plan = next(x for x in check.plans if x.shape == shape)
                    assert plan.query is not None
                    expected = set(_focus(small, plan.query)) & around.focus
                    with contextlib.suppress(Unknown):
                        assert set(query.candidates(around.focus, data)) == expected, shape
                    if expected:
                        found_some.add(str(shape).rsplit("#", 1)[-1])
    # The edits reached the shapes: each recognition, envoy and ending shape was violated.
    assert {"RecognizedGovernmentGovernsShape", "RecognitionNotOfOwnStateShape",
            "EnvoyStatesDifferShape", "EnvoySendingGovernmentGovernsShape"} <= found_some  # fmt: skip


def test_a_conforming_commit_needs_no_store(
    check: CommitCheck, store: ox.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The neighbourhood of an ordinary new recognition: no compiled shape or query finds a
    candidate, and no small store is loaded to tell."""
    overlay = Overlay(OxigraphBackend(store))
    node = URIRef(RES + "recognition-narrowing-test")
    g = URIRef(RES + "graph/curated-test")
    for p, o in (
        (RDF.type, URIRef(DK + "Recognition")),
        (RDFS.label, Literal("A test recognition", lang="en")),
        (URIRef(DK + "recognizingState"), URIRef(RES + "russia")),
        (URIRef(DK + "recognizedGovernment"), URIRef(RES + "islamic-emirate-of-afghanistan")),
        (URIRef(DK + "startDate"), Literal("2025-07-04", datatype=XSD.date)),
        (URIRef(DK + "evidence"), Literal("Russia has officially recognized the government.")),
        (
            URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"),
            URIRef(RES + "article-russia-recognizes-islamic-emirate"),
        ),
    ):
        overlay.add((node, p, o, g))
    around: Neighbourhood = check.gather(overlay.delta(), overlay)
    data = Triples([*around.triples, *check.hierarchy])
    for compiled in check.compiled.values():
        assert compiled.candidates(around.focus, data) == []
    with monkeypatch.context() as patched:
        patched.setattr(check, "_store", lambda around: pytest.fail("a store was loaded"))
        assert check.judge(around).report.conforms
    bad = Delta(frozenset(), frozenset({(node, URIRef(DK + "startDate"), Literal("x"), g)}))
    assert not check.check(bad, _with(overlay, bad)).report.conforms


def _with(overlay: Overlay, delta: Delta) -> Overlay:
    for quad in delta.added:
        overlay.add(quad)
    return overlay


def test_required_predicates() -> None:
    ex = "PREFIX ex: <http://example.org/>\n"
    assert required_predicates(ex + "SELECT ?s { ?s ex:a ?o ; ex:b ?c }") == {
        URIRef("http://example.org/a"),
        URIRef("http://example.org/b"),
    }
    optional = "SELECT ?s { ?s ex:a ?o OPTIONAL { ?s ex:b ?c } MINUS { ?s ex:c ?d } }"
    assert required_predicates(ex + optional) == {URIRef("http://example.org/a")}
    union = "SELECT ?s { { ?s ex:a ?o ; ex:b ?x } UNION { ?s ex:a ?o } }"
    assert required_predicates(ex + union) == {URIRef("http://example.org/a")}
    exists = "SELECT ?s { ?s ex:a ?o FILTER NOT EXISTS { ?s ex:b ?c } ?s ex:p/ex:q ?r }"
    assert required_predicates(ex + exists) == {URIRef("http://example.org/a")}
    # An aggregate answers over nothing (COUNT = 0): nothing is required.
    assert required_predicates(ex + "SELECT (COUNT(*) AS ?n) { ?s ex:a ?o }") == set()
    sub = "SELECT ?s { { SELECT DISTINCT ?s { ?s ex:a ?o } } BIND(1 AS ?x) }"
    assert required_predicates(ex + sub) == {URIRef("http://example.org/a")}


def test_compile_refuses_what_it_does_not_know(check: CommitCheck) -> None:
    from graph.shacl_candidates import Unsupported

    sparql = next(p.shape for p in check.plans if (p.shape, SH.target, None) in check.shapes)
    with pytest.raises(Unsupported):
        compile_shape(check.shapes, sparql)
