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
from graph import __version__
from graph.curie import short
from graph.describe import VOID_FILE
from graph.layout import SHAPES_DIR
from graph.namespaces import GRAPH, RES

router = APIRouter(tags=["linked data"])

#: Slugs of resources, graphs and files: no characters that need escaping in a SPARQL IRI.
SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,200}$")


@router.get("/resource/{slug}", summary="An entity: HTML, Turtle, JSON-LD, N-Triples or RDF/XML")
async def resource(request: Request, slug: str) -> Response:
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
