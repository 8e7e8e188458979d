"""One IRI, several representations: content negotiation and the responses of a Linked Data IRI (Cool URIs for the Semantic Web §4.3; RFC 9110 §12.5.1).

Browsers get HTML, Linked Data clients Turtle (the default), JSON-LD, N-Triples or RDF/XML;
`?format=` overrides `Accept`. RDF responses carry an ETag (304 on a match), every response
`Vary: Accept` and `Link` headers naming the alternates.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from rdflib import Graph
from starlette.responses import Response

from api.cache import etag_of
from api.linkeddata.site import page
from api.problems import Problem, negotiate_or_406
from graph.formats import RDFLIB_NAMES, Format, by_name
from graph.namespaces import PREFIXES

#: HTML is offered beside the RDF syntaxes; it is not a SPARQL result format, so it lives here.
HTML = Format("html", "text/html", ("application/xhtml+xml",), frozenset())


def _fmt(name: str) -> Format:
    found = by_name(name)
    assert found is not None, name
    return found


TURTLE, JSONLD, NTRIPLES, RDFXML = (_fmt(n) for n in ("turtle", "jsonld", "ntriples", "rdfxml"))
#: Offers for an IRI, preferred first: Turtle when the client does not say (curl, `*/*`).
OFFERS: tuple[Format, ...] = (TURTLE, HTML, JSONLD, NTRIPLES, RDFXML)
RDF_OFFERS: tuple[Format, ...] = (TURTLE, JSONLD, NTRIPLES, RDFXML)


def choose(request: Request, offers: tuple[Format, ...] = OFFERS) -> Format:
    """The representation a request asks for (`?format=` first, then Accept), or 406."""
    param = request.query_params.get("format")
    if param and param.lower() == "html" and HTML in offers:
        return HTML
    return negotiate_or_406(offers, request.headers.get("accept"), param)


def not_found(request: Request, fmt: Format, detail: str, iri: str | None = None) -> Response:
    """404 as a helpful HTML page for browsers, problem+json for everyone else."""
    if fmt == HTML:
        return page(request, "not_found.html", 404, title="Not found", detail=detail, iri=iri)
    return Problem(404, "not-found", "Not found", detail).response(request.url.path)


def respond_rdf(request: Request, body: bytes, fmt: Format) -> Response:
    """An RDF body with its ETag (304 on a match), `Vary: Accept` and the alternates."""
    etag = etag_of(body)
    headers = {"ETag": etag, "Vary": "Accept", "Link": alternates(request)}
    if etag in if_none_match(request):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=fmt.content_type, headers=headers)


def respond_html(request: Request, template: str, **ctx: Any) -> Response:
    """An HTML page of an IRI, naming its RDF representations."""
    return page(request, template, headers=html_headers(request), formats=RDF_OFFERS, **ctx)


def html_headers(request: Request) -> dict[str, str]:
    return {"Vary": "Accept", "Link": alternates(request)}


def alternates(request: Request) -> str:
    """The `Link` header naming every RDF representation of the requested IRI."""
    path = request.url.path
    return ", ".join(
        f'<{path}?format={f.name}>; rel="alternate"; type="{f.media_type}"' for f in RDF_OFFERS
    )


def if_none_match(request: Request) -> set[str]:
    """The entity tags of `If-None-Match` (weak ones compared as strong)."""
    header = request.headers.get("if-none-match")
    if not header:
        return set()
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


def serialize(graph: Graph, fmt: Format) -> bytes:
    """A graph in one RDF syntax, with the project's prefixes (JSON-LD gets them as @context)."""
    for name, iri in PREFIXES.items():
        graph.bind(name, iri, replace=True)
    if fmt == JSONLD:
        return graph.serialize(format="json-ld", context=dict(PREFIXES), encoding="utf-8")
    return graph.serialize(format=RDFLIB_NAMES[fmt.name], encoding="utf-8")
