"""What the Linked Data pages read, through the query service: bounded descriptions, labels, the ontology.

Every query goes through api.queries like a query to /sparql (cache, workers, time limit), so
no request blocks the event loop; parsing happens in a thread. The description of an entity is the concise bounded description of docs/linked-data.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, SKOS
from rdflib.term import Node
from starlette.concurrency import run_in_threadpool

from api.linkeddata.site import site
from api.problems import not_ready
from api.queries import QueryService
from graph.namespaces import DK, ONTOLOGY_IRI, RES, SCHEMA
from graph.writes.commits import CHANGE

Quad = tuple[Node, Node, Node, Node]

#: Properties of a fact pointing to an entity that travel with the entity's description.
FACT_CONTEXT = (
    RDF.type,
    RDFS.label,
    PROV.wasDerivedFrom,
    DK.evidence,
    DK.startDate,
    DK.endDate,
    DK.date,
    DK.asOf,
    DK.hasEnded,
)
#: Entity descriptions kept in memory (least recently used dropped first).
DESCRIPTIONS_KEPT = 512


def queries(request: Request) -> QueryService:
    """The app's query service, or 503 while the workers start."""
    found: QueryService | None = getattr(request.app.state, "queries", None)
    if found is None or not found.pool.ready:
        raise not_ready()
    return found


async def run(request: Request, query: str, fmt: str) -> bytes:
    """The result of `query` serialized as `fmt`."""
    return (await queries(request).run(query, fmt)).body


async def select(request: Request, query: str) -> list[dict[str, Node]]:
    """The rows of a SELECT query run in a worker, as rdflib terms keyed by variable."""
    body = await run(request, query, "json")
    data = json.loads(body)
    return [
        {name: term(value) for name, value in binding.items()}
        for binding in data["results"]["bindings"]
    ]


async def construct(request: Request, query: str) -> Graph:
    """The graph of a CONSTRUCT query run in a worker, parsed off the event loop."""
    body = await run(request, query, "ntriples")
    return await run_in_threadpool(parse, body, "nt")


def parse(body: bytes, fmt: str) -> Graph:
    graph = Graph()
    graph.parse(data=body, format=fmt)
    return graph


def term(value: Mapping[str, str]) -> Node:
    """One term of a SPARQL JSON result (SPARQL 1.1 Query Results JSON Format §3.2.2)."""
    kind = value["type"]
    if kind == "uri":
        return URIRef(value["value"])
    if kind == "bnode":
        return BNode(value["value"])
    datatype = value.get("datatype")
    return Literal(
        value["value"], lang=value.get("xml:lang"), datatype=URIRef(datatype) if datatype else None
    )


# --- labels of the vocabulary and the sources, fetched once --------------------------------


@dataclass
class Catalogue:
    """Labels of the ontology's terms and the source article of each named graph."""

    labels: dict[Node, str] = field(default_factory=dict)
    comments: dict[Node, str] = field(default_factory=dict)
    #: named graph -> (source article, its label)
    articles: dict[Node, tuple[Node, str]] = field(default_factory=dict)
    graphs: list[URIRef] = field(default_factory=list)


CATALOGUE_QUERY = f"""
PREFIX rdfs: <{RDFS}>
PREFIX dk: <{DK}>
SELECT ?term ?label ?comment ?g ?article ?title WHERE {{
  {{ GRAPH <{ONTOLOGY_IRI}> {{ ?term rdfs:label ?label }} }}
  UNION {{ GRAPH <{ONTOLOGY_IRI}> {{ ?term rdfs:comment ?comment }} }}
  UNION {{ GRAPH ?g {{ ?article a dk:SourceArticle ; rdfs:label ?title }} }}
}}
"""


