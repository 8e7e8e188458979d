"""The query endpoint `/sparql` (SPARQL 1.1 Protocol §2.1) and its service description (SD §3)."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from api.cache import ResultCache, etag_of
from api.execution import Job, WorkerPool
from api.problems import Problem, from_domain, negotiate_or_406
from api.protocol import DIRECT, FORM, SparqlRequest, parse_request
from api.service_description import describe
from api.settings import Settings
from graph.errors import DiploKGError
from graph.formats import FORMATS, Format, QueryForm, formats_for
from graph.stores.analysis import check_services, inspect_query

log = logging.getLogger(__name__)

#: Headers telling the client its result was cut to `max_rows` (documented in docs/endpoint.md).
TRUNCATED_HEADER = "X-SPARQL-Truncated"
MAX_ROWS_HEADER = "X-SPARQL-Max-Rows"
#: Response headers that scripts on other origins may read (CORS).
EXPOSED_HEADERS = ("ETag", TRUNCATED_HEADER, MAX_ROWS_HEADER)
GRAPH_FORMATS = formats_for(QueryForm.CONSTRUCT)

router = APIRouter(tags=["sparql"])


class Endpoint:
    """Everything one request needs, kept for the app's lifetime: settings, workers, caches."""

    def __init__(self, settings: Settings, pool: WorkerPool) -> None:
        self.settings = settings
        self.pool = pool
        self.cache = ResultCache(settings.result_cache_entries, settings.result_cache_max_bytes)
        #: GET queries may be answered by api.fastpath, exactly as this route would answer them.
        self.fast_path = True
        self.cors_wildcard = "*" in settings.cors_origins
        self._descriptions: dict[tuple[str, str], bytes] = {}

    def description(self, endpoint: str, fmt: Format) -> bytes:
        key = (endpoint, fmt.name)
        body = self._descriptions.get(key)
        if body is None:
            assert self.pool.info is not None
            graph = describe(endpoint, self.pool.info, self.settings.allowed_services)
            rdflib_name = {"ntriples": "nt", "jsonld": "json-ld", "rdfxml": "xml"}.get(
                fmt.name, fmt.name
            )
            body = graph.serialize(format=rdflib_name, encoding="utf-8")
            self._descriptions[key] = body
        return body


async def get_endpoint(request: Request) -> Endpoint:  # async: no thread-pool hop
    endpoint: Endpoint = request.app.state.endpoint
    return endpoint


EndpointDep = Annotated[Endpoint, Depends(get_endpoint)]

_PARAMS: list[dict[str, Any]] = [
    {
        "name": "query",
        "in": "query",
        "schema": {"type": "string"},
        "description": "A SPARQL 1.1 query (GET). Without it, GET returns the service description.",
    },
    {
        "name": "default-graph-uri",
        "in": "query",
        "schema": {"type": "array", "items": {"type": "string"}},
        "description": "Graphs merged into the default graph for this query (repeatable).",
    },
    {
        "name": "named-graph-uri",
        "in": "query",
        "schema": {"type": "array", "items": {"type": "string"}},
        "description": "The named graphs of this query's dataset (repeatable).",
    },
    {
        "name": "format",
        "in": "query",
        "schema": {"type": "string", "enum": [f.name for f in FORMATS]},
        "description": "Result format by short name; overrides Accept.",
    },
]
_OPENAPI: dict[str, Any] = {
    "parameters": _PARAMS,
    "responses": {
        "200": {"content": {f.media_type: {} for f in FORMATS}, "description": "The result."},
        "400": {"description": "Malformed request or query (problem+json)."},
        "406": {"description": "No acceptable format (problem+json lists the offers)."},
        "503": {"description": "The query ran past the time limit (problem+json)."},
    },
}
_OPENAPI_POST: dict[str, Any] = {
    **_OPENAPI,
    "requestBody": {
        "content": {
            FORM: {
                "schema": {
                    "type": "object",
                    "properties": {
                        "query": {"type": "string"},
                        "default-graph-uri": {"type": "array", "items": {"type": "string"}},
                        "named-graph-uri": {"type": "array", "items": {"type": "string"}},
                    },
                    "required": ["query"],
                }
            },
            DIRECT: {"schema": {"type": "string"}},
        }
    },
}


