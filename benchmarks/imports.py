"""Import benchmark: the OFAC SDN history (every version of sdn.csv) read and turned into spans.

What it measures, per run: `graph.imports.us_sdn.load_history` on a git repository of sdn.csv
versions (`git log` of the file, every blob through one `git cat-file --batch`, each version
decoded, hashed and parsed, truncated and same-day versions set aside), then
`listings_from_history` (the spans per ent_num and program); then the whole command,
`diplokg import us-sdn REPO` as a dry run into a copy of graph/sources (read, spans,
reconciliation against the other sources, TriG, SHACL validation of the whole graph, diff);
then `diplokg build --force` of the project's graph as committed (load, validate, dumps).
It prints the commits that touch sdn.csv, the versions used, the records read (all rows of the
versions used, every programme and SDN type), the spans (listings), how many ended, the
versions skipped and why, then the median and each of `--repeat` wall-clock times of each
step. Targets: the whole import of the 309 versions under 2 minutes on 2 cores; building and
validating the enlarged graph under 30 s.

Data: github:jackdwyer/specially-designated-nationals-list, a scrape of
https://www.treasury.gov/ofac/downloads/sdn.csv committed on change (309 versions,
2021-08-18 .. 2024-05-03, then one empty file). Clone it (or a bare mirror) first:
  git clone --bare https://github.com/jackdwyer/specially-designated-nationals-list /tmp/sdn.git

Usage (defaults shown; a run of 3 repeats takes about 20 s on 2 cores):
  .venv/bin/python benchmarks/imports.py --repo /tmp/sdn.git --repeat 3 [--events]
`--events` also lists every span that ended (the delistings and removed program tags).
Not part of `make test`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import shutil  # noqa: E402
import tempfile  # noqa: E402

from graph.build import build  # noqa: E402
from graph.imports.model import Listing  # noqa: E402
from graph.imports.run import run_import  # noqa: E402
from graph.imports.us_sdn import History, listings_from_history, load_history  # noqa: E402
from graph.layout import SOURCES_DIR  # noqa: E402

ORIGIN = "jackdwyer/specially-designated-nationals-list"


def parse_args() -> argparse.Namespace:
    lines = (__doc__ or "").splitlines()
    parser = argparse.ArgumentParser(
        description=lines[0],
        epilog="\n".join(lines[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--repo", type=Path, required=True, help="a git repository (bare or not) of sdn.csv")
    add("--repeat", type=int, default=3, help="runs; the median is reported")
    add("--origin", default=ORIGIN, help="GitHub owner/name the copies are named after")
    add("--events", action="store_true", help="list every span that ended")
    return parser.parse_args()


def run_once(repo: Path, origin: str) -> tuple[History, list[Listing], float, float]:
    start = time.perf_counter()
    history = load_history(repo, origin=origin)
    read = time.perf_counter()
    listings = listings_from_history(history.versions)
    done = time.perf_counter()
    return history, listings, read - start, done - read


def commits(repo: Path) -> int:
    out = subprocess.run(
        ["git", "-C", str(repo), "rev-list", "--count", "HEAD", "--", "sdn.csv"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout)


def main() -> None:
    args = parse_args()
    reads: list[float] = []
    spans: list[float] = []
    for _ in range(args.repeat):
        history, listings, read, span = run_once(args.repo, args.origin)
        reads.append(read)
        spans.append(span)
    versions = history.versions
    ended = [x for x in listings if x.ended]
    print(f"repository       {args.repo}")
    print(f"commits          {commits(args.repo)} touching sdn.csv")
    print(f"versions used    {len(versions)} ({versions[0].date} .. {versions[-1].date})")
    print(f"records read     {sum(v.records for v in versions)} (of the versions used)")
    print(
        f"spans            {len(listings)} ({len(ended)} ended, {len(listings) - len(ended)} open)"
    )
    print(f"re-listings      {sum(x.span > 1 for x in listings)}")
    print(f"skipped          {len(history.skipped)}")
    for reason in history.skipped:
        print(f"  {reason}")
    if args.events:
        for x in ended:
            print(
                f"  ended {x.entry_id} {x.regime} {x.entity.name!r}: after {x.ended_after}, "
                f"no later than {x.ended_no_later_than}"
            )
    totals = [r + s for r, s in zip(reads, spans, strict=True)]
    imports, builds = whole_import(args.repo, args.origin, args.repeat)
    for label, times in (
        ("read_history", reads),
        ("spans", spans),
        ("read + spans", totals),
        ("whole import", imports),
        ("build+validate", builds),
    ):
        each = " ".join(f"{t:.2f}" for t in times)
        print(f"{label:<16} median {statistics.median(times):.2f} s  (runs: {each})")


def whole_import(repo: Path, origin: str, repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock seconds of `diplokg import us-sdn` (dry run) and of a forced build."""
    imports: list[float] = []
    builds: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        sources = Path(tmp) / "sources"
        shutil.copytree(SOURCES_DIR, sources)
        for _ in range(repeat):
            start = time.perf_counter()
            run_import("us-sdn", [repo], copy=origin, sources_dir=sources, dry_run=True)
            imports.append(time.perf_counter() - start)
            start = time.perf_counter()
            build(Path(tmp) / "dist", force=True)
            builds.append(time.perf_counter() - start)
    return imports, builds


if __name__ == "__main__":
    main()
