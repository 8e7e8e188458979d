"""Store benchmark (issue 4, "Benchmark at scale"): load time, peak memory and query latency per backend.

For each size, a synthetic world (benchmarks/generate.py) is written once, then every backend
is measured in a fresh child process (so peak memory is its own): the raw engines (rdflib
Dataset, pyoxigraph Store), DiploKG's stores (memory, oxigraph, remote on a private Virtuoso)
and two HTTP servers, each in its own process on 127.0.0.1 under the same uvicorn: DiploKG's
endpoint over `oxigraph:DIR` with its result cache off (`http-oxigraph`), and the floor of
"pyoxigraph over HTTP", a bare ASGI app over a pyoxigraph DIR store (`http-raw-oxigraph`). Both
are asked by the same client, one keep-alive connection. Load time is until the store answers,
imports excluded except for the HTTP rows; what it covers per backend is printed under each
table (LOAD_INCLUDES), with its steps. Every oxigraph row on disk compacts after loading
(optimize), so their queries run on the same layout. Five queries modelled on the competency
questions; the median of the timed runs after one warm-up run: five, or for a quick query as
many as fit in TIMED_S (at most MAX_RUNS); the JSON gives each query's runs. After the table,
the endpoint's medians are set against raw pyoxigraph in-process and over HTTP (COMPARED).

    python -m benchmarks.stores --sizes 100000 1000000 --work /tmp/diplokg-bench
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.generate import write

BACKENDS = [
    "raw-rdflib",
    "raw-oxigraph",
    "memory",
    "oxigraph",
    "http-raw-oxigraph",
    "http-oxigraph",
    "remote",
]
#: Rows served over HTTP by a server process of their own (see serve()).
HTTP_BACKENDS = ("http-oxigraph", "http-raw-oxigraph")
#: The rows the endpoint's medians are compared with: (endpoint, raw in-process, raw over HTTP).
COMPARED = ("http-oxigraph", "raw-oxigraph", "http-raw-oxigraph")
#: What each backend's load time covers (imports excluded), printed under every table.
LOAD_INCLUDES: dict[str, str] = {
    "raw-rdflib": "rdflib Dataset.parse of the N-Quads",
    "raw-oxigraph": "pyoxigraph Store(DIR).bulk_load (strict parsing) + flush + optimize",
    "memory": "open_store: rdflib parse of the dump, then triple_count() (a set of all triples)",
    "oxigraph": "open_store(DIR) and its triple count: dump digest, bulk_load (lenient only for "
    "a dump its build manifest vouches for; a generated world has none), flush, optimize, "
    "distinct-triple count (unless the manifest has it), read-only reopen",
    "http-raw-oxigraph": "server process until /healthz answers: interpreter and imports, "
    "pyoxigraph Store(DIR).bulk_load (strict parsing) + flush + optimize, uvicorn start",
    "http-oxigraph": "endpoint process until /healthz answers: interpreter and imports, app, one "
    "query worker opening oxigraph:DIR (as the oxigraph row: digest, bulk_load, flush, optimize, "
    "count, read-only open), uvicorn start; result cache off (result_cache_entries=0)",
    "remote": "open_store: SPARQL updates into a running Virtuoso (its start-up excluded)",
}
RUNS = 5
#: A quick query is repeated for at least this long (up to MAX_RUNS runs): five runs of a
#: sub-millisecond request measure how fast a server warms up more than its steady latency.
TIMED_S = 1.0
MAX_RUNS = 200
#: A query slower than this is not repeated (its one run is reported).
SLOW_S = 20.0

PROLOGUE = """PREFIX dk: <https://w3id.org/diplokg/ontology#>
PREFIX res: <https://w3id.org/diplokg/resource/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""

