"""A release's citation and discovery metadata (issue 13): five descriptions of one release.

* `CITATION.cff`: Citation File Format 1.2.0 (https://github.com/citation-file-format/citation-file-format).
* `.zenodo.json`: Zenodo deposit metadata (https://developers.zenodo.org/#representation).
* `dataset.jsonld`: a schema.org `Dataset` (https://schema.org/Dataset) that meets Google's
  Dataset rich-result requirements (https://developers.google.com/search/docs/appearance/structured-data/dataset).
* `ro-crate-metadata.json`: RO-Crate 1.1 (https://w3id.org/ro/crate/1.1), written with `rocrate`.
* `croissant.json`: Croissant 1.0 (http://mlcommons.org/croissant/1.0).

Every description is a pure function of a `ReleaseMetadata` (and, for RO-Crate and Croissant,
the release directory's relative paths): the same version, release date, files and facts give
the same bytes. There is no DOI until one is minted (`doi=None` leaves every DOI field out;
none is ever made up).

Checksums: schema.org's `sha256` (https://schema.org/sha256, the property Croissant's
`FileObject` uses) carries each file's SHA-256 in lower-case hex, in `dataset.jsonld`, the
RO-Crate and Croissant alike.

The files described are every file of the release directory except the five this module writes
(and hidden files), so `write_metadata` runs after every other part of the release is written.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import pyoxigraph as ox
from rocrate.model.contextentity import ContextEntity  # type: ignore[import-untyped]
from rocrate.rocrate import ROCrate  # type: ignore[import-untyped]

from graph.namespaces import BASE

CITATION_FILE = "CITATION.cff"
ZENODO_FILE = ".zenodo.json"
DATASET_FILE = "dataset.jsonld"
RO_CRATE_FILE = "ro-crate-metadata.json"
CROISSANT_FILE = "croissant.json"
#: The files this module writes: never described as part of the release they describe.
METADATA_FILES = frozenset(
    {CITATION_FILE, ZENODO_FILE, DATASET_FILE, RO_CRATE_FILE, CROISSANT_FILE}
)

LANDING_PAGE = BASE.rstrip("/")
#: Where a version's file is published: api/routers/downloads.py serves /download/VERSION/FILE.
DOWNLOAD_BASE = BASE + "download/"
LICENSE_SPDX = "CC-BY-4.0"
LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"
LICENSE_NAME = "Creative Commons Attribution 4.0 International"
#: Zenodo's identifier of the same license.
ZENODO_LICENSE = "cc-by-4.0"
CROISSANT_1_0 = "http://mlcommons.org/croissant/1.0"
RO_CRATE_VERSION = "1.1"

TITLE = "DiploKG: a knowledge graph of diplomatic recognition, terrorist designations and envoys"
ABSTRACT = (
    "An open knowledge graph of diplomatic recognition of governments, terrorist designations "
    "of organizations by states, and envoys, in which every fact carries its time span, its "
    "source article and verbatim evidence. Published as RDF dumps, with a SPARQL endpoint, a "
    "VoID/DCAT description and links to Wikidata."
)
KEYWORDS = (
    "knowledge graph",
    "linked data",
    "diplomatic recognition",
    "terrorist designation",
    "envoy",
    "Wikidata",
)
CITATION_MESSAGE = (
    "If you use DiploKG, please cite the dataset as below. The data and the ontology are "
    "licensed under CC BY 4.0; the code is MIT-licensed (see LICENSE and LICENSE-DATA)."
)

DK = BASE + "ontology#"
XSD = "http://www.w3.org/2001/XMLSchema#"
_DATE_TYPES = ("date", "gYearMonth", "gYear", "dateTime")


# --- the description's inputs ----------------------------------------------------------------


@dataclass(frozen=True)
class Creator:
    """An author: an organization (`name` only) or a person (`family_names` given)."""

    name: str
    given_names: str | None = None
    family_names: str | None = None
    orcid: str | None = None  # bare, 0000-0000-0000-0000
    affiliation: str | None = None

    @property
    def is_person(self) -> bool:
        return self.family_names is not None


class FileInfo(NamedTuple):
    """One file of the release."""

    media_type: str
    size: int
    sha256: str
    description: str = ""


@dataclass(frozen=True)
class Column:
    """A column of a CSV table: its name, its type (xsd:…/sc:… CURIE or full IRI), what it holds."""

    name: str
    datatype: str
    description: str = ""


@dataclass(frozen=True)
class TableSpec:
    """A CSV table of the release: its name, its path relative to the release, its columns."""

    name: str
    path: str
    columns: tuple[Column, ...]
    description: str = ""


#: A table as another part may hand it over: (name, csv relative path, [(column, type, description)]).
TableDescription = tuple[str, str, Sequence[tuple[str, str, str]]]


@dataclass(frozen=True)
class Variable:
    """A property the facts use: its IRI, its label and what it means (from the ontology)."""

    iri: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class ReleaseMetadata:
    """Everything the descriptions say about one release."""

    version: str
    release_date: date
    title: str = TITLE
    description: str = ABSTRACT
    url: str = LANDING_PAGE
    repository: str = LANDING_PAGE
    license: str = LICENSE_SPDX
    creators: tuple[Creator, ...] = (Creator("DiploKG contributors"),)
    keywords: tuple[str, ...] = KEYWORDS
    #: Relative POSIX path -> file info, for every file of the release this module does not write.
    files: Mapping[str, FileInfo] = field(default_factory=dict)
    #: The first and last date in the facts (ISO 8601, at the precision the data gives).
    temporal_coverage: tuple[str, str] | None = None
    variables: tuple[Variable, ...] = ()
    tables: tuple[TableSpec, ...] = ()
    doi: str | None = None

    def download_url(self, path: str) -> str:
        """Where a file of this version is published."""
        return f"{DOWNLOAD_BASE}{self.version}/{path}"

    @property
    def dataset_id(self) -> str:
        """The release's IRI: its DOI when minted, else its version's download directory."""
        return f"https://doi.org/{self.doi}" if self.doi else f"{DOWNLOAD_BASE}{self.version}/"

    @property
    def citation_text(self) -> str:
        """A human-readable citation (APA-like)."""
        authors = "; ".join(_display_name(c) for c in self.creators)
        where = f"https://doi.org/{self.doi}" if self.doi else self.url
        return (
            f"{authors} ({self.release_date.year}). {self.title} (Version {self.version}) "
            f"[Data set]. {where}"
        )


# --- gathering the inputs from a release directory and its facts -----------------------------

#: Media types by file suffix (IANA where registered).
MEDIA_TYPES: dict[str, str] = {
    ".nq": "application/n-quads",
    ".trig": "application/trig",
    ".ttl": "text/turtle",
    ".jsonld": "application/ld+json",
    ".json": "application/json",
    ".html": "text/html",
    ".csv": "text/csv",
    ".md": "text/markdown",
    ".dta": "application/x-stata-dta",
    ".parquet": "application/vnd.apache.parquet",
    ".rdfp": "application/rdf-patch",
    ".cff": "application/yaml",
    ".txt": "text/plain",
}

#: What the known files of a release are.
FILE_DESCRIPTIONS: dict[str, str] = {
    "diplokg.nq": "The dataset in N-Quads: every named graph, one quad a line.",
    "diplokg.trig": "The dataset in TriG: every named graph.",
    "diplokg.ttl": "The dataset in Turtle: all graphs merged.",
    "diplokg.jsonld": "The dataset in JSON-LD: all graphs merged.",
    "void.ttl": "VoID/DCAT description of the dataset, with counts computed from the data.",
    "ontology.html": "The ontology's documentation: a standalone HTML page.",
    "manifest.json": "Build manifest: version, SHA-256 of each dump, counts.",
    "datapackage.json": "Frictionless data package describing the CSV tables and the panel.",
    "codebook.md": "Codebook of the tables and the panel (Markdown).",
    "codebook.html": "Codebook of the tables and the panel (HTML).",
    "CHANGES.md": "What changed since the previous release.",
}


def media_type(path: str) -> str:
    """The media type of a release file, by its suffix."""
    return MEDIA_TYPES.get(Path(path).suffix.lower(), "application/octet-stream")


def file_description(path: str, tables: Iterable[TableSpec] = ()) -> str:
    """What a file of the release holds."""
    for table in tables:
        if table.path == path and table.description:
            return table.description
    if path in FILE_DESCRIPTIONS:
        return FILE_DESCRIPTIONS[path]
    p = Path(path)
    if p.parts[0] == "tables" and p.suffix == ".csv":
        return f"CSV table {p.stem}: one row per fact of this type."
    if p.parts[0] == "panel":
        return f"Directed dyad-year panel ({p.suffix.lstrip('.')})."
    if p.parts[0] == "changes":
        return f"What changed since the previous release ({p.suffix.lstrip('.')})."
    return f"Release file {path}."


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def scan_files(release_dir: Path, tables: Iterable[TableSpec] = ()) -> dict[str, FileInfo]:
    """Every file of the release (relative POSIX path -> info), sorted, without the files this
    module writes and without hidden files."""
    specs = tuple(tables)
    found: dict[str, FileInfo] = {}
    for path in sorted(release_dir.rglob("*")):
        rel = path.relative_to(release_dir).as_posix()
        if not path.is_file() or rel in METADATA_FILES:
            continue
        if any(part.startswith(".") for part in Path(rel).parts):
            continue
        found[rel] = FileInfo(
            media_type(rel), path.stat().st_size, sha256_of(path), file_description(rel, specs)
        )
    return dict(sorted(found.items()))


_FACT_PATTERN = (
    f"?fact a ?class . ?class <http://www.w3.org/2000/01/rdf-schema#subClassOf>* <{DK}Fact> ."
)


def temporal_coverage(store: ox.Store) -> tuple[str, str] | None:
    """The first and the last date any fact carries (any date-typed value of a dk:Fact:
    start, end, bounds, listing date, point date), as given (a year or month stays one).
    None when no fact has a date."""
    types = ", ".join(f"<{XSD}{t}>" for t in _DATE_TYPES)
    query = (
        f"SELECT DISTINCT ?d WHERE {{ {_FACT_PATTERN} ?fact ?p ?d . "
        f"FILTER(isLiteral(?d) && DATATYPE(?d) IN ({types})) }}"
    )
    values = sorted({_literal(row[0]) for row in _rows(store, query)})
    if not values:
        return None
    first = min(values, key=lambda v: _date_key(v, earliest=True))
    last = max(values, key=lambda v: _date_key(v, earliest=False))
    return first, last


def fact_counts(store: ox.Store) -> dict[str, int]:
    """The number of facts of each (most specific asserted) class, by the class's English label."""
    query = (
        "SELECT ?class (SAMPLE(?label) AS ?l) (COUNT(DISTINCT ?fact) AS ?n) WHERE { "
        f"{_FACT_PATTERN} OPTIONAL {{ ?class <http://www.w3.org/2000/01/rdf-schema#label> ?label "
        'FILTER(LANGMATCHES(LANG(?label), "en")) } } GROUP BY ?class'
    )
    counts: dict[str, int] = {}
    for row in _rows(store, query):
        name = _literal(row[1]) if row[1] is not None else _local(row[0])
        counts[name] = counts.get(name, 0) + int(_literal(row[2]))
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def fact_total(store: ox.Store) -> int:
    """The number of distinct facts (a fact of two classes counts once)."""
    rows = _rows(store, f"SELECT (COUNT(DISTINCT ?fact) AS ?n) WHERE {{ {_FACT_PATTERN} }}")
    return int(_literal(rows[0][0]))


