"""Export the facts Wikidata can hold as QuickStatements V1 commands (issue 5, "Wikidata, both ways")."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import OWL, PROV, RDF, RDFS, XSD
from rdflib.term import Node

from graph import __version__
from graph.namespaces import DK, PREFIXES, SCHEMA
from graph.validate import union_graph
from graph.wikidata import vocab

log = logging.getLogger(__name__)

#: Wikidata time precisions (Help:Dates): 9 = year, 10 = month, 11 = day.
PRECISION_YEAR, PRECISION_MONTH, PRECISION_DAY = 9, 10, 11
#: Prefix of a statement written but disabled until a human has reviewed it.
REVIEW_PREFIX = "#REVIEW "

#: The DiploKG classes whose instances are Wikidata items when linked.
ENTITY_CLASSES = (
    DK.State,
    DK.Government,
    DK.Organization,
    DK.NonStateOrganization,
    DK.StateBody,
    DK.Person,
)
#: Fact classes with no Wikidata property that fits them (reported as not exported).
UNMAPPED_FACTS = (
    DK.Envoy,
    DK.EngagementWithoutRecognition,
    DK.RecognitionWithheld,
    DK.RecognitionStance,
    DK.CourtRuling,
    DK.LegalAct,
    DK.SharedThreat,
)
UNMAPPED_REASONS: dict[URIRef, str] = {
    DK.Envoy: "an envoy needs items for the person's position or the mission (P39/P531); none is linked",
    DK.EngagementWithoutRecognition: "Wikidata has no property for engagement without recognition",
    DK.RecognitionWithheld: "Wikidata has no property for withheld recognition",
    DK.RecognitionStance: "Wikidata has no property for a recognition stance",
    DK.CourtRuling: "a ruling would need an item of its own (none exists)",
    DK.LegalAct: "a legal act would need an item of its own (none exists)",
    DK.SharedThreat: "Wikidata has no property for a shared threat",
}


@dataclass(frozen=True)
class Statement:
    """One QuickStatements V1 command: item, property, value, qualifiers and one or more references."""

    subject: str
    prop: str
    value: str
    qualifiers: tuple[tuple[str, str], ...]
    references: tuple[tuple[tuple[str, str], ...], ...]
    fact: URIRef
    comment: str
    needs_review: bool = False

    def line(self) -> str:
        """The tab-separated command (`!S` opens each reference after the first)."""
        cells = [self.subject, self.prop, self.value]
        for prop, value in self.qualifiers:
            cells += [prop, value]
        for index, reference in enumerate(self.references):
            for position, (prop, value) in enumerate(reference):
                key = "S" + prop[1:]
                cells += ["!" + key if index and not position else key, value]
        return "\t".join(cells)


@dataclass(frozen=True)
class Skipped:
    """A fact that was not exported, and why."""

    fact: URIRef
    kind: URIRef
    reason: str


@dataclass(frozen=True)
class ExportResult:
    """The statements of an export and everything that was left out."""

    statements: tuple[Statement, ...]
    skipped: tuple[Skipped, ...]
    unlinked: tuple[tuple[URIRef, str], ...]
    retrieved: date
    labels: dict[URIRef, str] = field(default_factory=dict, compare=False)

    @property
    def blocked(self) -> tuple[Skipped, ...]:
        """Facts left out because an entity they need has no Wikidata item."""
        return tuple(s for s in self.skipped if s.kind not in UNMAPPED_FACTS)

    def text(self, *, comments: bool = True, include_review: bool = False) -> str:
        """The QuickStatements file: commands, and unless `comments` is false, '#' notes and the report.

        Statements that need human review are written disabled (behind `#REVIEW `) unless
        `include_review`; with `comments` false and without `include_review` they are left out.
        """
        out: list[str] = []
        if comments:
            out += [
                f"# DiploKG {__version__}: QuickStatements V1 (tab-separated) for Wikidata.",
                f"# References retrieved {self.retrieved.isoformat()}. Check each statement before uploading.",
                "# Lines starting with '#' are notes: classic QuickStatements ignores them; use",
                "# `diplokg export wikidata --plain` for the commands alone.",
            ]
        sections = (
            (
                vocab.DESIGNATED_AS_TERRORIST_BY,
                "Terrorist designations: P3461 (designated as terrorist by)",
            ),
            (vocab.DIPLOMATIC_RELATION, "Diplomatic relations: P530 (diplomatic relation)"),
        )
        for prop, title in sections:
            members = [s for s in self.statements if s.prop == prop]
            if not members:
                continue
            review = any(s.needs_review for s in members)
            if comments:
                out += ["#", f"# == {title}{' (NEEDS HUMAN REVIEW)' if review else ''} =="]
                if prop == vocab.DIPLOMATIC_RELATION:
                    out += [
                        "# P530 relates two states; it does not say that a government was recognized.",
                        "# Wikidata may already hold P530 between these states from earlier decades, and",
                        "# QuickStatements would add P580 to that statement. A human must decide.",
                    ]
                    if not include_review:
                        out.append(
                            f'# Disabled: remove the leading "{REVIEW_PREFIX}" to use a line.'
                        )
            for statement in members:
                if comments:
                    out.append(f"# {_short(statement.fact)}: {statement.comment}")
                if statement.needs_review and not include_review:
                    if comments:
                        out.append(REVIEW_PREFIX + statement.line())
                    continue
                out.append(statement.line())
        if comments:
            out += ["#", *(f"# {line}" if line else "#" for line in self.report().splitlines())]
        return "\n".join(out) + "\n"

    def report(self) -> str:
        """What was exported, what was not and why, and the entities without a Wikidata item."""
        lines = ["== Report =="]
        review = sum(s.needs_review for s in self.statements)
        lines.append(
            f"{len(self.statements)} statement(s) written, {review} of them need human review."
        )
        lines.append(f"Not exported, an entity has no Wikidata item: {len(self.blocked)} fact(s)")
        lines += [f"  {_short(s.fact)}: {s.reason}" for s in self.blocked]
        unmapped = [s for s in self.skipped if s.kind in UNMAPPED_FACTS]
        lines.append(f"Not exported, no fitting Wikidata property: {len(unmapped)} fact(s)")
        lines += [f"  {_short(s.fact)} ({_short(s.kind)}): {s.reason}" for s in unmapped]
        lines.append(f"Entities without a Wikidata item (owl:sameAs wd:Q...): {len(self.unlinked)}")
        lines += [f"  {_short(iri)} ({label})" for iri, label in self.unlinked]
        if self.unlinked:
            lines.append("  `diplokg link` proposes items for them.")
        return "\n".join(lines) + "\n"


def export_wikidata(ds: Dataset | Graph, retrieved: date) -> ExportResult:
    """The QuickStatements for the designations and recognitions of `ds`; deterministic for a given `retrieved`."""
    g = union_graph(ds) if isinstance(ds, Dataset) else ds
    statements: list[Statement] = []
    skipped: list[Skipped] = []
    designations: list[Statement] = []
    for cluster in same_fact_clusters(g, sorted(_typed(g, DK.TerrorDesignation))):
        made, problems = _designations(g, cluster, retrieved)
        skipped += [Skipped(fact, DK.TerrorDesignation, why) for fact, why in problems]
        if made is not None:
            designations.append(made)
    statements += merge_statements(designations)
    for fact in sorted(_typed(g, DK.Recognition)):
        pair, problem = _recognition(g, fact, retrieved)
        if not pair:
            skipped.append(Skipped(fact, DK.Recognition, problem))
        statements += pair
    seen = {s.fact for s in skipped} | {s.fact for s in statements}
    for kind in UNMAPPED_FACTS:
        for fact in sorted(_typed(g, kind)):
            if fact in seen:
                continue
            seen.add(fact)
            skipped.append(Skipped(fact, kind, UNMAPPED_REASONS[kind]))
    unlinked = sorted(
        {
            (e, _label(g, e))
            for cls in ENTITY_CLASSES
            for e in _typed(g, cls)
            if item_of(g, e) is None
        }
    )
    for iri, label in unlinked:
        log.info("no Wikidata item for %s (%s)", iri, label)
    return ExportResult(tuple(statements), tuple(skipped), tuple(unlinked), retrieved)


def item_of(g: Graph, entity: Node | None) -> str | None:
    """The QID an entity is owl:sameAs (the smallest if several), or None."""
    if entity is None:
        return None
    found = sorted(
        (
            q
            for q in (vocab.qid(o) for o in g.objects(entity, OWL.sameAs) if isinstance(o, URIRef))
            if q
        ),
        key=lambda q: int(q[1:]),
    )
    if len(found) > 1:
        log.warning("%s is owl:sameAs several Wikidata items %s; using %s", entity, found, found[0])
    return found[0] if found else None


def wikidata_time(value: Literal) -> tuple[str, int] | None:
    """A DiploKG date (xsd:date, xsd:gYearMonth, xsd:gYear or xsd:dateTime) as a QuickStatements time.

    Year precision writes month and day as 00, as Wikidata does (+2003-00-00T00:00:00Z/9);
    nothing finer than the data's own precision is ever written. None for anything else.
    """
    text = str(value).strip()
    dt = value.datatype
    try:
        if dt == XSD.gYear and len(text) == 4 and text.isdigit():
            return f"+{text}-00-00T00:00:00Z", PRECISION_YEAR
        if dt == XSD.gYearMonth and len(text) == 7:
            year, month = text.split("-")
            date(int(year), int(month), 1)
            return f"+{year}-{month}-00T00:00:00Z", PRECISION_MONTH
        if dt in (XSD.date, XSD.dateTime):
            day = date.fromisoformat(text[:10])
            return f"+{day.isoformat()}T00:00:00Z", PRECISION_DAY
    except ValueError:
        pass
    return None


def qs_time(value: Literal) -> str | None:
    """A QuickStatements time value with its precision (`+2025-04-17T00:00:00Z/11`), or None."""
    parsed = wikidata_time(value)
    return f"{parsed[0]}/{parsed[1]}" if parsed else None


def qs_string(text: str) -> str:
    """A quoted QuickStatements string. Tabs, line breaks and '|' (a column separator to some
    QuickStatements versions) become spaces or '¦'."""
    clean = " ".join(text.replace("|", "¦").split())
    return f'"{clean}"'


def qs_monolingual(text: str, language: str) -> str:
    """A QuickStatements monolingual text, `en:"..."`."""
    return f"{language}:{qs_string(text)}"


def reference_for(g: Graph, article: URIRef, retrieved: date) -> tuple[tuple[str, str], ...]:
    """S854 reference URL (the source's schema:url, else its IRI: the seed articles carry no web
    address), S1476 title (its headline, when it has one), S577 publication date (a list
    version's own date) and S813 retrieved (when the source says, else `retrieved`)."""
    url = g.value(article, SCHEMA.url)
    pairs: list[tuple[str, str]] = [(vocab.REFERENCE_URL, qs_string(str(url or article)))]
    headline = g.value(article, SCHEMA.headline)
    if isinstance(headline, Literal):
        lang = headline.language or str(g.value(article, SCHEMA.inLanguage) or "en")
        pairs.append((vocab.TITLE, qs_monolingual(str(headline), lang)))
    published = g.value(article, SCHEMA.datePublished) or g.value(article, DK.versionDate)
    if isinstance(published, Literal) and (when := qs_time(published)):
        pairs.append((vocab.PUBLICATION_DATE, when))
    got = g.value(article, DK.retrievedOn)
    if isinstance(got, Literal) and (when := qs_time(got)):
        pairs.append((vocab.RETRIEVED, when))
    else:
        pairs.append((vocab.RETRIEVED, f"+{retrieved.isoformat()}T00:00:00Z/{PRECISION_DAY}"))
    return tuple(pairs)


def _designation(g: Graph, fact: URIRef, retrieved: date) -> tuple[Statement | None, str]:
    org = g.value(fact, DK.designatedOrganization)
    state = g.value(fact, DK.designatingState)
    missing = _missing(g, org, state)
    if missing:
        return None, missing
    qualifiers: list[tuple[str, str]] = []
    notes: list[str] = []
    start = g.value(fact, DK.startDate)
    if isinstance(start, Literal) and (when := qs_time(start)):
        qualifiers.append((vocab.START_TIME, when))
    elif start is not None:
        notes.append(f"start {start} is not a date Wikidata takes: left out")
    listed_by = g.value(fact, DK.startedNoLaterThan)
    if start is None and listed_by is not None:
        notes.append(f"listed no later than {listed_by}: the list gives no start, P580 left out")
    end = g.value(fact, DK.endDate)
    ended = g.value(fact, DK.hasEnded)
    if isinstance(end, Literal) and (when := qs_time(end)):
        qualifiers.append((vocab.END_TIME, when))
    elif isinstance(ended, Literal) and ended.toPython() is True:
        # Ended on a date the source does not give: "unknown value", so that the statement
        # does not read as a designation in force, and no date is made up.
        qualifiers.append((vocab.END_TIME, "somevalue"))
        bound = g.value(fact, DK.endedNoLaterThan)
        later = f", no later than {bound}" if bound is not None else ""
        notes.append(f"ended on a date the source does not give{later}: P582 is 'unknown value'")
    comment = "; ".join([_label(g, fact), *notes])
    statement = Statement(
        subject=item_of(g, org) or "",
        prop=vocab.DESIGNATED_AS_TERRORIST_BY,
        value=item_of(g, state) or "",
        qualifiers=tuple(qualifiers),
        references=_references(g, fact, retrieved),
        fact=fact,
        comment=comment,
    )
    return statement, ""


def same_fact_clusters(g: Graph, facts: list[URIRef]) -> list[list[URIRef]]:
    """The facts grouped by dk:sameFactAs (either direction, transitively), each group sorted:
    the nodes by which several sources state one real fact."""
    parent = {f: f for f in facts}

    def root(f: URIRef) -> URIRef:
        while parent[f] != f:
            parent[f] = parent[parent[f]]
            f = parent[f]
        return f

    for f in facts:
        for other in g.objects(f, DK.sameFactAs):
            if other in parent:
                a, b = root(f), root(other)  # type: ignore[arg-type]
                parent[max(a, b)] = min(a, b)
    groups: dict[URIRef, list[URIRef]] = {}
    for f in facts:
        groups.setdefault(root(f), []).append(f)
    return sorted((sorted(members) for members in groups.values()), key=lambda m: m[0])


def merge_statements(statements: list[Statement]) -> list[Statement]:
    """Statements with the same item, property, value and qualifiers (a state's listings of one
    organization on two of its lists, such as FTO and SDGT) are one Wikidata statement: one
    line, with every reference."""
    merged: dict[tuple[object, ...], Statement] = {}
    for s in statements:
        key = (s.subject, s.prop, s.value, s.qualifiers)
        first = merged.get(key)
        if first is None:
            merged[key] = s
            continue
        merged[key] = Statement(
            s.subject,
            s.prop,
            s.value,
            s.qualifiers,
            tuple(sorted(set(first.references) | set(s.references))),
            first.fact,
            f"{first.comment}; also {_short(s.fact)}",
            first.needs_review or s.needs_review,
        )
    return list(merged.values())


def _designations(
    g: Graph, cluster: list[URIRef], retrieved: date
) -> tuple[Statement | None, list[tuple[URIRef, str]]]:
    """One statement for the nodes that state one designation: the most precise dates they
    agree on, and a reference for each source. Dates that conflict (neither is a coarser form
    of the other) make the statement one for a human to review; no source's date is dropped
    silently."""
    made: list[Statement] = []
    problems: list[tuple[URIRef, str]] = []
    for fact in cluster:
        statement, problem = _designation(g, fact, retrieved)
        if statement is None:
            problems.append((fact, problem))
        else:
            made.append(statement)
    if len(made) <= 1:
        return (made[0] if made else None), problems
    if len({(s.subject, s.value) for s in made}) > 1:
        reason = "the sources of this designation (dk:sameFactAs) name different parties"
        return None, problems + [(s.fact, reason) for s in made]
    qualifiers: list[tuple[str, str]] = []
    notes: list[str] = []
    for prop, name in ((DK.startDate, vocab.START_TIME), (DK.endDate, vocab.END_TIME)):
        values = sorted({str(v) for f in cluster for v in g.objects(f, prop)}, key=len)
        chosen = values[-1] if values else None
        if any(not chosen.startswith(v) for v in values) if chosen else False:
            notes.append(f"the sources disagree on {name}: {' / '.join(values)}")
        literal = next((v for f in cluster for v in g.objects(f, prop) if str(v) == chosen), None)
        if isinstance(literal, Literal) and (when := qs_time(literal)):
            qualifiers.append((name, when))
        elif prop == DK.endDate and any(g.value(f, DK.hasEnded) == Literal(True) for f in cluster):
            qualifiers.append((name, "somevalue"))
    references = tuple(sorted({r for s in made for r in s.references}))
    sources = ", ".join(_short(s.fact) for s in made)
    comment = "; ".join(
        [f"{_label(g, made[0].fact)}: one statement for {len(made)} sources ({sources})", *notes]
    )
    return (
        Statement(
            made[0].subject,
            made[0].prop,
            made[0].value,
            tuple(qualifiers),
            references,
            made[0].fact,
            comment,
            needs_review=bool(notes),
        ),
        problems,
    )


def _recognition(g: Graph, fact: URIRef, retrieved: date) -> tuple[list[Statement], str]:
    recognizing = g.value(fact, DK.recognizingState)
    government = g.value(fact, DK.recognizedGovernment)
    governed = g.value(government, DK.governs) if government is not None else None
    if governed is None:
        return [], "the recognized government governs no state in the data (P530 needs two states)"
    missing = _missing(g, recognizing, governed)
    if missing:
        return [], missing
    a, b = item_of(g, recognizing) or "", item_of(g, governed) or ""
    if a == b:
        return [], "the recognizing state is the state the government governs"
    qualifiers: list[tuple[str, str]] = []
    start = g.value(fact, DK.startDate)
    if isinstance(start, Literal) and (when := qs_time(start)):
        qualifiers.append((vocab.START_TIME, when))
    end = g.value(fact, DK.endDate)
    if isinstance(end, Literal) and (when := qs_time(end)):
        qualifiers.append((vocab.END_TIME, when))
    references = _references(g, fact, retrieved)
    comment = (
        f"{_label(g, fact)}; exported as P530 between {_label(g, recognizing)} and "
        f"{_label(g, governed)}, the state {_label(g, government)} governs"
    )
    pair = [
        Statement(
            x, vocab.DIPLOMATIC_RELATION, y, tuple(qualifiers), references, fact, comment, True
        )
        for x, y in ((a, b), (b, a))
    ]
    return pair, ""


def _references(g: Graph, fact: URIRef, retrieved: date) -> tuple[tuple[tuple[str, str], ...], ...]:
    articles = sorted(a for a in g.objects(fact, PROV.wasDerivedFrom) if isinstance(a, URIRef))
    return tuple(reference_for(g, a, retrieved) for a in articles)


def _missing(g: Graph, *entities: Node | None) -> str:
    names = [
        f"{_short(e)} ({_label(g, e)})" if isinstance(e, URIRef) else "a missing entity"
        for e in entities
        if item_of(g, e) is None
    ]
    return "no Wikidata item for " + ", ".join(names) if names else ""


def _typed(g: Graph, cls: URIRef) -> Iterable[URIRef]:
    return (s for s in g.subjects(RDF.type, cls) if isinstance(s, URIRef))


def _label(g: Graph, node: Node | None) -> str:
    if node is None:
        return "?"
    label = g.value(node, RDFS.label)
    return str(label) if label is not None else _short(node)


def _short(node: Node) -> str:
    text = str(node)
    for name, iri in sorted(PREFIXES.items(), key=lambda kv: -len(kv[1])):
        if text.startswith(iri) and name != "wd":
            return f"{name}:{text[len(iri) :]}"
    return f"<{text}>"
