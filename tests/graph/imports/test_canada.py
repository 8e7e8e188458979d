"""Canada's listed terrorist entities importer, on a trimmed real MISP galaxy copy and an Atom feed built from it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from graph.imports.canada import (
    FEED_URL,
    galaxy_copy,
    import_paths,
    parse_aliases,
    parse_date,
)
from graph.imports.model import DateValue, ListFileError, Listing
from graph.imports.result import ImportResult

FIXTURES = Path(__file__).parents[2] / "data" / "lists" / "canada"
GALAXY = FIXTURES / "terrorist-groups.json"
FEED = FIXTURES / "lstd-ntts-eng.xml"
COMMIT = "9434ace4eb925c9a1c9b3bccf014a25f9d14f0b0"


@pytest.fixture(scope="module")
def galaxy() -> ImportResult:
    return import_paths([GALAXY])


@pytest.fixture(scope="module")
def feed() -> ImportResult:
    return import_paths([FEED])


def by_id(result: ImportResult, entry_id: str) -> Listing:
    return next(listing for listing in result.listings if listing.entry_id == entry_id)


def test_reads_every_organization_of_the_galaxy_file(galaxy: ImportResult) -> None:
    assert len(galaxy.listings) == 14
    assert {listing.regime for listing in galaxy.listings} == {"ca-criminal-code"}


def test_reads_the_taliban(galaxy: ImportResult) -> None:
    taliban = by_id(galaxy, "53")
    assert taliban.entity.name == "Taliban"
    assert taliban.listing_date == DateValue("2013-05-09")
    assert taliban.entity.aliases == (
        "Afghan Taliban",
        "Movement of Islamic Students",
        "Taleban",
        "Islamic Movement of the Taliban (De Talebano Islami Ghurdzang or Tehrik)",
        "the Islamic Emirate of Afghanistan (De Afghanistan Islami Emarat)",
    )
    assert taliban.evidence == ('"title": "Taliban"', '"published": "2013-05-09"')


@pytest.mark.parametrize(
    ("entry_id", "name", "listed"),
    [
        (
            "25",
            "Hamas (Harakat Al-Muqawama Al-Islamiya) (Islamic Resistance Movement)",
            "2002-11-27",
        ),
        ("30", "Hizballah", "2002-12-10"),
        ("26", "Haqqani Network", "2013-05-09"),
        ("54", "Tehrik-e-Taliban Pakistan (TTP)", "2011-07-05"),
        ("36", "Islamic State", "2012-08-20"),
        ("37", "Islamic State Khorasan Province", "2018-05-23"),
        ("2025-121", "764", "2025-12-08"),
        ("2025-02-20-2", "Cártel de Sinaloa", "2025-02-20"),
    ],
)
def test_reads_real_names_ids_and_listing_dates(
    galaxy: ImportResult, entry_id: str, name: str, listed: str
) -> None:
    listing = by_id(galaxy, entry_id)
    assert listing.entity.name == name
    assert listing.listing_date == DateValue(listed)


def test_a_summary_of_n_a_gives_no_aliases(galaxy: ImportResult) -> None:
    assert by_id(galaxy, "25").entity.aliases == ()
    assert by_id(galaxy, "26").entity.aliases == ()


def test_aliases_separated_by_semicolons_and_a_final_and(galaxy: ImportResult) -> None:
    aliases = by_id(galaxy, "1").entity.aliases
    assert aliases[0] == "The Abdullah Azzam Brigades"
    assert aliases[-1] == "the Marwan Hadid Brigades"
    assert len(aliases) == 9
    assert by_id(galaxy, "2025-123").entity.aliases == (
        "Maniacs: Cult of Killing",
        "Manyaki",
        "Kult Ubiystva",
        "MKY",
        "M.K.Y.",
        "MKU",
    )


def test_aliases_are_verbatim_pieces_of_the_summary(galaxy: ImportResult) -> None:
    summaries = {
        value["meta"]["id"]: value["meta"]["summary"]
        for value in json.loads(GALAXY.read_text(encoding="utf-8"))["values"]
    }
    for listing in galaxy.listings:
        for alias in listing.entity.aliases:
            assert alias in summaries[listing.entry_id]


def test_parse_aliases_rules() -> None:
    assert parse_aliases("N/A") == ()
    assert parse_aliases("") == ()
    assert parse_aliases("Islamic Group, (IG).") == ("Islamic Group", "IG")
    assert parse_aliases("Imarat Kavkaz and Islamic Emirate of the Caucasus") == (
        "Imarat Kavkaz",
        "Islamic Emirate of the Caucasus",
    )
    # "and" inside a name in the middle of the list is kept; a last piece with several stays whole
    assert parse_aliases(
        "Basque Homeland and Liberty, Euzkadi Ta Azkatasuna, Basque Fatherland and Liberty and Basque Homeland and Freedom."
    ) == (
        "Basque Homeland and Liberty",
        "Euzkadi Ta Azkatasuna",
        "Basque Fatherland and Liberty and Basque Homeland and Freedom",
    )
    # commas inside parentheses do not separate
    assert parse_aliases("Jaish-i-Mohammed (Mohammad, Muhammad, Muhammed), Army of Mohammed") == (
        "Jaish-i-Mohammed (Mohammad, Muhammad, Muhammed)",
        "Army of Mohammed",
    )
    assert parse_aliases("Pasdaran (Guardians), Sepah, and Sepah-e-Pasdaran Enghelab Islami") == (
        "Pasdaran (Guardians)",
        "Sepah",
        "Sepah-e-Pasdaran Enghelab Islami",
    )


def test_a_person_on_the_list_is_skipped(galaxy: ImportResult) -> None:
    assert "23" not in {listing.entry_id for listing in galaxy.listings}
    assert galaxy.skipped == ["terrorist-groups.json: 23 'Gulbuddin Hekmatyar' (a person)"]


def test_every_evidence_string_is_in_the_file_and_long_enough(
    galaxy: ImportResult, feed: ImportResult
) -> None:
    for result, path in ((galaxy, GALAXY), (feed, FEED)):
        text = path.read_text(encoding="utf-8")
        for listing in result.listings:
            assert len(listing.evidence) == 2
            for evidence in listing.evidence:
                assert evidence in text
                assert 10 <= len(evidence) <= 400


def test_describes_the_galaxy_file(galaxy: ImportResult) -> None:
    (source,) = galaxy.sources
    assert source.url == FEED_URL
    assert source.name == "terrorist-groups.json"
    assert source.version == date(2025, 12, 8)  # the newest published/updated date
    assert source.retrieved == date(2025, 12, 8)
    assert source.lists == ("ca-criminal-code",)
    assert source.copy is None
    assert source.sha256 == "167c6661094eabbb417f3865142bb95671777da2c050293a6831f7d99f1e649b"


def test_the_caller_gives_the_copy_and_its_commit_date() -> None:
    (source,) = import_paths(
        [GALAXY], copy=galaxy_copy(COMMIT), version=date(2026, 8, 6), retrieved=date(2026, 8, 7)
    ).sources
    assert source.copy == f"github:MISP/misp-galaxy@{COMMIT}:clusters/terrorist-groups.json"
    assert source.version == date(2026, 8, 6)
    assert source.retrieved == date(2026, 8, 7)
    assert source.key == "ca-listed-entities-2026-08-06"


def test_the_feed_and_the_galaxy_give_the_same_listings(
    galaxy: ImportResult, feed: ImportResult
) -> None:
    def facts(result: ImportResult) -> list[tuple[object, ...]]:
        return [(x.regime, x.entry_id, x.entity, x.listing_date) for x in result.listings]

    assert facts(feed) == facts(galaxy)
    assert feed.skipped == ["lstd-ntts-eng.xml: 23 'Gulbuddin Hekmatyar' (a person)"]
    assert feed.sources[0].version == galaxy.sources[0].version
    assert by_id(feed, "53").evidence == (
        "<title>Taliban</title>",
        "<published>2013-05-09</published>",
    )


def test_both_files_attest_one_listing_each(galaxy: ImportResult) -> None:
    both = import_paths([GALAXY, FEED])
    assert len(both.listings) == 14
    taliban = by_id(both, "53")
    assert [s.name for s in taliban.sources] == ["terrorist-groups.json", "lstd-ntts-eng.xml"]
    assert len(taliban.evidence) == 4


def test_parse_date_keeps_the_precision_given() -> None:
    assert parse_date("2025-12-08") == DateValue("2025-12-08")
    assert parse_date("2025-12") == DateValue("2025-12")
    assert parse_date("2025-12-08T00:00:00Z") == DateValue("2025-12-08")
    for bad in ("Not yet reviewed", "2025-13-01", "08/12/2025"):
        with pytest.raises(ValueError):
            parse_date(bad)


# --- broken input ------------------------------------------------------------------------


def galaxy_with(tmp_path: Path, change: Callable[[dict[str, Any]], object]) -> Path:
    cluster = json.loads(GALAXY.read_text(encoding="utf-8"))
    change(cluster)
    path = tmp_path / "terrorist-groups.json"
    path.write_text(json.dumps(cluster, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def test_a_file_neither_json_nor_xml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("id,title\n53,Taliban\n", encoding="utf-8")
    with pytest.raises(ListFileError, match="neither JSON"):
        import_paths([path])


def test_broken_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "terrorist-groups.json"
    path.write_bytes(GALAXY.read_bytes()[:5000])
    with pytest.raises(ListFileError, match="not JSON") as caught:
        import_paths([path])
    assert caught.value.location is not None and caught.value.location.startswith("line ")


def test_another_galaxy_cluster_is_refused(tmp_path: Path) -> None:
    def other(cluster: dict[str, Any]) -> None:
        cluster["type"] = "threat-actor"
        cluster["uuid"] = "7cdff317-a673-4474-84ec-4f1754947823"

    with pytest.raises(ListFileError, match="type 'threat-actor'") as caught:
        import_paths([galaxy_with(tmp_path, other)])
    assert caught.value.location == "/type"


def test_an_entry_without_id_names_its_pointer(tmp_path: Path) -> None:
    path = galaxy_with(tmp_path, lambda c: c["values"][3]["meta"].pop("id"))
    with pytest.raises(ListFileError, match="entry without id") as caught:
        import_paths([path])
    assert caught.value.location == "/values/3/meta/id"


def test_an_entry_without_published_names_its_pointer(tmp_path: Path) -> None:
    path = galaxy_with(tmp_path, lambda c: c["values"][3]["meta"].pop("published"))
    with pytest.raises(ListFileError, match="entry without published") as caught:
        import_paths([path])
    assert caught.value.location == "/values/3/meta/published"


def test_a_malformed_date_names_its_pointer(tmp_path: Path) -> None:
    path = galaxy_with(tmp_path, lambda c: c["values"][3]["meta"].update(published="2003-02-30"))
    with pytest.raises(ListFileError, match="not a date: '2003-02-30'") as caught:
        import_paths([path])
    assert caught.value.location == "/values/3/meta/published"
    assert str(caught.value).endswith(
        "terrorist-groups.json: /values/3/meta/published: not a date: '2003-02-30'"
    )


def test_a_feed_without_entries_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lstd-ntts-eng.xml"
    path.write_text(
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>', encoding="utf-8"
    )
    with pytest.raises(ListFileError, match="has no entries"):
        import_paths([path])


def test_xml_of_another_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lstd-ntts-eng.xml"
    path.write_text("<rss version='2.0'><channel/></rss>", encoding="utf-8")
    with pytest.raises(
        ListFileError,
        match=r"root element is <rss>, expected <\{http://www.w3.org/2005/Atom\}feed>",
    ):
        import_paths([path])


def test_a_feed_entry_without_published_names_it(tmp_path: Path) -> None:
    text = FEED.read_text(encoding="utf-8").replace("<published>2002-07-23</published>", "", 1)
    path = tmp_path / "lstd-ntts-eng.xml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ListFileError, match="entry without published") as caught:
        import_paths([path])
    assert caught.value.location is not None
    assert caught.value.location.startswith("/feed/entry[3]/published (line ")


def test_a_truncated_feed_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "lstd-ntts-eng.xml"
    path.write_bytes(FEED.read_bytes()[:3000])
    with pytest.raises(ListFileError, match="not well-formed XML") as caught:
        import_paths([path])
    assert caught.value.location is not None and caught.value.location.startswith("line ")
