"""The query endpoint `/sparql` (SPARQL 1.1 Protocol §2.1) and its service description (SD §3), as a plain ASGI app.

It reads the request (body limited to `max_body_bytes`, 413 beyond), parses it strictly
(api.protocol), and hands the query to the query service (api.queries), which answers from its
cache or its workers. A bare GET returns the service description. The app (api.app) sends
/sparql here before FastAPI's routing: the route is the endpoint's hottest path, and nothing in
it needs the framework. CORS comes from the same settings as the rest of the app.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from api.pool import StoreInfo
from api.problems import Problem, negotiate_or_406, not_ready
from api.protocol import DIRECT, FORM, bad_request, parse, too_large
from api.queries import (
    EXPOSED_HEADERS,
    MAX_CACHED_QUERY_CHARS,
    QueryService,
    Reply,
    problem_reply,
)
from api.service_description import describe
from api.settings import Settings
from graph.formats import FORMATS, RDFLIB_NAMES, Format, QueryForm, formats_for

log = logging.getLogger(__name__)

PATH = "/sparql"
GRAPH_FORMATS = formats_for(QueryForm.CONSTRUCT)
#: Bodies up to this size are parsed on the event loop; larger ones in a thread.
INLINE_PARSE_BYTES = 65_536
#: The methods of /sparql (OPTIONS: CORS preflight).
ALLOW = "GET, HEAD, POST, OPTIONS"
#: Service descriptions kept (one per endpoint URL as clients address it, and format).
DESCRIPTIONS_KEPT = 32


class SparqlEndpoint:
    """GET, HEAD and POST on /sparql; `service` is looked up per request (set by the lifespan)."""

    def __init__(self, settings: Settings, state: Any) -> None:
        self.settings = settings
        self.state = state
        self._descriptions: dict[tuple[str, str, int, int], bytes] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        try:
            reply = await self._reply(scope, receive, method)
        except Problem as exc:
            reply = problem_reply(exc, PATH)
        except Exception:  # a bug: logged once, answered as problem+json
            log.exception("unhandled error on %s %s", method, PATH)
            problem = Problem(
                500, "internal", "Internal server error", "an unexpected error occurred"
            )
            reply = problem_reply(problem, PATH)
        headers = [(b"content-length", str(len(reply.body)).encode()), *reply.headers]
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else reply.body})

    async def _reply(self, scope: Scope, receive: Receive, method: str) -> Reply:
        service: QueryService | None = getattr(self.state, "queries", None)
        if method not in ("GET", "HEAD", "POST"):
            detail = f"{method} is not allowed on {PATH}; use GET or POST"
            raise Problem(405, "http-405", "Method not allowed", detail, {"Allow": ALLOW})
        if service is None or not service.pool.ready:
            raise not_ready()
        headers = request_headers(scope)
        body = b""
        if method == "POST":
            body = await read_body(
                receive, headers.get("content-length"), self.settings.max_body_bytes
            )
        accept = headers.get("accept")
        if_none_match = headers.get("if-none-match")
        # The bytes that decide the answer; a result cached under them needs no parsing.
        key = request_key(method, scope["query_string"], headers.get("content-type"), body, accept)
        if key is not None:
            cached = service.cached(key, if_none_match)
            if cached is not None:
                return cached
        args = (method, scope["query_string"], headers.get("content-type"), body)
        if len(body) > INLINE_PARSE_BYTES:  # percent-decoding is Python: 0.2 s for 1 MB of %XX
            request = await asyncio.to_thread(parse, *args)  # other requests go on meanwhile
        else:
            request = parse(*args)
        if request.query is None:  # a bare GET: the service description
            fmt = negotiate_or_406(GRAPH_FORMATS, accept, request.formats)
            host = headers.get("host")
            description = self.description(public_url(scope, host), fmt, service.store_info())
            return Reply(200, [(b"content-type", fmt.content_type.encode()), _VARY], description)
        return await service.answer(request, accept, if_none_match, PATH, key)

    def description(self, endpoint: str, fmt: Format, info: StoreInfo | None) -> bytes:
        assert info is not None
        key = (endpoint, fmt.name, info.triples, len(info.named_graphs))  # a commit changes them
        body = self._descriptions.get(key)
        if body is None:
            writable = self.settings.writable
            graph = describe(endpoint, info, self.settings.allowed_services, writable)
            body = graph.serialize(format=RDFLIB_NAMES[fmt.name], encoding="utf-8")
            if len(self._descriptions) >= DESCRIPTIONS_KEPT:  # Host headers are the client's
                self._descriptions.clear()
            self._descriptions[key] = body
        return body


_VARY = (b"vary", b"Accept")


#: The request headers the endpoint reads (ASGI gives their names in lower case).
_READ = frozenset({b"accept", b"content-type", b"content-length", b"if-none-match", b"host"})


def request_headers(scope: Scope) -> dict[str, str]:
    """The headers the endpoint reads, the first of each, in one pass over the request's."""
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        if name in _READ:
            found.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return found