def main_properties(store: ox.Store) -> tuple[Variable, ...]:
    """The ontology's properties the facts use, with their label and comment."""
    rdfs = "http://www.w3.org/2000/01/rdf-schema#"
    query = (
        "SELECT DISTINCT ?p ?label ?comment WHERE { "
        f"{_FACT_PATTERN} ?fact ?p ?o . FILTER(STRSTARTS(STR(?p), {json.dumps(DK)})) "
        f"OPTIONAL {{ ?p <{rdfs}label> ?label FILTER(LANGMATCHES(LANG(?label), 'en')) }} "
        f"OPTIONAL {{ ?p <{rdfs}comment> ?comment FILTER(LANGMATCHES(LANG(?comment), 'en')) }} }}"
    )
    found: dict[str, Variable] = {}
    for row in _rows(store, query):
        iri = _iri(row[0])
        label = _literal(row[1]) if row[1] is not None else _local(row[0])
        comment = _literal(row[2]) if row[2] is not None else ""
        found.setdefault(iri, Variable(iri, label, comment))
    return tuple(found[k] for k in sorted(found))


def table_specs(tables: Iterable[TableDescription | TableSpec]) -> tuple[TableSpec, ...]:
    """Tables as TableSpecs, from TableSpecs or (name, path, [(column, type, description)])."""
    specs: list[TableSpec] = []
    for table in tables:
        if isinstance(table, TableSpec):
            specs.append(table)
        else:
            name, path, columns = table
            specs.append(TableSpec(name, path, tuple(Column(*c) for c in columns)))
    return tuple(sorted(specs, key=lambda t: t.path))


