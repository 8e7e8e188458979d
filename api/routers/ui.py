"""The web interface (issue 6): the SPARQL editor home page and the timeline of the graph's events.

Both pages are rendered on the server and work without JavaScript; the home page loads YASGUI
from api/static/vendor/ (installed by `make assets` from the pinned npm package) when present.
Queries go through the query service (api.queries), like every other page.
"""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from rdflib import Literal, URIRef
from rdflib.namespace import PROV, RDFS, SKOS
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

#: What kind of date each property gives: the first four as graph/queries/17-timeline.rq names
#: them, then a list's listing date and the upper bounds that versions of a list give.
DATE_PROPERTIES = (
    (DK.startDate, "start"),
    (DK.endDate, "end"),
    (DK.date, "date"),
    (DK.asOf, "as of"),
    (DK.listingDate, "listed"),
    (DK.startedNoLaterThan, "start"),
    (DK.endedNoLaterThan, "end"),
)
#: A bound (upper) -> the lower bound that pairs with it: "between X and Y", else "no later
#: than Y". The event sits on the timeline at its upper bound, never at an invented day.
LOWER_BOUNDS = {DK.startedNoLaterThan: DK.startedAfter, DK.endedNoLaterThan: DK.endedAfter}
#: Filters naming one resource: name -> the types its value must have (the select boxes).
ACTOR_TYPES = {
    "state": (DK.State,),
    "organization": (DK.NonStateOrganization, DK.Government),
}
#: Any organization, for `organization=` given by a link and for the name search (`q`).
ORGANIZATION_TYPES = (
    DK.Organization,
    DK.NonStateOrganization,
    DK.Government,
    DK.StateBody,
    DK.InternationalOrganization,
)
LIST_TYPES = (DK.DesignationList,)
#: A page of the timeline: one year. The whole timeline grows with the graph (89,000 dated
#: events at 1 million triples: seconds to sort, megabytes to send); a year of it stays small.
YEAR = re.compile(r"[0-9]{4}")
#: Events shown per page of a year (a year of a list's first version holds hundreds).
PAGE_SIZE = 100
#: The organization-name search: at most this many characters.
SEARCH_MAX = 100


@dataclass(frozen=True)
class Constraint:
    """Events must involve one of `values` (through `predicate`, or any property if None)."""

    values: tuple[URIRef, ...]
    predicate: URIRef | None = None


def _involving(constraints: list[Constraint]) -> str:
    """The events meeting every constraint, as a subquery to start from: so the engine looks
    up those resources' facts, not every dated fact."""
    if not constraints:
        return ""
    patterns = []
    for i, c in enumerate(constraints):
        role = f"<{c.predicate}>" if c.predicate else f"?role{i}"
        if len(c.values) == 1:
            patterns.append(f"?event {role} <{c.values[0]}> .")
        else:
            values = " ".join(f"<{v}>" for v in c.values)
            patterns.append(f"VALUES ?value{i} {{ {values} }} ?event {role} ?value{i} .")
    return f"  {{ SELECT DISTINCT ?event WHERE {{ {' '.join(patterns)} }} }}\n"


def _date_values(with_what: bool) -> str:
    if with_what:
        return " ".join(f'(<{p}> "{what}")' for p, what in DATE_PROPERTIES)
    return " ".join(f"<{p}>" for p, _ in DATE_PROPERTIES)


def timeline_query(constraints: list[Constraint], year: str) -> str:
    """graph/queries/17-timeline.rq with labels, listing dates and bounds, for `year`,
    restricted to the events meeting every constraint. Each date comes with the source of the
    named graph that states it (a listing's start from one list version, its end from a
    later one). The year is a literal in the FILTER, which Oxigraph applies right after the
    date pattern (a variable there would be applied after the joins: 7x slower at 1M)."""
    if not YEAR.fullmatch(year):
        raise ValueError(f"not a four-digit year: {year!r}")
    return f"""PREFIX dk: <{DK}>
PREFIX rdfs: <{RDFS}>
PREFIX prov: <{PROV}>
SELECT ?date ?event ?property ?what ?kind ?source ?eventLabel ?sourceLabel ?startedAfter
       ?endedAfter WHERE {{
{_involving(constraints)}  VALUES (?property ?what) {{ {_date_values(True)} }}
  GRAPH ?g {{ ?event ?property ?date ; prov:wasDerivedFrom ?source . }}
  FILTER(STRSTARTS(STR(?date), "{year}"))
  ?event a ?kind .
  # as in 17-timeline.rq: the fact's own dk: class, with no property path (Virtuoso mishandles
  # a join through rdfs:subClassOf*)
  FILTER(STRSTARTS(STR(?kind), STR(dk:)))
  FILTER NOT EXISTS {{ ?event a ?sub . ?sub rdfs:subClassOf ?kind . }}
  OPTIONAL {{ ?event rdfs:label ?eventLabel }}
  OPTIONAL {{ ?source rdfs:label ?sourceLabel }}
  OPTIONAL {{ ?event dk:startedAfter ?startedAfter }}
  OPTIONAL {{ ?event dk:endedAfter ?endedAfter }}
}}
"""


