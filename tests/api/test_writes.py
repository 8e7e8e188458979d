"""Curated writes over HTTP on an `oxigraph:DIR` store: SPARQL 1.1 Update at /update, the Graph
Store HTTP Protocol at /store, the change history at /changes, through the app's own lifespan
(the writer process, then query workers that follow the change log).

One app serves the module (each test writes its own `urn:x:` graphs); a test that needs to see
the whole change log starts a small app of its own over a fresh store.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import PROV, RDF, RDFS, SH

from api.app import create_app
from api.settings import Settings
from api.writes import TokenFileError, load_tokens
from graph.namespaces import DK, ONTOLOGY_IRI
from graph.writes.commits import AGENT, CHANGE
from graph.writes.repository import CURATED_GRAPHS

TOKEN = "alice-0123456789-abcdef"
BOT_TOKEN = "bot-token-fedcba9876543210"
WRONG_TOKEN = "mallory-not-a-valid-token-42"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
UPDATE = "application/sparql-update"
PROBLEM = "application/problem+json"
PROBLEMS = "https://w3id.org/diplokg/problems/"
SHACL_NQUADS = "application/shacl-validation-report+n-quads"
MAX_BODY = 40_000
MAX_CHANGES = 300
SD = "http://www.w3.org/ns/sparql-service-description#"

RES = "PREFIX res: <https://w3id.org/diplokg/resource/>\n"
FACT = """res:{name} a dk:Recognition ; rdfs:label "A test recognition"@en ;
    dk:recognizingState res:russia ; dk:recognizedGovernment res:islamic-emirate-of-afghanistan ;
    dk:startDate "2025-07-04"^^xsd:date ;
    dk:evidence "Russia has officially recognized the Taliban government (test)." ;
    prov:wasDerivedFrom res:article-russia-recognizes-islamic-emirate {extra} ."""
#: A new fact that passes the shapes.
GOOD = (
    RES
    + "INSERT DATA { GRAPH dkg:curated-test { "
    + FACT.format(name="recognition-test", extra="")
    + " } }"
)
#: The same fact, ended before it started: the shapes refuse it.
BAD = (
    RES
    + "INSERT DATA { GRAPH dkg:curated-test { "
    + FACT.format(name="recognition-bad", extra='; dk:endDate "2020-01-01"^^xsd:date')
    + " } }"
)
BAD_IRI = "https://w3id.org/diplokg/resource/recognition-bad"


# --- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def token_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tokens") / "tokens.txt"
    path.write_text(f"# curators\nalice:{TOKEN}\n\ncuration-bot:{BOT_TOKEN}\n", encoding="utf-8")
    return path


def write_settings(built_dir: Path, store_dir: Path, token_file: Path) -> Settings:
    return Settings(
        dataset=built_dir,
        store=f"oxigraph:{store_dir}",
        workers=1,
        write_tokens=str(token_file),
        max_body_bytes=MAX_BODY,
        max_update_changes=MAX_CHANGES,
        query_timeout=20.0,
    )


@pytest.fixture(scope="module")
def client(
    built_dir: Path, token_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """The writable app of the module, over a fresh store directory."""
    settings = write_settings(built_dir, tmp_path_factory.mktemp("store"), token_file)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture()
def fresh_client(built_dir: Path, token_file: Path, tmp_path: Path) -> Iterator[TestClient]:
    """A writable app over a store of its own: its change log starts empty."""
    with TestClient(create_app(write_settings(built_dir, tmp_path / "store", token_file))) as c:
        yield c


@pytest.fixture(scope="module")
def read_only(built_dir: Path) -> Iterator[TestClient]:
    """An app started without --write-tokens."""
    settings = Settings(dataset=built_dir, store="oxigraph", workers=1, query_timeout=20.0)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def post_update(
    client: TestClient,
    text: str,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    response: httpx.Response = client.post(
        "/update",
        content=text.encode("utf-8"),
        params=params or {},
        headers={**AUTH, "Content-Type": UPDATE, **(headers or {})},
    )
    return response


def update(client: TestClient, text: str, params: dict[str, str] | None = None) -> dict[str, Any]:
    """A write that must succeed: its JSON answer."""
    response = post_update(client, text, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def rows(client: TestClient, query: str) -> list[dict[str, str]]:
    """The SELECT's rows, each variable -> its value."""
    response = client.post(
        "/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    assert response.status_code == 200, response.text
    bindings = response.json()["results"]["bindings"]
    return [{k: v["value"] for k, v in row.items()} for row in bindings]


def ask(client: TestClient, query: str) -> bool:
    response = client.post(
        "/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    assert response.status_code == 200, response.text
    return bool(response.json()["boolean"])


def read_graph(client: TestClient, iri: str) -> Graph | None:
    """The graph as the Graph Store serves it (Turtle), None when it does not exist."""
    response = client.get("/store", params={"graph": iri}, headers={"Accept": "text/turtle"})
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    return Graph().parse(data=response.text, format="turtle")


def triples(client: TestClient, iri: str) -> set[tuple[str, str, str]]:
    graph = read_graph(client, iri)
    return set() if graph is None else {(str(s), str(p), str(o)) for s, p, o in graph}


def put(client: TestClient, iri: str, turtle: str, **headers: str) -> httpx.Response:
    response: httpx.Response = client.put(
        "/store",
        params={"graph": iri},
        content=turtle.encode("utf-8"),
        headers={**AUTH, "Content-Type": "text/turtle", **headers},
    )
    return response


def seed(client: TestClient, graph: str, *objects: str, predicate: str = "urn:x:p") -> None:
    """Give `graph` one triple <urn:x:s-VALUE> <predicate> "VALUE" per value."""
    data = " ".join(f'<urn:x:s-{v}> <{predicate}> "{v}" .' for v in objects)
    update(client, f"INSERT DATA {{ GRAPH <{graph}> {{ {data} }} }}")


def assert_problem(
    response: httpx.Response, status: int, slug: str | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith(PROBLEMS)
    if slug is not None:
        assert body["type"] == PROBLEMS + slug
    assert body["detail"]
    return body


def current_etag(client: TestClient) -> str:
    """The dataset's ETag, as a Graph Store GET reports it."""
    response = client.head("/store", params={"default": ""})
    return str(response.headers["X-DiploKG-Dataset-ETag"])


def changes(client: TestClient) -> list[dict[str, Any]]:
    response = client.get("/changes")
    assert response.status_code == 200
    entries: list[dict[str, Any]] = response.json()["changes"]
    return entries


# --- tokens -----------------------------------------------------------------------------------


def test_a_write_without_a_token_is_401_with_a_bearer_challenge(client: TestClient) -> None:
    response = client.post(
        "/update",
        content=b"INSERT DATA { <urn:x:a> <urn:x:p> 1 }",
        headers={"Content-Type": UPDATE},
    )
    assert_problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "error=" not in response.headers["WWW-Authenticate"]


def test_a_wrong_token_is_401_invalid_token_and_never_echoed(client: TestClient) -> None:
    text = "INSERT DATA { GRAPH <urn:x:wrong-token> { <urn:x:a> <urn:x:p> 1 } }"
    response = post_update(client, text, {"Authorization": f"Bearer {WRONG_TOKEN}"})
    assert_problem(response, 401, "unauthorized")
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer") and 'error="invalid_token"' in challenge
    assert WRONG_TOKEN not in response.text and TOKEN not in response.text
    assert read_graph(client, "urn:x:wrong-token") is None


def test_another_scheme_than_bearer_is_401(client: TestClient) -> None:
    response = put(client, "urn:x:basic", "<urn:x:a> <urn:x:p> 1 .", Authorization=f"Basic {TOKEN}")
    assert_problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert TOKEN not in response.text
    assert read_graph(client, "urn:x:basic") is None


def test_graph_store_writes_need_a_token(client: TestClient) -> None:
    response = client.put(
        "/store",
        params={"graph": "urn:x:no-token"},
        content=b"<urn:x:a> <urn:x:p> 1 .",
        headers={"Content-Type": "text/turtle"},
    )
    assert_problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_problem(client.delete("/store", params={"graph": "urn:x:no-token"}), 401)


def test_no_answer_ever_echoes_the_token(client: TestClient) -> None:
    answers = [
        post_update(client, "INSERT DATA { GRAPH <urn:x:echo> { <urn:x:a> <urn:x:p> 1 } }"),
        post_update(client, "INSERT DATA { this is not sparql }"),
        post_update(client, BAD),
        post_update(client, "DROP GRAPH <urn:x:never-there>"),
        put(client, "urn:x:echo", "not turtle at all <"),
        client.delete("/store", params={"graph": "urn:x:never-there"}, headers=AUTH),
        client.post("/changes/nope/revert", headers=AUTH),
        client.get("/changes"),
    ]
    assert [a.status_code for a in answers] == [200, 400, 409, 400, 400, 404, 404, 200]
    for answer in answers:
        assert TOKEN not in answer.text
        assert TOKEN not in json.dumps(dict(answer.headers))


# --- /update: the protocol ----------------------------------------------------------------------


def test_an_update_body_commits_and_answers_its_commit(client: TestClient) -> None:
    response = post_update(client, "INSERT DATA { GRAPH <urn:x:body> { <urn:x:a> <urn:x:p> 1 } }")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["added"] == 1 and body["removed"] == 0
    assert body["iri"] == CHANGE + body["commit"]
    assert body["change"] == f"/changes/{body['commit']}"
    assert response.headers["ETag"] == body["etag"] == f'"{body["commit"]}"'
    assert response.headers["Content-Location"] == body["change"]
    assert triples(client, "urn:x:body") == {("urn:x:a", "urn:x:p", "1")}


def test_an_update_sent_as_a_form_commits(client: TestClient) -> None:
    text = 'INSERT DATA { GRAPH <urn:x:form> { <urn:x:a> <urn:x:p> "form" } }'
    response = client.post("/update", data={"update": text}, headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.json()["added"] == 1
    assert triples(client, "urn:x:form") == {("urn:x:a", "urn:x:p", "form")}


def test_a_form_without_the_update_field_is_400(client: TestClient) -> None:
    response = client.post("/update", data={"query": "ASK {}"}, headers=AUTH)
    assert_problem(response, 400)


def test_an_update_in_another_media_type_is_415(client: TestClient) -> None:
    text = "INSERT DATA { GRAPH <urn:x:csv> { <urn:x:a> <urn:x:p> 1 } }"
    response = post_update(client, text, {"Content-Type": "text/csv"})
    body = assert_problem(response, 415, "unsupported-media-type")
    assert UPDATE in body["accepted"]
    assert read_graph(client, "urn:x:csv") is None


def test_an_update_syntax_error_is_400_with_its_position(client: TestClient) -> None:
    body = assert_problem(post_update(client, "INSERT DATA { <urn:x:a> }"), 400, "query-syntax")
    assert "line" in body


def test_an_update_body_over_the_limit_is_413(client: TestClient) -> None:
    padding = "# " + "x" * MAX_BODY + "\n"
    text = padding + "INSERT DATA { GRAPH <urn:x:large> { <urn:x:a> <urn:x:p> 1 } }"
    assert_problem(post_update(client, text), 413)
    assert read_graph(client, "urn:x:large") is None


def test_a_commit_over_the_change_limit_is_413(client: TestClient) -> None:
    data = " ".join(f"<urn:x:s{n}> <urn:x:p> {n} ." for n in range(MAX_CHANGES + 1))
    response = post_update(client, f"INSERT DATA {{ GRAPH <urn:x:many> {{ {data} }} }}")
    body = assert_problem(response, 413, "too-many-changes")
    assert body["limit"] == MAX_CHANGES
    assert read_graph(client, "urn:x:many") is None


def test_using_graph_uri_is_the_default_graph_of_the_where_clause(client: TestClient) -> None:
    seed(client, "urn:x:using-a", "a")
    seed(client, "urn:x:using-b", "b")
    text = "INSERT { GRAPH <urn:x:using-out> { ?s <urn:x:seen> ?o } } WHERE { ?s <urn:x:p> ?o }"
    update(client, text, {"using-graph-uri": "urn:x:using-a"})
    assert triples(client, "urn:x:using-out") == {("urn:x:s-a", "urn:x:seen", "a")}


def test_using_named_graph_uri_names_the_where_clause_graphs(client: TestClient) -> None:
    seed(client, "urn:x:named-a", "na")
    seed(client, "urn:x:named-b", "nb")
    text = (
        "INSERT { GRAPH <urn:x:named-out> { ?s <urn:x:from> ?g } } "
        "WHERE { GRAPH ?g { ?s <urn:x:p> ?o } }"
    )
    response = client.post(
        "/update",
        data={"update": text, "using-named-graph-uri": "urn:x:named-b"},
        headers=AUTH,
    )
    assert response.status_code == 200, response.text
    assert triples(client, "urn:x:named-out") == {("urn:x:s-nb", "urn:x:from", "urn:x:named-b")}


@pytest.mark.parametrize(
    "text",
    [
        "INSERT { GRAPH <urn:x:mixed> { ?s ?p ?o } } USING <urn:x:using-a> WHERE { ?s ?p ?o }",
        "WITH <urn:x:using-a> INSERT { ?s <urn:x:q> ?o } WHERE { ?s <urn:x:p> ?o }",
    ],
    ids=["USING", "WITH"],
)
def test_using_graph_uri_with_using_or_with_in_the_text_is_400(
    client: TestClient, text: str
) -> None:
    before = current_etag(client)
    response = post_update(client, text, params={"using-graph-uri": "urn:x:using-b"})
    assert_problem(response, 400, "update-failed")
    assert current_etag(client) == before


def test_a_using_graph_uri_that_is_not_an_iri_is_400(client: TestClient) -> None:
    response = post_update(
        client, "INSERT { } WHERE { ?s ?p ?o }", params={"using-graph-uri": "not an iri"}
    )
    assert_problem(response, 400, "bad-iri")


def test_prov_message_and_source_headers_are_recorded_in_changes(client: TestClient) -> None:
    message = "Curator’s note: checked against the communiqué"
    source = "https://example.org/communique/42"
    body = update_with_headers(
        client,
        "INSERT DATA { GRAPH <urn:x:prov> { <urn:x:a> <urn:x:p> 1 } }",
        {"Prov-Message": quote(message), "Prov-Source": source},
    )
    entry = next(e for e in changes(client) if e["id"] == body["commit"])
    assert entry["message"] == message
    assert entry["source"] == source
    assert entry["agent"] == "alice"
    record = client.get(f"/changes/{body['commit']}", headers={"Accept": "application/trig"})
    ds = Dataset().parse(data=record.text, format="trig")
    commit = URIRef(CHANGE + body["commit"])
    assert (commit, RDFS.comment, Literal(message)) in ds.graph(commit)
    assert (commit, DK.changeSource, URIRef(source)) in ds.graph(commit)


def update_with_headers(client: TestClient, text: str, headers: dict[str, str]) -> dict[str, Any]:
    response = post_update(client, text, headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_prov_source_that_is_not_an_iri_is_400(client: TestClient) -> None:
    text = "INSERT DATA { GRAPH <urn:x:bad-source> { <urn:x:a> <urn:x:p> 1 } }"
    response = post_update(client, text, {"Prov-Source": "not an iri"})
    assert_problem(response, 400, "bad-iri")
    assert read_graph(client, "urn:x:bad-source") is None


# --- /update: every operation ------------------------------------------------------------------


def test_insert_data_of_a_fact_that_fits_the_shapes_is_queryable(client: TestClient) -> None:
    body = update(client, GOOD)
    assert body["added"] == 7
    found = rows(
        client,
        RES
        + "SELECT ?state ?g WHERE { GRAPH ?g { res:recognition-test dk:recognizingState ?state } }",
    )
    assert found == [
        {
            "state": "https://w3id.org/diplokg/resource/russia",
            "g": "https://w3id.org/diplokg/graph/curated-test",
        }
    ]


def test_a_query_sent_after_a_write_is_acknowledged_sees_it(client: TestClient) -> None:
    """Read-your-writes: the query workers apply the change log up to the last commit
    acknowledged before a query arrives (their own follower, every few milliseconds, would
    miss some of these), each write and each check right after the other."""
    for n in range(25):
        update(client, f'INSERT DATA {{ GRAPH <urn:x:ryw> {{ <urn:x:ryw-{n}> <urn:x:p> "{n}" }} }}')
        assert ask(client, f"ASK {{ GRAPH <urn:x:ryw> {{ <urn:x:ryw-{n}> <urn:x:p> ?o }} }}"), n


def test_a_write_is_acknowledged_once_a_query_worker_holds_it(client: TestClient) -> None:
    """The answer to a write waits until a query worker's copy holds the commit, so that the
    queries after it need not apply it first; from then on, every query carries its number."""
    pool = client.app.state.queries.pool  # type: ignore[attr-defined]
    for n in range(5):
        body = update(
            client, f'INSERT DATA {{ GRAPH <urn:x:vis> {{ <urn:x:vis-{n}> <urn:x:p> "{n}" }} }}'
        )
        number = int(body["commit"].split("-")[0])
        assert pool.acknowledged >= number
        assert max(worker.applied for worker in pool._workers) >= number


def test_insert_data_into_the_default_graph_is_served_at_default(client: TestClient) -> None:
    update(client, 'INSERT DATA { <urn:x:in-default> <urn:x:p> "d" }')
    response = client.get("/store", params={"default": ""}, headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    graph = Graph().parse(data=response.text, format="turtle")
    assert (URIRef("urn:x:in-default"), URIRef("urn:x:p"), Literal("d")) in graph
    head = client.head("/store", params={"default": ""}, headers={"Accept": "text/turtle"})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["ETag"] == response.headers["ETag"]


def test_delete_data_removes_the_triples(client: TestClient) -> None:
    seed(client, "urn:x:delete-data", "1", "2")
    body = update(client, 'DELETE DATA { GRAPH <urn:x:delete-data> { <urn:x:s-1> <urn:x:p> "1" } }')
    assert (body["added"], body["removed"]) == (0, 1)
    assert triples(client, "urn:x:delete-data") == {("urn:x:s-2", "urn:x:p", "2")}


def test_delete_insert_where_rewrites_the_matches(client: TestClient) -> None:
    seed(client, "urn:x:modify", "1", "2")
    body = update(
        client,
        "DELETE { GRAPH <urn:x:modify> { ?s <urn:x:p> ?o } } "
        "INSERT { GRAPH <urn:x:modify> { ?s <urn:x:q> ?o } } "
        "WHERE { GRAPH <urn:x:modify> { ?s <urn:x:p> ?o } }",
    )
    assert (body["added"], body["removed"]) == (2, 2)
    assert triples(client, "urn:x:modify") == {
        ("urn:x:s-1", "urn:x:q", "1"),
        ("urn:x:s-2", "urn:x:q", "2"),
    }


def test_delete_where_removes_the_matches(client: TestClient) -> None:
    seed(client, "urn:x:delete-where", "1", "2")
    update(client, "INSERT DATA { GRAPH <urn:x:delete-where> { <urn:x:s-1> <urn:x:keep> 0 } }")
    update(client, "DELETE WHERE { GRAPH <urn:x:delete-where> { <urn:x:s-1> <urn:x:p> ?o } }")
    assert triples(client, "urn:x:delete-where") == {
        ("urn:x:s-1", "urn:x:keep", "0"),
        ("urn:x:s-2", "urn:x:p", "2"),
    }


def test_with_is_the_graph_of_the_templates_and_the_where_clause(client: TestClient) -> None:
    seed(client, "urn:x:with", "1")
    seed(client, "urn:x:with-other", "9")
    update(
        client,
        "WITH <urn:x:with> DELETE { ?s <urn:x:p> ?o } INSERT { ?s <urn:x:r> ?o } "
        "WHERE { ?s <urn:x:p> ?o }",
    )
    assert triples(client, "urn:x:with") == {("urn:x:s-1", "urn:x:r", "1")}
    assert triples(client, "urn:x:with-other") == {("urn:x:s-9", "urn:x:p", "9")}


def test_clear_empties_the_graph(client: TestClient) -> None:
    seed(client, "urn:x:clear", "1", "2")
    body = update(client, "CLEAR GRAPH <urn:x:clear>")
    assert body["removed"] == 2
    assert read_graph(client, "urn:x:clear") is None
    assert_problem(post_update(client, "CLEAR GRAPH <urn:x:clear>"), 400, "update-failed")
    assert update(client, "CLEAR SILENT GRAPH <urn:x:clear>")["commit"] is None


def test_drop_removes_the_graph(client: TestClient) -> None:
    seed(client, "urn:x:drop", "1")
    seed(client, "urn:x:drop-kept", "2")
    update(client, "DROP GRAPH <urn:x:drop>")
    assert read_graph(client, "urn:x:drop") is None
    assert triples(client, "urn:x:drop-kept") == {("urn:x:s-2", "urn:x:p", "2")}
    body = assert_problem(post_update(client, "DROP GRAPH <urn:x:drop>"), 400, "update-failed")
    assert "urn:x:drop" in body["detail"]
    assert update(client, "DROP SILENT GRAPH <urn:x:drop>")["commit"] is None


def test_create_of_a_new_graph_changes_nothing_and_of_an_existing_one_fails(
    client: TestClient,
) -> None:
    body = update(client, "CREATE GRAPH <urn:x:created>")
    assert body["commit"] is None and body["added"] == 0  # a graph exists while it holds a triple
    seed(client, "urn:x:create-existing", "1")
    response = post_update(client, "CREATE GRAPH <urn:x:create-existing>")
    assert_problem(response, 400, "update-failed")
    assert update(client, "CREATE SILENT GRAPH <urn:x:create-existing>")["commit"] is None
    assert triples(client, "urn:x:create-existing") == {("urn:x:s-1", "urn:x:p", "1")}


def test_add_copies_into_the_target_keeping_its_triples(client: TestClient) -> None:
    seed(client, "urn:x:add-src", "1")
    seed(client, "urn:x:add-dst", "2")
    update(client, "ADD <urn:x:add-src> TO <urn:x:add-dst>")
    assert triples(client, "urn:x:add-dst") == {
        ("urn:x:s-1", "urn:x:p", "1"),
        ("urn:x:s-2", "urn:x:p", "2"),
    }
    assert triples(client, "urn:x:add-src") == {("urn:x:s-1", "urn:x:p", "1")}


def test_copy_replaces_the_target(client: TestClient) -> None:
    seed(client, "urn:x:copy-src", "1")
    seed(client, "urn:x:copy-dst", "2")
    update(client, "COPY <urn:x:copy-src> TO <urn:x:copy-dst>")
    assert triples(client, "urn:x:copy-dst") == {("urn:x:s-1", "urn:x:p", "1")}
    assert triples(client, "urn:x:copy-src") == {("urn:x:s-1", "urn:x:p", "1")}


def test_move_replaces_the_target_and_removes_the_source(client: TestClient) -> None:
    seed(client, "urn:x:move-src", "1")
    seed(client, "urn:x:move-dst", "2")
    update(client, "MOVE <urn:x:move-src> TO <urn:x:move-dst>")
    assert triples(client, "urn:x:move-dst") == {("urn:x:s-1", "urn:x:p", "1")}
    assert read_graph(client, "urn:x:move-src") is None
    response = post_update(client, "MOVE <urn:x:move-src> TO <urn:x:move-dst>")
    assert_problem(response, 400, "update-failed")


def test_a_request_whose_last_operation_fails_changes_nothing(fresh_client: TestClient) -> None:
    client = fresh_client
    before = current_etag(client)
    text = (
        "INSERT DATA { GRAPH <urn:x:atomic> { <urn:x:a> <urn:x:p> 1 } } ;\n"
        "DELETE DATA { GRAPH <urn:x:atomic-2> { <urn:x:b> <urn:x:p> 2 } } ;\n"
        "DROP GRAPH <urn:x:missing>"
    )
    assert_problem(post_update(client, text), 400, "update-failed")
    assert read_graph(client, "urn:x:atomic") is None
    assert not ask(client, "ASK { <urn:x:a> ?p ?o }")
    assert changes(client) == []
    assert current_etag(client) == before


# --- shapes ---------------------------------------------------------------------------------------


def assert_nothing_of_the_refused_fact(client: TestClient, etag: str) -> None:
    assert not ask(client, f"ASK {{ <{BAD_IRI}> ?p ?o }}")
    assert current_etag(client) == etag


def test_a_commit_that_breaks_the_shapes_is_409_with_an_nquads_report(client: TestClient) -> None:
    before = current_etag(client)
    response = post_update(client, BAD)
    assert response.status_code == 409
    assert response.headers["content-type"].startswith(SHACL_NQUADS)
    report = Dataset().parse(data=response.text, format="nquads")
    assert (None, RDF.type, SH.ValidationReport) in report
    assert (None, SH.conforms, Literal(False)) in report
    assert (None, SH.focusNode, URIRef(BAD_IRI)) in report
    assert_nothing_of_the_refused_fact(client, before)


@pytest.mark.parametrize(
    ("accept", "fmt"), [("text/turtle", "turtle"), ("application/ld+json", "json-ld")]
)
def test_the_shapes_report_comes_in_the_format_accepted(
    client: TestClient, accept: str, fmt: str
) -> None:
    before = current_etag(client)
    response = post_update(client, BAD, {"Accept": accept})
    assert response.status_code == 409
    assert response.headers["content-type"].startswith(accept)
    report = Graph().parse(data=response.text, format=fmt)
    assert (None, RDF.type, SH.ValidationReport) in report
    assert (None, SH.focusNode, URIRef(BAD_IRI)) in report
    assert_nothing_of_the_refused_fact(client, before)


def test_the_shapes_report_as_problem_json_lists_the_violations(client: TestClient) -> None:
    before = current_etag(client)
    response = post_update(client, BAD, {"Accept": PROBLEM})
    body = assert_problem(response, 409, "shapes-violation")
    assert body["violations"]
    # the focus is shown as the build's reports show it: a CURIE when a prefix fits
    assert {v["focus"] for v in body["violations"]} == {"res:recognition-bad"}
    assert_nothing_of_the_refused_fact(client, before)


def test_a_graph_store_put_that_breaks_the_shapes_is_409(client: TestClient) -> None:
    turtle = (
        "@prefix dk: <https://w3id.org/diplokg/ontology#> .\n"
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        f'<{BAD_IRI}> a dk:Recognition ; dk:startDate "2025-07-04"^^xsd:date ; '
        'dk:endDate "2020-01-01"^^xsd:date .\n'
    )
    response = put(client, "urn:x:shapes-put", turtle)
    assert response.status_code == 409
    assert response.headers["content-type"].startswith(SHACL_NQUADS)
    assert read_graph(client, "urn:x:shapes-put") is None


# --- Graph Store ------------------------------------------------------------------------------------

ROUND_TRIP = """@prefix ex: <urn:x:> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:thing ex:label "Wien"@de, "Vienna"@en ;
    ex:count 3 ; ex:ratio 0.5 ; ex:when "2024-02-29"^^xsd:date ;
    ex:text "line one\\nline \\"two\\"" ;
    ex:link ex:other .
ex:other ex:flag true .
"""


def test_graph_store_get_returns_what_was_put(client: TestClient) -> None:
    response = put(client, "urn:x:round-trip", ROUND_TRIP)
    assert response.status_code == 201
    for accept, fmt in (("text/turtle", "turtle"), ("application/n-triples", "nt")):
        got = client.get("/store", params={"graph": "urn:x:round-trip"}, headers={"Accept": accept})
        assert got.status_code == 200
        assert got.headers["content-type"].startswith(accept)
        expected = Graph().parse(data=ROUND_TRIP, format="turtle")
        assert isomorphic(Graph().parse(data=got.text, format=fmt), expected)


def test_graph_store_get_and_head_carry_etags(client: TestClient) -> None:
    put(client, "urn:x:head", "<urn:x:a> <urn:x:p> 1 .")
    got = client.get("/store", params={"graph": "urn:x:head"}, headers={"Accept": "text/turtle"})
    head = client.head("/store", params={"graph": "urn:x:head"}, headers={"Accept": "text/turtle"})
    assert got.status_code == head.status_code == 200
    assert head.content == b""
    assert head.headers["Content-Length"] == str(len(got.content))
    assert head.headers["ETag"] == got.headers["ETag"]
    assert got.headers["X-DiploKG-Dataset-ETag"] == current_etag(client)


def test_graph_store_get_of_a_missing_graph_is_404(client: TestClient) -> None:
    response = client.get("/store", params={"graph": "urn:x:nowhere"})
    assert_problem(response, 404, "graph-not-found")
    assert client.head("/store", params={"graph": "urn:x:nowhere"}).status_code == 404


def test_graph_store_delete_of_a_missing_graph_is_404(client: TestClient) -> None:
    response = client.delete("/store", params={"graph": "urn:x:nowhere"}, headers=AUTH)
    assert_problem(response, 404, "graph-not-found")


def test_graph_store_put_creates_then_replaces(client: TestClient) -> None:
    first = put(client, "urn:x:put", "<urn:x:a> <urn:x:p> 1 .")
    assert first.status_code == 201
    assert first.json()["added"] == 1
    second = put(client, "urn:x:put", "<urn:x:b> <urn:x:p> 2 .")
    assert second.status_code == 204 and second.content == b""
    assert second.headers["ETag"] != first.headers["ETag"]
    assert triples(client, "urn:x:put") == {("urn:x:b", "urn:x:p", "2")}


def test_graph_store_post_merges(client: TestClient) -> None:
    response = client.post(
        "/store",
        params={"graph": "urn:x:post"},
        content=b'<urn:x:a> <urn:x:p> "1" .',
        headers={**AUTH, "Content-Type": "application/n-triples"},
    )
    assert response.status_code == 201
    response = client.post(
        "/store",
        params={"graph": "urn:x:post"},
        content=b'<urn:x:b> <urn:x:p> "2" .',
        headers={**AUTH, "Content-Type": "application/n-triples"},
    )
    assert response.status_code == 204
    assert triples(client, "urn:x:post") == {
        ("urn:x:a", "urn:x:p", "1"),
        ("urn:x:b", "urn:x:p", "2"),
    }


def test_graph_store_post_to_the_store_creates_a_new_graph(client: TestClient) -> None:
    response = client.post(
        "/store",
        content=b'<urn:x:new> <urn:x:p> "new" .',
        headers={**AUTH, "Content-Type": "text/turtle"},
    )
    assert response.status_code == 201, response.text
    location = response.headers["Location"]
    assert location.startswith(CURATED_GRAPHS)
    assert response.json()["graph"] == location
    assert triples(client, location) == {("urn:x:new", "urn:x:p", "new")}


def test_graph_store_delete_removes_the_graph(client: TestClient) -> None:
    put(client, "urn:x:delete", "<urn:x:a> <urn:x:p> 1 .")
    response = client.delete("/store", params={"graph": "urn:x:delete"}, headers=AUTH)
    assert response.status_code == 204 and response.content == b""
    assert read_graph(client, "urn:x:delete") is None


def test_graph_store_body_in_an_unsupported_type_is_415(client: TestClient) -> None:
    response = client.put(
        "/store",
        params={"graph": "urn:x:csv"},
        content=b"s,p,o\n",
        headers={**AUTH, "Content-Type": "text/csv"},
    )
    body = assert_problem(response, 415, "unsupported-media-type")
    assert "text/turtle" in body["accepted"]


def test_graph_store_body_that_does_not_parse_is_400(client: TestClient) -> None:
    response = put(client, "urn:x:unparsable", "<urn:x:a> <urn:x:p> .")
    assert_problem(response, 400, "bad-body")
    assert read_graph(client, "urn:x:unparsable") is None


def test_graph_store_body_over_the_limit_is_413(client: TestClient) -> None:
    body = "".join(f"<urn:x:s{n}> <urn:x:p> {n} .\n" for n in range(MAX_BODY // 20))
    assert len(body) > MAX_BODY
    assert_problem(put(client, "urn:x:too-large", body), 413)
    assert read_graph(client, "urn:x:too-large") is None


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_graph_store_without_a_graph_is_400(client: TestClient, method: str) -> None:
    response = client.request(
        method, "/store", content=b"", headers={**AUTH, "Content-Type": "text/turtle"}
    )
    assert_problem(response, 400, "missing-graph")


@pytest.mark.parametrize("graph", [str(ONTOLOGY_IRI), CHANGE + "000001-00000000"])
def test_the_ontology_and_commit_graphs_cannot_be_written(client: TestClient, graph: str) -> None:
    before = current_etag(client)
    body = assert_problem(put(client, graph, "<urn:x:a> <urn:x:p> 1 ."), 403, "protected-graph")
    assert body["graph"] == graph
    assert current_etag(client) == before


# --- If-Match ---------------------------------------------------------------------------------------


def test_the_etag_of_a_write_is_the_if_match_of_the_next(client: TestClient) -> None:
    first = post_update(client, "INSERT DATA { GRAPH <urn:x:if-match> { <urn:x:a> <urn:x:p> 1 } }")
    etag = first.headers["ETag"]
    second = post_update(
        client,
        "INSERT DATA { GRAPH <urn:x:if-match> { <urn:x:b> <urn:x:p> 2 } }",
        {"If-Match": etag},
    )
    assert second.status_code == 200, second.text
    stale = post_update(
        client,
        "INSERT DATA { GRAPH <urn:x:if-match> { <urn:x:c> <urn:x:p> 3 } }",
        {"If-Match": etag},
    )
    body = assert_problem(stale, 412, "precondition-failed")
    assert body["current_etag"] == second.headers["ETag"] == current_etag(client)
    assert triples(client, "urn:x:if-match") == {
        ("urn:x:a", "urn:x:p", "1"),
        ("urn:x:b", "urn:x:p", "2"),
    }


def test_the_dataset_etag_of_a_graph_store_get_is_a_valid_if_match(client: TestClient) -> None:
    put(client, "urn:x:if-match-gsp", "<urn:x:a> <urn:x:p> 1 .")
    got = client.get("/store", params={"graph": "urn:x:if-match-gsp"})
    etag = got.headers["X-DiploKG-Dataset-ETag"]
    replaced = put(client, "urn:x:if-match-gsp", "<urn:x:b> <urn:x:p> 2 .", **{"If-Match": etag})
    assert replaced.status_code == 204
    stale = put(client, "urn:x:if-match-gsp", "<urn:x:c> <urn:x:p> 3 .", **{"If-Match": etag})
    assert_problem(stale, 412, "precondition-failed")
    assert triples(client, "urn:x:if-match-gsp") == {("urn:x:b", "urn:x:p", "2")}


# --- /changes -----------------------------------------------------------------------------------------


def test_changes_are_listed_newest_first(client: TestClient) -> None:
    older = update_with_headers(
        client,
        "INSERT DATA { GRAPH <urn:x:order> { <urn:x:a> <urn:x:p> 1 } }",
        {"Prov-Message": "older"},
    )
    newer = update_with_headers(
        client,
        "INSERT DATA { GRAPH <urn:x:order> { <urn:x:b> <urn:x:p> 2 } }",
        {"Prov-Message": "newer"},
    )
    listed = changes(client)
    assert [e["id"] for e in listed[:2]] == [newer["commit"], older["commit"]]
    assert [e["message"] for e in listed[:2]] == ["newer", "older"]
    assert listed[0]["previous"] == older["commit"]
    ids = [e["id"] for e in listed]
    assert ids == sorted(ids, reverse=True)


@pytest.mark.parametrize(
    ("params", "headers"),
    [({"format": "atom"}, {}), ({}, {"Accept": "application/atom+xml"})],
    ids=["format", "accept"],
)
def test_changes_as_an_atom_feed(
    client: TestClient, params: dict[str, str], headers: dict[str, str]
) -> None:
    update(client, "INSERT DATA { GRAPH <urn:x:atom> { <urn:x:a> <urn:x:p> 1 } }")
    response = client.get("/changes", params=params, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    atom = "{http://www.w3.org/2005/Atom}"
    assert feed.tag == atom + "feed"
    entries = feed.findall(atom + "entry")
    assert len(entries) == len(changes(client))
    assert entries[0].findtext(f"{atom}id") == changes(client)[0]["iri"]
    assert entries[0].findtext(f"{atom}author/{atom}name") == "alice"


def test_a_change_as_trig_is_its_prov_record(client: TestClient) -> None:
    response = client.post(
        "/update",
        content=b"INSERT DATA { GRAPH <urn:x:trig> { <urn:x:a> <urn:x:p> 1 } }",
        headers={"Authorization": f"Bearer {BOT_TOKEN}", "Content-Type": UPDATE},
    )
    commit_id = response.json()["commit"]
    record = client.get(f"/changes/{commit_id}", headers={"Accept": "application/trig"})
    assert record.status_code == 200
    assert record.headers["content-type"].startswith("application/trig")
    ds = Dataset().parse(data=record.text, format="trig")
    commit = URIRef(CHANGE + commit_id)
    graph = ds.graph(commit)
    agent = URIRef(AGENT + "curation-bot")
    assert (commit, RDF.type, DK.Commit) in graph
    assert (commit, PROV.wasAssociatedWith, agent) in graph
    assert (agent, RDFS.label, Literal("curation-bot")) in graph
    assert (commit, DK.changed, URIRef("urn:x:a")) in graph
    assert "A <urn:x:a> " in str(graph.value(commit, DK.patch))
    assert next(e for e in changes(client) if e["id"] == commit_id)["agent"] == "curation-bot"


@pytest.mark.parametrize(
    ("params", "headers"),
    [({"format": "rdf-patch"}, {}), ({}, {"Accept": "application/rdf-patch"})],
    ids=["format", "accept"],
)
def test_a_change_as_an_rdf_patch(
    client: TestClient, params: dict[str, str], headers: dict[str, str]
) -> None:
    graph = f"urn:x:patch-{len(params)}"
    commit_id = update(client, f"INSERT DATA {{ GRAPH <{graph}> {{ <urn:x:a> <urn:x:p> 1 }} }}")[
        "commit"
    ]
    response = client.get(f"/changes/{commit_id}", params=params, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/rdf-patch")
    lines = response.text.splitlines()
    assert lines[0].startswith(f"H id <{CHANGE}{commit_id}>")
    assert "TX ." in lines and lines[-1] == "TC ."
    integer = "<http://www.w3.org/2001/XMLSchema#integer>"
    assert f'A <urn:x:a> <urn:x:p> "1"^^{integer} <{graph}> .' in lines


def test_changes_are_paged_with_a_next_link(client: TestClient) -> None:
    update(client, "INSERT DATA { GRAPH <urn:x:paged> { <urn:x:a> <urn:x:p> 1 } }")
    update(client, "INSERT DATA { GRAPH <urn:x:paged> { <urn:x:b> <urn:x:p> 2 } }")
    everything = [e["id"] for e in changes(client)]
    first = client.get("/changes", params={"limit": 1}).json()
    assert [e["id"] for e in first["changes"]] == everything[:1]
    second = client.get(first["next"]).json()
    assert [e["id"] for e in second["changes"]] == everything[1:2]
    assert_problem(client.get("/changes", params={"before": "000999-deadbeef"}), 404)
    assert_problem(client.get("/changes", params={"limit": 0}), 400)


def test_an_unknown_change_is_404(client: TestClient) -> None:
    assert_problem(client.get("/changes/000999-deadbeef"), 404, "change-not-found")
    response = client.post("/changes/000999-deadbeef/revert", headers=AUTH)
    assert_problem(response, 404, "change-not-found")


def test_a_revert_removes_what_the_commit_added(client: TestClient) -> None:
    seed(client, "urn:x:revert", "kept")
    added = update(client, 'INSERT DATA { GRAPH <urn:x:revert> { <urn:x:s-new> <urn:x:p> "new" } }')
    response = client.post(f"/changes/{added['commit']}/revert", headers=AUTH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["added"], body["removed"]) == (0, 1)
    assert triples(client, "urn:x:revert") == {("urn:x:s-kept", "urn:x:p", "kept")}
    entry = changes(client)[0]
    assert (entry["id"], entry["operation"], entry["reverts"]) == (
        body["commit"],
        "revert",
        added["commit"],
    )


def test_a_revert_needs_a_token(client: TestClient) -> None:
    added = update(client, "INSERT DATA { GRAPH <urn:x:revert-401> { <urn:x:a> <urn:x:p> 1 } }")
    response = client.post(f"/changes/{added['commit']}/revert")
    assert_problem(response, 401, "unauthorized")
    assert triples(client, "urn:x:revert-401") == {("urn:x:a", "urn:x:p", "1")}


# --- /sparql alongside writes --------------------------------------------------------------------


def test_sparql_still_refuses_updates(client: TestClient) -> None:
    text = "INSERT DATA { GRAPH <urn:x:via-sparql> { <urn:x:a> <urn:x:p> 1 } }"
    direct = client.post("/sparql", content=text.encode(), headers={**AUTH, "Content-Type": UPDATE})
    assert_problem(direct, 400, "update-refused")
    form = client.post("/sparql", data={"update": text}, headers=AUTH)
    assert_problem(form, 400, "update-refused")
    assert read_graph(client, "urn:x:via-sparql") is None


def test_the_service_description_names_the_update_endpoint(client: TestClient) -> None:
    response = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    description = Graph().parse(data=response.text, format="turtle")
    sd_endpoint, sd_language = URIRef(SD + "endpoint"), URIRef(SD + "supportedLanguage")
    services = set(description.subjects(sd_endpoint, URIRef("http://testserver/update")))
    assert services
    assert all((s, sd_language, URIRef(SD + "SPARQL11Update")) in description for s in services)


def test_a_query_sees_a_commit_at_once(client: TestClient) -> None:
    query = "SELECT ?o WHERE { GRAPH <urn:x:fresh> { <urn:x:a> <urn:x:p> ?o } } ORDER BY ?o"
    seed_query = 'INSERT DATA { GRAPH <urn:x:fresh> { <urn:x:a> <urn:x:p> "{}" } }'
    update(client, seed_query.replace("{}", "first"))
    assert rows(client, query) == [{"o": "first"}]
    assert rows(client, query) == [{"o": "first"}]  # the answer is cached now
    update(client, seed_query.replace("{}", "second"))
    assert rows(client, query) == [{"o": "first"}, {"o": "second"}]


def test_commits_and_their_history_survive_a_restart(
    built_dir: Path, token_file: Path, tmp_path: Path
) -> None:
    settings = write_settings(built_dir, tmp_path / "store", token_file)
    with TestClient(create_app(settings)) as first:
        body = update(first, "INSERT DATA { GRAPH <urn:x:kept> { <urn:x:a> <urn:x:p> 1 } }")
    with TestClient(create_app(settings)) as second:
        assert triples(second, "urn:x:kept") == {("urn:x:a", "urn:x:p", "1")}
        assert [e["id"] for e in changes(second)] == [body["commit"]]
        assert current_etag(second) == body["etag"]
        response = post_update(
            second,
            "INSERT DATA { GRAPH <urn:x:kept> { <urn:x:b> <urn:x:p> 2 } }",
            {"If-Match": body["etag"]},
        )
        assert response.status_code == 200
        assert changes(second)[0]["previous"] == body["commit"]


# --- a read-only server, start-up errors -------------------------------------------------------------


def test_a_read_only_server_refuses_writes_with_403(read_only: TestClient) -> None:
    text = "INSERT DATA { GRAPH <urn:x:ro> { <urn:x:a> <urn:x:p> 1 } }"
    response = read_only.post(
        "/update", content=text.encode(), headers={**AUTH, "Content-Type": UPDATE}
    )
    assert_problem(response, 403, "read-only")
    response = read_only.put(
        "/store",
        params={"graph": "urn:x:ro"},
        content=b"<urn:x:a> <urn:x:p> 1 .",
        headers={**AUTH, "Content-Type": "text/turtle"},
    )
    assert_problem(response, 403, "read-only")
    assert read_only.get("/store", params={"graph": "urn:x:ro"}).status_code == 404
    assert read_only.get("/changes").json() == {"changes": []}


def test_a_read_only_server_serves_the_graph_store(read_only: TestClient) -> None:
    response = read_only.get(
        "/store", params={"graph": str(ONTOLOGY_IRI)}, headers={"Accept": "text/turtle"}
    )
    assert response.status_code == 200
    graph = Graph().parse(data=response.text, format="turtle")
    assert (DK.Recognition, None, None) in graph
    assert "X-DiploKG-Dataset-ETag" not in response.headers


def test_the_service_description_of_a_read_only_server_has_no_update(
    read_only: TestClient,
) -> None:
    response = read_only.get("/sparql", headers={"Accept": "text/turtle"})
    description = Graph().parse(data=response.text, format="turtle")
    assert (
        None,
        URIRef(SD + "supportedLanguage"),
        URIRef(SD + "SPARQL11Update"),
    ) not in description


def test_writes_on_an_in_memory_store_are_refused_at_start(
    built_dir: Path, token_file: Path
) -> None:
    with pytest.raises(ValueError, match="oxigraph:DIR"):
        Settings.from_env({}, dataset=built_dir, store="oxigraph", write_tokens=str(token_file))
    settings = Settings(
        dataset=built_dir, store="oxigraph", workers=1, write_tokens=str(token_file)
    )
    with pytest.raises(ValueError, match="oxigraph:DIR"), TestClient(create_app(settings)):
        pass


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (f"alice:{TOKEN}\nbob:short\n", 2),
        (f"# curators\n\nthis line has no colon {TOKEN}\n", 3),
        (f"alice:{TOKEN}\nbob:{TOKEN}\n", 2),
        (f"al ice:{TOKEN}\n", 1),
    ],
    ids=["short-token", "no-colon", "duplicate", "bad-name"],
)
def test_a_bad_token_file_is_refused_naming_the_line(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "tokens.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TokenFileError, match=f"line {line}") as refused:
        load_tokens(path)
    assert TOKEN not in str(refused.value)


def test_a_token_file_names_the_agents(token_file: Path) -> None:
    assert load_tokens(token_file) == {TOKEN: "alice", BOT_TOKEN: "curation-bot"}


def test_a_dropped_or_emptied_graph_is_gone_for_queries_and_the_description(
    client: TestClient,
) -> None:
    seed(client, "urn:x:gone", "a")
    description = client.get("/sparql", headers={"Accept": "application/n-triples"}).text
    assert "<urn:x:gone>" in description
    update(client, "DROP GRAPH <urn:x:gone>")
    assert not ask(client, "ASK { GRAPH <urn:x:gone> { } }")
    assert not rows(client, "SELECT ?g WHERE { GRAPH ?g { } FILTER(?g = <urn:x:gone>) }")
    assert (
        "<urn:x:gone>"
        not in client.get("/sparql", headers={"Accept": "application/n-triples"}).text
    )


def test_get_default_returns_the_stored_default_graph_even_what_a_named_graph_repeats(
    client: TestClient,
) -> None:
    update(
        client,
        'INSERT DATA { <urn:x:twice> <urn:x:p> "both" . <urn:x:twice> <urn:x:p> "only-default" . '
        'GRAPH <urn:x:twice-g> { <urn:x:twice> <urn:x:p> "both" } }',
    )
    body = client.get(
        "/store", params={"default": ""}, headers={"Accept": "application/n-triples"}
    ).text
    assert '<urn:x:twice> <urn:x:p> "both" .' in body
    assert '<urn:x:twice> <urn:x:p> "only-default" .' in body


def test_posting_an_empty_graph_to_the_store_creates_nothing(client: TestClient) -> None:
    response = client.post("/store", content=b"", headers={**AUTH, "Content-Type": "text/turtle"})
    assert_problem(response, 400, "empty-graph")
