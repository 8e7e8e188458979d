"""SPARQL 1.1 Protocol §2.1: the three ways to send a query, the dataset parameters, strict 400/415/413."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from rdflib import Dataset

from graph.layout import SOURCES_DIR
from tests.api.conftest import RECOGNIZING_STATE, RUSSIA, first_column

ENTITIES = "https://w3id.org/diplokg/graph/entities"
ONTOLOGY = "https://w3id.org/diplokg/ontology"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
GRAPHS = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"


def test_get_query_returns_the_recognizing_state(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": RECOGNIZING_STATE})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/sparql-results+json")
    assert first_column(response.content) == [RUSSIA]


def test_post_form_query_returns_the_recognizing_state(client: TestClient) -> None:
    response = client.post("/sparql", data={"query": RECOGNIZING_STATE})
    assert response.status_code == 200
    assert first_column(response.content) == [RUSSIA]


def test_post_direct_query_returns_the_recognizing_state(client: TestClient) -> None:
    response = client.post(
        "/sparql",
        content=RECOGNIZING_STATE.encode(),
        headers={"content-type": "application/sparql-query; charset=utf-8"},
    )
    assert response.status_code == 200
    assert first_column(response.content) == [RUSSIA]


def test_default_graph_is_the_union_of_named_graphs(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": GRAPHS})
    graphs = first_column(response.content)
    assert ENTITIES in graphs and ONTOLOGY in graphs
    assert len(graphs) >= 3


def test_default_graph_uri_restricts_the_default_graph(client: TestClient) -> None:
    query = "ASK { ?r a dk:Recognition }"
    whole = client.get("/sparql", params={"query": query})
    only_ontology = client.get("/sparql", params={"query": query, "default-graph-uri": ONTOLOGY})
    assert whole.json()["boolean"] is True
    assert only_ontology.json()["boolean"] is False


def test_named_graph_uri_gives_the_only_named_graphs(client: TestClient) -> None:
    response = client.get(
        "/sparql", params={"query": GRAPHS, "named-graph-uri": [ENTITIES, ONTOLOGY]}
    )
    assert first_column(response.content) == sorted([ENTITIES, ONTOLOGY])


def test_named_graph_uri_alone_leaves_an_empty_default_graph(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": COUNT, "named-graph-uri": ENTITIES})
    assert first_column(response.content) == ["0"]


def test_dataset_parameters_in_a_post_form(client: TestClient) -> None:
    response = client.post("/sparql", data={"query": GRAPHS, "named-graph-uri": [ENTITIES]})
    assert first_column(response.content) == [ENTITIES]


def test_from_clause_uses_local_graphs_only(client: TestClient) -> None:
    query = f"SELECT (COUNT(*) AS ?n) FROM <{ENTITIES}> WHERE {{ ?s ?p ?o }}"
    entities = Dataset().parse(SOURCES_DIR / "entities.trig", format="trig")
    expected = str(sum(len(g) for g in entities.graphs()))
    assert first_column(client.get("/sparql", params={"query": query}).content) == [expected]


def test_from_a_file_iri_is_not_read(client: TestClient) -> None:
    query = "SELECT ?s ?p ?o FROM <file:///etc/passwd> WHERE { ?s ?p ?o }"
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 200
    assert first_column(response.content) == []


def test_from_an_http_iri_is_not_fetched(client: TestClient) -> None:
    query = "SELECT ?s FROM NAMED <http://127.0.0.1:9/x> WHERE { GRAPH ?g { ?s ?p ?o } }"
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 200
    assert first_column(response.content) == []


def test_query_given_twice_is_400(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": [RECOGNIZING_STATE, "ASK {}"]})
    assert response.status_code == 400
    assert "twice" in response.json()["detail"] or "2 times" in response.json()["detail"]


def test_query_in_body_and_url_is_400(client: TestClient) -> None:
    response = client.post(
        "/sparql?query=ASK%7B%7D",
        content=b"ASK {}",
        headers={"content-type": "application/sparql-query"},
    )
    assert response.status_code == 400


def test_post_without_query_is_400(client: TestClient) -> None:
    response = client.post("/sparql", data={"default-graph-uri": ENTITIES})
    assert response.status_code == 400


def test_query_and_update_together_is_400(client: TestClient) -> None:
    response = client.post("/sparql", data={"query": "ASK {}", "update": "CLEAR ALL"})
    assert response.status_code == 400


def test_update_in_query_parameter_is_refused_and_not_executed(client: TestClient) -> None:
    insert = "INSERT DATA { <urn:x> <urn:y> <urn:z> }"
    response = client.get("/sparql", params={"query": insert})
    assert response.status_code == 400
    assert response.json()["type"].endswith("/update-refused")
    check = client.get("/sparql", params={"query": "ASK { <urn:x> <urn:y> <urn:z> }"})
    assert check.json()["boolean"] is False


def test_update_operation_post_is_refused(client: TestClient) -> None:
    for body, ctype in [
        (b"update=LOAD+%3Chttp%3A%2F%2F127.0.0.1%3A9%2F%3E", "application/x-www-form-urlencoded"),
        (b"CLEAR ALL", "application/sparql-update"),
    ]:
        response = client.post("/sparql", content=body, headers={"content-type": ctype})
        assert response.status_code == 400
        assert response.json()["type"].endswith("/update-refused")


def test_wrong_content_type_is_415(client: TestClient) -> None:
    response = client.post(
        "/sparql", content=b'{"query": "ASK {}"}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"


def test_body_over_the_limit_is_413(make_client) -> None:  # type: ignore[no-untyped-def]
    small = make_client(max_body_bytes=64)
    query = "SELECT * WHERE { ?s ?p ?o } # " + "x" * 100
    response = small.post(
        "/sparql", content=query.encode(), headers={"content-type": "application/sparql-query"}
    )
    assert response.status_code == 413


def test_syntax_error_is_400_with_message_and_position(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "SELECT ?x\nWHERE { ?x ?y }"})
    assert response.status_code == 400
    problem = response.json()
    assert problem["type"].endswith("/query-syntax")
    assert problem["line"] == 2
    assert isinstance(problem["column"], int)
    assert "expected" in problem["detail"].lower()


def test_undefined_prefix_is_400(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "SELECT * WHERE { ?s nope:p ?o }"})
    assert response.status_code == 400


def test_head_query_answers_the_get_headers_without_a_body(client: TestClient) -> None:
    get = client.get("/sparql", params={"query": RECOGNIZING_STATE})
    head = client.head("/sparql", params={"query": RECOGNIZING_STATE})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-type"] == get.headers["content-type"]


def test_other_methods_are_405_naming_the_allowed_ones(client: TestClient) -> None:
    response = client.put("/sparql", params={"query": RECOGNIZING_STATE})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST, OPTIONS"
    assert response.headers["content-type"] == "application/problem+json"


def test_dataset_parameters_without_a_query_are_400_not_the_service_description(
    client: TestClient,
) -> None:
    response = client.get("/sparql", params={"named-graph-uri": "https://example.org/g"})
    assert response.status_code == 400
    assert response.json()["type"].endswith("/missing-query")
    assert client.get("/sparql", params={"format": "turtle"}).status_code == 200


def test_each_query_logs_one_info_line_with_its_form_status_format_and_cache_state(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    query = RECOGNIZING_STATE + " # logged"
    with caplog.at_level("INFO", logger="api.queries"):
        client.get("/sparql", params={"query": query})
        client.get("/sparql", params={"query": query})
        client.get("/sparql", params={"query": "SELEC"})
    lines = [r.getMessage() for r in caplog.records if r.name == "api.queries"]
    assert len(lines) == 3
    assert "form=SELECT status=200 format=json" in lines[0] and lines[0].endswith("cache=miss")
    assert lines[1].endswith("cache=hit")
    assert "status=400" in lines[2]
    ids = [line.split()[1] for line in lines]
    assert len(set(ids)) == 3 and all(len(i) == len("id=") + 12 for i in ids)
