"""Real SPARQL clients against a live `diplokg serve`: SPARQLWrapper in every return format it has, rdflib's SPARQLStore.

The clients send what they send, not what docs/endpoint.md asks for: SPARQLWrapper repeats its
format in `format`, `output` and `results`, twice for TSV, JSON-LD and RDF/XML (its short name,
then the media type), and asks a CONSTRUCT for `format=xml` with `Accept: application/rdf+xml`
by default. Each answer is parsed the way the client parses it and checked on its content.
"""

from __future__ import annotations

import io
import json
import urllib.error
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.dom.minidom import Document

import httpx
import pytest
import SPARQLWrapper as sw
from rdflib import RDF, Graph, URIRef
from rdflib.namespace import RDFS
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from rdflib.query import Result

from tests.api.conftest import RECOGNIZING_STATE, RUSSIA
from tests.support.serving import served

#: SPARQLWrapper's own warnings: it parses into rdflib's deprecated ConjunctiveGraph, and for
#: its RDF format it sends `Accept: */*` (with `format=rdf`) and says so.
pytestmark = [
    pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:Sending Accept header:RuntimeWarning"),
]

DK = "https://w3id.org/diplokg/ontology#"
SD = "http://www.w3.org/ns/sparql-service-description#"
RECOGNIZES = (
    f"ASK {{ ?r a <{DK}Recognition> ; <{DK}recognizingState> <{RUSSIA}> }}",
    True,
)
RECOGNIZES_NOT = (
    f"ASK {{ ?r a <{DK}Recognition> ; <{DK}recognizingState> <{RUSSIA}-not-there> }}",
    False,
)
CONSTRUCT = (
    f"PREFIX dk: <{DK}>\n"
    "CONSTRUCT { ?r dk:recognizingState ?state } "
    "WHERE { ?r a dk:Recognition ; dk:recognizingState ?state }"
)
DESCRIBE = f"DESCRIBE <{RUSSIA}>"

#: How SPARQLWrapper sends a query: GET, POST form (setMethod(POST)), POST application/sparql-query.
METHODS = ("GET", "POST", "POST-direct")
#: SPARQLWrapper's formats for SELECT and the media type the answer must have.
SELECT_FORMATS = {
    sw.JSON: "application/sparql-results+json",
    sw.XML: "application/sparql-results+xml",
    sw.CSV: "text/csv",
    sw.TSV: "text/tab-separated-values",
}
ASK_FORMATS = {sw.JSON: "application/sparql-results+json", sw.XML: "application/sparql-results+xml"}
#: Its formats for CONSTRUCT and DESCRIBE (None: its default, XML) and the media types that fit.
GRAPH_FORMATS: dict[str | None, tuple[str, ...]] = {
    None: ("application/rdf+xml",),
    sw.XML: ("application/rdf+xml",),
    sw.RDF: ("application/rdf+xml",),
    sw.RDFXML: ("application/rdf+xml",),
    sw.TURTLE: ("text/turtle",),
    sw.N3: ("text/turtle", "application/n-triples", "text/n3", "text/rdf+n3"),
    sw.JSONLD: ("application/ld+json",),
}
RDFLIB_SYNTAX = {
    "text/turtle": "turtle",
    "text/n3": "n3",
    "text/rdf+n3": "n3",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
}


@pytest.fixture(scope="module")
def endpoint(built_dir: Path) -> Iterator[str]:
    """The /sparql URL of a live server over the seed build."""
    with served(built_dir, workers=2) as base:
        yield base + "/sparql"


def wrapper(endpoint: str, query: str, fmt: str | None, method: str) -> sw.SPARQLWrapper:
    """A SPARQLWrapper set up as a user would: the format (None keeps its default), the method."""
    sparql = sw.SPARQLWrapper(endpoint)
    sparql.setQuery(query)
    if fmt is not None:
        sparql.setReturnFormat(fmt)
    if method != "GET":
        sparql.setMethod(sw.POST)
    if method == "POST-direct":
        sparql.setRequestMethod(sw.POSTDIRECTLY)
    sparql.setTimeout(30)
    return sparql


