"""What changed between two releases: an RDF Patch, a CHANGES.md for people and a CSV.

`diff_releases(previous, current, out)` compares the N-Quads dumps (`diplokg.nq`) of two build
or release directories and writes

    out/changes/changes.rdfp   RDF Patch (https://afs.github.io/rdf-patch/), one transaction
                               whose `H id` / `H prev` are the release IRIs of the two versions
                               (`https://w3id.org/diplokg/release/VERSION`, VERSION from each
                               manifest.json), holding exactly the quads removed (`D`) and added
                               (`A`), each set sorted by its N-Quads line;
    out/CHANGES.md             the same change as people read it: counts, then facts added,
                               ended, corrected and removed, and sources added and removed,
                               listed by fact type with their IRIs and labels;
    out/changes/changes.csv    one row per fact or source changed (RFC 4180).

How quads are compared: both dumps are parsed as a stream with pyoxigraph; quads without blank
nodes are compared as they are. Blank nodes occur only in the ontology graph (OWL unions,
disjointness axioms); labels of blank nodes are arbitrary, so the quads that hold one are
canonicalized with RDFC-1.0 (W3C RDF Dataset Canonicalization) on each side and compared in
that form. When the two blank-node parts are isomorphic (the usual case) they contribute nothing;
otherwise the patch names blank nodes by their canonical labels (`_:c14n0`), which identify a
node within one side's canonical form only.

Change kinds. A fact is a node typed with dk:Fact or a subclass of it (in either release's
ontology); a source is a node typed with dk:SourceDocument or a subclass.
  - added: the node is the subject of no quad before and of some quad now;
  - removed: the other way round;
  - ended: the fact was not marked ended before and is now (dk:hasEnded true, dk:endDate,
    dk:endedAfter or dk:endedNoLaterThan);
  - corrected: any other change of the quads whose subject is the fact.
Sources are only added or removed (a change of a source's own triples shows in the patch).
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from graph.curie import short
from graph.namespaces import BASE, DK
from graph.writes.delta import Delta, Patch, from_ox_quad

#: The IRI of a release, completed by its version.
RELEASE_BASE = BASE + "release/"
DUMP = "diplokg.nq"
MANIFEST = "manifest.json"
PATCH_FILE = Path("changes") / "changes.rdfp"
CSV_FILE = Path("changes") / "changes.csv"
CHANGES_FILE = Path("CHANGES.md")
CSV_COLUMNS = ("entity", "change", "type", "iri", "label", "properties")

_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
_SUBCLASS_OF = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")
_FACT = ox.NamedNode(str(DK.Fact))
_SOURCE = ox.NamedNode(str(DK.SourceDocument))
_HAS_ENDED = ox.NamedNode(str(DK.hasEnded))
_END_PREDICATES = frozenset(
    ox.NamedNode(str(DK[name])) for name in ("endDate", "endedAfter", "endedNoLaterThan")
)
_TRUE = ox.Literal("true", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean"))

#: Order of the kinds, in CHANGES.md and the CSV.
FACT_KINDS = ("added", "ended", "corrected", "removed")
SOURCE_KINDS = ("added", "removed")
_VALUE_WIDTH = 80

Subject = ox.NamedNode | ox.BlankNode


@dataclass(frozen=True)
class Change:
    """One fact or source that changed."""

    entity: str  # "fact" | "source"
    kind: str  # one of FACT_KINDS / SOURCE_KINDS
    type: str  # CURIE of its most specific fact or source class(es)
    iri: str
    label: str
    #: CURIEs of the predicates of its own quads removed or added, sorted.
    properties: tuple[str, ...]
    #: (property CURIE, values before, values after), for ended and corrected facts.
    details: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = ()

    def sort_key(self) -> tuple[int, int, str, str]:
        kinds = FACT_KINDS if self.entity == "fact" else SOURCE_KINDS
        return (self.entity != "fact", kinds.index(self.kind), self.type, self.iri)


@dataclass(frozen=True)
class DiffSummary:
    """The versions compared, the size of the patch and the facts and sources changed."""

    previous_version: str
    current_version: str
    quads_removed: int
    quads_added: int
    changes: tuple[Change, ...]

    def count(self, entity: str, kind: str) -> int:
        return sum(1 for c in self.changes if c.entity == entity and c.kind == kind)

    def counts(self) -> dict[str, int]:
        """`facts added`... `sources removed`, then the quads: the table at the top of CHANGES.md."""
        found = {f"facts {k}": self.count("fact", k) for k in FACT_KINDS}
        found |= {f"sources {k}": self.count("source", k) for k in SOURCE_KINDS}
        found |= {"quads added": self.quads_added, "quads removed": self.quads_removed}
        return found


def release_iri(version: str) -> str:
    return RELEASE_BASE + version


def release_version(directory: Path) -> str:
    """The "version" of a build or release directory's manifest.json."""
    manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    return str(manifest["version"])


# --- comparing quads -----------------------------------------------------------------------