QUERIES: dict[str, str] = {
    # Everything said about one state.
    "point lookup": "SELECT ?p ?o WHERE { res:state-007 ?p ?o }",
    # Which states recognized a government of state-007 as of 1 January 2000?
    "as of date": """SELECT DISTINCT ?state ?gov WHERE {
  ?gov dk:governs res:state-007 .
  ?r dk:recognizedGovernment ?gov ; a dk:Recognition ; dk:recognizingState ?state ;
     dk:startDate ?start .
  OPTIONAL { ?r dk:endDate ?end }
  FILTER(?start <= "2000-01-01"^^xsd:date && (!BOUND(?end) || ?end > "2000-01-01"^^xsd:date))
}""",
    # The ten states that granted the most recognitions.
    "group by": """SELECT ?state (COUNT(?r) AS ?n) WHERE {
  ?r a dk:Recognition ; dk:recognizingState ?state .
} GROUP BY ?state ORDER BY DESC(?n) ?state LIMIT 10""",
    # Envoys whose sending government is recognized by the receiving state: the pairs first
    # (DISTINCT subquery), with no `a dk:Recognition` in it (that pattern makes Oxigraph 40x slower
    # at 1M triples; dk:recognizedGovernment only occurs on recognitions).
    "two-hop join": """SELECT (COUNT(?e) AS ?n) WHERE {
  { SELECT DISTINCT ?gov ?state WHERE {
      ?r dk:recognizedGovernment ?gov ; dk:recognizingState ?state } }
  ?e dk:sendingGovernment ?gov ; dk:receivingState ?state .
}""",
    # Anything whose label mentions a state's name, case-insensitively.
    "label search": """SELECT ?x ?label WHERE {
  ?x rdfs:label ?label .
  FILTER(CONTAINS(LCASE(STR(?label)), "NAME"))
} LIMIT 100""",
}


def queries_for(world: Path) -> dict[str, str]:
    """The queries, with the label search's needle set to state-007's name in this world."""
    needle = "state"
    with world.open(encoding="utf-8") as f:
        for line in f:
            if line.startswith(
                "<https://w3id.org/diplokg/resource/state-007> <http://www.w3.org/2000/01/rdf-schema#label>"
            ):
                needle = re.search(r'"([^"]*)"', line).group(1).lower()  # type: ignore[union-attr]
                break
    return {k: PROLOGUE + q.replace("NAME", needle) for k, q in QUERIES.items()}


# --- measuring one backend (in a child process) ---------------------------------------------


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _save(partial: Path | None, result: dict[str, Any]) -> None:
    """Record what is measured so far (the parent reads it if this process is stopped)."""
    if partial is not None:
        result["peak_mb"] = _peak_mb()
        partial.write_text(json.dumps(result, default=str))


def _time_queries(
    run: Callable[[str], int],
    queries: dict[str, str],
    result: dict[str, Any],
    partial: Path | None,
) -> dict[str, Any]:
    out: dict[str, Any] = result.setdefault("queries", {})
    for name, text in queries.items():
        t0 = time.perf_counter()
        rows = run(text)
        first = time.perf_counter() - t0
        times = [first]
        if first < SLOW_S:
            times = []
            until = time.perf_counter() + TIMED_S
            while len(times) < RUNS or (len(times) < MAX_RUNS and time.perf_counter() < until):
                t0 = time.perf_counter()
                run(text)
                times.append(time.perf_counter() - t0)
        out[name] = {"median_ms": statistics.median(times) * 1000, "rows": rows, "runs": len(times)}
        _save(partial, result)
    return out


