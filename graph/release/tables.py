"""One CSV table per fact type, for people who do not use RDF (`DIR/tables/*.csv`).

Files are UTF-8 without a byte-order mark, RFC 4180 CSV (comma, double quotes where needed,
CRLF line ends, one header row), one row per fact node, sorted by the fact's IRI. Each table
is described by a `Table` (fields, types, keys, missing values) from which
`graph.release.datapackage` writes the Frictionless Data Package and `graph.release.codebook`
the codebook.

Decisions:

- `designations.csv` holds every `dk:Listing`: a state's `dk:TerrorDesignation` and an
  international body's `dk:SanctionsListing`; `listing_class` tells them apart, and a sanctions
  listing has a `listing_body_*` instead of a `state_*`.
- A property with several values (several sources, several evidence excerpts, several
  `dk:sameFactAs`) is one cell with the values joined by `SEPARATOR` (" | "), sorted; the
  `source_*` columns list the fact's sources in one order (by date, then IRI), so that the n-th
  title goes with the n-th URL. No value of the graph contains the separator (checked: writing
  fails if one does).
- `states.csv` carries the codes of every `dk:State` (ISO 3166-1, Gleditsch-Ward, Correlates of
  War) and where each mapping comes from; the fact tables repeat the codes of their state actors
  and refer to it by a foreign key. Organizations and governments have their IRI and label.
- Dates keep the source's precision: `start_date` is `2003`, `2025-04` or `2025-04-17`, and
  `start_precision` says `year`, `month` or `day` (from the literal's xsd datatype). Bounds
  (`started_after`...) are days. An empty cell is a missing value (the graph says nothing).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyoxigraph as ox
from rdflib.namespace import OWL, PROV, RDFS, SKOS, XSD

from graph.namespaces import DK, SCHEMA, sparql_prologue
from graph.release.codes import COCO_SOURCE, COW_SOURCE, StateCodes, event_code, state_codes

SEPARATOR = " | "
TABLES_DIR = "tables"
PRECISION = {str(XSD.date): "day", str(XSD.gYearMonth): "month", str(XSD.gYear): "year"}
PRECISIONS = ("year", "month", "day")

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | ox.DefaultGraph
Props = dict[str, list[Term]]


@dataclass(frozen=True)
class Field:
    """A column: its name, Frictionless type, meaning, and the ontology property behind it."""

    name: str
    type: str
    description: str
    property: str = ""
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class ForeignKey:
    """Columns whose values are the primary key of another table."""

    fields: tuple[str, ...]
    resource: str
    reference: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A table written to the release: what the data package and the codebook describe."""

    name: str
    path: str
    title: str
    description: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    missing_values: tuple[str, ...] = ("",)
    rows: int = 0
    fact_classes: tuple[str, ...] = field(default=())


# --- reading the store ------------------------------------------------------------------------


def load_store(nquads: Path) -> ox.Store:
    """An in-memory store holding a build's N-Quads dump."""
    store = ox.Store()
    store.load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
    return store


def select(store: ox.Store, query: str) -> Iterable[ox.QuerySolution]:
    """The solutions of a SELECT over the union of all graphs, with the project's prefixes."""
    result = store.query(sparql_prologue() + query, use_default_graph_as_union=True)
    assert isinstance(result, ox.QuerySolutions)
    return result


def fact_properties(store: ox.Store, classes: Sequence[str]) -> dict[str, tuple[str, Props]]:
    """Each node of the given classes -> (its class, property IRI -> its distinct values, sorted)."""
    values = " ".join(f"<{c}>" for c in classes)
    query = f"SELECT DISTINCT ?f ?c ?p ?o WHERE {{ VALUES ?c {{ {values} }} ?f a ?c ; ?p ?o }}"
    facts: dict[str, tuple[str, Props]] = {}
    for row in select(store, query):
        fact = row["f"]
        if not isinstance(fact, ox.NamedNode):
            continue
        _, props = facts.setdefault(fact.value, (row["c"].value, {}))
        props.setdefault(row["p"].value, []).append(row["o"])
    for _, props in facts.values():
        for terms in props.values():
            terms.sort(key=_sort_key)
    return facts


