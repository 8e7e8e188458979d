"""The remote backend's HTTP client: explicit Accept, GET or form POST only, HTML is an error."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from graph.errors import ReadOnlyStore, StoreError
from graph.stores.remote import MAX_GET_URL, RemoteStore
from tests.support.virtuoso import VirtuosoServer

ASK_TRUE = b'{"head": {}, "boolean": true}'
NO_STATE = b'{"head": {"vars": ["p", "o"]}, "results": {"bindings": []}}'


class _Recorder(BaseHTTPRequestHandler):
    """Answers every request with the class's canned body; records method, headers and body."""

    seen: ClassVar[list[tuple[str, dict[str, str], bytes]]] = []
    body: ClassVar[bytes] = ASK_TRUE
    content_type: ClassVar[str] = "application/sparql-results+json"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        self.seen.append((self.command, dict(self.headers), data))
        self.send_response(200)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def recorder() -> Iterator[tuple[str, type[_Recorder]]]:
    handler = type("Handler", (_Recorder,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sparql", handler
    finally:
        server.shutdown()
        server.server_close()


def test_short_query_is_a_get_with_an_explicit_accept(
    recorder: tuple[str, type[_Recorder]],
) -> None:
    url, handler = recorder
    assert RemoteStore(url).query("ASK { ?s ?p ?o }").serialize("json")
    method, headers, _ = handler.seen[-1]
    assert method == "GET"
    assert headers["Accept"] == "application/sparql-results+json"


def test_long_query_is_a_form_post_never_a_sparql_query_body(
    recorder: tuple[str, type[_Recorder]],
) -> None:
    url, handler = recorder
    filler = " ".join(f"<urn:x:{i}>" for i in range(MAX_GET_URL // 8))
    RemoteStore(url).query(f"ASK {{ VALUES ?x {{ {filler} }} }}")
    method, headers, body = handler.seen[-1]
    assert method == "POST"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert body.startswith(b"query=")
    assert all("sparql-query" not in h.get("Content-Type", "") for _, h, _ in handler.seen)


def test_html_answer_is_a_store_error_not_a_result(
    recorder: tuple[str, type[_Recorder]],
) -> None:
    url, handler = recorder
    handler.body, handler.content_type = b"<html><body>hello</body></html>", "text/html"
    with pytest.raises(StoreError, match="HTML"):
        RemoteStore(url).query("SELECT * WHERE { ?s ?p ?o }")


def test_loading_without_an_update_url_is_refused(
    recorder: tuple[str, type[_Recorder]], built_dir: Path
) -> None:
    url, handler = recorder
    handler.body = NO_STATE
    with pytest.raises(ReadOnlyStore):
        RemoteStore(url).load_dataset(built_dir)


def test_restart_over_the_same_build_does_not_reload(
    virtuoso: VirtuosoServer, built_dir: Path
) -> None:
    first = RemoteStore(virtuoso.sparql_url, virtuoso.sparql_url)
    first.load_dataset(built_dir)
    second = RemoteStore(virtuoso.sparql_url)  # no update URL: it must not need one
    second.load_dataset(built_dir)
    assert second.reused
    assert second.named_graphs() == first.named_graphs()
    assert second.triple_count() == first.triple_count() > 0
