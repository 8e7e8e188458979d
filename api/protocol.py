"""SPARQL 1.1 Protocol §2.1 query operation: GET, POST form, POST direct -> one request object, strict 400s (no framework)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from api.problems import Problem

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"
#: Parameters that may appear at most once.
SINGLE = ("query", "update")
#: Non-standard parameters naming the result format (`format` is ours; clients such as
#: SPARQLWrapper send all three, sometimes twice each). Values must agree (api.negotiation).
FORMAT_PARAMS = ("format", "output", "results")
#: The dataset parameters of §2.1.4.
DATASET_PARAMS = ("default-graph-uri", "named-graph-uri")


@dataclass(frozen=True)
class SparqlRequest:
    """One query operation, however it arrived. `query` is None for a bare GET (service description)."""

    query: str | None
    default_graph_uris: tuple[str, ...] = ()
    named_graph_uris: tuple[str, ...] = ()
    #: The values of the format parameters, in order.
    formats: tuple[str, ...] = ()


def bad_request(detail: str, slug: str = "bad-request") -> Problem:
    return Problem(400, slug, "Bad request", detail)


def update_refused() -> Problem:
    return Problem(
        400,
        "update-refused",
        "Updates are not accepted",
        "/sparql is the query endpoint: it runs no SPARQL 1.1 Update and nothing was executed; "
        "a server started with --write-tokens takes updates at /update (docs/writes.md)",
    )


def too_large(limit: int) -> Problem:
    return Problem(
        413, "body-too-large", "Request body too large", f"bodies are limited to {limit} bytes"
    )


def from_params(params: list[tuple[str, str]], body_query: str | None = None) -> SparqlRequest:
    """Build the request from its parameters (URL and/or form); strict about doubles and mixtures."""
    counts: dict[str, int] = {}
    for name, _ in params:
        counts[name] = counts.get(name, 0) + 1
    for name in SINGLE:
        if counts.get(name, 0) > 1:
            raise bad_request(f"the parameter {name!r} is given {counts[name]} times; give it once")
    values = dict(params)
    if "update" in values:
        if "query" in values or body_query is not None:
            raise bad_request("a request carries either 'query' or 'update', not both")
        raise update_refused()
    query = values.get("query")
    if body_query is not None:
        if query is not None:
            raise bad_request("the query is given both in the body and as the 'query' parameter")
        query = body_query
    default = tuple(v for k, v in params if k == "default-graph-uri")
    named = tuple(v for k, v in params if k == "named-graph-uri")
    if query is None and (default or named):
        raise bad_request(
            "default-graph-uri and named-graph-uri choose the dataset of a query; "
            "this request carries no query (a GET without parameters returns the service description)",
            "missing-query",
        )
    formats = tuple(v for k, v in params if k in FORMAT_PARAMS)
    return SparqlRequest(query, default, named, formats)


def decode_params(text: str | bytes, where: str) -> list[tuple[str, str]]:
    """URL-encoded parameters; 400 when they are not UTF-8 (nothing is silently replaced)."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise bad_request(f"the {where} is not UTF-8 once percent-decoded") from None


def parse(method: str, query_string: bytes, content_type: str | None, body: bytes) -> SparqlRequest:
    """The query operation of a GET or POST to the query endpoint (Protocol §2.1.1-2.1.3)."""
    url_params = decode_params(query_string, "query string")
    if method != "POST":
        return from_params(url_params)
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type == UPDATE:
        raise update_refused()
    if media_type not in (FORM, DIRECT):
        raise Problem(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            f"POST a query as {FORM} or {DIRECT}, not {media_type or 'no content type'}",
            accepted=[FORM, DIRECT],
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("the request body is not UTF-8") from None
    if media_type == DIRECT:
        return from_params(url_params, body_query=text)
    form = decode_params(text, "form body")
    if any(name == "query" for name, _ in url_params):
        raise bad_request("with a form POST, give 'query' in the body, not in the URL")
    request = from_params(form + [p for p in url_params if p[0] != "query"])
    if request.query is None:
        raise Problem(400, "missing-query", "Bad request", "the request carries no query")
    return request
