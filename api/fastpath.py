"""A lean ASGI path for GET /sparql (Protocol §2.1.1): the route's answer, without the framework.

Most of a quick query's time in the server process went into the framework (routing, dependency
injection, request objects, CORS and exception middleware), not into the answer. This middleware
sits outside all of them and answers only what it can answer exactly like the full route: a GET
to /sparql whose query string is plain ASCII, valid under the protocol, carries a query that
parses and is allowed, and has an acceptable format; with no Origin header or a wildcard CORS
configuration. Its result comes from the cache or, on a miss, from the worker pool exactly as the
route gets it (same job, same time limit: a runaway's worker is killed); an error the pool raises
becomes the route's problem response. Everything else (a request the route refuses before
evaluating, the service description, a POST, an unusual header, DEBUG logging) goes to the full
FastAPI route unchanged.

Parsing, checks and negotiation are memoized per (query string, Accept), and the header list of
each cached result is built once. Tests hold both paths to the same status, headers and body.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from api.cache import CachedResult
from api.execution import Job
from api.negotiation import NotAcceptable, negotiate
from api.problems import Problem, from_domain
from api.protocol import from_params
from api.routers import sparql
from graph.errors import DiploKGError
from graph.formats import Format, formats_for
from graph.stores.analysis import check_services, inspect_query

#: Query strings (with their Accept) whose parsing and negotiation are remembered.
MEMO_ENTRIES = 4096
#: Longer query strings are answered but not remembered (the memo's memory stays bounded).
MEMO_MAX_QUERY_BYTES = 16_384
#: A query string the full route would read the same way: visible ASCII, no fragment.
_PLAIN = frozenset(range(0x21, 0x7F)) - {ord("#")}

Headers = list[tuple[bytes, bytes]]


@dataclass
class _Hot:
    """What the full route would compute before looking in the cache, for one request shape."""

    key: tuple[object, ...]
    form: str
    fmt: Format
    #: What a worker evaluates on a miss, as the route builds it.
    job: Job
    #: (ETag, truncated) of the result the header lists below were built for (rebuilt when it
    #: changes); not the result itself, which the memo must not keep alive.
    signature: tuple[str, bool] | None = None
    #: Response headers: (200 without Origin, 304 without Origin, 200 with, 304 with).
    headers: tuple[Headers, Headers, Headers, Headers] | None = None


class CachedResultsMiddleware:
    """Answers the GETs of /sparql it can answer as the route does; passes the rest to `app`."""

    def __init__(self, app: ASGIApp, path: str = "/sparql") -> None:
        self.app = app
        self.path = path
        self._memo: dict[tuple[bytes, bytes | None], _Hot] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        endpoint: sparql.Endpoint | None = getattr(scope["app"].state, "endpoint", None)
        if (
            endpoint is None
            or not endpoint.fast_path
            or not await self._answer(endpoint, scope, send)
        ):
            await self.app(scope, receive, send)

    async def _answer(self, endpoint: sparql.Endpoint, scope: Scope, send: Send) -> bool:
        """Send the route's answer (cached, or evaluated by a worker) and return True, or send
        nothing and return False (the route answers)."""
        started = time.perf_counter()
        accept = origin = if_none_match = None
        for name, value in scope["headers"]:  # the first of each, as Request.headers.get does
            if name == b"accept":
                accept = value if accept is None else accept
            elif name == b"origin":
                origin = value if origin is None else origin
            elif name == b"if-none-match":
                if_none_match = value if if_none_match is None else if_none_match
        if origin is not None and not endpoint.cors_wildcard:
            return False
        if sparql.log.isEnabledFor(logging.DEBUG):
            return False  # the full route logs each query's text at DEBUG
        raw_query: bytes = scope["query_string"]
        hot = self._memo.get((raw_query, accept))
        if hot is None:
            hot = self._prepare(endpoint, raw_query, accept)
            if hot is None:
                return False
        result = endpoint.cache.get(hot.key)
        cache_state = "hit"
        if result is None:
            cache_state = "miss"
            try:
                reply = await endpoint.pool.run(hot.job, endpoint.settings.query_timeout)
            except DiploKGError as exc:
                status = await _send_problem(scope, send, from_domain(exc), origin is not None)
                sparql.log_query(
                    uuid.uuid4().hex[:12], hot.form, status, hot.fmt.name, started, "miss"
                )
                return True
            except BaseException:  # cancelled, or a bug: logged as the route logs it
                sparql.log_query(
                    uuid.uuid4().hex[:12], hot.form, 500, hot.fmt.name, started, "miss"
                )
                raise
            result = endpoint.cache.put(hot.key, reply.body, reply.truncated)
        headers = hot.headers
        signature = (result.etag, result.truncated)
        if signature != hot.signature or headers is None:
            headers = hot.headers = _headers(endpoint, hot.fmt, result)
            hot.signature = signature
        status = 200
        if if_none_match is not None and result.etag in sparql.entity_tags(
            if_none_match.decode("latin-1")
        ):
            status = 304
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": headers[(status == 304) + 2 * (origin is not None)],
            }
        )
        await send({"type": "http.response.body", "body": b"" if status == 304 else result.body})
        if sparql.log.isEnabledFor(logging.INFO):
            sparql.log_query(
                uuid.uuid4().hex[:12], hot.form, status, hot.fmt.name, started, cache_state
            )
        return True

    def _prepare(
        self, endpoint: sparql.Endpoint, raw_query: bytes, accept: bytes | None
    ) -> _Hot | None:
        """The full route's steps up to the cache lookup, or None where it would not answer 200."""
        if not _PLAIN.issuperset(raw_query):
            return None
        try:
            parsed = from_params(parse_qsl(raw_query.decode("ascii"), keep_blank_values=True))
            if parsed.query is None:
                return None
            info = inspect_query(parsed.query)
            check_services(info, endpoint.settings.allowed_services)
            accept_text = accept.decode("latin-1") if accept is not None else None
            fmt = negotiate(formats_for(info.form), accept_text, parsed.format)
        except (Problem, DiploKGError, NotAcceptable):
            return None
        max_rows = endpoint.settings.max_rows
        job = Job(
            parsed.query, parsed.default_graph_uris, parsed.named_graph_uris, fmt.name, max_rows
        )
        hot = _Hot(sparql.cache_key(parsed, fmt, max_rows), str(info.form), fmt, job)
        if len(raw_query) <= MEMO_MAX_QUERY_BYTES:
            if len(self._memo) >= MEMO_ENTRIES:
                del self._memo[next(iter(self._memo))]
            self._memo[(raw_query, accept)] = hot
        return hot