def release_metadata(
    release_dir: Path,
    version: str,
    release_date: date,
    store: ox.Store | None = None,
    *,
    tables: Iterable[TableDescription | TableSpec] = (),
    doi: str | None = None,
) -> ReleaseMetadata:
    """The metadata of the release in `release_dir`, from its files and its facts (`store`, or
    the release's N-Quads dump loaded when None)."""
    if store is None:
        store = load_store(release_dir / "diplokg.nq")
    specs = table_specs(tables)
    return ReleaseMetadata(
        version=version,
        release_date=release_date,
        description=describe_facts(version, fact_counts(store), fact_total(store)),
        files=scan_files(release_dir, specs),
        temporal_coverage=temporal_coverage(store),
        variables=main_properties(store),
        tables=specs,
        doi=doi,
    )


def describe_facts(version: str, counts: Mapping[str, int], total: int) -> str:
    """The abstract, followed by what this version holds."""
    if not counts:
        return ABSTRACT
    parts = "; ".join(f"{name}: {n:,}" for name, n in counts.items())
    return f"{ABSTRACT} Version {version} holds {total:,} facts ({parts})."


def load_store(nquads: Path) -> ox.Store:
    """An in-memory Oxigraph store holding an N-Quads dump (graph.release.tables's)."""
    from graph.release.tables import load_store as load

    return load(nquads)


