"""`diplokg update-lists` (`make update-lists`): fetch each list again and show what changed.

`graph/imports/lists.toml` says, per source, what its TriG is made from: URLs (the
publisher's file, downloaded into an archive directory under a dated name, so that every
version ever fetched is kept) and local paths (a scraped history, Orders, a `$VARIABLE`).
Each source is imported as a dry run; its diff (listings added, ended, changed, removed) is
printed and saved for review. Nothing in graph/sources changes without `apply`.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from graph.imports.model import ListFileError
from graph.imports.run import IMPORTERS, ImportReport, download, run_import
from graph.layout import PROJECT_ROOT, SOURCES_DIR

CONFIG = Path(__file__).with_name("lists.toml")


@dataclass(frozen=True)
class SourceConfig:
    name: str
    urls: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()  # globs, relative to the config file, `$VARS` expanded
    copied_from: str | None = None
    retrieved: date | None = None  # for local copies whose retrieval the files do not say
    optional: bool = False  # skip (with a note) when a path is missing, instead of failing


@dataclass
class Refresh:
    reports: list[ImportReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_config(path: Path = CONFIG) -> list[SourceConfig]:
    """The sources of a lists.toml, in file order."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ListFileError(path, f"not a readable TOML file: {exc}") from None
    configs = []
    for name, table in data.items():
        if name not in IMPORTERS:
            raise ListFileError(path, f"unknown source {name!r}", f"[{name}]")
        if not isinstance(table, dict):
            raise ListFileError(path, "each source is a table", f"[{name}]")
        unknown = set(table) - {"urls", "paths", "copied_from", "retrieved", "optional"}
        if unknown:
            raise ListFileError(path, f"unknown keys {sorted(unknown)}", f"[{name}]")
        retrieved = table.get("retrieved")
        configs.append(
            SourceConfig(
                name,
                tuple(table.get("urls", ())),
                tuple(table.get("paths", ())),
                table.get("copied_from"),
                retrieved if isinstance(retrieved, date) else None,
                bool(table.get("optional", False)),
            )
        )
    return configs


def refresh(
    configs: list[SourceConfig],
    *,
    archive: Path,
    review: Path,
    apply: bool = False,
    base: Path = PROJECT_ROOT,
    sources_dir: Path = SOURCES_DIR,
    today: date | None = None,
    fetch: Callable[[str, Path], Path] = download,
) -> Refresh:
    """Download, import (dry run unless `apply`), and save each source's diff under `review`."""
    day = today or date.today()
    out = Refresh()
    review.mkdir(parents=True, exist_ok=True)
    for config in configs:
        inputs = [*_downloads(config, archive, day, fetch), *_paths(config, base)]
        missing = [p for p in inputs if not Path(p).exists()]
        if missing or not inputs:
            why = f"{config.name}: no input ({', '.join(map(str, missing)) or 'none given'})"
            if config.optional:
                out.notes.append(f"skipped {why}")
                continue
            raise ListFileError(config.name, why)
        report = run_import(
            config.name,
            inputs,
            retrieved=config.retrieved or (day if config.urls else None),
            sources_dir=sources_dir,
            dry_run=not apply,
            copy=config.copied_from,
        )
        (review / f"{config.name}.diff.md").write_text(report.diff_text(), encoding="utf-8")
        out.reports.append(report)
    return out


def _downloads(
    config: SourceConfig, archive: Path, day: date, fetch: Callable[[str, Path], Path]
) -> list[Path]:
    """Fetch each URL into archive/<source>/<stem>-<day><suffix>; the archive keeps every
    version fetched, and a history source (us-sdn) is imported over all of them."""
    if not config.urls:
        return []
    folder = archive / config.name
    folder.mkdir(parents=True, exist_ok=True)
    fetched: list[Path] = []
    for url in config.urls:
        with tempfile.TemporaryDirectory(prefix="diplokg-fetch-") as tmp:
            got = fetch(url, Path(tmp))
            target = folder / f"{got.stem}-{day.isoformat()}{got.suffix}"
            shutil.move(str(got), target)
        fetched.append(target)
    if config.name == "us-sdn":
        return [folder]  # every dated download: one history
    return fetched


def _paths(config: SourceConfig, base: Path) -> list[Path]:
    found: list[Path] = []
    for pattern in config.paths:
        expanded = os.path.expandvars(os.path.expanduser(pattern))
        if "$" in expanded:
            found.append(Path(expanded))  # unset variable: reported as missing
            continue
        full = expanded if os.path.isabs(expanded) else str(base / expanded)
        matches = sorted(glob.glob(full))
        found += [Path(m) for m in matches] or [Path(full)]
    return found
