"""What an importer reads from a designation list: its files, its entries and the listings they attest.

Importers (graph/imports/<source>.py) turn a published list file into `Listing` records; the
writer (graph/imports/write.py) turns those into TriG under graph/sources/. Nothing here knows
RDF: a parser can be written and tested against these types alone.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from graph.errors import DiploKGError

#: The lists and legal regimes a listing can be under (keys of graph/sources/lists.trig's
#: resources, `res:list-<key>`), with the authority that keeps each.
REGIMES: dict[str, str] = {
    "us-fto": "united-states",  # State Department, Foreign Terrorist Organizations (INA s. 219)
    "us-sdgt": "united-states",  # Specially Designated Global Terrorists (E.O. 13224)
    "ca-criminal-code": "canada",  # Criminal Code s. 83.05 listed entities
    "uk-schedule-2": "united-kingdom",  # Terrorism Act 2000, Schedule 2
    "un-1988": "un-1988-committee",  # UNSC resolution 1988 (2011) sanctions list (Taliban)
    "un-isil-al-qaida": "un-1267-committee",  # UNSC 1267/1989/2253 ISIL (Da'esh) & Al-Qaida list
    "ru-federal": "russia",  # Russia's unified federal list of terrorist organizations
}

#: End kinds: a delisting (revoked, removed), a deproscription (UK), a suspension (not a repeal).
END_KINDS = ("delisting", "deproscription", "suspension")


class ListFileError(DiploKGError):
    """A list file is of the wrong kind or malformed; names the file and, when known, where."""

    def __init__(self, path: Path | str, message: str, location: str | None = None) -> None:
        self.path = str(path)
        self.message = message
        self.location = location
        where = f"{self.path}: {location}" if location else self.path
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, order=True)
class DateValue:
    """A date at the precision the source gives: '2024', '2024-05' or '2024-05-03'."""

    text: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", self.text):
            raise ValueError(f"not a date, year-month or year: {self.text!r}")

    @classmethod
    def of(cls, day: date) -> DateValue:
        return cls(day.isoformat())


@dataclass(frozen=True, order=True)
class SourceFile:
    """One version of a published list file, as imported: where it was published, when, its digest."""

    key: str  # stable slug of this version, unique per source: 'us-sdn-2024-05-03'
    url: str  # where the publisher serves it (the upstream URL, not a mirror)
    name: str  # the file's name as imported ('sdn.csv')
    version: date  # the version's own date (the list's date, or when the copy was taken)
    retrieved: date  # when the file was retrieved (--retrieved, or the copy's date)
    sha256: str  # of the file's bytes
    lists: tuple[str, ...]  # REGIMES keys this file carries entries of
    label: str  # 'OFAC SDN list (sdn.csv), version of 2024-05-03'
    copy: str | None = None  # where the copy imported was taken from (repository@commit:path)
    license: str | None = None  # IRI of the licence, when the publisher states one

    @staticmethod
    def digest(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, order=True)
class LegalActRef:
    """A dated legal instrument a listing begins or ends by (a UK Order, a court ruling)."""

    key: str  # slug: 'uksi-2017-1325'
    title: str
    url: str
    made: DateValue  # the date it was made / signed / ruled
    in_force: DateValue | None = None


@dataclass(frozen=True)
class Entity:
    """An organization as one list names it."""

    name: str  # the primary name, verbatim
    aliases: tuple[str, ...] = ()  # other names the same entry gives, verbatim
    wikidata: str | None = None  # a Q-id the source itself gives (Wikidata importer only)


@dataclass(frozen=True)
class Listing:
    """One entry of one organization on one list, for one span of time.

    A listing whose dates come from comparing versions carries bounds, never an invented day:
    `started_after` is the last version without it, `started_no_later_than` the first with it;
    `ended_after` the last version with it, `ended_no_later_than` the first without it.
    """

    regime: str | None  # a key of REGIMES; None for a statement of a designation by a state
    entry_id: str  # the list's own identifier for the entry (ent_num, Canadian id, UN ref.)
    entity: Entity
    evidence: tuple[str, ...]  # verbatim text of the entry (a CSV row, a title and date...)
    sources: tuple[SourceFile, ...]  # the files that attest the listing (and its end)
    listing_date: DateValue | None = None  # the list's own listing date (LISTED_ON, published)
    start: DateValue | None = None  # when it took effect, where the source says so
    started_after: date | None = None
    started_no_later_than: date | None = None
    ended: bool = False
    end: DateValue | None = None
    ended_after: date | None = None
    ended_no_later_than: date | None = None
    end_kind: str | None = None  # one of END_KINDS
    started_by: LegalActRef | None = None
    ended_by: LegalActRef | None = None
    span: int = 1  # 1 for the first span of this entry on this list, 2 for a re-listing...
    end_sources: tuple[SourceFile, ...] = field(default=())  # the files that attest the end
    designator: str | None = None  # when `regime` is None: the designating state's slug
    source_refs: tuple[str, ...] = ()  # URLs the source cites for this statement (Wikidata's P854)

    def __post_init__(self) -> None:
        if self.regime is None and self.designator is None:
            raise ValueError("a listing needs its list (regime) or its designating state")
        if self.regime is not None and self.regime not in REGIMES:
            raise ValueError(f"unknown list {self.regime!r}")
        if self.end_kind is not None and self.end_kind not in END_KINDS:
            raise ValueError(f"unknown end kind {self.end_kind!r}")
        if not self.evidence or not all(e.strip() for e in self.evidence):
            raise ValueError("a listing needs its verbatim entry text")
