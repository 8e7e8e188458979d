"""Release diffs: the RDF Patch, CHANGES.md and changes.csv between two releases of the seed graph."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from graph.release.diff import DiffSummary, diff_releases, release_iri
from graph.writes.delta import Quad, from_ox_quad, parse_patches

R = "https://w3id.org/diplokg/resource/"
DK = "https://w3id.org/diplokg/ontology#"
G = "https://w3id.org/diplokg/graph/"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
DERIVED = "<http://www.w3.org/ns/prov#wasDerivedFrom>"
XSD_DATE = "<http://www.w3.org/2001/XMLSchema#date>"
NEW_GRAPH = f"<{G}test-uzbekistan-designates-isis-k>"
RECOGNITION_GRAPH = f"<{G}russia-recognizes-islamic-emirate>"
SDN_GRAPH = f"<{G}us-sdn-2021-08-18>"

#: A source and a designation fact that the current release adds.
ADDED = [
    f"<{R}article-test-uzbekistan-designates-isis-k> {RDF_TYPE} <{DK}SourceArticle> {NEW_GRAPH} .",
    f'<{R}article-test-uzbekistan-designates-isis-k> {LABEL} "Uzbekistan lists ISIS-K (test report)"@en {NEW_GRAPH} .',
    f"<{R}designation-uzbekistan-isis-k> {RDF_TYPE} <{DK}TerrorDesignation> {NEW_GRAPH} .",
    f'<{R}designation-uzbekistan-isis-k> {LABEL} "Uzbekistan designates ISIS-K as terrorist"@en {NEW_GRAPH} .',
    f"<{R}designation-uzbekistan-isis-k> <{DK}designatingState> <{R}uzbekistan> {NEW_GRAPH} .",
    f"<{R}designation-uzbekistan-isis-k> <{DK}designatedOrganization> <{R}isis-k> {NEW_GRAPH} .",
    f'<{R}designation-uzbekistan-isis-k> <{DK}startDate> "2024-05-10"^^{XSD_DATE} {NEW_GRAPH} .',
    f"<{R}designation-uzbekistan-isis-k> {DERIVED} <{R}article-test-uzbekistan-designates-isis-k> {NEW_GRAPH} .",
]
#: The US FTO listing of the IRGC ends (bounds from two versions of the SDN list).
ENDED = [
    f'<{R}listing-us-fto-10391> <{DK}endedAfter> "2024-05-03"^^{XSD_DATE} {SDN_GRAPH} .',
    f'<{R}listing-us-fto-10391> <{DK}endedNoLaterThan> "2024-06-01"^^{XSD_DATE} {SDN_GRAPH} .',
]
OLD_LABEL = f'<{R}envoy-gul-hassan-to-russia> {LABEL} "Gul Hassan, ambassador of the Islamic Emirate of Afghanistan to Russia"@en {RECOGNITION_GRAPH} .'
NEW_LABEL = f'<{R}envoy-gul-hassan-to-russia> {LABEL} "Gul Hassan, ambassador of the Islamic Emirate of Afghanistan in Moscow"@en {RECOGNITION_GRAPH} .'
REMOVED_FACT = f"<{R}withheld-united-states-islamic-emirate> "


def _quads(lines: list[str]) -> set[Quad]:
    data = ("\n".join(lines) + "\n").encode("utf-8")
    return {from_ox_quad(q) for q in ox.parse(data, format=ox.RdfFormat.N_QUADS)}


def _release(directory: Path, version: str, lines: list[str]) -> Path:
    directory.mkdir()
    (directory / "diplokg.nq").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (directory / "manifest.json").write_text(json.dumps({"version": version}), encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def seed_lines(built_dir: Path) -> list[str]:
    return [line for line in (built_dir / "diplokg.nq").read_text("utf-8").splitlines() if line]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, seed_lines: list[str]) -> tuple[Path, Path]:
    """The seed build as release 0.1.0, and 0.2.0 with one change of each kind."""
    root = tmp_path_factory.mktemp("releases")
    assert OLD_LABEL in seed_lines
    current = [
        line for line in seed_lines if line != OLD_LABEL and not line.startswith(REMOVED_FACT)
    ]
    current += [*ADDED, *ENDED, NEW_LABEL]
    return (
        _release(root / "previous", "0.1.0", seed_lines),
        _release(root / "current", "0.2.0", current),
    )


@pytest.fixture(scope="module")
def diffed(
    pair: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[DiffSummary, Path]:
    out = tmp_path_factory.mktemp("diff")
    return diff_releases(*pair, out), out


def test_patch_holds_exactly_the_quads_removed_and_added(
    diffed: tuple[DiffSummary, Path], seed_lines: list[str]
) -> None:
    _, out = diffed
    (patch,) = parse_patches((out / "changes" / "changes.rdfp").read_text("utf-8"))
    assert patch.id == release_iri("0.2.0") == "https://w3id.org/diplokg/release/0.2.0"
    assert patch.previous == "https://w3id.org/diplokg/release/0.1.0"
    removed_lines = [OLD_LABEL, *(line for line in seed_lines if line.startswith(REMOVED_FACT))]
    assert len(removed_lines) == 9  # the stance's own eight triples, and the old label
    delta = patch.delta()
    assert delta.removed == _quads(removed_lines)
    assert delta.added == _quads([*ADDED, *ENDED, NEW_LABEL])
    # removals first, each part sorted
    ops = [op for op, _ in patch.operations]
    assert ops == ["D"] * 9 + ["A"] * 11


def test_csv_lists_each_fact_and_source_changed(diffed: tuple[DiffSummary, Path]) -> None:
    _, out = diffed
    text = (out / "changes" / "changes.csv").read_text("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        ["entity", "change", "type", "iri", "label", "properties"],
        [
            "fact",
            "added",
            "dk:TerrorDesignation",
            f"{R}designation-uzbekistan-isis-k",
            "Uzbekistan designates ISIS-K as terrorist",
            "dk:designatedOrganization dk:designatingState dk:startDate prov:wasDerivedFrom rdf:type rdfs:label",
        ],
        [
            "fact",
            "ended",
            "dk:TerrorDesignation",
            f"{R}listing-us-fto-10391",
            "ISLAMIC REVOLUTIONARY GUARD CORPS on the US Foreign Terrorist Organizations",
            "dk:endedAfter dk:endedNoLaterThan",
        ],
        [
            "fact",
            "corrected",
            "dk:Envoy",
            f"{R}envoy-gul-hassan-to-russia",
            "Gul Hassan, ambassador of the Islamic Emirate of Afghanistan in Moscow",
            "rdfs:label",
        ],
        [
            "fact",
            "removed",
            "dk:RecognitionWithheld",
            f"{R}withheld-united-states-islamic-emirate",
            "The United States withhold recognition of the Islamic Emirate",
            "dk:asOf dk:evidence dk:reason dk:stanceHolder dk:towardGovernment prov:wasDerivedFrom rdf:type rdfs:label",
        ],
        [
            "source",
            "added",
            "dk:SourceArticle",
            f"{R}article-test-uzbekistan-designates-isis-k",
            "Uzbekistan lists ISIS-K (test report)",
            "rdf:type rdfs:label",
        ],
    ]


def test_changes_md_counts_and_lists_the_facts_by_type(diffed: tuple[DiffSummary, Path]) -> None:
    summary, out = diffed
    text = (out / "CHANGES.md").read_text("utf-8")
    assert text.startswith("# Changes from 0.1.0 to 0.2.0\n")
    for row in (
        "| Facts added | 1 |",
        "| Facts ended | 1 |",
        "| Facts corrected | 1 |",
        "| Facts removed | 1 |",
        "| Sources added | 1 |",
        "| Sources removed | 0 |",
        "| Quads added | 11 |",
        "| Quads removed | 9 |",
    ):
        assert row in text
    sections = [line for line in text.splitlines() if line.startswith("#")]
    assert sections == [
        "# Changes from 0.1.0 to 0.2.0",
        "## Facts added",
        "### dk:TerrorDesignation (1)",
        "## Facts ended",
        "### dk:TerrorDesignation (1)",
        "## Facts corrected",
        "### dk:Envoy (1)",
        "## Facts removed",
        "### dk:RecognitionWithheld (1)",
        "## Sources added",
        "### dk:SourceArticle (1)",
    ]
    assert f"<{R}listing-us-fto-10391>" in text
    assert "  - dk:endedAfter: — → 2024-05-03" in text
    assert (
        "  - rdfs:label: Gul Hassan, ambassador of the Islamic Emirate of Afghanistan to Russia"
        " → Gul Hassan, ambassador of the Islamic Emirate of Afghanistan in Moscow"
    ) in text
    assert summary.counts()["facts ended"] == 1


def test_diff_output_is_byte_identical_across_runs(
    pair: tuple[Path, Path], diffed: tuple[DiffSummary, Path], tmp_path: Path
) -> None:
    _, first = diffed
    diff_releases(*pair, tmp_path)
    for name in ("CHANGES.md", "changes/changes.rdfp", "changes/changes.csv"):
        assert (tmp_path / name).read_bytes() == (first / name).read_bytes()


def test_release_diffed_with_itself_gives_an_empty_patch(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    previous, _ = pair
    summary = diff_releases(previous, previous, tmp_path)
    assert (tmp_path / "changes" / "changes.rdfp").read_text("utf-8") == (
        "H id <https://w3id.org/diplokg/release/0.1.0> .\n"
        "H prev <https://w3id.org/diplokg/release/0.1.0> .\n"
        "TX .\nTC .\n"
    )
    assert summary.changes == ()
    assert summary.quads_added == summary.quads_removed == 0
    assert (tmp_path / "changes" / "changes.csv").read_text("utf-8").count("\n") == 1


def test_relabelled_blank_nodes_of_the_ontology_are_no_change(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    previous, _ = pair
    lines = (previous / "diplokg.nq").read_text("utf-8").splitlines()
    relabelled = [line.replace("_:", "_:other") for line in lines]
    assert relabelled != lines  # the ontology has blank nodes (OWL lists, unions)
    other = _release(tmp_path / "relabelled", "0.1.1", relabelled)
    summary = diff_releases(previous, other, tmp_path / "out")
    assert summary.quads_added == summary.quads_removed == 0