def measure(
    backend: str, data_dir: Path, scratch: Path, partial: Path | None = None
) -> dict[str, Any]:
    world = data_dir / "diplokg.nq"
    queries = queries_for(world)
    extra: dict[str, Any] = {}
    t0 = time.perf_counter()
    if backend == "raw-rdflib":
        from rdflib import Dataset

        t0 = time.perf_counter()
        ds = Dataset()
        ds.parse(world, format="nquads")
        ds.default_union = True
        load = time.perf_counter() - t0

        def run(text: str) -> int:
            return len(list(ds.query(text)))

    elif backend == "raw-oxigraph":
        import pyoxigraph as ox

        t0 = time.perf_counter()
        store = ox.Store(str(scratch / "raw-oxigraph"))
        store.bulk_load(path=str(world), format=ox.RdfFormat.N_QUADS)
        store.flush()
        t1 = time.perf_counter()
        store.optimize()  # as the oxigraph backend does: queries below run on the same layout
        load = time.perf_counter() - t0
        extra["load_parts"] = {"bulk_load": t1 - t0, "optimize": load - (t1 - t0)}

        def run(text: str) -> int:
            answer = store.query(text, use_default_graph_as_union=True)
            return len(list(answer))  # type: ignore[arg-type]

    elif backend in ("memory", "oxigraph", "remote"):
        from graph.stores import open_store, store_class

        store_class(backend)  # imported before the clock starts
        options: dict[str, Any] = {}
        server = None
        if backend == "oxigraph":
            options["path"] = scratch / "oxigraph"
        if backend == "remote":
            from tests.support import virtuoso as vt

            server = vt.start(scratch / "virtuoso", memory_gb=8)
            (scratch / "server.pid").write_text(str(server.process.pid))
            server.allow_sparql_update()
            options = {"query_url": server.sparql_url, "update_url": server.sparql_url}
            options["max_dataset_graphs"] = 0  # the engine's default graph: see docs/stores.md
            options["timeout"] = 600
        t0 = time.perf_counter()
        try:
            opened = open_store(backend, data_dir, **options)
            opened.triple_count()  # what an endpoint worker asks before it says it is ready
        except BaseException:
            if server is not None:
                server.stop()
            raise
        load = time.perf_counter() - t0
        if backend == "oxigraph":  # a restart over the same data reuses DIR
            from graph.stores.oxigraph import OxigraphStore

            assert isinstance(opened, OxigraphStore)
            extra["load_parts"] = dict(opened.load_seconds)
            extra["lenient"] = opened.lenient
            t1 = time.perf_counter()
            opened.close()
            opened = open_store(backend, data_dir, **options)
            extra["reopen_s"] = time.perf_counter() - t1

        def run(text: str) -> int:
            body = opened.query(text).serialize("json")
            return len(json.loads(body)["results"]["bindings"])

        if server is not None:
            extra["server"] = server
    elif backend in HTTP_BACKENDS:
        http_server = HttpServer.start(backend, data_dir, scratch)
        load = time.perf_counter() - t0
        extra["load_parts"] = http_server.load_parts(load)
        extra["server"] = http_server
        if backend == "http-oxigraph":
            extra["result_cache"] = "off"
        run = Client(http_server.port).rows
    else:
        raise SystemExit(f"unknown backend {backend}")
    result: dict[str, Any] = {"backend": backend, "load_s": load}
    _save(partial, result)
    server = extra.pop("server", None)
    try:
        _time_queries(run, queries, result, partial)
        result["peak_mb"] = _peak_mb()
        if server is not None:  # an HTTP server's store may live in its worker process
            result["server_peak_mb"] = sum(map(_vm_hwm_mb, _tree(server.process.pid)))
    finally:
        if server is not None:
            server.stop()
    result.update(extra)
    return result


def _vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (an endpoint's query workers)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo += children.get(found[-1], [])
    return found


# --- the HTTP rows: a server process, one client --------------------------------------------


class Client:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1, reused across runs: the same client code
    for every HTTP row, so their difference is the server's."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self._targets: dict[str, str] = {}

    def rows(self, text: str) -> int:
        """GET /sparql?query=text as SPARQL JSON; the number of rows."""
        target = self._targets.get(text)
        if target is None:
            target = self._targets[text] = "/sparql?" + urllib.parse.urlencode({"query": text})
        self.connection.request("GET", target, headers={"Accept": JSON_RESULTS})
        response = self.connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"HTTP {response.status}: {body[:300]!r}")
        return len(json.loads(body)["results"]["bindings"])


