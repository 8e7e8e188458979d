"""Curated writes over HTTP: SPARQL 1.1 Update at /update, the Graph Store HTTP Protocol at /store,
and the change history at /changes (docs/writes.md).

Reads stay open: a Graph Store GET needs no token, nor does /changes. Writes need a Bearer
token (api.writes) on a server started with --write-tokens; on a read-only server they get 403.
Every error is problem+json, except a refusal by the shapes (409), whose body is the SHACL
validation report in N-Quads (RDF4J's `application/shacl-validation-report+n-quads`), Turtle,
JSON-LD or problem+json, as the client accepts.
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any
from urllib.parse import unquote
from xml.sax.saxutils import escape, quoteattr

from fastapi import APIRouter, Request
from rdflib import Dataset, Graph, URIRef
from starlette.responses import Response

from api.negotiation import parse_accept
from api.problems import MEDIA_TYPE as PROBLEM_JSON
from api.problems import Problem
from api.protocol import FORM, UPDATE, bad_request, decode_params, too_large
from api.queries import QueryService
from api.writes import ChangeEntry, WriteService, read_only
from graph.formats import QueryForm, formats_for
from graph.namespaces import PREFIXES
from graph.stores.base import STORED_DEFAULT_GRAPH
from graph.writes.commits import commit_iri
from graph.writes.delta import sorted_quads
from graph.writes.repository import CommitResult, ShapesViolation, WriteRequest
from graph.writes.update import BODY_FORMATS, GraphOperation, UpdateRequest

router = APIRouter(tags=["writes"])

#: RDF4J's media type for a SHACL report sent with a 409.
SHACL_REPORT_NQUADS = "application/shacl-validation-report+n-quads"
RDF_PATCH = "application/rdf-patch"
ATOM = "application/atom+xml"
#: An absolute IRI: a scheme, then no space or angle bracket.
_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+")


def _writes(request: Request) -> WriteService:
    service: WriteService | None = getattr(request.app.state, "writes", None)
    if service is None:
        raise read_only()
    return service


def _queries(request: Request) -> QueryService:
    from api.problems import not_ready

    service: QueryService | None = getattr(request.app.state, "queries", None)
    if service is None:
        raise not_ready()
    return service


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 past `limit` bytes (before reading it when the client
    says its length)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _media_type(request: Request) -> str:
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower()


def _header_text(request: Request, name: str) -> str | None:
    """A header's text: UTF-8 sent raw (read as Latin-1 by the server) or percent-encoded."""
    raw = request.headers.get(name)
    if raw is None:
        return None
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        raw = raw.encode("latin-1").decode("utf-8")
    return unquote(raw).strip() or None


def _iri(value: str, what: str) -> str:
    if not _IRI.fullmatch(value):
        raise bad_request(f"{what} must be an absolute IRI, not {value!r}", "bad-iri")
    return value


def _if_match(request: Request) -> tuple[str, ...]:
    header = request.headers.get("if-match")
    if not header:
        return ()
    return tuple(tag.strip() for tag in header.split(",") if tag.strip())


def _provenance(request: Request, fields: dict[str, str]) -> tuple[str | None, str | None]:
    message = fields.get("message") or _header_text(request, "prov-message")
    source = fields.get("source") or _header_text(request, "prov-source")
    if message is not None and len(message) > 2000:
        raise bad_request("the commit message is limited to 2000 characters")
    return message, _iri(source, "Prov-Source") if source else None


async def _commit(request: Request, service: WriteService, write: WriteRequest) -> CommitResult:
    try:
        return await service.commit(write)
    except ShapesViolation as exc:
        raise _Refusal(_refusal(request, exc)) from None


