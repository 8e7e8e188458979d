"""Curated writes from real SPARQL clients against a real `diplokg serve --write-tokens`:
rdflib's SPARQLUpdateStore (a Graph and a Dataset over the endpoint) and SPARQLWrapper (an
update sent as the body and as a form). Each client authenticates with a Bearer header; a wrong
token is an HTTP 401 in each.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.error import HTTPError

import httpx
import pytest
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLUpdateStore
from SPARQLWrapper import JSON, POST, POSTDIRECTLY, URLENCODED, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import Unauthorized

from tests.support.serving import served

RDFLIB_TOKEN = "rdflib-client-token-0123456789"
WRAPPER_TOKEN = "wrapper-client-token-9876543210"
WRONG_TOKEN = "not-a-token-of-this-server-000"
P = URIRef("urn:x:p")


@pytest.fixture(scope="module")
def base(built_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A writable `diplokg serve` over a fresh oxigraph:DIR store, for the module."""
    directory = tmp_path_factory.mktemp("write-clients")
    tokens = directory / "tokens.txt"
    tokens.write_text(
        f"rdflib-client:{RDFLIB_TOKEN}\nwrapper-client:{WRAPPER_TOKEN}\n", encoding="utf-8"
    )
    store = f"oxigraph:{directory / 'store'}"
    with served(built_dir, "--store", store, "--write-tokens", str(tokens)) as url:
        yield url


def update_store(base: str, token: str) -> SPARQLUpdateStore:
    """rdflib's store over the endpoint; extra keyword arguments go to every request it makes."""
    return SPARQLUpdateStore(
        query_endpoint=base + "/sparql",
        update_endpoint=base + "/update",
        headers={"Authorization": f"Bearer {token}"},
    )


def graph_triples(base: str, graph: str) -> set[tuple[str, str, str]]:
    """The graph as the Graph Store serves it (read with plain HTTP)."""
    response = httpx.get(
        base + "/store", params={"graph": graph}, headers={"Accept": "application/n-triples"}
    )
    if response.status_code == 404:
        return set()
    assert response.status_code == 200, response.text
    parsed = Graph().parse(data=response.text, format="nt")
    return {(str(s), str(p), str(o)) for s, p, o in parsed}


def agents(base: str) -> dict[str, str]:
    """Commit id -> the agent the change log records."""
    listed = httpx.get(base + "/changes").json()["changes"]
    return {entry["id"]: entry["agent"] for entry in listed}


# --- rdflib ----------------------------------------------------------------------------------------


def test_rdflib_graph_over_the_update_store_adds_and_reads_back(base: str) -> None:
    store = update_store(base, RDFLIB_TOKEN)
    graph = Graph(store, identifier=URIRef("urn:x:rdflib-graph"))
    graph.add((URIRef("urn:x:a"), P, Literal("one")))
    graph.add((URIRef("urn:x:b"), P, Literal("zwei", lang="de")))
    assert set(graph) == {
        (URIRef("urn:x:a"), P, Literal("one")),
        (URIRef("urn:x:b"), P, Literal("zwei", lang="de")),
    }
    assert graph.value(URIRef("urn:x:a"), P) == Literal("one")
    assert graph_triples(base, "urn:x:rdflib-graph") == {
        ("urn:x:a", "urn:x:p", "one"),
        ("urn:x:b", "urn:x:p", "zwei"),
    }
    assert set(agents(base).values()) >= {"rdflib-client"}


def test_rdflib_graph_remove_is_a_with_delete_where(base: str) -> None:
    store = update_store(base, RDFLIB_TOKEN)
    graph = Graph(store, identifier=URIRef("urn:x:rdflib-remove"))
    graph.add((URIRef("urn:x:a"), P, Literal("kept")))
    graph.add((URIRef("urn:x:b"), P, Literal("removed")))
    graph.remove((URIRef("urn:x:b"), None, None))
    assert set(graph) == {(URIRef("urn:x:a"), P, Literal("kept"))}


