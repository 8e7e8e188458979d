"""Canada's listed terrorist entities (Criminal Code s. 83.05): Public Safety Canada's Atom feed
(lstd-ntts-eng.xml) or its copy as a MISP galaxy cluster (misp-galaxy clusters/terrorist-groups.json).

Both give, per entry: id, title (the name), summary (aliases, or "N/A"), content (a description),
published (the listing date) and updated (the last review date, or text like "Not yet reviewed").

Evidence, two strings per entry, each exactly as the file writes it, so that a checker finds
each in the file's text (UTF-8): the galaxy's members `"title": "…"` and `"published": "…"`
(of the entry's `meta`), or the feed's elements `<title>…</title>` and `<published>…</published>`.
The long description (Public Safety Canada's text) is not quoted.

The file's version is the newest date among its entries' published and updated values (the
feed's own <updated> and the galaxy's commit are not in the entries); a caller who knows the
galaxy commit's date passes it as `version`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from graph.imports.model import DateValue, Entity, ListFileError, Listing, SourceFile
from graph.imports.result import ImportResult, merge_listings
from graph.imports.xmlsource import XmlElement, read_records

FEED_URL = "https://www.publicsafety.gc.ca/cnt/_xml/lstd-ntts-eng.xml"
REGIME = "ca-criminal-code"
GALAXY_REPOSITORY = "MISP/misp-galaxy"
GALAXY_PATH = "clusters/terrorist-groups.json"
GALAXY_TYPE = "canada-listed-terrorist-entities"
GALAXY_UUID = "7c650f6f-e2bb-4af1-aaf0-bf57a2bd7e87"
ATOM = "{http://www.w3.org/2005/Atom}"

#: Entries that name a person, not an organization (id -> title): skipped, and said so.
PERSONS: dict[str, str] = {"23": "Gulbuddin Hekmatyar", "63": "James Mason"}

_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?")
_PARTIAL = re.compile(r"\d{4}(?:-\d{2}(?:-\d{2})?)?")


@dataclass(frozen=True)
class _Entry:
    """One entry as either format gives it; `where` locates it (JSON pointer or XML path)."""

    entry_id: str
    title: str
    summary: str
    published: DateValue
    updated: str
    evidence: tuple[str, ...]
    where: str


def galaxy_copy(commit: str) -> str:
    """The `copy` of the galaxy file at a commit: 'github:MISP/misp-galaxy@<commit>:clusters/…'."""
    return f"github:{GALAXY_REPOSITORY}@{commit}:{GALAXY_PATH}"


def import_paths(
    paths: Iterable[Path | str],
    *,
    retrieved: date | None = None,
    copy: str | None = None,
    version: date | None = None,
) -> ImportResult:
    """Listings of every entry in each file given (feed XML or galaxy JSON, told by content).

    `copy` and `version` (where the file was taken from, e.g. `galaxy_copy(commit)`, and that
    commit's date) describe every file given; `retrieved` defaults to the version's date. The
    same entry in several files becomes one listing attested by all of them."""
    listings: list[Listing] = []
    sources: list[SourceFile] = []
    skipped: list[str] = []
    for path in map(Path, paths):
        source, file_listings, file_skipped = read_file(
            path, retrieved=retrieved, copy=copy, version=version
        )
        sources.append(source)
        listings.extend(file_listings)
        skipped.extend(file_skipped)
    return ImportResult(merge_listings(listings), sources, skipped)


def read_file(
    path: Path,
    *,
    retrieved: date | None = None,
    copy: str | None = None,
    version: date | None = None,
) -> tuple[SourceFile, list[Listing], list[str]]:
    """One file: its SourceFile, its listings, and the entries skipped (persons)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ListFileError(path, f"cannot read: {error.strerror}") from None
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"{":
        entries = _galaxy_entries(path, data)
    elif head == b"<":
        entries = _feed_entries(path, data)
    else:
        raise ListFileError(path, "neither JSON (a MISP galaxy cluster) nor XML (an Atom feed)")
    _check_unique(path, entries)
    day = version or _newest(entries)
    source = SourceFile(
        key=f"ca-listed-entities-{day.isoformat()}",
        url=FEED_URL,
        name=path.name,
        version=day,
        retrieved=retrieved or day,
        sha256=SourceFile.digest(data),
        lists=(REGIME,),
        label=f"Public Safety Canada, listed terrorist entities ({path.name}), version of {day.isoformat()}",
        copy=copy,
    )
    listings: list[Listing] = []
    skipped: list[str] = []
    for entry in entries:
        if PERSONS.get(entry.entry_id) == entry.title:
            skipped.append(f"{path.name}: {entry.entry_id} {entry.title!r} (a person)")
            continue
        listings.append(
            Listing(
                regime=REGIME,
                entry_id=entry.entry_id,
                entity=Entity(
                    entry.title, tuple(a for a in parse_aliases(entry.summary) if a != entry.title)
                ),
                evidence=entry.evidence,
                sources=(source,),
                listing_date=entry.published,
            )
        )
    return source, listings, skipped


def parse_aliases(summary: str) -> tuple[str, ...]:
    """The names a summary gives, each a verbatim piece of it; none for "N/A".

    The feed writes aliases as English prose: separated by ", " or "; ", the last often after
    "and" (", and X", "X and Y"), sometimes ending with ".". The summary is split at commas and
    semicolons outside parentheses; a leading "and " is dropped; the last piece is split at " and "
    when it holds exactly one (outside parentheses) and the summary had no ", and"; a piece that
    is all in parentheses ("(IG)") loses them. A name with a comma in it ("Marxism, Leninism,
    Maoism and …") or a last piece with several "and"s stays imperfect: the pieces are still
    verbatim text of the summary."""
    text = summary.strip()
    if not text or text.upper() == "N/A":
        return ()
    text = text.removesuffix(".").rstrip()
    pieces = [p.strip() for p in _split_outside_parentheses(text, ",;")]
    joined_by_and = len(pieces) > 1 and pieces[-1].startswith("and ")
    pieces = [p.removeprefix("and ").strip() for p in pieces]
    if not joined_by_and and pieces:
        last = _split_outside_parentheses(pieces[-1], None)
        if len(last) == 2:
            pieces[-1:] = [p.strip() for p in last]
    names: list[str] = []
    for piece in pieces:
        if piece.startswith("(") and piece.endswith(")") and "(" not in piece[1:]:
            piece = piece[1:-1].strip()
        if piece and piece not in names:
            names.append(piece)
    return tuple(names)


def _split_outside_parentheses(text: str, separators: str | None) -> list[str]:
    """Pieces of `text` at any of `separators` (or at " and " when None), outside parentheses."""
    pieces: list[str] = []
    depth, start, at = 0, 0, 0
    while at < len(text):
        char = text[at]
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif depth == 0 and separators is not None and char in separators:
            pieces.append(text[start:at])
            start = at + 1
        elif depth == 0 and separators is None and text.startswith(" and ", at):
            pieces.append(text[start:at])
            start = at + len(" and ")
            at = start
            continue
        at += 1
    pieces.append(text[start:])
    return pieces


def parse_date(text: str) -> DateValue:
    """A date as the feed gives it: '2025-12-08' (or a year, a year-month, a full timestamp)."""
    value = text.strip()
    stamp = _DAY.fullmatch(value)
    if stamp:
        value = stamp.group(1)
    if not _PARTIAL.fullmatch(value):
        raise ValueError(f"not a date: {text!r}")
    try:
        date.fromisoformat((value + "-01-01")[:10])  # a month 13 or a 30 February
    except ValueError:
        raise ValueError(f"not a date: {text!r}") from None
    return DateValue(value)


def _newest(entries: list[_Entry]) -> date:
    days = [date.fromisoformat((e.published.text + "-01-01")[:10]) for e in entries]
    for entry in entries:
        try:
            updated = parse_date(entry.updated)
        except ValueError:
            continue  # "Not yet reviewed"
        days.append(date.fromisoformat((updated.text + "-01-01")[:10]))
    return max(days)  # entries is not empty (_check_unique)


def _check_unique(path: Path, entries: list[_Entry]) -> None:
    if not entries:
        raise ListFileError(path, "has no entries")
    seen: dict[str, str] = {}
    for entry in entries:
        if entry.entry_id in seen:
            raise ListFileError(
                path, f"id {entry.entry_id!r} also at {seen[entry.entry_id]}", entry.where
            )
        seen[entry.entry_id] = entry.where


# --- the MISP galaxy cluster (JSON) ---------------------------------------------------------


def _galaxy_entries(path: Path, data: bytes) -> list[_Entry]:
    try:
        text = data.decode("utf-8-sig")
        cluster = json.loads(text)
    except UnicodeDecodeError as error:
        raise ListFileError(path, "not UTF-8 text", f"byte {error.start}") from None
    except json.JSONDecodeError as error:
        raise ListFileError(
            path, f"not JSON: {error.msg}", f"line {error.lineno}, column {error.colno}"
        ) from None
    if not isinstance(cluster, dict) or not isinstance(cluster.get("values"), list):
        raise ListFileError(path, 'not a MISP galaxy cluster (no "values" list)', "/values")
    if cluster.get("type") != GALAXY_TYPE or cluster.get("uuid") != GALAXY_UUID:
        raise ListFileError(
            path,
            f"a galaxy cluster of type {cluster.get('type')!r}, not {GALAXY_TYPE!r} ({GALAXY_UUID})",
            "/type",
        )
    return [
        _galaxy_entry(path, text, value, f"/values/{i}")
        for i, value in enumerate(cluster["values"])
    ]


def _galaxy_entry(path: Path, text: str, value: Any, where: str) -> _Entry:
    meta = value.get("meta") if isinstance(value, dict) else None
    if not isinstance(meta, dict):
        raise ListFileError(path, 'entry without a "meta" object', f"{where}/meta")

    def field(name: str, required: bool = True) -> str:
        item = meta.get(name)
        if item is None and not required:
            return ""
        if not isinstance(item, str) or (required and not item.strip()):
            raise ListFileError(path, f"entry without {name}", f"{where}/meta/{name}")
        return item

    published = field("published")
    try:
        day = parse_date(published)
    except ValueError as error:
        raise ListFileError(path, str(error), f"{where}/meta/published") from None
    return _Entry(
        entry_id=field("id").strip(),
        title=field("title").strip(),
        summary=field("summary", required=False),
        published=day,
        updated=field("updated", required=False),
        evidence=(
            _member(path, text, "title", field("title"), where),
            _member(path, text, "published", published, where),
        ),
        where=where,
    )


def _member(path: Path, text: str, name: str, value: str, where: str) -> str:
    """The member `"name": "value"` as the file writes it (misp-galaxy's layout, escaped or not)."""
    for ascii_only in (False, True):
        member = f"{json.dumps(name)}: {json.dumps(value, ensure_ascii=ascii_only)}"
        if member in text:
            return member
    raise ListFileError(
        path,
        f'cannot quote {name} verbatim: the file does not write it as "{name}": "…" (format it as misp-galaxy does)',
        f"{where}/meta/{name}",
    )


# --- the Atom feed (XML) -------------------------------------------------------------------


def _feed_entries(path: Path, data: bytes) -> list[_Entry]:
    _, records = read_records(
        path, data, roots=frozenset({f"{ATOM}feed"}), records=frozenset({f"{ATOM}entry"})
    )
    return [
        _feed_entry(path, record, f"/feed/entry[{i}]") for i, record in enumerate(records, start=1)
    ]


def _feed_entry(path: Path, record: XmlElement, where: str) -> _Entry:
    def required(name: str) -> XmlElement:
        found = record.find(f"{ATOM}{name}")
        if found is None or not found.text.strip():
            raise ListFileError(path, f"entry without {name}", f"{where}/{name} ({record.where})")
        return found

    def optional(name: str) -> str:
        found = record.find(f"{ATOM}{name}")
        return found.text if found is not None else ""

    title = required("title")
    published = required("published")
    try:
        day = parse_date(published.text)
    except ValueError as error:
        raise ListFileError(path, str(error), f"{where}/published ({published.where})") from None
    return _Entry(
        entry_id=required("id").text.strip(),
        title=title.text.strip(),
        summary=optional("summary"),
        published=day,
        updated=optional("updated"),
        evidence=(title.source, published.source),
        where=f"{where} ({record.where})",
    )
