"""Fuzzing a live `diplokg serve` as an attacker would: every route with random paths, parameters, headers and bodies, and mutated SPARQL.

The rules checked on every answer (`assert_by_the_rules`):

- no 5xx, except a 503 whose problem type ends with `query-timeout` (the server declined to spend
  more time, as documented);
- every error (4xx, 5xx) is `application/problem+json` with `type`, `title`, `status` and
  `detail`, its `status` that of the response. Exempt: HEAD (no body), 304 and redirects, and the
  HTML error pages a browser gets when it asks for HTML or from a page that is only HTML (the
  query editor, the timeline, the indexes: docs/ui.md, docs/linked-data.md);
- afterwards the server still answers /healthz with 200 (the last test of this module).

The server is a real process (not a TestClient) so that a crash shows, with a short query
timeout so that runaway mutations cost little. Hypothesis is derandomized with bounded examples
and no shrinking, so a run is repeatable and its time bounded; a failure prints the request.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.api.conftest import RECOGNIZING_STATE
from tests.support.serving import served

QUERY_TIMEOUT = 2.0
PROBLEM = "application/problem+json"
QUERIES = Path(__file__).resolve().parents[2] / "graph" / "queries"
#: The only SERVICE the server allows: nothing listens there and no mutation can spell it, so
#: no query of this module reaches the network (Wikidata, the default, is refused with 403).
ALLOWED_SERVICE = "http://127.0.0.1:9/diplokg-fuzz-allowed-service"

FUZZ = settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    database=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def server(built_dir: Path) -> Iterator[str]:
    options = ("--query-timeout", str(QUERY_TIMEOUT), "--allowed-service", ALLOWED_SERVICE)
    with served(built_dir, *options, workers=2) as base:
        yield base


@pytest.fixture(scope="module")
def http(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=60) as client:
        yield client


# --- the rules ---------------------------------------------------------------------------

#: Pages that are HTML whatever is asked (UI and documentation): their errors may be pages too.
HTML_PAGES = frozenset({"/", "/timeline", "/resource/", "/download/", "/docs", "/redoc"})


def media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def asked_for_html(request: httpx.Request) -> bool:
    if request.url.path in HTML_PAGES:
        return True
    accept = request.headers.get("accept", "").lower()
    params = urllib.parse.parse_qsl(request.url.query.decode("latin-1"))
    return "html" in accept or any(k == "format" and v.lower() == "html" for k, v in params)


def assert_by_the_rules(response: httpx.Response) -> None:
    """The rules of this module's docstring, for one answer."""
    request = response.request
    status = response.status_code
    shown = f"{request.method} {str(request.url)[:300]} -> {status} {response.text[:300]!r}"
    if status >= 500:
        assert status == 503, shown
    if status < 400 or request.method == "HEAD":
        return
    if status < 500 and media_type(response) == "text/html" and asked_for_html(request):
        return
    assert media_type(response) == PROBLEM, shown
    problem = response.json()
    assert isinstance(problem, dict), shown
    for member in ("type", "title", "status", "detail"):
        assert member in problem, shown
    assert problem["status"] == status, shown
    assert isinstance(problem["type"], str) and isinstance(problem["detail"], str), shown
    if status >= 500:
        assert problem["type"].endswith("/query-timeout"), shown


# --- every route, fuzzed -----------------------------------------------------------------

#: Routes the OpenAPI document does not list: the static files, the documentation pages.
UNLISTED = (
    ("GET", "/static/{path}"),
    ("GET", "/docs"),
    ("GET", "/redoc"),
    ("GET", "/openapi.json"),
    ("GET", "/healthz"),
)
#: Routes that must be there (a renamed route should be fuzzed, not silently dropped).
EXPECTED = {
    ("GET", "/sparql"),
    ("POST", "/sparql"),
    ("GET", "/resource/{slug}"),
    ("GET", "/ontology"),
    ("GET", "/graph/{name}"),
    ("GET", "/shapes"),
    ("GET", "/.well-known/void"),
    ("GET", "/download/{filename}"),
    ("GET", "/healthz"),
    ("GET", "/"),
    ("GET", "/timeline"),
}

