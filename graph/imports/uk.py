"""UK proscribed organisations: Terrorism Act 2000 Schedule 2 and its amending Orders (CLML XML or HTML).

Reads what legislation.gov.uk publishes: Schedule 2 as it stands at a date
(``/ukpga/2000/11/schedule/2[/YYYY-MM-DD]``, as CLML ``/data.xml`` or as the HTML/XHTML page) and
the Terrorism Act 2000 (Proscribed Organisations) (Amendment) Orders (``/uksi/YYYY/N/made``, CLML
or HTML), and turns them into ``uk-schedule-2`` listings.

Identity. Schedule 2 gives its entries no number, and their position shifts with every Order, so
an entry's identifier is a slug of its primary name (the text before its first parenthesised
alias, typographic quotes and dashes folded, e.g. ``islamic-state-of-iraq-and-the-levant``); when
two entries of one file share a primary name (``Harakat-ul-Jihad-ul-Islami`` and
``Harakat-ul-Jihad-ul-Islami (Bangladesh)``) the whole entry text is used instead. Entries and
the names Orders quote are matched on their normalised text (quotes, dashes, editorial brackets
and a final full stop folded), never on evidence.

Dates. An Order's made date is read from the CLML metadata (``ukm:Made/@Date``) or the "Made"
line; its coming into force from ``ukm:ComingIntoForce`` or the "Coming into force" line, and
otherwise computed as made + 1 day only when the text says it "comes into force on the day after
the day on which it is made". A Schedule entry alone gives ``started_no_later_than``: the
point-in-time date the page states, else the date the copy was retrieved.

Renaming ("For “A” substitute “B”"). Recorded as a name change of one listing: the listing keeps
the name it was first listed under (``entry_id`` from A), and B's name and aliases become aliases;
the substituting line is part of the evidence. Schedules of several dates are not compared with
each other: an entry missing from a later Schedule is reported in ``skipped``, not ended.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

from graph.imports.model import (
    DateValue,
    Entity,
    LegalActRef,
    ListFileError,
    Listing,
    SourceFile,
)
from graph.imports.result import ImportResult

REGIME = "uk-schedule-2"
LICENSE = "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
LEG = "http://www.legislation.gov.uk/namespaces/legislation"
UKM = "http://www.legislation.gov.uk/namespaces/metadata"
DC = "http://purl.org/dc/elements/1.1/"
SCHEDULE_URL = "https://www.legislation.gov.uk/ukpga/2000/11/schedule/2"

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DAY = rf"(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTHS})\s+(\d{{4}})"
_MADE = re.compile(rf"\bMade\s*{_DAY}")
_IN_FORCE = re.compile(rf"\bComing into force\s*{_DAY}")
_DAY_AFTER = re.compile(r"comes? into force on the day after the day on which it is made", re.I)
_SI_NUMBER = re.compile(r"\b(\d{4}) No\. ?(\d+)\b")
_SI_PATH = re.compile(r"/uksi/(\d{4})/(\d+)")
_ORDER_TITLE = re.compile(
    r"The Terrorism Act 2000 \(Proscribed Organisations\) \(Amendment\)(?: \(No\. ?\d+\))? Order \d{4}"
)
_INSERT = re.compile(r"\binsert\b|\bhereby added to Schedule 2\b", re.I)
_OMIT = re.compile(r"\bomit\s+[“\"‘']([^”\"’']+)[”\"’']", re.I)
_SUBSTITUTE = re.compile(
    r"\bfor\s+(?:the entry for\s+)?[“\"]([^”\"]+)[”\"]\s+substitute\s+[“\"]([^”\"]+)[”\"]", re.I
)
_SCHEDULE_HEADING = re.compile(r"^SCHEDULE\s*2(?!\d).*Proscribed Organisations", re.I)
_POINT_IN_TIME = re.compile(r"Point in time view as at (\d{2})/(\d{2})/(\d{4})")
_ANNOTATION = re.compile(
    r"^F\d+\s*(?:\.\s*)+$|^F\d+\s*\S.*\b(?:Sch|S\.I\.|inserted|omitted|substituted)\b"
)
_PLACEHOLDER = re.compile(r"^(?:F\d+\s*)?(?:\.\s*)+$")
_SKIP_LINES = re.compile(
    r"^(?:Section 3\.|Textual Amendments|This (?:schedule|Atodlen) has no associated.*|Annotations:?)$"
)
_END_OF_LIST = re.compile(r"^(?:Note|Notes|Explanatory Note|EXPLANATORY NOTE)$")
_HTML_BLOCKS = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "dt", "dd", "title"}
_FOLD = str.maketrans(
    {"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "‐": "-", "‑": "-", "\u00a0": " "}
)


@dataclass(frozen=True)
class Block:
    """One paragraph of text as the file holds it, where it is, and whether it is quoted matter."""

    text: str
    location: str
    tag: str = "p"  # 'li' for HTML list items, 'amend' for CLML BlockAmendment paragraphs


@dataclass(frozen=True)
class Document:
    path: Path
    data: bytes
    blocks: tuple[Block, ...]
    kind: str  # 'clml' or 'html'
    identifier: str | None = None
    title: str | None = None
    made: date | None = None
    in_force: date | None = None
    is_schedule: bool = False


@dataclass
class _Record:
    key: str
    name: str
    aliases: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    sources: list[SourceFile] = field(default_factory=list)
    start: DateValue | None = None
    started_by: LegalActRef | None = None
    started_no_later_than: date | None = None
    end: DateValue | None = None
    ended_by: LegalActRef | None = None
    end_sources: list[SourceFile] = field(default_factory=list)
    ended: bool = False


# --- text helpers -------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Text for matching only: typographic quotes and dashes folded, spaces collapsed, casefolded."""
    text = unicodedata.normalize("NFC", text).translate(_FOLD)
    return " ".join(text.split()).casefold()


