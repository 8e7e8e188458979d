"""The directed dyad-year panel: every yes has a fact, every fact is in the panel, three formats."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pyoxigraph as ox
import pytest

from graph.release.panel import write_panel
from graph.release.tables import SEPARATOR, Table, load_store

RES = "https://w3id.org/diplokg/resource/"


@pytest.fixture(scope="module")
def store(built_dir: Path) -> ox.Store:
    return load_store(built_dir / "diplokg.nq")


@pytest.fixture(scope="module")
def panel(store: ox.Store, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Table]:
    out = tmp_path_factory.mktemp("panel")
    return out, write_panel(store, out, "2026-12-01")


def read(out: Path) -> list[dict[str, str]]:
    with (out / "panel" / "dyad_year.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def count(store: ox.Store, query: str) -> set[str]:
    result = store.query(
        "PREFIX dk: <https://w3id.org/diplokg/ontology#>\n" + query,
        use_default_graph_as_union=True,
    )
    assert isinstance(result, ox.QuerySolutions)
    return {row["f"].value for row in result}


def test_russia_designated_the_taliban_from_2003_to_2025(panel: tuple[Path, Table]) -> None:
    rows = {
        r["year"]: r
        for r in read(panel[0])
        if r["state_iri"] == RES + "russia" and r["target_iri"] == RES + "taliban"
    }
    assert rows["2002"]["designated"] == "no"
    assert rows["2003"]["designated"] == "yes" and rows["2025"]["designated"] == "yes"
    assert rows["2026"]["designated"] == "no"
    assert RES + "designation-russia-taliban" in rows["2010"]["designated_facts"]
    assert rows["2010"]["recognized"] == "" and rows["2010"]["state_cow"] == "365"


def test_russia_recognized_the_islamic_emirate_from_2025(panel: tuple[Path, Table]) -> None:
    rows = {
        r["year"]: r
        for r in read(panel[0])
        if r["state_iri"] == RES + "russia"
        and r["target_iri"] == RES + "islamic-emirate-of-afghanistan"
    }
    assert rows["2024"]["recognized"] == "no" and rows["2025"]["recognized"] == "yes"
    assert rows["2025"]["recognized_facts"] == RES + "recognition-russia-islamic-emirate"
    assert rows["2025"]["designated"] == "" and rows["2025"]["target_type"] == "government"


def test_every_yes_has_a_fact_and_every_fact_is_in_the_panel(
    panel: tuple[Path, Table], store: ox.Store
) -> None:
    designations = count(
        store, "SELECT ?f WHERE { ?f a dk:TerrorDesignation ; dk:designatingState ?s }"
    )
    recognitions = count(store, "SELECT ?f WHERE { ?f a dk:Recognition ; dk:recognizingState ?s }")
    seen: dict[str, set[str]] = {"designated": set(), "recognized": set()}
    for row in read(panel[0]):
        for kind in seen:
            if row[kind] in ("yes", "unknown"):
                facts = row[f"{kind}_facts"].split(SEPARATOR)
                assert facts and all(facts), row
                seen[kind].update(facts)
            else:
                assert row[f"{kind}_facts"] == ""
    assert seen["designated"] <= designations and seen["recognized"] <= recognitions
    assert len(seen["designated"]) == len(designations) and seen["recognized"] == recognitions


def test_stata_and_parquet_hold_the_same_rows_as_the_csv(panel: tuple[Path, Table]) -> None:
    base = panel[0] / "panel" / "dyad_year"
    from_csv = pd.read_csv(base.with_suffix(".csv"), dtype=str, keep_default_na=False)
    for frame in (
        pd.read_stata(base.with_suffix(".dta")),
        pd.read_parquet(base.with_suffix(".parquet")),
    ):
        assert list(frame.columns) == list(from_csv.columns)
        assert len(frame) == len(from_csv) == panel[1].rows
        as_text = frame.astype(object).where(frame.notna(), "").astype(str)
        for column in ("state_gw", "state_cow", "year"):
            as_text[column] = as_text[column].str.replace(r"\.0$", "", regex=True)
        pd.testing.assert_frame_equal(as_text.reset_index(drop=True), from_csv, check_dtype=False)


def test_panel_files_are_byte_identical_across_runs(
    panel: tuple[Path, Table], store: ox.Store, tmp_path: Path
) -> None:
    write_panel(store, tmp_path, "2026-12-01")
    for suffix in (".csv", ".dta", ".parquet"):
        name = Path("panel") / f"dyad_year{suffix}"
        assert (panel[0] / name).read_bytes() == (tmp_path / name).read_bytes(), suffix