def years_query(constraints: list[Constraint]) -> str:
    """The years that have dated, sourced facts meeting every constraint, with how many
    events each (one per fact, date property and date, as the page counts them): the pages
    of the timeline (one pass over the dates, no sort of the events)."""
    return f"""PREFIX prov: <{PROV}>
SELECT ?year (COUNT(*) AS ?events) WHERE {{
  {{ SELECT DISTINCT ?event ?property ?date WHERE {{
{_involving(constraints)}    VALUES ?property {{ {_date_values(False)} }}
    GRAPH ?g {{ ?event ?property ?date ; prov:wasDerivedFrom ?source . }}
  }} }}
  BIND(SUBSTR(STR(?date), 1, 4) AS ?year)
}}
GROUP BY ?year
ORDER BY ?year
"""


#: The filters' choices: every state, organization, government and list with a label (and
#: the other names of organizations, for the search). Whether each is involved in a fact is
#: not asked: that join costs about a second at 1 million triples; an actor without facts
#: gets an empty page.
CHOICE_TYPES = (*ACTOR_TYPES["state"], *ORGANIZATION_TYPES, *LIST_TYPES)
ACTORS_QUERY = f"""PREFIX rdfs: <{RDFS}>
PREFIX skos: <{SKOS}>
SELECT ?actor ?type ?label ?name WHERE {{
  VALUES ?type {{ {" ".join(f"<{t}>" for t in CHOICE_TYPES)} }}
  ?actor a ?type ; rdfs:label ?label .
  OPTIONAL {{ ?actor skos:altLabel ?name }}
}}
"""
#: The states that designate organizations: the first group of the state filter.
DESIGNATORS_QUERY = f"""PREFIX dk: <{DK}>
SELECT DISTINCT ?state WHERE {{ ?designation dk:designatingState ?state }}
"""


@dataclass
class Options:
    """What the filter form offers, and what each filter accepts."""

    #: filter name -> (slug, label) pairs for its select box, sorted by label
    select: dict[str, list[tuple[str, str]]]
    #: states that designate organizations (the select's first group)
    designators: set[str]
    #: every organization: slug -> its names (label and other names), for `organization=`
    #: and the name search
    organizations: dict[str, set[str]]
    labels: dict[str, str]


@dataclass
class Event:
    date: str
    what: str
    iri: str
    label: str
    kind: str
    sources: list[tuple[str, str]]
    #: "" for a date, "no later than" or "between" for the bounds a list's versions give
    bound: str = ""
    after: str = ""


@dataclass
class YearLink:
    """A page of the timeline: a year, how many dates it holds, and its address."""

    year: str
    events: int
    href: str


@dataclass
class Filters:
    """The filters a request asks for, as understood: query parameters kept for links,
    constraints for the queries, and notes on what was ignored."""

    params: dict[str, str]
    constraints: list[Constraint]
    ignored: list[str]
    described: list[str]
    no_match: str = ""


def _slug(value: str) -> str:
    """A filter value as a slug: `taliban`, `res:taliban` or the full IRI."""
    value = value.strip()
    for prefix in (str(RES), "res:"):
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def _filters(params: Mapping[str, str], options: Options) -> Filters:
    """Unknown values of `state`, `list` and `organization` are ignored, with a note on the
    page (the rest of the filters still apply): a stale link still shows a timeline."""
    chosen: dict[str, str] = {}
    constraints: list[Constraint] = []
    ignored: list[str] = []
    described: list[str] = []
    accepted = {
        "state": {slug for slug, _ in options.select["state"]},
        "list": {slug for slug, _ in options.select["list"]},
        "organization": set(options.organizations),
    }
    for name in ("state", "list", "organization"):
        raw = params.get(name, "")
        if not raw:
            continue
        slug = _slug(raw)
        if slug not in accepted[name]:
            ignored.append(name)
            continue
        chosen[name] = slug
        predicate = DK.underList if name == "list" else None
        constraints.append(Constraint((RES[slug],), predicate))
        described.append(options.labels.get(slug, slug))
    result = Filters(chosen, constraints, ignored, described)
    text = params.get("q", "").strip()
    if text and len(text) <= SEARCH_MAX:
        result.params["q"] = text
        needle = text.casefold()
        matches = sorted(
            slug
            for slug, names in options.organizations.items()
            if any(needle in n.casefold() for n in names)
        )
        if matches:
            constraints.append(Constraint(tuple(RES[m] for m in matches)))
            described.append(f"an organization named like “{text}” ({len(matches)})")
        else:
            result.no_match = text
    elif text:
        ignored.append("q")
    return result