#: Values that mean something to a route, per path parameter name.
KNOWN_SEGMENTS = {
    "slug": ["russia", "taliban", "islamic-emirate-of-afghanistan", "designation-russia-taliban"],
    "name": ["entities", "russia-recognizes-islamic-emirate", "void", "ontology"],
    "version": ["0.1.0", "0.0.1", "latest"],
    "filename": [
        "diplokg.trig",
        "diplokg.nq",
        "diplokg.ttl",
        "diplokg.jsonld",
        "void.ttl",
        "ontology.html",
        "manifest.json",
        "pyproject.toml",
    ],
    "path": ["site.css", "home.js", "vendor/yasgui.min.js", "nothing.css"],
}
NASTY_SEGMENTS = [
    "..",
    "%2e%2e",
    "..%2f..%2f..%2fetc%2fpasswd",
    "%2e%2e%2f%2e%2e%2fpyproject.toml",
    "%00",
    "a%00b",
    "%ff%fe",
    "%c0%af",
    "%",
    "%zz",
    "a%2Fb",
    "~",
    ".",
    "-",
    "x" * 3000,
    "Ω",
    "\U0001f4a5",
    "<script>alert(1)</script>",
    "a b",
    "'",
    '"',
    "{slug}",
    "?#",
    "\\",
]
PATH_PREFIXES = ["", "sparql/", "resource/", "download/", "download/0.1.0/", "static/", "graph/"]
PARAM_NAMES = [
    "query",
    "update",
    "format",
    "output",
    "results",
    "default-graph-uri",
    "named-graph-uri",
    "example",
    "state",
    "organization",
    "year",
]
PARAM_VALUES = [
    RECOGNIZING_STATE,
    "ASK {}",
    "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 3",
    "DESCRIBE res:russia",
    "INSERT DATA { <a:a> <a:a> <a:a> }",
    "SELECT * WHERE { SERVICE <https://query.wikidata.org/sparql> { ?s ?p ?o } }",
    "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }",
    "json",
    "xml",
    "csv",
    "tsv",
    "turtle",
    "jsonld",
    "json-ld",
    "rdfxml",
    "html",
    "text/tab-separated-values",
    "application/rdf+xml",
    "nonsense",
    "https://w3id.org/diplokg/graph/entities",
    "file:///etc/passwd",
    "russia",
    "taliban",
    "2025",
    "99999",
    "01-recognizers-2025-07-04",
    "",
    "\x00",
    "%ff",
]
ACCEPTS = [
    "*/*",
    "text/html",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
    "text/turtle",
    "application/ld+json",
    "application/n-triples",
    "application/rdf+xml",
    "application/json",
    "application/xml",
    "text/*",
    "text/plain;q=0",
    "*/*;q=0",
    "image/png",
    "text/csv;q=abc",
    "application/sparql-results+json;q=1.5",
    "application/sparql-results+json; charset=latin-1",
    ";;;,,,",
    "a/b/c",
    "*/json",
    "",
    "text/turtle;q=0.5, " * 300,
]
CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=latin-1",
    "application/sparql-query",
    "application/sparql-query; charset=utf-16",
    "application/sparql-update",
    "multipart/form-data; boundary=xyz",
    "application/json",
    "text/plain",
    "",
    "garbage",
]
ETAGS = ["*", '"abc"', 'W/"abc"', '"', "W/", ",,,", '"a", "b", W/"c"', "x" * 2000]
ORIGINS = ["http://evil.example", "null", "https://w3id.org", "file://", "http://127.0.0.1:1"]
METHODS = ["GET", "GET", "GET", "POST", "POST", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"]

#: Printable ASCII: what an HTTP header value may carry.
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=200)
#: Any text an URL or a body can encode as UTF-8 (no lone surrogates).
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=200)


def quote_segment(segment: str) -> str:
    """A path segment as sent: reserved characters escaped, `%` kept (so `%2e%2e` stays raw)."""
    return urllib.parse.quote(segment, safe="%~!$&'()*+,;=:@")


@st.composite
def segments(draw: st.DrawFn, name: str) -> str:
    known = KNOWN_SEGMENTS.get(name, [])
    choice = st.sampled_from(known) if known else st.sampled_from(NASTY_SEGMENTS)
    return quote_segment(draw(st.one_of(choice, st.sampled_from(NASTY_SEGMENTS), any_text)))


