"""The release's CSV tables, state and event codes, and their Frictionless data package."""

from __future__ import annotations

import csv
from pathlib import Path

import frictionless
import pyoxigraph as ox
import pytest

from graph.namespaces import DK
from graph.release.codes import EVENT_CODES, state_codes
from graph.release.datapackage import write_datapackage
from graph.release.tables import SEPARATOR, Table, load_store, write_tables

RES = "https://w3id.org/diplokg/resource/"


@pytest.fixture(scope="module")
def store(built_dir: Path) -> ox.Store:
    return load_store(built_dir / "diplokg.nq")


@pytest.fixture(scope="module")
def release(store: ox.Store, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Table]]:
    out = tmp_path_factory.mktemp("release")
    tables = write_tables(store, out)
    write_datapackage(out, tables, "0.1.0", "2026-12-01")
    return out, tables


def rows(out: Path, name: str) -> dict[str, dict[str, str]]:
    with (out / "tables" / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return {row[next(iter(row))]: row for row in csv.DictReader(f)}


def test_states_have_iso_gleditsch_ward_and_cow_codes(store: ox.Store) -> None:
    codes = state_codes(store)
    russia = codes[RES + "russia"]
    assert (russia.iso3, russia.iso2, russia.gw, russia.cow) == ("RUS", "RU", 365, 365)
    usa = codes[RES + "united-states"]
    assert (usa.iso3, usa.gw, usa.cow, usa.cow_abbrev) == ("USA", 2, 2, "USA")
    assert codes[RES + "kazakhstan"].cow_abbrev == "KZK"
    assert "country_converter" in russia.source and "COW-country-codes.csv" in russia.source
    assert all(c.iso3 and c.gw for c in codes.values())


def test_recognition_is_cameo_054_and_plover_support_and_designation_has_a_reason() -> None:
    recognition = EVENT_CODES[str(DK.Recognition)]
    assert (recognition.cameo, recognition.cameo_label, recognition.plover) == (
        "054",
        "Grant diplomatic recognition",
        "SUPPORT",
    )
    designation = EVENT_CODES[str(DK.TerrorDesignation)]
    assert designation.cameo == "" and "no code" in designation.reason


def test_russia_recognition_row_carries_codes_date_precision_and_source(
    release: tuple[Path, list[Table]],
) -> None:
    row = rows(release[0], "recognitions")[RES + "recognition-russia-islamic-emirate"]
    assert row["state_iso3"] == "RUS" and row["state_gw"] == "365" and row["state_cow"] == "365"
    assert row["government_iri"] == RES + "islamic-emirate-of-afghanistan"
    assert (row["start_date"], row["start_precision"]) == ("2025-07-03", "day")
    assert row["cameo_code"] == "054" and row["plover_code"] == "SUPPORT"
    assert row["source_iri"] == RES + "article-russia-recognizes-islamic-emirate"
    assert "officially recognized the Taliban government" in row["evidence"]


def test_russia_designation_of_the_taliban_keeps_year_precision_and_end(
    release: tuple[Path, list[Table]],
) -> None:
    row = rows(release[0], "designations")[RES + "designation-russia-taliban"]
    assert (row["start_date"], row["start_precision"]) == ("2003", "year")
    assert (row["end_date"], row["end_precision"]) == ("2025-04-17", "day")
    assert row["organization_label"] == "Taliban" and row["has_ended"] == "true"
    assert row["cameo_code"] == "" and "terrorist" in row["code_reason"]
    assert SEPARATOR in row["evidence"]  # two excerpts, joined


def test_us_sdn_listings_have_bounds_and_list(release: tuple[Path, list[Table]]) -> None:
    designations = rows(release[0], "designations").values()
    us = [r for r in designations if r["state_iso3"] == "USA"]
    assert len(us) > 900
    assert {r["list_iri"] for r in us} == {RES + "list-us-sdgt", RES + "list-us-fto"}
    assert all(r["started_no_later_than"] for r in us)
    assert any(r["source_url"] == "https://www.treasury.gov/ofac/downloads/sdn.csv" for r in us)


def test_tables_count_every_fact_of_the_graph(
    release: tuple[Path, list[Table]], store: ox.Store
) -> None:
    counts = {t.name: t.rows for t in release[1]}
    query = "SELECT (COUNT(DISTINCT ?f) AS ?n) WHERE { ?f a <%s> }"
    for name, cls in (
        ("recognitions", DK.Recognition),
        ("envoys", DK.Envoy),
        ("court_rulings", DK.CourtRuling),
    ):
        result = store.query(query % cls, use_default_graph_as_union=True)
        assert isinstance(result, ox.QuerySolutions)
        assert counts[name] == int(next(iter(result))["n"].value)
    assert counts["designations"] == 1085 and counts["stances"] == 5 and counts["states"] == 11


def test_data_package_validates_with_frictionless(release: tuple[Path, list[Table]]) -> None:
    report = frictionless.validate(str(release[0] / "datapackage.json"))
    assert report.valid, report.flatten(["type", "note"])


def test_tables_are_byte_identical_across_runs(
    release: tuple[Path, list[Table]], store: ox.Store, tmp_path: Path
) -> None:
    write_datapackage(tmp_path, write_tables(store, tmp_path), "0.1.0", "2026-12-01")
    first = sorted(p.relative_to(release[0]) for p in release[0].rglob("*") if p.is_file())
    assert first == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    for path in first:
        assert (release[0] / path).read_bytes() == (tmp_path / path).read_bytes(), path
    text = (tmp_path / "tables" / "recognitions.csv").read_bytes()
    assert text.count(b"\r\n") >= 2 and not text.startswith(b"\xef\xbb\xbf")
