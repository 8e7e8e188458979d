"""The web interface (issue 6): the SPARQL editor home page and the timeline of the graph's events.

Both pages are rendered on the server and work without JavaScript; the home page loads YASGUI
from api/static/vendor/ (installed by `make assets` from the pinned npm package) when present.
Queries go through the query service (api.queries), like every other page.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from rdflib import Literal, URIRef
from rdflib.namespace import PROV, RDFS
from rdflib.term import Node
from starlette.responses import Response

from api.linkeddata.describe import catalogue, queries, select, term
from api.linkeddata.site import STATIC_DIR, page, short, site
from api.problems import Problem
from graph.catalog import ExampleQuery, load_examples
from graph.namespaces import BASE, DK, PREFIXES, RES, sparql_prologue

log = logging.getLogger(__name__)

router = APIRouter(tags=["web interface"])

VENDOR = STATIC_DIR / "vendor"
#: What the query form asks for: a table (SELECT, ASK) in SPARQL JSON, a graph in Turtle.
RESULT_ACCEPT = "application/sparql-results+json, text/turtle"
#: Shown in the editor when no query or example is asked for.
DEFAULT_QUERY = (
    sparql_prologue()
    + """
# Every recognition, with its date and source. Pick an example below for more.
SELECT ?recognition ?state ?government ?date ?source WHERE {
  ?recognition a dk:Recognition ;
      dk:recognizingState ?state ;
      dk:recognizedGovernment ?government ;
      dk:startDate ?date ;
      prov:wasDerivedFrom ?source .
}
ORDER BY ?date
"""
)
#: Result formats offered for download (all work without JavaScript: plain /sparql links).
DOWNLOADS = (("csv", "CSV"), ("json", "JSON"), ("tsv", "TSV"), ("xml", "XML"))


def examples() -> list[ExampleQuery]:
    return load_examples()


@dataclass
class Cell:
    text: str
    link: str | None
    title: str = ""


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Cell]]
    boolean: bool | None = None
    graph: str | None = None


def _cell(node: Node | None, href: Callable[[object], str | None]) -> Cell:
    if node is None:
        return Cell("", None)
    if isinstance(node, URIRef):
        local = href(node)
        return Cell(short(node), local or str(node), str(node))
    if isinstance(node, Literal):
        return Cell(str(node), None, short(node.datatype) if node.datatype else "")
    return Cell(str(node), None)


async def _answer(request: Request, query: str) -> tuple[Table | None, str | None]:
    """The result of `query` as a table for the page, or the error message to show instead."""
    s = site(request)
    try:
        found = await queries(request).run(query, accept=RESULT_ACCEPT)
    except Problem as exc:
        return None, exc.detail
    if found.format == "turtle":
        return Table([], [], graph=found.body.decode("utf-8")), None
    data = json.loads(found.body)
    if "boolean" in data:
        return Table([], [], boolean=bool(data["boolean"])), None
    columns = list(data["head"]["vars"])
    rows = [
        [_cell(term(binding[c]) if c in binding else None, s.href) for c in columns]
        for binding in data["results"]["bindings"]
    ]
    return Table(columns, rows), None


@router.get("/", summary="The SPARQL query editor with example queries (HTML)")
async def home(request: Request) -> Response:
    params = request.query_params
    listed = examples()
    chosen = next((e for e in listed if e.name == params.get("example")), None)
    query = params.get("query") or (chosen.body if chosen else None)
    table: Table | None = None
    error: str | None = None
    status = 200
    if params.get("query"):
        table, error = await _answer(request, params["query"])
        status = 400 if error else 200
    text = query or DEFAULT_QUERY
    s = site(request)
    config = {
        "endpoint": s.prefix + "/sparql",
        "base": BASE,
        "local": s.prefix + "/",
        "prefixes": PREFIXES,
        "examples": {e.name: e.body for e in listed},
        "query": text,
    }
    return page(
        request,
        "home.html",
        status,
        title="Query DiploKG",
        examples=listed,
        query=text,
        table=table,
        error=error,
        downloads=[(label, _sparql_link(s.prefix, text, fmt)) for fmt, label in DOWNLOADS],
        yasgui=(VENDOR / "yasgui.min.js").is_file() and (VENDOR / "yasgui.min.css").is_file(),
        config=config,
        prefixes=PREFIXES,
    )


def _sparql_link(prefix: str, query: str, fmt: str) -> str:
    return f"{prefix}/sparql?" + urlencode({"query": query, "format": fmt})


# --- timeline -----------------------------------------------------------------------------

#: What kind of date each property gives, as graph/queries/17-timeline.rq names it.
DATE_PROPERTIES = (
    (DK.startDate, "start"),
    (DK.endDate, "end"),
    (DK.date, "date"),
    (DK.asOf, "as of"),
)
ACTOR_TYPES = {
    "state": (DK.State,),
    "organization": (DK.NonStateOrganization, DK.Government),
}
#: A page of the timeline: one year. The whole timeline grows with the graph (89,000 dated
#: events at 1 million triples: seconds to sort, megabytes to send); a year of it stays small.
YEAR = re.compile(r"[0-9]{4}")


def _involving(actors: list[URIRef]) -> str:
    """The events involving every actor (any property of the fact pointing to it), as a
    subquery to start from: so the engine looks up the actors' facts, not every dated fact."""
    if not actors:
        return ""
    patterns = " ".join(f"?event ?role{i} <{a}> ." for i, a in enumerate(actors))
    return f"  {{ SELECT DISTINCT ?event WHERE {{ {patterns} }} }}\n"


