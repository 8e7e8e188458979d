"""The embedded Oxigraph store: pyoxigraph's native SPARQL 1.1 engine over a persistent DIR (contract in graph.stores.base).

`oxigraph:DIR` bulk-loads the build's N-Quads dump into DIR once, compacts it, and records what it
loaded (the dump's SHA-256 from the build manifest) in DIR; a restart over the same build reuses
DIR without reloading, and a changed dataset is detected and reloaded. A dump whose bytes are the
ones its build manifest records was validated by our build: it is parsed without checking IRIs
again and its triple count is the manifest's (see `inspect_dump`). Loading happens under a file
lock with a read-write handle; queries then run on a read-only handle, so several worker
processes can serve the same DIR. The default graph is the union of the named graphs.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import itertools
import json
import logging
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pyoxigraph as ox
from rdflib import Dataset

from graph.dumps import dataset_digest, dump_path, read_json_object, read_manifest
from graph.errors import DEFAULT_ALLOWED_SERVICES, StoreError, UnsupportedFormat
from graph.formats import QueryForm, by_name
from graph.namespaces import PREFIXES
from graph.stores.analysis import QueryInfo, engine_syntax_error, inspect_query
from graph.stores.base import STORED_DEFAULT_GRAPH, QueryResult, Store

log = logging.getLogger(__name__)

#: The file in DIR that records which dataset DIR holds.
LOADED_MARKER = "diplokg-loaded.json"
_LOCK = ".diplokg-load.lock"
#: The change log of curated writes (graph.writes.log) kept in DIR: a reload leaves it alone.
CHANGE_LOG = "diplokg-changes.rdfp"
#: The lock its one writer holds (graph.writes.log.ChangeLog.hold): a reload leaves it too (a
#: new file under the same name would be a lock nobody holds).
CHANGE_LOG_LOCK = CHANGE_LOG + ".lock"

_RESULT_FORMATS: dict[str, ox.QueryResultsFormat] = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
_GRAPH_FORMATS: dict[str, ox.RdfFormat] = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
}
#: The fewest bytes a row takes in each format, separators included (JSON `{},`, CSV CRLF,
#: XML `<result></result>`): output shorter than `max_rows` times this has at most `max_rows`
#: rows, so it needs no counting.
_MIN_ROW_BYTES = {"json": 3, "xml": 17, "csv": 2}


#: "dk:", "rdfs:"...: a query without any of them uses no predeclared prefix.
_PREFIX_MARKS = tuple(f"{name}:" for name in PREFIXES)


class _TooLong(Exception):
    """Raised from inside pyoxigraph's serializer to stop it (see _Sink)."""


class _Sink:
    """A file-like target for pyoxigraph's serializers that stops them past a limit: `max_bytes`
    bytes, or `max_lines` newlines (TSV, one row a line after the header, newlines in literals
    escaped). What was written before the limit is kept."""

    def __init__(self, max_bytes: int | None = None, max_lines: int | None = None) -> None:
        self.parts: list[bytes] = []
        self.size = 0
        self.lines = 0
        self.max_bytes = max_bytes
        self.max_lines = max_lines

    def write(self, data: bytes) -> int:
        chunk = bytes(data)
        self.parts.append(chunk)
        self.size += len(chunk)
        if self.max_bytes is not None and self.size > self.max_bytes:
            raise _TooLong
        if self.max_lines is not None:
            self.lines += chunk.count(b"\n")
            if self.lines > self.max_lines:
                raise _TooLong
        return len(chunk)

    def flush(self) -> None:
        pass

    def value(self) -> bytes:
        return b"".join(self.parts)


