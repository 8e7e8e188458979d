"""One node per real organization: matching list entries to the graph's organizations.

An entry joins an existing organization automatically only on
1. a curator's decision (`graph/sources/reconciliation.tsv`, written by `diplokg reconcile`);
2. the organization it was matched to by the previous import of the same source (stable IRIs);
3. a Wikidata ID that the source gives and the organization carries (owl:sameAs);
4. an exact normalized name or alias, shared with exactly one organization, with no
   conflicting evidence: no other Wikidata ID, and no other entry of the same list.
Anything less certain mints a new organization and is reported as a doubtful pair by
`diplokg reconcile`, for a person to decide. Nothing is merged silently.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from difflib import SequenceMatcher
from pathlib import Path

from rdflib import Dataset, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from graph.imports.model import Entity, ListFileError
from graph.namespaces import DK, RES, WD
from graph.validate import union_graph

#: Curators' decisions, one per line (tab-separated, with a header).
DECISIONS_FILE = "reconciliation.tsv"
DECISION_FIELDS = ("list", "entry_id", "decision", "organization", "decided_by", "date", "note")
DECISIONS = ("same", "different")

#: Classes whose instances are organizations a list entry may be matched to.
ORGANIZATION_CLASSES = (DK.Organization, DK.NonStateOrganization)

#: Names shorter than this (normalized) never merge on their own: acronyms collide.
MIN_NAME_LENGTH = 4
#: Two names this similar (difflib ratio, normalized) make a doubtful pair.
DOUBTFUL_RATIO = 0.88
#: Words shared by more names than this do not make pairs worth comparing ('islamic', 'army').
MAX_BLOCK = 40

_QUOTES = str.maketrans({"’": "", "'": "", "`": "", "‘": "", "ʼ": ""})


def normalize(name: str) -> str:
    """A name for matching: no accents, case, apostrophes, punctuation or leading 'the'."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.translate(_QUOTES)
    text = re.sub(r"[^\w]+", " ", text).strip()
    return re.sub(r"^the ", "", text)


def name_keys(name: str) -> set[str]:
    """The normalized forms a name matches under: itself, and without parenthesised parts."""
    keys = {normalize(name)}
    bare = re.sub(r"\([^)]*\)", " ", name)
    if bare != name:
        keys.add(normalize(bare))  # "Hamas (Islamic Resistance Movement)" is also "Hamas"
    return {k for k in keys if len(k) >= MIN_NAME_LENGTH}


def slug(text: str, limit: int = 60) -> str:
    """An IRI-safe lower-case slug of a name or identifier."""
    value = normalize(text).replace("_", " ")
    value = re.sub(r"\s+", "-", value.strip())
    value = re.sub(r"[^a-z0-9-]", "", value.encode("ascii", "ignore").decode())
    return value[:limit].rstrip("-") or "x"


@dataclass(frozen=True)
class Decision:
    """A curator's decision about one list entry and one organization."""

    list: str
    entry_id: str
    decision: str  # 'same' or 'different'
    organization: str  # the organization's IRI
    decided_by: str
    date: str
    note: str = ""


def read_decisions(path: Path) -> list[Decision]:
    """The decisions file; absent means no decisions."""
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        if tuple(reader.fieldnames or ()) != DECISION_FIELDS:
            raise ListFileError(path, f"header must be {' '.join(DECISION_FIELDS)}", "line 1")
        decisions = []
        for number, row in enumerate(reader, start=2):
            if row["decision"] not in DECISIONS:
                raise ListFileError(
                    path, "decision must be 'same' or 'different'", f"line {number}"
                )
            decisions.append(Decision(**{k: row[k] or "" for k in DECISION_FIELDS}))
    return decisions


