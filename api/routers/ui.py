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
from rdflib.namespace import PROV, RDFS, SKOS
from rdflib.term import Node
from starlette.responses import Response

from api.linkeddata.describe import catalogue, queries, run, select, term
from api.linkeddata.site import STATIC_DIR, page, short, site
from api.problems import Problem
from api.routers.resources import SLUG
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


def _dates(constraints: list[Constraint], *, values: bool = False) -> str:
    """The date pattern: from the dated properties when no filter applies; from the chosen
    events' own triples when one does (rdflib's engine joins a VALUES block with every
    triple of the property first: three times slower)."""
    if not constraints:
        head = f"VALUES ?property {{ {_date_values(False)} }} " if values else ""
        return head + "?event ?property ?date ."
    listed = ", ".join(f"<{p}>" for p, _ in DATE_PROPERTIES)
    return f"?event ?property ?date . FILTER(?property IN ({listed}))"


def timeline_query(constraints: list[Constraint], year: str) -> str:
    """graph/queries/17-timeline.rq with labels, listing dates and bounds, for `year`,
    restricted to the events meeting every constraint. Each date comes with the fact's sources
    and their version dates: a bound is shown with the list version that gives it (a listing's
    start from the version that first has it, its end from the first that lacks it). The year is a literal in the FILTER, which Oxigraph applies right after the
    date pattern (a variable there would be applied after the joins: 7x slower at 1M)."""
    if not YEAR.fullmatch(year):
        raise ValueError(f"not a four-digit year: {year!r}")
    return f"""PREFIX dk: <{DK}>
PREFIX rdfs: <{RDFS}>
PREFIX prov: <{PROV}>
SELECT ?date ?event ?property ?what ?kind ?source ?eventLabel ?sourceLabel ?sourceDate
       ?startedAfter ?endedAfter WHERE {{
{_involving(constraints)}  VALUES (?property ?what) {{ {_date_values(True)} }}
  {_dates(constraints)}
  FILTER(STRSTARTS(STR(?date), "{year}"))
  ?event prov:wasDerivedFrom ?source .
  ?event a ?kind .
  # as in 17-timeline.rq: the fact's own dk: class, with no property path (Virtuoso mishandles
  # a join through rdfs:subClassOf*)
  FILTER(STRSTARTS(STR(?kind), STR(dk:)))
  FILTER NOT EXISTS {{ ?event a ?sub . ?sub rdfs:subClassOf ?kind . }}
  OPTIONAL {{ ?event rdfs:label ?eventLabel }}
  OPTIONAL {{ ?source rdfs:label ?sourceLabel }}
  OPTIONAL {{ ?source dk:versionDate ?sourceDate }}
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
{_involving(constraints)}    {_dates(constraints, values=True)}
    ?event prov:wasDerivedFrom ?source .
  }} }}
  BIND(SUBSTR(STR(?date), 1, 4) AS ?year)
}}
GROUP BY ?year
ORDER BY ?year
"""


#: The select boxes' choices: every state, curated organization or government, and list with
#: a label. Whether each is involved in a fact is not asked: that join costs about a second at
#: 1 million triples; an actor without facts gets an empty page. Imported organizations (a
#: thousand and growing) are not listed: the name search (`q`) finds them.
CHOICE_TYPES = (*ACTOR_TYPES["state"], *ACTOR_TYPES["organization"], *LIST_TYPES)
ACTORS_QUERY = f"""PREFIX rdfs: <{RDFS}>
SELECT ?actor ?type ?label WHERE {{
  VALUES ?type {{ {" ".join(f"<{t}>" for t in CHOICE_TYPES)} }}
  ?actor a ?type ; rdfs:label ?label .
}}
"""


def organization_search_query(text: str) -> str:
    """The organizations whose label or other name contains `text` (any case)."""
    types = " ".join(f"<{t}>" for t in ORGANIZATION_TYPES)
    return f"""PREFIX rdfs: <{RDFS}>
PREFIX skos: <{SKOS}>
SELECT DISTINCT ?organization WHERE {{
  VALUES ?type {{ {types} }}
  ?organization a ?type ; rdfs:label|skos:altLabel ?name .
  FILTER(CONTAINS(LCASE(STR(?name)), {_string(text.lower())}))
}}
ORDER BY ?organization
"""


def organization_query(slug: str) -> str:
    """Whether the resource `slug` (matching SLUG) is an organization, and its label."""
    types = " ".join(f"<{t}>" for t in ORGANIZATION_TYPES)
    return f"""PREFIX rdfs: <{RDFS}>
SELECT ?label WHERE {{
  VALUES ?type {{ {types} }}
  <{RES[slug]}> a ?type . OPTIONAL {{ <{RES[slug]}> rdfs:label ?label }}
}} LIMIT 1
"""