@router.get(
    "/timeline",
    summary="The graph's events in time, one year per page, filterable by state, list and "
    "organization",
)
async def timeline(request: Request) -> Response:
    params = request.query_params
    options = await _options(request)
    filters = _filters(params, options)
    years = [] if filters.no_match else await _years(request, filters)
    year = params.get("year", "")
    if year and not YEAR.fullmatch(year):
        filters.ignored.append("year")
        year = ""
    year = year or (years[-1].year if years else "")
    rows = await select(request, timeline_query(filters.constraints, year)) if year else []
    events = _events(rows, (await catalogue(request)).labels)
    number = _page_number(params.get("page", ""), len(events), filters)
    first = (number - 1) * PAGE_SIZE
    return page(
        request,
        "timeline.html",
        title=f"Timeline {year}".rstrip(),
        events=events[first : first + PAGE_SIZE],
        total=len(events),
        all_years=sum(y.events for y in years),
        shown=(first + 1, min(first + PAGE_SIZE, len(events))),
        pages=_page_links(site(request).prefix, filters.params, year, number, len(events)),
        options=options.select,
        designators=options.designators,
        chosen=filters.params,
        described=filters.described,
        ignored=filters.ignored,
        no_match=filters.no_match,
        year=year,
        years=years,
        earlier=next((y for y in reversed(years) if y.year < year), None),
        later=next((y for y in years if y.year > year), None),
    )


def _page_number(raw: str, total: int, filters: Filters) -> int:
    """The page of the year asked for (1 if none); a page that is not one is ignored."""
    last = max(1, -(-total // PAGE_SIZE))
    if not raw:
        return 1
    if raw.isdigit() and 1 <= int(raw) <= last:
        return int(raw)
    filters.ignored.append("page")
    return 1


def _page_links(
    prefix: str, chosen: dict[str, str], year: str, number: int, total: int
) -> list[tuple[int, str, bool]]:
    """(page number, address, current) for each page of the year, when it has several."""
    last = -(-total // PAGE_SIZE)
    if last <= 1:
        return []
    return [
        (
            n,
            f"{prefix}/timeline?" + urlencode({**chosen, "year": year, "page": str(n)}),
            n == number,
        )
        for n in range(1, last + 1)
    ]


async def _options(request: Request) -> Options:
    """The filters' choices, read from the data once per app (the dataset is read-only)."""
    memo = site(request).memo
    found = memo.get("timeline-options")
    if not isinstance(found, Options):
        found = memo["timeline-options"] = await _read_options(request)
    return found


async def _read_options(request: Request) -> Options:
    select_sets: dict[str, set[tuple[str, str]]] = {
        "state": set(),
        "organization": set(),
        "list": set(),
    }
    designators: set[str] = set()
    organizations: dict[str, set[str]] = defaultdict(set)
    labels: dict[str, str] = {}
    for row in await select(request, ACTORS_QUERY):
        actor = str(row["actor"])
        if not actor.startswith(str(RES)):
            continue
        slug, label, kind = actor[len(str(RES)) :], str(row["label"]), row["type"]
        labels[slug] = label
        if kind in ACTOR_TYPES["state"]:
            select_sets["state"].add((slug, label))
        if kind in ACTOR_TYPES["organization"]:
            select_sets["organization"].add((slug, label))
        if kind in LIST_TYPES:
            select_sets["list"].add((slug, label))
        if kind in ORGANIZATION_TYPES:
            organizations[slug].add(label)
            if "name" in row:
                organizations[slug].add(str(row["name"]))
    for row in await select(request, DESIGNATORS_QUERY):
        state = str(row["state"])
        if state.startswith(str(RES)):
            designators.add(state[len(str(RES)) :])
    return Options(
        {name: sorted(pairs, key=lambda o: (o[1], o[0])) for name, pairs in select_sets.items()},
        designators,
        dict(organizations),
        labels,
    )


async def _years(request: Request, filters: Filters) -> list[YearLink]:
    """The pages of the timeline for the chosen filters, earliest first."""
    prefix = site(request).prefix
    found = [
        (str(r["year"]), int(str(r["events"])))
        for r in await select(request, years_query(filters.constraints))
    ]
    return [
        YearLink(year, events, f"{prefix}/timeline?" + urlencode({**filters.params, "year": year}))
        for year, events in found
        if YEAR.fullmatch(year)
    ]


def _events(rows: list[dict[str, Node]], labels: Mapping[Node, str]) -> list[Event]:
    """One event per fact, date property and date (its sources gathered), in time order."""
    found: dict[tuple[str, str, str], Event] = {}
    for r in rows:
        prop = r["property"]
        key = (str(r["date"]), str(r["event"]), str(prop))
        event = found.get(key)
        if event is None:
            event = Event(
                date=str(r["date"]),
                what=str(r["what"]),
                iri=str(r["event"]),
                label=str(r.get("eventLabel") or short(r["event"])),
                kind=labels.get(r["kind"]) or short(r["kind"]),
                sources=[],
            )
            if prop in LOWER_BOUNDS:
                event.bound = "no later than"
            found[key] = event
        source = (str(r["source"]), str(r.get("sourceLabel") or short(r["source"])))
        if source not in event.sources:
            event.sources.append(source)
        if prop in LOWER_BOUNDS:
            after = str(
                r.get("startedAfter" if prop == DK.startedNoLaterThan else "endedAfter", "")
            )
            # the latest lower bound before the upper one: "between X and Y"
            if event.after < after < event.date:
                event.after, event.bound = after, "between"
    for event in found.values():
        event.sources.sort()
    return sorted(found.values(), key=lambda e: (e.date, e.iri, e.what))
