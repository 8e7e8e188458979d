"""Listings -> reviewable TriG under graph/sources/: one named graph per list version.

Each source has one generated file, `graph/sources/list-<source>.trig`, rewritten whole by
each import, so that `git diff` shows what a new version of a list changed. A graph per list
version holds the version's description (dk:ListVersion: URL, version date, retrieval date,
SHA-256) and what that version attests: the listings it is the first to show, and the ends of
those it is the first to miss. Output is deterministic: the same inputs give the same bytes.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

from graph.build import canonicalize, trig_text
from graph.imports.model import REGIMES, DateValue, LegalActRef, Listing, SourceFile
from graph.imports.reconcile import (
    DECISIONS_FILE,
    Match,
    Reconciler,
    index_dataset,
    list_key,
    read_decisions,
    slug,
)
from graph.imports.result import ImportResult
from graph.loading import new_dataset, parse_into
from graph.namespaces import DK, GRAPH, RES, SCHEMA, WD
from graph.validate import union_graph

#: How each list is written: the designator's resource and whether it is a state.
LIST_LABELS: dict[str, str] = {
    "us-fto": "US Foreign Terrorist Organizations",
    "us-sdgt": "US Specially Designated Global Terrorists",
    "ca-criminal-code": "Canada's Criminal Code list",
    "uk-schedule-2": "UK Terrorism Act 2000 Schedule 2",
    "un-1988": "UN 1988 sanctions list",
    "un-isil-al-qaida": "UN ISIL (Da'esh) and Al-Qaida sanctions list",
    "ru-federal": "Russia's federal list of terrorist organizations",
}
#: Designators that are international bodies (their listings are dk:SanctionsListing).
INTERNATIONAL = {"un-1988-committee", "un-1267-committee"}


def output_path(sources_dir: Path, source: str) -> Path:
    return sources_dir / f"list-{source}.trig"


def version_graph(source: SourceFile) -> URIRef:
    return GRAPH[source.key]


def version_node(source: SourceFile) -> URIRef:
    return RES[f"source-{source.key}"]


def listing_iri(listing: Listing) -> URIRef:
    if listing.regime is None:
        return RES[f"designation-{listing.designator}-{slug(listing.entry_id, 80)}"]
    suffix = f"-{listing.span}" if listing.span > 1 else ""
    return RES[f"listing-{listing.regime}-{slug(listing.entry_id, 80)}{suffix}"]


def _date(value: DateValue | date) -> Literal:
    text = value.isoformat() if isinstance(value, date) else value.text
    datatype = {4: XSD.gYear, 7: XSD.gYearMonth}.get(len(text), XSD.date)
    return Literal(text, datatype=datatype)


@dataclass
class Written:
    """The dataset an import produces, and how each entry was reconciled."""

    dataset: Dataset
    matches: dict[tuple[str, str], Match] = field(default_factory=dict)


def to_dataset(
    source: str,
    result: ImportResult,
    reconciler: Reconciler,
    previous_labels: dict[URIRef, Literal] | None = None,
) -> Written:
    """The import's named graphs (one per list version), organizations reconciled.

    `previous_labels`: the organizations the previous import of this source named. One that
    this import no longer lists but another source still does keeps its name (and type) here,
    so that a delisting never leaves another list's organization without a label."""
    ds = new_dataset()
    out = Written(ds)
    index = reconciler.index
    elsewhere = set(index.orgs)  # organizations other sources mention
    labelled = set(index.labelled)  # one rdfs:label per organization, in the whole graph
    for file in result.sources:
        _describe_version(ds, file)
    for listing in sorted(result.listings, key=lambda li: str(listing_iri(li))):
        list_id = listing.regime or f"wikidata-{listing.designator}"
        group = listing.entry_id if source == "us-sdn" else None
        match = reconciler.match(list_id, listing.entry_id, listing.entity, group)
        out.matches[(list_id, listing.entry_id)] = match
        _write_listing(ds, listing, match, name_it=match.iri not in labelled)
        labelled.add(match.iri)
    carried = {
        iri: label
        for iri, label in (previous_labels or {}).items()
        if iri in elsewhere and iri not in labelled
    }
    if carried and result.sources:
        g = ds.graph(version_graph(min(result.sources, key=lambda f: (f.version, f.key))))
        for iri, label in sorted(carried.items()):
            g.add((iri, RDF.type, DK.Organization))
            g.add((iri, RDFS.label, label))
    return out