class OxigraphResult(QueryResult):
    """A pyoxigraph answer, written by pyoxigraph's own serializers in every format.

    Solutions are serialized as they are evaluated. A result small enough that it cannot hold
    more than `max_rows` rows is written in one pass; a longer one is evaluated again (`rerun`)
    as TSV, one row a line, cut after `max_rows` rows, and that TSV is parsed back and written
    in the format asked for.
    """

    def __init__(
        self,
        form: QueryForm,
        answer: Any,
        rerun: Callable[[], Any],
        max_rows: int | None,
    ) -> None:
        self.form = form
        self._answer = answer
        self._rerun = rerun
        self._max_rows = max_rows
        self._triples: list[Any] | None = None
        if form.returns_graph:  # a graph is a set: CONSTRUCT may repeat a triple
            limit = None if max_rows is None else max_rows + 1
            triples = list(itertools.islice(_distinct(answer), limit))
            self.truncated = max_rows is not None and len(triples) > max_rows
            self._triples = triples[:max_rows] if self.truncated else triples

    def serialize(self, fmt: str) -> bytes:
        spec = by_name(fmt)
        if spec is None or self.form not in spec.forms:
            raise UnsupportedFormat(self.form, fmt)
        try:
            if self._triples is not None:
                out = ox.serialize(
                    self._triples, format=_GRAPH_FORMATS[spec.name], prefixes=PREFIXES
                )
                assert out is not None
                return out
            if self.form is QueryForm.ASK:
                return bytes(self._answer.serialize(format=_RESULT_FORMATS[spec.name]))
            return self._solutions(spec.name)
        except OSError as exc:
            raise StoreError(f"oxigraph failed: {exc}") from None

    def _solutions(self, fmt: str) -> bytes:
        answer, self._answer = self._answer, None
        if answer is None:  # serialized once already: evaluate again
            answer = self._rerun()
        if self._max_rows is None:
            return bytes(answer.serialize(format=_RESULT_FORMATS[fmt]))
        if fmt != "tsv":
            sink = _Sink(max_bytes=_MIN_ROW_BYTES[fmt] * self._max_rows)
            try:
                answer.serialize(sink, format=_RESULT_FORMATS[fmt])
                return sink.value()
            except _TooLong:
                answer = self._rerun()
        sink = _Sink(max_lines=self._max_rows + 1)  # the header line, then one line a row
        try:
            answer.serialize(sink, format=ox.QueryResultsFormat.TSV)
            tsv = sink.value()
        except _TooLong:
            self.truncated = True
            tsv = _first_lines(sink.value(), self._max_rows + 1)
        if fmt == "tsv":
            return tsv
        parsed = ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV)
        out = parsed.serialize(format=_RESULT_FORMATS[fmt])
        assert out is not None
        return out


def _first_lines(data: bytes, count: int) -> bytes:
    end = -1
    for _ in range(count):
        end = data.index(b"\n", end + 1)
    return data[: end + 1]


