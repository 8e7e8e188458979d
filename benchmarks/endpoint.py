"""Endpoint load benchmark: the workload users send (distinct queries) and cache hits, under wrk.

Datasets (`--sizes`): `seed` is the project's own build (dist/, built when not current);
`articles` is the same build without the imported official lists (graph/sources/list-*.trig),
i.e. the graph of the source articles that issue 10 first measured as "seed"; a number N is a
synthetic world of about N triples from benchmarks/generate.py (seed 1).

Workloads (benchmarks/workload.py), a row per server at each `--connections` count of wrk:
  mix         distinct queries: point lookups on random entities, the class counts, and
              FILTER(CONTAINS) on a random word over dk:evidence, each with its own LIMIT, so
              that no request to a server repeats one sent before
  point       distinct point lookups only
  count-hit   the class-count aggregate, one query string repeated: a cache hit for diplokg
  point-hit   one point lookup repeated: a cache hit for diplokg

Servers (benchmarks/servers.py), all started on 127.0.0.1 over the same N-Quads, then loaded
one at a time: diplokg (`diplokg serve` defaults), diplokg-nocache (result cache off),
diplokg-rdflib (the rdflib store), rdflib-endpoint, oxigraph (Oxigraph server, native: the
reference of the ratios), and the constant answers ceiling (FastAPI) and asgi-floor (bare
ASGI), which run the `mix` and `point-hit` loads only. Before the load, each query server
answers a sample of distinct queries and the repeated ones; the report says whether its row
counts equal Oxigraph server's, i.e. whether all do the same work.

There are `--repeat` rounds of `--duration` seconds per row, interleaved so that other load on
the machine falls on every server alike; a run starts once the server's processes are idle (a
slow server is still answering the last run's requests when wrk stops). Per dataset, the table
gives medians of req/s, p50 and p99 (of the answered requests: a server slower than the run
answers few), the errors summed (non-2xx answers and wrk's socket errors; a request unanswered
after 60 s is a timeout), and each row's req/s over Oxigraph server's for the same connections
and workload, in the same run.

Extra measurements (benchmarks/probes.py), each on a fresh server per dataset:
  --soak SECONDS  the distinct mix at 64 connections against `diplokg` defaults: errors, and the
                  RSS of the server's process tree (server + query workers) before and after
  --big-query     a 1 MB query (POST application/sparql-query) while another client sends
                  `ASK {}` every 10 ms: the ASK latencies' p99 and max during it and without it,
                  on `diplokg` defaults and on Oxigraph server

Set-up, once (the peers stay out of the project's dependencies):
  apt-get install wrk
  python3 -m venv /tmp/rdflib-ep-venv && /tmp/rdflib-ep-venv/bin/pip install \\
      rdflib-endpoint==0.6.3 uvicorn==0.54.0 uvloop==0.23.0 httptools==0.9.0
  python3 -m venv /tmp/oxigraph-venv && /tmp/oxigraph-venv/bin/pip install oxigraph==0.5.13

Usage (defaults shown; a full run takes about 80 minutes on 2 cores):
  .venv/bin/python benchmarks/endpoint.py --sizes seed,10000,100000 --connections 16,64 \\
      --duration 10 --repeat 3 --rows all [--json FILE]
  .venv/bin/python benchmarks/endpoint.py --sizes seed --rows none --soak 60 --big-query
`--rows` takes servers (each with its workloads) and/or SERVER:WORKLOAD pairs, `all` or `none`,
e.g. `--rows oxigraph,diplokg:mix,diplokg:count-hit`. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.probes import big_query_probe, print_probes, soak  # noqa: E402
from benchmarks.servers import (  # noqa: E402
    CONSTANT_SERVERS,
    QUERY_SERVERS,
    REFERENCE,
    Launcher,
    Server,
    count_rows,
    has_fast_loop,
)
from benchmarks.workload import DISTINCT, SLOTS, THREADS, Dataset, Run, Workload, run_wrk  # noqa: E402

#: Workload -> its label in the table.
WORKLOADS: dict[str, str] = {
    "mix": "distinct mix",
    "point": "distinct point lookups",
    "count-hit": "class count, repeated (a cache hit for us)",
    "point-hit": "point lookup, repeated (a cache hit for us)",
}
#: The constant servers answer every query alike: one distinct and one repeated load.
CONSTANT_WORKLOADS = ("mix", "point-hit")
#: The subject of the repeated point lookup: a state in the seed data, the first of a world.
SEED_SUBJECT = "russia"
WORLD_SUBJECT = "state-000"
WORLD_SEED = 1
#: Seed of the distinct queries' random draws (wrk's script and the row-count sample).
WORKLOAD_SEED = 1
#: LIMIT stripes per server, at least (workload.py): the LIMITs stay alike across plans.
MIN_STRIPES = 16


@dataclass
class Figures:
    """One row of the table: medians over the rounds, errors summed."""

    dataset: str
    connections: int
    server: str
    workload: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    runs: list[Run]
    #: req/s over Oxigraph server's for the same dataset, connections and workload.
    ratio: float | None = None


@dataclass
class DatasetReport:
    dataset: str
    quads: int
    items: dict[str, int]  # how many entities, class-count forms, evidence words
    limit_max: int
    sample_size: int
    #: Server -> "same", "reference" or how its row counts on the sample differ.
    rows_check: dict[str, str]
    figures: list[Figures]


def prepare_dataset(size: str, tmp: Path, seed_dataset: Path, stripes: int) -> Dataset:
    if size == "seed":
        from graph.build import build, is_current  # the build pipeline, only when it is needed

        if not is_current(seed_dataset):
            build(seed_dataset)
        directory, subject = seed_dataset, SEED_SUBJECT
    elif size == "articles":
        directory, subject = build_articles(tmp), SEED_SUBJECT
    else:
        directory, subject = tmp / f"world-{size}", WORLD_SUBJECT
        directory.mkdir()
        subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--triples", size,
             "--seed", str(WORLD_SEED), "--out", str(directory / "diplokg.nq")],
            check=True, capture_output=True, timeout=600,
        )  # fmt: skip
    with (directory / "diplokg.nq").open("rb") as nq:
        quads = sum(1 for line in nq if line.strip() and not line.startswith(b"#"))
    workload = Workload.from_nquads(directory / "diplokg.nq", stripes)
    queries = tmp / f"queries-{size}.tsv"
    workload.write_queries(queries)
    return Dataset(size, directory, quads, subject, workload, queries)


def build_articles(tmp: Path) -> Path:
    """The project's build from its sources without the imported lists' files (list-*.trig)."""
    from graph.build import PROJECT_INPUTS, Inputs, build

    sources = tmp / "articles-sources"
    sources.mkdir()
    for path in PROJECT_INPUTS.source_files():
        if not path.name.startswith("list-"):
            shutil.copy2(path, sources / path.name)
    directory = tmp / "articles"
    build(directory, force=True, inputs=Inputs(sources_dir=sources))  # refuses if nonconforming
    return directory


def plan_rows(spec: str) -> dict[str, list[str]]:
    """--rows -> server -> its workloads, in the table's order."""
    everything = {
        **{s: list(WORKLOADS) for s in QUERY_SERVERS},
        **{s: list(CONSTANT_WORKLOADS) for s in CONSTANT_SERVERS},
    }
    if spec in ("all", "none"):
        return everything if spec == "all" else {}
    chosen: dict[str, list[str]] = {}
    for item in spec.split(","):
        server, _, workload = item.strip().partition(":")
        if server not in everything or (workload and workload not in WORKLOADS):
            sys.exit(
                f"--rows: unknown {item!r}; servers: {', '.join(everything)}; "
                f"workloads: {', '.join(WORKLOADS)}"
            )
        workloads = chosen.setdefault(server, [])
        for w in [workload] if workload else everything[server]:
            if w not in workloads:
                workloads.append(w)
    return {s: chosen[s] for s in everything if s in chosen}