async def catalogue(request: Request) -> Catalogue:
    """The vocabulary's labels and the sources of the named graphs (queried once per app)."""
    s = site(request)
    if s.catalogue is None:
        found = Catalogue()
        for row in await select(request, CATALOGUE_QUERY):
            if "label" in row:
                found.labels[row["term"]] = str(row["label"])
            elif "comment" in row:
                found.comments[row["term"]] = str(row["comment"])
            elif "article" in row:
                found.articles[row["g"]] = (row["article"], str(row.get("title", row["article"])))
        info = queries(request).store_info()
        found.graphs = sorted(URIRef(g) for g in (info.named_graphs if info else ()))
        s.catalogue = found
    return s.catalogue


# --- entities ------------------------------------------------------------------------------


def description_query(iri: str, *, page: bool = False, own: bool = False) -> str:
    """The concise bounded description of `iri` as quads (see docs/linked-data.md), in two
    parts: its `own` triples with the labels of what they point to, else the facts pointing to
    it with their context (asked apart, so that a thousand facts pointing to an entity, cut at
    the row limit, never cut its own triples). For the HTML `page`, without the facts pointing
    to it that are taken from a list version: the page shows those in its table of listings
    (a version carries hundreds)."""
    e = f"<{iri}>"
    imported = (
        f"MINUS {{ ?{{f}} prov:wasDerivedFrom ?version . ?version a <{DK.ListVersion}> }}"
        if page
        else ""
    )
    labels = "rdf:type, rdfs:label, skos:prefLabel"
    context = ", ".join(f"<{p}>" for p in FACT_CONTEXT)
    # A commit's record names the entity (dk:changed): that is its history, shown apart
    # (history_query), not a fact about it.
    records = f'FILTER(!STRSTARTS(STR(?{{g}}), "{CHANGE}"))'
    if own:
        return f"""
PREFIX rdf: <{RDF}>
PREFIX rdfs: <{RDFS}>
PREFIX skos: <{SKOS}>
SELECT DISTINCT ?s ?p ?o ?g WHERE {{
  {{ GRAPH ?g {{ {e} ?p ?o }} BIND({e} AS ?s) }}
  UNION {{ GRAPH ?g1 {{ {e} ?p1 ?s }} FILTER(isIRI(?s))
           GRAPH ?g {{ ?s ?p ?o }} FILTER(?p IN ({labels})) }}
}}
"""
    return f"""
PREFIX rdf: <{RDF}>
PREFIX rdfs: <{RDFS}>
PREFIX skos: <{SKOS}>
PREFIX prov: <{PROV}>
SELECT DISTINCT ?s ?p ?o ?g WHERE {{
  {{ GRAPH ?g {{ ?s ?p {e} }} {records.replace("{g}", "g")} BIND({e} AS ?o)
     {imported.replace("{f}", "s")} }}
  UNION {{ GRAPH ?g1 {{ ?s ?p1 {e} }} {records.replace("{g}", "g1")} {imported.replace("{f}", "s")}
           GRAPH ?g {{ ?s ?p ?o }} FILTER(?p IN ({context})) }}
  UNION {{ GRAPH ?g1 {{ ?f ?p1 {e} . ?f prov:wasDerivedFrom ?s }} {imported.replace("{f}", "f")}
           GRAPH ?g {{ ?s ?p ?o }} FILTER(?p IN ({labels})) }}
}}
"""


async def describe(request: Request, iri: str, *, page: bool = False) -> list[Quad]:
    """The description of `iri` as quads (for its HTML `page`: see description_query); kept
    in a small LRU (the served dataset is read-only)."""
    kept = site(request).descriptions
    key = f"page {iri}" if page else iri
    found = kept.get(key)
    if found is None:
        found = []
        for own in (True, False):
            rows = await select(request, description_query(iri, page=page, own=own))
            found += [(r["s"], r["p"], r["o"], r["g"]) for r in rows]
        kept[key] = found
        while len(kept) > DESCRIPTIONS_KEPT:
            kept.popitem(last=False)
    else:
        kept.move_to_end(key)
    return found


def triples(quads: Iterable[Quad]) -> Graph:
    """The quads merged into one graph (the RDF representations are triples)."""
    graph = Graph()
    for s, p, o, _ in quads:
        graph.add((s, p, o))
    return graph