JSON_RESULTS = "application/sparql-results+json"


class HttpServer:
    """A `python -m benchmarks.stores --serve BACKEND` process, up once /healthz answers 200."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, timings: Path) -> None:
        self.process = process
        self.port = port
        self.timings = timings

    @classmethod
    def start(cls, backend: str, data_dir: Path, scratch: Path) -> HttpServer:
        port = _free_port()
        timings = scratch / "server-timings.json"
        command = [sys.executable, "-m", "benchmarks.stores", "--serve", backend, "--port"]
        command += [str(port), "--data", str(data_dir), "--scratch", str(scratch)]
        # Its output goes to stderr: the last line of stdout is this child's result.
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=sys.stderr)
        (scratch / "server.pid").write_text(str(process.pid))  # stopped by run_child if need be
        server = cls(process, port, timings)
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    if r.status == 200:
                        return server
            except OSError:
                pass
            time.sleep(0.05)
        server.stop()
        raise SystemExit(f"the {backend} server did not come up")

    def load_parts(self, total: float) -> dict[str, float]:
        """The server's own timings of its start-up, and the rest of `total` (until /healthz)."""
        parts: dict[str, float] = json.loads(self.timings.read_text())
        parts["interpreter, uvicorn start, /healthz"] = total - sum(parts.values())
        return parts

    def stop(self) -> None:
        """SIGTERM (the endpoint stops its query workers), SIGKILL if it does not exit."""
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(backend: str, data_dir: Path, scratch: Path, port: int) -> None:
    """Load, then serve `backend` on 127.0.0.1:`port` with uvicorn until SIGTERM (a server process).

    Both servers run the stack `diplokg serve` runs (uvloop and httptools when installed, no
    access log). Start-up timings go to scratch/server-timings.json before the port opens.
    """
    t0 = time.perf_counter()
    import uvicorn

    from api.app import fast_io

    timings: dict[str, float] = {}
    timings_file = scratch / "server-timings.json"
    if backend == "http-oxigraph":
        app: Any = _endpoint_app(data_dir, scratch / "oxigraph", timings, timings_file, t0)
    else:
        import pyoxigraph as ox

        timings["imports"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        store = ox.Store(str(scratch / "raw-oxigraph"))
        store.bulk_load(path=str(data_dir / "diplokg.nq"), format=ox.RdfFormat.N_QUADS)
        store.flush()
        timings["bulk_load"] = time.perf_counter() - t1
        t1 = time.perf_counter()
        store.optimize()
        timings["optimize"] = time.perf_counter() - t1
        timings_file.write_text(json.dumps(timings))
        app = raw_app(store)
    loop, http = fast_io()
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on" if backend == "http-oxigraph" else "off",  # the endpoint starts workers
        loop=loop,
        http=http,
    )


def _endpoint_app(
    data_dir: Path, store_dir: Path, timings: dict[str, float], timings_file: Path, t0: float
) -> Any:
    """DiploKG's app over oxigraph:`store_dir`, one query worker, the result cache OFF (a hit
    would time the cache, not the engine); its worker start is timed into `timings_file`."""
    from api.app import create_app
    from api.pool import QueryPool, StoreInfo, WorkerConfig
    from api.settings import Settings

    timings["imports"] = time.perf_counter() - t0
    settings = Settings(
        dataset=data_dir,
        store=f"oxigraph:{store_dir}",
        workers=1,
        query_timeout=600.0,
        max_rows=100_000,
        result_cache_entries=0,
        log_level="warning",
    )
    settings.check()

    class TimedPool(QueryPool):
        async def start(self) -> StoreInfo:
            t1 = time.perf_counter()
            info = await super().start()
            timings["query worker: spawn, imports, store load"] = time.perf_counter() - t1
            timings_file.write_text(json.dumps(timings))
            return info

    config = WorkerConfig(settings.store, settings.dataset, settings.allowed_services)
    return create_app(settings, TimedPool(config, settings.workers))


