"""A release's citation and discovery metadata: CFF 1.2.0, Zenodo, schema.org Dataset, RO-Crate
1.1 and Croissant 1.0, each checked with the real validators (offline) and byte-stable."""

from __future__ import annotations

import json
import re
import shutil
import socket
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import mlcroissant as mlc  # type: ignore[import-untyped]
import pyoxigraph as ox
import pytest
import rdflib
import yaml  # type: ignore[import-untyped]
from rocrate.rocrate import ROCrate  # type: ignore[import-untyped]

from graph.release import metadata as md
from graph.release.metadata import ReleaseMetadata

VERSION = "0.1.0"
RELEASE_DATE = date(2026, 12, 1)
DK = "https://w3id.org/diplokg/ontology#"
SDO = rdflib.Namespace("https://schema.org/")

RECOGNITIONS_CSV = (
    "recognizing_state,recognized_government,start_date\n"
    "Russia,Islamic Emirate of Afghanistan,2025-07-03\n"
)
DESIGNATIONS_CSV = (
    "designating_state,designated_organization,start_date,end_date\n"
    "Russia,Taliban,2003,2025-04-17\n"
)
TABLES: list[md.TableDescription] = [
    (
        "recognitions",
        "tables/recognitions.csv",
        [
            ("recognizing_state", "xsd:string", "The state that recognizes."),
            ("recognized_government", "xsd:string", "The government recognized."),
            ("start_date", "xsd:date", "When the recognition took effect."),
        ],
    ),
    (
        "designations",
        "tables/designations.csv",
        [
            ("designating_state", "xsd:string", "The state that designates."),
            ("designated_organization", "xsd:string", "The organization designated."),
            ("start_date", DK + "DateValue", "Start, at the precision the source gives."),
            ("end_date", DK + "DateValue", "End, at the precision the source gives."),
        ],
    ),
]

