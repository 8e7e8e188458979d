"""SHACL benchmark (issue 4): validating a world with the project's full shapes, at scale.

For each size, a synthetic world (benchmarks/generate.py, conforming) plus the ontology is
validated in a fresh child process per mode, so that peak memory is the mode's own:

- narrowed (the default of `diplokg validate`): load into Oxigraph, SPARQL finds the focus nodes
  that could fail each shape, pyshacl judges those;
- narrowed, broken: the same after 100 recognitions get an ill-typed `dk:hasEnded "yes"`, so
  pyshacl has 100 focus nodes to judge and report;
- exhaustive (`diplokg validate --exhaustive`): rdflib parse, then pyshacl on every focus node;
  only up to --exhaustive-max triples (about 15 s per 100,000 triples).

    python -m benchmarks.shacl --sizes 100000 1000000 10000000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.stores import prepare
from graph.layout import ONTOLOGY_DIR

MODES = ["narrowed", "narrowed-broken", "exhaustive"]
BREAK = """
PREFIX dk: <https://w3id.org/diplokg/ontology#>
INSERT { GRAPH <urn:benchmark:broken> { ?r dk:hasEnded "yes" } }
WHERE { { SELECT ?r WHERE { GRAPH ?g { ?r a dk:Recognition } } ORDER BY ?r LIMIT 100 } }
"""


def measure(mode: str, world: Path) -> dict[str, Any]:
    from graph.validate import load_shapes, load_store, validate, validate_store

    shapes = load_shapes()
    ontology = sorted(ONTOLOGY_DIR.glob("*.ttl"))
    started = time.perf_counter()
    if mode == "exhaustive":
        from rdflib import Dataset

        ds = Dataset()
        ds.parse(world, format="nquads")
        for path in ontology:
            ds.graph(path.as_uri()).parse(path)
        loaded = time.perf_counter()
        report = validate(ds, shapes, exhaustive=True)
    else:
        store = load_store([world, *ontology])
        if mode == "narrowed-broken":
            store.update(BREAK)
        loaded = time.perf_counter()
        report = validate_store(store, shapes)
    done = time.perf_counter()
    return {
        "mode": mode,
        "load_s": loaded - started,
        "validate_s": done - loaded,
        "conforms": report.conforms,
        "results": len(report.results),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_child(mode: str, world: Path, timeout: float) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.shacl", "--child", mode, "--data", str(world)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"mode": mode, "error": f"stopped after {timeout:g} s"}
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1:] or ["failed"]
        return {"mode": mode, "error": last[0][:200]}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def table(rows: list[tuple[int, dict[str, Any]]]) -> str:
    head = [
        "world (triples)",
        "mode",
        "load (s)",
        "validate (s)",
        "total (s)",
        "peak MB",
        "results",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for quads, r in rows:
        if "error" in r:
            lines.append(f"| {quads:,} | {r['mode']} | {r['error']} |" + " |" * (len(head) - 3))
            continue
        total = r["load_s"] + r["validate_s"]
        results = f"{r['results']:,}" + ("" if r["conforms"] else " (does not conform)")
        cells = [
            f"{quads:,}",
            r["mode"],
            f"{r['load_s']:.1f}",
            f"{r['validate_s']:.1f}",
            f"{total:.1f}",
            f"{r['peak_mb']:,.0f}",
            results,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--modes", nargs="+", default=MODES, choices=MODES)
    parser.add_argument("--exhaustive-max", type=int, default=100_000, metavar="TRIPLES")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path("/tmp/diplokg-bench"))
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per mode and size")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, args.data)))
        return 0
    rows = []
    for size in args.sizes:
        data_dir, quads = prepare(args.work, size, args.seed)
        for mode in args.modes:
            if mode == "exhaustive" and size > args.exhaustive_max:
                continue
            result = run_child(mode, data_dir / "diplokg.nq", args.timeout)
            print(json.dumps({"size": size, **result}), file=sys.stderr, flush=True)
            rows.append((quads, result))
    print(table(rows), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