def clean_entry(text: str) -> str:
    """An entry's own words: editorial markers ([F1 … ]), list quotes and a final full stop removed."""
    text = " ".join(text.split())
    text = re.sub(r"^\[?F\d+(?=\S)", "", text)
    text = text.lstrip('[“"‘ ').strip()
    text = re.sub(r"[\]”\"’.]+$", "", text).strip()
    return re.sub(r"^\[", "", text).strip()


def split_name(text: str) -> tuple[str, tuple[str, ...]]:
    """Split 'Name (Alias) (Alias (Nested))' into the name and the aliases that directly follow it."""
    depth, start, groups, name_end = 0, 0, [], None
    for index, char in enumerate(text):
        if char == "(":
            if depth == 0:
                if name_end is None:
                    name_end = index
                elif text[groups[-1][1] + 1 : index].strip() if groups else True:
                    break
                start = index
            depth += 1
        elif char == ")" and depth:
            depth -= 1
            if depth == 0:
                groups.append((start, index))
    if name_end is None:
        return text, ()
    aliases = tuple(
        text[a + 1 : b].strip()
        for a, b in groups
        if not text[a + 1 : b].strip().lower().startswith("including")
    )
    return text[:name_end].strip(), aliases


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", fold(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def _parse_day(match: re.Match[str]) -> date:
    return datetime.strptime(" ".join(match.groups()), "%d %B %Y").date()


# --- reading files --------------------------------------------------------------------------------


