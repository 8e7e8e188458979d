"""The query service: the one path every query takes, from the /sparql route, the Linked Data pages and the UI.

Framework-free. A query is looked up in the result cache, or queued to the worker pool
(api.pool), where it is checked, negotiated, evaluated and serialized (api.worker). The answer
comes back as a Reply (status, headers, body) ready to send, errors included: every domain error
becomes a problem+json reply through api.problems, in this one place. One INFO line is logged
per query (docs/endpoint.md, "Logging").
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

from api.cache import CachedResult, ResultCache, entity_tags
from api.pool import Job, QueryPool, StoreInfo
from api.problems import Problem, from_domain
from api.protocol import SparqlRequest
from api.settings import Settings
from graph.errors import DiploKGError
from graph.formats import by_name

log = logging.getLogger(__name__)

#: Headers telling the client its result was cut to `max_rows` (documented in docs/endpoint.md).
TRUNCATED_HEADER = "X-SPARQL-Truncated"
MAX_ROWS_HEADER = "X-SPARQL-Max-Rows"
#: Response headers that scripts on other origins may read (CORS).
EXPOSED_HEADERS = ("ETag", TRUNCATED_HEADER, MAX_ROWS_HEADER)
#: Longer query texts are answered but their results are not cached (the key would be large).
MAX_CACHED_QUERY_CHARS = 16_384

Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class Reply:
    """An HTTP answer, ready to send: status, headers (ASGI's byte pairs), body."""

    status: int
    headers: Headers
    body: bytes


class QueryService:
    """Answers queries for the whole app: result cache, worker pool, errors, logging."""

    def __init__(self, settings: Settings, pool: QueryPool) -> None:
        self.settings = settings
        self.pool = pool
        self.cache = ResultCache(settings.result_cache_entries, settings.result_cache_max_bytes)
        #: Query ids: this process's random prefix, then a counter (cheaper than a uuid4 each).
        self._id_prefix = secrets.token_hex(3)
        #: Named graphs commits created (True) or emptied (False), not yet in pool.info.
        self._graph_changes: dict[str, bool] = {}
        self._ids = itertools.count()

    def committed(self, result: Any) -> None:
        """A commit (api.writes) changed the data: the counts follow at once, the list of named
        graphs when something reads it (sorting thousands of graph names on every commit
        would hold the event loop)."""
        info = self.pool.info
        if info is not None:
            self.pool.info = dataclasses.replace(info, triples=result.triples)
        self._graph_changes.update(result.graphs)
        if result.commit is not None:
            self.pool.committed(result.commit.sequence)

    def store_info(self) -> StoreInfo | None:
        """What the store holds now (the service description, the pages' catalogue)."""
        info = self.pool.info
        if info is not None and self._graph_changes:
            graphs = set(info.named_graphs)
            graphs |= {g for g, exists in self._graph_changes.items() if exists}
            graphs -= {g for g, exists in self._graph_changes.items() if not exists}
            self._graph_changes.clear()
            info = self.pool.info = dataclasses.replace(info, named_graphs=tuple(sorted(graphs)))
        return info

    def _next_id(self) -> str:
        return f"{self._id_prefix}{next(self._ids) & 0xFFFFFF:06x}"

    def cached(self, key: tuple[object, ...], if_none_match: str | None) -> Reply | None:
        """The reply to a request whose result is in the cache under `key` (logged as a hit),
        or None."""
        found = self.cache.get(key)
        if found is None:
            return None
        reply = self._ok(found, if_none_match)
        if log.isEnabledFor(logging.INFO):
            self._log(self._next_id(), found.form, reply.status, found.format, 0.0, "hit")
        return reply

    async def answer(
        self,
        request: SparqlRequest,
        accept: str | None,
        if_none_match: str | None = None,
        instance: str = "/sparql",
        key: tuple[object, ...] | None = None,
    ) -> Reply:
        """The reply to a query operation (SPARQL 1.1 Protocol §2.1), errors as problem+json.
        `key` is the request as the client sent it, already looked up with `cached`: the result
        is kept under it (default: under the request as parsed, looked up here)."""
        assert request.query is not None
        started = time.perf_counter()
        logged = log.isEnabledFor(logging.INFO)
        query_id = self._next_id() if logged else ""
        if log.isEnabledFor(logging.DEBUG):
            log.debug("query %s text: %s", query_id, request.query)
        form = fmt = "-"
        cache_state = "miss"
        try:
            found, cache_state = await self._result(request, accept, key)
            form, fmt = found.form, found.format
            reply = self._ok(found, if_none_match)
        except DiploKGError as exc:
            reply = problem_reply(from_domain(exc), instance)
        except Problem as exc:
            reply = problem_reply(exc, instance)
        if logged:
            elapsed = (time.perf_counter() - started) * 1000
            self._log(query_id, form, reply.status, fmt, elapsed, cache_state)
        return reply

    @staticmethod
    def _log(query_id: str, form: str, status: int, fmt: str, ms: float, cache: str) -> None:
        """The one INFO line per query."""
        log.info(
            "query id=%s form=%s status=%d format=%s duration_ms=%.2f cache=%s",
            query_id,
            form,
            status,
            fmt,
            ms,
            cache,
        )

    async def _result(
        self,
        request: SparqlRequest,
        accept: str | None,
        key: tuple[object, ...] | None = None,
        whole: bool = False,
    ) -> tuple[CachedResult, str]:
        assert request.query is not None
        settings = self.settings
        if whole:  # a Graph Store GET: the whole graph, never cut, never cached
            job = Job(
                request.query,
                request.default_graph_uris,
                request.named_graph_uris,
                accept,
                request.formats,
                None,
            )
            answer = await self.pool.run(job, settings.query_timeout)
            return self.cache.put(None, answer), "miss"
        if key is None and len(request.query) <= MAX_CACHED_QUERY_CHARS:
            key = (
                request.query,
                request.default_graph_uris,
                request.named_graph_uris,
                accept,
                request.formats,
            )
            cached = self.cache.get(key)
            if cached is not None:
                return cached, "hit"
        job = Job(
            request.query,
            request.default_graph_uris,
            request.named_graph_uris,
            accept,
            request.formats,
            settings.max_rows,
        )
        generation = self.cache.generation
        answer = await self.pool.run(job, settings.query_timeout)
        return self.cache.put(key, answer, generation), "miss"

    def _ok(self, result: CachedResult, if_none_match: str | None) -> Reply:
        headers: Headers = [(b"etag", result.etag.encode()), (b"vary", b"Accept")]
        if result.truncated:
            headers.append((TRUNCATED_HEADER.lower().encode(), b"true"))
            headers.append((MAX_ROWS_HEADER.lower().encode(), str(self.settings.max_rows).encode()))
        if if_none_match and result.etag in entity_tags(if_none_match):
            return Reply(304, headers, b"")
        spec = by_name(result.format)
        assert spec is not None
        headers.append((b"content-type", spec.content_type.encode()))
        return Reply(200, headers, result.body)

    async def run(
        self,
        query: str,
        fmt: str | None = None,
        accept: str | None = None,
        whole: bool = False,
        default_graph_uris: tuple[str, ...] = (),
    ) -> CachedResult:
        """The result of a query the app itself writes (for its pages), as the format named
        `fmt` or negotiated from `accept`; errors raised as Problems. `whole`: no row limit and
        no cache (a Graph Store GET returns the whole graph)."""
        request = SparqlRequest(query, default_graph_uris, formats=(fmt,) if fmt else ())
        try:
            found, _ = await self._result(request, accept, whole=whole)
        except DiploKGError as exc:
            raise from_domain(exc) from None
        return found


def problem_reply(problem: Problem, instance: str | None = None) -> Reply:
    """A Problem as a reply (the same bytes as Problem.response)."""
    headers: Headers = [(b"content-type", b"application/problem+json")]
    headers += [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in problem.headers.items()
    ]
    return Reply(problem.status, headers, problem.encode(instance))
