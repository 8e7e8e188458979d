"""Curated writes on a remote SPARQL 1.1 store (a private Virtuoso): the same commits, checks and
history as on oxigraph:DIR, and the remote store's one limit (no default graph of its own)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.support import virtuoso as vt

TOKEN = "curator-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
UPDATE = {**AUTH, "Content-Type": "application/sparql-update"}
GOOD = """PREFIX res: <https://w3id.org/diplokg/resource/>
INSERT DATA { GRAPH dkg:curated-remote {
  res:recognition-remote a dk:Recognition ; rdfs:label "A remote test recognition"@en ;
    dk:recognizingState res:russia ; dk:recognizedGovernment res:islamic-emirate-of-afghanistan ;
    dk:startDate "2025-07-04"^^xsd:date ;
    dk:evidence "Russia has officially recognized the Taliban government (test)." ;
    prov:wasDerivedFrom res:article-russia-recognizes-islamic-emirate .
} }"""


@pytest.fixture(scope="module")
def virtuoso_for_writes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[vt.VirtuosoServer]:
    """A Virtuoso of its own: these tests change its data, the shared one serves read tests."""
    if vt.server_binary() is None or vt.isql_binary() is None:
        reason = f"REMOTE WRITES NOT TESTED: Virtuoso is not installed; {vt.INSTALL_HINT}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " -- CI must run these tests", pytrace=False)
        pytest.skip(reason)
    server = vt.start(tmp_path_factory.mktemp("virtuoso-writes"))
    try:
        server.allow_sparql_update()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def remote_settings(
    built_dir: Path,
    virtuoso_for_writes: vt.VirtuosoServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Settings:
    directory = tmp_path_factory.mktemp("remote-writes")
    tokens = directory / "tokens.txt"
    tokens.write_text(f"curator:{TOKEN}\n", encoding="utf-8")
    url = virtuoso_for_writes.sparql_url
    return Settings(
        dataset=built_dir,
        store=f"sparql:{url},{url}",
        workers=1,
        query_timeout=30.0,
        write_tokens=str(tokens),
        change_log=str(directory / "changes.rdfp"),
    )


@pytest.fixture(scope="module")
def remote(remote_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(remote_settings)) as client:
        yield client


def rows(client: TestClient, query: str) -> list[dict[str, dict[str, str]]]:
    response = client.post(
        "/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    assert response.status_code == 200, response.text
    return list(response.json()["results"]["bindings"])


def test_a_commit_reaches_the_remote_store_and_is_queried_back(remote: TestClient) -> None:
    response = remote.post(
        "/update", content=GOOD, headers={**UPDATE, "Prov-Message": "remote test"}
    )
    assert response.status_code == 200, response.text
    commit = response.json()["commit"]
    found = rows(
        remote, "SELECT ?s WHERE { GRAPH dkg:curated-remote { ?s dk:recognizingState res:russia } }"
    )
    assert [r["s"]["value"] for r in found] == [
        "https://w3id.org/diplokg/resource/recognition-remote"
    ]
    record = rows(
        remote,
        f"SELECT ?m WHERE {{ GRAPH <https://w3id.org/diplokg/change/{commit}> {{ ?c a dk:Commit ; rdfs:comment ?m }} }}",
    )
    assert [r["m"]["value"] for r in record] == ["remote test"]
    assert remote.get("/changes").json()["changes"][0]["id"] == commit


def test_the_shapes_refuse_a_bad_commit_on_the_remote_store(remote: TestClient) -> None:
    bad = GOOD.replace("recognition-remote", "recognition-remote-bad").replace(
        'dk:startDate "2025-07-04"^^xsd:date ;',
        'dk:startDate "2025-07-04"^^xsd:date ; dk:endDate "2020-01-01"^^xsd:date ;',
    )
    response = remote.post(
        "/update", content=bad, headers={**UPDATE, "Accept": "application/problem+json"}
    )
    assert response.status_code == 409
    assert not rows(remote, "SELECT * WHERE { GRAPH ?g { res:recognition-remote-bad ?p ?o } }")


def test_graph_store_round_trip_and_revert_on_the_remote_store(remote: TestClient) -> None:
    body = b'<urn:x:remote> <urn:x:p> "put" .'
    put = remote.put(
        "/store",
        params={"graph": "urn:x:remote-g"},
        content=body,
        headers={**AUTH, "Content-Type": "text/turtle"},
    )
    assert put.status_code == 201
    got = remote.get(
        "/store", params={"graph": "urn:x:remote-g"}, headers={"Accept": "application/n-triples"}
    )
    assert got.status_code == 200 and got.text.strip() == body.decode()
    commit = remote.get("/changes").json()["changes"][0]["id"]
    assert remote.post(f"/changes/{commit}/revert", headers=AUTH).status_code == 200
    assert remote.get("/store", params={"graph": "urn:x:remote-g"}).status_code == 404


def test_the_remote_store_has_no_default_graph_to_write(remote: TestClient) -> None:
    response = remote.post(
        "/update", content='INSERT DATA { <urn:x:a> <urn:x:p> "default" }', headers=UPDATE
    )
    assert response.status_code == 400
    assert "no default graph" in response.json()["detail"]


def test_a_logged_commit_missing_from_the_remote_store_is_applied_on_start(
    remote: TestClient, remote_settings: Settings, virtuoso_for_writes: vt.VirtuosoServer
) -> None:
    response = remote.post(
        "/update",
        content='INSERT DATA { GRAPH <urn:x:lost> { <urn:x:l> <urn:x:p> "kept" } }',
        headers=UPDATE,
    )
    commit = response.json()["commit"]
    # The store loses the commit (as if a crash came between the log and the store).
    from graph.stores.remote import RemoteStore

    store = RemoteStore(virtuoso_for_writes.sparql_url, virtuoso_for_writes.sparql_url)
    store._update(
        f"DROP SILENT GRAPH <urn:x:lost> ; DROP SILENT GRAPH <https://w3id.org/diplokg/change/{commit}>"
    )
    # A restart: one writer per change log, so the running server's writer goes first (its
    # server starts it again at its next write).
    os.kill(remote.app.state.writes._writer.process.pid, signal.SIGKILL)  # type: ignore[attr-defined]
    with TestClient(create_app(remote_settings)) as again:
        found = rows(again, "SELECT ?o WHERE { GRAPH <urn:x:lost> { <urn:x:l> <urn:x:p> ?o } }")
        assert [r["o"]["value"] for r in found] == ["kept"]


def test_the_status_codes_of_the_protocol_on_the_remote_store(remote: TestClient) -> None:
    insert = 'INSERT DATA { GRAPH <urn:x:codes> { <urn:x:c> <urn:x:p> "v" } }'
    assert (
        remote.post(
            "/update", content=insert, headers={"Content-Type": "application/sparql-update"}
        ).status_code
        == 401
    )
    wrong = {
        "Authorization": "Bearer not-the-token-at-all",
        "Content-Type": "application/sparql-update",
    }
    assert remote.post("/update", content=insert, headers=wrong).status_code == 401
    protected = "DELETE WHERE { GRAPH <https://w3id.org/diplokg/ontology> { ?s ?p ?o } }"
    assert remote.post("/update", content=protected, headers=UPDATE).status_code == 403
    assert (
        remote.post(
            "/update", content=insert, headers={**UPDATE, "If-Match": '"stale"'}
        ).status_code
        == 412
    )
    assert (
        remote.post(
            "/update", content=insert, headers={**AUTH, "Content-Type": "text/plain"}
        ).status_code
        == 415
    )
    big = (
        "INSERT DATA { GRAPH <urn:x:codes> { "
        + " ".join(f"<urn:x:s{i}> <urn:x:p> {i} ." for i in range(60_000))
        + " } }"
    )
    assert remote.post("/update", content=big, headers=UPDATE).status_code == 413
    assert (
        remote.post("/update", content="INSERT DATA { <urn:x:a> }", headers=UPDATE).status_code
        == 400
    )
    created = remote.post(
        "/store",
        content=b'<urn:x:n> <urn:x:p> "new" .',
        headers={**AUTH, "Content-Type": "text/turtle"},
    )
    assert created.status_code == 201 and created.headers["Location"]
    assert remote.post("/update", content=insert, headers=UPDATE).status_code == 200
    assert remote.delete("/store", params={"graph": "urn:x:codes"}, headers=AUTH).status_code == 204
    assert remote.delete("/store", params={"graph": "urn:x:codes"}, headers=AUTH).status_code == 404


def test_every_update_form_on_the_remote_store(remote: TestClient) -> None:
    def run(text: str) -> None:
        response = remote.post("/update", content=text, headers=UPDATE)
        assert response.status_code == 200, (text, response.text)

    def values(graph: str) -> list[str]:
        found = rows(remote, f"SELECT ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} ORDER BY ?o")
        return [r["o"]["value"] for r in found]

    run('INSERT DATA { GRAPH <urn:x:f1> { <urn:x:a> <urn:x:p> "1", "2" } }')
    run('DELETE DATA { GRAPH <urn:x:f1> { <urn:x:a> <urn:x:p> "2" } }')
    assert values("urn:x:f1") == ["1"]
    run(
        'DELETE { GRAPH <urn:x:f1> { ?s ?p "1" } } INSERT { GRAPH <urn:x:f1> { ?s ?p "one" } } WHERE { GRAPH <urn:x:f1> { ?s ?p "1" } }'
    )
    run('WITH <urn:x:f1> INSERT { ?s <urn:x:q> "with" } WHERE { ?s <urn:x:p> "one" }')
    assert values("urn:x:f1") == ["one", "with"]
    run("ADD <urn:x:f1> TO <urn:x:f2>")
    run("COPY <urn:x:f1> TO <urn:x:f3>")
    run("MOVE <urn:x:f3> TO <urn:x:f4>")
    assert values("urn:x:f2") == values("urn:x:f4") == ["one", "with"] and values("urn:x:f3") == []
    run("DELETE WHERE { GRAPH <urn:x:f2> { ?s <urn:x:q> ?o } }")
    assert values("urn:x:f2") == ["one"]
    run("CREATE GRAPH <urn:x:f5>")
    run("CLEAR GRAPH <urn:x:f2>")
    run("DROP GRAPH <urn:x:f4>")
    assert values("urn:x:f2") == values("urn:x:f4") == []
    failing = remote.post(
        "/update",
        content='INSERT DATA { GRAPH <urn:x:f6> { <urn:x:a> <urn:x:p> "x" } } ; DROP GRAPH <urn:x:none>',
        headers=UPDATE,
    )
    assert failing.status_code == 400 and values("urn:x:f6") == []
