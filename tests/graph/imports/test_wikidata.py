"""Tests of the Wikidata P3461 importer: stand-in endpoint -> file -> listings, dumps, EntityData."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from graph.imports.model import DateValue, ListFileError, Listing
from graph.imports.result import ImportResult
from graph.imports.wikidata import (
    DESIGNATORS,
    QUERY,
    fetch_statements,
    import_paths,
    save_statements,
)
from graph.wikidata.client import EndpointError, SparqlClient
from tests.support.wikidata_standin import StandIn, serve_standin

DATA = Path(__file__).resolve().parents[2] / "data" / "lists" / "wikidata"
RESULTS = DATA / "wikidata-p3461-2025-05-01.json"
DUMP = DATA / "wikidata-20250421-all.json"
ENTITY = DATA / "Q42418.json"

RUSSIA_TALIBAN = "Q42418$6A0B7F1E-3C52-4B8D-9E41-2F7D5C1A8B03"
KAZAKHSTAN_TALIBAN = "Q42418$8D2E4C61-7A95-4F03-B1C8-5E6F9A2D7C14"
KYRGYZSTAN_TALIBAN = "Q42418$1F6C3B9A-2D47-4E85-A0B3-7C9D1E5F2A68"
CHINA_TALIBAN = "Q42418$4B7E2A90-C613-4D5F-8A2E-9B1C7D3E6F05"
UNMAPPED_TALIBAN = "Q42418$C3A91D57-0E28-4B6F-9D14-8A5E2F7B3C90"
US_ISIL = "Q2429253$9E5D1B3C-6F84-4A27-B0D9-3C8E5A1F7D42"
RUSSIA_ISIL = "Q2429253$2C8F6A1D-4B39-4E70-A5C2-D7E1B9F3A856"
IMPORTED = {
    RUSSIA_TALIBAN,
    KAZAKHSTAN_TALIBAN,
    KYRGYZSTAN_TALIBAN,
    US_ISIL,
    RUSSIA_ISIL,
}


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    with serve_standin(DATA / "standin-p3461.ttl") as running:
        yield running


def by_id(result: ImportResult) -> dict[str, Listing]:
    return {listing.entry_id: listing for listing in result.listings}


def facts(listing: Listing) -> tuple[Any, ...]:
    """What a listing says, whatever file it came from."""
    return (
        listing.entry_id,
        listing.designator,
        listing.entity,
        listing.start,
        listing.ended,
        listing.end,
        listing.source_refs,
    )


def entity_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ENTITY.read_text(encoding="ascii"))
    return data


def write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


# --- the query service, through the local stand-in ----------------------------------------------


def test_fetching_from_the_standin_writes_the_saved_results_file(
    standin: StandIn, tmp_path: Path
) -> None:
    saved = save_statements(SparqlClient(standin.url), tmp_path, today=date(2025, 5, 1))

    assert saved == tmp_path / "wikidata-p3461-2025-05-01.json"
    assert saved.read_bytes() == RESULTS.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == [saved.name]


def test_fetch_sends_the_one_query_by_post(standin: StandIn) -> None:
    before = len(standin.requests)
    data = fetch_statements(SparqlClient(standin.url))

    sent = standin.requests[before:]
    assert [(r.method, r.path, r.query) for r in sent] == [("POST", "/sparql", QUERY)]
    assert json.loads(data)["head"]["vars"][:3] == ["item", "statement", "designator"]


def test_fetched_file_imports_the_statements(standin: StandIn, tmp_path: Path) -> None:
    saved = save_statements(SparqlClient(standin.url), tmp_path, today=date(2025, 5, 1))
    result = import_paths([saved])

    assert set(by_id(result)) == IMPORTED
    [source] = result.sources
    assert source.url == "https://query.wikidata.org/sparql"
    assert source.sha256 == hashlib.sha256(saved.read_bytes()).hexdigest()
    assert source.version == source.retrieved == date(2025, 5, 1)
    assert source.key == "wikidata-p3461-2025-05-01"


def test_a_failing_endpoint_leaves_no_file(standin: StandIn, tmp_path: Path) -> None:
    with pytest.raises(EndpointError, match="HTTP 500"):
        save_statements(
            SparqlClient(standin.base + "/status/500"), tmp_path, today=date(2025, 5, 1)
        )
    assert list(tmp_path.iterdir()) == []


# --- the statements, in each form ---------------------------------------------------------------


def test_russia_listed_the_taliban_from_2003_until_17_april_2025() -> None:
    listing = by_id(import_paths([RESULTS]))[RUSSIA_TALIBAN]

    assert listing.regime is None
    assert listing.designator == "russia"
    assert listing.entity.name == "Taliban"
    assert listing.entity.aliases == ("Taleban",)
    assert listing.entity.wikidata == "Q42418"
    assert listing.start == DateValue("2003")
    assert listing.ended is True
    assert listing.end == DateValue("2025-04-17")
    assert listing.source_refs == ("http://www.fsb.ru/fsb/npd/terror.htm",)


def test_the_dump_and_the_query_results_give_the_same_statements() -> None:
    from_dump = {facts(listing) for listing in import_paths([DUMP]).listings}
    from_query = {facts(listing) for listing in import_paths([RESULTS]).listings}

    assert from_dump == from_query
    assert len(from_dump) == len(IMPORTED)


def test_the_dump_skips_entities_without_p3461() -> None:
    result = import_paths([DUMP])

    assert {listing.entity.wikidata for listing in result.listings} == {"Q42418", "Q2429253"}
    assert not any("Q159$" in note for note in result.skipped)


def test_entity_data_gives_the_taliban_statements(tmp_path: Path) -> None:
    result = import_paths([ENTITY], retrieved=date(2025, 5, 1))

    assert set(by_id(result)) == {RUSSIA_TALIBAN, KAZAKHSTAN_TALIBAN, KYRGYZSTAN_TALIBAN}
    dump = by_id(import_paths([DUMP]))
    assert all(facts(dump[key]) == facts(lst) for key, lst in by_id(result).items())
    [source] = result.sources
    assert source.url == "https://www.wikidata.org/wiki/Special:EntityData/Q42418.json"
    assert source.key == "wikidata-q42418-2025-05-01"


def test_aliases_come_from_english_only_and_sorted() -> None:
    listing = by_id(import_paths([DUMP]))[US_ISIL]

    assert listing.entity.name == "Islamic State"
    assert listing.entity.aliases == ("Daesh", "ISIL", "ISIS")


@pytest.mark.parametrize("path", [RESULTS, DUMP, ENTITY], ids=["sparql", "dump", "entity"])
def test_every_evidence_string_is_text_of_the_file(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for listing in import_paths([path], retrieved=date(2025, 5, 1)).listings:
        assert listing.evidence
        for evidence in listing.evidence:
            assert 10 <= len(evidence) <= 4000
            assert evidence in text, evidence


def test_evidence_is_the_guid_then_the_raw_times() -> None:
    dumped = by_id(import_paths([DUMP]))[RUSSIA_TALIBAN]
    queried = by_id(import_paths([RESULTS]))[RUSSIA_TALIBAN]

    assert dumped.evidence == (RUSSIA_TALIBAN, "+2003-00-00T00:00:00Z", "+2025-04-17T00:00:00Z")
    assert queried.evidence[:2] == (
        "http://www.wikidata.org/entity/statement/Q42418-6A0B7F1E-3C52-4B8D-9E41-2F7D5C1A8B03",
        "http://www.wikidata.org/entity/Q159",
    )


# --- precision, unknown values, skipping ---------------------------------------------------------


@pytest.mark.parametrize("path", [RESULTS, DUMP], ids=["sparql", "dump"])
def test_dates_keep_their_precision(path: Path) -> None:
    listings = by_id(import_paths([path]))

    assert listings[RUSSIA_TALIBAN].start == DateValue("2003")  # precision 9
    assert listings[KAZAKHSTAN_TALIBAN].end == DateValue("2023-12")  # precision 10
    assert listings[US_ISIL].start == DateValue("2004-12-17")  # precision 11
    assert listings[US_ISIL].ended is False


@pytest.mark.parametrize("path", [RESULTS, DUMP], ids=["sparql", "dump"])
def test_a_date_coarser_than_a_year_is_left_out_and_reported(path: Path) -> None:
    result = import_paths([path])

    assert by_id(result)[RUSSIA_ISIL].start is None
    assert f"{RUSSIA_ISIL} P580: precision 8 (decade) is coarser than a year; date left out" in (
        result.skipped
    )


@pytest.mark.parametrize("path", [RESULTS, DUMP], ids=["sparql", "dump"])
def test_an_unknown_start_keeps_the_listing_without_a_start(path: Path) -> None:
    result = import_paths([path])
    listing = by_id(result)[KAZAKHSTAN_TALIBAN]

    assert listing.designator == "kazakhstan"
    assert listing.start is None
    assert listing.ended is True
    assert any(n.startswith(f"{KAZAKHSTAN_TALIBAN} P580: unknown value") for n in result.skipped)


@pytest.mark.parametrize("path", [RESULTS, DUMP], ids=["sparql", "dump"])
def test_unmapped_and_deprecated_statements_are_skipped_and_counted(path: Path) -> None:
    result = import_paths([path])
    not_imported = [note for note in result.skipped if note.endswith("not imported")]

    assert sorted(not_imported) == [
        f"{CHINA_TALIBAN}: deprecated rank; not imported",
        f"{UNMAPPED_TALIBAN}: designator Q90000950 has no DiploKG slug; not imported",
    ]
    assert "Q90000950" not in DESIGNATORS


def test_every_confirmed_state_has_a_slug() -> None:
    assert DESIGNATORS["Q159"] == "russia"
    assert DESIGNATORS["Q878"] == "united-arab-emirates"
    assert {"Q30", "Q232", "Q813", "Q265", "Q148", "Q843", "Q889", "Q145", "Q16"} <= set(
        DESIGNATORS
    )


def test_a_day_precision_time_at_hour_precision_keeps_the_day(tmp_path: Path) -> None:
    data = entity_data()
    qualifier = data["entities"]["Q42418"]["claims"]["P3461"][0]["qualifiers"]["P582"][0]
    qualifier["datavalue"]["value"]["precision"] = 12
    result = import_paths([write_json(tmp_path / "Q42418.json", data)], retrieved=date(2025, 5, 1))

    assert by_id(result)[RUSSIA_TALIBAN].end == DateValue("2025-04-17")


# --- files: versions, compression, several files -------------------------------------------------


def test_a_dump_takes_its_version_and_url_from_its_name() -> None:
    [source] = import_paths([DUMP]).sources

    assert source.version == source.retrieved == date(2025, 4, 21)
    assert source.url == (
        "https://dumps.wikimedia.org/wikidatawiki/entities/20250421/wikidata-20250421-all.json"
    )
    assert source.sha256 == hashlib.sha256(DUMP.read_bytes()).hexdigest()
    assert source.license == "http://creativecommons.org/publicdomain/zero/1.0/"


@pytest.mark.parametrize("suffix,compress", [(".gz", gzip.compress), (".bz2", bz2.compress)])
def test_a_compressed_dump_is_read_through(tmp_path: Path, suffix: str, compress: Any) -> None:
    packed = tmp_path / f"latest-all.json{suffix}"
    packed.write_bytes(compress(DUMP.read_bytes()))
    result = import_paths([packed], retrieved=date(2025, 4, 22))

    assert {facts(x) for x in result.listings} == {facts(x) for x in import_paths([DUMP]).listings}
    [source] = result.sources
    assert source.sha256 == hashlib.sha256(packed.read_bytes()).hexdigest()
    assert (
        source.url == f"https://dumps.wikimedia.org/wikidatawiki/entities/latest-all.json{suffix}"
    )
    assert source.version == date(2025, 4, 22)


def test_a_file_without_a_date_needs_the_retrieval_date() -> None:
    with pytest.raises(ListFileError, match=r"--retrieved"):
        import_paths([ENTITY])


def test_the_same_statement_in_two_files_is_one_listing_from_both() -> None:
    result = import_paths([DUMP, RESULTS])

    assert len(result.listings) == len(IMPORTED)
    listing = by_id(result)[RUSSIA_TALIBAN]
    assert [s.key for s in listing.sources] == [
        "wikidata-dump-2025-04-21",
        "wikidata-p3461-2025-05-01",
    ]


def test_a_later_file_that_says_otherwise_wins_alone(tmp_path: Path) -> None:
    data = entity_data()
    del data["entities"]["Q42418"]["claims"]["P3461"][0]["qualifiers"]["P582"]
    later = write_json(tmp_path / "Q42418-2025-06-01.json", data)
    listing = by_id(import_paths([DUMP, later]))[RUSSIA_TALIBAN]

    assert listing.ended is False
    assert [s.key for s in listing.sources] == ["wikidata-q42418-2025-06-01"]


# --- broken input --------------------------------------------------------------------------------


def test_a_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "list-2025-05-01.csv"
    path.write_text("name,designated\nTaliban,2003\n", encoding="utf-8")

    with pytest.raises(ListFileError, match="not JSON") as caught:
        import_paths([path])
    assert caught.value.path == str(path)


@pytest.mark.parametrize(
    "document", [{"data": []}, [1, 2], {"head": {"vars": ["x"]}, "results": {"bindings": []}}]
)
def test_json_of_another_shape_is_refused(tmp_path: Path, document: Any) -> None:
    path = write_json(tmp_path / "other-2025-05-01.json", document)

    with pytest.raises(ListFileError) as caught:
        import_paths([path])
    assert caught.value.location in ("/", "/head/vars")


def test_a_claim_without_datavalue_is_refused_at_its_pointer(tmp_path: Path) -> None:
    data = entity_data()
    del data["entities"]["Q42418"]["claims"]["P3461"][1]["mainsnak"]["datavalue"]
    path = write_json(tmp_path / "Q42418.json", data)

    with pytest.raises(ListFileError, match="datavalue") as caught:
        import_paths([path], retrieved=date(2025, 5, 1))
    assert caught.value.location == "/entities/Q42418/claims/P3461/1/mainsnak"


def test_a_bad_time_in_entity_data_is_refused_at_its_pointer(tmp_path: Path) -> None:
    data = entity_data()
    qualifier = data["entities"]["Q42418"]["claims"]["P3461"][0]["qualifiers"]["P580"][0]
    qualifier["datavalue"]["value"]["time"] = "14 February 2003"
    path = write_json(tmp_path / "Q42418.json", data)

    with pytest.raises(ListFileError, match="not a Wikidata time: '14 February 2003'") as caught:
        import_paths([path], retrieved=date(2025, 5, 1))
    assert caught.value.location == (
        "/entities/Q42418/claims/P3461/0/qualifiers/P580/0/datavalue/value/time"
    )


def test_a_day_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    data = entity_data()
    qualifier = data["entities"]["Q42418"]["claims"]["P3461"][0]["qualifiers"]["P582"][0]
    qualifier["datavalue"]["value"]["time"] = "+2025-04-00T00:00:00Z"
    path = write_json(tmp_path / "Q42418.json", data)

    with pytest.raises(ListFileError, match="is not a day"):
        import_paths([path], retrieved=date(2025, 5, 1))


def test_a_bad_time_in_the_dump_is_refused_with_its_line(tmp_path: Path) -> None:
    lines = DUMP.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("+2004-12-17T00:00:00Z", "+2004-13-XXT00:00:00Z")
    path = tmp_path / DUMP.name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with pytest.raises(ListFileError) as caught:
        import_paths([path])
    assert caught.value.location == (
        "line 4: /claims/P3461/0/qualifiers/P580/0/datavalue/value/time"
    )


def test_a_bad_time_in_query_results_is_refused_at_its_pointer(tmp_path: Path) -> None:
    document = json.loads(RESULTS.read_text(encoding="utf-8"))
    rows = document["results"]["bindings"]
    index = next(i for i, row in enumerate(rows) if "start" in row)
    rows[index]["start"]["value"] = "2003"
    path = write_json(tmp_path / RESULTS.name, document)

    with pytest.raises(ListFileError) as caught:
        import_paths([path])
    assert caught.value.location == f"/results/bindings/{index}/start/value"


def test_a_truncated_dump_is_refused(tmp_path: Path) -> None:
    lines = DUMP.read_text(encoding="utf-8").splitlines()
    path = tmp_path / DUMP.name
    path.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    with pytest.raises(ListFileError, match="no closing") as caught:
        import_paths([path])
    assert caught.value.location == "end of file"

    cut = lines[1][: lines[1].index('"P3461"') + 100]  # a line cut inside its P3461 claims
    path.write_text("\n".join([lines[0], cut, *lines[2:]]) + "\n", encoding="utf-8")
    with pytest.raises(ListFileError, match="not a JSON entity") as caught:
        import_paths([path])
    assert caught.value.location == "line 2"


def test_a_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "blob-2025-05-01.json"
    path.write_bytes(b"\xff\xfe\x00garbage\x80")

    with pytest.raises(ListFileError, match="not UTF-8"):
        import_paths([path])


def test_the_cli_fetches_from_the_endpoint_saves_the_file_and_imports_it(
    standin: StandIn, tmp_path: Path
) -> None:
    import shutil

    from typer.testing import CliRunner

    from api.cli import app
    from graph.layout import SOURCES_DIR

    sources = tmp_path / "sources"
    sources.mkdir()
    for name in ("entities.trig", "lists.trig"):
        shutil.copyfile(SOURCES_DIR / name, sources / name)
    saved = tmp_path / "saved"
    saved.mkdir()
    args = ["import", "wikidata", "--endpoint", standin.url, "--save-dir", str(saved)]
    result = CliRunner().invoke(app, [*args, "--sources", str(sources)])
    assert result.exit_code == 0, result.output
    assert len(list(saved.glob("wikidata-p3461-*.json"))) == 1
    text = (sources / "list-wikidata.trig").read_text(encoding="utf-8")
    assert "dk:designatingState res:russia" in text
    wrong = CliRunner().invoke(app, ["import", "canada", "--endpoint", standin.url])
    assert wrong.exit_code == 2 and "wikidata source only" in wrong.output
    nothing = CliRunner().invoke(app, ["import", "canada"])
    assert nothing.exit_code == 2 and "give the list files" in nothing.output