def request_key(
    method: str, query_string: bytes, content_type: str | None, body: bytes, accept: str | None
) -> tuple[object, ...] | None:
    """What decides a query's answer, as the client sent it (None when too long to cache)."""
    if len(query_string) + len(body) > MAX_CACHED_QUERY_CHARS:
        return None
    if method == "POST":
        return ("POST", query_string, content_type, body, accept)
    return ("GET", query_string, accept)


async def read_body(receive: Receive, declared: str | None, limit: int) -> bytes:
    """The request body; 413 as soon as it exceeds `limit` bytes (Content-Length checked first)."""
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise bad_request("Content-Length is not a number") from None
        if size > limit:
            raise too_large(limit)
    chunks: list[bytes] = []
    total = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise bad_request("the client went away before sending its body")
        chunk = message.get("body", b"")
        total += len(chunk)
        if total > limit:
            raise too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def public_url(scope: Scope, host: str | None) -> str:
    """This endpoint's URL as the client addressed it (scheme, Host, root path)."""
    host = host or "{}:{}".format(*(scope.get("server") or ("127.0.0.1", 80)))
    return f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}{PATH}"


def cors_options(settings: Settings) -> dict[str, Any]:
    """The CORS configuration of the whole app (Starlette's CORSMiddleware options)."""
    return {
        "allow_origins": list(settings.cors_origins),
        "allow_methods": ["GET", "POST", "OPTIONS"],
        "allow_headers": ["Accept", "Content-Type", "If-None-Match"],
        "expose_headers": list(EXPOSED_HEADERS),
    }


def endpoint_app(settings: Settings, state: Any) -> ASGIApp:
    """The /sparql endpoint behind CORS, configured as the rest of the app is."""
    return CORSMiddleware(SparqlEndpoint(settings, state), **cors_options(settings))


#: The OpenAPI description of /sparql (the route is outside FastAPI's routing; see api.app).
_PARAMS: list[dict[str, Any]] = [
    {
        "name": "query",
        "in": "query",
        "schema": {"type": "string"},
        "description": "A SPARQL 1.1 query (GET). Without any parameter, GET returns the service description.",
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
        "schema": {"type": "array", "items": {"type": "string"}},
        "description": "Result format by short name or media type; overrides Accept. "
        "`output` and `results` are synonyms; repeated values must agree.",
    },
]
_RESPONSES: dict[str, Any] = {
    "200": {"content": {f.media_type: {} for f in FORMATS}, "description": "The result."},
    "400": {"description": "Malformed request or query (problem+json)."},
    "406": {"description": "No acceptable format (problem+json lists the offers)."},
    "413": {"description": "Request body too large (problem+json)."},
    "415": {"description": "POST with another content type (problem+json)."},
    "503": {"description": "Time limit reached, or the store is unavailable (problem+json)."},
}
OPENAPI: dict[str, Any] = {
    "get": {
        "tags": ["sparql"],
        "summary": "Query (GET) or service description",
        "parameters": _PARAMS,
        "responses": _RESPONSES,
    },
    "post": {
        "tags": ["sparql"],
        "summary": "Query (POST form or direct)",
        "parameters": _PARAMS[1:],
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
        "responses": _RESPONSES,
    },
}