async def _send_problem(scope: Scope, send: Send, problem: Problem, origin: bool) -> int:
    """Send `problem` as the route's exception handler and CORS middleware would; its status."""
    response = problem.response(Request(scope).url.path)
    headers = list(response.raw_headers)
    if origin:  # only with a wildcard configuration (see __call__)
        headers += _CORS
    headers.append((b"vary", b"Origin"))
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})
    return problem.status


def _headers(
    endpoint: sparql.Endpoint, fmt: Format, result: CachedResult
) -> tuple[Headers, Headers, Headers, Headers]:
    """The header lists the full route sends for `result`, in its order (CORS last)."""
    etag = [(b"etag", result.etag.encode("latin-1")), (b"vary", b"Accept, Origin")]
    truncated: Headers = []
    if result.truncated:
        max_rows = str(endpoint.settings.max_rows).encode("latin-1")
        truncated = [(b"x-sparql-truncated", b"true"), (b"x-sparql-max-rows", max_rows)]
    content = [
        (b"content-length", str(len(result.body)).encode("latin-1")),
        (b"content-type", fmt.content_type.encode("latin-1")),
    ]
    ok = etag + content + truncated
    not_modified = etag + truncated
    return ok, not_modified, ok + _CORS, not_modified + _CORS


#: The CORS headers of a response to a request with an Origin, under a wildcard configuration.
_CORS: Headers = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", ", ".join(sparql.EXPOSED_HEADERS).encode("latin-1")),
]
