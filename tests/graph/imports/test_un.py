"""The UN Security Council Consolidated List importer, on a trimmed real list (2024-09-26)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from graph.imports.model import DateValue, ListFileError, Listing
from graph.imports.result import ImportResult
from graph.imports.un import LISTS, UPSTREAM_URL, import_paths, listed_on, normalize_reference

FIXTURE = Path(__file__).parents[2] / "data" / "lists" / "un" / "consolidated.xml"


@pytest.fixture(scope="module")
def result() -> ImportResult:
    return import_paths([FIXTURE])


def by_id(result: ImportResult, entry_id: str) -> Listing:
    return next(listing for listing in result.listings if listing.entry_id == entry_id)


def test_imports_the_taliban_and_al_qaida_entities_only(result: ImportResult) -> None:
    assert sorted((listing.regime, listing.entry_id) for listing in result.listings) == [
        ("un-1988", "TAe.012"),
        ("un-1988", "TAe.014"),
        ("un-isil-al-qaida", "QDe.004"),
        ("un-isil-al-qaida", "QDe.132"),
        ("un-isil-al-qaida", "QDe.134"),
        ("un-isil-al-qaida", "QDe.161"),
    ]


def test_counts_individuals_and_other_regimes_as_skipped(result: ImportResult) -> None:
    assert result.skipped == [
        "consolidated.xml: 2 individuals (not organizations)",
        "consolidated.xml: 1 entities of the DPRK list (not a list imported)",
    ]


def test_reads_a_real_entry(result: ImportResult) -> None:
    haqqani = by_id(result, "TAe.012")
    assert haqqani.regime == "un-1988"
    assert haqqani.entity.name == "HAQQANI NETWORK (HQN)"
    assert haqqani.entity.aliases == ()  # the empty <ALIAS_NAME/> placeholder is no alias
    assert haqqani.listing_date == DateValue("2012-11-05")
    assert haqqani.evidence == (
        "<FIRST_NAME>HAQQANI NETWORK (HQN)</FIRST_NAME>",
        "<REFERENCE_NUMBER>TAe.012</REFERENCE_NUMBER>",
        "<LISTED_ON>2012-11-05</LISTED_ON>",
    )


def test_reads_aliases_in_order(result: ImportResult) -> None:
    al_qaida = by_id(result, "QDe.004")
    assert al_qaida.entity.name == "AL-QAIDA"
    assert al_qaida.listing_date == DateValue("2001-10-06")
    assert al_qaida.entity.aliases[:2] == ('"The Base"', "Al Qaeda")
    # an alias broken over two lines in the file reads as one line
    assert "The World Islamic Front for Jihad Against Jews and Crusaders" in al_qaida.entity.aliases


def test_listed_on_with_a_time_zone_offset_keeps_its_day(result: ImportResult) -> None:
    hawala = by_id(result, "TAe.014")
    assert hawala.listing_date == DateValue("2015-03-27")
    assert "<LISTED_ON>2015-03-27-04:00</LISTED_ON>" in hawala.evidence
    assert len(hawala.entity.aliases) == 7
    assert hawala.entity.aliases[-1] == "Haji Zar Jamil, Haji Abdul Baseer Money Changer"


def test_a_name_broken_over_lines_is_one_line_in_the_entity_and_verbatim_in_evidence(
    result: ImportResult,
) -> None:
    mujao = by_id(result, "QDe.134")
    assert (
        mujao.entity.name
        == "MOUVEMENT POUR L’UNIFICATION ET LE JIHAD EN AFRIQUE DE L’OUEST (MUJAO)"
    )
    assert mujao.evidence[0].startswith("<FIRST_NAME>MOUVEMENT POUR\n    ")


def test_every_evidence_string_is_in_the_file_and_long_enough(result: ImportResult) -> None:
    text = FIXTURE.read_text(encoding="utf-8")
    for listing in result.listings:
        assert len(listing.evidence) == 3
        for evidence in listing.evidence:
            assert evidence in text
            assert 10 <= len(evidence) <= 400


def test_describes_the_file(result: ImportResult) -> None:
    (source,) = result.sources
    assert source.url == UPSTREAM_URL
    assert source.version == date(2024, 9, 26)
    assert source.retrieved == date(2024, 9, 26)
    assert source.lists == LISTS == ("un-1988", "un-isil-al-qaida")
    assert source.key == "un-consolidated-2024-09-26"
    assert source.sha256 == "a1f730455f2883fa641c238ee8b1a07fdca5874d667a20ec4c61cb9f5aa95426"
    assert all(listing.sources == (source,) for listing in result.listings)


def test_retrieved_is_the_date_given() -> None:
    (source,) = import_paths([FIXTURE], retrieved=date(2024, 10, 1)).sources
    assert source.retrieved == date(2024, 10, 1)
    assert source.version == date(2024, 9, 26)


def test_the_same_entries_in_two_versions_are_one_listing_each(tmp_path: Path) -> None:
    older = tmp_path / "consolidated-2024-09-21.xml"
    older.write_bytes(
        FIXTURE.read_bytes().replace(b"dateGenerated='2024-09-26", b"dateGenerated='2024-09-21")
    )
    result = import_paths([older, FIXTURE])
    assert len(result.listings) == 6
    assert [s.version for s in by_id(result, "QDe.161").sources] == [
        date(2024, 9, 21),
        date(2024, 9, 26),
    ]


def test_whitespace_in_a_reference_number_is_dropped(tmp_path: Path) -> None:
    assert normalize_reference(" QDe.132 \n") == "QDe.132"
    path = tmp_path / "consolidated.xml"
    path.write_bytes(FIXTURE.read_bytes().replace(b">QDe.132<", b">QDe.132 <"))
    assert "QDe.132" in {listing.entry_id for listing in import_paths([path]).listings}


def test_listed_on_forms() -> None:
    assert listed_on("2001-10-06") == DateValue("2001-10-06")
    assert listed_on(" 2015-03-27-04:00 ") == DateValue("2015-03-27")
    assert listed_on("2015-03-27Z") == DateValue("2015-03-27")
    with pytest.raises(ValueError):
        listed_on("27/03/2015")


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "consolidated.xml"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_an_html_page_saved_instead_is_refused(tmp_path: Path) -> None:
    page = "<!DOCTYPE html>\n<html><head><title>Security Council</title></head><body></body></html>"
    with pytest.raises(ListFileError, match=r"DOCTYPE html.*HTML page") as caught:
        import_paths([write(tmp_path, page)])
    assert caught.value.location is not None and caught.value.location.startswith("line 1,")


def test_a_truncated_file_names_line_and_column(tmp_path: Path) -> None:
    data = FIXTURE.read_bytes()
    cut = data[: data.index(b"<REFERENCE_NUMBER>QDe.132") + 10]
    with pytest.raises(ListFileError, match="not well-formed XML") as caught:
        import_paths([write(tmp_path, cut)])
    assert caught.value.location is not None and caught.value.location.startswith("line 316,")


def test_xml_of_another_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(
        ListFileError, match="root element is <EXPORT>, expected <CONSOLIDATED_LIST>"
    ):
        import_paths([write(tmp_path, "<?xml version='1.0'?>\n<EXPORT><ENTITY/></EXPORT>")])


def test_an_entity_without_a_reference_number_is_refused(tmp_path: Path) -> None:
    data = FIXTURE.read_bytes().replace(
        b"<REFERENCE_NUMBER>TAe.014</REFERENCE_NUMBER>", b"<REFERENCE_NUMBER/>"
    )
    with pytest.raises(ListFileError, match="entity without REFERENCE_NUMBER") as caught:
        import_paths([write(tmp_path, data)])
    assert caught.value.location == "line 154, column 9: ENTITY/REFERENCE_NUMBER"


def test_a_malformed_listed_on_is_refused(tmp_path: Path) -> None:
    data = FIXTURE.read_bytes().replace(
        b"<LISTED_ON>2012-11-05</LISTED_ON>", b"<LISTED_ON>5 Nov 2012</LISTED_ON>"
    )
    with pytest.raises(ListFileError, match="not a date: '5 Nov 2012'") as caught:
        import_paths([write(tmp_path, data)])
    assert caught.value.location == "line 129, column 13: ENTITY/LISTED_ON"


def test_a_list_without_its_date_is_refused(tmp_path: Path) -> None:
    data = FIXTURE.read_bytes().replace(b" dateGenerated='2024-09-26T00:00:07.514Z'", b"")
    with pytest.raises(ListFileError, match="no dateGenerated"):
        import_paths([write(tmp_path, data)])


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ListFileError, match="not well-formed XML"):
        import_paths([write(tmp_path, b"")])
