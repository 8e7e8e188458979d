"""The servers benchmarks/endpoint.py compares, each started on 127.0.0.1 over a dataset's N-Quads.

diplokg          our endpoint as `diplokg serve` runs it (api.app.serve, default Settings)
diplokg-nocache  the same with result_cache_entries=0
diplokg-rdflib   the same with store="memory", the rdflib store
rdflib-endpoint  the `rdflib-endpoint` package (its own venv), Dataset(default_union=True)
oxigraph         Oxigraph server, native: `oxigraph load`, then `oxigraph serve-read-only
                 --union-default-graph` (PyPI package `oxigraph`, its own venv)
ceiling          a FastAPI route returning a constant JSON body (the framework's ceiling)
asgi-floor       a bare ASGI app returning that body under uvicorn, no framework
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.workload import ACCEPT, REPEATED, Dataset

ROOT = Path(__file__).resolve().parent.parent

#: diplokg rows: Settings on top of the defaults (no `store`: the default store, whatever it is).
DIPLOKG_ROWS: dict[str, dict[str, str | int]] = {
    "diplokg": {},
    "diplokg-nocache": {"result_cache_entries": 0},
    "diplokg-rdflib": {"store": "memory"},  # the rdflib store, by its name
}
QUERY_SERVERS = (*DIPLOKG_ROWS, "rdflib-endpoint", "oxigraph")
#: These answer every query with the same body.
CONSTANT_SERVERS = ("ceiling", "asgi-floor")
#: The server every other is compared with.
REFERENCE = "oxigraph"
ASK = "ASK {}"

#: Runs our endpoint as `diplokg serve` does, minus its rebuild check (a generated world is not
#: a build of the project's sources); argv: dataset, port, Settings overrides as JSON.
DIPLOKG_LAUNCHER = """
import json, sys
from pathlib import Path
from api.app import serve
from api.settings import Settings
serve(Settings.from_env(dataset=Path(sys.argv[1]), port=int(sys.argv[2]), log_level="warning",
                        **json.loads(sys.argv[3])))
"""

RDFLIB_ENDPOINT_APP = """
from rdflib import Dataset
from rdflib_endpoint import SparqlEndpoint
ds = Dataset(default_union=True)
ds.parse({nq!r}, format="nquads")
app = SparqlEndpoint(graph=ds, path="/sparql")
"""

ASGI_FLOOR_APP = """
BODY = b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"literal","value":"1"}}]}}'
HEADERS = [(b"content-length", str(len(BODY)).encode()),
           (b"content-type", b"application/sparql-results+json")]
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
"""

CEILING_APP = """
from fastapi import FastAPI
from starlette.responses import Response
BODY = b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"literal","value":"1"}}]}}'
app = FastAPI()
@app.get("/sparql")
async def sparql() -> Response:
    return Response(BODY, media_type="application/sparql-results+json")
"""


@dataclass
class Server:
    """A server under test, started and answering; `url` is its SPARQL query endpoint."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    log: Path
    #: Stripes of its distinct-query runs (stripe 0 is the row-count sample's), see workload.py.
    stripes: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def constant(self) -> bool:
        return self.name in CONSTANT_SERVERS

    def query_url(self, query: str) -> str:
        return self.url + "?" + urllib.parse.urlencode({"query": query})

    def wait_idle(self, timeout: float = 180) -> float:
        """Wait until the server's process tree uses under 5% of a core over half a second (it
        may still be working off the requests of a run that has ended); the seconds waited."""
        started, window = time.monotonic(), 0.5
        used = tree_cpu_seconds(self.process.pid)
        while time.monotonic() - started < timeout:
            time.sleep(window)
            used, before = tree_cpu_seconds(self.process.pid), used
            if used - before < 0.05 * window:
                break
        else:
            print(f"  warning: {self.name} still busy after {timeout} s", flush=True)
        return time.monotonic() - started

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)


