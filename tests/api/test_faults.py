"""Faults from outside a live `diplokg serve`: a query worker killed, the remote store gone.

(a) A query worker is SIGKILLed by someone else (the OOM killer, an operator): once while idle,
once while it holds a slow query. The server stays up, starts a replacement, and only the query
the killed worker held fails: 503 problem+json, type `worker-lost`, a `Retry-After` header (the
same query may well succeed on a fresh worker). The workers are found through /proc: the
descendants of the server process that are not multiprocessing helpers.

(b) The remote store (`--store sparql:URL`) stops answering: every query is 503 problem+json,
type `store-unavailable`, with `Retry-After`; never a 500; the server lives on, and answers again
once the store is back. The store is a stand-in started here: SPARQL 1.1 query and update over
an in-memory Oxigraph, on 127.0.0.1, that the server loads through its update URL at start-up.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from tests.api.conftest import RECOGNIZING_STATE, RUSSIA, first_column
from tests.support.serving import served

PROBLEM = "application/problem+json"
#: A cross join of the whole graph with itself, twice: minutes on the memory store.
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SLOW_TIMEOUT = 20
#: Processes multiprocessing may start beside the workers; they are not query workers.
HELPERS = ("multiprocessing.forkserver", "multiprocessing.resource_tracker", "semaphore_tracker")


def quick_query(n: int) -> str:
    """The recognizing states, spelled differently each time (never a cached answer)."""
    return RECOGNIZING_STATE + f" # {n} {time.monotonic_ns()}"


def media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, object]:
    shown = f"{response.status_code} {response.text[:400]!r}"
    assert response.status_code == status, shown
    assert media_type(response) == PROBLEM, shown
    problem = response.json()
    for member in ("type", "title", "status", "detail"):
        assert member in problem, shown
    assert problem["status"] == status, shown
    assert str(problem["type"]).endswith("/" + slug), shown
    assert "retry-after" in response.headers, f"no Retry-After: {dict(response.headers)}"
    return dict(problem)


# --- processes, from /proc ---------------------------------------------------------------


def proc_stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, CPU ticks used) of a process; None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[11]) + int(fields[12])


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def children(pid: int) -> list[int]:
    """The living (not zombie) children of `pid`: a scan of /proc/*/stat."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = proc_stat(int(entry.name))
            if stat is not None and stat[1] == pid and stat[0] != "Z":
                found.append(int(entry.name))
    return sorted(found)


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    todo = [pid]
    while todo and len(found) < 1000:
        for child in children(todo.pop()):
            found.append(child)
            todo.append(child)
    return sorted(found)


def server_pid(base: str) -> int:
    """The `diplokg serve` process this test process started for `base`."""
    port = base.rsplit(":", 1)[1]
    matches = [p for p in children(os.getpid()) if f" --port {port} " in cmdline(p) + " "]
    assert len(matches) == 1, f"no single server process for {base}: {matches}"
    return matches[0]


def query_workers(server: int) -> list[int]:
    return [p for p in descendants(server) if not any(h in cmdline(p) for h in HELPERS)]


def wait_for_workers(
    server: int, count: int, gone: tuple[int, ...] = (), within: float = 30
) -> list[int]:
    """The server's query workers once there are `count` of them, none of them in `gone`."""
    deadline = time.monotonic() + within
    while True:
        workers = query_workers(server)
        if len(workers) == count and not set(workers) & set(gone):
            return workers
        if time.monotonic() > deadline:
            raise AssertionError(f"{count} query workers expected (not {gone}), found {workers}")
        time.sleep(0.1)


def cpu_ticks(workers: list[int]) -> dict[int, int]:
    return {w: (proc_stat(w) or ("", 0, 0))[2] for w in workers}


def wait_until_idle(workers: list[int], within: float = 30) -> None:
    """Until no worker uses CPU (a fresh one loading the store is not idle yet)."""
    deadline = time.monotonic() + within
    before = cpu_ticks(workers)
    while True:
        time.sleep(0.5)
        now = cpu_ticks(workers)
        if all(now[w] - before[w] <= 2 for w in workers):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the query workers {workers} did not become idle")
        before = now


def busy_worker(workers: list[int], within: float = 20) -> int:
    """The worker that is burning CPU (evaluating a query) while the others idle."""
    deadline = time.monotonic() + within
    before = cpu_ticks(workers)
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = cpu_ticks(workers)
        grown = sorted(((now[w] - before[w], w) for w in workers), reverse=True)
        if grown[0][0] >= 5 and grown[0][0] >= 3 * grown[1][0]:
            return grown[0][1]
        before = now
    raise AssertionError("no query worker became busy with the slow query")


# --- (a) a query worker killed -----------------------------------------------------------


@pytest.fixture(scope="module")
def pool_server(built_dir: Path) -> Iterator[tuple[str, int]]:
    """A live server with two workers, no cache, a timeout the slow query reaches only if the
    kill misses it (it is killed within seconds)."""
    options = ("--query-timeout", str(SLOW_TIMEOUT), "--result-cache-entries", "0")
    with served(built_dir, *options, workers=2) as base:
        yield base, server_pid(base)


def test_worker_killed_while_idle_is_replaced_and_every_later_query_succeeds(
    pool_server: tuple[str, int],
) -> None:
    base, server = pool_server
    victim = wait_for_workers(server, 2)[0]
    os.kill(victim, signal.SIGKILL)
    with httpx.Client(base_url=base, timeout=60) as client:
        for n in range(6):  # more than the workers: the dead one's turn comes
            response = client.get("/sparql", params={"query": quick_query(n)})
            assert response.status_code == 200, response.text[:400]
            assert first_column(response.content) == [RUSSIA]
        wait_for_workers(server, 2, gone=(victim,))
        assert client.get("/healthz").status_code == 200


def test_worker_killed_while_holding_a_query_fails_that_query_only(
    pool_server: tuple[str, int],
) -> None:
    base, server = pool_server
    workers = wait_for_workers(server, 2)
    wait_until_idle(workers)
    outcome: dict[str, httpx.Response] = {}

    def run_slow() -> None:
        outcome["slow"] = httpx.get(
            base + "/sparql", params={"query": SLOW}, timeout=SLOW_TIMEOUT + 30
        )

    slow = threading.Thread(target=run_slow)
    slow.start()
    try:
        victim = busy_worker(workers)
        # The other worker answers while the slow query runs.
        quick = httpx.get(base + "/sparql", params={"query": quick_query(0)}, timeout=60)
        assert quick.status_code == 200, quick.text[:400]
        os.kill(victim, signal.SIGKILL)
    finally:
        slow.join(timeout=SLOW_TIMEOUT + 30)
    assert not slow.is_alive()
    problem = assert_problem(outcome["slow"], 503, "worker-lost")
    detail = str(problem["detail"]).lower()
    assert "worker" in detail and "stop" in detail, detail
    with httpx.Client(base_url=base, timeout=60) as client:
        for n in range(1, 5):
            response = client.get("/sparql", params={"query": quick_query(n)})
            assert response.status_code == 200, response.text[:400]
        wait_for_workers(server, 2, gone=(victim,))
        assert client.get("/healthz").status_code == 200


# --- (b) the remote store gone -----------------------------------------------------------


class StandInStore:
    """SPARQL 1.1 query (GET, form POST) and update (form POST) over an in-memory Oxigraph.

    It listens on 127.0.0.1; `stop()` closes its port, `start()` opens the same port again with
    the same data.
    """

    def __init__(self) -> None:
        self.store = ox.Store()
        self.lock = threading.Lock()
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sparql"

    def start(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)

    def answer(self, fields: dict[str, list[str]]) -> tuple[int, str, bytes]:
        """(status, content type, body) for one protocol request."""
        with self.lock:
            try:
                if "update" in fields:
                    self.store.update(fields["update"][0])
                    return 200, "text/plain", b""
                default = [ox.NamedNode(g) for g in fields.get("default-graph-uri", [])]
                named = [ox.NamedNode(g) for g in fields.get("named-graph-uri", [])]
                result = self.store.query(
                    fields["query"][0],
                    use_default_graph_as_union=not default,
                    default_graph=default or None,
                    named_graphs=named or None,
                )
            except (SyntaxError, KeyError, ValueError) as exc:
                return 400, "text/plain", str(exc).encode()
            if isinstance(result, ox.QueryTriples):
                return 200, "text/turtle", result.serialize(format=ox.RdfFormat.TURTLE)
            body = result.serialize(format=ox.QueryResultsFormat.JSON)
            return 200, "application/sparql-results+json", body


def _handler(standin: StandInStore) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self._reply(urllib.parse.urlsplit(self.path).query)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._reply(self.rfile.read(length).decode("utf-8"))

        def _reply(self, form: str) -> None:
            status, content_type, body = standin.answer(urllib.parse.parse_qs(form))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture(scope="module")
def standin() -> Iterator[StandInStore]:
    store = StandInStore()
    store.start()
    try:
        yield store
    finally:
        store.stop()


@pytest.fixture(scope="module")
def remote_server(built_dir: Path, standin: StandInStore) -> Iterator[str]:
    spec = f"sparql:{standin.url},{standin.url}"
    with served(built_dir, "--store", spec, "--result-cache-entries", "0", workers=1) as base:
        yield base


REMOTE_QUERIES = {
    "select": RECOGNIZING_STATE,
    "ask": f"ASK {{ ?r dk:recognizingState <{RUSSIA}> }}",
    "construct": "CONSTRUCT WHERE { ?r a dk:Recognition }",
}


def test_remote_store_answers_while_it_is_up(remote_server: str) -> None:
    response = httpx.get(remote_server + "/sparql", params={"query": quick_query(0)}, timeout=60)
    assert response.status_code == 200, response.text[:400]
    assert first_column(response.content) == [RUSSIA]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_remote_store_down_is_503_with_retry_after_never_500(
    remote_server: str, standin: StandInStore, method: str
) -> None:
    standin.stop()
    try:
        with httpx.Client(base_url=remote_server, timeout=60) as client:
            for form, query in REMOTE_QUERIES.items():
                text = f"{query} # {method} {form} {time.monotonic_ns()}"
                if method == "GET":
                    response = client.get("/sparql", params={"query": text})
                else:
                    response = client.post("/sparql", data={"query": text})
                assert_problem(response, 503, "store-unavailable")
                assert (
                    "127.0.0.1" not in response.json()["detail"]
                )  # the store's address stays in the log
            health = client.get("/healthz")  # the server itself is alive
            assert health.status_code in (200, 503), health.text[:400]
            if health.status_code == 503:
                assert media_type(health) == PROBLEM
    finally:
        standin.start()


def test_queries_succeed_again_once_the_remote_store_is_back(
    remote_server: str, standin: StandInStore
) -> None:
    response = httpx.get(remote_server + "/sparql", params={"query": quick_query(1)}, timeout=60)
    assert response.status_code == 200, response.text[:400]
    assert first_column(response.content) == [RUSSIA]
    assert httpx.get(remote_server + "/healthz", timeout=30).status_code == 200
