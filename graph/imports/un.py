"""UN Security Council Consolidated List XML (scsanctions.un.org consolidated.xml, UN_consolidated.xsd).

Reads ENTITIES/ENTITY of the Taliban (1988) and ISIL (Da'esh) & Al-Qaida lists; individuals and
entities of other regimes are counted in `skipped`. The file is read as a stream (expat): no tree
of the whole list is built.

Evidence: for each entry, three strings, each the element exactly as the file writes it (start
tag, text with its original whitespace and escapes, end tag): `<FIRST_NAME>…</FIRST_NAME>`,
`<REFERENCE_NUMBER>…</REFERENCE_NUMBER>` and `<LISTED_ON>…</LISTED_ON>`. A checker verifies a
listing by finding each string in the file's text (UTF-8) inside the same <ENTITY> element.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from graph.imports.model import DateValue, Entity, ListFileError, Listing, SourceFile
from graph.imports.result import ImportResult, merge_listings
from graph.imports.xmlsource import XmlElement, read_records

UPSTREAM_URL = "https://scsanctions.un.org/resources/xml/en/consolidated.xml"

#: UN_LIST_TYPE -> REGIMES key.
LIST_TYPES: dict[str, str] = {"Taliban": "un-1988", "Al-Qaida": "un-isil-al-qaida"}
LISTS = ("un-1988", "un-isil-al-qaida")

ROOT = "CONSOLIDATED_LIST"
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:T[0-9:.]+)?(?:Z|[+-]\d{2}:\d{2})?")


def import_paths(paths: Iterable[Path | str], *, retrieved: date | None = None) -> ImportResult:
    """Listings of the Taliban and ISIL/Al-Qaida entities in each consolidated.xml given.

    The same entry in several files (versions) becomes one listing attested by all of them.
    `retrieved` defaults to each file's own date (dateGenerated)."""
    listings: list[Listing] = []
    sources: list[SourceFile] = []
    skipped: list[str] = []
    for path in map(Path, paths):
        source, file_listings, file_skipped = read_file(path, retrieved=retrieved)
        sources.append(source)
        listings.extend(file_listings)
        skipped.extend(file_skipped)
    return ImportResult(merge_listings(listings), sources, skipped)


def read_file(
    path: Path, *, retrieved: date | None = None
) -> tuple[SourceFile, list[Listing], list[str]]:
    """One consolidated.xml: its SourceFile, its listings, and what was skipped (counted)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ListFileError(path, f"cannot read: {error.strerror}") from None
    root, records = read_records(
        path, data, roots=frozenset({ROOT}), records=frozenset({"INDIVIDUAL", "ENTITY"})
    )
    entries: list[tuple[str, XmlElement]] = []
    individuals = 0
    others: Counter[str] = Counter()
    for record in records:
        if record.tag == "INDIVIDUAL":
            individuals += 1
            continue
        list_type = _text(record, "UN_LIST_TYPE")
        if list_type in LIST_TYPES:
            entries.append((LIST_TYPES[list_type], record))
        else:
            others[list_type or "(none)"] += 1
    if not root.tag:
        raise ListFileError(path, "is empty")
    version = _generated(path, root.attrib.get("dateGenerated"))
    source = SourceFile(
        key=f"un-consolidated-{version.isoformat()}",
        url=UPSTREAM_URL,
        name=path.name,
        version=version,
        retrieved=retrieved or version,
        sha256=SourceFile.digest(data),
        lists=LISTS,
        label=f"UN Security Council Consolidated List ({path.name}), generated {version.isoformat()}",
    )
    listings: list[Listing] = []
    seen: dict[str, str] = {}
    for regime, record in entries:
        listing = _listing(path, regime, record, source)
        if listing.entry_id in seen:
            raise ListFileError(
                path,
                f"reference number {listing.entry_id} also at {seen[listing.entry_id]}",
                record.where,
            )
        seen[listing.entry_id] = record.where
        listings.append(listing)
    skipped = []
    if individuals:
        skipped.append(f"{path.name}: {individuals} individuals (not organizations)")
    skipped.extend(
        f"{path.name}: {count} entities of the {list_type} list (not a list imported)"
        for list_type, count in sorted(others.items())
    )
    return source, listings, skipped


def normalize_reference(text: str) -> str:
    """A reference number without the whitespace the file sometimes leaves in it ('KPe.023 ')."""
    return re.sub(r"\s+", "", text)


def normalize_name(text: str) -> str:
    """A name without surrounding whitespace, its inner runs of whitespace (line breaks and the
    file's indentation) made single spaces."""
    return " ".join(text.split())


def listed_on(text: str) -> DateValue:
    """The date of LISTED_ON, which may carry a time or a time-zone offset ('2015-03-27-04:00')."""
    match = _DATE.fullmatch(text.strip())
    if not match:
        raise ValueError(f"not a date: {text!r}")
    day = date.fromisoformat(match.group(1))
    return DateValue.of(day)


def _text(record: XmlElement, tag: str) -> str:
    element = record.find(tag)
    return element.text.strip() if element is not None else ""


def _generated(path: Path, value: str | None) -> date:
    where = f"/{ROOT}/@dateGenerated"
    if not value:
        raise ListFileError(path, "has no dateGenerated", where)
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise ListFileError(path, f"dateGenerated is not a date: {value!r}", where) from None


def _required(path: Path, record: XmlElement, tag: str) -> XmlElement:
    element = record.find(tag)
    if element is None or not element.text.strip():
        raise ListFileError(path, f"entity without {tag}", f"{record.where}: ENTITY/{tag}")
    return element


def _listing(path: Path, regime: str, record: XmlElement, source: SourceFile) -> Listing:
    name = _required(path, record, "FIRST_NAME")
    reference = _required(path, record, "REFERENCE_NUMBER")
    listed = _required(path, record, "LISTED_ON")
    try:
        listing_date = listed_on(listed.text)
    except ValueError as error:
        raise ListFileError(path, str(error), f"{listed.where}: ENTITY/LISTED_ON") from None
    entity_name = normalize_name(name.text)
    aliases: list[str] = []
    for alias in record.findall("ENTITY_ALIAS"):
        element = alias.find("ALIAS_NAME")
        text = normalize_name(element.text) if element is not None else ""
        if text and text != entity_name and text not in aliases:
            aliases.append(text)
    return Listing(
        regime=regime,
        entry_id=normalize_reference(reference.text),
        entity=Entity(entity_name, tuple(aliases)),
        evidence=(name.source, reference.source, listed.source),
        sources=(source,),
        listing_date=listing_date,
    )
