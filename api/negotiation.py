"""Content negotiation (RFC 9110 §12.5.1 Accept with q-values; SPARQL 1.1 Protocol §2.1.5): one pure function."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from graph.errors import NotAcceptable
from graph.formats import Format


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float
    charset: str | None

    @property
    def specificity(self) -> int:
        """3 for type/subtype, 2 for type/*, 1 for */* (the most specific range decides a q)."""
        return 1 if self.type == "*" else 2 if self.subtype == "*" else 3

    def matches(self, media_type: str) -> bool:
        main, _, sub = media_type.partition("/")
        if self.charset not in (None, "utf-8", "utf8", "*"):
            return False
        return self.type == "*" or (self.type == main and self.subtype in ("*", sub))


def parse_accept(header: str) -> list[MediaRange]:
    """The media ranges of an Accept header; malformed entries are skipped, q outside 0..1 clamped."""
    ranges: list[MediaRange] = []
    for item in header.split(","):
        parts = [p.strip() for p in item.split(";")]
        media = parts[0].lower()
        main, slash, sub = media.partition("/")
        if not slash or not main or not sub or (main == "*" and sub != "*"):
            continue
        q, charset = 1.0, None
        for param in parts[1:]:
            key, _, value = param.partition("=")
            key, value = key.strip().lower(), value.strip().strip('"').lower()
            if key == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
                break  # parameters after q are accept-extensions
            if key == "charset":
                charset = value
        ranges.append(MediaRange(main, sub, q, charset))
    return ranges


def negotiate(
    offers: Sequence[Format], accept: str | None, formats: str | Sequence[str] | None = None
) -> Format:
    """Choose the format of a response among `offers` (preferred first).

    A format parameter (`format`, or its synonyms `output` and `results`: a short name such as
    `json` or `turtle`, or a media type) wins over Accept. Clients may give it more than once
    (SPARQLWrapper sends `format=tsv&format=text/tab-separated-values`): values that name the
    same offer agree; values that name different offers are NotAcceptable. Otherwise each
    offer gets the q of the most specific range matching its media type or an alias; the
    highest q wins, ties going to the server's order; q=0 excludes. No Accept (or an empty one)
    means the first offer. NotAcceptable when nothing fits.
    """
    given = (formats,) if isinstance(formats, str) else tuple(formats or ())
    hints = tuple(sorted({h.strip().lower() for h in given if h.strip()}))
    return _negotiate(tuple(offers), (accept or "").strip(), hints)


@lru_cache(maxsize=512)
def _negotiate(offers: tuple[Format, ...], accept: str, hints: tuple[str, ...]) -> Format:
    if hints:
        chosen = {_named(offers, hint) for hint in hints}
        if len(chosen) == 1 and None not in chosen:
            found = chosen.pop()
            assert found is not None
            return found
        raise NotAcceptable(_offered(offers), " and ".join(hints))
    if not accept:
        return offers[0]
    ranges = parse_accept(accept)
    best: Format | None = None
    best_q = 0.0
    for offer in offers:
        q = _quality(ranges, offer)
        if q > best_q:
            best, best_q = offer, q
    if best is None:
        raise NotAcceptable(_offered(offers), accept)
    return best


def _named(offers: tuple[Format, ...], hint: str) -> Format | None:
    """The offer a format parameter names: by short name first, then by media type; a
    comma-separated list of media types (as SPARQLWrapper sends for JSON-LD) names its first
    offered one."""
    for offer in offers:
        if hint == offer.name or hint in offer.names:
            return offer
    for part in hint.split(","):
        media = part.split(";")[0].strip()
        for offer in offers:
            if media in (offer.media_type, *offer.aliases):
                return offer
    return None


def _offered(offers: Sequence[Format]) -> tuple[tuple[str, str], ...]:
    return tuple((f.name, f.media_type) for f in offers)


def _quality(ranges: Sequence[MediaRange], offer: Format) -> float:
    """The q the client gives `offer`.

    The canonical media type takes the q of its most specific matching range; an alias
    (application/json for SPARQL JSON, text/plain for N-Triples...) counts only when named
    exactly, just below the canonical type; an explicit q=0 on the canonical type excludes it.
    """
    matching = [r for r in ranges if r.matches(offer.media_type)]
    best = 0.0
    if matching:
        top = max(r.specificity for r in matching)
        best = max(r.q for r in matching if r.specificity == top)
        if top == 3 and best == 0.0:
            return 0.0
    for alias in offer.aliases:
        exact = [r.q for r in ranges if r.specificity == 3 and r.matches(alias)]
        if exact:
            best = max(best, max(exact) * 0.999)
    return best
