"""Tests of the QuickStatements V1 export (graph/wikidata/export.py)."""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from rdflib import Dataset, Literal, URIRef
from rdflib.namespace import RDF, XSD

from graph.build import Inputs, load_sources
from graph.layout import SOURCES_DIR
from graph.namespaces import DK, RES
from graph.wikidata.export import REVIEW_PREFIX, ExportResult, export_wikidata, qs_time

RETRIEVED = date(2026, 11, 23)
ARTICLE = "https://w3id.org/diplokg/resource/article-russia-removes-taliban-from-terror-list"
REFERENCE = "\t".join(
    [
        "S854",
        f'"{ARTICLE}"',
        "S1476",
        'en:"Russia shocks world by removing Taliban from terror list — Here\'s why"',
        "S577",
        "+2025-04-00T00:00:00Z/10",
        "S813",
        "+2026-11-23T00:00:00Z/11",
    ]
)


#: The seed: the two articles and the curated entities and lists (the tests below count its
#: statements; the whole graph's are tested at the end).
SEED_FILES = (
    "entities.trig",
    "lists.trig",
    "russia-recognizes-islamic-emirate.trig",
    "russia-removes-taliban-from-terror-list.trig",
)


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    directory = tmp_path_factory.mktemp("seed-sources")
    for name in SEED_FILES:
        shutil.copyfile(SOURCES_DIR / name, directory / name)
    return load_sources(Inputs(sources_dir=directory))


@pytest.fixture(scope="module")
def whole() -> ExportResult:
    return export_wikidata(load_sources(), RETRIEVED)


@pytest.fixture(scope="module")
def result(sources: Dataset) -> ExportResult:
    return export_wikidata(sources, RETRIEVED)


def commands(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_russia_designation_has_year_start_day_end_and_a_full_reference(
    result: ExportResult,
) -> None:
    expected = (
        "Q42418\tP3461\tQ159\tP580\t+2003-00-00T00:00:00Z/9\tP582\t+2025-04-17T00:00:00Z/11\t"
        + REFERENCE
    )
    assert expected in commands(result.text())


@pytest.mark.parametrize("state", ["Q232", "Q813", "Q265"])
def test_designation_ended_on_unknown_date_gets_unknown_end_and_no_date(
    result: ExportResult, state: str
) -> None:
    expected = f"Q42418\tP3461\t{state}\tP582\tsomevalue\t" + REFERENCE
    assert expected in commands(result.text())


def test_seed_graph_commands_are_exactly_the_four_designations(result: ExportResult) -> None:
    lines = commands(result.text())
    assert len(lines) == 4
    assert all(line.startswith("Q42418\tP3461\t") for line in lines)
    assert all(len(line.split("\t")) % 2 == 1 for line in lines)  # item prop value + pairs


def test_recognition_is_written_disabled_as_p530_both_ways_pending_review(
    result: ExportResult,
) -> None:
    text = result.text()
    tail = "\tP530\t{}\tP580\t+2025-07-03T00:00:00Z/11\tS854\t"
    disabled = [line for line in text.splitlines() if line.startswith(REVIEW_PREFIX)]
    assert len(disabled) == 2
    assert any(line.startswith(REVIEW_PREFIX + "Q159" + tail.format("Q889")) for line in disabled)
    assert any(line.startswith(REVIEW_PREFIX + "Q889" + tail.format("Q159")) for line in disabled)
    assert "NEEDS HUMAN REVIEW" in text


def test_include_review_makes_the_p530_lines_commands(result: ExportResult) -> None:
    lines = commands(result.text(include_review=True))
    assert sum(line.split("\t")[1] == "P530" for line in lines) == 2


def test_plain_output_has_no_notes_and_leaves_review_lines_out(result: ExportResult) -> None:
    text = result.text(comments=False)
    assert not [line for line in text.splitlines() if line.startswith("#")]
    assert len(text.splitlines()) == 4


def test_export_is_deterministic(sources: Dataset) -> None:
    assert export_wikidata(sources, RETRIEVED).text() == export_wikidata(sources, RETRIEVED).text()


def test_unlinked_entities_are_reported(result: ExportResult) -> None:
    unlinked = {iri for iri, _ in result.unlinked}
    assert RES["isis-k"] in unlinked
    assert RES["amir-khan-muttaqi"] in unlinked
    assert RES["taliban"] not in unlinked
    report = result.report()
    assert "res:isis-k (Islamic State – Khorasan Province)" in report


def test_designation_of_an_unlinked_organization_is_reported_not_dropped(sources: Dataset) -> None:
    ds = Dataset()
    for quad in sources.quads((None, None, None, None)):
        ds.add(quad)
    g = ds.graph(URIRef("https://example.org/test"))
    fact = RES["designation-russia-isis-k"]
    g.add((fact, DK.designatingState, RES["russia"]))
    g.add((fact, DK.designatedOrganization, RES["isis-k"]))
    g.add((fact, DK.startDate, Literal("2015-02-12", datatype=XSD.date)))
    g.add((fact, RDF.type, DK.TerrorDesignation))
    result = export_wikidata(ds, RETRIEVED)
    assert [s.fact for s in result.blocked] == [fact]
    assert "no Wikidata item for res:isis-k" in result.blocked[0].reason
    assert "res:designation-russia-isis-k" in result.report()
    assert len(commands(result.text())) == 4


@pytest.mark.parametrize(
    ("lexical", "datatype", "expected"),
    [
        ("2003", XSD.gYear, "+2003-00-00T00:00:00Z/9"),
        ("2025-04", XSD.gYearMonth, "+2025-04-00T00:00:00Z/10"),
        ("2025-04-17", XSD.date, "+2025-04-17T00:00:00Z/11"),
        ("late 2024", XSD.string, None),
    ],
)
def test_dates_keep_their_precision(lexical: str, datatype: URIRef, expected: str | None) -> None:
    assert qs_time(Literal(lexical, datatype=datatype)) == expected


def test_the_sources_of_one_designation_make_one_statement_with_a_reference_each(
    whole: ExportResult,
) -> None:
    russia = [
        s for s in whole.statements if (s.subject, s.prop, s.value) == ("Q42418", "P3461", "Q159")
    ]
    assert len(russia) == 1
    [statement] = russia
    # the most precise dates the sources agree on: the day of the 2003 ruling, the suspension
    assert statement.qualifiers == (
        ("P580", "+2003-02-14T00:00:00Z/11"),
        ("P582", "+2025-04-17T00:00:00Z/11"),
    )
    urls = {dict(r)["P854"] for r in statement.references}
    assert '"https://tass.com/politics/1945243"' in urls and f'"{ARTICLE}"' in urls
    assert "one statement for" in statement.comment and not statement.needs_review


def test_a_list_designation_cites_the_list_version_and_gives_no_invented_start(
    whole: ExportResult,
) -> None:
    [us] = [
        s for s in whole.statements if (s.subject, s.prop, s.value) == ("Q42418", "P3461", "Q30")
    ]
    assert us.qualifiers == ()  # the SDN list gives no date: no P580
    reference = dict(us.references[0])
    assert reference["P854"] == '"https://www.treasury.gov/ofac/downloads/sdn.csv"'
    assert reference["P577"] == "+2021-08-18T00:00:00Z/11"  # the version's own date
    assert "listed no later than 2021-08-18" in us.comment


def test_no_two_statements_say_the_same_designation(whole: ExportResult) -> None:
    keys = [(s.subject, s.prop, s.value) for s in whole.statements]
    assert len(keys) == len(set(keys))
