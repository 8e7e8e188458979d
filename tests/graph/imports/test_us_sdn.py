"""Tests of the OFAC SDN importer (graph/imports/us_sdn.py) on trimmed real versions of sdn.csv."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from graph.imports.model import ListFileError, Listing
from graph.imports.us_sdn import (
    UPSTREAM_URL,
    Version,
    import_paths,
    listings_from_history,
    listings_from_version,
    load_history,
    read_history,
    read_version,
)

DATA = Path(__file__).parents[2] / "data" / "lists" / "us-sdn" / "versions"
DAYS = ["2021-08-18", "2021-11-23", "2021-12-02", "2022-05-19", "2022-05-20", "2024-05-03"]
# The commit times of the originals (see the fixture README).
TIMES = ["09:39:01", "18:48:26", "18:50:23", "18:56:39", "18:52:38", "18:43:23"]
LATEST = DATA / "sdn-2024-05-03.csv"


def _version(day: str = "2024-05-03") -> Version:
    d = date.fromisoformat(day)
    return read_version(DATA / f"sdn-{day}.csv", version=d, retrieved=d)


def _by(listings: list[Listing], ent_num: str, regime: str, span: int = 1) -> Listing:
    [found] = [x for x in listings if (x.entry_id, x.regime, x.span) == (ent_num, regime, span)]
    return found


def _copy_versions(tmp_path: Path, days: list[str] = DAYS) -> Path:
    d = tmp_path / "versions"
    d.mkdir()
    for day in days:
        shutil.copy(DATA / f"sdn-{day}.csv", d)
    return d


def _drop_record(path: Path, ent_num: str) -> None:
    data = path.read_bytes()
    lines = [x for x in data.split(b"\r\n") if not x.startswith(ent_num.encode() + b",")]
    path.write_bytes(b"\r\n".join(lines))


# --- one version ----------------------------------------------------------------------------


def test_real_entities_are_read_with_names_programs_and_aliases() -> None:
    v = _version()
    by_num = {e.ent_num: e for e in v.entities}
    assert by_num["6636"].name == "TALIBAN"
    assert by_num["6636"].programs == {"us-sdgt"}
    assert by_num["12206"].name == "TEHRIK-E TALIBAN PAKISTAN (TTP)"
    assert by_num["15484"].name == "HAQQANI NETWORK"
    assert by_num["15484"].aliases == ("HQN",)
    assert by_num["4695"].name == "HAMAS"
    assert by_num["18647"].name == "ISIL KHORASAN"
    assert by_num["18647"].programs == {"us-fto", "us-sdgt"}
    assert by_num["4697"].aliases[:3] == ("LH", "FOREIGN RELATIONS DEPARTMENT", "FRD")


def test_source_file_names_the_version_and_its_digest() -> None:
    v = _version()
    assert v.source.key == "us-sdn-2024-05-03"
    assert v.source.url == UPSTREAM_URL
    assert v.source.sha256 == hashlib.sha256(LATEST.read_bytes()).hexdigest()
    assert v.source.lists == ("us-fto", "us-sdgt")
    assert v.source.label == "OFAC SDN list (sdn.csv), version of 2024-05-03"
    assert v.records == 70
    assert v.encoding == "utf-8"


def test_individuals_vessels_aircraft_and_other_programmes_are_left_out() -> None:
    nums = {e.ent_num for e in _version().entities}
    assert not nums & {"2679", "2686"}  # SDGT individuals (Fadlallah, Nasrallah)
    assert "15055" not in nums  # the vessel HAPPINESS I (IRAN] [SDGT)
    assert "15431" not in nums  # the aircraft EP-GOM (SDGT)
    assert "36" not in nums  # AEROCARIBBEAN AIRLINES (CUBA)
    assert len(nums) == 22


def test_multi_program_cells_keep_only_fto_and_sdgt() -> None:
    by_num = {e.ent_num: e for e in _version().entities}
    assert by_num["4697"].programs == {"us-fto", "us-sdgt"}  # "FTO] [SDGT] [SYRIA"
    assert by_num["12727"].programs == {"us-fto", "us-sdgt"}  # "FTO] [SDGT] [IRGC] [IFSR]..."
    assert by_num["26719"].programs == {"us-fto"}  # IRGC GROUND FORCES: FTO alone
    assert by_num["4691"].programs == {"us-sdgt"}  # AUM SHINRIKYO, FTO revoked in 2022


def test_empty_remarks_give_no_aliases_and_aliases_stay_verbatim() -> None:
    by_num = {e.ent_num: e for e in _version().entities}
    assert by_num["4695"].aliases == ()  # Remarks "-0- "
    assert "KATIBAT ABU FATHEL AL A'ABAS" in by_num["11462"].aliases  # an apostrophe inside
    assert "NATIONAL MOBILIZATION ORGANIZATION" in by_num["12727"].aliases  # an f.k.a.
    assert by_num["6853"].aliases == ("RIRA", "REAL IRA", "NEW IRA", "NIRA")


def test_evidence_is_the_record_as_the_file_has_it() -> None:
    by_num = {e.ent_num: e for e in _version().entities}
    row = by_num["15484"].row
    assert row == (
        '15484,"HAQQANI NETWORK",-0- ,"FTO] [SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
        "\"a.k.a. 'HQN'.\""
    )
    assert row.encode() + b"\r\n" in LATEST.read_bytes()
    lines = LATEST.read_bytes().decode().split("\r\n")
    assert all(e.row in lines for e in _version().entities)


def test_bytes_are_read_like_a_file() -> None:
    d = date(2024, 5, 3)
    from_bytes = read_version(LATEST.read_bytes(), version=d, retrieved=d)
    assert from_bytes == _version()


def test_one_version_gives_listings_started_no_later_than_its_date() -> None:
    listings = listings_from_version(_version())
    taliban = _by(listings, "6636", "us-sdgt")
    assert taliban.started_no_later_than == date(2024, 5, 3)
    assert taliban.started_after is None
    assert not taliban.ended
    assert taliban.evidence == (
        '6636,"TALIBAN",-0- ,"SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ',
    )
    assert [s.key for s in taliban.sources] == ["us-sdn-2024-05-03"]
    assert len(listings) == sum(len(e.programs) for e in _version().entities)
    assert not [x for x in listings if x.entry_id == "6636" and x.regime == "us-fto"]


def test_a_file_that_is_not_utf8_is_read_as_cp1252() -> None:
    data = LATEST.read_bytes().replace(b'"HAMAS"', b'"HAMAS \xe9"')
    v = read_version(data, version=date(2024, 5, 3), retrieved=date(2024, 5, 3))
    assert v.encoding == "cp1252"
    assert "HAMAS \u00e9" in {e.name for e in v.entities}


def test_a_quoted_line_break_stays_inside_its_record() -> None:
    data = LATEST.read_bytes().replace(b"'HQN'.", b"'HQN';\r\na.k.a. 'HAQQANIS'.")
    v = read_version(data, version=date(2024, 5, 3), retrieved=date(2024, 5, 3))
    [haqqani] = [e for e in v.entities if e.ent_num == "15484"]
    assert haqqani.aliases == ("HQN", "HAQQANIS")
    assert haqqani.row.endswith("'HQN';\r\na.k.a. 'HAQQANIS'.\"")
    assert v.records == 70


def test_lf_line_endings_and_no_ctrl_z_read_the_same_entities() -> None:
    data = LATEST.read_bytes().replace(b"\r\n", b"\n").removesuffix(b"\x1a")
    v = read_version(data, version=date(2024, 5, 3), retrieved=date(2024, 5, 3))
    assert [(e.ent_num, e.name, e.aliases) for e in v.entities] == [
        (e.ent_num, e.name, e.aliases) for e in _version().entities
    ]
    assert v.records == 70


# --- histories ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def history() -> list[Listing]:
    return listings_from_history(read_history(DATA))


def test_history_reads_every_dated_version_in_order() -> None:
    h = load_history(DATA)
    assert [v.source.key for v in h.versions] == [f"us-sdn-{d}" for d in DAYS]
    assert h.skipped == []
    assert all(v.source.retrieved == v.date for v in h.versions)


def test_an_entry_present_throughout_has_one_open_span(history: list[Listing]) -> None:
    taliban = _by(history, "6636", "us-sdgt")
    assert taliban.started_after is None
    assert taliban.started_no_later_than == date(2021, 8, 18)
    assert not taliban.ended and taliban.ended_after is None and taliban.end_sources == ()
    assert taliban.entity.name == "TALIBAN"


def test_a_removed_entity_ends_between_the_two_versions(history: list[Listing]) -> None:
    for regime in ("us-fto", "us-sdgt"):
        farc = _by(history, "4711", regime)
        assert farc.entity.name == "REVOLUTIONARY ARMED FORCES OF COLOMBIA"
        assert farc.ended
        assert farc.end_kind == "delisting"
        assert farc.ended_after == date(2021, 11, 23)
        assert farc.ended_no_later_than == date(2021, 12, 2)
        assert [s.key for s in farc.end_sources] == ["us-sdn-2021-12-02"]


def test_a_new_entity_starts_between_the_two_versions(history: list[Listing]) -> None:
    segunda = _by(history, "33974", "us-fto")
    assert segunda.entity.name == "SEGUNDA MARQUETALIA"
    assert segunda.started_after == date(2021, 11, 23)
    assert segunda.started_no_later_than == date(2021, 12, 2)
    assert [s.key for s in segunda.sources] == ["us-sdn-2021-12-02"]
    assert not segunda.ended


def test_a_removed_fto_tag_ends_the_fto_span_only(history: list[Listing]) -> None:
    for ent_num in ("4691", "4693", "4694", "4700", "17187"):
        fto = _by(history, ent_num, "us-fto")
        assert (fto.ended_after, fto.ended_no_later_than) == (date(2022, 5, 19), date(2022, 5, 20))
        sdgt = _by(history, ent_num, "us-sdgt")
        assert not sdgt.ended
    aum = _by(history, "4691", "us-sdgt")
    assert aum.evidence == (
        '4691,"AUM SHINRIKYO",-0- ,"FTO] [SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ',
        '4691,"AUM SHINRIKYO",-0- ,"SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ',
    )
    assert [s.key for s in aum.sources] == ["us-sdn-2021-08-18", "us-sdn-2024-05-03"]


def test_a_renamed_entity_keeps_its_latest_name_and_former_ones(history: list[Listing]) -> None:
    libya = _by(history, "19890", "us-fto")
    assert libya.entity.name == "ISLAMIC STATE OF IRAQ AND ASH-SHAM IN LIBYA"
    assert "ISIL-LIBYA" in libya.entity.aliases
    assert libya.evidence[0].startswith('19890,"ISIL-LIBYA",')
    assert libya.evidence[1].startswith('19890,"ISLAMIC STATE OF IRAQ AND ASH-SHAM IN LIBYA",')
    rira = _by(history, "6853", "us-sdgt")
    assert rira.entity.name == "NEW IRISH REPUBLICAN ARMY"
    assert "REAL IRA" in rira.entity.aliases


def test_every_evidence_string_is_a_record_of_some_version(history: list[Listing]) -> None:
    rows = {r for f in DATA.iterdir() for r in f.read_bytes().decode().split("\r\n")}
    assert all(e in rows for x in history for e in x.evidence)
    assert all(10 <= len(e) <= 4000 for x in history for e in x.evidence)


def test_an_entity_that_comes_back_gets_a_second_span(tmp_path: Path) -> None:
    d = _copy_versions(tmp_path, DAYS[:3])
    _drop_record(d / "sdn-2021-11-23.csv", "4695")  # HAMAS absent from the middle version
    listings = listings_from_history(read_history(d))
    first = _by(listings, "4695", "us-fto", 1)
    assert (first.ended_after, first.ended_no_later_than) == (date(2021, 8, 18), date(2021, 11, 23))
    second = _by(listings, "4695", "us-fto", 2)
    assert second.started_after == date(2021, 11, 23)
    assert second.started_no_later_than == date(2021, 12, 2)
    assert not second.ended


def test_a_truncated_version_is_skipped_not_read_as_delistings(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    d = _copy_versions(tmp_path)
    middle = d / "sdn-2022-05-19.csv"
    lines = middle.read_bytes().split(b"\r\n")
    middle.write_bytes(b"\r\n".join(lines[:40]) + b"\r\n")  # cut at a record's end
    with caplog.at_level(logging.WARNING, logger="graph.imports.us_sdn"):
        h = load_history(d)
    assert "truncated" in caplog.text
    assert "us-sdn-2022-05-19" not in [v.source.key for v in h.versions]
    [reason] = h.skipped
    assert "sdn-2022-05-19.csv (2022-05-19): truncated: 40 records against 72 and 71" in reason
    listings = listings_from_history(h.versions)
    assert not _by(listings, "6636", "us-sdgt").ended  # TALIBAN is past the cut
    assert _by(listings, "4691", "us-fto").ended_after == date(2021, 12, 2)


def test_a_version_cut_inside_a_record_is_skipped_with_its_line(tmp_path: Path) -> None:
    d = _copy_versions(tmp_path)
    last = d / "sdn-2024-05-03.csv"
    last.write_bytes(last.read_bytes()[:5000])
    h = load_history(d)
    [reason] = h.skipped
    assert "sdn-2024-05-03.csv (2024-05-03): malformed CSV record" in reason  # in a quoted field
    assert reason.endswith("at line 51")
    assert h.versions[-1].source.key == "us-sdn-2022-05-20"


def test_the_same_input_gives_the_same_listings(history: list[Listing]) -> None:
    assert listings_from_history(read_history(DATA)) == history
    assert import_paths([DATA], retrieved=None).listings == history


# --- git repositories -----------------------------------------------------------------------


def _git(repo: Path, *args: str, when: str | None = None) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}
    if when:
        env |= {"GIT_COMMITTER_DATE": when, "GIT_AUTHOR_DATE": when}
    cmd = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args]
    return subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout


def _commit(repo: Path, data: bytes, when: str) -> None:
    (repo / "sdn.csv").write_bytes(data)
    _git(repo, "add", "sdn.csv")
    _git(repo, "commit", "-q", "--allow-empty", "-m", f"sdn {when}", "--date", when, when=when)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    r = tmp_path / "sdn-history"
    r.mkdir()
    _git(r, "init", "-q")
    for day, time in zip(DAYS, TIMES, strict=True):
        _commit(r, (DATA / f"sdn-{day}.csv").read_bytes(), f"{day}T{time}+00:00")
    _commit(r, b"", "2024-05-04T01:36:19+00:00")  # as the real repository ends
    return r


def test_a_git_history_gives_the_same_listings_as_the_files(repo: Path, tmp_path: Path) -> None:
    h = load_history(repo)
    # the trimmed 2021-11-23 file equals 2021-08-18's: its commit does not touch sdn.csv
    days = [d for d in DAYS if d != "2021-11-23"]
    assert [v.source.key for v in h.versions] == [f"us-sdn-{d}" for d in days]
    assert len(h.skipped) == 1 and "(2024-05-04): empty file" in h.skipped[0]
    commit = _git(repo, "log", "-1", "--format=%H", "HEAD~1").strip()
    assert h.versions[-1].source.copy == f"{repo.resolve()}@{commit}:sdn.csv"
    assert h.versions[-1].source.sha256 == hashlib.sha256(LATEST.read_bytes()).hexdigest()

    def strip(x: Listing) -> tuple[object, ...]:
        return (x.entry_id, x.regime, x.span, x.evidence, x.started_after, x.ended_after)

    files = listings_from_history(read_history(_copy_versions(tmp_path, days)))
    assert [strip(x) for x in listings_from_history(h.versions)] == [strip(x) for x in files]


def test_a_github_origin_names_the_copies(repo: Path) -> None:
    url = "https://github.com/jackdwyer/specially-designated-nationals-list.git"
    _git(repo, "remote", "add", "origin", url)
    v = load_history(repo).versions[0]
    commit = _git(repo, "rev-list", "--max-parents=0", "HEAD").strip()
    assert v.source.copy == (
        f"github:jackdwyer/specially-designated-nationals-list@{commit}:sdn.csv"
    )


def test_the_last_commit_of_a_day_is_kept(repo: Path) -> None:
    _commit(repo, (DATA / "sdn-2021-08-18.csv").read_bytes(), "2024-05-05T01:00:00+00:00")
    _commit(repo, LATEST.read_bytes(), "2024-05-05T18:00:00+00:00")
    h = load_history(repo)
    assert h.versions[-1].source.key == "us-sdn-2024-05-05"
    assert h.versions[-1].source.sha256 == hashlib.sha256(LATEST.read_bytes()).hexdigest()
    assert sum("(2024-05-05): superseded by a later version" in s for s in h.skipped) == 1


def test_a_bare_clone_is_read_too(repo: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
    assert len(read_history(bare)) == len(DAYS) - 1  # 2021-11-23's commit changes nothing


# --- import_paths ---------------------------------------------------------------------------


def test_one_file_is_one_version_dated_by_its_name() -> None:
    result = import_paths([LATEST], retrieved=date(2024, 6, 1))
    assert [s.key for s in result.sources] == ["us-sdn-2024-05-03"]
    assert result.sources[0].retrieved == date(2024, 6, 1)
    assert result.sources[0].name == "sdn-2024-05-03.csv"
    assert result.skipped == []
    assert _by(result.listings, "15484", "us-fto").started_no_later_than == date(2024, 5, 3)


def test_an_undated_file_takes_the_retrieved_date_or_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "sdn.csv"
    shutil.copy(LATEST, f)
    result = import_paths([f], retrieved=date(2024, 5, 4))
    assert result.sources[0].key == "us-sdn-2024-05-04"
    with pytest.raises(ListFileError, match="version's date is unknown"):
        import_paths([f], retrieved=None)


def test_several_files_make_a_history() -> None:
    result = import_paths([DATA / f"sdn-{d}.csv" for d in DAYS[1:3]], retrieved=None)
    assert [s.key for s in result.sources] == ["us-sdn-2021-11-23", "us-sdn-2021-12-02"]
    assert _by(result.listings, "4711", "us-fto").ended_no_later_than == date(2021, 12, 2)


# --- broken input ---------------------------------------------------------------------------


def _read(tmp_path: Path, name: str, data: bytes) -> Version:
    f = tmp_path / name
    f.write_bytes(data)
    return read_version(f, version=date(2024, 5, 3), retrieved=date(2024, 5, 3))


def test_a_png_is_refused(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"
    with pytest.raises(ListFileError, match="binary file"):
        _read(tmp_path, "sdn-2024-05-03.csv", png)


def test_a_json_file_is_refused_at_its_first_line(tmp_path: Path) -> None:
    with pytest.raises(ListFileError, match=r"expected 12 columns.*found 1") as e:
        _read(tmp_path, "sdn.json", b'{"entries": []}\n')
    assert e.value.location == "line 1"


def test_an_xml_file_is_refused(tmp_path: Path) -> None:
    xml = b'<?xml version="1.0"?><sdnList xmlns="http://tempuri.org/sdnList.xsd"/>'
    with pytest.raises(ListFileError, match="only the CSV form"):
        _read(tmp_path, "sdn.xml", xml)


def test_a_record_with_a_missing_column_is_refused_with_its_line(tmp_path: Path) -> None:
    lines = LATEST.read_bytes().split(b"\r\n")
    lines[4] = lines[4].rsplit(b",", 1)[0]
    with pytest.raises(ListFileError, match=r"expected 12 columns.*found 11") as e:
        _read(tmp_path, "sdn.csv", b"\r\n".join(lines))
    assert e.value.location == "line 5"
    assert str(tmp_path / "sdn.csv") in str(e.value)


def test_an_ent_num_that_is_not_a_number_is_refused(tmp_path: Path) -> None:
    data = LATEST.read_bytes().replace(b"6636,", b"X636,", 1)
    with pytest.raises(ListFileError, match="ent_num 'X636' is not a number") as e:
        _read(tmp_path, "sdn.csv", data)
    assert e.value.location == "line 54"


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ListFileError, match="empty file"):
        _read(tmp_path, "sdn.csv", b"")
    with pytest.raises(ListFileError, match="empty file"):
        _read(tmp_path, "sdn.csv", b"\r\n\x1a")


def test_a_missing_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ListFileError, match="no such file"):
        import_paths([tmp_path / "nothing.csv"], retrieved=None)
    with pytest.raises(ListFileError, match="no such file"):
        read_history(tmp_path / "nothing")


def test_a_directory_without_dated_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "sdn.csv").write_bytes(LATEST.read_bytes())
    with pytest.raises(ListFileError, match="no dated SDN files"):
        import_paths([tmp_path], retrieved=None)


def test_a_history_with_no_usable_version_is_refused(tmp_path: Path) -> None:
    (tmp_path / "sdn-2024-05-03.csv").write_bytes(b"")
    with pytest.raises(ListFileError, match=r"no usable SDN version.*empty file"):
        read_history(tmp_path)


def test_a_download_extends_a_git_history(tmp_path: Path) -> None:
    # A refresh adds today's download to the scraped history: one history, in date order.
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    r = tmp_path / "early-history"
    r.mkdir()
    _git(r, "init", "-q")
    for day, time in zip(DAYS[:3], TIMES[:3], strict=True):
        _commit(r, (DATA / f"sdn-{day}.csv").read_bytes(), f"{day}T{time}+00:00")
    download = tmp_path / "sdn-2024-05-03.csv"
    shutil.copy(LATEST, download)
    result = import_paths([r, download], retrieved=None)
    assert [s.key for s in result.sources][-1] == "us-sdn-2024-05-03"
    ended = {(x.entry_id, x.regime) for x in result.listings if x.ended}
    whole = import_paths([_copy_versions(tmp_path, [*DAYS[:3], DAYS[-1]])], retrieved=None)
    assert ended == {(x.entry_id, x.regime) for x in whole.listings if x.ended}