# --- 1. CITATION.cff ---------------------------------------------------------------------------


def citation_cff(meta: ReleaseMetadata) -> str:
    """CITATION.cff (CFF 1.2.0) of this version; `doi` and `identifiers` only once a DOI exists."""
    lines = [
        "cff-version: 1.2.0",
        f"message: {_y(CITATION_MESSAGE)}",
        "type: dataset",
        f"title: {_y(meta.title)}",
        f"abstract: {_y(meta.description)}",
        "authors:",
        *_cff_authors(meta.creators, "  "),
        f"version: {_y(meta.version)}",
        f"date-released: {_y(meta.release_date.isoformat())}",
        f"license: {meta.license}",
        f"url: {_y(meta.url)}",
        f"repository: {_y(meta.repository)}",
    ]
    if meta.doi:
        lines += [
            f"doi: {_y(meta.doi)}",
            "identifiers:",
            "  - type: doi",
            f"    value: {_y(meta.doi)}",
            f"    description: {_y(f'The DOI of version {meta.version}')}",
        ]
    lines += ["keywords:", *(f"  - {_y(k)}" for k in meta.keywords)]
    lines += [
        "preferred-citation:",
        "  type: data",
        f"  title: {_y(meta.title)}",
        "  authors:",
        *_cff_authors(meta.creators, "    "),
        f"  version: {_y(meta.version)}",
        f"  year: {meta.release_date.year}",
        f"  month: {meta.release_date.month}",
        f"  date-released: {_y(meta.release_date.isoformat())}",
        f"  license: {meta.license}",
        f"  url: {_y(meta.url)}",
        f"  repository: {_y(meta.repository)}",
    ]
    if meta.doi:
        lines.append(f"  doi: {_y(meta.doi)}")
    return "\n".join(lines) + "\n"


