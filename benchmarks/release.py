"""Release benchmark (issue 13): `make_release` of the project's graph, as `diplokg release` runs it.

What it measures: the project's graph as it stands (graph/sources, with the imported official
lists), released into a fresh temporary directory by `graph.release.release.make_release`, each
run in a fresh child process (as the command runs: a cold interpreter, imports and caches
included). Per run: the wall-clock seconds of the whole child (`python` start to exit), the
seconds `make_release` took, and each step's seconds (`ReleaseResult.seconds`: build, tables
[tables, panel, data package], diff, metadata [codebook, CITATION.cff, .zenodo.json,
schema.org, RO-Crate, Croissant]).

Two series of `--runs` runs each:
  1. without `--previous`;
  2. with `--previous`: the previous release is the first run's release with every tenth quad
     without a blank node removed (so the diff step has real work: about a tenth of the quads
     added, many facts corrected, some added).

Target: a release of the graph, once the official lists are imported, takes under 60 s on this
machine (2 cores shared with other work: the load average is printed before and after each run;
a run beside other jobs is slower).

Usage (defaults shown; 3 + 3 runs take about 2.5 minutes on 2 cores):
  .venv/bin/python benchmarks/release.py --runs 3 --date 2026-12-01
Prints the figures, then a Markdown table to paste into docs/benchmarks.md. Not part of
`make test`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graph import __version__  # noqa: E402

TARGET_SECONDS = 60.0
STEPS = ("build", "tables", "diff", "metadata")
CHILD = """
import datetime, json, sys, time
from pathlib import Path
from graph.release.release import make_release
out, day, previous = Path(sys.argv[1]), datetime.date.fromisoformat(sys.argv[2]), sys.argv[3]
start = time.perf_counter()
result = make_release(sys.argv[4], out, release_date=day, previous=Path(previous) if previous else None)
print(json.dumps({"release": time.perf_counter() - start, "steps": result.seconds,
                  "files": len(result.files)}))
"""


def load() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run_once(out: Path, day: dt.date, previous: Path | None) -> dict[str, Any]:
    """One release in a fresh child process: its wall time, make_release time and steps."""
    before = load()
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, str(out), day.isoformat(), str(previous or ""), __version__],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    measured: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    measured.update(wall=wall, load_before=before, load_after=load())
    return measured


def make_previous(release: Path, previous: Path) -> int:
    """A previous release: `release` with every tenth quad that has no blank node removed.
    Returns how many quads were removed."""
    previous.mkdir(parents=True)
    kept, removed = [], 0
    with (release / "diplokg.nq").open(encoding="utf-8") as quads:
        for number, line in enumerate(quads):
            if number % 10 == 9 and "_:" not in line:
                removed += 1
            else:
                kept.append(line)
    (previous / "diplokg.nq").write_text("".join(kept), encoding="utf-8")
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    manifest["version"] = "previous"
    (previous / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return removed


def series(
    work: Path, name: str, runs: int, day: dt.date, previous: Path | None
) -> list[dict[str, Any]]:
    results = []
    for index in range(runs):
        out = work / f"{name}-{index}"
        result = run_once(out, day, previous)
        steps = " ".join(f"{k} {v:.2f}" for k, v in result["steps"].items())
        print(
            f"{name} run {index + 1}: {result['wall']:.2f} s wall, make_release "
            f"{result['release']:.2f} s ({steps}), {result['files']} files; load "
            f"{result['load_before']} -> {result['load_after']}",
            flush=True,
        )
        results.append(result)
        if index > 0 or previous is not None:
            shutil.rmtree(out)
    return results


def _cell(values: list[float]) -> tuple[str, str]:
    return f"{statistics.median(values):.2f} s", " ".join(f"{v:.2f}" for v in values)


def table(label: str, results: list[dict[str, Any]]) -> list[str]:
    """Markdown rows: the whole command, make_release, then each step."""
    rows = []
    median, runs = _cell([r["wall"] for r in results])
    target = f"under {TARGET_SECONDS:.0f} s"
    rows.append(
        f"| **{label}: the whole run** (child process) | **{median}** | {runs} | {target} |"
    )
    median, runs = _cell([r["release"] for r in results])
    rows.append(f"| {label}: `make_release` | {median} | {runs} | |")
    for step in STEPS:
        if all(step in r["steps"] for r in results):
            median, runs = _cell([float(r["steps"][step]) for r in results])
            rows.append(f"| {label}: step {step} | {median} | {runs} | |")
    return rows


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per series (default 3)")
    parser.add_argument(
        "--date", default="2026-12-01", help="declared release date (default 2026-12-01)"
    )
    parser.add_argument("--keep", type=Path, help="write the releases here and keep them")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    day = dt.date.fromisoformat(args.date)
    print(
        f"DiploKG {__version__}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"load average {load()}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="diplokg-release-bench-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        plain = series(work, "release", args.runs, day, None)
        first = work / "release-0"
        quads = sum(1 for _ in (first / "diplokg.nq").open(encoding="utf-8"))
        removed = make_previous(first, work / "previous")
        print(f"previous: the first release ({quads} quads) less {removed} quads", flush=True)
        diffed = series(work, "release-previous", args.runs, day, work / "previous")
    print(f"\nload average at the end: {load()}\n")
    print(
        f"`benchmarks/release.py --runs {args.runs}` on this {os.cpu_count()}-core machine "
        f"(load average before the runs: {plain[0]['load_before']}), the project's graph "
        f"({quads} quads, {plain[0]['files']} files per release). Medians of {args.runs}:\n"
    )
    print("| step | median | runs | target |")
    print("|---|---:|---|---|")
    for line in table("release", plain) + table(
        f"with --previous ({removed} quads differ)", diffed
    ):
        print(line)


if __name__ == "__main__":
    main()
