"""A finished build as stores read it: its manifest, its N-Quads dump, the dump's digest; no build pipeline."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from rdflib import Dataset

from graph.errors import DatasetNotBuilt
from graph.loading import new_dataset, parse_into

#: The manifest a build writes last, after validating (files and their SHA-256, counts).
MANIFEST = "manifest.json"
#: Every dump a build writes is named diplokg.<suffix>.
DUMP_STEM = "diplokg"


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    """The manifest of the build in `out_dir`, or None when there is none (or it is unreadable)."""
    return read_json_object(out_dir / MANIFEST)


def read_json_object(path: Path) -> dict[str, Any] | None:
    """A JSON object from `path`, or None when the file is missing, unreadable or not an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def dump_path(source: Path) -> Path:
    """The N-Quads dump of a build directory, or a dump file given directly (.nq or .trig)."""
    if source.is_file():
        return source
    path = source / f"{DUMP_STEM}.nq"
    if not path.is_file():
        raise DatasetNotBuilt(f"no build in {source}: run `diplokg build --out {source}` first")
    return path


def dataset_digest(source: Path | Dataset) -> str:
    """What identifies a dataset for a store: the SHA-256 of its N-Quads dump (as the build's
    manifest records it, when there is one), or of an in-memory dataset's N-Quads."""
    if isinstance(source, Dataset):
        return hashlib.sha256(source.serialize(format="nquads", encoding="utf-8")).hexdigest()
    path = dump_path(source)
    if source.is_dir():
        recorded = (read_manifest(source) or {}).get("files", {}).get(path.name)
        if isinstance(recorded, str):
            return recorded
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_build(out_dir: Path) -> Dataset:
    """The dataset of a finished build (its N-Quads dump), with DiploKG's prefixes bound."""
    ds = new_dataset()
    parse_into(ds, dump_path(out_dir))
    return ds