def test_rdflib_dataset_over_the_update_store_writes_a_named_graph_in_one_commit(
    base: str,
) -> None:
    store = update_store(base, RDFLIB_TOKEN)
    store.autocommit = False  # the quads go in one request: one commit
    # a union default graph: rdflib then names no default-graph-uri (which would leave the
    # request's dataset without named graphs, SPARQL 1.1 Protocol §2.1.4)
    dataset = Dataset(store, default_union=True)
    name = URIRef("urn:x:rdflib-dataset")
    commits = len(agents(base))
    dataset.addN(
        [
            (URIRef("urn:x:a"), P, Literal(1), dataset.graph(name)),
            (URIRef("urn:x:b"), P, Literal(2), dataset.graph(name)),
        ]
    )
    store.commit()
    assert len(agents(base)) == commits + 1
    result = dataset.query(f"SELECT ?s ?o WHERE {{ GRAPH <{name}> {{ ?s <{P}> ?o }} }} ORDER BY ?s")
    assert [(str(row[0]), row[1].toPython()) for row in result] == [  # type: ignore[index,union-attr]
        ("urn:x:a", 1),
        ("urn:x:b", 2),
    ]
    assert name in {g.identifier for g in dataset.graphs()}


def test_rdflib_with_a_wrong_token_gets_401(base: str) -> None:
    graph = Graph(update_store(base, WRONG_TOKEN), identifier=URIRef("urn:x:rdflib-401"))
    with pytest.raises(HTTPError) as refused:
        graph.add((URIRef("urn:x:a"), P, Literal("never")))
    assert refused.value.code == 401
    assert refused.value.headers["WWW-Authenticate"].startswith("Bearer")
    assert graph_triples(base, "urn:x:rdflib-401") == set()


# --- SPARQLWrapper --------------------------------------------------------------------------------


def wrapper(base: str, token: str, request_method: str) -> SPARQLWrapper:
    client = SPARQLWrapper(base + "/sparql", updateEndpoint=base + "/update")
    client.setMethod(POST)
    client.setRequestMethod(request_method)
    client.addCustomHttpHeader("Authorization", f"Bearer {token}")
    return client


def select_objects(base: str, graph: str) -> list[str]:
    client = SPARQLWrapper(base + "/sparql")
    client.setQuery(f"SELECT ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} ORDER BY ?o")
    client.setReturnFormat(JSON)
    result = client.queryAndConvert()
    assert isinstance(result, dict)
    return [row["o"]["value"] for row in result["results"]["bindings"]]


@pytest.mark.parametrize("request_method", [POSTDIRECTLY, URLENCODED])
def test_sparqlwrapper_update_commits_and_is_queried_back(base: str, request_method: str) -> None:
    graph = f"urn:x:wrapper-{request_method}"
    client = wrapper(base, WRAPPER_TOKEN, request_method)
    client.setQuery(
        f'INSERT DATA {{ GRAPH <{graph}> {{ <urn:x:a> <urn:x:p> "é {request_method}" }} }}'
    )
    assert client.isSparqlUpdateRequest()
    answer = client.query()
    assert answer.response.status == 200
    body = json.loads(answer.response.read())
    assert body["added"] == 1
    assert agents(base)[body["commit"]] == "wrapper-client"
    assert select_objects(base, graph) == [f"é {request_method}"]


@pytest.mark.parametrize("request_method", [POSTDIRECTLY, URLENCODED])
def test_sparqlwrapper_with_a_wrong_token_gets_401(base: str, request_method: str) -> None:
    graph = f"urn:x:wrapper-401-{request_method}"
    client = wrapper(base, WRONG_TOKEN, request_method)
    client.setQuery(f"INSERT DATA {{ GRAPH <{graph}> {{ <urn:x:a> <urn:x:p> 1 }} }}")
    with pytest.raises(Unauthorized) as refused:
        client.query()
    assert WRONG_TOKEN not in str(refused.value)
    assert select_objects(base, graph) == []
