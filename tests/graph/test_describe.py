"""The VoID/DCAT description (graph/describe.py): its counts match independent SPARQL counts."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, XSD

from graph import __version__
from graph.build import load_sources
from graph.describe import (
    DATASET,
    DCAT,
    VOID,
    VOID_FILE,
    VOID_GRAPH,
    WIKIDATA_LINKSET,
    describe,
    releases,
)
from graph.namespaces import DK, GRAPH, RES, SCHEMA, WD
from graph.validate import to_rdflib

NOT_VOID = f"FILTER(?g != <{VOID_GRAPH}>)"
DISTINCT_TRIPLES = f"SELECT DISTINCT ?s ?p ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {NOT_VOID} }}"


@pytest.fixture(scope="module")
def void(seed_dataset: Dataset) -> Graph:
    graph = seed_dataset.get_graph(VOID_GRAPH)
    assert graph is not None and len(graph) > 0
    return graph


@pytest.fixture(scope="module")
def store(built_dir: Path) -> ox.Store:
    """The build in Oxigraph: the independent side of every count (rdflib took ~30 s for them
    over the 20k quads of the imported lists)."""
    loaded = ox.Store()
    loaded.load(path=str(built_dir / "diplokg.nq"), format=ox.RdfFormat.N_QUADS)
    return loaded


def select(store: ox.Store, query: str) -> list[tuple[Any, ...]]:
    solutions = store.query(query)
    assert isinstance(solutions, ox.QuerySolutions)
    variables = solutions.variables
    return [tuple(to_rdflib(row[v]) for v in variables) for row in solutions]


def count(store: ox.Store, query: str) -> int:
    return int(select(store, query)[0][0])


def value(void: Graph, subject: URIRef, prop: URIRef) -> int:
    found = void.value(subject, prop)
    assert isinstance(found, Literal), (subject, prop)
    return int(found)


def test_triple_count_matches_sparql_count_without_the_description(
    store: ox.Store, void: Graph
) -> None:
    expected = count(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ {DISTINCT_TRIPLES} }}")
    assert value(void, DATASET, VOID.triples) == expected
    everything = count(
        store,
        "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o { GRAPH ?g { ?s ?p ?o } } }",
    )
    assert everything > expected  # the description itself is not counted


def test_entities_subjects_and_objects_match_sparql(store: ox.Store, void: Graph) -> None:
    entities = count(
        store,
        "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
        f'{NOT_VOID} FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{RES}")) }}',
    )
    subjects = count(
        store,
        f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {NOT_VOID} }}",
    )
    objects = count(
        store,
        f"SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {NOT_VOID} }}",
    )
    assert value(void, DATASET, VOID.entities) == entities
    assert value(void, DATASET, VOID.distinctSubjects) == subjects
    assert value(void, DATASET, VOID.distinctObjects) == objects
    assert entities > 0


def test_class_partitions_match_sparql(store: ox.Store, void: Graph) -> None:
    rows = select(
        store,
        "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { "
        f"GRAPH ?g {{ ?s a ?c }} {NOT_VOID} }} GROUP BY ?c",
    )
    expected = {row[0]: int(row[1]) for row in rows}  # type: ignore[index]
    partitions = {
        void.value(part, VOID["class"]): value(void, part, VOID.entities)
        for part in void.objects(DATASET, VOID.classPartition)
    }
    assert partitions == expected
    assert value(void, DATASET, VOID.classes) == len(expected)
    # the seed's nine states at least; the imported lists add their designators
    assert partitions[DK.State] >= 9
    assert partitions[DK.TerrorDesignation] > 900


def test_property_partitions_match_sparql(store: ox.Store, void: Graph) -> None:
    rows = select(store, f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ {DISTINCT_TRIPLES} }} GROUP BY ?p")
    expected = {row[0]: int(row[1]) for row in rows}  # type: ignore[index]
    partitions = {
        void.value(part, VOID.property): value(void, part, VOID.triples)
        for part in void.objects(DATASET, VOID.propertyPartition)
    }
    assert partitions == expected
    assert value(void, DATASET, VOID.properties) == len(expected)


def test_wikidata_linkset_counts_the_same_as_links(store: ox.Store, void: Graph) -> None:
    expected = count(
        store,
        "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?o WHERE { GRAPH ?g "
        f'{{ ?s <{OWL.sameAs}> ?o }} {NOT_VOID} FILTER(STRSTARTS(STR(?o), "{WD}")) }} }}',
    )
    assert (WIKIDATA_LINKSET, RDF.type, VOID.Linkset) in void
    assert (WIKIDATA_LINKSET, VOID.linkPredicate, OWL.sameAs) in void
    assert value(void, WIKIDATA_LINKSET, VOID.triples) == expected >= 14


def test_each_source_graph_is_a_subset_with_its_triples_and_article(
    seed_dataset: Dataset, void: Graph
) -> None:
    subset = GRAPH["russia-removes-taliban-from-terror-list"]
    assert (DATASET, VOID.subset, subset) in void
    graph = seed_dataset.get_graph(subset)
    assert graph is not None
    assert value(void, subset, VOID.triples) == len(graph)
    assert (subset, DCTERMS.source, RES["article-russia-removes-taliban-from-terror-list"]) in void
    assert (DATASET, VOID.subset, VOID_GRAPH) not in void


def list_subset(void: Graph, lst: URIRef) -> URIRef:
    found = [s for s in void.subjects(DCTERMS.subject, lst) if (DATASET, VOID.subset, s) in void]
    assert len(found) == 1, lst
    assert isinstance(found[0], URIRef)
    return found[0]


def test_each_designation_list_is_a_subset_counting_its_listings(
    store: ox.Store, void: Graph
) -> None:
    solutions = store.query(
        "SELECT ?list (COUNT(DISTINCT ?x) AS ?n) (COUNT(DISTINCT ?t) AS ?triples) "
        "(SAMPLE(?label) AS ?title) WHERE { "
        f"GRAPH ?g {{ ?list a <{DK.DesignationList}> ; <{RDFS.label}> ?label }} {NOT_VOID} "
        f"OPTIONAL {{ GRAPH ?h {{ ?x <{DK.underList}> ?list }} GRAPH ?k {{ ?x ?p ?o }} "
        'BIND(CONCAT(STR(?x), " ", STR(?p), " ", STR(?o)) AS ?t) } } GROUP BY ?list'
    )
    rows = [[to_rdflib(s[v]) for v in ("list", "n", "triples", "title")] for s in solutions]  # type: ignore[union-attr]
    expected = {
        row[0]: (int(row[1]), int(row[2]), row[3])  # type: ignore[index, arg-type, misc]
        for row in rows
    }
    assert len(expected) >= 7
    for lst, (listings, triples, label) in expected.items():
        assert isinstance(lst, URIRef)
        sub = list_subset(void, lst)
        assert (sub, RDF.type, VOID.Dataset) in void
        assert value(void, sub, VOID.entities) == listings
        assert value(void, sub, VOID.triples) == triples
        assert void.value(sub, DCTERMS.title) == label
    sdgt = list_subset(void, RES["list-us-sdgt"])
    assert value(void, sdgt, VOID.entities) > 800


def test_list_subsets_have_class_partitions_latest_version_and_sources(
    store: ox.Store, void: Graph
) -> None:
    rows = select(
        store,
        "SELECT ?list (MAX(STR(?d)) AS ?latest) WHERE { GRAPH ?g { ?v "
        f"<{DK.ofList}> ?list ; <{DK.versionDate}> ?d }} {NOT_VOID} }} GROUP BY ?list",
    )
    latest = {row[0]: str(row[1]) for row in rows}  # type: ignore[index]
    assert latest[RES["list-us-fto"]] == "2024-05-03"
    for lst, day in latest.items():
        assert isinstance(lst, URIRef)
        sub = list_subset(void, lst)
        assert void.value(sub, DCTERMS.modified) == Literal(day, datatype=XSD.date)
    fto = list_subset(void, RES["list-us-fto"])
    urls = select(
        store,
        f"SELECT DISTINCT ?url WHERE {{ GRAPH ?g {{ ?v <{DK.ofList}> <{RES['list-us-fto']}> ; "
        f"<{SCHEMA.url}> ?url }} }}",
    )
    assert set(void.objects(fto, DCTERMS.source)) == {row[0] for row in urls}  # type: ignore[index]
    assert URIRef("https://www.treasury.gov/ofac/downloads/sdn.csv") in set(
        void.objects(fto, DCTERMS.source)
    )
    (part,) = void.objects(fto, VOID.classPartition)
    assert isinstance(part, URIRef)
    assert void.value(part, VOID["class"]) == DK.TerrorDesignation
    fto_count = count(
        store,
        "SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE { GRAPH ?g { ?x a "
        f"<{DK.TerrorDesignation}> ; <{DK.underList}> <{RES['list-us-fto']}> }} {NOT_VOID} }}",
    )
    assert value(void, part, VOID.entities) == fto_count
    ru = list_subset(void, RES["list-ru-federal"])  # no version imported: no date, no source
    assert void.value(ru, DCTERMS.modified) is None


def test_metadata_version_license_dates_and_endpoint(void: Graph) -> None:
    assert (DATASET, RDF.type, DCAT.Dataset) in void
    assert str(void.value(DATASET, DCAT.version)) == __version__
    assert (
        DATASET,
        DCTERMS.license,
        URIRef("https://creativecommons.org/licenses/by/4.0/"),
    ) in void
    assert void.value(DATASET, DCTERMS.issued) == Literal("2026-11-23", datatype=XSD.date)
    assert void.value(DATASET, DCTERMS.modified) == Literal("2026-11-23", datatype=XSD.date)
    assert (DATASET, VOID.sparqlEndpoint, URIRef("https://w3id.org/diplokg/sparql")) in void
    assert void.value(DATASET, DCTERMS.publisher) is not None


def test_every_dump_is_a_distribution_with_media_type_and_download_url(void: Graph) -> None:
    dists = list(void.objects(DATASET, DCAT.distribution))
    assert len(dists) == 4
    for dist in dists:
        url = void.value(dist, DCAT.downloadURL)
        assert str(url).startswith(f"https://w3id.org/diplokg/download/{__version__}/diplokg.")
        assert (DATASET, VOID.dataDump, url) in void
        assert str(void.value(dist, DCAT.mediaType)).startswith(
            "https://www.iana.org/assignments/media-types/"
        )


def test_void_ttl_is_the_description_graph(built_dir: Path, void: Graph) -> None:
    on_disk = Graph().parse(built_dir / VOID_FILE, format="turtle")
    assert isomorphic(on_disk, void)


def test_description_ignores_a_previous_description() -> None:
    ds = load_sources()
    first = describe(ds)
    target = ds.graph(VOID_GRAPH)
    for triple in first:
        target.add(triple)
    assert isomorphic(describe(ds), first)


def test_release_dates_come_from_the_changelog(tmp_path: Path) -> None:
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text(
        "# Changelog\n\n## [Unreleased]\n\n## [0.2.0] - 2027-01-05\n\n## [0.1.0] - 2026-11-23\n",
        encoding="utf-8",
    )
    assert releases(changelog) == {"0.2.0": date(2027, 1, 5), "0.1.0": date(2026, 11, 23)}
    assert releases(tmp_path / "missing.md") == {}


def test_citation_cff_agrees_with_version_and_changelog() -> None:
    root = Path(__file__).resolve().parents[2]
    lines = (root / "CITATION.cff").read_text(encoding="utf-8").splitlines()
    assert "cff-version: 1.2.0" in lines
    assert f"version: {__version__}" in lines
    released = releases(root / "CHANGELOG.md")[__version__].isoformat()
    assert f'date-released: "{released}"' in lines
    assert "license: CC-BY-4.0" in lines