def read_quads(path: Path) -> Iterator[ox.Quad]:
    """The quads of an N-Quads file, parsed as a stream."""
    yield from ox.parse(path=path, format=ox.RdfFormat.N_QUADS)


def _has_blank(quad: ox.Quad) -> bool:
    return any(
        isinstance(term, ox.BlankNode) for term in (quad.subject, quad.object, quad.graph_name)
    )


def canonical_quads(quads: Iterable[ox.Quad]) -> set[ox.Quad]:
    """The quads, those with blank nodes relabelled by RDFC-1.0 (ground quads as they are)."""
    ground: set[ox.Quad] = set()
    blank: list[ox.Quad] = []
    for quad in quads:
        if _has_blank(quad):
            blank.append(quad)
        else:
            ground.add(quad)
    if blank:
        dataset = ox.Dataset(blank)
        dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
        ground.update(dataset)
    return ground


def quad_delta(before: set[ox.Quad], after: set[ox.Quad]) -> Delta:
    """The quads removed and added, as a concrete Delta (rdflib terms)."""
    return Delta(
        removed=frozenset(from_ox_quad(q) for q in before - after),
        added=frozenset(from_ox_quad(q) for q in after - before),
    )


# --- classifying the change ----------------------------------------------------------------


class Classes:
    """The class hierarchy (rdfs:subClassOf between IRIs, transitively) of both releases."""

    def __init__(self, *sides: set[ox.Quad]) -> None:
        direct: dict[ox.NamedNode, set[ox.NamedNode]] = defaultdict(set)
        for side in sides:
            for q in side:
                if (
                    q.predicate == _SUBCLASS_OF
                    and isinstance(q.subject, ox.NamedNode)
                    and isinstance(q.object, ox.NamedNode)
                ):
                    direct[q.subject].add(q.object)
        self.ancestors: dict[ox.NamedNode, frozenset[ox.NamedNode]] = {}
        for cls in direct:
            seen: set[ox.NamedNode] = set()
            todo = list(direct[cls])
            while todo:
                up = todo.pop()
                if up not in seen:
                    seen.add(up)
                    todo.extend(direct.get(up, ()))
            self.ancestors[cls] = frozenset(seen)

    def below(self, cls: ox.NamedNode, root: ox.NamedNode) -> bool:
        return cls == root or root in self.ancestors.get(cls, frozenset())

    def most_specific(self, types: set[ox.NamedNode], root: ox.NamedNode) -> str:
        """CURIEs of the classes in `types` below `root` that no other of them is below."""
        under = {t for t in types if self.below(t, root)}
        kept = [t for t in under if not any(t in self.ancestors.get(o, ()) for o in under)]
        return " ".join(sorted(short(t.value) for t in kept))


class Side:
    """The own quads (those it is the subject of) of each node a diff touches, in one release."""

    def __init__(self, quads: set[ox.Quad], subjects: set[Subject]) -> None:
        self.own: dict[Subject, list[ox.Quad]] = defaultdict(list)
        for q in quads:
            subject = q.subject
            if isinstance(subject, ox.NamedNode | ox.BlankNode) and subject in subjects:
                self.own[subject].append(q)

    def types(self, node: Subject) -> set[ox.NamedNode]:
        return {
            q.object
            for q in self.own.get(node, ())
            if q.predicate == _RDF_TYPE and isinstance(q.object, ox.NamedNode)
        }

    def label(self, node: Subject) -> str:
        """Its rdfs:label, in English when it has one (the first in code-point order)."""
        labels = [
            q.object
            for q in self.own.get(node, ())
            if q.predicate == _RDFS_LABEL and isinstance(q.object, ox.Literal)
        ]
        english = sorted(lit.value for lit in labels if lit.language in (None, "en"))
        return english[0] if english else min((lit.value for lit in labels), default="")

    def ended(self, node: Subject) -> bool:
        return any(
            q.predicate in _END_PREDICATES or (q.predicate == _HAS_ENDED and q.object == _TRUE)
            for q in self.own.get(node, ())
        )


def value_text(term: object) -> str:
    """A term as CHANGES.md shows a value: a CURIE, or a literal's text (shortened)."""
    if isinstance(term, ox.NamedNode):
        return short(term.value)
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    text = term.value if isinstance(term, ox.Literal) else str(term)
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 1] + "…"


def _details(
    removed: list[ox.Quad], added: list[ox.Quad]
) -> tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]:
    before: dict[str, set[str]] = defaultdict(set)
    after: dict[str, set[str]] = defaultdict(set)
    for q in removed:
        before[short(q.predicate.value)].add(value_text(q.object))
    for q in added:
        after[short(q.predicate.value)].add(value_text(q.object))
    return tuple(
        (p, tuple(sorted(before[p])), tuple(sorted(after[p])))
        for p in sorted(before.keys() | after.keys())
    )


