"""The lean path for GET queries (api.fastpath): the same status, headers and body as the full route."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api import fastpath
from api.execution import Job, Reply
from api.routers import sparql
from graph.errors import DiploKGError, QuerySyntaxError
from graph.formats import QueryForm
from graph.stores.base import (
    ForbiddenService,
    QueryRefused,
    QueryTimeout,
    StoreError,
    UnsupportedFormat,
)
from tests.api.conftest import RUSSIA, first_column, parse_results

STATES = "SELECT ?s WHERE { ?s a dk:State } ORDER BY ?s"
LOOKUP = f"SELECT ?p ?o WHERE {{ <{RUSSIA}> ?p ?o }}"


@pytest.fixture()
def route_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The queries that reached the full route's query handler (the fast path answers the rest)."""
    calls: list[str] = []
    original: Callable[..., Any] = sparql._query

    async def spy(request: Any, endpoint: Any, parsed: Any, accept: Any) -> Any:
        calls.append(parsed.query)
        return await original(request, endpoint, parsed, accept)

    monkeypatch.setattr(sparql, "_query", spy)
    return calls


@pytest.fixture()
def slow_path(client: TestClient) -> Iterator[Callable[..., httpx.Response]]:
    """A GET answered by the full route even when the result is cached."""
    endpoint = client.app.state.endpoint  # type: ignore[attr-defined]

    def get(*args: Any, **kwargs: Any) -> httpx.Response:
        endpoint.fast_path = False
        try:
            response: httpx.Response = client.get(*args, **kwargs)
            return response
        finally:
            endpoint.fast_path = True

    yield get
    endpoint.fast_path = True


def same_answer(fast: httpx.Response, slow: httpx.Response) -> None:
    assert fast.status_code == slow.status_code
    assert fast.headers.multi_items() == slow.headers.multi_items()
    assert fast.content == slow.content


@pytest.mark.parametrize(
    ("query", "params", "headers"),
    [
        (LOOKUP, {}, {}),
        (LOOKUP, {}, {"accept": "application/sparql-results+xml"}),
        (STATES, {"format": "csv"}, {}),
        (STATES, {}, {"accept": "text/tab-separated-values, */*;q=0.1"}),
        ("ASK { ?s a dk:State }", {}, {"accept": "application/json"}),
        (f"DESCRIBE <{RUSSIA}>", {}, {"accept": "application/n-triples"}),
        ("CONSTRUCT WHERE { ?s a dk:State }", {"format": "jsonld"}, {}),
        (STATES, {"named-graph-uri": "https://w3id.org/diplokg/graph/entities"}, {}),
    ],
)
def test_a_cache_hit_is_answered_without_the_route_exactly_as_the_route_answers(
    client: TestClient,
    slow_path: Callable[..., httpx.Response],
    route_calls: list[str],
    query: str,
    params: dict[str, str],
    headers: dict[str, str],
) -> None:
    params = {"query": query, **params}
    first = client.get("/sparql", params=params, headers=headers)  # fills the cache if needed
    assert first.status_code == 200
    route_calls.clear()
    fast = client.get("/sparql", params=params, headers=headers)
    assert route_calls == []
    slow = slow_path("/sparql", params=params, headers=headers)
    assert route_calls == [query]
    same_answer(fast, slow)
    same_answer(fast, first)


def test_the_fast_path_sends_the_cors_headers_of_the_route(
    client: TestClient, slow_path: Callable[..., httpx.Response], route_calls: list[str]
) -> None:
    params = {"query": STATES}
    origin = {"origin": "https://example.org"}
    client.get("/sparql", params=params)
    route_calls.clear()
    fast = client.get("/sparql", params=params, headers=origin)
    assert route_calls == []
    same_answer(fast, slow_path("/sparql", params=params, headers=origin))
    assert fast.headers["access-control-allow-origin"] == "*"
    exposed = {h.strip().lower() for h in fast.headers["access-control-expose-headers"].split(",")}
    assert {"etag", "x-sparql-truncated", "x-sparql-max-rows"} <= exposed
    assert "Origin" in fast.headers["vary"]


def test_listed_cors_origins_leave_requests_with_an_origin_to_the_route(
    make_client: Callable[..., TestClient], route_calls: list[str]
) -> None:
    listed = make_client(cors_origins=("https://allowed.example",))
    params = {"query": STATES}
    listed.get("/sparql", params=params)
    route_calls.clear()
    allowed = listed.get("/sparql", params=params, headers={"origin": "https://allowed.example"})
    other = listed.get("/sparql", params=params, headers={"origin": "https://other.example"})
    assert len(route_calls) == 2
    assert allowed.headers["access-control-allow-origin"] == "https://allowed.example"
    assert "access-control-allow-origin" not in other.headers
    listed.get("/sparql", params=params)
    assert len(route_calls) == 2  # no Origin: the fast path still answers