def check_rows(dataset: Dataset, servers: list[Server]) -> tuple[dict[str, str], int]:
    """Each query server's row counts on the sample queries, against the reference's (Oxigraph
    server, or the first query server). Also the servers' warm-up on distinct queries."""
    sample = dataset.sample(WORKLOAD_SEED)
    counts = {
        s.name: [count_rows(s.query_url(q)) for q in sample] for s in servers if not s.constant
    }
    if not counts:
        return {}, len(sample)
    reference = REFERENCE if REFERENCE in counts else next(iter(counts))
    verdicts = {}
    for name, rows in counts.items():
        expected = counts[reference]
        differ = [i for i, (a, b) in enumerate(zip(rows, expected, strict=True)) if a != b]
        verdicts[name] = "same"
        if differ:
            first = differ[0]
            verdicts[name] = (
                f"DIFFERS on {len(differ)} of {len(sample)}, e.g. {sample[first][:100]!r}: "
                f"{rows[first]} rows, {reference} {expected[first]}"
            )
    if len(counts) > 1:
        verdicts[reference] = "reference"
    return verdicts, len(sample)


def bench_dataset(
    dataset: Dataset,
    servers: list[Server],
    plan: dict[str, list[str]],
    connections: list[int],
    duration: int,
    repeat: int,
) -> list[Figures]:
    """`repeat` rounds; each round loads every row once in turn, so that background load on the
    machine spreads over all servers alike. Medians over the rounds."""
    runs: dict[tuple[int, str, str], list[Run]] = {}
    for round_ in range(1, repeat + 1):
        for conns in connections:
            for server in servers:
                for workload in plan[server.name]:
                    waited = server.wait_idle()
                    if workload in DISTINCT:
                        script = dataset.script_args(workload, next(server.stripes), WORKLOAD_SEED)
                        run = run_wrk(server.url, duration, conns, script)
                    else:
                        url = server.query_url(dataset.repeated(workload))
                        run = run_wrk(url, duration, conns)
                    run.waited_s = round(waited, 1)
                    runs.setdefault((conns, server.name, workload), []).append(run)
                    print(
                        f"  round {round_} c{conns:<3} {server.name:16} {workload:9} "
                        f"{run.rps:9.0f} req/s  p50 {run.p50_ms:8.2f} ms  p99 {run.p99_ms:8.2f} ms"
                        f"  errors {run.errors}  (load before: {run.load_before:.2f}, idle after "
                        f"{run.waited_s} s)",
                        flush=True,
                    )
    figures = []
    for (conns, name, workload), done in runs.items():
        rps, p50, p99 = (
            statistics.median(getattr(r, k) for r in done) for k in ("rps", "p50_ms", "p99_ms")
        )
        errors = sum(r.errors for r in done)
        figures.append(Figures(dataset.label, conns, name, workload, rps, p50, p99, errors, done))
    reference = {(f.connections, f.workload): f.rps for f in figures if f.server == REFERENCE}
    for f in figures:
        theirs = reference.get((f.connections, f.workload))
        f.ratio = f.rps / theirs if theirs else None
    order = list(plan)
    figures.sort(
        key=lambda f: (f.connections, list(WORKLOADS).index(f.workload), order.index(f.server))
    )
    return figures


