"""`diplokg release`: one complete, self-describing directory that `diplokg serve` serves as it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from api.cli import wants_build
from api.settings import Settings
from graph import __version__
from graph.release.release import ReleaseError, ReleaseResult, make_release
from tests.conftest import RELEASE_DATE

DAY = RELEASE_DATE


@pytest.fixture(scope="module")
def release(release_dir: Path) -> ReleaseResult:
    files = tuple(sorted(p for p in release_dir.rglob("*") if p.is_file()))
    return ReleaseResult(release_dir, __version__, DAY, files)


def test_a_release_holds_every_part(release: ReleaseResult) -> None:
    names = {str(p.relative_to(release.out)) for p in release.files}
    expected = {
        "diplokg.nq", "diplokg.trig", "diplokg.ttl", "diplokg.jsonld", "void.ttl",
        "manifest.json", "CITATION.cff", ".zenodo.json", "dataset.jsonld",
        "ro-crate-metadata.json", "croissant.json", "datapackage.json", "codebook.md",
        "codebook.html", "tables/recognitions.csv", "tables/designations.csv",
        "tables/envoys.csv", "tables/stances.csv", "tables/court_rulings.csv",
        "panel/dyad_year.csv", "panel/dyad_year.dta", "panel/dyad_year.parquet",
    }  # fmt: skip
    assert expected <= names
    manifest = json.loads((release.out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["release"] == {
        "version": __version__,
        "date": DAY.isoformat(),
        "previous": "0.0.0",
    }
    assert 'version: "0.1.0"' in (release.out / "CITATION.cff").read_text(encoding="utf-8") or (
        "version: 0.1.0" in (release.out / "CITATION.cff").read_text(encoding="utf-8")
    )
    assert "doi" not in (release.out / ".zenodo.json").read_text(encoding="utf-8").lower()


def test_the_descriptors_validate(release: ReleaseResult) -> None:
    import frictionless
    import mlcroissant as mlc

    report = frictionless.validate(str(release.out / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]
    mlc.Dataset(jsonld=str(release.out / "croissant.json"))  # raises on an invalid description
    dataset = json.loads((release.out / "dataset.jsonld").read_text(encoding="utf-8"))
    assert dataset["@type"] == "Dataset" and dataset["version"] == __version__


def test_a_release_is_served_as_it_is(release: ReleaseResult) -> None:
    assert not wants_build(release.out)  # never rebuilt from the current sources
    settings = Settings(dataset=release.out, store="oxigraph", workers=1)
    with TestClient(create_app(settings)) as client:
        response = client.post(
            "/sparql",
            data={"query": "ASK { res:recognition-russia-islamic-emirate a dk:Recognition }"},
            headers={"Accept": "application/sparql-results+json"},
        )
        assert response.json()["boolean"] is True


def test_only_the_sources_version_can_be_released(tmp_path: Path) -> None:
    with pytest.raises(ReleaseError, match=r"graph/__init__\.py"):
        make_release("9.9.9", tmp_path / "r", release_date=DAY)
    result = CliRunner().invoke(
        cli, ["release", __version__, "--out", str(tmp_path / "r"), "--date", "soon"]
    )
    assert result.exit_code == 2 and "not a date" in result.output


def test_export_nanopubs_writes_one_publication_per_fact(built_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "nanopubs"
    result = CliRunner().invoke(
        cli,
        [
            "export",
            "nanopubs",
            "--dataset",
            str(built_dir),
            "--out",
            str(out),
            "--date",
            "2026-06-01",
        ],
    )
    assert result.exit_code == 0, result.output
    files = sorted(out.glob("*.trig"))
    assert len(files) > 1000 and f"wrote {len(files)} nanopublication(s)" in result.output
    recognition = (out / "recognition-russia-islamic-emirate.trig").read_text(encoding="utf-8")
    assert "http://www.nanopub.org/nschema#hasAssertion" in recognition
    assert '"2026-06-01"' in recognition


def test_the_same_sources_version_and_date_give_a_byte_identical_release(
    release_dir: Path, built_dir: Path, tmp_path: Path
) -> None:
    previous = tmp_path / "previous"
    previous.mkdir()
    (previous / "diplokg.nq").write_text("", encoding="utf-8")
    (previous / "manifest.json").write_text(json.dumps({"version": "0.0.0"}), encoding="utf-8")
    again = make_release(
        __version__, tmp_path / "again", release_date=DAY, previous=previous, built=built_dir
    )
    first = {
        p.relative_to(release_dir): p.read_bytes() for p in release_dir.rglob("*") if p.is_file()
    }
    second = {p.relative_to(again.out): p.read_bytes() for p in again.files}
    assert first.keys() == second.keys()
    assert [str(name) for name in first if first[name] != second[name]] == []