def _sort_key(term: Term) -> tuple[str, str]:
    return (str(getattr(term, "value", term)), str(term))


def labels(store: ox.Store) -> dict[str, str]:
    """Each IRI's rdfs:label: the English (or untagged) one first, then the smallest."""
    best: dict[str, tuple[int, str]] = {}
    for row in select(store, "SELECT DISTINCT ?s ?l WHERE { ?s rdfs:label ?l }"):
        subject, label = row["s"], row["l"]
        if not isinstance(subject, ox.NamedNode) or not isinstance(label, ox.Literal):
            continue
        rank = (0 if label.language in (None, "en") else 1, label.value)
        current = best.get(subject.value)
        if current is None or rank < current:
            best[subject.value] = rank
    return {iri: value for iri, (_, value) in best.items()}


@dataclass(frozen=True)
class Source:
    """A source document as the tables show it."""

    iri: str
    title: str
    url: str
    date: str


def sources(store: ox.Store) -> dict[str, Source]:
    """Every dk:SourceDocument: title (schema:headline, else rdfs:label), URL and date."""
    query = (
        "SELECT ?s (SAMPLE(?h) AS ?headline) (MIN(STR(?u)) AS ?url) "
        "(MIN(STR(?d)) AS ?date) WHERE { "
        "VALUES ?c { dk:SourceDocument dk:SourceArticle dk:ListVersion } ?s a ?c . "
        "OPTIONAL { ?s schema:headline ?h } OPTIONAL { ?s schema:url ?u } "
        "OPTIONAL { ?s schema:datePublished|dk:versionDate ?d } } GROUP BY ?s"
    )
    names = labels(store)
    found: dict[str, Source] = {}
    for row in select(store, query):
        iri = row["s"].value
        headline = row["headline"]
        title = headline.value if headline is not None else names.get(iri, "")
        found[iri] = Source(iri, title, _value(row["url"]), _value(row["date"]))
    return found


def _value(term: object) -> str:
    return "" if term is None else str(getattr(term, "value", term))


# --- building rows ----------------------------------------------------------------------------


@dataclass
class Context:
    """What every table's rows are built from."""

    store: ox.Store
    labels: dict[str, str]
    states: dict[str, StateCodes]
    sources: dict[str, Source]


def _one(props: Props, prop: str) -> Term | None:
    terms = props.get(prop)
    return terms[0] if terms else None


def _str(props: Props, prop: str) -> str:
    return _value(_one(props, prop))


def _joined(values: Iterable[str]) -> str:
    items = [v for v in values if v]
    for item in items:
        if SEPARATOR in item:
            raise ValueError(f"value contains the separator {SEPARATOR!r}: {item[:80]!r}")
    return SEPARATOR.join(items)


def _all(props: Props, prop: str) -> str:
    return _joined(sorted({_value(t) for t in props.get(prop, [])}))


def _date(props: Props, prop: str) -> tuple[str, str]:
    term = _one(props, prop)
    if not isinstance(term, ox.Literal):
        return "", ""
    return term.value, PRECISION.get(term.datatype.value, "")


def _actor(ctx: Context, props: Props, prop: str, prefix: str) -> dict[str, str]:
    iri = _str(props, prop)
    return {f"{prefix}_iri": iri, f"{prefix}_label": ctx.labels.get(iri, "") if iri else ""}


def _state(ctx: Context, props: Props, prop: str, prefix: str) -> dict[str, str]:
    iri = _str(props, prop)
    codes = ctx.states.get(iri)
    row = _actor(ctx, props, prop, prefix)
    row[f"{prefix}_iso3"] = codes.iso3 if codes else ""
    row[f"{prefix}_iso2"] = codes.iso2 if codes else ""
    row[f"{prefix}_gw"] = _int(codes.gw) if codes else ""
    row[f"{prefix}_cow"] = _int(codes.cow) if codes else ""
    return row


def _int(value: int | None) -> str:
    return "" if value is None else str(value)


def _dates(props: Props, prop: str, prefix: str) -> dict[str, str]:
    value, precision = _date(props, prop)
    return {
        f"{prefix}_date" if prefix != "date" else "date": value,
        f"{prefix}_precision": precision,
    }


