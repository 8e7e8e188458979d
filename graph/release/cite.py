"""Cite this fact: BibTeX, CSL-JSON and RIS for one fact of a release, and nanopublications.

`fact_citation(store, fact_iri, version, access_date, doi=None)` describes one fact as a dataset
item: its IRI and label, the DiploKG release (version, DOI once minted), the source it was derived
from (prov:wasDerivedFrom: title, URL, date) and the date it was accessed. It writes it as
  - BibTeX (`@misc`, with biblatex's `version`, `urldate`, `doi` fields);
  - CSL-JSON (https://citeproc-js.readthedocs.io/en/latest/csl-json/markup.html), type "dataset";
  - RIS (type DATA; `Y2` the access date; lines end with LF).

`nanopublication(store, fact_iri, version, release_date)` writes one fact as a nanopublication in
TriG (https://nanopub.net/guidelines/working_draft/): a head graph (np:Nanopublication with
np:hasAssertion, np:hasProvenance, np:hasPublicationInfo), an assertion graph (the fact's own
triples but its provenance), a provenance graph (the assertion prov:wasDerivedFrom its sources,
with the fact's dk:evidence and dk:evidenceTranslation excerpts, and the sources' titles, URLs and
dates) and a publication-info graph (creator, licence, creation date = the release date, the
release's version and IRI). Its IRIs are the temporary ones of the `nanopub` package
(`http://purl.org/nanopub/temp/diplokg/<version>/<fact>/`), which signing replaces by a
trusty URI; DiploKG writes nanopublications unsigned and never publishes them.
`export_nanopubs` writes one `.trig` per fact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from graph.namespaces import BASE, sparql_prologue

AUTHOR = "DiploKG contributors"
PUBLISHER = "DiploKG"
PROJECT_IRI = "https://w3id.org/diplokg"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
RELEASE_BASE = BASE + "release/"
NANOPUB_TEMP = "http://purl.org/nanopub/temp/diplokg/"

_DK = BASE + "ontology#"
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
_PROV = "http://www.w3.org/ns/prov#"
_DCT = "http://purl.org/dc/terms/"
_SCHEMA = "http://schema.org/"
_XSD = "http://www.w3.org/2001/XMLSchema#"
_NP = "http://www.nanopub.org/nschema#"
_PAV = "http://purl.org/pav/"

#: Properties naming a source, a source's URL and its date, most telling first.
TITLE_PROPERTIES = (_SCHEMA + "headline", _DCT + "title", _RDFS + "label", _SCHEMA + "name")
URL_PROPERTIES = (_SCHEMA + "url",)
DATE_PROPERTIES = (
    _SCHEMA + "datePublished",
    _DK + "versionDate",
    _DCT + "date",
    _DCT + "issued",
    _SCHEMA + "temporalCoverage",
    _DK + "retrievedOn",
)
#: A fact's triples that are its provenance, moved to a nanopublication's provenance graph.
PROVENANCE_PROPERTIES = (_PROV + "wasDerivedFrom", _DK + "evidence", _DK + "evidenceTranslation")


class CitationError(LookupError):
    """The IRI cited is not a fact of the release."""


@dataclass(frozen=True)
class Source:
    """A source document a fact was derived from."""

    iri: str
    title: str
    url: str | None
    date: str | None

    def text(self) -> str:
        parts = [f"“{self.title}”" if self.title else self.iri]
        parts += [p for p in (self.date, self.url) if p]
        return ", ".join(parts)


@dataclass(frozen=True)
class Citation:
    """One fact of one release, as a reference manager stores it."""

    fact_iri: str
    label: str
    fact_type: str
    version: str
    access_date: str
    sources: tuple[Source, ...]
    doi: str | None = None
    release_date: str | None = None

    @property
    def key(self) -> str:
        local = self.fact_iri.rsplit("/", 1)[-1]
        return "diplokg:" + re.sub(r"[^A-Za-z0-9_.:-]", "-", local) + ":" + self.version

    @property
    def title(self) -> str:
        return self.label or self.fact_iri

    def note(self) -> str:
        sources = "; ".join(s.text() for s in self.sources)
        kind = self.fact_type.rsplit("#", 1)[-1]
        text = f"DiploKG release {self.version}, fact of type {kind}"
        return text + (f". Source: {sources}" if sources else "")

    def bibtex(self) -> str:
        fields: list[tuple[str, str]] = [
            ("title", "{" + _bib(self.title) + "}"),
            ("author", "{" + _bib(AUTHOR) + "}"),
            ("howpublished", _bib(f"DiploKG knowledge graph, release {self.version}")),
            ("publisher", _bib(PUBLISHER)),
            ("version", _bib(self.version)),
            ("url", self.fact_iri),
        ]
        if self.doi:
            fields.append(("doi", self.doi))
        if self.release_date:
            fields += [("year", self.release_date[:4]), ("date", self.release_date)]
        fields += [("urldate", self.access_date), ("note", _bib(self.note()))]
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
        return f"@misc{{{self.key},\n{body}\n}}\n"

    def csl_json(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": self.key,
            "type": "dataset",
            "title": self.title,
            "author": [{"literal": AUTHOR}],
            "publisher": PUBLISHER,
            "version": self.version,
            "URL": self.fact_iri,
            "accessed": _date_parts(self.access_date),
            "note": self.note(),
        }
        if self.doi:
            item["DOI"] = self.doi
        if self.release_date:
            item["issued"] = _date_parts(self.release_date)
        return item

    def ris(self) -> str:
        lines = [
            ("TY", "DATA"),
            ("TI", self.title),
            ("AU", AUTHOR),
            ("PB", PUBLISHER),
            ("ET", self.version),
            ("UR", self.fact_iri),
        ]
        if self.doi:
            lines.append(("DO", self.doi))
        if self.release_date:
            lines += [("PY", self.release_date[:4]), ("DA", self.release_date.replace("-", "/"))]
        lines += [("Y2", self.access_date.replace("-", "/")), ("N1", self.note()), ("ER", "")]
        return "".join(f"{tag}  - {value}\n" for tag, value in lines)


_BIB_SPECIAL = str.maketrans({ch: "\\" + ch for ch in "&%$#_{}"})


def _bib(text: str) -> str:
    return text.replace("\\", "").replace("\n", " ").translate(_BIB_SPECIAL)


def _date_parts(iso: str) -> dict[str, list[list[int]]]:
    return {"date-parts": [[int(part) for part in iso.split("-")]]}


def _iso(day: date | str) -> str:
    return day.isoformat() if isinstance(day, date) else date.fromisoformat(day).isoformat()


# --- reading the fact ------------------------------------------------------------------------


def _rows(store: ox.Store, query: str) -> list[ox.QuerySolution]:
    result = store.query(sparql_prologue() + query, use_default_graph_as_union=True)
    assert isinstance(result, ox.QuerySolutions)
    return list(result)


def _term(iri: str) -> str:
    """An IRI as SPARQL writes it (ValueError if it is no IRI, so nothing else is injected)."""
    return str(ox.NamedNode(iri))


def fact_type(store: ox.Store, fact_iri: str) -> str:
    """The IRI of the fact's most specific class below dk:Fact (CitationError if none)."""
    fact = _term(fact_iri)
    rows = _rows(
        store,
        f"SELECT ?c WHERE {{ {fact} a ?c . ?c rdfs:subClassOf* dk:Fact . "
        f"FILTER NOT EXISTS {{ {fact} a ?d . ?d rdfs:subClassOf+ ?c }} }} ORDER BY ?c",
    )
    if not rows:
        raise CitationError(f"{fact_iri} is not a fact of this release")
    return str(rows[0]["c"].value)


