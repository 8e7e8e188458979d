"""The view models of the Linked Data HTML pages: an entity, the index, a named graph, the shapes.

Pure functions of the quads and labels the pages fetched (api.linkeddata.describe); the
templates under api/templates turn them into HTML.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, PROV, RDF, RDFS, SKOS
from rdflib.term import Node

from api.linkeddata.describe import LISTINGS_SHOWN, Catalogue, ListingRows, Quad
from graph.curie import short
from graph.namespaces import DK, GRAPH, WD
from graph.writes.delta import parse_operations

LABELS = (RDFS.label, SKOS.prefLabel)
#: Properties the HTML page shows in sections of their own, not in the table of facts.
SHOWN_APART = {
    RDF.type,
    RDFS.label,
    SKOS.prefLabel,
    SKOS.altLabel,
    RDFS.comment,
    DK.evidence,
    PROV.wasDerivedFrom,
    OWL.sameAs,
    SKOS.closeMatch,
}
SH = "http://www.w3.org/ns/shacl#"


@dataclass
class Value:
    """One object shown on a page: its text, its link, and whether it is a literal."""

    text: str
    link: str | None
    literal: bool
    note: str = ""


@dataclass
class Row:
    prop: Value
    values: list[Value]
    sources: list[Value]


@dataclass
class FactView:
    """A fact pointing to the entity (the entity's role in it), with its dates and provenance."""

    node: Value
    kinds: list[Value]
    roles: list[Value]
    dates: list[tuple[str, str]]
    sources: list[Value]
    evidence: list[str]


@dataclass
class EntityView:
    iri: str
    label: str
    kinds: list[Value]
    comment: str
    alt_labels: list[str]
    wikidata: list[Value]
    close_matches: list[Value]
    rows: list[Row]
    sources: list[Value]
    evidence: list[str]
    incoming: list[FactView]
    graphs: list[tuple[Value, Value | None]]

    @classmethod
    def build(cls, entity: URIRef, quads: list[Quad], cat: Catalogue) -> EntityView:
        labels: dict[Node, str] = {}
        types: dict[Node, list[Node]] = defaultdict(list)
        for s, p, o, _ in quads:
            if p in LABELS and isinstance(o, Literal):
                labels.setdefault(s, str(o))
            if p == RDF.type:
                types[s].append(o)

        def name(node: Node) -> str:
            return labels.get(node) or cat.labels.get(node) or short(node)

        def value(node: Node) -> Value:
            if isinstance(node, Literal):
                note = short(node.datatype) if node.datatype else ""
                return Value(str(node), None, True, note)
            return Value(name(node), str(node), False)

        def source_of(graph: Node) -> Value:
            article = cat.articles.get(graph)
            if article:
                return Value(article[1], str(article[0]), False)
            if graph == URIRef(str(GRAPH) + "entities"):
                return Value("DiploKG reference entities (curated)", str(graph), False)
            return Value(short(graph), str(graph), False)

        own = [q for q in quads if q[0] == entity]
        by_prop: dict[Node, list[Quad]] = defaultdict(list)
        for q in own:
            if q[1] not in SHOWN_APART:
                by_prop[q[1]].append(q)
        rows = [
            Row(
                value(p),
                _unique(value(q[2]) for q in qs),
                _unique(source_of(q[3]) for q in qs),
            )
            for p, qs in sorted(by_prop.items(), key=lambda item: name(item[0]))
        ]
        by_subject: dict[Node, list[Quad]] = defaultdict(list)
        for q in quads:
            by_subject[q[0]].append(q)
        incoming_nodes = sorted(
            {q[0] for q in quads if q[2] == entity and q[0] != entity}, key=lambda n: name(n)
        )
        incoming = []
        for node in incoming_nodes:
            mine = by_subject[node]
            incoming.append(
                FactView(
                    node=value(node),
                    kinds=_unique(value(t) for t in types.get(node, [])),
                    roles=_unique(value(q[1]) for q in mine if q[2] == entity),
                    dates=[
                        (name(q[1]), str(q[2]))
                        for q in sorted(mine, key=lambda q: str(q[1]))
                        if q[1] in (DK.startDate, DK.endDate, DK.date, DK.asOf)
                    ],
                    sources=_unique(value(q[2]) for q in mine if q[1] == PROV.wasDerivedFrom)
                    or _unique(source_of(q[3]) for q in mine if q[2] == entity),
                    evidence=sorted({str(q[2]) for q in mine if q[1] == DK.evidence}),
                )
            )
        graphs = sorted({q[3] for q in own}, key=str)
        return cls(
            iri=str(entity),
            label=name(entity),
            kinds=_unique(value(t) for t in types.get(entity, [])),
            comment=next((str(q[2]) for q in own if q[1] == RDFS.comment), ""),
            alt_labels=sorted({str(q[2]) for q in own if q[1] == SKOS.altLabel}),
            wikidata=_unique(
                Value(short(q[2]), str(q[2]), False)
                for q in own
                if q[1] == OWL.sameAs and str(q[2]).startswith(str(WD))
            ),
            close_matches=_unique(
                Value(short(q[2]), str(q[2]), False) for q in own if q[1] == SKOS.closeMatch
            ),
            rows=rows,
            sources=_unique(value(q[2]) for q in own if q[1] == PROV.wasDerivedFrom),
            evidence=sorted({str(q[2]) for q in own if q[1] == DK.evidence}),
            incoming=incoming,
            graphs=[
                (Value(short(g), str(g), False), source_of(g) if g in cat.articles else None)
                for g in graphs
            ],
        )


@dataclass
class ListingView:
    """A row of the table of listings: who designated, under which list, with which entry id,
    from when to when (dates, or the bounds that the list's versions give), from which source."""

    listing: Value
    kind: str
    organization: Value | None
    designator: Value | None
    under: Value | None
    entry: str
    listed: str
    start: str
    end: str
    sources: list[Value]


@dataclass
class ListingsTable:
    rows: list[ListingView]
    total: int
    first: int
    last: int
    pages: list[tuple[int, bool]]


def listings_table(
    found: ListingRows, cat: Catalogue, page: int, page_size: int = LISTINGS_SHOWN
) -> ListingsTable:
    """The view of a page of listings (api.linkeddata.describe.listings), ordered by
    designator, list and start."""
    merged: dict[Node, dict[str, Node]] = {}
    for row in found.rows:
        kept = merged.setdefault(row["listing"], {})
        for name, node in row.items():
            kept.setdefault(name, node)
    sources: dict[Node, list[Value]] = defaultdict(list)
    for row in sorted(
        found.sources, key=lambda r: (str(r.get("sourceDate", "")), str(r["source"]))
    ):
        label = str(row.get("sourceLabel") or short(row["source"]))
        date = str(row.get("sourceDate", ""))
        value = Value(label, str(row["source"]), False, date)
        if value not in sources[row["listing"]]:
            sources[row["listing"]].append(value)

    def linked(r: dict[str, Node], var: str) -> Value | None:
        node = r.get(var)
        if node is None:
            return None
        return Value(str(r.get(var + "Label") or short(node)), str(node), False)

    views = [
        ListingView(
            listing=Value(str(r.get("label") or short(node)), str(node), False),
            kind=cat.labels.get(r["kind"]) or short(r["kind"]),
            organization=linked(r, "organization"),
            designator=linked(r, "designator"),
            under=linked(r, "list"),
            entry=str(r.get("entry", "")),
            listed=str(r.get("listingDate", "")),
            start=_span(r.get("startDate"), r.get("startedAfter"), r.get("startedNoLaterThan")),
            end=_end(r),
            sources=sources.get(node, []),
        )
        for node, r in merged.items()
    ]
    views.sort(
        key=lambda v: (
            v.designator.text if v.designator else "",
            v.under.text if v.under else "",
            v.start,
            v.listing.text,
        )
    )
    last_page = max(1, -(-found.total // page_size))
    return ListingsTable(
        views,
        found.total,
        found.offset + 1 if views else 0,
        found.offset + len(views),
        [(n, n == page) for n in range(1, last_page + 1)] if last_page > 1 else [],
    )


def _span(date: Node | None, after: Node | None, no_later: Node | None) -> str:
    """A date as given, else the bounds: "between X and Y", "no later than Y", "after X"."""
    if date is not None:
        return str(date)
    if after is not None and no_later is not None:
        return f"between {after} and {no_later}"
    if no_later is not None:
        return f"no later than {no_later}"
    if after is not None:
        return f"after {after}"
    return ""


def _end(r: dict[str, Node]) -> str:
    text = _span(r.get("endDate"), r.get("endedAfter"), r.get("endedNoLaterThan"))
    if not text and str(r.get("hasEnded", "")).lower() == "true":
        text = "ended, date unknown"
    kind = r.get("endKindLabel") or r.get("endKind")
    if text and kind is not None:
        text += f" ({kind if isinstance(kind, Literal) else short(kind)})"
    return text


def _unique(values: Iterable[Value]) -> list[Value]:
    seen: dict[tuple[str, str | None], Value] = {}
    for v in values:
        seen.setdefault((v.text, v.link), v)
    return list(seen.values())


def index_groups(
    rows: Iterable[dict[str, Node]], cat: Catalogue
) -> list[tuple[str, list[tuple[str, str]]]]:
    """The entities of the index grouped by the label of their type, each group sorted by label."""
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        kind = cat.labels.get(row["type"]) or short(row["type"])
        groups[kind].append((str(row["s"]), str(row.get("label") or short(row["s"]))))
    return sorted((kind, sorted(set(items), key=lambda i: i[1])) for kind, items in groups.items())


def graph_subjects(rows: Iterable[dict[str, Node]], cat: Catalogue) -> list[tuple[str, str, str]]:
    """The IRI subjects of a named graph as (IRI, label, label of its type)."""
    return [
        (
            str(r["s"]),
            str(r.get("label") or short(r["s"])),
            cat.labels.get(r["type"], short(r["type"])) if "type" in r else "",
        )
        for r in rows
        if isinstance(r["s"], URIRef)
    ]


def shape_views(graph: Graph, cat: Catalogue) -> list[dict[str, Any]]:
    """Each SHACL node shape with its target classes, description and messages (SHACL §2.1)."""
    listed = []
    for shape in sorted(set(graph.subjects(RDF.type, URIRef(SH + "NodeShape"))), key=str):
        targets = [
            Value(cat.labels.get(t) or short(t), str(t), False)
            for t in graph.objects(shape, URIRef(SH + "targetClass"))
        ]
        messages = sorted(
            {str(m) for m in graph.objects(shape, URIRef(SH + "message"))}
            | {
                str(m)
                for prop in graph.objects(shape, URIRef(SH + "property"))
                for m in graph.objects(prop, URIRef(SH + "message"))
            }
        )
        comment = graph.value(shape, RDFS.comment) or graph.value(shape, URIRef(SH + "description"))
        listed.append(
            {
                "iri": str(shape),
                "name": short(shape) if isinstance(shape, URIRef) else "(anonymous shape)",
                "targets": targets,
                "comment": str(comment or ""),
                "messages": messages,
            }
        )
    return listed


@dataclass
class HistoryEntry:
    """One commit that changed the entity: who, when, why, and the quads it added or removed."""

    commit: str
    link: str
    agent: str
    ended: str
    message: str
    added: list[tuple[Value, Value, Value]]
    removed: list[tuple[Value, Value, Value]]


def history_entries(rows: list[dict[str, Node]], cat: Catalogue, iri: str) -> list[HistoryEntry]:
    """The commits of api.linkeddata.describe.history, newest first, each with the quads
    about `iri` it added or removed (read from its dk:patch)."""
    entries = []
    for row in rows:
        commit = str(row["commit"])
        entry = HistoryEntry(
            commit.rsplit("/", 1)[-1],
            commit,
            str(row.get("agent", "")),
            _when(row.get("ended")),
            str(row.get("message", "")),
            [],
            [],
        )
        patch = str(row.get("patch", ""))
        if patch:
            for op, quad in parse_operations(patch):
                if str(quad[0]) != iri and str(quad[2]) != iri:
                    continue
                triple = (
                    _history_value(quad[0], cat),
                    _history_value(quad[1], cat),
                    _history_value(quad[2], cat),
                )
                (entry.added if op == "A" else entry.removed).append(triple)
        entries.append(entry)
    return entries


def _history_value(node: Node, cat: Catalogue) -> Value:
    if isinstance(node, Literal):
        return Value(str(node), None, True, node.language or "")
    return Value(cat.labels.get(node) or short(node), str(node), False)


def _when(node: Node | None) -> str:
    """A commit's time as people read it: 2026-12-01 16:14:29 UTC."""
    value = node.toPython() if isinstance(node, Literal) else None
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(node or "")