def raw_app(store: Any) -> Any:
    """A bare ASGI app over a pyoxigraph store: GET ?query= -> store.query -> pyoxigraph's own
    SPARQL JSON -> 200. No protocol checks, limits, negotiation or worker: the floor."""
    import pyoxigraph as ox

    headers = [(b"content-type", JSON_RESULTS.encode())]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        params = urllib.parse.parse_qs(scope["query_string"].decode("latin-1"))
        body = b"ok"
        if "query" in params:
            answer = store.query(params["query"][0], use_default_graph_as_union=True)
            body = answer.serialize(format=ox.QueryResultsFormat.JSON)
        length = (b"content-length", str(len(body)).encode())
        await send({"type": "http.response.start", "status": 200, "headers": [*headers, length]})
        await send({"type": "http.response.body", "body": body})

    return app


# --- the driver ---------------------------------------------------------------------------


def prepare(work: Path, size: int, seed: int) -> tuple[Path, int]:
    data_dir = work / f"world-{size}"
    world = data_dir / "diplokg.nq"
    done = data_dir / "generated.json"
    if done.is_file() and json.loads(done.read_text()).get("seed") == seed:
        return data_dir, int(json.loads(done.read_text())["quads"])
    data_dir.mkdir(parents=True, exist_ok=True)
    quads = write(world, seed, size)
    done.write_text(json.dumps({"seed": seed, "size": size, "quads": quads}))
    return data_dir, quads