def _describe_version(ds: Dataset, file: SourceFile) -> None:
    g = ds.graph(version_graph(file))
    node = version_node(file)
    g.add((node, RDF.type, DK.ListVersion))
    g.add((node, RDFS.label, Literal(file.label, lang="en")))
    g.add((node, SCHEMA.url, URIRef(file.url)))
    g.add((node, SCHEMA.name, Literal(file.name)))
    g.add((node, DK.versionDate, Literal(file.version.isoformat(), datatype=XSD.date)))
    g.add((node, DK.retrievedOn, Literal(file.retrieved.isoformat(), datatype=XSD.date)))
    g.add((node, DK.sha256, Literal(file.sha256)))
    for key in file.lists:
        g.add((node, DK.ofList, RES[f"list-{key}"]))
    if file.copy:
        g.add((node, DK.copiedFrom, Literal(file.copy)))
    if file.license:
        g.add((node, DCTERMS.license, URIRef(file.license)))


def _write_listing(ds: Dataset, listing: Listing, match: Match, *, name_it: bool) -> None:
    first = listing.sources[0]
    g = ds.graph(version_graph(first))
    node = listing_iri(listing)
    org = match.iri
    name = listing.entity.name
    if listing.regime is None:
        designator = str(listing.designator)
        kind, label = DK.TerrorDesignation, f"{name}, designated by {designator} (Wikidata)"
    else:
        designator = REGIMES[listing.regime]
        international = designator in INTERNATIONAL
        kind = DK.SanctionsListing if international else DK.TerrorDesignation
        label = f"{name} on the {LIST_LABELS[listing.regime]}"
        g.add((node, DK.underList, RES[f"list-{listing.regime}"]))
    g.add((node, RDF.type, kind))
    g.add((node, RDFS.label, Literal(label, lang="en")))
    if kind == DK.SanctionsListing:
        g.add((node, DK.listingBody, RES[designator]))
    else:
        g.add((node, DK.designatingState, RES[designator]))
    g.add((node, DK.designatedOrganization, org))
    g.add((node, DK.listEntryId, Literal(listing.entry_id)))
    for excerpt in listing.evidence:
        g.add((node, DK.evidence, Literal(excerpt)))
    for file in listing.sources:
        g.add((node, PROV.wasDerivedFrom, version_node(file)))
    for url in listing.source_refs:
        g.add((node, RDFS.seeAlso, URIRef(url)))
    for prop, value in (
        (DK.listingDate, listing.listing_date),
        (DK.startDate, listing.start),
        (DK.startedAfter, listing.started_after),
        (DK.startedNoLaterThan, listing.started_no_later_than),
    ):
        if value is not None:
            g.add((node, prop, _date(value)))
    if listing.started_by is not None:
        g.add((node, DK.establishedBy, _legal_act(ds, listing.started_by, listing, first)))
    _write_organization(g, org, listing, match, name_it)
    if listing.ended:
        _write_end(ds, node, listing, first)


def _write_end(ds: Dataset, node: URIRef, listing: Listing, first: SourceFile) -> None:
    end_file = listing.end_sources[0] if listing.end_sources else first
    g = ds.graph(version_graph(end_file))
    g.add((node, DK.hasEnded, Literal(True)))
    for prop, value in (
        (DK.endDate, listing.end),
        (DK.endedAfter, listing.ended_after),
        (DK.endedNoLaterThan, listing.ended_no_later_than),
    ):
        if value is not None:
            g.add((node, prop, _date(value)))
    if listing.end_kind is not None:
        g.add((node, DK.endKind, DK[listing.end_kind]))
    if listing.ended_by is not None:
        g.add((node, DK.endedBy, _legal_act(ds, listing.ended_by, listing, end_file)))
    for file in listing.end_sources:
        g.add((node, PROV.wasDerivedFrom, version_node(file)))