def timeline_query(actors: list[URIRef], year: str) -> str:
    """graph/queries/17-timeline.rq with labels, for `year`, restricted to events involving
    every actor. The year is a literal in the FILTER, which Oxigraph applies right after the
    date pattern (a variable there would be applied after the joins: 7x slower at 1M)."""
    if not YEAR.fullmatch(year):
        raise ValueError(f"not a four-digit year: {year!r}")
    values = " ".join(f'(<{p}> "{what}")' for p, what in DATE_PROPERTIES)
    return f"""PREFIX dk: <{DK}>
PREFIX rdfs: <{RDFS}>
PREFIX prov: <{PROV}>
SELECT ?date ?event ?kind ?what ?source ?eventLabel ?sourceLabel WHERE {{
{_involving(actors)}  VALUES (?property ?what) {{ {values} }}
  ?event ?property ?date .
  FILTER(STRSTARTS(STR(?date), "{year}"))
  ?event a ?kind ; prov:wasDerivedFrom ?source .
  # as in 17-timeline.rq: the fact's own dk: class, with no property path (Virtuoso mishandles
  # a join through rdfs:subClassOf*)
  FILTER(STRSTARTS(STR(?kind), STR(dk:)))
  FILTER NOT EXISTS {{ ?event a ?sub . ?sub rdfs:subClassOf ?kind . }}
  OPTIONAL {{ ?event rdfs:label ?eventLabel }}
  OPTIONAL {{ ?source rdfs:label ?sourceLabel }}
}}
ORDER BY STR(?date) ?event ?what
"""


def years_query(actors: list[URIRef]) -> str:
    """The years that have dated, sourced facts involving every actor, with how many dates
    each: the pages of the timeline (one pass over the dates, no sort of the events)."""
    properties = " ".join(f"<{p}>" for p, _ in DATE_PROPERTIES)
    return f"""PREFIX prov: <{PROV}>
SELECT ?year (COUNT(*) AS ?events) WHERE {{
{_involving(actors)}  VALUES ?property {{ {properties} }}
  ?event ?property ?date ; prov:wasDerivedFrom ?source .
  BIND(SUBSTR(STR(?date), 1, 4) AS ?year)
}}
GROUP BY ?year
ORDER BY ?year
"""


#: The filter's choices: every state, organization and government with a label. Whether each
#: is involved in a fact is not asked: that join costs about a second at 1 million triples (an
#: EXISTS test, half a minute, in Oxigraph); an actor without facts gets an empty page.
ACTORS_QUERY = f"""PREFIX rdfs: <{RDFS}>
SELECT ?actor ?type ?label WHERE {{
  VALUES ?type {{ {" ".join(f"<{t}>" for ts in ACTOR_TYPES.values() for t in ts)} }}
  ?actor a ?type ; rdfs:label ?label .
}}
"""


@dataclass
class Event:
    date: str
    what: str
    iri: str
    label: str
    kind: str
    source: str
    source_label: str


@dataclass
class YearLink:
    """A page of the timeline: a year, how many dates it holds, and its address."""

    year: str
    events: int
    href: str


@router.get(
    "/timeline",
    summary="The graph's events in time, one year per page, filterable by state and organization",
)
async def timeline(request: Request) -> Response:
    params = request.query_params
    options = await _actor_options(request)
    chosen = {
        name: params[name]
        for name in ACTOR_TYPES
        if params.get(name) in {slug for slug, _ in options[name]}
    }
    actors = [RES[slug] for slug in chosen.values()]
    ignored = [name for name in ACTOR_TYPES if params.get(name) and name not in chosen]
    years = await _years(request, actors, chosen)
    year = params.get("year", "")
    if year and not YEAR.fullmatch(year):
        ignored.append("year")
        year = ""
    year = year or (years[-1].year if years else "")
    rows = await select(request, timeline_query(actors, year)) if year else []
    return page(
        request,
        "timeline.html",
        title=f"Timeline {year}".rstrip(),
        events=_events(rows, (await catalogue(request)).labels),
        options=options,
        chosen=chosen,
        ignored=ignored,
        year=year,
        years=years,
        earlier=next((y for y in reversed(years) if y.year < year), None),
        later=next((y for y in years if y.year > year), None),
    )


async def _actor_options(request: Request) -> dict[str, list[tuple[str, str]]]:
    """The filter's choices per filter name: (slug, label) pairs sorted by label."""
    options: dict[str, set[tuple[str, str]]] = {name: set() for name in ACTOR_TYPES}
    for row in await select(request, ACTORS_QUERY):
        actor = str(row["actor"])
        for name, types in ACTOR_TYPES.items():
            if row["type"] in types and actor.startswith(str(RES)):
                options[name].add((actor[len(str(RES)) :], str(row["label"])))
    return {name: sorted(pairs, key=lambda o: o[1]) for name, pairs in options.items()}


async def _years(request: Request, actors: list[URIRef], chosen: dict[str, str]) -> list[YearLink]:
    """The pages of the timeline for the chosen actors, earliest first."""
    prefix = site(request).prefix
    found = [
        (str(r["year"]), int(str(r["events"]))) for r in await select(request, years_query(actors))
    ]
    return [
        YearLink(year, events, f"{prefix}/timeline?" + urlencode({**chosen, "year": year}))
        for year, events in found
        if YEAR.fullmatch(year)
    ]


def _events(rows: list[dict[str, Node]], labels: Mapping[Node, str]) -> list[Event]:
    return [
        Event(
            date=str(r["date"]),
            what=str(r["what"]),
            iri=str(r["event"]),
            label=str(r.get("eventLabel") or short(r["event"])),
            kind=labels.get(r["kind"]) or short(r["kind"]),
            source=str(r["source"]),
            source_label=str(r.get("sourceLabel") or short(r["source"])),
        )
        for r in rows
    ]
