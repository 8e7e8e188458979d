"""Store benchmark (issue 4, "Benchmark at scale"): load time, peak memory and query latency per backend.

For each size, a synthetic world (benchmarks/generate.py) is written once, then every backend
is measured in a fresh child process (so peak memory is its own): the raw engines (rdflib
Dataset, pyoxigraph Store), DiploKG's stores (memory, oxigraph, remote on a private Virtuoso)
and the HTTP endpoint over an in-memory oxigraph store. Load time is until the store answers,
imports excluded; what it covers per backend is printed under each table (LOAD_INCLUDES), with
the oxigraph steps. Both oxigraph rows on disk compact after loading (optimize), so their
queries run on the same layout. Five queries modelled on the competency questions; the median
of five timed runs after one warm-up run.

    python -m benchmarks.stores --sizes 100000 1000000 --work /tmp/diplokg-bench
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.generate import write

BACKENDS = ["raw-rdflib", "raw-oxigraph", "memory", "oxigraph", "http-oxigraph", "remote"]
#: What each backend's load time covers (imports excluded), printed under every table.
LOAD_INCLUDES: dict[str, str] = {
    "raw-rdflib": "rdflib Dataset.parse of the N-Quads",
    "raw-oxigraph": "pyoxigraph Store(DIR).bulk_load (strict parsing) + flush + optimize",
    "memory": "open_store: rdflib parse of the dump, then triple_count() (a set of all triples)",
    "oxigraph": "open_store(DIR) and its triple count: dump digest, bulk_load (lenient only for "
    "a dump its build manifest vouches for; a generated world has none), flush, optimize, "
    "distinct-triple count (unless the manifest has it), read-only reopen",
    "http-oxigraph": "endpoint start-up until /healthz answers: imports, app, one worker "
    "process loading an in-memory oxigraph store (no DIR)",
    "remote": "open_store: SPARQL updates into a running Virtuoso (its start-up excluded)",
}
RUNS = 5
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
            for _ in range(RUNS):
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
    elif backend == "http-oxigraph":
        url = _start_endpoint(data_dir)
        load = time.perf_counter() - t0

        def run(text: str) -> int:
            query = urllib.parse.urlencode({"query": text})
            request = urllib.request.Request(
                f"{url}?{query}", headers={"Accept": "application/sparql-results+json"}
            )
            with urllib.request.urlopen(request, timeout=600) as response:
                return len(json.loads(response.read())["results"]["bindings"])

    else:
        raise SystemExit(f"unknown backend {backend}")
    result: dict[str, Any] = {"backend": backend, "load_s": load}
    _save(partial, result)
    server = extra.pop("server", None)
    try:
        _time_queries(run, queries, result, partial)
        result["peak_mb"] = _peak_mb()
        if server is not None:
            result["server_peak_mb"] = _vm_hwm_mb(server.process.pid)
    finally:
        if server is not None:
            server.stop()
    if backend == "http-oxigraph":  # the store lives in the endpoint's worker process
        result["server_peak_mb"] = max(_vm_hwm_mb(pid) for pid in _children(os.getpid()))
    result.update(extra)
    return result


def _vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _children(parent: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(stat.parent.name))
    return found or [parent]


def _start_endpoint(data_dir: Path) -> str:
    """The DiploKG endpoint over the oxigraph store, on a free port of 127.0.0.1."""
    import socket

    import uvicorn

    from api.app import create_app
    from api.settings import Settings

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(
        dataset=data_dir,
        store="oxigraph",
        workers=1,
        query_timeout=600.0,
        max_rows=100_000,
        result_cache_entries=0,
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
                if response.status == 200:
                    return f"{base}/sparql"
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("the endpoint did not come up")


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
    args = parser.parse_args(argv)
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
        (args.work / f"results-{size}.json").write_text(json.dumps(results, indent=2))
        print(table(size, quads, results), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