@dataclass
class Launcher:
    """Starts the servers: the apps it writes in `tmp`, the peers' Python and binary."""

    tmp: Path
    rdflib_endpoint_python: str
    oxigraph: str

    def __post_init__(self) -> None:
        (self.tmp / "ceiling").mkdir()
        (self.tmp / "ceiling" / "app.py").write_text(textwrap.dedent(CEILING_APP))
        (self.tmp / "asgi_floor").mkdir()
        (self.tmp / "asgi_floor" / "app.py").write_text(ASGI_FLOOR_APP)
        (self.tmp / "diplokg.py").write_text(DIPLOKG_LAUNCHER)
        (self.tmp / "logs").mkdir()

    def missing(self, name: str) -> str | None:
        """Why server `name` cannot run here, or None."""
        if name == "rdflib-endpoint" and not Path(self.rdflib_endpoint_python).exists():
            return f"{self.rdflib_endpoint_python} absent (see the set-up in endpoint.py)"
        if name == "oxigraph" and shutil.which(self.oxigraph) is None:
            return f"{self.oxigraph} absent (see the set-up in endpoint.py)"
        return None

    def start(self, name: str, dataset: Dataset) -> Server:
        """Start server `name` on `dataset`, wait until it answers, warm up its repeated queries."""
        port = free_port()
        path = "/sparql"
        if name in DIPLOKG_ROWS:
            overrides = json.dumps(DIPLOKG_ROWS[name])
            argv = [sys.executable, str(self.tmp / "diplokg.py"), str(dataset.directory)]
            argv += [str(port), overrides]
        elif name == "rdflib-endpoint":
            app_dir = self.tmp / f"rdflib_ep_{dataset.size}"
            app_dir.mkdir(exist_ok=True)
            (app_dir / "app.py").write_text(RDFLIB_ENDPOINT_APP.format(nq=str(dataset.nquads)))
            argv = uvicorn_argv(self.rdflib_endpoint_python, app_dir, port)
        elif name == "oxigraph":
            location = self.oxigraph_location(dataset)
            # Without --timeout-s: in 0.5.13 it starts a thread per query, and under load
            # answers 500 ("Resource temporarily unavailable"), then aborts.
            argv = [self.oxigraph, "serve-read-only", "--location", str(location)]
            argv += ["--bind", f"127.0.0.1:{port}", "--union-default-graph"]
            path = "/query"
        elif name == "ceiling":
            argv = uvicorn_argv(sys.executable, self.tmp / "ceiling", port)
        elif name == "asgi-floor":
            argv = uvicorn_argv(sys.executable, self.tmp / "asgi_floor", port)
        else:
            raise ValueError(f"unknown server {name!r}")
        log = self.tmp / "logs" / f"{name}-{dataset.size}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(argv, stdout=out, stderr=out, env=server_env())
        server = Server(name, process, f"http://127.0.0.1:{port}{path}", log)
        try:
            wait_ready(server)
            for workload in REPEATED:
                for _ in range(50):
                    fetch(server.query_url(dataset.repeated(workload)))
        except BaseException:
            server.stop()
            raise
        return server

    def oxigraph_location(self, dataset: Dataset) -> Path:
        """Oxigraph's database of `dataset`: `oxigraph load`, then `optimize` (Oxigraph's advice
        for "a read-only SPARQL endpoint under heavy load"), once per dataset."""
        location = self.tmp / f"oxigraph-{dataset.size}"
        if not location.exists():
            started = time.monotonic()
            for step in (["load", "--file", str(dataset.nquads)], ["optimize"]):
                argv = [self.oxigraph, step[0], "--location", str(location), *step[1:]]
                subprocess.run(argv, check=True, capture_output=True, timeout=600)
            print(f"  oxigraph load + optimize: {time.monotonic() - started:.1f} s", flush=True)
        return location


def server_env() -> dict[str, str]:
    """The servers' environment: this checkout's code first, no DIPLOKG_* setting (defaults)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIPLOKG_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def uvicorn_argv(python: str, app_dir: Path, port: int) -> list[str]:
    """uvicorn serving `app_dir`/app.py, with uvloop and httptools when `python` has them."""
    fast = ["--loop", "uvloop", "--http", "httptools"] if has_fast_loop(python) else []
    return [
        python, "-m", "uvicorn", "app:app", "--app-dir", str(app_dir), *fast,
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip


def has_fast_loop(python: str) -> bool:
    """True when `python` has uvloop and httptools (uvicorn then uses them)."""
    probe = subprocess.run([python, "-c", "import uvloop, httptools"], capture_output=True)
    return probe.returncode == 0


def wait_ready(server: Server, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            tail = server.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{server.name} exited with {server.process.returncode}:\n{tail}")
        try:
            fetch(server.query_url(ASK), timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{server.name} not ready after {timeout} s")


def fetch(url: str, timeout: float = 60) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": ACCEPT})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return bytes(response.read())


def count_rows(url: str) -> int:
    """Solutions in the SPARQL JSON answer; -status for an HTTP error, -1 for no JSON results."""
    try:
        body = fetch(url)
    except urllib.error.HTTPError as error:
        return -error.code
    try:
        return len(json.loads(body)["results"]["bindings"])
    except (ValueError, KeyError, TypeError):
        return -1


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rpartition(")")[2].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    tree = [pid]
    for p in tree:  # the list grows as it is walked
        tree.extend(children.get(p, []))
    return tree


def tree_rss_mb(pid: int) -> float:
    """The summed VmRSS of `pid` and its descendants, in MB."""
    kb = 0
    for p in process_tree(pid):
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        kb += int(found.group(1)) if found else 0
    return kb / 1024


def tree_cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) used so far by `pid` and its descendants."""
    ticks = 0
    for p in process_tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")
