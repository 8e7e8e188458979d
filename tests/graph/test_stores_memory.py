"""The Store contract (graph.stores.base) on the memory backend; other backends can join STORES."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import Dataset, Graph, URIRef
from rdflib.query import Result

from graph.errors import QuerySyntaxError, UnsupportedFormat, UpdateRefused
from graph.layout import SOURCES_DIR
from graph.stores import open_store
from graph.stores.base import Store

STORES = ["memory"]
RUSSIA = "https://w3id.org/diplokg/resource/russia"
ENTITIES = "https://w3id.org/diplokg/graph/entities"


@pytest.fixture(scope="module", params=STORES)
def store(request: pytest.FixtureRequest, built_dir: Path) -> Iterator[Store]:
    with open_store(request.param, built_dir) as opened:
        yield opened


def rows(store: Store, query: str, **kwargs: object) -> list[str]:
    body = store.query(query, **kwargs).serialize("json")  # type: ignore[arg-type]
    return sorted(str(r[0]) for r in Result.parse(io.BytesIO(body), format="json"))  # type: ignore[index]


def test_select_finds_the_recognizing_state(store: Store) -> None:
    query = "SELECT ?s WHERE { ?r a dk:Recognition ; dk:recognizingState ?s }"
    assert rows(store, query) == [RUSSIA]


def test_default_graph_is_the_union_and_named_graphs_are_listed(store: Store) -> None:
    assert ENTITIES in store.named_graphs()
    count = rows(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert int(count[0]) == store.triple_count() > 0


def test_protocol_dataset_replaces_the_service_dataset(store: Store) -> None:
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    entities = Dataset().parse(SOURCES_DIR / "entities.trig", format="trig")
    expected = str(sum(len(g) for g in entities.graphs()))
    assert rows(store, count, default_graph_uris=[ENTITIES]) == [expected]
    assert rows(store, count, named_graph_uris=[ENTITIES]) == ["0"]
    graphs = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    assert rows(store, graphs, named_graph_uris=[ENTITIES]) == [ENTITIES]


def test_unknown_graph_iri_is_an_empty_graph_never_fetched(store: Store) -> None:
    query = "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }"
    assert rows(store, query) == []


def test_max_rows_truncates_and_says_so(store: Store) -> None:
    result = store.query("SELECT * WHERE { ?s ?p ?o }", max_rows=2)
    body = result.serialize("json")
    assert result.truncated
    assert len(list(Result.parse(io.BytesIO(body), format="json"))) == 2
    graph = store.query("CONSTRUCT WHERE { ?s ?p ?o }", max_rows=2)
    assert graph.truncated
    assert len(Graph().parse(data=graph.serialize("turtle"), format="turtle")) == 2


def test_construct_serializes_to_every_graph_format(store: Store) -> None:
    result = store.query("DESCRIBE res:russia")
    for fmt, parser in [("turtle", "turtle"), ("ntriples", "nt"), ("jsonld", "json-ld"),
                        ("rdfxml", "xml")]:  # fmt: skip
        graph = Graph().parse(data=result.serialize(fmt), format=parser)
        assert (URIRef(RUSSIA), None, None) in graph
    with pytest.raises(UnsupportedFormat):
        result.serialize("csv")


def test_errors_are_domain_exceptions(store: Store) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        store.query("SELECT ?x WHERE {")
    assert caught.value.line == 1
    with pytest.raises(UpdateRefused):
        store.query("DROP ALL")
    assert rows(store, "SELECT ?s WHERE { ?s a dk:State } LIMIT 1") != []
