"""The server's side of the writer process: concurrent writes are each their own commit, in one
chain; a writer that dies is started again, with only the writes it held failing (503,
Retry-After); a write past `update_timeout` stops the writer, never the server."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings

TOKEN = "alice-0123456789-abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/sparql-update"}


def _insert(n: int) -> str:
    return f'INSERT DATA {{ GRAPH <urn:x:supervision> {{ <urn:x:s{n}> <urn:x:p> "v{n}" }} }}'


@pytest.fixture()
def settings(built_dir: Path, tmp_path: Path) -> Settings:
    tokens = tmp_path / "tokens.txt"
    tokens.write_text(f"alice:{TOKEN}\n", encoding="utf-8")
    return Settings(
        dataset=built_dir,
        store=f"oxigraph:{tmp_path / 'store'}",
        workers=1,
        write_tokens=str(tokens),
        query_timeout=20.0,
    )


@pytest.fixture()
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def _count(client: TestClient) -> int:
    query = "SELECT (COUNT(*) AS ?n) { GRAPH <urn:x:supervision> { ?s ?p ?o } }"
    answer = client.get("/sparql", params={"query": query}, headers={"Accept": "text/csv"})
    return int(answer.text.split()[-1])


def test_concurrent_writes_are_each_committed_in_order(client: TestClient) -> None:
    """Forty writes from eight threads: every one answered 200 with its own commit, every
    commit in the change history once, and each one's `previous` the commit before it."""
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(lambda n: client.post("/update", content=_insert(n), headers=AUTH), range(40))
        )
    assert [a.status_code for a in answers] == [200] * 40
    assert _count(client) == 40
    commits = client.get("/changes", headers={"Accept": "application/json"}).json()["changes"]
    assert len({c["id"] for c in commits}) == 40
    # Newest first, each commit's previous the one after it in the list: one chain.
    assert [c["previous"] for c in commits[:-1]] == [c["id"] for c in commits[1:]]
    assert {a.json()["commit"] for a in answers} == {c["id"] for c in commits}


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="Linux scheduling policies")
def test_the_writer_runs_only_on_cpu_that_reads_leave(client: TestClient) -> None:
    """The writer process is SCHED_IDLE (reads go first); the server and the query workers
    keep their own policies."""
    writes = client.app.state.writes  # type: ignore[attr-defined]
    assert os.sched_getscheduler(writes._writer.process.pid) == os.SCHED_IDLE
    assert os.sched_getscheduler(0) != os.SCHED_IDLE


def test_a_writer_killed_from_outside_is_started_again(client: TestClient) -> None:
    assert client.post("/update", content=_insert(1), headers=AUTH).status_code == 200
    writes = client.app.state.writes  # type: ignore[attr-defined]
    os.kill(writes._writer.process.pid, signal.SIGKILL)
    time.sleep(0.3)
    answers = [client.post("/update", content=_insert(n), headers=AUTH) for n in (2, 3)]
    # The write sent to the dead writer, if any, fails cleanly; the writer is started again.
    assert all(a.status_code in (200, 503) for a in answers)
    for a in answers:
        if a.status_code == 503:
            assert a.headers["Retry-After"]
            assert "writer process stopped" in a.json()["detail"]
    assert client.post("/update", content=_insert(4), headers=AUTH).status_code == 200
    assert client.get("/healthz").status_code == 200
    assert _count(client) >= 2


def test_a_write_past_the_time_limit_stops_the_writer_not_the_server(
    settings: Settings,
) -> None:
    slow = dataclasses.replace(settings, update_timeout=0.001)
    with TestClient(create_app(slow)) as client:
        answer = client.post("/update", content=_insert(1), headers=AUTH)
        assert answer.status_code == 503
        assert answer.headers["Retry-After"]
        assert answer.headers["Content-Type"].startswith("application/problem+json")
        # The writer's own account, not the remote store's generic one: what became of it.
        assert "stopped after 0.001 s" in answer.json()["detail"]
        assert "/changes" in answer.json()["detail"]
        assert client.get("/healthz").status_code == 200


def test_an_update_from_another_origin_gets_the_apps_cors_headers(settings: Settings) -> None:
    """POST /update is answered ahead of the framework's routing: behind the same CORS as the
    rest of the app, and its errors in the same problem+json."""
    cors = dataclasses.replace(settings, cors_origins=("https://curators.example",))
    with TestClient(create_app(cors)) as client:
        origin = {"Origin": "https://curators.example"}
        answer = client.post("/update", content=_insert(1), headers={**AUTH, **origin})
        assert answer.status_code == 200
        assert answer.headers["Access-Control-Allow-Origin"] == "https://curators.example"
        refused = client.post("/update", content=_insert(2), headers=origin)
        assert refused.status_code == 401
        assert refused.headers["Access-Control-Allow-Origin"] == "https://curators.example"
        assert refused.headers["Content-Type"].startswith("application/problem+json")
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        other = client.post("/update", content=_insert(3), headers={**AUTH, "Origin": "https://x"})
        assert "Access-Control-Allow-Origin" not in other.headers
