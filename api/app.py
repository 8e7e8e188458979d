"""The web application: create_app(settings) assembles the routers; its lifespan owns the query workers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib.util
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api import problems
from api.linkeddata.site import Site
from api.pool import QueryPool, WorkerConfig
from api.problems import error_response
from api.queries import QueryService
from api.releases import Release, current_release, read_release
from api.routers import cite, downloads, resources, sparql, ui
from api.routers import writes as writes_router
from api.settings import Settings
from api.writes import VISIBLE_WITHIN_S, Tokens, WriteService, load_tokens
from graph import __version__

log = logging.getLogger(__name__)


class DiploKG(FastAPI):
    """FastAPI, with /sparql answered by its own ASGI endpoint ahead of the framework's routing
    and middleware (api.routers.sparql: it does its own CORS and errors), and POST /update by
    its route's handler called directly (behind CORS, its errors answered by api.problems):
    the framework's routing and middleware cost a write 0.6 ms of the server's time, which the
    writer, on a busy 2-core machine, then lacks."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sparql = sparql.endpoint_app(settings, self.state)
        self.update = CORSMiddleware(_direct(writes_router.update), **sparql.cors_options(settings))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        root = scope.get("root_path", "")
        if root and path.startswith(root):  # mounted (an earlier release under /release/V/)
            path = path[len(root) :]
        if scope["type"] == "http" and path == sparql.PATH:
            await self.sparql(scope, receive, send)
        elif scope["type"] == "http" and path == UPDATE_PATH and scope["method"] == "POST":
            scope["app"] = self
            await self.update(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    def openapi(self) -> dict[str, Any]:
        schema = super().openapi()
        schema.setdefault("paths", {})[sparql.PATH] = sparql.OPENAPI
        return schema


UPDATE_PATH = "/update"


def _direct(handler: Callable[[Request], Awaitable[Response]]) -> ASGIApp:
    """A route's handler as an ASGI app of its own, its errors answered as the app answers
    them (api.problems): no routing table to walk, no middleware but CORS."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            response = await handler(request)
        except Exception as exc:
            response = error_response(request, exc)
        await response(scope, receive, send)

    return app


def create_app(settings: Settings, pool: QueryPool | None = None) -> DiploKG:
    """The app serving `settings.dataset`; `pool` lets a caller supply its own workers."""

    tokens = Tokens(load_tokens(Path(settings.write_tokens))) if settings.writable else None
    earlier = [read_release(Path(d)) for d in settings.releases]
    mounted = [(r, create_app(release_settings(settings, r))) for r in earlier]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        writes: WriteService | None = None
        config = WorkerConfig(settings.store, settings.dataset, settings.allowed_services)
        if tokens is not None:
            # The writer holds the store read-write and repairs it from the change log first;
            # the query workers then follow that log (api.writes).
            writes = WriteService(settings, tokens)
            await writes.start()
            config = replica_config(settings, writes.log_path)
        workers = pool or QueryPool(config, settings.workers)
        releases = contextlib.AsyncExitStack()
        try:
            await workers.start()
            for _, sub_app in mounted:  # a mounted app's lifespan is not run by its parent
                await releases.enter_async_context(sub_app.router.lifespan_context(sub_app))
        except BaseException:
            await releases.aclose()
            await workers.close()
            if writes is not None:
                await writes.close()
            raise
        queries = QueryService(settings, workers)
        app.state.queries = queries
        if not hasattr(app.state, "site"):
            app.state.site = Site(settings)
        await asyncio.to_thread(cite.prepare_dataset_jsonld, app.state.site)
        if writes is not None:
            writes.on_commit.append(lambda result: _after_commit(app, queries, result))
            writes.visible = lambda number: workers.visible(number, VISIBLE_WITHIN_S)
            app.state.writes = writes
        gc.collect()
        gc.freeze()  # start-up objects leave the collector's scans: fewer long pauses under load
        try:
            yield
        finally:
            await releases.aclose()
            await workers.close()
            if writes is not None:
                await writes.close()

    app = DiploKG(
        settings,
        title="DiploKG SPARQL endpoint",
        version=__version__,
        description="Read-only SPARQL 1.1 query endpoint over the DiploKG knowledge graph. "
        "See docs/endpoint.md for the protocol, formats, limits and errors.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.releases = [current_release(settings.dataset)] + [r for r, _ in mounted]
    app.add_middleware(CORSMiddleware, **sparql.cors_options(settings))
    problems.install(app)
    app.include_router(resources.router)
    app.include_router(downloads.router)
    app.include_router(cite.router)
    app.include_router(ui.router)
    app.include_router(writes_router.router)
    app.mount("/static", resources.static_files(), name="static")
    for release, sub_app in mounted:
        app.mount(release.prefix, sub_app, name=f"release-{release.version}")

    @app.get("/healthz", tags=["ops"], summary="200 once the endpoint answers queries")
    async def healthz(request: Request) -> Response:
        queries: QueryService | None = getattr(request.app.state, "queries", None)
        if queries is None or not queries.pool.ready or queries.pool.info is None:
            return problems.not_ready().response(request.url.path)
        info = queries.pool.info
        return JSONResponse(
            {"status": "ok", "store": info.backend, "triples": info.triples, "version": __version__}
        )

    return app


def release_settings(settings: Settings, release: Release) -> Settings:
    """The settings of the app that serves an earlier release under /release/VERSION/."""
    assert release.directory is not None
    return settings.replace(
        dataset=release.directory,
        store="oxigraph",
        workers=1,
        releases=(),
        write_tokens="",
        original_base=settings.public_base,
        base_url=settings.public_base + release.prefix.lstrip("/") + "/",
    )


def replica_config(settings: Settings, log_path: Path) -> WorkerConfig:
    """The query workers of a server that takes writes: an oxigraph:DIR is held by the writer,
    so each worker queries an in-memory copy of the build kept up with the change log; a remote
    store is shared, and its workers follow the log for the graphs it gains."""
    from graph.stores import parse_store_spec

    kind, _ = parse_store_spec(settings.store)
    store = "oxigraph" if kind == "oxigraph" else settings.store
    return WorkerConfig(store, settings.dataset, settings.allowed_services, follow=log_path)


def _after_commit(app: FastAPI, queries: QueryService, result: object) -> None:
    """What readers see change with a commit: no cached result or page lookup survives it, and
    the service description counts the new triples and graphs."""
    queries.cache.clear()
    site = getattr(app.state, "site", None)
    if site is not None:
        site.forget_data()
    queries.committed(result)


def serve(settings: Settings) -> None:
    """Run the endpoint under uvicorn until interrupted (the `diplokg serve` command)."""
    import uvicorn

    level = settings.log_level.upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The logging HOWTO's "Optimization": records need no caller, thread or process names (one
    # INFO line per query costs the event loop ~75 us without them, ~100 us with them).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging.getLogger("api").setLevel(level)
    loop, http = fast_io()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,  # one line per query comes from api.routers.sparql
        loop=loop,
        http=http,
    )


def fast_io() -> tuple[str, str]:
    """uvicorn's event loop and HTTP parser: uvloop and httptools (dependencies) when importable."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") is not None else "h11"
    log.info("event loop %s, HTTP parser %s", loop, http)
    return loop, http