RESOURCE_INDEX_QUERY = f"""
PREFIX rdfs: <{RDFS}>
SELECT DISTINCT ?s ?type ?label WHERE {{
  ?s a ?type . OPTIONAL {{ ?s rdfs:label ?label }}
  FILTER(STRSTARTS(STR(?s), "{RES}"))
}} ORDER BY ?type ?label ?s
"""


async def resource_index(request: Request) -> list[dict[str, Node]]:
    """Every DiploKG entity with its types and label."""
    return await select(request, RESOURCE_INDEX_QUERY)


# --- the ontology, named graphs and shapes -------------------------------------------------


async def ontology_graph(request: Request) -> Graph:
    """The ontology's named graph (queried once per app)."""
    s = site(request)
    if s.ontology is None:
        s.ontology = await construct(
            request, f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{ONTOLOGY_IRI}> {{ ?s ?p ?o }} }}"
        )
    return s.ontology


async def named_graph_body(request: Request, iri: str, fmt: str) -> bytes:
    """Exactly the triples of the named graph `iri`, serialized by a worker as `fmt`."""
    return await run(
        request, f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}", fmt
    )


async def named_graph_subjects(request: Request, iri: str) -> list[dict[str, Node]]:
    """The subjects of the named graph `iri` with a label, a type and their number of triples."""
    return await select(
        request,
        f"""PREFIX rdfs: <{RDFS}>
SELECT ?s (SAMPLE(?l) AS ?label) (SAMPLE(?t) AS ?type) (COUNT(*) AS ?n) WHERE {{
  GRAPH <{iri}> {{ ?s ?p ?o OPTIONAL {{ ?s rdfs:label ?l }} OPTIONAL {{ ?s a ?t }} }}
}} GROUP BY ?s ORDER BY ?s""",
    )


