"""An LRU cache of serialized query results, and entity tags; emptied by every commit of a curated write."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

from api.pool import Answer


@dataclass(frozen=True)
class CachedResult:
    """A serialized result as it is sent: query form, format name, body, truncation, ETag."""

    form: str
    format: str
    body: bytes
    truncated: bool
    etag: str


def etag_of(body: bytes) -> str:
    """A strong entity tag derived from the body's bytes."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def entity_tags(header: str | None) -> set[str]:
    """The entity tags of an If-None-Match header (weak ones compared as strong, RFC 9110 §13.1.2)."""
    if not header:
        return set()
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


class ResultCache:
    """At most `entries` results, each at most `max_bytes` long; least recently used evicted first."""

    def __init__(self, entries: int, max_bytes: int) -> None:
        self.entries = entries
        self.max_bytes = max_bytes
        self._data: OrderedDict[tuple[object, ...], CachedResult] = OrderedDict()
        #: Bumped by `clear` (a commit): a result computed before it is not kept after it.
        self.generation = 0

    def clear(self) -> None:
        """Forget every result: the data has changed."""
        self._data.clear()
        self.generation += 1

    def get(self, key: tuple[object, ...]) -> CachedResult | None:
        found = self._data.get(key)
        if found is not None:
            self._data.move_to_end(key)
        return found

    def put(
        self, key: tuple[object, ...] | None, answer: Answer, generation: int | None = None
    ) -> CachedResult:
        """`answer` as a CachedResult, kept under `key` unless the key is None, it is too big,
        or the data changed since it was asked for (`generation` is not the current one)."""
        result = CachedResult(
            answer.form, answer.format, answer.body, answer.truncated, etag_of(answer.body)
        )
        if generation is not None and generation != self.generation:
            return result
        if key is not None and self.entries > 0 and len(answer.body) <= self.max_bytes:
            self._data[key] = result
            self._data.move_to_end(key)
            while len(self._data) > self.entries:
                self._data.popitem(last=False)
        return result

    def __len__(self) -> int:
        return len(self._data)