def own_triples(store: ox.Store, fact_iri: str) -> list[ox.Triple]:
    """The distinct triples whose subject is the fact, sorted."""
    rows = _rows(store, f"SELECT DISTINCT ?p ?o WHERE {{ {_term(fact_iri)} ?p ?o }}")
    subject = ox.NamedNode(fact_iri)
    triples = [ox.Triple(subject, row["p"], row["o"]) for row in rows]
    return sorted(triples, key=str)


def _first(values: dict[str, list[str]], properties: tuple[str, ...]) -> str | None:
    for prop in properties:
        if values.get(prop):
            return sorted(values[prop])[0]
    return None


def sources(store: ox.Store, fact_iri: str) -> tuple[Source, ...]:
    """The documents the fact was derived from, in IRI order."""
    rows = _rows(
        store,
        f"SELECT ?s ?p ?o WHERE {{ {_term(fact_iri)} prov:wasDerivedFrom ?s . "
        "OPTIONAL { ?s ?p ?o } }",
    )
    found: dict[str, dict[str, list[str]]] = {}
    for row in rows:
        values = found.setdefault(row["s"].value, {})
        if row["p"] is not None:
            values.setdefault(row["p"].value, []).append(row["o"].value)
    return tuple(
        Source(
            iri=iri,
            title=_first(values, TITLE_PROPERTIES) or "",
            url=_first(values, URL_PROPERTIES),
            date=_first(values, DATE_PROPERTIES),
        )
        for iri, values in sorted(found.items())
    )


def label(store: ox.Store, iri: str) -> str:
    rows = _rows(
        store,
        f"SELECT ?l WHERE {{ {_term(iri)} rdfs:label ?l }} "
        'ORDER BY DESC(langMatches(lang(?l), "en")) ?l LIMIT 1',
    )
    return str(rows[0]["l"].value) if rows else ""