def classify(before: set[ox.Quad], after: set[ox.Quad]) -> tuple[Change, ...]:
    """The facts and sources whose own quads differ between `before` and `after`, sorted."""
    removed_by: dict[Subject, list[ox.Quad]] = defaultdict(list)
    added_by: dict[Subject, list[ox.Quad]] = defaultdict(list)
    for quads, into in ((before - after, removed_by), (after - before, added_by)):
        for q in quads:
            if isinstance(q.subject, ox.NamedNode):
                into[q.subject].append(q)
    touched = set(removed_by) | set(added_by)
    old, new, classes = Side(before, touched), Side(after, touched), Classes(before, after)
    changes = []
    for node in touched:
        change = _change(node, old, new, classes, removed_by[node], added_by[node])
        if change is not None:
            changes.append(change)
    return tuple(sorted(changes, key=Change.sort_key))


def _change(
    node: Subject,
    old: Side,
    new: Side,
    classes: Classes,
    removed: list[ox.Quad],
    added: list[ox.Quad],
) -> Change | None:
    types = old.types(node) | new.types(node)
    fact_type = classes.most_specific(types, _FACT)
    source_type = classes.most_specific(types, _SOURCE)
    existed, exists = node in old.own, node in new.own
    if fact_type:
        entity, type_ = "fact", fact_type
    elif source_type and existed != exists:
        entity, type_ = "source", source_type
    else:
        return None
    if not existed:
        kind = "added"
    elif not exists:
        kind = "removed"
    elif new.ended(node) and not old.ended(node):
        kind = "ended"
    else:
        kind = "corrected"
    properties = tuple(sorted({short(q.predicate.value) for q in (*removed, *added)}))
    details = _details(removed, added) if kind in ("ended", "corrected") else ()
    label = new.label(node) if exists else old.label(node)
    return Change(entity, kind, type_, node.value, label, properties, details)


# --- writing ---------------------------------------------------------------------------------


def diff_releases(previous: Path, current: Path, out: Path) -> DiffSummary:
    """Compare the releases (or builds) in `previous` and `current`; write the patch,
    CHANGES.md and the CSV under `out`; return what changed."""
    before = canonical_quads(read_quads(previous / DUMP))
    after = canonical_quads(read_quads(current / DUMP))
    old_version, new_version = release_version(previous), release_version(current)
    delta = quad_delta(before, after)
    summary = DiffSummary(
        previous_version=old_version,
        current_version=new_version,
        quads_removed=len(delta.removed),
        quads_added=len(delta.added),
        changes=classify(before, after),
    )
    patch = Patch.of(release_iri(new_version), release_iri(old_version), delta)
    (out / PATCH_FILE).parent.mkdir(parents=True, exist_ok=True)
    (out / PATCH_FILE).write_text(patch.text(), encoding="utf-8")
    (out / CSV_FILE).write_text(changes_csv(summary), encoding="utf-8", newline="")
    (out / CHANGES_FILE).write_text(changes_markdown(summary), encoding="utf-8")
    return summary


def changes_csv(summary: DiffSummary) -> str:
    """One row per fact or source changed; `properties` holds the CURIEs of the predicates
    changed, separated by spaces."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for c in summary.changes:
        writer.writerow((c.entity, c.kind, c.type, c.iri, c.label, " ".join(c.properties)))
    return buffer.getvalue()


_MD_SPECIAL = str.maketrans({ch: "\\" + ch for ch in "\\`*_[]<>|#"})


def _md(text: str) -> str:
    return text.replace("\n", " ").translate(_MD_SPECIAL)


def changes_markdown(summary: DiffSummary) -> str:
    """CHANGES.md: the counts, then one section per kind of change, grouped by type."""
    lines = [
        f"# Changes from {summary.previous_version} to {summary.current_version}",
        "",
        f"From release <{release_iri(summary.previous_version)}> to "
        f"<{release_iri(summary.current_version)}>. The exact change, quad by quad, is "
        "`changes/changes.rdfp` (RDF Patch); `changes/changes.csv` lists the rows below.",
        "",
        "| Change | Count |",
        "|---|---:|",
        *(f"| {name.capitalize()} | {n} |" for name, n in summary.counts().items()),
    ]
    sections = [("fact", k) for k in FACT_KINDS] + [("source", k) for k in SOURCE_KINDS]
    for entity, kind in sections:
        rows = [c for c in summary.changes if c.entity == entity and c.kind == kind]
        if rows:
            lines += ["", f"## {entity.capitalize()}s {kind}", *_section(rows)]
    return "\n".join(lines) + "\n"


def _section(rows: list[Change]) -> list[str]:
    lines: list[str] = []
    for type_ in sorted({c.type for c in rows}):
        of_type = [c for c in rows if c.type == type_]
        lines += ["", f"### {type_} ({len(of_type)})", ""]
        for c in of_type:
            label = _md(c.label) if c.label else "(no label)"
            lines.append(f"- {label} — <{c.iri}>")
            for prop, old, new in c.details:
                was = ", ".join(_md(v) for v in old) or "—"
                now = ", ".join(_md(v) for v in new) or "—"
                lines.append(f"  - {prop}: {was} → {now}")
    return lines