def print_report(report: DatasetReport) -> None:
    items, checks = report.items, report.rows_check
    print(
        f"\n### {report.dataset}: {items['point']} entities, {items['evidence']} evidence words, "
        f"LIMIT 1..{report.limit_max} (more once an item has used its {SLOTS} values)\n"
    )
    if checks:
        reference = next((s for s, v in checks.items() if v == "reference"), "")
        same = ", ".join(s for s, v in checks.items() if v == "same")
        print(f"Row counts on {report.sample_size} sample queries equal {reference}'s: {same}")
        for server, verdict in checks.items():
            if verdict not in ("same", "reference"):
                print(f"- {server}: {verdict}")
    print(f"\n| conns | server | workload | req/s | p50 ms | p99 ms | errors | / {REFERENCE} |")
    print("|---:|---|---|---:|---:|---:|---:|---:|")
    for f in report.figures:
        ratio = f"{f.ratio:.3f}x" if f.ratio is not None else "—"
        print(
            f"| {f.connections} | {f.server} | {WORKLOADS[f.workload]} | {f.rps:.0f} | "
            f"{f.p50_ms:.2f} | {f.p99_ms:.2f} | {f.errors} | {ratio} |"
        )


def versions(launcher: Launcher) -> dict[str, str | None]:
    """What ran: Python, wrk, the peers, this checkout's commit."""

    def first_line(argv: list[str]) -> str | None:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        except OSError:
            return None
        lines = done.stdout.strip().splitlines()  # `wrk --version` exits with 1
        return lines[0] if lines else None

    version = "import importlib.metadata as m; print(m.version('rdflib-endpoint'))"
    return {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "wrk": (first_line(["wrk", "--version"]) or "").partition(" [")[0] or None,
        "oxigraph": first_line([launcher.oxigraph, "--version"]),
        "rdflib-endpoint": first_line([launcher.rdflib_endpoint_python, "-c", version]),
        "commit": first_line(["git", "-C", str(ROOT), "rev-parse", "HEAD"]),
    }


