"""Tests of the UK Schedule 2 / proscription Orders importer on text from legislation.gov.uk."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from graph.imports.model import DateValue, ListFileError, Listing
from graph.imports.uk import clean_entry, fold, import_paths, split_name

DATA = Path(__file__).parents[2] / "data" / "lists" / "uk"
RETRIEVED = date(2025, 1, 1)
ALL = sorted(p for p in DATA.iterdir() if p.suffix in (".xml", ".html"))


def _by_id(paths: list[Path]) -> dict[str, Listing]:
    return {item.entry_id: item for item in import_paths(paths, retrieved=RETRIEVED).listings}


def test_order_2017_adds_four_organisations_in_force_the_day_after_it_was_made() -> None:
    listings = _by_id([DATA / "uksi-2017-1325.xml"])
    added = [item for item in listings.values() if not item.ended]
    assert [item.entity.name for item in added] == [
        "al-Ashtar Brigades",
        "al-Mukhtar Brigades",
        "Hasam",
        "Liwa al-Thawra",
    ]
    hasam = listings["hasam"]
    assert hasam.start == DateValue("2017-12-22")
    assert hasam.started_by is not None
    assert hasam.started_by.key == "uksi-2017-1325"
    assert hasam.started_by.made == DateValue("2017-12-21")
    assert hasam.started_by.in_force == DateValue("2017-12-22")
    assert hasam.started_by.url == "https://www.legislation.gov.uk/uksi/2017/1325/made"
    assert hasam.entity.aliases == ("Harakat Sawa’d Misr", "Harakat Hasm", "Hasm")
    assert hasam.evidence[-1] == "Hasam (Harakat Sawa’d Misr) (Harakat Hasm) (Hasm)"
    assert "after the entry for National Action, insert the following entries—" in hasam.evidence[0]


def test_order_2017_deproscribes_hezb_e_islami_gulbuddin() -> None:
    hig = _by_id([DATA / "uksi-2017-1325.xml"])["hezb-e-islami-gulbuddin"]
    assert hig.ended and hig.end_kind == "deproscription"
    assert hig.end == DateValue("2017-12-22")
    assert hig.ended_by is not None and hig.ended_by.key == "uksi-2017-1325"
    assert hig.evidence == (
        "In Schedule 2 to the Act (proscribed organisations), omit “Hezb-e Islami Gulbuddin”.",
    )
    assert [s.name for s in hig.end_sources] == ["uksi-2017-1325.xml"]


def test_order_2014_adds_isil_with_its_aliases_but_no_date_when_the_made_date_is_missing() -> None:
    result = import_paths([DATA / "uksi-2014-1624.xml"], retrieved=RETRIEVED)
    isil = {item.entry_id: item for item in result.listings}["islamic-state-of-iraq-and-the-levant"]
    assert isil.entity.aliases == (
        "Islamic State of Iraq and al-Sham",
        "Dawat al Islamiya fi Iraq wa al Sham (DAISh)",
    )
    assert isil.start is None and isil.started_by is None
    assert any("uksi-2014-1624: no made date" in note for note in result.skipped)
    names = [item.entity.name for item in result.listings]
    assert "Turkiye Halk Kurtulus Partisi-Cephesi" in names
    assert "Popular Front for the Liberation of Palestine – General Command" in names


def test_explicit_coming_into_force_date_is_used() -> None:
    wagner = _by_id([DATA / "uksi-2023-1003.xml"])["wagner-group"]
    assert wagner.start == DateValue("2023-09-15")
    assert wagner.started_by is not None and wagner.started_by.made == DateValue("2023-09-14")


def test_html_order_2002_adds_four_and_ignores_the_note_article() -> None:
    listings = _by_id([DATA / "uksi-2002-2724.html"])
    assert sorted(listings) == [
        "abu-sayyaf-group",
        "asbat-al-ansar",
        "islamic-movement-of-uzbekistan",
        "jemaah-islamiyah",
    ]
    ji = listings["jemaah-islamiyah"]
    assert ji.entity.name == "Jemaah Islamiyah"
    assert ji.evidence[-1] == "Jemaah Islamiyah."
    assert ji.start == DateValue("2002-11-01")


def test_schedule_2_page_lists_entries_with_aliases_and_verbatim_evidence() -> None:
    result = import_paths([DATA / "schedule-2-latest-view-plain.html"], retrieved=RETRIEVED)
    listings = {item.entry_id: item for item in result.listings}
    assert len(listings) == 46
    assert listings["the-irish-republican-army"].evidence == ("The Irish Republican Army.",)
    alqaida = listings["al-qa-ida"]
    assert alqaida.entity.name == "Al-Qa’ida"
    assert alqaida.evidence == ("[F1Al-Qa’ida",)
    assert alqaida.started_no_later_than == RETRIEVED
    pkk = listings["kurdistan-workers-party"]
    assert pkk.entity.aliases == ("Partiya Karkeren Kurdistani", "PKK")
    assert listings["harakat-al-muqawama-al-islamiyya"].entity.aliases == ("Hamas",)
    assert "harakat-ul-jihad-ul-islami-bangladesh" in listings
    assert listings["harakat-ul-jihad-ul-islami"].entity.name == "Harakat-ul-Jihad-ul-Islami"
    assert not any(
        item.entity.name.startswith("F") and "..." in item.entity.name for item in result.listings
    )


def test_point_in_time_date_gives_started_no_later_than(tmp_path: Path) -> None:
    page = tmp_path / "schedule-2-2016-07-15.html"
    page.write_text(
        "<html><body><p>Terrorism Act 2000</p><p>Point in time view as at 15/07/2016.</p>"
        "<h2>SCHEDULE 2U.K. Proscribed Organisations</h2>"
        "<p>The Irish Republican Army.</p><p>Textual Amendments</p>"
        "<p>Hamas-Izz al-Din al-Qassem Brigades</p><p>F4 . . . . . . . . .</p></body></html>",
        encoding="utf-8",
    )
    listings = _by_id([page])
    assert sorted(listings) == ["hamas-izz-al-din-al-qassem-brigades", "the-irish-republican-army"]
    assert listings["the-irish-republican-army"].started_no_later_than == date(2016, 7, 15)


def test_merging_keeps_order_dates_and_schedule_evidence_and_records_renaming() -> None:
    result = import_paths(ALL, retrieved=RETRIEVED)
    listings = {item.entry_id: item for item in result.listings}
    abu = listings["abu-sayyaf-group"]
    assert abu.start == DateValue("2002-11-01")
    assert abu.started_no_later_than == RETRIEVED
    assert abu.evidence[-1] == "[F7Abu Sayyaf Group"
    assert {s.name for s in abu.sources} == {
        "uksi-2002-2724.html",
        "schedule-2-latest-view-plain.html",
    }
    hizballah = [item for item in result.listings if "Hizballah" in item.entity.aliases]
    assert len(hizballah) == 1
    assert hizballah[0].entity.name.startswith("The military wing of Hizballah")
    assert hizballah[0].evidence[-1] == "[F3Hizballah (Party of God)]."
    assert any("renamed" in note for note in result.skipped)
    isyf = listings["international-sikh-youth-federation"]
    assert isyf.ended and isyf.end == DateValue("2016-03-18")
    assert len({item.entry_id for item in result.listings}) == len(result.listings)
    assert {s.key for s in result.sources} >= {"uk-uksi-2017-1325", "uk-schedule-2-2025-01-01"}


def test_text_helpers_fold_quotes_only_for_matching() -> None:
    assert fold("Wa’ad – Allah") == fold("Wa'ad - Allah")
    assert clean_entry("“Popular Front – General Command.”") == "Popular Front – General Command"
    assert split_name(
        "Global Islamic Media Front (including GIMF Bangla Team (Ansarullah Bangla Team))"
    ) == (
        "Global Islamic Media Front",
        (),
    )


@pytest.mark.parametrize(
    ("content", "message", "location"),
    [
        (b"", "the file is empty", "byte 0"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "a binary file", "byte 8"),
        (
            b"<Legislation xmlns='http://www.legislation.gov.uk/namespaces/legislation'><Primary>",
            "malformed XML",
            "line 1",
        ),
        (b"<?xml version='1.0'?><rss><channel/></rss>", "not a CLML document", "/rss"),
    ],
)
def test_broken_files_raise_list_file_error(
    tmp_path: Path, content: bytes, message: str, location: str
) -> None:
    path = tmp_path / "broken.xml"
    path.write_bytes(content)
    with pytest.raises(ListFileError) as caught:
        import_paths([path], retrieved=RETRIEVED)
    assert message in caught.value.message
    assert caught.value.location is not None and caught.value.location.startswith(location)


def test_another_acts_clml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.xml"
    path.write_text(
        "<Legislation xmlns='http://www.legislation.gov.uk/namespaces/legislation'"
        " xmlns:dc='http://purl.org/dc/elements/1.1/'><Metadata><dc:title>Health and Safety"
        " (Fees) Regulations 2012</dc:title></Metadata><Secondary><Body><P1><P1para><Text>These"
        " Regulations may be cited as the Health and Safety (Fees) Regulations 2012.</Text></P1para>"
        "</P1></Body></Secondary></Legislation>",
        encoding="utf-8",
    )
    with pytest.raises(ListFileError, match="neither Schedule 2") as caught:
        import_paths([path], retrieved=RETRIEVED)
    assert caught.value.location == "/Legislation/Secondary[1]/Body[1]/P1[1]/P1para[1]/Text[1]"


def test_html_page_without_a_schedule_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text("<html><body><h1>Terrorism Act 2000</h1>\n<p>Section 3.</p></body></html>")
    with pytest.raises(ListFileError, match="neither Schedule 2") as caught:
        import_paths([path], retrieved=RETRIEVED)
    assert caught.value.location == "line 1"


def test_order_without_articles_is_refused(tmp_path: Path) -> None:
    text = (DATA / "uksi-2023-1003.xml").read_text(encoding="utf-8")
    start, end = text.index("<Body>"), text.index("</Body>")
    path = tmp_path / "uksi-2023-1003.xml"
    path.write_text(text[:start] + "<Body/>" + text[end + len("</Body>") :], encoding="utf-8")
    with pytest.raises(ListFileError, match="no article adding, omitting or renaming") as caught:
        import_paths([path], retrieved=RETRIEVED)
    assert caught.value.location is not None and caught.value.location.startswith("/Legislation")
