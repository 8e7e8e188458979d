"""Every error as one problem+json shape (RFC 9457); domain exceptions mapped to HTTP statuses in one place."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from api.negotiation import negotiate
from graph.errors import (
    DatasetNotBuilt,
    DiploKGError,
    ForbiddenService,
    NotAcceptable,
    QueryRefused,
    QuerySyntaxError,
    QueryTimeout,
    StoreUnavailable,
    UnsupportedFormat,
    UpdateRefused,
    WorkerLost,
)
from graph.formats import Format

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://w3id.org/diplokg/problems/"


class Problem(Exception):
    """An HTTP error with an RFC 9457 body: a problem type slug, a title, a detail and extensions."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extensions = extensions

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": TYPE_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extensions)
        return body

    def encode(self, instance: str | None = None) -> bytes:
        return json.dumps(self.body(instance), ensure_ascii=False).encode("utf-8")

    def response(self, instance: str | None = None) -> Response:
        return Response(
            self.encode(instance),
            status_code=self.status,
            media_type=MEDIA_TYPE,
            headers=self.headers,
        )


def not_ready() -> Problem:
    """503 while the query workers start (or have all died and none could be restarted)."""
    return Problem(503, "not-ready", "Not ready", "the query workers are not ready")


def negotiate_or_406(
    offers: tuple[Format, ...], accept: str | None, formats: str | tuple[str, ...] | None
) -> Format:
    """The negotiated format, or a 406 Problem that lists what is offered."""
    try:
        return negotiate(offers, accept, formats)
    except NotAcceptable as exc:
        raise from_domain(exc) from None


def from_domain(exc: DiploKGError) -> Problem:
    """The one mapping from graph-library exceptions to HTTP problems."""
    if isinstance(exc, QuerySyntaxError):
        return Problem(
            400,
            "query-syntax",
            "SPARQL syntax error",
            exc.message,
            line=exc.line,
            column=exc.column,
        )
    if isinstance(exc, UpdateRefused):
        return Problem(400, "update-refused", "Updates are not accepted", str(exc))
    if isinstance(exc, ForbiddenService):
        return Problem(
            403,
            "forbidden-service",
            "SERVICE endpoint not allowed",
            str(exc),
            service=exc.target,
            allowed=list(exc.allowed),
        )
    if isinstance(exc, QueryRefused):
        return Problem(403, "query-refused", "Query refused", str(exc))
    if isinstance(exc, NotAcceptable):
        offers = [{"format": name, "media_type": media} for name, media in exc.offers]
        return Problem(406, "not-acceptable", "No acceptable format", str(exc), offers=offers)
    if isinstance(exc, UnsupportedFormat):
        return Problem(406, "not-acceptable", "No acceptable format", str(exc))
    if isinstance(exc, QueryTimeout):
        return Problem(503, "query-timeout", "Query timeout", str(exc), timeout_seconds=exc.seconds)
    if isinstance(exc, StoreUnavailable | WorkerLost):
        slug = "store-unavailable" if isinstance(exc, StoreUnavailable) else "worker-lost"
        title = "Store unavailable" if isinstance(exc, StoreUnavailable) else "Query worker lost"
        log.warning("%s: %s", title.lower(), exc)
        detail = (  # a remote store's own address stays in the log
            "the SPARQL store cannot be reached for now; try again later"
            if isinstance(exc, StoreUnavailable) and not exc.public
            else str(exc)
        )
        retry = {"Retry-After": str(exc.retry_after)}
        return Problem(503, slug, title, detail, retry, retry_after_seconds=exc.retry_after)
    if isinstance(exc, DatasetNotBuilt):
        return Problem(503, "not-ready", "Dataset not available", str(exc))
    write = _write_problem(exc)
    if write is not None:
        return write
    log.error("store error: %s", exc)
    return Problem(500, "internal", "Internal server error", "the query engine failed; see logs")


def _write_problem(exc: DiploKGError) -> Problem | None:
    """The statuses of curated writes (graph.writes); ShapesViolation's 409 is sent by the route
    itself, with the SHACL report in the format asked for."""
    from graph.writes.repository import (
        CommitNotFound,
        PreconditionFailed,
        ProtectedGraph,
        ShapesViolation,
        TooManyChanges,
    )
    from graph.writes.update import BodyError, GraphNotFound, UpdateFailed

    if isinstance(exc, ShapesViolation):
        return Problem(409, "shapes-violation", "The change breaks the shapes", str(exc))
    if isinstance(exc, PreconditionFailed):
        return Problem(
            412, "precondition-failed", "Precondition failed", str(exc), current_etag=exc.current
        )
    if isinstance(exc, ProtectedGraph):
        return Problem(403, "protected-graph", "Protected graph", str(exc), graph=exc.graph)
    if isinstance(exc, TooManyChanges):
        return Problem(413, "too-many-changes", "Too many changes", str(exc), limit=exc.limit)
    if isinstance(exc, CommitNotFound):
        return Problem(404, "change-not-found", "No such commit", str(exc))
    if isinstance(exc, GraphNotFound):
        return Problem(404, "graph-not-found", "No such graph", str(exc), graph=exc.graph)
    if isinstance(exc, BodyError):
        return Problem(400, "bad-body", "Bad request body", str(exc))
    if isinstance(exc, UpdateFailed):
        return Problem(400, "update-failed", "Update failed", str(exc))
    return None


def error_response(request: Request, exc: Exception) -> Response:
    """The problem+json answer to an error raised by a handler called outside the framework's
    routing (the app's own handlers, below, answer the same)."""
    if isinstance(exc, Problem):
        return exc.response(request.url.path)
    if isinstance(exc, DiploKGError):
        return from_domain(exc).response(request.url.path)
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    body = Problem(500, "internal", "Internal server error", "an unexpected error occurred")
    return body.response(request.url.path)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error (ours, Starlette's, unexpected) into problem+json."""

    async def ours(request: Request, exc: Exception) -> Response:
        return error_response(request, exc)

    async def http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
        headers = dict(exc.headers or {})
        return Problem(
            exc.status_code, f"http-{exc.status_code}", title, str(exc.detail), headers
        ).response(request.url.path)

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        detail = "; ".join(str(e.get("msg", e)) for e in exc.errors())
        return Problem(400, "bad-request", "Bad request", detail).response(request.url.path)

    app.add_exception_handler(Problem, ours)
    app.add_exception_handler(DiploKGError, ours)
    app.add_exception_handler(StarletteHTTPException, http)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(Exception, ours)