class _Refusal(Exception):
    """A commit the shapes refused: its 409 response, ready to send."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _refusal(request: Request, exc: ShapesViolation) -> Response:
    """The 409 for a commit the shapes refuse, in the report format the client accepts."""
    accept = request.headers.get("accept") or ""
    offers = [SHACL_REPORT_NQUADS, "application/n-quads", "text/turtle", "application/ld+json",
              PROBLEM_JSON]  # fmt: skip
    chosen = _choose(accept, offers) or SHACL_REPORT_NQUADS
    problem = Problem(
        409,
        "shapes-violation",
        "The change breaks the shapes",
        str(exc),
        violations=[
            {
                "focus": r.focus,
                "path": r.path,
                "shape": r.shape,
                "constraint": r.constraint,
                "message": r.message,
                "value": r.value,
                "severity": r.severity,
            }
            for r in exc.report.results
        ],
    )
    if chosen == PROBLEM_JSON:
        return problem.response(request.url.path)
    if chosen in (SHACL_REPORT_NQUADS, "application/n-quads"):
        body = exc.report_nquads
    else:
        graph = Graph().parse(data=exc.report_turtle, format="turtle")
        body = graph.serialize(format="json-ld" if "json" in chosen else "turtle", encoding="utf-8")
    return Response(body, status_code=409, media_type=chosen)


def _choose(accept: str, offers: list[str]) -> str | None:
    """The offer the client prefers: each offer takes the q of the most specific range that
    matches it; ties go to the first offer. None when the client names no preference."""
    if not accept.strip():
        return None
    ranges = parse_accept(accept)
    best: tuple[float, int, str] | None = None
    for rank, offer in enumerate(offers):
        matching = [r for r in ranges if r.matches(offer)]
        if not matching:
            continue
        q = max(matching, key=lambda r: r.specificity).q
        if q > 0 and (best is None or (q, -rank) > best[:2]):
            best = (q, -rank, offer)
    return best[2] if best else None


def _committed(result: CommitResult, status: int = 200, **extra: Any) -> Response:
    commit = result.commit
    body: dict[str, Any] = {
        "commit": commit.id if commit else None,
        "etag": result.etag,
        "added": commit.added if commit else 0,
        "removed": commit.removed if commit else 0,
    }
    headers = {"ETag": result.etag}
    if commit is not None:
        body["iri"] = str(commit.iri)
        body["change"] = f"/changes/{commit.id}"
        headers["Content-Location"] = f"/changes/{commit.id}"
    body.update(extra)
    if status == 204:
        return Response(status_code=204, headers=headers)
    return Response(
        json.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


# --- SPARQL 1.1 Update ----------------------------------------------------------------------


@router.post(
    "/update",
    summary="SPARQL 1.1 Update (needs a Bearer token)",
    responses={409: {"description": "The change breaks the shapes: the SHACL report"}},
)
async def update(request: Request) -> Response:
    service = _writes(request)
    agent = service.tokens.agent(request.headers.get("authorization"))
    body = await read_body(request, request.app.state.settings.max_body_bytes)
    media = _media_type(request)
    url_params = decode_params(request.url.query, "query string")
    if media == UPDATE:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise bad_request("the request body is not UTF-8") from None
        params = url_params
    elif media == FORM:
        params = decode_params(body, "form body")
        if any(name == "update" for name, _ in url_params):
            raise bad_request("with a form POST, give 'update' in the body, not in the URL")
        updates = [v for k, v in params if k == "update"]
        if len(updates) != 1:
            raise bad_request(
                "a form POST carries the update once, as the 'update' field", "missing-update"
            )
        text = updates[0]
        params = params + url_params
    else:
        raise Problem(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            f"POST an update as {UPDATE} or {FORM}, not {media or 'no content type'}",
            accepted=[UPDATE, FORM],
        )
    if any(name == "query" for name, _ in params):
        raise bad_request("a request carries either 'query' or 'update', not both")
    fields = {k: v for k, v in params if k in ("message", "source")}
    using = tuple(_iri(v, "using-graph-uri") for k, v in params if k == "using-graph-uri")
    using_named = tuple(
        _iri(v, "using-named-graph-uri") for k, v in params if k == "using-named-graph-uri"
    )
    message, source = _provenance(request, fields)
    write = WriteRequest(
        agent,
        update=UpdateRequest(text, using, using_named),
        message=message,
        source=source,
        if_match=_if_match(request),
    )
    try:
        result = await _commit(request, service, write)
    except _Refusal as exc:
        return exc.response
    return _committed(result)


@router.get("/update", include_in_schema=False)
async def update_get() -> Response:
    raise Problem(
        405,
        "http-405",
        "Method not allowed",
        "SPARQL 1.1 Update is sent with POST (Protocol §2.2)",
        {"Allow": "POST"},
    )


# --- Graph Store HTTP Protocol ------------------------------------------------------------------


def _target(request: Request, method: str) -> str | None:
    """The graph a Graph Store request names: its IRI, or None for `?default`. A POST with
    neither targets the store itself (a new graph): returned as ''."""
    graphs = request.query_params.getlist("graph")
    default = "default" in request.query_params
    if len(graphs) > 1:
        raise bad_request("name one graph: 'graph' is given more than once")
    if graphs and default:
        raise bad_request("give either ?graph=IRI or ?default, not both")
    if graphs:
        return _iri(graphs[0], "graph")
    if default:
        return None
    if method == "POST":
        return ""
    raise bad_request(
        "name the graph: ?graph=IRI, or ?default for the default graph "
        "(Graph Store HTTP Protocol §4)",
        "missing-graph",
    )


@router.api_route(
    "/store",
    methods=["GET", "HEAD", "PUT", "POST", "DELETE"],
    summary="SPARQL 1.1 Graph Store HTTP Protocol (writes need a Bearer token)",
)
async def graph_store(request: Request) -> Response:
    method = request.method
    target = _target(request, method)
    if method in ("GET", "HEAD"):
        return await _read_graph(request, target, method)
    service = _writes(request)
    agent = service.tokens.agent(request.headers.get("authorization"))
    message, source = _provenance(request, {})
    body = b""
    media = ""
    if method in ("PUT", "POST"):
        media = _media_type(request)
        if media not in BODY_FORMATS:
            raise Problem(
                415,
                "unsupported-media-type",
                "Unsupported media type",
                f"send the graph as one of {', '.join(sorted(BODY_FORMATS))}, "
                f"not {media or 'no content type'}",
                accepted=sorted(BODY_FORMATS),
            )
        body = await read_body(request, request.app.state.settings.max_body_bytes)
    operation = GraphOperation(method, target or None, body, media)
    write = WriteRequest(
        agent,
        graph=operation,
        new_graph=target == "",
        message=message,
        source=source,
        if_match=_if_match(request),
    )
    try:
        result = await _commit(request, service, write)
    except _Refusal as exc:
        return exc.response
    if target == "":
        if result.commit is None:
            raise bad_request(
                "the body holds no triple: a graph exists while it holds one, so none was created",
                "empty-graph",
            )
        response = _committed(result, 201, graph=result.graph)
        response.headers["Location"] = str(result.graph)
        return response
    return _committed(result, 201 if result.created else 204)


async def _read_graph(request: Request, target: str | None, method: str) -> Response:
    queries = _queries(request)
    if target is None:
        pattern = "?s ?p ?o"
        exists = True
    else:
        pattern = f"GRAPH <{target}> {{ ?s ?p ?o }}"
        found = await queries.run(f"ASK {{ {pattern} }}", fmt="json")
        exists = json.loads(found.body).get("boolean", False)
    if not exists:
        raise Problem(404, "graph-not-found", "No such graph", f"no graph <{target}> in the store")
    dataset: tuple[str, ...] = ()
    if target is not None:
        query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {pattern} }}"
    elif queries.pool.info is not None and queries.pool.info.backend == "oxigraph":
        # The stored default graph itself (docs/writes.md), not the union the queries see.
        query, dataset = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", (STORED_DEFAULT_GRAPH,)
    else:  # rdflib and remote stores keep every triple in a named graph
        query = (
            "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER NOT EXISTS { GRAPH ?g { ?s ?p ?o } } }"
        )
    result = await queries.run(
        query, accept=request.headers.get("accept"), whole=True, default_graph_uris=dataset
    )
    spec = next(f for f in formats_for(QueryForm.CONSTRUCT) if f.name == result.format)
    headers = {"ETag": result.etag, "Vary": "Accept"}
    writes: WriteService | None = getattr(request.app.state, "writes", None)
    if writes is not None:
        headers["X-DiploKG-Dataset-ETag"] = writes.etag
    body = b"" if method == "HEAD" else result.body
    response = Response(body, media_type=spec.content_type, headers=headers)
    if method == "HEAD":
        response.headers["Content-Length"] = str(len(result.body))
    return response


# --- history ----------------------------------------------------------------------------------


def _entry_json(entry: ChangeEntry) -> dict[str, Any]:
    c = entry.commit
    return {
        "id": c.id,
        "iri": str(c.iri),
        "agent": c.agent,
        "operation": c.operation,
        "started": c.started,
        "ended": c.ended,
        "message": c.message,
        "source": c.source,
        "previous": c.previous,
        "reverts": c.reverts,
        "added": c.added,
        "removed": c.removed,
        "record": f"/changes/{c.id}",
        "patch": f"/changes/{c.id}?format=rdf-patch",
    }


def _history(request: Request) -> list[ChangeEntry]:
    service: WriteService | None = getattr(request.app.state, "writes", None)
    return service.history() if service is not None else []


@router.get("/changes", summary="The accepted commits, newest first (JSON or Atom)")
async def changes(request: Request, limit: int = 100, before: str | None = None) -> Response:
    if not 1 <= limit <= 1000:
        raise bad_request("limit is between 1 and 1000")
    entries = list(reversed(_history(request)))
    if before is not None:
        ids = [e.commit.id for e in entries]
        if before not in ids:
            raise Problem(404, "change-not-found", "No such commit", f"no commit {before!r}")
        entries = entries[ids.index(before) + 1 :]
    page = entries[:limit]
    chosen = _choose(request.headers.get("accept") or "", ["application/json", ATOM])
    if request.query_params.get("format") == "atom" or chosen == ATOM:
        return Response(_atom(request, page), media_type=ATOM)
    body: dict[str, Any] = {"changes": [_entry_json(e) for e in page]}
    if len(entries) > limit:
        body["next"] = f"/changes?limit={limit}&before={page[-1].commit.id}"
    return Response(json.dumps(body, indent=1), media_type="application/json")


def _atom(request: Request, entries: list[ChangeEntry]) -> bytes:
    base = str(request.base_url).rstrip("/")
    updated = entries[0].commit.ended if entries else "1970-01-01T00:00:00Z"
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        "<title>DiploKG: accepted changes</title>",
        f"<id>{escape(base)}/changes</id>",
        f"<updated>{escape(updated)}</updated>",
        f'<link rel="self" href={quoteattr(base + "/changes?format=atom")}/>',
    ]
    for entry in entries:
        c = entry.commit
        summary = f"{c.operation} by {c.agent}: +{c.added} -{c.removed} quads"
        parts += [
            "<entry>",
            f"<id>{escape(str(c.iri))}</id>",
            f"<title>{escape(c.message or f'commit {c.id}')}</title>",
            f"<updated>{escape(c.ended)}</updated>",
            f"<author><name>{escape(c.agent)}</name></author>",
            f"<link href={quoteattr(f'{base}/changes/{c.id}')}/>",
            f"<summary>{escape(summary)}</summary>",
            "</entry>",
        ]
    parts.append("</feed>")
    return ("\n".join(parts) + "\n").encode("utf-8")


def _entry(request: Request, commit_id: str) -> ChangeEntry:
    service: WriteService | None = getattr(request.app.state, "writes", None)
    entry = service.entry(commit_id) if service is not None else None
    if entry is None:
        raise Problem(404, "change-not-found", "No such commit", f"no commit {commit_id!r}")
    return entry


@router.get("/changes/{commit_id}", summary="One commit: its PROV record (TriG) or its RDF Patch")
async def change(request: Request, commit_id: str, format: str | None = None) -> Response:
    entry = _entry(request, commit_id)
    offers = ["application/trig", RDF_PATCH, "application/n-quads", "application/json"]
    names = {"trig": offers[0], "rdf-patch": RDF_PATCH, "nquads": offers[2], "json": offers[3]}
    if format is not None and format not in names:
        raise bad_request(f"format is one of {', '.join(names)}")
    chosen = (
        names[format]
        if format
        else (_choose(request.headers.get("accept") or "", offers) or offers[0])
    )
    if chosen == RDF_PATCH:
        return Response(entry.patch.text(), media_type=RDF_PATCH)
    if chosen == "application/json":
        return Response(json.dumps(_entry_json(entry), indent=1), media_type="application/json")
    graph = commit_iri(entry.commit.id)
    record = sorted_quads(q for op, q in entry.patch.operations if op == "A" and q[3] == graph)
    ds = Dataset()
    for name, iri in PREFIXES.items():
        ds.bind(name, iri)
    for s, p, o, g in record:
        ds.add((s, p, o, ds.graph(URIRef(str(g)))))
    fmt = "trig" if chosen == "application/trig" else "nquads"
    return Response(ds.serialize(format=fmt, encoding="utf-8"), media_type=chosen)


@router.get("/change/{commit_id}", include_in_schema=False)
async def change_iri(request: Request, commit_id: str) -> Response:
    """A commit's IRI (https://w3id.org/diplokg/change/ID) dereferenced: 303 to its record."""
    _entry(request, commit_id)
    query = f"?{request.url.query}" if request.url.query else ""
    return Response(status_code=303, headers={"Location": f"../changes/{commit_id}{query}"})


@router.post("/changes/{commit_id}/revert", summary="Undo a commit with a new, checked commit")
async def revert(request: Request, commit_id: str) -> Response:
    service = _writes(request)
    agent = service.tokens.agent(request.headers.get("authorization"))
    _entry(request, commit_id)
    message, source = _provenance(request, {})
    write = WriteRequest(
        agent,
        revert=commit_id,
        message=message or f"revert commit {commit_id}",
        source=source,
        if_match=_if_match(request),
    )
    try:
        result = await _commit(request, service, write)
    except _Refusal as exc:
        return exc.response
    return _committed(result)