def load_shapes(shapes_dir: Path) -> Graph:
    """The SHACL shapes the data is validated against (every Turtle file of `shapes_dir`)."""
    graph = Graph()
    for path in sorted(shapes_dir.glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


# --- history of an entity (curated writes, docs/writes.md) ------------------------------------

#: Changes shown on an entity's page, newest first.
HISTORY_SHOWN = 50


def history_query(iri: str, limit: int = HISTORY_SHOWN) -> str:
    """The commits that added or removed a quad about `iri` (as subject or object), newest
    first, with their agent, time, message and change (dk:patch)."""
    return f"""
PREFIX rdfs: <{RDFS}>
PREFIX prov: <{PROV}>
PREFIX dk: <{DK}>
SELECT ?commit ?agent ?ended ?message ?patch WHERE {{
  GRAPH ?commit {{
    ?commit dk:changed <{iri}> ;
      prov:endedAtTime ?ended ; prov:wasAssociatedWith/rdfs:label ?agent .
    OPTIONAL {{ ?commit rdfs:comment ?message }}
    OPTIONAL {{ ?commit dk:patch ?patch }}
  }}
}} ORDER BY DESC(?ended) LIMIT {int(limit)}
"""


async def history(request: Request, iri: str) -> list[dict[str, Node]]:
    """What curated writes changed about `iri`; nothing on a server that takes no writes."""
    if getattr(request.app.state, "writes", None) is None:
        return []
    return await select(request, history_query(iri))


# --- listings of an entity (the table of an organization's, a list's or a version's page) ----

#: The classes of a listing (the data types each listing with its own class, not dk:Listing).
LISTING_TYPES = (DK.TerrorDesignation, DK.SanctionsListing, DK.Listing)
#: Listings shown per page of an entity's table (a list version carries hundreds).
LISTINGS_SHOWN = 100
#: The columns of a listing's row: variable -> property of the listing.
LISTING_COLUMNS = {
    "entry": DK.listEntryId,
    "listingDate": DK.listingDate,
    "startDate": DK.startDate,
    "startedAfter": DK.startedAfter,
    "startedNoLaterThan": DK.startedNoLaterThan,
    "endDate": DK.endDate,
    "endedAfter": DK.endedAfter,
    "endedNoLaterThan": DK.endedNoLaterThan,
    "hasEnded": DK.hasEnded,
}


def _listings_of(iri: str) -> str:
    kinds = " ".join(f"<{t}>" for t in LISTING_TYPES)
    return f"VALUES ?listingType {{ {kinds} }} ?listing ?role <{iri}> ; a ?listingType ."


def listings_count_query(iri: str) -> str:
    """How many listings point to `iri` (any property: organization, list, state, version)."""
    return f"SELECT (COUNT(DISTINCT ?listing) AS ?n) WHERE {{ {_listings_of(iri)} }}"


def listings_query(iri: str, offset: int, limit: int = LISTINGS_SHOWN) -> str:
    """One page of the listings pointing to `iri`, with the table's columns: the listing's
    class, label, organization, designator (state or international body), list, entry id,
    dates and bounds, end kind (each with its label). Rows repeat a listing only when one of
    these has several values."""
    optional = "\n".join(
        f"  OPTIONAL {{ ?listing <{p}> ?{v} }}" for v, p in LISTING_COLUMNS.items()
    )
    kinds = ", ".join(f"<{t}>" for t in LISTING_TYPES)
    return f"""PREFIX rdfs: <{RDFS}>
PREFIX skos: <{SKOS}>
PREFIX dk: <{DK}>
SELECT * WHERE {{
  {{ SELECT DISTINCT ?listing WHERE {{ {_listings_of(iri)} }}
     ORDER BY ?listing OFFSET {int(offset)} LIMIT {int(limit)} }}
  ?listing a ?kind . FILTER(?kind IN ({kinds}))
  OPTIONAL {{ ?listing rdfs:label ?label }}
  OPTIONAL {{ ?listing dk:designatedOrganization ?organization
             OPTIONAL {{ ?organization rdfs:label ?organizationLabel }} }}
  OPTIONAL {{ ?listing dk:designatingState|dk:listingBody ?designator
             OPTIONAL {{ ?designator rdfs:label ?designatorLabel }} }}
  OPTIONAL {{ ?listing dk:underList ?list OPTIONAL {{ ?list rdfs:label ?listLabel }} }}
  OPTIONAL {{ ?listing dk:endKind ?endKind OPTIONAL {{ ?endKind skos:prefLabel ?endKindLabel }} }}
{optional}
}}
"""


def listing_sources_query(listings: Iterable[Node]) -> str:
    """The sources of `listings`: list versions with their date, articles with theirs."""
    values = " ".join(f"<{n}>" for n in listings if isinstance(n, URIRef))
    return f"""PREFIX rdfs: <{RDFS}>
PREFIX prov: <{PROV}>
PREFIX dk: <{DK}>
PREFIX schema: <{SCHEMA}>
SELECT ?listing ?source ?sourceLabel ?sourceDate WHERE {{
  VALUES ?listing {{ {values} }}
  ?listing prov:wasDerivedFrom ?source .
  OPTIONAL {{ ?source rdfs:label ?sourceLabel }}
  OPTIONAL {{ ?source dk:versionDate|schema:datePublished ?sourceDate }}
}}
"""


@dataclass
class ListingRows:
    """A page of the listings pointing to an entity: their rows, their sources, how many."""

    rows: list[dict[str, Node]]
    sources: list[dict[str, Node]]
    total: int
    offset: int


async def listings(request: Request, iri: str, page: int) -> ListingRows:
    """The `page`-th (1-based) page of the listings pointing to `iri`; none if it has none."""
    counted = await select(request, listings_count_query(iri))
    total = int(str(counted[0]["n"])) if counted else 0
    if not total:
        return ListingRows([], [], 0, 0)
    offset = (page - 1) * LISTINGS_SHOWN
    if offset >= total:  # past the last page: no query (Virtuoso refuses an OFFSET past 10,000)
        return ListingRows([], [], total, offset)
    rows = await select(request, listings_query(iri, offset))
    found = {r["listing"] for r in rows}
    sources = await select(request, listing_sources_query(sorted(found, key=str))) if found else []
    return ListingRows(rows, sources, total, offset)