def _tail(ctx: Context, fact_class: str, props: Props) -> dict[str, str]:
    documents = [
        ctx.sources.get(_value(t)) or Source(_value(t), "", "", "")
        for t in props.get(str(PROV.wasDerivedFrom), [])
    ]
    documents.sort(key=lambda s: (s.date, s.iri))
    code = event_code(fact_class)
    return {
        "source_iri": _joined(s.iri for s in documents),
        "source_title": _joined(s.title for s in documents),
        "source_url": _joined(s.url for s in documents),
        "source_date": _joined(s.date for s in documents),
        "evidence": _all(props, str(DK.evidence)),
        "cameo_code": code.cameo,
        "cameo_label": code.cameo_label,
        "plover_code": code.plover,
        "code_reason": code.reason,
    }


def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1]


# --- field declarations -----------------------------------------------------------------------


def _fact_fields() -> list[Field]:
    return [
        Field(
            "fact_iri",
            "string",
            "The fact node's IRI: the row's identifier, stable across releases.",
        ),
        Field("label", "string", "The fact's English label.", str(RDFS.label)),
    ]


def _actor_fields(prefix: str, what: str, prop: str) -> list[Field]:
    return [
        Field(f"{prefix}_iri", "string", f"IRI of {what}.", prop),
        Field(f"{prefix}_label", "string", f"Label of {what}.", str(RDFS.label)),
    ]


def _state_fields(prefix: str, what: str, prop: str) -> list[Field]:
    return [
        *_actor_fields(prefix, what, prop),
        Field(f"{prefix}_iso3", "string", f"ISO 3166-1 alpha-3 code of {what} ({COCO_SOURCE})."),
        Field(f"{prefix}_iso2", "string", f"ISO 3166-1 alpha-2 code of {what} ({COCO_SOURCE})."),
        Field(f"{prefix}_gw", "integer", f"Gleditsch-Ward state number of {what} ({COCO_SOURCE})."),
        Field(
            f"{prefix}_cow", "integer", f"Correlates of War state number of {what} ({COW_SOURCE})."
        ),
    ]


def _date_fields(prefix: str, what: str, prop: str) -> list[Field]:
    name = "date" if prefix == "date" else f"{prefix}_date"
    return [
        Field(
            name,
            "string",
            f"{what}, at the precision the source gives: YYYY, YYYY-MM or YYYY-MM-DD.",
            prop,
        ),
        Field(
            f"{prefix}_precision",
            "string",
            f"Precision of {name}: year (xsd:gYear), month (xsd:gYearMonth) or day (xsd:date).",
            values=PRECISIONS,
        ),
    ]


def _tail_fields() -> list[Field]:
    joined = f' Several values are joined by "{SEPARATOR.strip()}" in the order of source_iri.'
    return [
        Field(
            "source_iri",
            "string",
            "IRI(s) of the source document(s) the fact is derived from." + joined,
            str(PROV.wasDerivedFrom),
        ),
        Field(
            "source_title",
            "string",
            "Title of each source: its headline, else its label." + joined,
            str(SCHEMA.headline),
        ),
        Field("source_url", "string", "URL of each source." + joined, str(SCHEMA.url)),
        Field(
            "source_date",
            "string",
            "Publication date of each article, or date of each list version." + joined,
            str(SCHEMA.datePublished),
        ),
        Field(
            "evidence",
            "string",
            f'Verbatim excerpt(s) of the source(s) supporting the fact, sorted, joined by "{SEPARATOR.strip()}".',
            str(DK.evidence),
        ),
        Field(
            "cameo_code",
            "string",
            "CAMEO event code of the fact's class, empty when none fits (see code_reason).",
        ),
        Field("cameo_label", "string", "CAMEO's name of cameo_code."),
        Field(
            "plover_code",
            "string",
            "PLOVER event type of the fact's class, empty when none fits (see code_reason).",
        ),
        Field(
            "code_reason",
            "string",
            "Why the CAMEO and PLOVER codes were chosen, or why there are none.",
        ),
    ]


