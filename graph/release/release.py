"""`diplokg release VERSION --out DIR [--previous DIR] [--date YYYY-MM-DD]`: one complete,
self-describing release directory (layout: graph.release).

The steps, in order: the build's dumps and VoID/DCAT (graph.build, into DIR); the tables, the
dyad-year panel, the Frictionless package and the codebook; what changed since `--previous`;
then the metadata last, because it describes (and checksums) every file written before it. The
build's manifest is marked as a release's (`"release": {...}`), so that `diplokg serve
--dataset DIR` serves it as it is and never rebuilds it.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from graph import __version__
from graph.build import build, is_current
from graph.dumps import MANIFEST, read_manifest
from graph.errors import DiploKGError
from graph.release import codebook, datapackage, metadata, panel, tables


class ReleaseError(DiploKGError):
    """A release cannot be made as asked."""


@dataclass(frozen=True)
class ReleaseResult:
    out: Path
    version: str
    release_date: dt.date
    files: tuple[Path, ...]
    #: Seconds per step.
    seconds: dict[str, float] = field(default_factory=dict)


def make_release(
    version: str,
    out: Path,
    *,
    release_date: dt.date,
    previous: Path | None = None,
    built: Path | None = None,
) -> ReleaseResult:
    """Write the release of the current sources as `version` into `out`. `built`: a build
    directory of the current sources to copy instead of building again (checked current)."""
    if version != __version__:
        raise ReleaseError(
            f"the sources are version {__version__}, not {version}: set the version in "
            "graph/__init__.py (and CITATION.cff, CHANGELOG.md) before releasing it"
        )
    if previous is not None and not (previous / MANIFEST).is_file():
        raise ReleaseError(f"{previous} is not a release or build directory (no {MANIFEST})")
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    if built is not None and is_current(built):
        out.mkdir(parents=True, exist_ok=True)
        for name in [*(read_manifest(built) or {}).get("files", {}), MANIFEST]:
            shutil.copyfile(built / name, out / name)
    else:
        build(out, force=True)
    seconds["build"] = _since(clock)
    clock = time.perf_counter()
    store = tables.load_store(out / "diplokg.nq")
    written = tables.write_tables(store, out)
    written.append(panel.write_panel(store, out, release_date.isoformat()))
    datapackage.write_datapackage(out, written, version, release_date.isoformat())
    seconds["tables"] = _since(clock)
    if previous is not None:
        clock = time.perf_counter()
        from graph.release.diff import diff_releases

        diff_releases(previous, out, out)
        seconds["diff"] = _since(clock)
    clock = time.perf_counter()
    descriptions = [
        (t.name, t.path, [(f.name, f.type, f.description) for f in t.fields]) for t in written
    ]
    meta = metadata.release_metadata(out, version, release_date, store, tables=descriptions)
    codebook.write_codebook(out, written, store, version, metadata.bibtex(meta))
    meta = metadata.release_metadata(out, version, release_date, store, tables=descriptions)
    metadata.write_metadata(out, meta)
    _mark_release(out, version, release_date, previous)
    seconds["metadata"] = _since(clock)
    files = tuple(sorted(p for p in out.rglob("*") if p.is_file()))
    return ReleaseResult(out, version, release_date, files, seconds)


def _mark_release(out: Path, version: str, release_date: dt.date, previous: Path | None) -> None:
    manifest = read_manifest(out) or {}
    release: dict[str, object] = {"version": version, "date": release_date.isoformat()}
    if previous is not None:
        release["previous"] = (read_manifest(previous) or {}).get("version")
    manifest["release"] = release
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    (out / MANIFEST).write_text(text, encoding="utf-8")


def _since(start: float) -> float:
    return round(time.perf_counter() - start, 2)