def fact_citation(
    store: ox.Store,
    fact_iri: str,
    version: str,
    access_date: date | str,
    doi: str | None = None,
    release_date: date | str | None = None,
) -> Citation:
    """The citation of one fact of a release (CitationError when `fact_iri` is no fact)."""
    return Citation(
        fact_iri=fact_iri,
        label=label(store, fact_iri),
        fact_type=fact_type(store, fact_iri),
        version=version,
        access_date=_iso(access_date),
        sources=sources(store, fact_iri),
        doi=doi,
        release_date=_iso(release_date) if release_date is not None else None,
    )


# --- nanopublications ------------------------------------------------------------------------


def nanopub_base(fact_iri: str, version: str) -> str:
    """The temporary IRI of a fact's nanopublication (its graphs are below it)."""
    local = re.sub(r"[^A-Za-z0-9_.-]", "-", fact_iri.rsplit("/", 1)[-1])
    return f"{NANOPUB_TEMP}{version}/{local}/"


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _graph_block(name: str, triples: list[ox.Triple]) -> str:
    body = "".join(f"  {t} .\n" for t in sorted(set(triples), key=str))
    return f"<{name}> {{\n{body}}}\n"


def nanopublication(store: ox.Store, fact_iri: str, version: str, release_date: date | str) -> str:
    """One fact as a nanopublication in TriG (CitationError when `fact_iri` is no fact)."""
    kind = fact_type(store, fact_iri)
    this = nanopub_base(fact_iri, version)
    head, assertion, provenance, pubinfo = (
        this + g for g in ("Head", "assertion", "provenance", "pubinfo")
    )
    node, assertion_node = _n(this), _n(assertion)
    own = own_triples(store, fact_iri)
    claims = [t for t in own if t.predicate.value not in PROVENANCE_PROPERTIES]
    prov = [
        ox.Triple(assertion_node, t.predicate, t.object)
        for t in own
        if t.predicate.value in PROVENANCE_PROPERTIES
    ]
    prov.append(ox.Triple(assertion_node, _n(_PROV + "wasAttributedTo"), _n(PROJECT_IRI)))
    for source in sources(store, fact_iri):
        prov += _source_triples(source)
    day = _iso(release_date)
    fact_label = label(store, fact_iri) or fact_iri
    info = [
        ox.Triple(node, _n(_RDFS + "label"), ox.Literal(f"DiploKG {version}: {fact_label}")),
        ox.Triple(node, _n(_DCT + "creator"), _n(PROJECT_IRI)),
        ox.Triple(node, _n(_DCT + "license"), _n(LICENSE)),
        ox.Triple(node, _n(_DCT + "created"), ox.Literal(day, datatype=_n(_XSD + "date"))),
        ox.Triple(node, _n(_PAV + "version"), ox.Literal(version)),
        ox.Triple(node, _n(_DCT + "isPartOf"), _n(RELEASE_BASE + version)),
        ox.Triple(node, _n(_DCT + "subject"), _n(fact_iri)),
        ox.Triple(node, _n(_DCT + "type"), _n(kind)),
    ]
    heads = [
        ox.Triple(node, _n(_RDF_TYPE), _n(_NP + "Nanopublication")),
        ox.Triple(node, _n(_NP + "hasAssertion"), assertion_node),
        ox.Triple(node, _n(_NP + "hasProvenance"), _n(provenance)),
        ox.Triple(node, _n(_NP + "hasPublicationInfo"), _n(pubinfo)),
    ]
    return "\n".join(
        [
            _graph_block(head, heads),
            _graph_block(assertion, claims),
            _graph_block(provenance, prov),
            _graph_block(pubinfo, info),
        ]
    )


def _source_triples(source: Source) -> list[ox.Triple]:
    node = _n(source.iri)
    triples = [ox.Triple(node, _n(_RDF_TYPE), _n(_PROV + "Entity"))]
    if source.title:
        triples.append(ox.Triple(node, _n(_DCT + "title"), ox.Literal(source.title)))
    if source.url:
        triples.append(ox.Triple(node, _n(_SCHEMA + "url"), _n(source.url)))
    if source.date:
        triples.append(ox.Triple(node, _n(_DCT + "date"), ox.Literal(source.date)))
    return triples


def fact_iris(store: ox.Store) -> list[str]:
    """Every fact of the release (instances of dk:Fact's subclasses), in IRI order."""
    rows = _rows(
        store,
        "SELECT DISTINCT ?f WHERE { ?f a ?c . ?c rdfs:subClassOf* dk:Fact . "
        "FILTER isIRI(?f) } ORDER BY ?f",
    )
    return [str(row["f"].value) for row in rows]


def export_nanopubs(store: ox.Store, out_dir: Path, version: str, release_date: date | str) -> int:
    """Write one nanopublication per fact, `<fact local name>.trig`; return how many."""
    out_dir.mkdir(parents=True, exist_ok=True)
    facts = fact_iris(store)
    for iri in facts:
        name = nanopub_base(iri, version).rstrip("/").rsplit("/", 1)[-1]
        (out_dir / f"{name}.trig").write_text(
            nanopublication(store, iri, version, release_date), encoding="utf-8"
        )
    return len(facts)