def _state_key(prefix: str) -> ForeignKey:
    return ForeignKey((f"{prefix}_iri",), "states", ("state_iri",))


# --- the tables -------------------------------------------------------------------------------

RowBuilder = Callable[[Context, str, str, Props], dict[str, str]]


@dataclass(frozen=True)
class Spec:
    """How one table is made: its description, the classes it reads and its row builder."""

    table: Table
    build_row: RowBuilder


def _recognition_row(ctx: Context, iri: str, cls: str, p: Props) -> dict[str, str]:
    return {
        "fact_iri": iri,
        "label": _str(p, str(RDFS.label)),
        **_state(ctx, p, str(DK.recognizingState), "state"),
        **_actor(ctx, p, str(DK.recognizedGovernment), "government"),
        **_dates(p, str(DK.startDate), "start"),
        **_dates(p, str(DK.endDate), "end"),
        "has_ended": _str(p, str(DK.hasEnded)),
        "via_envoy_iri": _str(p, str(DK.recognizedVia)),
        **_tail(ctx, cls, p),
    }


def _stance_row(ctx: Context, iri: str, cls: str, p: Props) -> dict[str, str]:
    return {
        "fact_iri": iri,
        "stance_class": _local(cls),
        "label": _str(p, str(RDFS.label)),
        **_state(ctx, p, str(DK.stanceHolder), "state"),
        **_actor(ctx, p, str(DK.towardGovernment), "government"),
        **_dates(p, str(DK.asOf), "as_of"),
        "reason": _str(p, str(DK.reason)),
        "via_envoy_iri": _all(p, str(DK.viaEnvoy)),
        **_tail(ctx, cls, p),
    }


def _designation_row(ctx: Context, iri: str, cls: str, p: Props) -> dict[str, str]:
    return {
        "fact_iri": iri,
        "listing_class": _local(cls),
        "label": _str(p, str(RDFS.label)),
        **_state(ctx, p, str(DK.designatingState), "state"),
        **_actor(ctx, p, str(DK.listingBody), "listing_body"),
        **_actor(ctx, p, str(DK.designatedOrganization), "organization"),
        **_actor(ctx, p, str(DK.underList), "list"),
        "list_entry_id": _all(p, str(DK.listEntryId)),
        **_dates(p, str(DK.listingDate), "listing"),
        **_dates(p, str(DK.startDate), "start"),
        **_dates(p, str(DK.endDate), "end"),
        "started_after": _str(p, str(DK.startedAfter)),
        "started_no_later_than": _str(p, str(DK.startedNoLaterThan)),
        "ended_after": _str(p, str(DK.endedAfter)),
        "ended_no_later_than": _str(p, str(DK.endedNoLaterThan)),
        "has_ended": _str(p, str(DK.hasEnded)),
        "end_kind": _local(_str(p, str(DK.endKind))) if _str(p, str(DK.endKind)) else "",
        "established_by_iri": _all(p, str(DK.establishedBy)),
        "ended_by_iri": _all(p, str(DK.endedBy)),
        "same_fact_as": _all(p, str(DK.sameFactAs)),
        **_tail(ctx, cls, p),
    }


def _envoy_row(ctx: Context, iri: str, cls: str, p: Props) -> dict[str, str]:
    rank = _str(p, str(DK.envoyRank))
    return {
        "fact_iri": iri,
        "label": _str(p, str(RDFS.label)),
        **_state(ctx, p, str(DK.sendingState), "sending_state"),
        **_actor(ctx, p, str(DK.sendingGovernment), "sending_government"),
        **_state(ctx, p, str(DK.receivingState), "receiving_state"),
        **_actor(ctx, p, str(DK.envoyPerson), "person"),
        "rank": _local(rank) if rank else "",
        **_dates(p, str(DK.startDate), "start"),
        **_dates(p, str(DK.endDate), "end"),
        **_tail(ctx, cls, p),
    }