def run_child(backend: str, data_dir: Path, scratch: Path, timeout: float) -> dict[str, Any]:
    import shutil

    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    partial = scratch.parent / "partial.json"
    partial.unlink(missing_ok=True)
    command = [sys.executable, "-m", "benchmarks.stores", "--child", backend]
    command += ["--data", str(data_dir), "--scratch", str(scratch), "--partial", str(partial)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        stopped: dict[str, Any] = {"backend": backend, "error": f"stopped after {timeout:g} s"}
        if partial.is_file():
            stopped = json.loads(partial.read_text())
            stopped["stopped_after_s"] = timeout
        pid_file = scratch / "server.pid"
        if pid_file.is_file():  # the child's Virtuoso outlives the killed child: stop it
            with contextlib.suppress(OSError):
                os.kill(int(pid_file.read_text()), signal.SIGTERM)
                time.sleep(5)
        return stopped
    finally:
        partial.unlink(missing_ok=True)
        shutil.rmtree(scratch, ignore_errors=True)
    if done.returncode != 0:
        (scratch.parent / f"error-{backend}.log").write_text(done.stderr)
        last = done.stderr.strip().splitlines()[-1:] or ["failed"]
        return {"backend": backend, "error": last[0][:200]}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def table(size: int, quads: int, results: list[dict[str, Any]]) -> str:
    names = list(QUERIES)
    head = ["backend", "load (s)", "triples/s", "peak MB", *[f"{n} (ms)" for n in names]]
    lines = [f"**{quads:,} triples**", "", "| " + " | ".join(head) + " |"]
    lines.append("|" + "|".join("---" for _ in head) + "|")
    for r in results:
        if "error" in r:
            lines.append(f"| {r['backend']} | {r['error']} |" + " |" * (len(head) - 2))
            continue
        peak = f"{r['peak_mb']:,.0f}"
        if "server_peak_mb" in r:
            peak += f" (+{r['server_peak_mb']:,.0f} server)"
        cells = [r["backend"], f"{r['load_s']:.1f}", f"{quads / r['load_s']:,.0f}", peak]
        for n in names:
            q = r.get("queries", {}).get(n)
            if q is None:
                cells.append(f"not finished ({r.get('stopped_after_s', 0):,.0f} s cap)")
                continue
            mark = "" if q["runs"] > 1 else " (1 run)"
            ms = q["median_ms"]
            cells.append(f"{ms:,.2f}{mark}" if ms < 10 else f"{ms:,.1f}{mark}")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Load time includes:"]
    for r in results:
        parts = r.get("load_parts")
        steps = ", ".join(f"{k} {v:.1f} s" for k, v in (parts or {}).items())
        if "lenient" in r:
            steps += ", lenient parsing" if r["lenient"] else ", strict parsing"
        lines.append(
            f"- {r['backend']}: {LOAD_INCLUDES[r['backend']]}" + (f" ({steps})" if steps else "")
        )
    return "\n".join(lines) + "\n"


def compare(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per query: the endpoint's median against raw pyoxigraph in-process and over HTTP.

    Empty unless the three COMPARED rows were measured. Rows that disagree are flagged.
    """
    by_name = {r["backend"]: r.get("queries", {}) for r in results if "error" not in r}
    if not all(name in by_name for name in COMPARED):
        return {}
    endpoint, raw, raw_http = (by_name[name] for name in COMPARED)
    out: dict[str, dict[str, Any]] = {}
    for name in QUERIES:
        if not all(name in q for q in (endpoint, raw, raw_http)):
            continue
        e, r, h = (q[name]["median_ms"] for q in (endpoint, raw, raw_http))
        rows = {endpoint[name]["rows"], raw[name]["rows"], raw_http[name]["rows"]}
        out[name] = {
            "endpoint_ms": e,
            "raw_ms": r,
            "raw_http_ms": h,
            "endpoint_over_raw": e / r,
            "endpoint_over_raw_http": e / h,
            "same_rows": len(rows) == 1,
        }
    return out


def comparison_table(compared: dict[str, dict[str, Any]]) -> str:
    """The endpoint against raw pyoxigraph, as Markdown (issue 4's target: within 1.25x)."""
    if not compared:
        return ""
    lines = [
        "Endpoint (http-oxigraph: DiploKG over oxigraph:DIR, result cache off) against raw "
        "pyoxigraph in-process (raw-oxigraph) and behind a bare ASGI app (http-raw-oxigraph), "
        "medians in ms:",
        "",
        "| query | endpoint | raw | raw over HTTP | endpoint / raw | endpoint / raw over HTTP |",
        "|---|---|---|---|---|---|",
    ]
    for name, c in compared.items():
        flag = "" if c["same_rows"] else " (rows differ!)"
        lines.append(
            f"| {name}{flag} | {c['endpoint_ms']:,.2f} | {c['raw_ms']:,.2f} | "
            f"{c['raw_http_ms']:,.2f} | {c['endpoint_over_raw']:.2f}x | "
            f"{c['endpoint_over_raw_http']:.2f}x |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--backends", nargs="+", default=BACKENDS, choices=BACKENDS)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path("/tmp/diplokg-bench"))
    parser.add_argument("--timeout", type=float, default=900, help="seconds per backend")
    parser.add_argument("--child", choices=BACKENDS, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--scratch", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--partial", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--serve", choices=HTTP_BACKENDS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.data, args.scratch, args.port)
        return 0
    if args.child:
        result = measure(args.child, args.data, args.scratch, args.partial)
        print(json.dumps(result))
        return 0
    for size in args.sizes:
        data_dir, quads = prepare(args.work, size, args.seed)
        results = []
        for backend in args.backends:
            result = run_child(backend, data_dir, args.work / "scratch", args.timeout)
            results.append(result)
            print(json.dumps({"size": size, **result}), file=sys.stderr, flush=True)
        compared = compare(results)
        for r in results:  # the comparison travels with the endpoint's row
            if r["backend"] == COMPARED[0] and compared:
                r["compared"] = compared
        (args.work / f"results-{size}.json").write_text(json.dumps(results, indent=2))
        print(table(size, quads, results), flush=True)
        if compared:
            print(comparison_table(compared), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