def _legal_act(ds: Dataset, act: LegalActRef, listing: Listing, fallback: SourceFile) -> URIRef:
    """The Order (or ruling) as a dk:LegalAct, in the graph of the file that is its text."""
    files = [*listing.sources, *listing.end_sources]
    file = next((f for f in files if f.url == act.url), fallback)
    g = ds.graph(version_graph(file))
    node = RES[act.key]
    g.add((node, RDF.type, DK.LegalAct))
    g.add((node, RDFS.label, Literal(act.title, lang="en")))
    g.add((node, DK.date, _date(act.made)))
    g.add((node, SCHEMA.url, URIRef(act.url)))
    if listing.regime is not None:
        g.add((node, DK.jurisdiction, RES[REGIMES[listing.regime]]))
    g.add((node, PROV.wasDerivedFrom, version_node(file)))
    g.add((node, DK.evidence, Literal(act.title)))
    return node


def _write_organization(
    graph: Graph, org: URIRef, listing: Listing, match: Match, name_it: bool
) -> None:
    """The organization as this list names it; `name_it`: give its rdfs:label (the first file to
    name an organization labels it, so that it has exactly one)."""
    entity = listing.entity
    graph.add((org, RDF.type, DK.Organization))
    if name_it:
        graph.add((org, RDFS.label, Literal(entity.name.strip(), lang="en")))
    for alias in (entity.name, *entity.aliases):
        if alias.strip():
            graph.add((org, SKOS.altLabel, Literal(alias.strip(), lang="en")))
    if entity.wikidata and match.how in ("new", "wikidata"):
        graph.add((org, OWL.sameAs, WD[entity.wikidata]))


def read_previous(path: Path) -> Graph:
    """What the previous import of a source wrote (all its graphs merged); empty if none."""
    dataset = new_dataset()
    if path.is_file():
        parse_into(dataset, path)
    return union_graph(dataset)


def previous_matches(previous: Graph) -> dict[tuple[str, str], URIRef]:
    """(list, entry id) -> organization, as the previous import of a source wrote them."""
    found: dict[tuple[str, str], URIRef] = {}
    for node in previous.subjects(DK.listEntryId, None, unique=True):
        org = previous.value(node, DK.designatedOrganization)
        entry = previous.value(node, DK.listEntryId)
        lst = previous.value(node, DK.underList)
        state = previous.value(node, DK.designatingState)
        if lst is not None:
            key = list_key(str(lst))
        elif state is not None:
            key = f"wikidata-{str(state).removeprefix(str(RES))}"
        else:
            continue
        if isinstance(org, URIRef) and entry is not None:
            found[(key, str(entry))] = org
    return found


def previous_labels(previous: Graph) -> dict[URIRef, Literal]:
    """The organizations a source's previous import named (rdfs:label), by IRI."""
    return {
        org: label
        for org in previous.subjects(RDF.type, DK.Organization, unique=True)
        if isinstance(org, URIRef) and isinstance(label := previous.value(org, RDFS.label), Literal)
    }


def other_sources(sources_dir: Path, exclude: Path) -> Dataset:
    """Every source file but `exclude`, parsed: what the import is reconciled against."""
    ds = new_dataset()
    for path in sorted(sources_dir.glob("*.trig")):
        if path.resolve() != exclude.resolve():
            parse_into(ds, path)
    return ds


def render(source: str, written: Written, header: Sequence[str]) -> str:
    """The TriG text of an import: a comment header, then the graphs in IRI order."""
    comment = "".join(f"# {line}\n" if line else "#\n" for line in header)
    return comment + trig_text(canonicalize(written.dataset))


def write_atomically(path: Path, text: str) -> bool:
    """Replace `path` with `text` in one step; False (nothing written) when it is unchanged."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, _mode(path))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def _mode(path: Path) -> int:
    """The file's own mode when it exists, else what the umask gives a new file (mkstemp's
    temporary files are private)."""
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def reconciler_for(sources_dir: Path, target: Path, previous: Graph) -> Reconciler:
    """Matching against every other source, the curators' decisions and the previous import."""
    index = index_dataset(other_sources(sources_dir, target))
    decisions = read_decisions(sources_dir / DECISIONS_FILE)
    return Reconciler(index, decisions, previous_matches(previous))