def _read(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ListFileError(path, f"cannot read the file: {error.strerror}") from error
    if not data.strip():
        raise ListFileError(path, "the file is empty", "byte 0")
    nul = data.find(b"\x00", 0, 4096)
    if nul >= 0:
        raise ListFileError(path, "a binary file, not XML or HTML", f"byte {nul}")
    return data


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ListFileError(path, "not UTF-8 text", f"byte {error.start}") from error


def load(path: Path) -> Document:
    """Read one file into its text blocks and metadata; raise ListFileError on anything else."""
    data = _read(path)
    text = _decode(path, data)
    head = text.lstrip()[:2000].lower()
    if "<html" in head or "<!doctype html" in head:
        return _load_html(path, data, text)
    if head.startswith("<"):
        return _load_clml(path, data)
    raise ListFileError(path, "neither XML nor HTML", "line 1")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _load_clml(path: Path, data: bytes) -> Document:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as error:
        line, column = error.position
        raise ListFileError(
            path, f"malformed XML: {error}", f"line {line}, column {column}"
        ) from error
    if root.tag != f"{{{LEG}}}Legislation":
        raise ListFileError(
            path, f"not a CLML document (root element {root.tag!r})", f"/{_local(root.tag)}"
        )
    identifier = root.findtext(f".//{{{DC}}}identifier") or root.get("DocumentURI")
    title = root.findtext(f".//{{{DC}}}title")
    made = _meta_date(root.find(f".//{{{UKM}}}Made"))
    in_force = _meta_date(root.find(f".//{{{UKM}}}ComingIntoForce/{{{UKM}}}DateTime"))
    blocks: list[Block] = []
    _walk_clml(root, "/Legislation", blocks, inside_amendment=False)
    is_schedule = bool(identifier and "/ukpga/2000/11/schedule/2" in identifier) or (
        any(
            _local(e.tag) == "Schedule" and "2" in (e.findtext(f"{{{LEG}}}Number") or "")
            for e in root.iter()
        )
        and "Terrorism Act 2000" in (title or "")
    )
    return Document(
        path, data, tuple(blocks), "clml", identifier, title, made, in_force, is_schedule
    )


def _meta_date(element: ET.Element | None) -> date | None:
    value = element.get("Date") if element is not None else None
    return date.fromisoformat(value) if value else None


_CLML_TEXT = {"Text", "Title", "Number", "DateText"}


def _walk_clml(
    element: ET.Element, where: str, out: list[Block], *, inside_amendment: bool
) -> None:
    counts: dict[str, int] = {}
    for child in element:
        name = _local(child.tag)
        counts[name] = counts.get(name, 0) + 1
        child_where = f"{where}/{name}[{counts[name]}]"
        if child.tag.startswith(f"{{{UKM}}}") or name == "Metadata":
            continue
        if name in _CLML_TEXT and child.tag.startswith(f"{{{LEG}}}"):
            text = "".join(child.itertext()).strip()
            if text:
                tag = "amend" if inside_amendment else ("title" if name != "Text" else "p")
                out.append(Block(text, child_where, tag))
            continue
        _walk_clml(
            child, child_where, out, inside_amendment=inside_amendment or name == "BlockAmendment"
        )


class _BlockParser(HTMLParser):
    """Collects the text of block-level HTML elements with the line each starts on."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.links: dict[str, str] = {}
        self._stack: list[tuple[str, int, list[str]]] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "link":
            values = dict(attrs)
            if values.get("rel") and values.get("href"):
                self.links[str(values["rel"])] = str(values["href"])
        elif tag in _HTML_BLOCKS:
            self._flush()
            self._stack.append((tag, self.getpos()[0], []))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in _HTML_BLOCKS and self._stack and self._stack[-1][0] == tag:
            self._flush()
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if self._stack and not self._skip:
            self._stack[-1][2].append(data)

    def _flush(self) -> None:
        if not self._stack:
            return
        tag, line, parts = self._stack[-1]
        text = "".join(parts).strip()
        if text:
            self.blocks.append(Block(text, f"line {line}", tag))
        parts.clear()


def _load_html(path: Path, data: bytes, text: str) -> Document:
    parser = _BlockParser()
    parser.feed(text)
    parser.close()
    blocks = tuple(b for b in parser.blocks if b.tag != "title")
    title = next((b.text for b in parser.blocks if b.tag == "title"), None)
    joined = "\n".join(b.text for b in blocks)
    made = _first_day(_MADE, joined)
    in_force = _first_day(_IN_FORCE, joined)
    is_schedule = (
        any(_SCHEDULE_HEADING.match(b.text) for b in blocks) and "Terrorism Act 2000" in joined
    )
    identifier = parser.links.get("canonical")
    return Document(path, data, blocks, "html", identifier, title, made, in_force, is_schedule)


def _first_day(pattern: re.Pattern[str], text: str) -> date | None:
    match = pattern.search(text)
    return _parse_day(match) if match else None


# --- Schedule 2 -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleEntry:
    text: str  # the entry's own words (editorial markers removed)
    evidence: str  # the line verbatim
    location: str


def schedule_entries(doc: Document) -> list[ScheduleEntry]:
    """The organisations a Schedule 2 file lists, in order."""
    if doc.kind == "clml":
        candidates = [
            b for b in doc.blocks if "/ScheduleBody" in b.location and "/ListItem" in b.location
        ]
    else:
        start = next(i for i, b in enumerate(doc.blocks) if _SCHEDULE_HEADING.match(b.text))
        candidates = []
        for block in doc.blocks[start + 1 :]:
            if _END_OF_LIST.match(block.text):
                break
            candidates.append(block)
        if any(b.tag == "li" for b in candidates):
            candidates = [b for b in candidates if b.tag == "li"]
    entries = []
    for block in candidates:
        if (
            _SKIP_LINES.match(block.text)
            or _PLACEHOLDER.match(block.text)
            or _ANNOTATION.match(block.text)
        ):
            continue
        words = clean_entry(block.text)
        if words and not _PLACEHOLDER.match(words):
            entries.append(ScheduleEntry(words, block.text, block.location))
    if not entries:
        raise ListFileError(
            doc.path,
            "Schedule 2 lists no organisation",
            doc.blocks[0].location if doc.blocks else None,
        )
    return entries


def schedule_date(doc: Document, retrieved: date) -> date:
    joined = "\n".join(b.text for b in doc.blocks)
    match = _POINT_IN_TIME.search(joined)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return date(year, month, day)
    if doc.identifier:
        found = re.search(r"/schedule/2/(\d{4}-\d{2}-\d{2})", doc.identifier)
        if found:
            return date.fromisoformat(found.group(1))
    return retrieved


# --- Orders ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Amendment:
    kind: str  # 'add', 'omit' or 'substitute'
    text: str  # the organisation's words (the new words for a substitution)
    evidence: tuple[str, ...]  # verbatim lines: the article's instruction (if any) and the entry
    location: str
    old: str | None = None  # the words replaced, for a substitution


def order_amendments(doc: Document) -> list[Amendment]:
    """What an Order does to Schedule 2: organisations added, omitted and renamed."""
    found: list[Amendment] = []
    blocks = doc.blocks
    index = 0
    instruction: Block | None = None
    while index < len(blocks):
        block = blocks[index]
        if block.tag == "amend" or (block.tag == "li" and instruction is not None):
            run = []
            while index < len(blocks) and blocks[index].tag == block.tag:
                run.append(blocks[index])
                index += 1
            if instruction is None or not re.search(r"\bnote\b", instruction.text, re.I):
                found.extend(_additions(run, instruction))
            instruction = None
            continue
        for match in _SUBSTITUTE.finditer(block.text):
            old, new = clean_entry(match.group(1)), clean_entry(match.group(2))
            found.append(Amendment("substitute", new, (block.text,), block.location, old))
        for match in _OMIT.finditer(block.text):
            found.append(
                Amendment("omit", clean_entry(match.group(1)), (block.text,), block.location)
            )
        if block.tag == "p":
            instruction = block if _INSERT.search(block.text) else None
        index += 1
    return found


def _additions(run: list[Block], instruction: Block | None) -> list[Amendment]:
    lead = (instruction.text,) if instruction else ()
    return [
        Amendment("add", clean_entry(b.text), (*lead, b.text), b.location)
        for b in run
        if clean_entry(b.text)
    ]


def order_ref(doc: Document) -> tuple[str, LegalActRef | None, str]:
    """The Order's key, its LegalActRef (None without a made date) and its upstream URL."""
    joined = "\n".join(b.text for b in doc.blocks)
    match = _SI_PATH.search(doc.identifier or "") or _SI_NUMBER.search(joined)
    if not match:
        raise ListFileError(
            doc.path, "no statutory instrument number (YYYY No. N)", doc.blocks[0].location
        )
    year, number = match.groups()
    key = f"uksi-{year}-{number}"
    url = f"https://www.legislation.gov.uk/uksi/{year}/{number}/made"
    title_match = _ORDER_TITLE.search(doc.title or "") or _ORDER_TITLE.search(joined)
    title = title_match.group(0) if title_match else (doc.title or key)
    if doc.made is None:
        return key, None, url
    in_force = doc.in_force
    if in_force is None and _DAY_AFTER.search(joined):
        in_force = doc.made + timedelta(days=1)
    return (
        key,
        LegalActRef(
            key, title, url, DateValue.of(doc.made), DateValue.of(in_force) if in_force else None
        ),
        url,
    )


def _is_order(doc: Document) -> bool:
    joined = "\n".join(b.text for b in doc.blocks)
    return bool(_ORDER_TITLE.search(doc.title or "") or _ORDER_TITLE.search(joined))


# --- merging --------------------------------------------------------------------------------------


def _match_key(text: str) -> str:
    return fold(clean_entry(text))


class _Merger:
    def __init__(self) -> None:
        self.records: list[_Record] = []
        self.index: dict[str, _Record] = {}
        self.skipped: list[str] = []

    def find(self, text: str) -> _Record | None:
        return self.index.get(_match_key(text)) or self.index.get(
            fold(split_name(clean_entry(text))[0])
        )

    def get(self, text: str, name_counts: dict[str, int] | None = None) -> _Record:
        """The record for an entry's text, made if new; a shared primary name matches nothing."""
        name, aliases = split_name(text)
        shared = bool(name_counts and name_counts.get(fold(name), 0) > 1)
        record = self.index.get(_match_key(text)) if shared else self.find(text)
        if record is None:
            if shared:
                name, aliases = text, ()
            record = _Record(slug(name), name, list(aliases))
            self.records.append(record)
            self.index.setdefault(_match_key(text), record)
            if not shared:
                self.index.setdefault(fold(name), record)
        return record

    def remember(self, record: _Record, text: str) -> None:
        self.index.setdefault(_match_key(text), record)
        self.index.setdefault(fold(split_name(text)[0]), record)


def _add_unique(items: list[str] | list[SourceFile], values: Iterable[object]) -> None:
    for value in values:
        if value not in items:
            items.append(value)  # type: ignore[arg-type]


def _order_sort_key(item: tuple[Document, LegalActRef | None, str]) -> tuple[str, str]:
    ref = item[1]
    return (
        ref.in_force.text if ref and ref.in_force else ref.made.text if ref else "9999",
        item[2],
    )


def import_paths(paths: Sequence[Path | str], *, retrieved: date) -> ImportResult:
    """Import Schedule 2 files and amending Orders together into uk-schedule-2 listings."""
    docs = [load(Path(p)) for p in paths]
    schedules: list[Document] = []
    orders: list[tuple[Document, LegalActRef | None, str]] = []
    for doc in docs:
        if doc.is_schedule:
            schedules.append(doc)
        elif _is_order(doc):
            key, ref, _url = order_ref(doc)
            orders.append((doc, ref, key))
        else:
            raise ListFileError(
                doc.path,
                "neither Schedule 2 to the Terrorism Act 2000 nor a Proscribed Organisations Order",
                doc.blocks[0].location if doc.blocks else None,
            )
    merger = _Merger()
    sources: list[SourceFile] = []
    for doc, ref, key in sorted(orders, key=_order_sort_key):
        source = _order_source(doc, ref, key, retrieved)
        sources.append(source)
        _apply_order(merger, doc, ref, key, source)
    for doc in sorted(schedules, key=lambda d: schedule_date(d, retrieved)):
        source = _schedule_source(doc, retrieved)
        sources.append(source)
        _apply_schedule(merger, doc, schedule_date(doc, retrieved), source)
    listings = [_listing(record) for record in merger.records]
    return ImportResult(listings=listings, sources=sources, skipped=merger.skipped)


def _apply_order(
    merger: _Merger, doc: Document, ref: LegalActRef | None, key: str, source: SourceFile
) -> None:
    amendments = order_amendments(doc)
    if not amendments:
        raise ListFileError(
            doc.path,
            "the Order has no article adding, omitting or renaming an organisation",
            doc.blocks[-1].location if doc.blocks else None,
        )
    if ref is None:
        merger.skipped.append(f"{key}: no made date in {doc.path.name}; its changes carry no date")
    effective = ref.in_force if ref else None
    for amendment in amendments:
        if amendment.kind == "add":
            record = merger.get(amendment.text)
            record.start, record.started_by = effective, ref
            _add_unique(record.evidence, amendment.evidence)
            _add_unique(record.sources, [source])
        elif amendment.kind == "omit":
            record = merger.get(amendment.text)
            record.ended, record.end, record.ended_by = True, effective, ref
            _add_unique(record.evidence, amendment.evidence)
            _add_unique(record.end_sources, [source])
        else:
            assert amendment.old is not None
            record = merger.get(amendment.old)
            new_name, new_aliases = split_name(amendment.text)
            _add_unique(record.aliases, [n for n in (new_name, *new_aliases) if n != record.name])
            merger.remember(record, amendment.text)
            _add_unique(record.evidence, amendment.evidence)
            _add_unique(record.sources, [source])
            merger.skipped.append(
                f"{key}: {amendment.location}: renamed {amendment.old!r} to {amendment.text!r};"
                f" recorded as aliases of listing {record.key!r}"
            )


def _apply_schedule(merger: _Merger, doc: Document, as_at: date, source: SourceFile) -> None:
    entries = schedule_entries(doc)
    counts: dict[str, int] = {}
    for entry in entries:
        name = fold(split_name(entry.text)[0])
        counts[name] = counts.get(name, 0) + 1
    present: set[int] = set()
    for entry in entries:
        record = merger.get(entry.text, counts)
        present.add(id(record))
        if record.ended and record.end and record.end.text <= as_at.isoformat():
            merger.skipped.append(
                f"{doc.path.name}: {entry.location}: {entry.text!r} is listed on {as_at}"
                f" after its deproscription on {record.end.text}"
            )
        _add_unique(record.evidence, [entry.evidence])
        _add_unique(record.sources, [source])
        if record.started_no_later_than is None or as_at < record.started_no_later_than:
            record.started_no_later_than = as_at
    for record in merger.records:
        if id(record) not in present and not record.ended and record.started_no_later_than:
            merger.skipped.append(
                f"{doc.path.name}: {record.name!r} is not in Schedule 2 as at {as_at}; not ended"
            )


def _listing(record: _Record) -> Listing:
    sources = tuple(record.sources) or tuple(record.end_sources)
    return Listing(
        regime=REGIME,
        entry_id=record.key,
        entity=Entity(record.name, tuple(a for a in record.aliases if a != record.name)),
        evidence=tuple(record.evidence),
        sources=sources,
        start=record.start,
        started_no_later_than=record.started_no_later_than,
        ended=record.ended,
        end=record.end,
        end_kind="deproscription" if record.ended else None,
        started_by=record.started_by,
        ended_by=record.ended_by,
        end_sources=tuple(record.end_sources),
    )


def _order_source(doc: Document, ref: LegalActRef | None, key: str, retrieved: date) -> SourceFile:
    title = ref.title if ref else (doc.title or key)
    return SourceFile(
        key=f"uk-{key}",
        url=f"https://www.legislation.gov.uk/{key.replace('-', '/')}/made",
        name=doc.path.name,
        version=doc.made or retrieved,
        retrieved=retrieved,
        sha256=SourceFile.digest(doc.data),
        lists=(REGIME,),
        label=f"{title} (S.I. {key[5:].replace('-', '/')})",
        license=LICENSE,
    )


def _schedule_source(doc: Document, retrieved: date) -> SourceFile:
    as_at = schedule_date(doc, retrieved)
    return SourceFile(
        key=f"uk-schedule-2-{as_at.isoformat()}",
        url=doc.identifier or SCHEDULE_URL,
        name=doc.path.name,
        version=as_at,
        retrieved=retrieved,
        sha256=SourceFile.digest(doc.data),
        lists=(REGIME,),
        label=f"Terrorism Act 2000, Schedule 2 (proscribed organisations), as at {as_at.isoformat()}",
        license=LICENSE,
    )