def _cff_authors(creators: Iterable[Creator], indent: str) -> list[str]:
    lines: list[str] = []
    for c in creators:
        if c.is_person:
            entries = [("family-names", c.family_names), ("given-names", c.given_names)]
            entries += [("orcid", f"https://orcid.org/{c.orcid}" if c.orcid else None)]
            entries += [("affiliation", c.affiliation)]
        else:
            entries = [("name", c.name)]
        present = [(k, v) for k, v in entries if v]
        for i, (key, value) in enumerate(present):
            lines.append(f"{indent}{'- ' if i == 0 else '  '}{key}: {_y(value)}")
    return lines


def _y(text: str | None) -> str:
    """A YAML double-quoted scalar (a JSON string is one)."""
    return json.dumps(text, ensure_ascii=False)


# --- 2. .zenodo.json ---------------------------------------------------------------------------


def zenodo_json(meta: ReleaseMetadata) -> str:
    """Zenodo deposit metadata of this version (no DOI: Zenodo mints it on publication)."""
    creators = []
    for c in meta.creators:
        entry: dict[str, str] = {"name": _display_name(c)}
        if c.orcid:
            entry["orcid"] = c.orcid
        if c.affiliation:
            entry["affiliation"] = c.affiliation
        creators.append(entry)
    doc: dict[str, Any] = {
        "upload_type": "dataset",
        "title": meta.title,
        "description": meta.description,
        "creators": creators,
        "version": meta.version,
        "publication_date": meta.release_date.isoformat(),
        "access_right": "open",
        "license": ZENODO_LICENSE,
        "language": "eng",
        "keywords": list(meta.keywords),
        "related_identifiers": _zenodo_related(meta),
    }
    return _json_text(doc)


def _zenodo_related(meta: ReleaseMetadata) -> list[dict[str, str]]:
    """The landing page and the SPARQL endpoint supplement the deposit; the code repository
    (when it is not the landing page) compiles it."""
    related = [
        {"identifier": meta.url, "relation": "isSupplementedBy", "resource_type": "dataset"},
        {"identifier": f"{BASE}sparql", "relation": "isSupplementedBy", "resource_type": "other"},
    ]
    if meta.repository != meta.url:
        related.append(
            {"identifier": meta.repository, "relation": "isCompiledBy", "resource_type": "software"}
        )
    return [{**r, "scheme": "url"} for r in related]


# --- 3. schema.org Dataset ---------------------------------------------------------------------

#: schema.org as the vocabulary; URL-valued properties are IRIs (as in schema.org's own context).
SCHEMA_CONTEXT: dict[str, Any] = {
    "@vocab": "https://schema.org/",
    "sc": "https://schema.org/",
    "url": {"@type": "@id"},
    "contentUrl": {"@type": "@id"},
    "license": {"@type": "@id"},
    "sameAs": {"@type": "@id"},
    "propertyID": {"@type": "@id"},
}