def _ruling_row(ctx: Context, iri: str, cls: str, p: Props) -> dict[str, str]:
    ended = sorted(
        row["f"].value
        for row in select(ctx.store, f"SELECT DISTINCT ?f WHERE {{ ?f dk:endedBy <{iri}> }}")
    )
    return {
        "fact_iri": iri,
        "label": _str(p, str(RDFS.label)),
        **_actor(ctx, p, str(DK.court), "court"),
        **_state(ctx, p, str(DK.jurisdiction), "jurisdiction"),
        **_dates(p, str(DK.date), "date"),
        **_actor(ctx, p, str(DK.petitionedBy), "petitioned_by"),
        **_actor(ctx, p, str(DK.legalBasis), "legal_basis"),
        "ends_fact_iri": _joined(ended),
        **_tail(ctx, cls, p),
    }


def _table(
    name: str,
    title: str,
    description: str,
    fields: list[Field],
    classes: tuple[str, ...],
    foreign_keys: tuple[ForeignKey, ...] = (),
) -> Table:
    return Table(
        name=name,
        path=f"{TABLES_DIR}/{name}.csv",
        title=title,
        description=description,
        fields=tuple(fields),
        primary_key=("fact_iri",),
        foreign_keys=foreign_keys,
        fact_classes=classes,
    )


