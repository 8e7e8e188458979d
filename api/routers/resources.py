"""Linked Data routes: every IRI under https://w3id.org/diplokg/ dereferenced with content negotiation (Cool URIs for the Semantic Web §4.3; RFC 9110 §12.5.1).

Entities (`/resource/{slug}`), the ontology (`/ontology`), named graphs (`/graph/{name}`), the
SHACL shapes (`/shapes`) and the VoID description (`/.well-known/void`); the dumps are in
api.routers.downloads. What the routes read is in api.linkeddata.describe (through the worker
pool), how they answer in api.linkeddata.representation, the HTML view models in
api.linkeddata.render. Documented in docs/linked-data.md.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from rdflib import URIRef
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.linkeddata import describe as data
from api.linkeddata import render
from api.linkeddata.ontology import ontology_html
from api.linkeddata.representation import (
    HTML,
    TURTLE,
    choose,
    not_found,
    respond_html,
    respond_rdf,
    serialize,
)
from api.linkeddata.site import page, site
from api.linkeddata.site import static_files as static_files  # mounted by api.app
from api.problems import Problem
from api.releases import Release, http_date, memento_for, parse_http_date, timemap
from api.routers import cite
from graph import __version__
from graph.curie import short
from graph.describe import VOID_FILE
from graph.layout import SHAPES_DIR
from graph.namespaces import GRAPH, RES

router = APIRouter(tags=["linked data"])

__all__ = ["router", "static_files"]

#: Slugs of resources, graphs and files: no characters that need escaping in a SPARQL IRI.
SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,200}$")


@router.get("/resource/{slug}", summary="An entity: HTML, Turtle, JSON-LD, N-Triples or RDF/XML")
async def resource(request: Request, slug: str) -> Response:
    gate = timegate(request, f"resource/{slug}")
    if gate is not None:
        return gate
    response = await _resource(request, slug)
    for name, value in memento_headers(request, f"resource/{slug}").items():
        before = response.headers.get(name)
        response.headers[name] = (
            f"{before}, {value}" if before and name != "Memento-Datetime" else value
        )
    return response


def timegate(request: Request, path: str) -> Response | None:
    """A request with Accept-Datetime, on a server that keeps earlier releases: 302 to the page
    of the release it asks for (RFC 7089 §4.1), unless that is the current one."""
    settings = request.app.state.settings
    known: list[Release] = getattr(request.app.state, "releases", [])
    asked = request.headers.get("accept-datetime")
    if settings.original_base or len(known) < 2 or asked is None:
        return None
    when = parse_http_date(asked)
    if when is None:
        return Response(
            b"Accept-Datetime must be an HTTP date (RFC 7231), e.g. Tue, 01 Dec 2026 00:00:00 GMT",
            status_code=400,
            media_type="text/plain",
        )
    chosen = memento_for(known, when)
    if chosen.prefix == "":
        return None
    base = settings.public_base
    headers = {
        "Location": f"{base}{chosen.prefix.lstrip('/')}/{path}",
        "Vary": "accept-datetime",
        "Link": f'<{base}{path}>; rel="original", <{base}timemap/{path}>; rel="timemap"',
    }
    return Response(status_code=302, headers=headers)


def memento_headers(request: Request, path: str) -> dict[str, str]:
    """Memento headers of a resource page: on an earlier release's page, its datetime and its
    original, TimeGate and TimeMap; on a current page of a server with earlier releases, the
    TimeMap and `Vary: accept-datetime` (it is its own TimeGate)."""
    settings = request.app.state.settings
    known: list[Release] = getattr(request.app.state, "releases", [])
    if settings.original_base:
        original = settings.original_base + path
        when = http_date(known[0].date) if known else ""
        return {
            "Memento-Datetime": when,
            "Link": (
                f'<{original}>; rel="original timegate", '
                f'<{settings.original_base}timemap/{path}>; rel="timemap"'
            ),
        }
    if len(known) < 2:
        return {}
    base = settings.public_base
    return {
        "Vary": "accept-datetime",
        "Memento-Datetime": http_date(known[0].date),
        "Link": f'<{base}{path}>; rel="original timegate", <{base}timemap/{path}>; rel="timemap"',
    }


@router.get("/timemap/resource/{slug}", summary="A resource's TimeMap (Memento, RFC 7089)")
async def resource_timemap(request: Request, slug: str) -> Response:
    settings = request.app.state.settings
    known: list[Release] = getattr(request.app.state, "releases", [])
    if not SLUG.match(slug) or settings.original_base:
        raise Problem(404, "not-found", "Not found", "no TimeMap here")
    base = settings.public_base
    path = f"resource/{slug}"
    mementos = [
        (f"{base}{r.prefix.lstrip('/')}/{path}" if r.prefix else f"{base}{path}", r.date)
        for r in known
    ]
    body = timemap(f"{base}{path}", f"{base}{path}", f"{base}timemap/{path}", mementos)
    return Response(body, media_type="application/link-format")


async def _resource(request: Request, slug: str) -> Response:
    fmt = choose(request)
    iri = str(RES[slug])
    if not SLUG.match(slug):
        return not_found(request, fmt, f"{slug!r} is not a DiploKG identifier", iri)
    quads = await data.describe(request, iri, page=fmt == HTML)
    if not quads:
        return not_found(request, fmt, f"DiploKG has no resource named {slug!r}", iri)
    if fmt != HTML:
        body = await run_in_threadpool(serialize, data.triples(quads), fmt)
        return respond_rdf(request, body, fmt)
    cat = await data.catalogue(request)
    view = await run_in_threadpool(render.EntityView.build, URIRef(iri), quads, cat)
    number = _page(request)
    found = await data.listings(request, iri, number)
    table = render.listings_table(found, cat, number)
    changes = render.history_entries(await data.history(request, iri), cat, iri)
    return respond_html(
        request,
        "entity.html",
        entity=view,
        title=view.label,
        listings=table,
        page=number,
        history=changes,
        cite_section=await cite.cite_section(request, iri, (str(k.link) for k in view.kinds)),
    )


def _page(request: Request) -> int:
    """The page of an entity's table of listings (`?page=`, 1-based; anything else is 1)."""
    raw = request.query_params.get("page", "")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