class OxigraphStore(Store):
    """pyoxigraph (RocksDB) in DIR, or in memory when no path is given."""

    name: ClassVar[str] = "oxigraph"

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        allowed_services: Sequence[str] = DEFAULT_ALLOWED_SERVICES,
        writable: bool = False,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.allowed_services = tuple(allowed_services)
        #: Keep a read-write handle on DIR after loading (the one writer process; see
        #: graph.writes): then no other process may open DIR.
        self.writable = writable
        self._store: ox.Store | None = None
        self._triples = 0
        #: True when the last load_dataset found DIR current and did not reload.
        self.reused = False
        #: True when the last load parsed leniently (a dump our own build wrote and validated).
        self.lenient = False
        #: Seconds per step of the last load_dataset (digest, load, optimize, count, open).
        self.load_seconds: dict[str, float] = {}

    # --- loading ---------------------------------------------------------------------

    def load_dataset(self, source: Path | Dataset) -> None:
        self._release()
        self.lenient, self.load_seconds = False, {}
        if self.path is None:
            store = ox.Store()
            self._triples = self._fill(store, source, bulk=False)
            self._store = store
            log.info("oxigraph store in memory: %d triples (%s)", self._triples, self._summary())
            return
        self.path.mkdir(parents=True, exist_ok=True)
        with (self.path / _LOCK).open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                with self._phase("digest"):
                    digest = dataset_digest(source)
                marker = _read_marker(self.path)
                self.reused = marker is not None and marker.get("digest") == digest
                if not self.reused:
                    self._reload(source, digest)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        marker = _read_marker(self.path) or {}
        self._triples = int(marker.get("triples", 0))
        with self._phase("open"):
            path = str(self.path)
            self._store = ox.Store(path) if self.writable else ox.Store.read_only(path)
        log.info(
            "oxigraph store in %s: %s (%d triples; %s)",
            self.path,
            "reused" if self.reused else "loaded",
            self._triples,
            self._summary(),
        )

    def _reload(self, source: Path | Dataset, digest: str) -> None:
        assert self.path is not None
        # Start from an empty directory rather than Store.clear(): a store cleared and then
        # bulk-loaded stays larger and slower even after optimize() (1M triples: GROUP BY 56
        # instead of 46 ms, two-hop join 256 instead of 228 ms; 37 instead of 22 MB at 100k).
        children = [
            c for c in self.path.iterdir() if c.name not in (_LOCK, CHANGE_LOG, CHANGE_LOG_LOCK)
        ]
        if children and not (self.path / "CURRENT").is_file():  # RocksDB's own file
            raise StoreError(
                f"{self.path} holds files that are not an Oxigraph store; not touching them"
            )
        for child in children:
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        store = ox.Store(str(self.path))
        try:
            triples = self._fill(store, source, bulk=True, optimize=True)
        finally:
            del store
            gc.collect()
        marker = {"digest": digest, "triples": triples}
        (self.path / LOADED_MARKER).write_text(json.dumps(marker) + "\n", encoding="utf-8")

    def _fill(
        self, store: ox.Store, source: Path | Dataset, *, bulk: bool, optimize: bool = False
    ) -> int:
        """Load `source` into the empty `store`; the number of distinct triples of the union.

        An on-disk store takes pyoxigraph's bulk loader (it writes sorted files directly); an
        in-memory one `load`, no slower there and lower at its peak (427 vs 661 MB at 1M
        triples). A dump our own build wrote and validated is parsed leniently (IRIs are not
        checked again: 10-17% faster) and its triple count is the manifest's; anything else is
        parsed strictly and counted (its quads).
        """
        with self._phase("verify"):
            dump = None if isinstance(source, Dataset) else inspect_dump(source)
        self.lenient = dump is not None and dump.trusted
        loader = store.bulk_load if bulk else store.load
        with self._phase("load"):
            try:
                if dump is None:
                    assert isinstance(source, Dataset)
                    nquads = source.serialize(format="nquads", encoding="utf-8")
                    loader(nquads, format=ox.RdfFormat.N_QUADS)
                else:
                    loader(path=str(dump.path), format=dump.format, lenient=dump.trusted)
            except SyntaxError as exc:
                where = dump.path if dump is not None else "the dataset"
                raise StoreError(f"oxigraph cannot load {where}: {exc}") from None
            if bulk:
                store.flush()
        if optimize:  # one compaction: at 10M triples, queries 2-7x faster than on loaded files
            with self._phase("optimize"):
                store.optimize()
        if dump is not None and dump.triples is not None:
            return dump.triples
        with self._phase("count"):
            return self._count(store)

    @contextlib.contextmanager
    def _phase(self, name: str) -> Iterator[None]:
        """Time one step of loading into `load_seconds` (logged, and read by the benchmark)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.load_seconds[name] = round(time.perf_counter() - start, 3)

    def _summary(self) -> str:
        steps = ", ".join(f"{step} {s:.2f} s" for step, s in self.load_seconds.items())
        if "load" not in self.load_seconds:
            return steps
        return f"{'lenient' if self.lenient else 'strict'} parsing; {steps}"

    @staticmethod
    def _count(store: ox.Store) -> int:
        """The quads: what `COUNT(*)` over the union default graph counts (a triple stated in
        two named graphs counts twice, as the build's manifest counts it)."""
        return len(store)

    # --- queries ---------------------------------------------------------------------

    def query(
        self,
        sparql: str,
        *,
        default_graph_uris: Sequence[str] = (),
        named_graph_uris: Sequence[str] = (),
        max_rows: int | None = None,
        info: QueryInfo | None = None,
    ) -> QueryResult:
        store = self._require()
        if info is None:
            info = inspect_query(sparql, self.allowed_services)
        options: dict[str, Any] = {}
        for mark in _PREFIX_MARKS:  # passing the prefixes costs 15 us a query: only if needed
            if mark in sparql:
                options["prefixes"] = PREFIXES
                break
        if default_graph_uris or named_graph_uris:
            options["default_graph"] = [
                ox.DefaultGraph() if u == STORED_DEFAULT_GRAPH else ox.NamedNode(u)
                for u in default_graph_uris
            ]
            options["named_graphs"] = [ox.NamedNode(u) for u in named_graph_uris]
        elif info.from_default or info.from_named:
            options["default_graph"] = [ox.NamedNode(u) for u in info.from_default]
            options["named_graphs"] = [ox.NamedNode(u) for u in info.from_named]
        else:
            options["use_default_graph_as_union"] = True

        def run() -> Any:
            try:
                return store.query(sparql, **options)
            except SyntaxError as exc:
                raise engine_syntax_error(str(exc)) from None
            except (OSError, ValueError) as exc:
                raise StoreError(f"oxigraph failed: {exc}") from None

        answer = run()
        form = info.form
        if isinstance(answer, ox.QueryBoolean):
            form = QueryForm.ASK
        elif isinstance(answer, ox.QuerySolutions):
            form = QueryForm.SELECT
        elif not form.returns_graph:
            form = QueryForm.CONSTRUCT
        try:
            return OxigraphResult(form, answer, run, max_rows)
        except OSError as exc:
            raise StoreError(f"oxigraph failed: {exc}") from None

    def triple_count(self) -> int:
        self._require()
        return self._triples

    @property
    def handle(self) -> ox.Store:
        """The pyoxigraph store itself (the writer's backend, and a replica's patches)."""
        return self._require()

    def apply_operations(self, operations: Iterable[tuple[str, ox.Quad]]) -> None:
        """Apply a change log's operations in order ("D" removes a quad, "A" adds one): a
        replica following the log. Idempotent: a quad already removed or added is skipped."""
        store = self._require()
        emptied = set()
        adding: set[ox.Quad] = set()  # a run of additions, added in one transaction
        for code, quad in operations:
            if code == "A":
                if quad not in store:
                    adding.add(quad)
                continue
            if adding:
                store.extend(adding)
                self._triples += len(adding)
                adding = set()
            if quad in store:
                store.remove(quad)
                self._triples -= 1
                emptied.add(quad.graph_name)
        if adding:
            store.extend(adding)
            self._triples += len(adding)
        for graph in emptied:  # a graph exists while it holds a triple (docs/writes.md)
            if (
                isinstance(graph, ox.NamedNode)
                and next(iter(store.quads_for_pattern(None, None, None, graph)), None) is None
            ):
                store.remove_graph(graph)

    def add_new_quads(self, nquads: bytes, count: int) -> None:
        """Add `count` quads, given as N-Quads, that the store does not hold yet (the
        additions of a replica's next commits: the writer computed them against the same data),
        in one transaction, parsed and inserted by Oxigraph without holding Python's
        interpreter lock (so a query in another thread runs meanwhile, and sees all of them
        or none)."""
        if count:
            self._require().load(nquads, format=ox.RdfFormat.N_QUADS)
            self._triples += count

    def named_graphs(self) -> list[str]:
        store = self._require()
        return sorted(g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode))

    def close(self) -> None:
        self._release()

    def _require(self) -> ox.Store:
        if self._store is None:
            raise StoreError("the oxigraph store holds no dataset: call load_dataset first")
        return self._store

    def _release(self) -> None:
        if self._store is not None:
            self._store = None
            gc.collect()