def _specs() -> list[Spec]:
    end_fields = [
        *_date_fields("start", "When the fact began to hold", str(DK.startDate)),
        *_date_fields("end", "The first day the fact no longer held", str(DK.endDate)),
        Field(
            "has_ended",
            "boolean",
            "true when the source says the fact ended, even without a date.",
            str(DK.hasEnded),
        ),
    ]
    return [
        Spec(
            _table(
                "recognitions",
                "Recognitions",
                "Acts of formal diplomatic recognition of a government by a state (dk:Recognition).",
                [
                    *_fact_fields(),
                    *_state_fields("state", "the recognizing state", str(DK.recognizingState)),
                    *_actor_fields(
                        "government", "the recognized government", str(DK.recognizedGovernment)
                    ),
                    *end_fields,
                    Field(
                        "via_envoy_iri",
                        "string",
                        "The envoy (envoys.fact_iri) whose acceptance expressed the recognition.",
                        str(DK.recognizedVia),
                    ),
                    *_tail_fields(),
                ],
                (str(DK.Recognition),),
                (_state_key("state"), ForeignKey(("via_envoy_iri",), "envoys", ("fact_iri",))),
            ),
            _recognition_row,
        ),
        Spec(
            _table(
                "stances",
                "Recognition stances",
                "A state's stance toward a government short of recognition (dk:RecognitionStance): engagement without recognition, or recognition withheld.",
                [
                    *_fact_fields()[:1],
                    Field(
                        "stance_class",
                        "string",
                        "The stance's class.",
                        values=("EngagementWithoutRecognition", "RecognitionWithheld"),
                    ),
                    *_fact_fields()[1:],
                    *_state_fields("state", "the state whose stance it is", str(DK.stanceHolder)),
                    *_actor_fields(
                        "government", "the government the stance is about", str(DK.towardGovernment)
                    ),
                    *_date_fields(
                        "as_of", "When the source reports the stance as holding", str(DK.asOf)
                    ),
                    Field(
                        "reason",
                        "string",
                        "The reason the source gives, in its words.",
                        str(DK.reason),
                    ),
                    Field(
                        "via_envoy_iri",
                        "string",
                        f'Envoys (envoys.fact_iri) accepted in the engagement, joined by "{SEPARATOR.strip()}".',
                        str(DK.viaEnvoy),
                    ),
                    *_tail_fields(),
                ],
                (str(DK.EngagementWithoutRecognition), str(DK.RecognitionWithheld)),
                (_state_key("state"),),
            ),
            _stance_row,
        ),
        Spec(
            _table(
                "designations",
                "Designations and listings",
                "Every dk:Listing: a state's terrorist designation of an organization (dk:TerrorDesignation) and an international body's sanctions listing (dk:SanctionsListing), with the list, the dates the sources give and, for dates known from comparing list versions, the bounds.",
                [
                    *_fact_fields()[:1],
                    Field(
                        "listing_class",
                        "string",
                        "The listing's class.",
                        values=("TerrorDesignation", "SanctionsListing"),
                    ),
                    *_fact_fields()[1:],
                    *_state_fields(
                        "state",
                        "the designating state (empty for a sanctions listing)",
                        str(DK.designatingState),
                    ),
                    *_actor_fields(
                        "listing_body",
                        "the international body of a sanctions listing",
                        str(DK.listingBody),
                    ),
                    *_actor_fields(
                        "organization",
                        "the designated organization",
                        str(DK.designatedOrganization),
                    ),
                    *_actor_fields("list", "the list or legal regime", str(DK.underList)),
                    Field(
                        "list_entry_id",
                        "string",
                        "The list's own identifier of the entry.",
                        str(DK.listEntryId),
                    ),
                    *_date_fields(
                        "listing",
                        "The date the list itself gives for the entry",
                        str(DK.listingDate),
                    ),
                    *end_fields,
                    Field(
                        "started_after",
                        "date",
                        "Last list version without the entry: the listing began after this day.",
                        str(DK.startedAfter),
                    ),
                    Field(
                        "started_no_later_than",
                        "date",
                        "First list version with the entry: in force on this day.",
                        str(DK.startedNoLaterThan),
                    ),
                    Field(
                        "ended_after",
                        "date",
                        "Last list version with the entry: still in force on this day.",
                        str(DK.endedAfter),
                    ),
                    Field(
                        "ended_no_later_than",
                        "date",
                        "The latest day by which the listing had ended.",
                        str(DK.endedNoLaterThan),
                    ),
                    Field(
                        "end_kind",
                        "string",
                        "How the listing ended (a suspension is not a repeal).",
                        str(DK.endKind),
                        ("delisting", "deproscription", "suspension"),
                    ),
                    Field(
                        "established_by_iri",
                        "string",
                        "The ruling or legal act that began the listing.",
                        str(DK.establishedBy),
                    ),
                    Field(
                        "ended_by_iri",
                        "string",
                        "The ruling (court_rulings.fact_iri) or legal act that ended it.",
                        str(DK.endedBy),
                    ),
                    Field(
                        "same_fact_as",
                        "string",
                        f'Other fact nodes (other sources) stating the same listing, joined by "{SEPARATOR.strip()}".',
                        str(DK.sameFactAs),
                    ),
                    *_tail_fields(),
                ],
                (str(DK.TerrorDesignation), str(DK.SanctionsListing)),
                (_state_key("state"),),
            ),
            _designation_row,
        ),
        Spec(
            _table(
                "envoys",
                "Envoys",
                "Diplomatic envoys sent by a state or government and accepted by a receiving state (dk:Envoy).",
                [
                    *_fact_fields(),
                    *_state_fields(
                        "sending_state", "the state the envoy represents", str(DK.sendingState)
                    ),
                    *_actor_fields(
                        "sending_government",
                        "the government that sent the envoy",
                        str(DK.sendingGovernment),
                    ),
                    *_state_fields(
                        "receiving_state",
                        "the state that receives the envoy",
                        str(DK.receivingState),
                    ),
                    *_actor_fields(
                        "person", "the envoy, when the source names them", str(DK.envoyPerson)
                    ),
                    Field(
                        "rank",
                        "string",
                        "The envoy's rank (a concept of dk:EnvoyRanks).",
                        str(DK.envoyRank),
                        ("ambassador", "unspecifiedRank"),
                    ),
                    *end_fields[:4],
                    *_tail_fields(),
                ],
                (str(DK.Envoy),),
                (_state_key("sending_state"), _state_key("receiving_state")),
            ),
            _envoy_row,
        ),
        Spec(
            _table(
                "court_rulings",
                "Court rulings",
                "Rulings of courts, such as the rulings that began and suspended Russia's designation of the Taliban (dk:CourtRuling).",
                [
                    *_fact_fields(),
                    *_actor_fields("court", "the court", str(DK.court)),
                    *_state_fields(
                        "jurisdiction",
                        "the state in which the ruling applies",
                        str(DK.jurisdiction),
                    ),
                    *_date_fields("date", "The date of the ruling", str(DK.date)),
                    *_actor_fields(
                        "petitioned_by",
                        "the party whose petition the ruling answered",
                        str(DK.petitionedBy),
                    ),
                    *_actor_fields(
                        "legal_basis",
                        "the law or decree that allowed the ruling",
                        str(DK.legalBasis),
                    ),
                    Field(
                        "ends_fact_iri",
                        "string",
                        f'Facts this ruling ended (dk:endedBy), joined by "{SEPARATOR.strip()}".',
                        str(DK.endedBy),
                    ),
                    *_tail_fields(),
                ],
                (str(DK.CourtRuling),),
                (_state_key("jurisdiction"),),
            ),
            _ruling_row,
        ),
    ]