@st.composite
def paths(draw: st.DrawFn, routes: list[tuple[str, str]]) -> tuple[str, str]:
    """(the route's method, a path): a route's template filled in, or a random path."""
    if draw(st.integers(0, 4)) == 0:
        parts = draw(st.lists(segments(""), min_size=1, max_size=4))
        return "GET", "/" + draw(st.sampled_from(PATH_PREFIXES)) + "/".join(parts)
    method, template = draw(st.sampled_from(routes))
    path = re.sub(r"\{(\w+)(:path)?\}", lambda m: draw(segments(m.group(1))), template)
    return method, path


@st.composite
def query_strings(draw: st.DrawFn) -> str:
    pairs = draw(
        st.lists(
            st.tuples(
                st.one_of(st.sampled_from(PARAM_NAMES), any_text),
                st.one_of(st.sampled_from(PARAM_VALUES), any_text),
            ),
            max_size=4,
        )
    )
    text = urllib.parse.urlencode(pairs)
    raw = draw(st.sampled_from(["", "", "&%ff%fe=1", "&query=%zz", "&=&&=", "&format", "&a=%00"]))
    return (text + raw).lstrip("&")


@st.composite
def headers(draw: st.DrawFn) -> dict[str, str]:
    chosen: dict[str, str] = {}
    for name, values in (
        ("Accept", ACCEPTS),
        ("Content-Type", CONTENT_TYPES),
        ("If-None-Match", ETAGS),
        ("Origin", ORIGINS),
    ):
        if draw(st.booleans()):
            chosen[name] = draw(st.one_of(st.sampled_from(values), header_text)).strip()
    return chosen


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    return draw(
        st.one_of(
            st.binary(max_size=2000),
            query_strings().map(str.encode),
            st.sampled_from(PARAM_VALUES).map(str.encode),
            any_text.map(lambda t: ("query=" + t).encode()),
        )
    )


@pytest.fixture(scope="module")
def routes(http: httpx.Client) -> list[tuple[str, str]]:
    """Every (method, path template) of the app: its OpenAPI document, and what it does not list."""
    listed = [
        (method.upper(), path)
        for path, operations in http.get("/openapi.json").json()["paths"].items()
        for method in operations
    ]
    found = sorted({*listed, *UNLISTED})
    assert not EXPECTED - set(found), f"routes not found: {EXPECTED - set(found)}"
    return found


@FUZZ
@given(data=st.data())
def test_fuzzed_requests_to_every_route_are_answered_by_the_rules(
    http: httpx.Client, routes: list[tuple[str, str]], data: st.DataObject
) -> None:
    route_method, path = data.draw(paths(routes), label="path")
    method = data.draw(st.sampled_from([route_method, *METHODS]), label="method")
    query = data.draw(query_strings(), label="query string")
    sent_headers = data.draw(headers(), label="headers")
    body = data.draw(bodies(), label="body") if method in ("POST", "PUT", "PATCH") else None
    url = path + ("?" + query if query else "")
    response = http.request(method, url, headers=sent_headers, content=body)
    assert_by_the_rules(response)


# --- SPARQL mutations --------------------------------------------------------------------


def without_comments(text: bytes) -> bytes:
    """A query file without its comment lines (so that mutations hit the query, not its title)."""
    return b"\n".join(line for line in text.splitlines() if not line.lstrip().startswith(b"#"))