def media_type(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def run(sparql: sw.SPARQLWrapper) -> tuple[str, Any]:
    """The answer's media type and SPARQLWrapper's conversion of it; an HTTP error fails, with its body."""
    try:
        result = sparql.query()
    except urllib.error.HTTPError as exc:
        failure = f"HTTP {exc.code}: {exc.read()[:600].decode(errors='replace')}"
    except sw.SPARQLExceptions.SPARQLWrapperException as exc:
        failure = str(exc)[:800]
    else:
        return media_type(result.info()["content-type"]), result.convert()
    pytest.fail(failure)


def solutions(converted: Any, fmt: str) -> Result:
    """A SELECT or ASK answer, as SPARQLWrapper converted it, parsed by rdflib."""
    if fmt == sw.JSON:
        assert isinstance(converted, dict), converted
        data = json.dumps(converted).encode()
        return Result.parse(io.BytesIO(data), format="json")
    if fmt == sw.XML:
        assert isinstance(converted, Document), converted
        return Result.parse(io.BytesIO(converted.toxml("utf-8")), format="xml")
    assert isinstance(converted, bytes), converted
    return Result.parse(io.BytesIO(converted), format=fmt)


def as_graph(converted: Any, media: str) -> Graph:
    """A CONSTRUCT or DESCRIBE answer, as SPARQLWrapper converted it, as one rdflib Graph."""
    graph = Graph()
    if isinstance(converted, Graph):  # RDF/XML and JSON-LD: SPARQLWrapper parsed it already
        for triple in converted.triples((None, None, None)):
            graph.add(triple)
        return graph
    assert isinstance(converted, bytes), f"{media} answer converted to {type(converted)}"
    return graph.parse(data=converted, format=RDFLIB_SYNTAX[media])


# --- SPARQLWrapper -----------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("fmt", list(SELECT_FORMATS))
def test_sparqlwrapper_select_is_answered_in_every_results_format(
    endpoint: str, fmt: str, method: str
) -> None:
    media, converted = run(wrapper(endpoint, RECOGNIZING_STATE, fmt, method))
    assert media == SELECT_FORMATS[fmt]
    result = solutions(converted, fmt)
    assert RUSSIA in [str(row[0]) for row in result]  # type: ignore[index]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("fmt", list(ASK_FORMATS))
@pytest.mark.parametrize("ask", [RECOGNIZES, RECOGNIZES_NOT], ids=["true", "false"])
def test_sparqlwrapper_ask_is_answered_as_a_boolean(
    endpoint: str, fmt: str, method: str, ask: tuple[str, bool]
) -> None:
    query, expected = ask
    media, converted = run(wrapper(endpoint, query, fmt, method))
    assert media == ASK_FORMATS[fmt]
    assert solutions(converted, fmt).askAnswer is expected


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("fmt", list(GRAPH_FORMATS), ids=lambda f: f or "default")
def test_sparqlwrapper_construct_is_answered_as_a_graph_in_every_rdf_format(
    endpoint: str, fmt: str | None, method: str
) -> None:
    media, converted = run(wrapper(endpoint, CONSTRUCT, fmt, method))
    assert media in GRAPH_FORMATS[fmt]
    graph = as_graph(converted, media)
    assert (None, URIRef(DK + "recognizingState"), URIRef(RUSSIA)) in graph
    assert {p for _, p, _ in graph} == {URIRef(DK + "recognizingState")}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("fmt", list(GRAPH_FORMATS), ids=lambda f: f or "default")
def test_sparqlwrapper_describe_is_answered_as_a_graph_in_every_rdf_format(
    endpoint: str, fmt: str | None, method: str
) -> None:
    media, converted = run(wrapper(endpoint, DESCRIBE, fmt, method))
    assert media in GRAPH_FORMATS[fmt]
    graph = as_graph(converted, media)
    assert (URIRef(RUSSIA), RDF.type, URIRef(DK + "State")) in graph
    assert graph.value(URIRef(RUSSIA), RDFS.label) is not None


def test_sparqlwrapper_sends_tsv_twice_under_each_format_parameter() -> None:
    """What the TSV tests above depend on: the client's own request (no server involved)."""
    sparql = wrapper("http://127.0.0.1:9/sparql", RECOGNIZING_STATE, sw.TSV, "GET")
    sent = sparql._getRequestEncodedParameters(("query", RECOGNIZING_STATE))
    for name in ("format", "output", "results"):
        assert f"{name}=tsv&{name}=text/tab-separated-values" in sent


def test_sparqlwrapper_default_construct_asks_for_rdfxml_with_format_xml() -> None:
    sparql = wrapper("http://127.0.0.1:9/sparql", CONSTRUCT, None, "GET")
    assert sparql._getAcceptHeader() == "application/rdf+xml"
    sent = sparql._getRequestEncodedParameters(("query", CONSTRUCT))
    assert "format=xml&output=xml&results=xml" in sent


# --- the same format named twice, by plain HTTP ------------------------------------------


@pytest.mark.parametrize(
    "names", [("format",), ("format", "output", "results")], ids=["format", "all-three"]
)
def test_tsv_named_by_short_name_and_media_type_together_is_accepted(
    endpoint: str, names: tuple[str, ...]
) -> None:
    pairs = [("query", RECOGNIZING_STATE)]
    for name in names:
        pairs += [(name, "tsv"), (name, "text/tab-separated-values")]
    response = httpx.get(endpoint, params=pairs, timeout=30)
    assert response.status_code == 200, response.text
    assert media_type(response.headers["content-type"]) == "text/tab-separated-values"
    result = Result.parse(io.BytesIO(response.content), format="tsv")
    assert RUSSIA in [str(row[0]) for row in result]  # type: ignore[index]


def test_construct_with_format_xml_and_rdfxml_accept_is_rdfxml(endpoint: str) -> None:
    response = httpx.get(
        endpoint,
        params={"query": CONSTRUCT, "format": "xml"},
        headers={"Accept": "application/rdf+xml"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert media_type(response.headers["content-type"]) == "application/rdf+xml"
    graph = Graph().parse(data=response.content, format="xml")
    assert (None, URIRef(DK + "recognizingState"), URIRef(RUSSIA)) in graph


# --- rdflib's SPARQLStore ----------------------------------------------------------------


@pytest.fixture(params=["GET", "POST", "POST_FORM"])
def remote_graph(endpoint: str, request: pytest.FixtureRequest) -> Graph:
    """An rdflib Graph over the endpoint (SPARQLStore: GET, POST sparql-query, POST form)."""
    return Graph(store=SPARQLStore(endpoint, method=request.param, returnFormat="xml"))


def test_sparqlstore_select_returns_the_recognizing_states(remote_graph: Graph) -> None:
    rows = remote_graph.query(f"PREFIX dk: <{DK}>\n" + RECOGNIZING_STATE)
    assert URIRef(RUSSIA) in [row[0] for row in rows]  # type: ignore[index]


@pytest.mark.parametrize("ask", [RECOGNIZES, RECOGNIZES_NOT], ids=["true", "false"])
def test_sparqlstore_ask_returns_the_boolean(remote_graph: Graph, ask: tuple[str, bool]) -> None:
    query, expected = ask
    assert remote_graph.query(query).askAnswer is expected


def test_sparqlstore_construct_returns_a_graph_with_triples(remote_graph: Graph) -> None:
    result = remote_graph.query(CONSTRUCT)
    assert result.graph is not None
    assert len(result.graph) > 0
    assert (None, URIRef(DK + "recognizingState"), URIRef(RUSSIA)) in result.graph


def test_sparqlstore_triple_patterns_iterate_over_the_graph(remote_graph: Graph) -> None:
    russia = URIRef(RUSSIA)
    assert (russia, RDF.type, URIRef(DK + "State")) in remote_graph
    assert remote_graph.value(russia, RDFS.label) is not None
    recognitions = set(remote_graph.subjects(URIRef(DK + "recognizingState"), russia))
    assert recognitions
    for recognition in recognitions:
        assert (recognition, RDF.type, URIRef(DK + "Recognition")) in remote_graph
    about = list(remote_graph.triples((russia, None, None)))
    assert len(about) >= 2


# --- the service description and dataset parameters, by plain HTTP -----------------------


def test_bare_get_returns_the_service_description(endpoint: str) -> None:
    response = httpx.get(endpoint, headers={"Accept": "text/turtle"}, timeout=30)
    assert response.status_code == 200
    assert media_type(response.headers["content-type"]) == "text/turtle"
    graph = Graph().parse(data=response.content, format="turtle")
    assert (None, RDF.type, URIRef(SD + "Service")) in graph


@pytest.mark.parametrize("name", ["default-graph-uri", "named-graph-uri"])
def test_dataset_parameter_without_a_query_is_a_bad_request(endpoint: str, name: str) -> None:
    response = httpx.get(
        endpoint, params={name: "https://w3id.org/diplokg/graph/entities"}, timeout=30
    )
    assert response.status_code == 400
    assert media_type(response.headers["content-type"]) == "application/problem+json"
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= problem.keys()
    assert problem["status"] == 400