def test_the_fast_path_answers_if_none_match_with_304_as_the_route_does(
    client: TestClient, slow_path: Callable[..., httpx.Response], route_calls: list[str]
) -> None:
    params = {"query": LOOKUP}
    etag = client.get("/sparql", params=params).headers["etag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}'):
        route_calls.clear()
        fast = client.get("/sparql", params=params, headers={"if-none-match": header})
        assert route_calls == []
        assert fast.status_code == 304
        assert fast.content == b""
        same_answer(fast, slow_path("/sparql", params=params, headers={"if-none-match": header}))
    stale = client.get("/sparql", params=params, headers={"if-none-match": '"stale"'})
    assert stale.status_code == 200
    assert stale.headers["etag"] == etag


def test_the_fast_path_keeps_the_truncation_headers(
    make_client: Callable[..., TestClient], route_calls: list[str]
) -> None:
    capped = make_client(max_rows=2)
    params = {"query": "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"}
    first = capped.get("/sparql", params=params)
    route_calls.clear()
    again = capped.get("/sparql", params=params)
    assert route_calls == []
    assert again.headers["x-sparql-truncated"] == "true"
    assert again.headers["x-sparql-max-rows"] == "2"
    assert again.headers.multi_items() == first.headers.multi_items()
    assert len(list(parse_results(again.content, "json"))) == 2
    etag = first.headers["etag"]
    not_modified = capped.get("/sparql", params=params, headers={"if-none-match": etag})
    assert not_modified.status_code == 304
    assert not_modified.headers["x-sparql-truncated"] == "true"


@pytest.fixture()
def pool_calls(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> list[Job]:
    """The jobs the session client's worker pool is asked to evaluate."""
    pool = client.app.state.endpoint.pool  # type: ignore[attr-defined]
    calls: list[Job] = []
    original: Callable[..., Any] = pool.run

    async def spy(job: Job, timeout: float) -> Reply:
        calls.append(job)
        reply: Reply = await original(job, timeout)
        return reply

    monkeypatch.setattr(pool, "run", spy)
    return calls


def test_without_the_cache_every_query_is_evaluated_and_answered_as_the_route_answers(
    make_client: Callable[..., TestClient], route_calls: list[str]
) -> None:
    uncached = make_client(result_cache_entries=0)
    endpoint = uncached.app.state.endpoint  # type: ignore[attr-defined]
    params = {"query": STATES}
    fast = [uncached.get("/sparql", params=params) for _ in range(2)]
    assert route_calls == []
    assert len(endpoint.cache) == 0
    endpoint.fast_path = False
    slow = uncached.get("/sparql", params=params)
    assert route_calls == [STATES]
    same_answer(fast[0], slow)
    same_answer(fast[1], slow)
    assert first_column(fast[0].content)


def test_a_miss_is_evaluated_by_a_worker_with_the_routes_job_and_time_limit(
    client: TestClient, pool_calls: list[Job], route_calls: list[str]
) -> None:
    query = LOOKUP + " LIMIT 3"  # not cached by an earlier test
    params = {"query": query, "named-graph-uri": "https://w3id.org/diplokg/graph/entities"}
    answer = client.get("/sparql", params=params, headers={"accept": "text/csv"})
    assert answer.status_code == 200
    assert route_calls == []
    settings = client.app.state.endpoint.settings  # type: ignore[attr-defined]
    named = ("https://w3id.org/diplokg/graph/entities",)
    assert pool_calls == [Job(query, (), named, "csv", settings.max_rows)]
    client.get("/sparql", params=params, headers={"accept": "text/csv"})
    assert len(pool_calls) == 1  # then a hit


POOL_ERRORS: list[DiploKGError] = [
    QueryTimeout(20.0),
    StoreError("the engine fell over"),
    QuerySyntaxError("the engine disagrees", 1, 7),
    UnsupportedFormat(QueryForm.SELECT, "csv"),
    QueryRefused("not here"),
    ForbiddenService("https://example.org/sparql", ["https://query.wikidata.org/sparql"]),
]


@pytest.mark.parametrize("error", POOL_ERRORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("headers", [{}, {"origin": "https://example.org"}], ids=["", "origin"])
def test_an_error_of_the_pool_on_a_miss_is_the_routes_problem_response(
    make_client: Callable[..., TestClient],
    route_calls: list[str],
    error: DiploKGError,
    headers: dict[str, str],
) -> None:
    uncached = make_client(result_cache_entries=0)
    endpoint = uncached.app.state.endpoint  # type: ignore[attr-defined]

    async def failing(job: Job, timeout: float) -> Reply:
        raise error

    endpoint.pool.run = failing
    fast = uncached.get("/sparql", params={"query": STATES}, headers=headers)
    assert route_calls == []
    endpoint.fast_path = False
    slow = uncached.get("/sparql", params={"query": STATES}, headers=headers)
    assert route_calls == [STATES]
    same_answer(fast, slow)
    assert fast.status_code >= 400
    assert fast.headers["content-type"] == "application/problem+json"


def test_a_runaway_miss_is_stopped_by_killing_its_worker_and_the_next_is_answered(
    make_client: Callable[..., TestClient], store_spec: str, route_calls: list[str]
) -> None:
    if store_spec.startswith("sparql:"):
        pytest.skip("a runaway would keep the shared engine busy after its worker is killed")
    quick = make_client(result_cache_entries=0, query_timeout=0.5)
    pool = quick.app.state.endpoint.pool  # type: ignore[attr-defined]
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    stopped = quick.get("/sparql", params={"query": runaway})
    assert stopped.status_code == 503
    assert stopped.json()["type"].endswith("/query-timeout")
    assert pool.respawns == 1
    assert quick.get("/sparql", params={"query": STATES}).status_code == 200
    assert route_calls == []


def test_a_long_query_string_is_answered_but_not_remembered(
    client: TestClient, route_calls: list[str]
) -> None:
    padding = " " * fastpath.MEMO_MAX_QUERY_BYTES
    query = f"SELECT ?s WHERE {{{padding}?s a dk:State }} ORDER BY ?s"
    answer = client.get("/sparql", params={"query": query})
    assert answer.status_code == 200
    assert route_calls == []
    middleware = _fast_path_of(client)
    assert all(len(raw) <= fastpath.MEMO_MAX_QUERY_BYTES for raw, _ in middleware._memo)


def _fast_path_of(client: TestClient) -> fastpath.CachedResultsMiddleware:
    app: Any = client.app.middleware_stack  # type: ignore[attr-defined]
    while not isinstance(app, fastpath.CachedResultsMiddleware):
        app = app.app
    return app


def test_requests_the_route_refuses_are_still_refused_after_a_hit(
    client: TestClient, route_calls: list[str]
) -> None:
    client.get("/sparql", params={"query": STATES})
    doubled = client.get("/sparql", params=[("query", STATES), ("query", STATES)])
    assert doubled.status_code == 400
    assert doubled.headers["content-type"] == "application/problem+json"
    with_update = client.get("/sparql", params={"query": STATES, "update": "CLEAR ALL"})
    assert with_update.status_code == 400
    unacceptable = client.get("/sparql", params={"query": STATES}, headers={"accept": "image/png"})
    assert unacceptable.status_code == 406
    for _ in range(2):
        broken = client.get("/sparql", params={"query": "SELECT ?s WHERE { ?s"})
        assert broken.status_code == 400
        assert broken.json()["type"].endswith("/query-syntax")


def test_the_service_description_and_posts_go_to_the_route(
    client: TestClient, route_calls: list[str]
) -> None:
    description = client.get("/sparql", headers={"accept": "text/turtle"})
    assert description.status_code == 200
    assert description.headers["content-type"].startswith("text/turtle")
    client.get("/sparql", params={"query": STATES})
    route_calls.clear()
    posted = client.post("/sparql", data={"query": STATES})
    assert posted.status_code == 200
    assert route_calls == [STATES]
    assert first_column(posted.content)


@pytest.mark.parametrize("cache", ["hit", "miss"])
def test_a_fast_answer_logs_its_query_line(
    make_client: Callable[..., TestClient],
    route_calls: list[str],
    caplog: pytest.LogCaptureFixture,
    cache: str,
) -> None:
    client = make_client() if cache == "hit" else make_client(result_cache_entries=0)
    params = {"query": LOOKUP}
    if cache == "hit":
        client.get("/sparql", params=params)
    with caplog.at_level(logging.INFO, logger="api.routers.sparql"):
        client.get("/sparql", params=params)
    assert route_calls == []
    lines = [r.getMessage() for r in caplog.records if r.name == "api.routers.sparql"]
    assert len(lines) == 1
    assert "form=SELECT status=200 format=json" in lines[0]
    assert lines[0].endswith(f"cache={cache}")


def test_debug_logging_sends_queries_to_the_route_which_logs_their_text(
    client: TestClient, route_calls: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    params = {"query": LOOKUP}
    client.get("/sparql", params=params)
    route_calls.clear()
    with caplog.at_level(logging.DEBUG, logger="api.routers.sparql"):
        client.get("/sparql", params=params)
    assert route_calls == [LOOKUP]
    assert any(LOOKUP in r.getMessage() for r in caplog.records)


def test_a_query_with_non_ascii_text_is_answered_fast(
    client: TestClient, route_calls: list[str]
) -> None:
    query = 'SELECT ?s WHERE { ?s rdfs:label ?l FILTER(?l != "Россия — 2"@en) } LIMIT 1'
    answers = [client.get("/sparql", params={"query": query}) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].content == answers[1].content
    assert route_calls == []  # percent-encoded UTF-8 is plain ASCII