SEEDS = [
    *(without_comments(path.read_bytes()) for path in sorted(QUERIES.glob("*.rq"))),
    RECOGNIZING_STATE.encode(),
    b"ASK { res:russia a dk:State }",
    b"CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } } LIMIT 10",
    b"DESCRIBE res:russia",
    b"SELECT ?x WHERE { VALUES ?x { 1 2 3 } } ORDER BY DESC(?x)",
    b'SELECT * WHERE { ?s rdfs:label ?l FILTER(REGEX(?l, "^R", "i")) }',
]
TOKENS = [
    b"SERVICE",
    b"SERVICE <https://query.wikidata.org/sparql> { ?s ?p ?o }",
    b"SERVICE SILENT <http://127.0.0.1:9/sparql> { ?s ?p ?o }",
    b"SERVICE ?endpoint { ?s ?p ?o }",
    b"FROM",
    b"FROM <file:///etc/passwd>",
    b"FROM NAMED <http://127.0.0.1:9/graph>",
    b"GRAPH",
    b"GRAPH ?g",
    b"VALUES",
    b"VALUES ?x { 1 2 3 }",
    b"{",
    b"}",
    b'"',
    b"<",
    b">",
    b"#",
    b"'",
    b'"""',
    b"(",
    b")",
    b"?",
    b"*",
    b".",
    b";",
    b"\\",
    b"\\u0000",
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\xf0\x9f\x92\xa5",
    b"\r\n",
    b"OPTIONAL {",
    b"UNION",
    b"FILTER(",
    b"BIND(1 AS ?x)",
    b"SELECT",
    b"ASK",
    b"CONSTRUCT",
    b"DESCRIBE",
    b"LIMIT 0",
    b"OFFSET 99999999999999999999",
    b"LIMIT -1",
    b"INSERT DATA { <a:b> <a:b> <a:b> }",
    b"LOAD <http://127.0.0.1:9/data>",
    b"CLEAR ALL",
    b"PREFIX x: <",
    b"BASE <",
    b"^^xsd:integer",
    b"@en",
    b'REGEX(?x, "(a+)+$")',
    b"1e999999",
    b"<<",
    b">>",
]


@st.composite
def mutated_queries(draw: st.DrawFn) -> bytes:
    """A valid query, then one to four truncations, flipped bits, inserted tokens, cuts, repeats."""
    query = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["truncate", "flip", "insert", "insert", "cut", "repeat"]))
        at = draw(st.integers(0, len(query)))
        if kind == "truncate":
            del query[at:]
        elif kind == "flip" and query:
            query[min(at, len(query) - 1)] ^= 1 << draw(st.integers(0, 7))
        elif kind == "insert":
            space = draw(st.sampled_from([b"", b" "]))
            query[at:at] = space + draw(st.sampled_from(TOKENS)) + space
        elif kind == "cut":
            del query[at : at + draw(st.integers(1, 40))]
        elif kind == "repeat":
            chunk = bytes(query[at : at + draw(st.integers(1, 30))])
            query[at:at] = chunk * draw(st.integers(2, 60))
    return bytes(query)


def send_query(
    http: httpx.Client, query: bytes, how: str, accept: str | None = None
) -> httpx.Response:
    """`query` (bytes, maybe not UTF-8) by GET, POST form or POST application/sparql-query."""
    headers = {"Accept": accept} if accept else {}
    quoted = urllib.parse.quote_from_bytes(query, safe="")
    if how == "GET":
        return http.get("/sparql?query=" + quoted, headers=headers)
    if how == "POST-form":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return http.post("/sparql", content=b"query=" + quoted.encode(), headers=headers)
    headers["Content-Type"] = "application/sparql-query"
    return http.post("/sparql", content=query, headers=headers)


HOW = ["GET", "POST-form", "POST-direct"]


@settings(FUZZ, max_examples=300)
@given(
    query=mutated_queries(),
    how=st.sampled_from(HOW),
    accept=st.sampled_from(
        [None, "*/*", "text/csv", "application/sparql-results+xml", "text/turtle"]
    ),
)
def test_mutated_queries_are_answered_by_the_rules(
    http: httpx.Client, query: bytes, how: str, accept: str | None
) -> None:
    assert_by_the_rules(send_query(http, query, how, accept))


# --- hostile queries, each by every method -----------------------------------------------


def values(count: int) -> bytes:
    numbers = " ".join(str(n) for n in range(count))
    return f"SELECT ?x WHERE {{ VALUES ?x {{ {numbers} }} }}".encode()


