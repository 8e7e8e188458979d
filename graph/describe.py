"""VoID (W3C Interest Group Note, 2011) and DCAT 3 description of the dataset, computed from the data."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from datetime import date
from pathlib import Path

from rdflib import Dataset, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, OWL, RDF, RDFS, XSD
from rdflib.term import Node

from graph import __version__
from graph.layout import PROJECT_ROOT
from graph.namespaces import BASE, DK, GRAPH, ONTOLOGY_IRI, PREFIXES, RES, SCHEMA, WD

log = logging.getLogger(__name__)

VOID = Namespace("http://rdfs.org/ns/void#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")

#: The named graph that holds the description (never counted in it).
VOID_GRAPH = GRAPH["void"]
#: The description's own document: /.well-known/void (VoID section 7.2); its terms are fragments.
VOID_DOCUMENT = BASE + ".well-known/void"
DATASET = URIRef(VOID_DOCUMENT + "#dataset")
PUBLISHER = URIRef(VOID_DOCUMENT + "#publisher")
SPARQL_SERVICE = URIRef(VOID_DOCUMENT + "#sparql-service")
WIKIDATA_DATASET = URIRef(VOID_DOCUMENT + "#wikidata")
WIKIDATA_LINKSET = URIRef(VOID_DOCUMENT + "#wikidata-links")

SPARQL_ENDPOINT = URIRef(BASE + "sparql")
DOWNLOAD_BASE = BASE + "download/"
LANDING_PAGE = URIRef(BASE.rstrip("/"))
LICENSE = URIRef("https://creativecommons.org/licenses/by/4.0/")
CHANGELOG = PROJECT_ROOT / "CHANGELOG.md"

TITLE = "DiploKG"
DESCRIPTION = (
    "An open knowledge graph of diplomatic recognition of governments, terrorist designations "
    "of organizations by states, and envoys, with the source article and verbatim evidence "
    "of every fact. All counts in this description are computed from the data at build time "
    f"and cover the dataset without the description itself (its own named graph {VOID_GRAPH})."
)

#: Dump suffix -> (media type, format IRI of the W3C formats registry).
DUMP_MEDIA: dict[str, tuple[str, str]] = {
    "trig": ("application/trig", "http://www.w3.org/ns/formats/TriG"),
    "nq": ("application/n-quads", "http://www.w3.org/ns/formats/N-Quads"),
    "ttl": ("text/turtle", "http://www.w3.org/ns/formats/Turtle"),
    "jsonld": ("application/ld+json", "http://www.w3.org/ns/formats/JSON-LD"),
}
DUMP_STEM = "diplokg"

_RELEASE = re.compile(r"^##\s*\[?v?(\d+\.\d+\.\d+[^\]\s]*)\]?\s*[-–—]\s*(\d{4}-\d{2}-\d{2})")


def releases(changelog: Path = CHANGELOG) -> dict[str, date]:
    """Version -> release date, from a Keep a Changelog file ("## [0.1.0] - 2026-11-23")."""
    found: dict[str, date] = {}
    try:
        text = changelog.read_text(encoding="utf-8")
    except OSError:
        log.warning("no %s: the description has no issued/modified dates", changelog)
        return found
    for line in text.splitlines():
        m = _RELEASE.match(line.strip())
        if m:
            found[m.group(1)] = date.fromisoformat(m.group(2))
    return found


def download_url(suffix: str, version: str = __version__) -> URIRef:
    """Where the dump of a version is published."""
    return URIRef(f"{DOWNLOAD_BASE}{version}/{DUMP_STEM}.{suffix}")


def describe(ds: Dataset, *, changelog: Path = CHANGELOG) -> Graph:
    """The VoID + DCAT description of `ds` (its VOID_GRAPH, if any, is left out of every count)."""
    graphs = [
        g
        for g in sorted(ds.graphs(), key=lambda g: str(g.identifier))
        if g.identifier != VOID_GRAPH and len(g)
    ]
    triples: set[tuple[Node, Node, Node]] = set()
    for g in graphs:
        triples.update(g)
    out = Graph()
    for name, iri in {**PREFIXES, "void": str(VOID), "dcat": str(DCAT), "foaf": str(FOAF)}.items():
        out.bind(name, iri, override=True, replace=True)
    d = DATASET
    add = out.add
    add((d, RDF.type, VOID.Dataset))
    add((d, RDF.type, DCAT.Dataset))
    add((d, DCTERMS.title, Literal(TITLE, lang="en")))
    add((d, DCTERMS.description, Literal(DESCRIPTION, lang="en")))
    add((d, DCAT.version, Literal(__version__)))
    add((d, OWL.versionInfo, Literal(__version__)))
    add((d, DCTERMS.license, LICENSE))
    add((d, DCTERMS.publisher, PUBLISHER))
    add((d, DCTERMS.creator, PUBLISHER))
    add((d, DCAT.landingPage, LANDING_PAGE))
    add((d, FOAF.homepage, LANDING_PAGE))
    for word in ("diplomatic recognition", "terrorist designation", "envoy", "knowledge graph"):
        add((d, DCAT.keyword, Literal(word, lang="en")))
    dates = releases(changelog)
    if dates:
        add((d, DCTERMS.issued, Literal(min(dates.values()).isoformat(), datatype=XSD.date)))
        modified = dates.get(__version__, max(dates.values()))
        add((d, DCTERMS.modified, Literal(modified.isoformat(), datatype=XSD.date)))
    add((PUBLISHER, RDF.type, FOAF.Organization))
    add((PUBLISHER, FOAF.name, Literal("DiploKG contributors")))
    add((PUBLISHER, FOAF.homepage, LANDING_PAGE))

    # --- counts ---------------------------------------------------------------------------
    subjects = {s for s, _, _ in triples}
    instances: dict[Node, set[Node]] = defaultdict(set)
    per_property: dict[Node, int] = defaultdict(int)
    for s, p, o in triples:
        per_property[p] += 1
        if p == RDF.type:
            instances[o].add(s)
    entities = {s for s in subjects if isinstance(s, URIRef) and str(s).startswith(str(RES))}
    add((d, VOID.triples, _int(len(triples))))
    add((d, VOID.entities, _int(len(entities))))
    add((d, VOID.uriSpace, Literal(str(RES))))
    add((d, VOID.distinctSubjects, _int(len(subjects))))
    add((d, VOID.distinctObjects, _int(len({o for _, _, o in triples}))))
    add((d, VOID.properties, _int(len(per_property))))
    add((d, VOID.classes, _int(len(instances))))
    for vocabulary in _vocabularies(set(per_property) | set(instances)):
        add((d, VOID.vocabulary, vocabulary))
    for cls in sorted(instances, key=str):
        part = _part("class", cls)
        add((d, VOID.classPartition, part))
        add((part, VOID["class"], cls))
        add((part, VOID.entities, _int(len(instances[cls]))))
    for prop in sorted(per_property, key=str):
        part = _part("property", prop)
        add((d, VOID.propertyPartition, part))
        add((part, VOID.property, prop))
        add((part, VOID.triples, _int(per_property[prop])))

    # --- access: SPARQL endpoint and dumps ----------------------------------------------------
    add((d, VOID.sparqlEndpoint, SPARQL_ENDPOINT))
    add((SPARQL_SERVICE, RDF.type, DCAT.DataService))
    add((SPARQL_SERVICE, DCTERMS.title, Literal("DiploKG SPARQL endpoint", lang="en")))
    add((SPARQL_SERVICE, DCAT.endpointURL, SPARQL_ENDPOINT))
    add((SPARQL_SERVICE, DCTERMS.conformsTo, URIRef("https://www.w3.org/TR/sparql11-protocol/")))
    add((SPARQL_SERVICE, DCAT.servesDataset, d))
    for suffix, (media, fmt) in DUMP_MEDIA.items():
        url = download_url(suffix)
        dist = URIRef(f"{VOID_DOCUMENT}#dump-{suffix}")
        add((d, VOID.dataDump, url))
        add((d, DCAT.distribution, dist))
        add((dist, RDF.type, DCAT.Distribution))
        add((dist, DCTERMS.title, Literal(f"DiploKG {__version__} dump ({media})", lang="en")))
        add((dist, DCAT.downloadURL, url))
        add((dist, DCAT.accessURL, url))
        add((dist, DCAT.mediaType, URIRef(f"https://www.iana.org/assignments/media-types/{media}")))
        add((dist, DCTERMS.format, URIRef(fmt)))
        add((dist, DCTERMS.license, LICENSE))

    # --- sources: one subset per named graph --------------------------------------------------
    for g in graphs:
        if not isinstance(g.identifier, URIRef) or not str(g.identifier).startswith(BASE):
            continue
        sub = g.identifier
        add((d, VOID.subset, sub))
        add((sub, RDF.type, VOID.Dataset))
        add((sub, VOID.triples, _int(len(g))))
        articles = sorted(
            {
                s
                for kind in (DK.SourceArticle, DK.ListVersion)
                for s in g.subjects(RDF.type, kind)
                if isinstance(s, URIRef)
            }
        )
        for article in articles:
            add((sub, DCTERMS.source, article))
            label = g.value(article, RDFS.label)
            if label is not None:
                add((sub, DCTERMS.title, Literal(f"Facts from: {label}", lang="en")))
        if sub == ONTOLOGY_IRI:
            add((sub, DCTERMS.title, Literal("The DiploKG ontology", lang="en")))
        elif not articles:
            add((sub, DCTERMS.title, Literal(f"Curated graph {_local(sub)}", lang="en")))

    # --- one subset per designation list: the listings under it -------------------------
    _list_subsets(out, triples, instances)

    # --- links to Wikidata --------------------------------------------------------------------
    links = {(s, p, o) for s, p, o in triples if p == OWL.sameAs and str(o).startswith(str(WD))}
    add((d, VOID.subset, WIKIDATA_LINKSET))
    add((WIKIDATA_LINKSET, RDF.type, VOID.Linkset))
    add((WIKIDATA_LINKSET, VOID.linkPredicate, OWL.sameAs))
    add((WIKIDATA_LINKSET, VOID.subjectsTarget, d))
    add((WIKIDATA_LINKSET, VOID.objectsTarget, WIKIDATA_DATASET))
    add((WIKIDATA_LINKSET, VOID.triples, _int(len(links))))
    add((WIKIDATA_DATASET, RDF.type, VOID.Dataset))
    add((WIKIDATA_DATASET, DCTERMS.title, Literal("Wikidata", lang="en")))
    add((WIKIDATA_DATASET, VOID.uriSpace, Literal(str(WD))))
    add((WIKIDATA_DATASET, VOID.sparqlEndpoint, URIRef("https://query.wikidata.org/sparql")))
    add((WIKIDATA_DATASET, FOAF.homepage, URIRef("https://www.wikidata.org/")))
    return out


def _list_subsets(
    out: Graph, triples: set[tuple[Node, Node, Node]], instances: dict[Node, set[Node]]
) -> None:
    """For each dk:DesignationList, a subset describing the listings under it (dk:underList):
    how many (void:entities), their triples and classes, the list's latest version date
    (dct:modified, the greatest dk:versionDate of its dk:ListVersions) and where those
    versions are published (dct:source, their schema:url)."""
    by_subject: dict[Node, list[tuple[Node, Node]]] = defaultdict(list)
    for s, p, o in triples:
        by_subject[s].append((p, o))
    listings: dict[Node, set[Node]] = defaultdict(set)
    versions: dict[Node, set[Node]] = defaultdict(set)
    for s, p, o in triples:
        if p == DK.underList:
            listings[o].add(s)
        elif p == DK.ofList:
            versions[o].add(s)
    add = out.add
    for lst in sorted(instances.get(DK.DesignationList, set()), key=str):
        sub = _part("listings", lst)
        members = listings.get(lst, set())
        add((DATASET, VOID.subset, sub))
        add((sub, RDF.type, VOID.Dataset))
        add((sub, DCTERMS.subject, lst))
        add((sub, DCTERMS.title, Literal(_label(by_subject[lst], lst), lang="en")))
        add((sub, VOID.entities, _int(len(members))))
        add((sub, VOID.triples, _int(sum(len(by_subject[m]) for m in members))))
        classes: dict[Node, int] = defaultdict(int)
        for member in members:
            for p, o in by_subject[member]:
                if p == RDF.type:
                    classes[o] += 1
        for cls in sorted(classes, key=str):
            part = URIRef(f"{sub}-{_part('class', cls).split('#', 1)[1]}")
            add((sub, VOID.classPartition, part))
            add((part, VOID["class"], cls))
            add((part, VOID.entities, _int(classes[cls])))
        under = URIRef(f"{sub}-property-dk-underList")
        add((sub, VOID.propertyPartition, under))
        add((under, VOID.property, DK.underList))
        add((under, VOID.triples, _int(len(members))))
        dates = [
            o
            for v in versions.get(lst, set())
            for p, o in by_subject[v]
            if p == DK.versionDate and isinstance(o, Literal)
        ]
        if dates:
            latest = max(dates, key=str)
            add((sub, DCTERMS.modified, Literal(str(latest), datatype=XSD.date)))
        for v in versions.get(lst, set()):
            for p, o in by_subject[v]:
                if p == SCHEMA.url and isinstance(o, URIRef):
                    add((sub, DCTERMS.source, o))
        for p, o in by_subject[lst]:
            if p == SCHEMA.url and isinstance(o, URIRef):
                add((sub, DCAT.landingPage, o))


def _label(pairs: list[tuple[Node, Node]], node: Node) -> str:
    """The English (else any) rdfs:label among `pairs`, else the node's short name."""
    found = sorted(
        (o.language != "en", str(o)) for p, o in pairs if p == RDFS.label and isinstance(o, Literal)
    )
    return found[0][1] if found else _local(node)