def parse_args() -> argparse.Namespace:
    lines = (__doc__ or "").splitlines()
    parser = argparse.ArgumentParser(
        description=lines[0],
        epilog="\n".join(lines[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add(
        "--sizes",
        default="seed,10000,100000",
        help="datasets: 'seed', 'articles' and/or triple counts",
    )
    add("--connections", default="16,64", help="wrk connection counts, comma-separated")
    add("--duration", type=int, default=10, help="seconds of load per wrk run")
    add("--repeat", type=int, default=3, help="wrk runs per row")
    add("--rows", default="all", help="servers and/or SERVER:WORKLOAD pairs, 'all' or 'none'")
    add("--json", type=Path, metavar="FILE", help="also write every figure to this JSON file")
    add("--soak", type=int, default=0, metavar="SECONDS", help="soak `diplokg` this long")
    add("--big-query", action="store_true", help="ASK latencies during a 1 MB query")
    add(
        "--rdflib-endpoint-python",
        default=os.environ.get("RDFLIB_ENDPOINT_PYTHON", "/tmp/rdflib-ep-venv/bin/python"),
        help="a Python with rdflib-endpoint and uvicorn installed (kept out of our dependencies)",
    )
    add(
        "--oxigraph",
        default=os.environ.get("OXIGRAPH_BIN", "/tmp/oxigraph-venv/bin/oxigraph"),
        help="the Oxigraph server binary (PyPI package oxigraph==0.5.13 in a venv of its own)",
    )
    add("--dataset", type=Path, default=ROOT / "dist", help="the seed build")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    connections = [int(c) for c in args.connections.split(",")]
    plan = plan_rows(args.rows)
    distinct_runs = max((sum(w in DISTINCT for w in ws) for ws in plan.values()), default=0)
    stripes = max(MIN_STRIPES, 1 + distinct_runs * args.repeat * len(connections))
    reports: list[DatasetReport] = []
    soaks: list[dict[str, object]] = []
    bigs: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="diplokg-endpoint-bench-") as tmp:
        launcher = Launcher(Path(tmp), args.rdflib_endpoint_python, args.oxigraph)
        meta = versions(launcher)
        print(
            f"# {meta['python']}, {os.cpu_count()} CPUs, {meta['wrk']}, {meta['oxigraph']}, "
            f"rdflib-endpoint {meta['rdflib-endpoint']}; wrk -t{THREADS} -c{args.connections} "
            f"-d{args.duration}s x{args.repeat}"
        )
        for who, python in (
            ("ours", sys.executable),
            ("rdflib-endpoint", args.rdflib_endpoint_python),
        ):
            if Path(python).exists() and not has_fast_loop(python):
                print(
                    f"# warning: {who} ({python}) lacks uvloop/httptools: uvicorn uses asyncio/h11"
                )
        for name in list(plan):
            if why := launcher.missing(name):
                print(f"# skipping {name}: {why}")
                del plan[name]
        for size in args.sizes.split(","):
            dataset = prepare_dataset(size, Path(tmp), args.dataset, stripes)
            print(f"# dataset {dataset.label}: {dataset.directory}", flush=True)
            if plan:
                started: list[Server] = []
                try:
                    for name in plan:
                        started.append(launcher.start(name, dataset))
                    rows_check, sample_size = check_rows(dataset, started)
                    for name, verdict in rows_check.items():
                        print(f"  rows {name}: {verdict}", flush=True)
                    figures = bench_dataset(
                        dataset, started, plan, connections, args.duration, args.repeat
                    )
                finally:
                    for server in started:
                        server.stop()
                items = {kind: len(v) for kind, v in dataset.workload.items.items()}
                limit_max = dataset.workload.limit_max
                reports.append(
                    DatasetReport(
                        dataset.label,
                        dataset.quads,
                        items,
                        limit_max,
                        sample_size,
                        rows_check,
                        figures,
                    )
                )
            if args.soak:
                print(f"  soak: diplokg, {args.soak} s", flush=True)
                soaks.append(soak(launcher, dataset, args.soak, WORKLOAD_SEED))
            if args.big_query:
                for name in ("diplokg", REFERENCE):
                    if not launcher.missing(name):
                        print(f"  big query: {name}", flush=True)
                        bigs.append(big_query_probe(launcher, dataset, name))
    for report in reports:
        print_report(report)
    print_probes(soaks, bigs)
    if args.json:
        meta["cpus"] = str(os.cpu_count())
        meta["date"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        document = {
            "meta": meta,
            "args": {k: str(v) for k, v in vars(args).items()},
            "datasets": [asdict(r) for r in reports],
            "soak": soaks,
            "big_query": bigs,
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n")
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