HOSTILE = {
    "nested-braces": b"SELECT * WHERE " + b"{" * 5000 + b"}" * 5000,
    "nested-braces-unclosed": b"SELECT * WHERE " + b"{" * 5000,
    "nested-parentheses": b"SELECT * WHERE { FILTER(" + b"(" * 5000 + b"1" + b")" * 5000 + b") }",
    "nested-optional": b"SELECT * WHERE { " + b"OPTIONAL { " * 2000 + b"}" * 2000 + b"}",
    "huge-literal": b'SELECT * WHERE { BIND("' + b"a" * 500_000 + b'" AS ?x) }',
    "invalid-utf8": b"SELECT * WHERE { ?s ?p ?o \xff\xfe }",
    "overlong-utf8": b'SELECT * WHERE { ?s ?p "\xc0\xaf" }',
    "truncated-utf8": b'SELECT * WHERE { ?s ?p "\xe2\x82" }',
    "nul-in-literal": b'SELECT * WHERE { ?s ?p "\x00" }',
    "nul-in-iri": b"SELECT * WHERE { <a:\x00> ?p ?o }",
    "only-nul": b"\x00" * 100,
    "empty": b"",
}
#: Hostile input that is not a query: 400 (docs/endpoint.md, "Safety"), never evaluated.
MUST_BE_400 = {
    "nested-braces",
    "nested-braces-unclosed",
    "nested-parentheses",
    "invalid-utf8",
    "only-nul",
    "empty",
}
#: A GET URL over 64 KiB is refused by the HTTP layer before the app (see the test below), so the
#: largest GETs are cut down to what a URL can carry.
GET_LIMITED = {
    "huge-literal": b'ASK { FILTER("' + b"a" * 50_000 + b'") }',
}


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_query_is_answered_by_the_rules(http: httpx.Client, case: str, how: str) -> None:
    query = GET_LIMITED.get(case, HOSTILE[case]) if how == "GET" else HOSTILE[case]
    response = send_query(http, query, how)
    assert_by_the_rules(response)
    if case in MUST_BE_400:
        assert response.status_code == 400, response.text[:300]


@pytest.mark.parametrize("how", HOW)
def test_huge_values_query_is_answered_by_the_rules_while_the_server_keeps_answering(
    server: str, http: httpx.Client, how: str
) -> None:
    """20,000 numbers in VALUES (5,000 by GET: a URL's limit): the answer obeys the rules, and
    /healthz answers within the query timeout all along (no request stalls the event loop)."""
    query = values(5_000 if how == "GET" else 20_000)
    outcome: dict[str, httpx.Response] = {}

    def send() -> None:
        with httpx.Client(base_url=server, timeout=120) as client:
            outcome["response"] = send_query(client, query, how)

    sender = threading.Thread(target=send)
    sender.start()
    slowest = 0.0
    deadline = time.monotonic() + 120
    while sender.is_alive() and time.monotonic() < deadline:
        started = time.monotonic()
        http.get("/healthz")
        slowest = max(slowest, time.monotonic() - started)
        time.sleep(0.1)
    sender.join(timeout=10)
    assert_by_the_rules(outcome["response"])
    assert slowest < QUERY_TIMEOUT, f"/healthz waited {slowest:.1f} s while the query was handled"


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("case", ["overlong-utf8", "truncated-utf8"])
def test_query_bytes_that_are_not_utf8_are_refused_not_replaced(
    http: httpx.Client, case: str, how: str
) -> None:
    """Bytes that are not UTF-8 inside a literal: 400, never silently read as U+FFFD and run."""
    response = send_query(http, HOSTILE[case], how)
    assert response.status_code == 400, response.text[:300]
    assert_by_the_rules(response)


def test_body_over_the_limit_is_refused_with_413(http: httpx.Client) -> None:
    body = b"SELECT * WHERE { ?s ?p ?o } #" + b"x" * 1_100_000
    response = send_query(http, body, "POST-direct")
    assert response.status_code == 413
    assert_by_the_rules(response)


def test_get_url_over_64_kib_is_refused_without_a_server_error(server: str) -> None:
    """uvicorn's HTTP parser refuses such a URL before the app sees it (a plain-text 400), so
    the body is not checked here: only that it is a client error and the server lives on."""
    query = urllib.parse.quote_from_bytes(values(20_000), safe="")
    request = f"GET /sparql?query={query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:  # httpx refuses it
        sock.sendall(request.encode())
        head = b""
        while b"\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                break
            head += chunk
    assert head.startswith(b"HTTP/1.1 4"), head[:200]


# --- afterwards --------------------------------------------------------------------------


def test_server_is_healthy_after_the_fuzzing(http: httpx.Client) -> None:
    """Runs last in this module: the server survived everything above and still answers."""
    health = http.get("/healthz")
    assert health.status_code == 200
    assert json.loads(health.text)["status"] == "ok"
    answer = http.get("/sparql", params={"query": RECOGNIZING_STATE})
    assert answer.status_code == 200
    assert_by_the_rules(answer)