def dataset_jsonld(meta: ReleaseMetadata) -> dict[str, Any]:
    """A schema.org Dataset for this version: what Google's Dataset rich results read."""
    doc: dict[str, Any] = {
        "@context": SCHEMA_CONTEXT,
        "@type": "Dataset",
        "@id": meta.dataset_id,
        "name": meta.title,
        "alternateName": "DiploKG",
        "description": meta.description,
        "url": meta.url,
        "version": meta.version,
        "datePublished": meta.release_date.isoformat(),
        "license": LICENSE_URL,
        "isAccessibleForFree": True,
        "creator": [_schema_creator(c) for c in meta.creators],
        "keywords": list(meta.keywords),
        "citation": meta.citation_text,
        "inLanguage": "en",
    }
    if meta.doi:
        doc["identifier"] = f"https://doi.org/{meta.doi}"
        doc["sameAs"] = f"https://doi.org/{meta.doi}"
    if meta.temporal_coverage:
        doc["temporalCoverage"] = "/".join(meta.temporal_coverage)
    doc["variableMeasured"] = _variables(meta)
    doc["distribution"] = [
        {
            "@type": "DataDownload",
            "name": path,
            "description": info.description or file_description(path, meta.tables),
            "encodingFormat": info.media_type,
            "contentUrl": meta.download_url(path),
            "contentSize": f"{info.size} B",
            "sha256": info.sha256,
        }
        for path, info in sorted(meta.files.items())
    ]
    return doc


def _variables(meta: ReleaseMetadata) -> list[dict[str, Any]]:
    if meta.tables:
        return [
            {
                "@type": "PropertyValue",
                "name": f"{table.name}.{column.name}",
                "description": column.description or f"Column {column.name} of {table.name}",
            }
            for table in meta.tables
            for column in table.columns
        ]
    return [
        {
            "@type": "PropertyValue",
            "name": v.name,
            "propertyID": v.iri,
            **({"description": v.description} if v.description else {}),
        }
        for v in meta.variables
    ]


def _schema_creator(c: Creator) -> dict[str, Any]:
    if not c.is_person:
        return {"@type": "Organization", "name": c.name}
    person: dict[str, Any] = {"@type": "Person", "name": _given_family(c)}
    if c.given_names:
        person["givenName"] = c.given_names
    person["familyName"] = c.family_names
    if c.orcid:
        person["sameAs"] = f"https://orcid.org/{c.orcid}"
    if c.affiliation:
        person["affiliation"] = {"@type": "Organization", "name": c.affiliation}
    return person


# --- 4. RO-Crate -------------------------------------------------------------------------------


def ro_crate(release_dir: Path, meta: ReleaseMetadata) -> Path:
    """Write `ro-crate-metadata.json` (RO-Crate 1.1) describing the release's files; returns its
    path. Deterministic: the root's datePublished is the release date, every entity has a fixed
    @id (no random `#uuid`), and rocrate sorts keys when it writes."""
    crate = ROCrate(gen_preview=False, version=RO_CRATE_VERSION)
    # RO-Crate 1.1's context predates schema.org's sha256: declare the term.
    crate.metadata.extra_terms = {"sha256": "http://schema.org/sha256"}
    root = crate.root_dataset
    root["datePublished"] = meta.release_date.isoformat()
    root["name"] = meta.title
    root["description"] = meta.description
    root["version"] = meta.version
    root["url"] = meta.url
    root["keywords"] = list(meta.keywords)
    if meta.temporal_coverage:
        root["temporalCoverage"] = "/".join(meta.temporal_coverage)
    if meta.doi:
        root["identifier"] = f"https://doi.org/{meta.doi}"
    license_entity = crate.add(
        ContextEntity(
            crate,
            LICENSE_URL,
            properties={"@type": "CreativeWork", "name": LICENSE_NAME, "identifier": LICENSE_SPDX},
        )
    )
    root["license"] = license_entity
    authors = [crate.add(_crate_creator(crate, c)) for c in meta.creators]
    root["author"] = authors
    for path, info in sorted(meta.files.items()):
        crate.add_file(
            source=None,
            dest_path=path,
            properties={
                "name": path,
                "description": info.description or file_description(path, meta.tables),
                "encodingFormat": info.media_type,
                "contentSize": str(info.size),
                "sha256": info.sha256,
            },
        )
    crate.metadata.write(release_dir)
    return release_dir / RO_CRATE_FILE