def append_decision(path: Path, decision: Decision) -> None:
    """Record a decision (the file is created with its header when new)."""
    new = not path.is_file()
    with path.open("a", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        if new:
            writer.writerow(DECISION_FIELDS)
        writer.writerow([getattr(decision, f) for f in DECISION_FIELDS])


def parse_decision(text: str, by: str, note: str = "", when: str | None = None) -> Decision:
    """`LIST:ENTRY_ID=same:IRI` (or `=different:IRI`) as a Decision."""
    entry, sep, rest = text.partition("=")
    lst, colon, entry_id = entry.partition(":")
    decision, colon2, iri = rest.partition(":")
    if not (sep and colon and colon2 and lst and entry_id and iri) or decision not in DECISIONS:
        raise ValueError(
            f"expected LIST:ENTRY_ID=same:IRI or LIST:ENTRY_ID=different:IRI, not {text!r}"
        )
    if not iri.startswith(("http://", "https://")):
        iri = str(RES[iri.removeprefix("res:")])
    return Decision(lst, entry_id, decision, iri, by, when or today(), note)


@dataclass
class Organization:
    """What the graph says of an organization, for matching."""

    iri: URIRef
    names: set[str] = field(default_factory=set)
    wikidata: set[str] = field(default_factory=set)
    entries: set[tuple[str, str]] = field(default_factory=set)  # (list key, entry id)


@dataclass
class Index:
    """The organizations of the graph, by IRI, normalized name and Wikidata ID."""

    orgs: dict[URIRef, Organization] = field(default_factory=dict)
    by_name: dict[str, set[URIRef]] = field(default_factory=lambda: defaultdict(set))
    by_wikidata: dict[str, set[URIRef]] = field(default_factory=lambda: defaultdict(set))
    taken: set[URIRef] = field(default_factory=set)  # every IRI in use, organization or not
    labelled: set[URIRef] = field(default_factory=set)  # organizations another file labels

    def add(self, iri: URIRef, names: Iterable[str] = (), wikidata: str | None = None) -> None:
        org = self.orgs.setdefault(iri, Organization(iri))
        self.taken.add(iri)
        for name in names:
            org.names.add(name)
            for key in name_keys(name):
                self.by_name[key].add(iri)
        if wikidata:
            org.wikidata.add(wikidata)
            self.by_wikidata[wikidata].add(iri)

    def add_entry(self, iri: URIRef, list_key: str, entry_id: str) -> None:
        self.orgs.setdefault(iri, Organization(iri)).entries.add((list_key, entry_id))


def list_key(list_iri: URIRef | str) -> str:
    """'us-fto' for res:list-us-fto."""
    return str(list_iri).removeprefix(str(RES)).removeprefix("list-")


def index_dataset(dataset: Dataset) -> Index:
    """Index every organization of `dataset` (names, Wikidata IDs, list entries)."""
    ds = union_graph(dataset)
    index = Index()
    orgs = {
        s
        for cls in ORGANIZATION_CLASSES
        for s in ds.subjects(RDF.type, cls, unique=True)
        if isinstance(s, URIRef)
    }
    index.taken.update(s for s in ds.subjects(unique=True) if isinstance(s, URIRef))
    index.labelled.update(org for org in orgs if (org, RDFS.label, None) in ds)
    for org in sorted(orgs):
        names = [str(o) for p in (RDFS.label, SKOS.altLabel) for o in ds.objects(org, p)]
        qids = [str(o).removeprefix(str(WD)) for o in ds.objects(org, OWL.sameAs)]
        index.add(org, names)
        for qid in qids:
            index.add(org, wikidata=qid)
    for listing in ds.subjects(DK.designatedOrganization, None, unique=True):
        target = ds.value(listing, DK.designatedOrganization)
        lst, entry = ds.value(listing, DK.underList), ds.value(listing, DK.listEntryId)
        if isinstance(target, URIRef) and lst is not None and entry is not None:
            index.add_entry(target, list_key(str(lst)), str(entry))
    return index


@dataclass(frozen=True)
class Match:
    iri: URIRef
    minted: bool  # a new organization, labelled by this import
    how: str  # 'decision', 'previous import', 'wikidata', 'name', 'new'


class Reconciler:
    """Assigns each entry of one import an organization IRI, deterministically."""

    def __init__(
        self,
        index: Index,
        decisions: Iterable[Decision] = (),
        previous: dict[tuple[str, str], URIRef] | None = None,
    ) -> None:
        self.index = index
        self.same: dict[tuple[str, str], URIRef] = {}
        self.different: dict[tuple[str, str], set[URIRef]] = defaultdict(set)
        for d in decisions:
            key = (d.list, d.entry_id)
            if d.decision == "same":
                self.same[key] = URIRef(d.organization)
            else:
                self.different[key].add(URIRef(d.organization))
        self.previous = previous or {}
        self.assigned: dict[tuple[str, str], Match] = {}

    def match(self, list_id: str, entry_id: str, entity: Entity, group: str | None = None) -> Match:
        """The organization for one entry; `group` ties entries of one source that are one entity
        (OFAC's ent_num under FTO and SDGT): they get the same organization."""
        key = (list_id, entry_id)
        shared = (list_id.split("-")[0], group) if group is not None else None
        for known in (key, shared):
            if known is not None and known in self.assigned:
                return self._remember(key, self.assigned[known], entity)
        match = self._find(key, entity)
        if shared is not None:
            self.assigned[shared] = match
        return self._remember(key, match, entity)

    def _remember(self, key: tuple[str, str], match: Match, entity: Entity) -> Match:
        self.assigned[key] = match
        self.index.add(match.iri, (entity.name, *entity.aliases), entity.wikidata)
        self.index.add_entry(match.iri, *key)
        return match

    def _find(self, key: tuple[str, str], entity: Entity) -> Match:
        forbidden = self.different.get(key, set())
        if key in self.same:
            return Match(self.same[key], False, "decision")
        if key in self.previous and self.previous[key] not in forbidden:
            iri = self.previous[key]
            return Match(iri, iri not in self.index.orgs, "previous import")
        if entity.wikidata:
            found = self.index.by_wikidata.get(entity.wikidata, set()) - forbidden
            if len(found) == 1:
                return Match(next(iter(found)), False, "wikidata")
        candidates: set[URIRef] = set()
        for name in (entity.name, *entity.aliases):
            for k in name_keys(name):
                candidates |= self.index.by_name.get(k, set())
        candidates -= forbidden
        candidates = {c for c in candidates if not self._conflicts(c, key, entity)}
        if len(candidates) == 1:
            return Match(next(iter(candidates)), False, "name")
        return Match(self._mint(entity.name, key), True, "new")

    def _conflicts(self, iri: URIRef, key: tuple[str, str], entity: Entity) -> bool:
        org = self.index.orgs[iri]
        if entity.wikidata and org.wikidata and entity.wikidata not in org.wikidata:
            return True  # another Wikidata item
        return any(lst == key[0] and entry != key[1] for lst, entry in org.entries)

    def _mint(self, name: str, key: tuple[str, str]) -> URIRef:
        iri = RES[f"org-{slug(name)}"]
        if iri in self.index.taken:
            iri = RES[f"org-{slug(name)}-{key[0]}-{slug(key[1], 30)}"]
        self.index.taken.add(iri)
        return iri


@dataclass(frozen=True)
class DoubtfulPair:
    """Two organizations that may be one; for a person to decide."""

    left: Organization
    right: Organization
    reason: str


def doubtful_pairs(index: Index, decisions: Iterable[Decision] = ()) -> Iterator[DoubtfulPair]:
    """Pairs of distinct organizations whose names are equal or nearly so, not yet decided.

    Only pairs that share a word found in few names are compared (blocking), so the cost grows
    with the number of similar names, not with the square of the organizations."""
    decided = {(d.list, d.entry_id, d.organization) for d in decisions}
    keys = {iri: {k for n in org.names for k in name_keys(n)} for iri, org in index.orgs.items()}
    by_word: dict[str, set[URIRef]] = defaultdict(set)
    for iri, org_keys in keys.items():
        for word in {w for k in org_keys for w in k.split() if len(w) >= MIN_NAME_LENGTH}:
            by_word[word].add(iri)
    pairs = {
        (a, b)
        for iris in by_word.values()
        if len(iris) <= MAX_BLOCK
        for a in iris
        for b in iris
        if str(a) < str(b)
    }
    for a, b in sorted(pairs):
        left, right = index.orgs[a], index.orgs[b]
        if _decided(left, right, decided) or _decided(right, left, decided):
            continue
        shared = keys[a] & keys[b]
        if shared:
            yield DoubtfulPair(left, right, f"same name {sorted(shared)[0]!r}")
            continue
        ratio, x, y = max(
            ((SequenceMatcher(None, x, y).ratio(), x, y) for x in keys[a] for y in keys[b]),
            default=(0.0, "", ""),
        )
        if ratio >= DOUBTFUL_RATIO:
            yield DoubtfulPair(left, right, f"similar names {x!r} / {y!r} ({ratio:.2f})")


def _decided(org: Organization, other: Organization, decided: set[tuple[str, str, str]]) -> bool:
    return any((lst, entry, str(other.iri)) in decided for lst, entry in org.entries)


def today() -> str:
    return date.today().isoformat()