@router.get("/sparql", openapi_extra=_OPENAPI, summary="Query (GET) or service description")
async def sparql_get(request: Request, endpoint: EndpointDep) -> Response:
    return await _handle(request, endpoint)


@router.post("/sparql", openapi_extra=_OPENAPI_POST, summary="Query (POST form or direct)")
async def sparql_post(request: Request, endpoint: EndpointDep) -> Response:
    return await _handle(request, endpoint)


async def _handle(request: Request, endpoint: Endpoint) -> Response:
    settings = endpoint.settings
    parsed = await parse_request(request, settings.max_body_bytes)
    accept = request.headers.get("accept")
    if parsed.query is None:
        if request.method == "POST":
            raise Problem(400, "missing-query", "Bad request", "the request carries no query")
        fmt = negotiate_or_406(GRAPH_FORMATS, accept, parsed.format)
        url = str(request.url.replace(query="", fragment="")).rstrip("?")
        return _respond(request, endpoint.description(url, fmt), fmt)
    return await _query(request, endpoint, parsed, accept)


async def _query(
    request: Request, endpoint: Endpoint, parsed: SparqlRequest, accept: str | None
) -> Response:
    settings = endpoint.settings
    query_id = uuid.uuid4().hex[:12]
    started = time.perf_counter()
    form: str = "-"
    fmt_name = "-"
    status = 500
    cache_state = "miss"
    assert parsed.query is not None
    log.debug("query %s text: %s", query_id, parsed.query)
    try:
        info = inspect_query(parsed.query)
        form = str(info.form)
        check_services(info, settings.allowed_services)
        fmt = negotiate_or_406(formats_for(info.form), accept, parsed.format)
        fmt_name = fmt.name
        key = cache_key(parsed, fmt, settings.max_rows)
        cached = endpoint.cache.get(key)
        if cached is not None:
            cache_state = "hit"
            body, truncated, etag = cached.body, cached.truncated, cached.etag
        else:
            job = Job(
                parsed.query,
                parsed.default_graph_uris,
                parsed.named_graph_uris,
                fmt.name,
                settings.max_rows,
            )
            reply = await endpoint.pool.run(job, settings.query_timeout)
            body, truncated = reply.body, reply.truncated
            etag = endpoint.cache.put(key, body, truncated).etag
        response = _respond(request, body, fmt, etag)
        if truncated:
            response.headers[TRUNCATED_HEADER] = "true"
            response.headers[MAX_ROWS_HEADER] = str(settings.max_rows)
        status = response.status_code
        return response
    except Problem as exc:
        status = exc.status
        raise
    except DiploKGError as exc:
        problem = from_domain(exc)
        status = problem.status
        raise problem from None
    finally:
        log_query(query_id, form, status, fmt_name, started, cache_state)


def cache_key(parsed: SparqlRequest, fmt: Format, max_rows: int) -> tuple[object, ...]:
    """What identifies a result in the cache: query, protocol dataset, format, row cap."""
    return (parsed.query, parsed.default_graph_uris, parsed.named_graph_uris, fmt.name, max_rows)


def log_query(query_id: str, form: str, status: int, fmt: str, started: float, cache: str) -> None:
    """The one INFO line per query (docs/endpoint.md, "Logging")."""
    log.info(
        "query id=%s form=%s status=%d format=%s duration_ms=%.2f cache=%s",
        query_id,
        form,
        status,
        fmt,
        (time.perf_counter() - started) * 1000,
        cache,
    )


def _respond(request: Request, body: bytes, fmt: Format, etag: str | None = None) -> Response:
    etag = etag or etag_of(body)
    headers = {"ETag": etag, "Vary": "Accept"}
    if etag in entity_tags(request.headers.get("if-none-match")):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=fmt.content_type, headers=headers)


def entity_tags(header: str | None) -> set[str]:
    """The entity tags of an If-None-Match header (weak ones compared as strong)."""
    if not header:
        return set()
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}
