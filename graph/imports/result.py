"""What an importer returns for the list files it read (graph.imports.model records)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from graph.imports.model import Listing, SourceFile


@dataclass(frozen=True)
class ImportResult:
    """The listings read from one or more list files, the files, and what was left out and why."""

    listings: list[Listing]
    sources: list[SourceFile]
    skipped: list[str] = field(default_factory=list)  # one line per entry or file left out


def merge_listings(listings: list[Listing]) -> list[Listing]:
    """One listing per (regime, entry id): the same entry read from several files is attested by
    all of them (their sources and evidence are joined, in order). Entries that differ in name,
    aliases or listing date are kept apart, so a caller can tell versions that disagree."""
    merged: dict[tuple[object, ...], Listing] = {}
    for listing in listings:
        key = (listing.regime, listing.entry_id, listing.entity, listing.listing_date)
        first = merged.get(key)
        if first is None:
            merged[key] = listing
            continue
        merged[key] = replace(
            first,
            sources=first.sources + tuple(s for s in listing.sources if s not in first.sources),
            evidence=first.evidence + tuple(e for e in listing.evidence if e not in first.evidence),
        )
    return list(merged.values())