def _int(n: int) -> Literal:
    return Literal(n, datatype=XSD.integer)


def _local(iri: Node) -> str:
    text = str(iri)
    for name, ns in sorted(PREFIXES.items(), key=lambda kv: -len(kv[1])):
        if text.startswith(ns) and len(text) > len(ns):
            return f"{name}:{text[len(ns) :]}"
    return text


def _part(kind: str, term: Node) -> URIRef:
    """A readable fragment IRI for a partition: #class-dk-State, #property-rdfs-label."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", _local(term)).strip("-")
    return URIRef(f"{VOID_DOCUMENT}#{kind}-{slug}")


def _vocabularies(terms: set[Node]) -> list[URIRef]:
    """The namespaces (of PREFIXES) that the properties and classes used come from."""
    instance_spaces = {str(RES), str(GRAPH), str(WD)}
    found: set[str] = set()
    for term in terms:
        text = str(term)
        matches = [ns for ns in PREFIXES.values() if text.startswith(ns)]
        if matches:
            ns = max(matches, key=len)
            if ns not in instance_spaces:
                found.add(ns)
    return [ONTOLOGY_IRI if ns == str(DK) else URIRef(ns) for ns in sorted(found)]


#: The file `build` writes the description to, next to the dumps.
VOID_FILE = "void.ttl"


def void_turtle(description: Graph) -> str:
    """The description as Turtle, byte-for-byte stable (sorted triples, fixed prefixes)."""
    out = Graph()
    for name, iri in {**PREFIXES, "void": str(VOID), "dcat": str(DCAT), "foaf": str(FOAF)}.items():
        out.bind(name, iri, override=True, replace=True)
    for triple in sorted(description):
        out.add(triple)
    return str(out.serialize(format="turtle"))