def _string(text: str) -> str:
    """`text` as a SPARQL string literal (SPARQL 1.1 §19.7 escapes)."""
    escaped = (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"'


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


async def _filters(request: Request, params: Mapping[str, str], options: Options) -> Filters:
    """Unknown values of `state`, `list` and `organization` are ignored, with a note on the
    page (the rest of the filters still apply): a stale link still shows a timeline."""
    result = Filters({}, [], [], [])
    accepted = {
        "state": {slug for slug, _ in options.select["state"]},
        "list": {slug for slug, _ in options.select["list"]},
    }
    for name in ("state", "list", "organization"):
        raw = params.get(name, "")
        if not raw:
            continue
        slug = _slug(raw)
        label = options.labels.get(slug)
        if name == "organization" and SLUG.fullmatch(slug):
            found = await select(request, organization_query(slug))
            label = str(found[0].get("label", slug)) if found else None
        elif slug not in accepted.get(name, ()):
            label = None
        if label is None:
            result.ignored.append(name)
            continue
        result.params[name] = slug
        predicate = DK.underList if name == "list" else None
        result.constraints.append(Constraint((RES[slug],), predicate))
        result.described.append(label)
    text = params.get("q", "").strip()
    if len(text) > SEARCH_MAX:
        result.ignored.append("q")
    elif text:
        result.params["q"] = text
        found = await select(request, organization_search_query(text))
        matches = tuple(URIRef(str(r["organization"])) for r in found)
        if matches:
            result.constraints.append(Constraint(matches))
            n = len(matches)
            result.described.append(f"an organization named like “{text}” ({n})")
        else:
            result.no_match = text
    return result


@router.get(
    "/timeline",
    summary="The graph's events in time, one year per page, filterable by state, list and "
    "organization",
)
async def timeline(request: Request) -> Response:
    params = request.query_params
    options = await _options(request)
    filters = await _filters(request, params, options)
    years = [] if filters.no_match else await _years(request, filters)
    year = params.get("year", "")
    if year and not YEAR.fullmatch(year):
        filters.ignored.append("year")
        year = ""
    year = year or (years[-1].year if years else "")
    rows = await _plain_rows(request, timeline_query(filters.constraints, year)) if year else []
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
        name: set() for name in ("state", "organization", "list")
    }
    labels: dict[str, str] = {}
    for row in await select(request, ACTORS_QUERY):
        actor = str(row["actor"])
        if not actor.startswith(str(RES)):
            continue
        slug, label, kind = actor[len(str(RES)) :], str(row["label"]), row["type"]
        labels[slug] = label
        for name, types in (*ACTOR_TYPES.items(), ("list", LIST_TYPES)):
            if kind in types:
                select_sets[name].add((slug, label))
    designators = set()
    for row in await select(request, DESIGNATORS_QUERY):
        state = str(row["state"])
        if state.startswith(str(RES)):
            designators.add(state[len(str(RES)) :])
    return Options(
        {name: sorted(pairs, key=lambda o: (o[1], o[0])) for name, pairs in select_sets.items()},
        designators,
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


async def _plain_rows(request: Request, query: str) -> list[dict[str, str]]:
    """The rows of a SELECT query as the values' text: a busy year has a thousand rows, and
    making an rdflib term of each value would cost more than the query."""
    data = json.loads(await run(request, query, "json"))
    return [
        {name: value["value"] for name, value in binding.items()}
        for binding in data["results"]["bindings"]
    ]


def _events(rows: list[dict[str, str]], labels: Mapping[Node, str]) -> list[Event]:
    """One event per fact, date property and date (its sources gathered), in time order."""
    found: dict[tuple[str, str, str], Event] = {}
    others: dict[tuple[str, str, str], set[tuple[str, str]]] = {}
    bounded = {str(p): str(p) == str(DK.startedNoLaterThan) for p in LOWER_BOUNDS}
    for r in rows:
        prop = r["property"]
        key = (r["date"], r["event"], prop)
        event = found.get(key)
        if event is None:
            event = Event(
                date=r["date"],
                what=r["what"],
                iri=r["event"],
                label=r.get("eventLabel") or short(URIRef(r["event"])),
                kind=labels.get(URIRef(r["kind"])) or short(URIRef(r["kind"])),
                sources=[],
            )
            if prop in bounded:
                event.bound = "no later than"
            found[key] = event
        source = (r["source"], r.get("sourceLabel") or short(URIRef(r["source"])))
        # a bound comes from the list version of that date; any other date from every source
        giving = prop not in bounded or r.get("sourceDate") in (None, event.date)
        if giving and source not in event.sources:
            event.sources.append(source)
        others.setdefault(key, set()).add(source)
        if prop in bounded:
            after = r.get("startedAfter" if bounded[prop] else "endedAfter", "")
            # the latest lower bound before the upper one: "between X and Y"
            if event.after < after < event.date:
                event.after, event.bound = after, "between"
    for key, event in found.items():
        event.sources = sorted(event.sources or others[key])
    return sorted(found.values(), key=lambda e: (e.date, e.iri, e.what))