def _crate_creator(crate: ROCrate, c: Creator) -> ContextEntity:
    if c.is_person:
        ident = f"https://orcid.org/{c.orcid}" if c.orcid else f"#{_slug(c.name)}"
        props: dict[str, Any] = {"@type": "Person", "name": _given_family(c)}
        if c.affiliation:
            props["affiliation"] = c.affiliation
    else:
        ident = f"#{_slug(c.name)}"
        props = {"@type": "Organization", "name": c.name}
    return ContextEntity(crate, ident, properties=props)


# --- 5. Croissant ------------------------------------------------------------------------------

#: Croissant 1.0's standard @context.
CROISSANT_CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}

#: XML Schema datatype (local name) -> the schema.org type Croissant fields use. Dates at a
#: coarser precision than a day (gYear, gYearMonth, dk:DateValue) stay text: never padded.
_XSD_TO_SC: dict[str, str] = {
    "string": "sc:Text",
    "normalizedString": "sc:Text",
    "token": "sc:Text",
    "language": "sc:Text",
    "integer": "sc:Integer",
    "int": "sc:Integer",
    "long": "sc:Integer",
    "short": "sc:Integer",
    "nonNegativeInteger": "sc:Integer",
    "positiveInteger": "sc:Integer",
    "decimal": "sc:Float",
    "double": "sc:Float",
    "float": "sc:Float",
    "boolean": "sc:Boolean",
    "date": "sc:Date",
    "dateTime": "sc:DateTime",
    "anyURI": "sc:URL",
}


def croissant_type(datatype: str) -> str:
    """A column's type as a Croissant dataType: xsd:… (CURIE or IRI) mapped, sc:… kept."""
    for prefix in ("sc:", "https://schema.org/", "http://schema.org/"):
        if datatype.startswith(prefix):
            return "sc:" + datatype[len(prefix) :]
    for prefix in ("xsd:", XSD):
        if datatype.startswith(prefix):
            return _XSD_TO_SC.get(datatype[len(prefix) :], "sc:Text")
    return "sc:Text"


def croissant(
    release_dir: Path,
    meta: ReleaseMetadata,
    tables: Iterable[TableDescription | TableSpec] | None = None,
) -> dict[str, Any]:
    """A Croissant 1.0 description of the release: a FileObject (with sha256) per file, and a
    RecordSet per CSV table (`tables`, else `meta.tables`) whose fields extract its columns.
    Paths are relative to `release_dir`, where croissant.json is written."""
    specs = meta.tables if tables is None else table_specs(tables)
    missing = sorted(path for path in meta.files if not (release_dir / path).is_file())
    if missing:
        raise FileNotFoundError(f"not in {release_dir.name}: {', '.join(missing)}")
    ids = {path: _croissant_id(path) for path in meta.files}
    doc: dict[str, Any] = {
        "@context": CROISSANT_CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": CROISSANT_1_0,
        "name": "DiploKG",
        "alternateName": meta.title,
        "description": meta.description,
        "url": meta.url,
        "version": meta.version,
        "datePublished": meta.release_date.isoformat(),
        "license": LICENSE_URL,
        "creator": [_schema_creator(c) for c in meta.creators],
        "keywords": list(meta.keywords),
        "citeAs": bibtex(meta),
        "isLiveDataset": False,
    }
    if meta.temporal_coverage:
        doc["temporalCoverage"] = "/".join(meta.temporal_coverage)
    doc["distribution"] = [
        {
            "@type": "cr:FileObject",
            "@id": ids[path],
            "name": path,
            "description": info.description or file_description(path, specs),
            "contentUrl": path,
            "contentSize": f"{info.size} B",
            "encodingFormat": info.media_type,
            "sha256": info.sha256,
        }
        for path, info in sorted(meta.files.items())
    ]
    record_sets = [_record_set(t, ids[t.path]) for t in specs if t.path in ids]
    if record_sets:
        doc["recordSet"] = record_sets
    return doc