@router.get("/resource/", summary="Every entity of the graph, grouped by type (HTML)")
async def resource_index(request: Request) -> Response:
    cat = await data.catalogue(request)
    groups = render.index_groups(await data.resource_index(request), cat)
    return page(request, "resource_index.html", title="Browse the graph", groups=groups)


@router.get("/ontology", summary="The DiploKG ontology: HTML documentation or RDF")
async def ontology(request: Request) -> Response:
    fmt = choose(request)
    if fmt == HTML:
        return await ontology_html(request)
    s = site(request)
    key = ("ontology", fmt.name)
    if key not in s.serialized:
        graph = await data.ontology_graph(request)
        s.serialized[key] = await run_in_threadpool(serialize, graph, fmt)
    return respond_rdf(request, s.serialized[key], fmt)


@router.get("/ontology/{version}", summary="A version IRI of the ontology (the current one only)")
async def ontology_version(request: Request, version: str) -> Response:
    if version != __version__:
        fmt = choose(request)
        return not_found(
            request, fmt, f"this server has ontology version {__version__}, not {version!r}"
        )
    return await ontology(request)


@router.get("/graph/{name}", summary="A named graph: its triples, or an HTML summary")
async def named_graph(request: Request, name: str) -> Response:
    fmt = choose(request)
    iri = str(GRAPH[name])
    cat = await data.catalogue(request)
    if not SLUG.match(name) or URIRef(iri) not in cat.graphs:
        return not_found(request, fmt, f"DiploKG has no named graph {name!r}", iri)
    if fmt != HTML:
        return respond_rdf(request, await data.named_graph_body(request, iri, fmt.name), fmt)
    subjects = render.graph_subjects(await data.named_graph_subjects(request, iri), cat)
    article = cat.articles.get(URIRef(iri))
    return respond_html(
        request,
        "graph.html",
        title=f"Named graph {short(iri)}",
        iri=iri,
        subjects=subjects,
        article=(str(article[0]), article[1]) if article else None,
    )


@router.get("/shapes", summary="The SHACL shapes the data is validated against")
async def shapes(request: Request) -> Response:
    fmt = choose(request)
    s = site(request)
    if s.shapes is None:
        s.shapes = await run_in_threadpool(data.load_shapes, SHAPES_DIR)
    graph = s.shapes
    if fmt != HTML:
        key = ("shapes", fmt.name)
        if key not in s.serialized:
            s.serialized[key] = await run_in_threadpool(serialize, graph, fmt)
        return respond_rdf(request, s.serialized[key], fmt)
    listed = render.shape_views(graph, await data.catalogue(request))
    return respond_html(request, "shapes.html", title="SHACL shapes", shapes=listed)


@router.get("/.well-known/void", summary="The VoID/DCAT description of the dataset")
async def void(request: Request) -> Response:
    fmt = choose(request)
    path = site(request).settings.dataset / VOID_FILE
    if not path.is_file():
        return not_found(
            request,
            fmt,
            f"this build has no VoID description yet ({VOID_FILE} is missing from the build "
            "directory; `diplokg build` writes it once the dataset description is in place)",
        )
    graph = await run_in_threadpool(data.parse, path.read_bytes(), "turtle")
    if fmt != HTML:
        body = await run_in_threadpool(serialize, graph, fmt)
        return respond_rdf(request, body, fmt)
    body = await run_in_threadpool(serialize, graph, TURTLE)
    return respond_html(
        request, "void.html", title="Dataset description (VoID)", turtle=body.decode("utf-8")
    )