def _distinct(triples: Iterator[Any]) -> Iterator[Any]:
    """A graph result is a set of triples (CONSTRUCT may repeat one)."""
    seen: set[Any] = set()
    for triple in triples:
        if triple not in seen:
            seen.add(triple)
            yield triple


@dataclass(frozen=True)
class Dump:
    """A dump to load into Oxigraph, and what its build manifest vouches for."""

    path: Path
    format: ox.RdfFormat
    #: These are the very bytes a build manifest records: our build validated them before
    #: writing, so the parser need not check IRIs again (pyoxigraph's `lenient`).
    trusted: bool = False
    #: The distinct triples of the union, as the manifest records them (trusted dumps only).
    triples: int | None = None


def inspect_dump(source: Path) -> Dump:
    """The dump of `source` (a build directory or a dump file), trusted only when it is a build
    directory whose manifest records exactly its bytes (a build writes its manifest last, after
    validating); a dump given directly, or edited after its build, is not."""
    path = dump_path(source)
    fmt = ox.RdfFormat.TRIG if path.suffix == ".trig" else ox.RdfFormat.N_QUADS
    manifest = read_manifest(source) if source.is_dir() else None
    if manifest is None:
        return Dump(path, fmt)
    recorded = manifest.get("files", {}).get(path.name)
    if not isinstance(recorded, str) or dataset_digest(path) != recorded:
        return Dump(path, fmt)
    triples = manifest.get("quads")  # what COUNT(*) over the union default graph counts
    return Dump(path, fmt, trusted=True, triples=triples if isinstance(triples, int) else None)


def _read_marker(path: Path) -> dict[str, Any] | None:
    return read_json_object(path / LOADED_MARKER)
