"""check-evidence on list versions: each listing's excerpt is found in a file with its version's SHA-256."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from rdflib import Dataset

from graph.evidence import check_all
from graph.imports.run import run_import
from graph.layout import SOURCES_DIR

LISTS = Path(__file__).parents[1] / "data" / "lists"


def _imported(tmp_path: Path) -> Dataset:
    sources = tmp_path / "sources"
    sources.mkdir()
    for name in ("entities.trig", "lists.trig"):
        shutil.copyfile(SOURCES_DIR / name, sources / name)
    run_import(
        "canada",
        [LISTS / "canada" / "terrorist-groups.json"],
        retrieved=date(2026, 12, 1),
        sources_dir=sources,
    )
    run_import("us-sdn", [LISTS / "us-sdn" / "versions"], sources_dir=sources)
    ds = Dataset()
    for path in sorted(sources.glob("*.trig")):
        ds.parse(path, format="trig")
    return ds


def test_every_imported_excerpt_is_found_in_the_files_imported(tmp_path: Path) -> None:
    ds = _imported(tmp_path)
    result = check_all(ds, tmp_path, LISTS)
    assert result.problems == []
    assert result.checked > 50
    assert not result.unchecked


def test_without_the_list_files_listings_are_counted_not_failed(tmp_path: Path) -> None:
    result = check_all(_imported(tmp_path), tmp_path)
    assert result.problems == []
    assert result.unchecked["list versions (pass the list files)"] > 50


def test_a_changed_file_no_longer_vouches_for_its_excerpts(tmp_path: Path) -> None:
    ds = _imported(tmp_path)
    copies = tmp_path / "copies"
    shutil.copytree(LISTS, copies)
    (copies / "canada" / "terrorist-groups.json").write_text("{}")
    result = check_all(ds, tmp_path, copies)
    reasons = {p.reason for p in result.problems}
    assert reasons == {"no file under the list directory has the version's dk:sha256"}
    assert all("ca-criminal-code" in p.fact for p in result.problems)