def _states_table(rows: int) -> Table:
    return Table(
        name="states",
        path=f"{TABLES_DIR}/states.csv",
        title="States and their codes",
        description="Every dk:State of the graph with its ISO 3166-1, Gleditsch-Ward and Correlates of War codes and where each mapping comes from; empty where a code is unknown.",
        fields=(
            Field("state_iri", "string", "The state's IRI.", ""),
            Field("state_label", "string", "The state's English label.", str(RDFS.label)),
            Field("wikidata", "string", "The state's Wikidata item.", str(OWL.sameAs)),
            Field("iso3", "string", f"ISO 3166-1 alpha-3 ({COCO_SOURCE})."),
            Field("iso2", "string", f"ISO 3166-1 alpha-2 ({COCO_SOURCE})."),
            Field("gw", "integer", f"Gleditsch-Ward state number ({COCO_SOURCE})."),
            Field("cow", "integer", f"Correlates of War state number ({COW_SOURCE})."),
            Field("cow_abbrev", "string", f"Correlates of War state abbreviation ({COW_SOURCE})."),
            Field(
                "matched_name",
                "string",
                "The state's name (label or altLabel) that the codes were matched on.",
                str(SKOS.altLabel),
            ),
            Field("code_source", "string", "Where the codes come from."),
        ),
        primary_key=("state_iri",),
        rows=rows,
    )


def _state_rows(ctx: Context) -> list[dict[str, str]]:
    wikidata: dict[str, str] = {}
    query = "SELECT ?s (MIN(STR(?w)) AS ?wd) WHERE { ?s a dk:State ; owl:sameAs ?w FILTER(STRSTARTS(STR(?w), STR(wd:))) } GROUP BY ?s"
    for row in select(ctx.store, query):
        wikidata[row["s"].value] = _value(row["wd"])
    return [
        {
            "state_iri": c.iri,
            "state_label": c.label,
            "wikidata": wikidata.get(c.iri, ""),
            "iso3": c.iso3,
            "iso2": c.iso2,
            "gw": _int(c.gw),
            "cow": _int(c.cow),
            "cow_abbrev": c.cow_abbrev,
            "matched_name": c.matched_name,
            "code_source": c.source,
        }
        for c in ctx.states.values()
    ]


def write_csv(path: Path, fields: Sequence[Field], rows: Iterable[dict[str, str]]) -> int:
    """Write rows as RFC 4180 CSV (UTF-8, CRLF), sorted; return how many rows were written."""
    names = [f.name for f in fields]
    ordered = sorted([row[n] for n in names] for row in rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(names)
        writer.writerows(ordered)
    return len(ordered)


def context(store: ox.Store) -> Context:
    """Labels, state codes and sources read once for all tables."""
    return Context(store, labels(store), state_codes(store), sources(store))


def write_tables(store: ox.Store, out_dir: Path) -> list[Table]:
    """Write `out_dir/tables/*.csv` (the states and one table per fact type); describe them."""
    ctx = context(store)
    states_rows = _state_rows(ctx)
    tables = [
        _states_table(
            write_csv(out_dir / TABLES_DIR / "states.csv", _states_table(0).fields, states_rows)
        )
    ]
    for spec in _specs():
        facts = fact_properties(store, spec.table.fact_classes)
        rows = [spec.build_row(ctx, iri, cls, props) for iri, (cls, props) in facts.items()]
        count = write_csv(out_dir / spec.table.path, spec.table.fields, rows)
        tables.append(replace(spec.table, rows=count))
    return tables