def _record_set(table: TableSpec, file_id: str) -> dict[str, Any]:
    rs_id = _croissant_id(table.name)
    return {
        "@type": "cr:RecordSet",
        "@id": rs_id,
        "name": table.name,
        "description": table.description or f"The rows of {table.path}.",
        "field": [
            {
                "@type": "cr:Field",
                "@id": f"{rs_id}/{_croissant_id(column.name)}",
                "name": column.name,
                "description": column.description or f"Column {column.name}.",
                "dataType": croissant_type(column.datatype),
                "source": {"fileObject": {"@id": file_id}, "extract": {"column": column.name}},
            }
            for column in table.columns
        ],
    }


def bibtex(meta: ReleaseMetadata) -> str:
    """A BibTeX entry for this version (Croissant's recommended citeAs)."""
    key = f"diplokg_{re.sub(r'[^0-9A-Za-z]+', '_', meta.version)}"
    fields = [
        ("title", meta.title),
        ("author", " and ".join(_bibtex_name(c) for c in meta.creators)),
        ("year", str(meta.release_date.year)),
        ("version", meta.version),
        ("url", meta.url),
        ("note", f"Released {meta.release_date.isoformat()}"),
    ]
    if meta.doi:
        fields.append(("doi", meta.doi))
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields)
    return f"@misc{{{key},\n{body}\n}}"


# --- writing -----------------------------------------------------------------------------------


def write_metadata(release_dir: Path, meta: ReleaseMetadata) -> list[Path]:
    """Write the five descriptions into `release_dir`; returns their paths."""
    written = []
    for name, text in (
        (CITATION_FILE, citation_cff(meta)),
        (ZENODO_FILE, zenodo_json(meta)),
        (DATASET_FILE, _json_text(dataset_jsonld(meta))),
        (CROISSANT_FILE, _json_text(croissant(release_dir, meta))),
    ):
        path = release_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    written.append(ro_crate(release_dir, meta))
    return sorted(written)


def _json_text(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# --- helpers -----------------------------------------------------------------------------------


def _rows(store: ox.Store, query: str) -> list[tuple[Any, ...]]:
    solutions = store.query(query, use_default_graph_as_union=True)
    assert isinstance(solutions, ox.QuerySolutions)
    return [tuple(s) for s in solutions]


def _literal(term: Any) -> str:
    assert isinstance(term, ox.Literal)
    return term.value


def _iri(term: Any) -> str:
    assert isinstance(term, ox.NamedNode)
    return term.value


def _local(term: Any) -> str:
    return re.split(r"[#/]", _iri(term))[-1]


def _date_key(value: str, *, earliest: bool) -> str:
    """A sort key placing a year or month at its first (or last) day."""
    day = value[:10]
    if len(day) == 4:
        return day + ("-01-01" if earliest else "-12-31")
    if len(day) == 7:
        return day + ("-01" if earliest else "-31")
    return day


def _display_name(c: Creator) -> str:
    """ "Family, Given" for a person (Zenodo's and APA's form), the name for an organization."""
    if c.is_person and c.given_names:
        return f"{c.family_names}, {c.given_names}"
    return c.family_names if c.is_person and c.family_names else c.name


def _given_family(c: Creator) -> str:
    return " ".join(p for p in (c.given_names, c.family_names) if p) or c.name


def _bibtex_name(c: Creator) -> str:
    return _display_name(c) if c.is_person else f"{{{c.name}}}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _croissant_id(text: str) -> str:
    """A Croissant @id from a path or name (letters, digits, -, _, . and /)."""
    return re.sub(r"[^A-Za-z0-9_./-]+", "_", text)