#: The part of the CFF 1.2.0 JSON schema (schema.json of citation-file-format 1.2.0) this file
#: uses: required keys, key types, the date and DOI patterns, the type enums.
CFF_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
CFF_DOI = r"^10\.\d{4,9}(\.\d+)?/[A-Za-z0-9:/_;\-\.\(\)\[\]\\]+$"
_CFF_AUTHOR = {
    "type": "object",
    "anyOf": [{"required": ["name"]}, {"required": ["family-names"]}],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "family-names": {"type": "string", "minLength": 1},
        "given-names": {"type": "string", "minLength": 1},
        "orcid": {
            "type": "string",
            "pattern": r"^https://orcid\.org/[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{3}[0-9X]{1}$",
        },
    },
}
_CFF_COMMON = {
    "authors": {"type": "array", "minItems": 1, "items": _CFF_AUTHOR},
    "title": {"type": "string", "minLength": 1},
    "version": {"type": ["string", "number"]},
    "date-released": {"type": "string", "pattern": CFF_DATE},
    "license": {"type": "string", "enum": ["CC-BY-4.0", "MIT"]},
    "url": {"type": "string", "format": "uri", "pattern": "^https?://"},
    "repository": {"type": "string", "pattern": "^https?://"},
    "doi": {"type": "string", "pattern": CFF_DOI},
}
CFF_1_2_0_SUBSET: dict[str, Any] = {
    "type": "object",
    "required": ["authors", "cff-version", "message", "title"],
    "additionalProperties": False,
    "properties": {
        **_CFF_COMMON,
        "cff-version": {"type": "string", "pattern": r"^1\.2\.0$"},
        "message": {"type": "string", "minLength": 1},
        "type": {"enum": ["dataset", "software"]},
        "abstract": {"type": "string", "minLength": 1},
        "keywords": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "identifiers": {"type": "array", "items": {"type": "object"}},
        "preferred-citation": {
            "type": "object",
            "required": ["authors", "title", "type"],
            "properties": {
                **_CFF_COMMON,
                "type": {"enum": ["data", "dataset", "software", "article"]},
                "year": {"type": "integer"},
                "month": {"type": "integer", "minimum": 1, "maximum": 12},
            },
        },
    },
}


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every validator here must work without the network: any connection fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(scope="module")
def release_dir(built_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small release: the seed build's dumps, VoID and manifest, and two CSV tables."""
    out = tmp_path_factory.mktemp("release") / "diplokg-0.1.0"
    out.mkdir()
    for path in sorted(built_dir.iterdir()):
        if path.is_file():
            shutil.copyfile(path, out / path.name)
    (out / "tables").mkdir()
    (out / "tables" / "recognitions.csv").write_text(RECOGNITIONS_CSV, encoding="utf-8")
    (out / "tables" / "designations.csv").write_text(DESIGNATIONS_CSV, encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def store(release_dir: Path) -> ox.Store:
    return md.load_store(release_dir / "diplokg.nq")


@pytest.fixture(scope="module")
def meta(release_dir: Path, store: ox.Store) -> ReleaseMetadata:
    return md.release_metadata(release_dir, VERSION, RELEASE_DATE, store, tables=TABLES)


@pytest.fixture
def written(release_dir: Path, meta: ReleaseMetadata) -> Iterator[Path]:
    """The release with its five descriptions written (removed afterwards)."""
    paths = md.write_metadata(release_dir, meta)
    yield release_dir
    for path in paths:
        path.unlink()


# --- the inputs: files and facts -------------------------------------------------------------------


def test_every_release_file_is_described_with_its_media_type_size_and_sha256(
    release_dir: Path, meta: ReleaseMetadata
) -> None:
    manifest = json.loads((release_dir / "manifest.json").read_text(encoding="utf-8"))
    assert list(meta.files) == sorted(meta.files)
    assert set(manifest["files"]) | {"manifest.json"} <= set(meta.files)
    assert {"tables/recognitions.csv", "tables/designations.csv"} <= set(meta.files)
    nq = meta.files["diplokg.nq"]
    assert nq.sha256 == manifest["files"]["diplokg.nq"]
    assert nq.size == (release_dir / "diplokg.nq").stat().st_size
    assert nq.media_type == "application/n-quads"
    assert meta.files["tables/recognitions.csv"].media_type == "text/csv"
    assert meta.files["void.ttl"].media_type == "text/turtle"


def test_the_metadata_files_never_describe_themselves(written: Path, meta: ReleaseMetadata) -> None:
    assert (written / ".zenodo.json").is_file()
    assert set(md.scan_files(written)) == set(meta.files)


def test_temporal_coverage_runs_from_the_first_to_the_last_date_in_the_facts(
    meta: ReleaseMetadata,
) -> None:
    assert meta.temporal_coverage is not None
    first, last = meta.temporal_coverage
    # Canada's Criminal Code listings of 2002-07-23 come before Russia's ban of the Taliban
    # (2003-02-14); Russia's recognition of the Islamic Emirate (2025-07-03) is not the last.
    assert first == "2002-07-23"
    assert first <= "2003-02-14"
    assert last >= "2025-07-03"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", last)


def test_temporal_coverage_keeps_a_year_or_a_month_as_the_source_gives_it() -> None:
    store = ox.Store()
    store.load(
        input=(
            f"@prefix dk: <{DK}> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
            "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
            "dk:Recognition rdfs:subClassOf dk:Fact .\n"
            '<urn:a> a dk:Recognition ; dk:startDate "1999"^^xsd:gYear ; dk:endDate "2025"^^xsd:gYear .\n'
            '<urn:b> a dk:Recognition ; dk:startDate "1999-05-03"^^xsd:date ;'
            ' dk:endDate "2025-04-17"^^xsd:date .\n'
            '<urn:c> a dk:Recognition ; dk:startDate "2001-05"^^xsd:gYearMonth .\n'
            '<urn:not-a-fact> dk:retrievedOn "2030-01-01"^^xsd:date .\n'
        ),
        format=ox.RdfFormat.TURTLE,
    )
    assert md.temporal_coverage(store) == ("1999", "2025")
    assert md.temporal_coverage(ox.Store()) is None


def test_the_description_counts_the_facts_of_each_type(
    store: ox.Store, meta: ReleaseMetadata
) -> None:
    counts = md.fact_counts(store)
    assert counts["terrorist designation"] >= 1000  # the lists' listings
    assert counts["recognition"] >= 1  # Russia recognizes the Islamic Emirate
    assert f"terrorist designation: {counts['terrorist designation']:,}" in meta.description
    assert f"Version {VERSION} holds {md.fact_total(store):,} facts" in meta.description


def test_the_main_properties_come_with_their_ontology_label(meta: ReleaseMetadata) -> None:
    by_iri = {v.iri: v for v in meta.variables}
    assert by_iri[DK + "recognizingState"].name == "recognizing state"
    assert by_iri[DK + "designatingState"].description
    assert DK + "startDate" in by_iri


# --- 1. CITATION.cff ---------------------------------------------------------------------------


def test_citation_cff_is_valid_cff_1_2_0_for_this_version(meta: ReleaseMetadata) -> None:
    cff = yaml.safe_load(md.citation_cff(meta))
    jsonschema.validate(cff, CFF_1_2_0_SUBSET)
    assert cff["version"] == VERSION
    assert cff["date-released"] == "2026-12-01"
    assert cff["license"] == "CC-BY-4.0"
    assert cff["type"] == "dataset"
    assert cff["authors"] == [{"name": "DiploKG contributors"}]
    assert cff["preferred-citation"]["year"] == 2026
    assert "diplomatic recognition" in cff["keywords"]


def test_citation_cff_has_no_doi_until_one_is_minted(meta: ReleaseMetadata) -> None:
    text = md.citation_cff(meta)
    assert "doi" not in text.lower()
    minted = yaml.safe_load(md.citation_cff(_with(meta, doi="10.5281/zenodo.1234567")))
    jsonschema.validate(minted, CFF_1_2_0_SUBSET)
    assert minted["doi"] == "10.5281/zenodo.1234567"
    assert minted["preferred-citation"]["doi"] == "10.5281/zenodo.1234567"
    assert minted["identifiers"][0] == {
        "type": "doi",
        "value": "10.5281/zenodo.1234567",
        "description": f"The DOI of version {VERSION}",
    }


def test_citation_cff_writes_people_with_family_and_given_names_and_orcid(
    meta: ReleaseMetadata,
) -> None:
    person = md.Creator(
        "Ada Lovelace", given_names="Ada", family_names="Lovelace", orcid="0000-0002-1825-0097"
    )
    cff = yaml.safe_load(md.citation_cff(_with(meta, creators=(person, *meta.creators))))
    jsonschema.validate(cff, CFF_1_2_0_SUBSET)
    assert cff["authors"][0] == {
        "family-names": "Lovelace",
        "given-names": "Ada",
        "orcid": "https://orcid.org/0000-0002-1825-0097",
    }


# --- 2. .zenodo.json -------------------------------------------------------------------------------


def test_zenodo_json_is_an_open_cc_by_dataset_deposit_without_doi(meta: ReleaseMetadata) -> None:
    z = json.loads(md.zenodo_json(_with(meta, doi="10.5281/zenodo.1234567")))
    assert z["upload_type"] == "dataset"
    assert z["license"] == "cc-by-4.0"
    assert z["access_right"] == "open"
    assert z["version"] == VERSION
    assert z["publication_date"] == "2026-12-01"
    assert z["creators"] == [{"name": "DiploKG contributors"}]
    assert not any("doi" in key for key in z)
    relations = {(r["identifier"], r["relation"]) for r in z["related_identifiers"]}
    assert ("https://w3id.org/diplokg/sparql", "isSupplementedBy") in relations
    assert all(r["scheme"] == "url" for r in z["related_identifiers"])


# --- 3. schema.org Dataset ---------------------------------------------------------------------


def test_dataset_jsonld_parses_as_a_schema_org_dataset(meta: ReleaseMetadata) -> None:
    g = rdflib.Graph().parse(data=json.dumps(md.dataset_jsonld(meta)), format="json-ld")
    datasets = list(g.subjects(rdflib.RDF.type, SDO.Dataset))
    assert datasets == [rdflib.URIRef(f"https://w3id.org/diplokg/download/{VERSION}/")]
    d = datasets[0]
    assert g.value(d, SDO.version) == rdflib.Literal(VERSION)
    assert g.value(d, SDO.license) == rdflib.URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert g.value(d, SDO.temporalCoverage) == rdflib.Literal("2002-07-23/" + _last(meta))
    downloads = list(g.objects(d, SDO.distribution))
    assert len(downloads) == len(meta.files)
    urls = {str(g.value(x, SDO.contentUrl)) for x in downloads}
    assert f"https://w3id.org/diplokg/download/{VERSION}/diplokg.nq" in urls
    assert all(isinstance(g.value(x, SDO.contentUrl), rdflib.URIRef) for x in downloads)


def test_dataset_jsonld_meets_googles_dataset_rich_result_requirements(
    meta: ReleaseMetadata,
) -> None:
    assert _google_dataset_problems(md.dataset_jsonld(meta)) == []


def test_dataset_jsonld_distribution_carries_each_files_sha256(
    release_dir: Path, meta: ReleaseMetadata
) -> None:
    doc = md.dataset_jsonld(meta)
    by_name = {d["name"]: d for d in doc["distribution"]}
    csv = by_name["tables/recognitions.csv"]
    assert csv["sha256"] == md.sha256_of(release_dir / "tables" / "recognitions.csv")
    assert csv["encodingFormat"] == "text/csv"
    assert csv["contentSize"] == f"{len(RECOGNITIONS_CSV.encode())} B"
    assert doc["datePublished"] == "2026-12-01"
    names = [v["name"] for v in doc["variableMeasured"]]
    assert "recognitions.recognizing_state" in names
    assert "designations.end_date" in names


def test_dataset_jsonld_measures_the_main_properties_without_tables(meta: ReleaseMetadata) -> None:
    doc = md.dataset_jsonld(_with(meta, tables=()))
    ids = {v.get("propertyID") for v in doc["variableMeasured"]}
    assert DK + "recognizingState" in ids
    assert "identifier" not in doc
    assert md.dataset_jsonld(_with(meta, doi="10.5281/zenodo.1"))["identifier"] == (
        "https://doi.org/10.5281/zenodo.1"
    )


# --- 4. RO-Crate -------------------------------------------------------------------------------


def test_ro_crate_loads_back_with_every_file(release_dir: Path, meta: ReleaseMetadata) -> None:
    path = md.ro_crate(release_dir, meta)
    try:
        assert path == release_dir / "ro-crate-metadata.json"
        crate = ROCrate(release_dir)
        files = {e.id: e for e in crate.data_entities}
        assert set(files) == set(meta.files)
        nq = files["diplokg.nq"]
        assert nq["encodingFormat"] == "application/n-quads"
        assert nq["sha256"] == meta.files["diplokg.nq"].sha256
        assert nq["name"] == "diplokg.nq"
        assert nq["description"]
        root = crate.root_dataset
        assert root["datePublished"] == "2026-12-01"
        assert root["version"] == VERSION
        assert root["name"] == meta.title
        assert root["license"].id == "https://creativecommons.org/licenses/by/4.0/"
        raw = json.loads(path.read_text(encoding="utf-8"))
        assert raw["@context"][0] == "https://w3id.org/ro/crate/1.1/context"
        described = next(e for e in raw["@graph"] if e["@id"] == "ro-crate-metadata.json")
        assert described["conformsTo"] == {"@id": "https://w3id.org/ro/crate/1.1"}
        assert not any(e["@id"].startswith("#") and _is_uuid(e["@id"][1:]) for e in raw["@graph"])
    finally:
        path.unlink()


# --- 5. Croissant ------------------------------------------------------------------------------


def test_croissant_validates_with_mlcroissant_and_reads_the_tables(
    release_dir: Path, meta: ReleaseMetadata
) -> None:
    path = release_dir / "croissant.json"
    path.write_text(json.dumps(md.croissant(release_dir, meta, TABLES)), encoding="utf-8")
    try:
        dataset = mlc.Dataset(jsonld=path)
        issues = dataset.metadata.ctx.issues
        assert not issues.errors
        assert not issues.warnings
        assert [rs.name for rs in dataset.metadata.record_sets] == ["designations", "recognitions"]
        (row,) = list(dataset.records("recognitions"))
        assert row["recognitions/recognizing_state"] == b"Russia"
        assert str(row["recognitions/start_date"].date()) == "2025-07-03"
        (designation,) = list(dataset.records("designations"))
        assert designation["designations/start_date"] == b"2003"  # a year stays a year
        assert designation["designations/end_date"] == b"2025-04-17"
    finally:
        path.unlink()


def test_croissant_file_objects_carry_sha256_and_relative_paths(
    release_dir: Path, meta: ReleaseMetadata
) -> None:
    doc = md.croissant(release_dir, meta)
    objects = {o["@id"]: o for o in doc["distribution"]}
    assert set(objects) == set(meta.files)
    assert objects["diplokg.nq"]["sha256"] == meta.files["diplokg.nq"].sha256
    assert objects["tables/designations.csv"]["contentUrl"] == "tables/designations.csv"
    assert doc["conformsTo"] == "http://mlcommons.org/croissant/1.0"
    assert "@misc{diplokg_0_1_0," in doc["citeAs"]


def test_croissant_refuses_to_describe_a_missing_file(
    release_dir: Path, meta: ReleaseMetadata
) -> None:
    files = {**meta.files, "tables/missing.csv": md.FileInfo("text/csv", 1, "0" * 64)}
    with pytest.raises(FileNotFoundError, match=r"tables/missing\.csv"):
        md.croissant(release_dir, _with(meta, files=files))


def test_croissant_types_map_xsd_and_keep_coarse_dates_as_text() -> None:
    assert md.croissant_type("xsd:date") == "sc:Date"
    assert md.croissant_type("http://www.w3.org/2001/XMLSchema#integer") == "sc:Integer"
    assert md.croissant_type("sc:Boolean") == "sc:Boolean"
    assert md.croissant_type("xsd:gYear") == "sc:Text"
    assert md.croissant_type(DK + "DateValue") == "sc:Text"


# --- determinism -------------------------------------------------------------------------------


def test_two_runs_write_byte_identical_descriptions(
    release_dir: Path, store: ox.Store, meta: ReleaseMetadata
) -> None:
    again = md.release_metadata(release_dir, VERSION, RELEASE_DATE, store, tables=TABLES)
    assert again == meta
    first = {p.name: p.read_bytes() for p in md.write_metadata(release_dir, meta)}
    second_paths = md.write_metadata(release_dir, again)
    try:
        second = {p.name: p.read_bytes() for p in second_paths}
        assert first == second
        assert set(first) == md.METADATA_FILES
        for name, content in first.items():
            text = content.decode("utf-8")
            assert str(release_dir) not in text, name  # no absolute path
            assert "2026-12-01" in text, name  # the release date, from the one argument
    finally:
        for path in second_paths:
            path.unlink()


# --- helpers -----------------------------------------------------------------------------------


def _with(meta: ReleaseMetadata, **changes: Any) -> ReleaseMetadata:
    from dataclasses import replace

    return replace(meta, **changes)


def _last(meta: ReleaseMetadata) -> str:
    assert meta.temporal_coverage is not None
    return meta.temporal_coverage[1]


def _is_uuid(text: str) -> bool:
    return (
        re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text)
        is not None
    )


_ISO_DATE = r"\d{4}(-\d{2}(-\d{2})?)?"


def _google_dataset_problems(doc: dict[str, Any]) -> list[str]:
    """What Google's Dataset structured data guidelines require or recommend and `doc` lacks:
    https://developers.google.com/search/docs/appearance/structured-data/dataset"""
    problems = []
    if doc.get("@type") != "Dataset":
        problems.append("@type is not Dataset")
    if not isinstance(doc.get("name"), str) or not doc["name"]:
        problems.append("name missing")
    description = doc.get("description")
    if not isinstance(description, str) or not 50 <= len(description) <= 5000:
        problems.append("description must be 50 to 5000 characters")
    for creator in doc.get("creator", []):
        if creator.get("@type") not in {"Person", "Organization"} or not creator.get("name"):
            problems.append(f"creator without type or name: {creator}")
    if not doc.get("creator"):
        problems.append("creator missing")
    if not re.fullmatch(f"{_ISO_DATE}/{_ISO_DATE}|{_ISO_DATE}", doc.get("temporalCoverage", "")):
        problems.append("temporalCoverage is not an ISO 8601 date or interval")
    if not str(doc.get("license", "")).startswith("https://"):
        problems.append("license is not a URL")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", doc.get("datePublished", "")):
        problems.append("datePublished is not an ISO 8601 date")
    for key in ("url", "version", "keywords", "citation", "isAccessibleForFree", "distribution"):
        if key not in doc:
            problems.append(f"{key} missing")
    for download in doc.get("distribution", []):
        if download.get("@type") != "DataDownload":
            problems.append(f"distribution {download.get('name')} is not a DataDownload")
        if not str(download.get("contentUrl", "")).startswith("https://"):
            problems.append(f"distribution {download.get('name')} has no contentUrl")
        if not download.get("encodingFormat"):
            problems.append(f"distribution {download.get('name')} has no encodingFormat")
    for variable in doc.get("variableMeasured", []):
        if not variable.get("name"):
            problems.append("variableMeasured without a name")
    return problems
