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
import re
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pyoxigraph as ox
from rdflib import Dataset
from rdflib.plugins.sparql.processor import SPARQLResult

from graph.build import dataset_digest, dump_path, read_manifest
from graph.errors import QuerySyntaxError
from graph.formats import QueryForm, by_name
from graph.namespaces import PREFIXES
from graph.stores.analysis import check_services, inspect_query
from graph.stores.base import (
    DEFAULT_ALLOWED_SERVICES,
    QueryResult,
    Store,
    StoreCapabilities,
    StoreError,
    UnsupportedFormat,
)
from graph.stores.oxigraph_terms import to_rdflib

log = logging.getLogger(__name__)

#: The file in DIR that records which dataset DIR holds.
LOADED_MARKER = "diplokg-loaded.json"
_LOCK = ".diplokg-load.lock"

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
_DESCRIBE = re.compile(r"\bDESCRIBE\b", re.IGNORECASE)


def _json_term(term: Any) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
            out["datatype"] = term.datatype.value
        return out
    raise StoreError(f"unsupported term in a result: {term!r}")


class OxigraphResult(QueryResult):
    """A pyoxigraph answer: serialized by Oxigraph itself (JSON by hand when rows were cut)."""

    def __init__(
        self,
        form: QueryForm,
        *,
        variables: list[str] | None = None,
        rows: list[Any] | None = None,
        boolean: bool | None = None,
        triples: list[Any] | None = None,
        truncated: bool = False,
    ) -> None:
        self.form = form
        self.variables = variables or []
        self.rows = rows or []
        self.boolean = boolean
        self.triples = triples or []
        self.truncated = truncated

    def serialize(self, fmt: str) -> bytes:
        spec = by_name(fmt)
        if spec is None or self.form not in spec.forms:
            raise UnsupportedFormat(self.form, fmt)
        if self.form.returns_graph:
            out = ox.serialize(self.triples, format=_GRAPH_FORMATS[spec.name], prefixes=PREFIXES)
            assert out is not None
            return out
        if self.form is QueryForm.ASK:
            if spec.name == "json":
                return json.dumps({"head": {}, "boolean": bool(self.boolean)}).encode()
            xml = self._rdflib().serialize(format="xml", encoding="utf-8")
            assert isinstance(xml, bytes)
            return xml
        if spec.name == "json":
            bindings = [
                {v: _json_term(row[v]) for v in self.variables if row[v] is not None}
                for row in self.rows
            ]
            body = {"head": {"vars": self.variables}, "results": {"bindings": bindings}}
            return json.dumps(body, ensure_ascii=False).encode("utf-8")
        if spec.name == "tsv":
            from graph.formats import tsv_results

            cells = [[to_rdflib(row[v]) for v in self.variables] for row in self.rows]
            return tsv_results(self.variables, cells)
        out = self._rdflib().serialize(format=spec.name, encoding="utf-8")
        assert isinstance(out, bytes)
        return out

    def _rdflib(self) -> SPARQLResult:
        from rdflib import Variable

        if self.form is QueryForm.ASK:
            return SPARQLResult({"type_": "ASK", "askAnswer": bool(self.boolean)})
        names = [Variable(v) for v in self.variables]
        bindings = [
            {n: to_rdflib(row[str(n)]) for n in names if row[str(n)] is not None}
            for row in self.rows
        ]
        return SPARQLResult({"type_": "SELECT", "vars_": names, "bindings": bindings})


class OxigraphStore(Store):
    """pyoxigraph (RocksDB) in DIR, or in memory when no path is given."""

    name: ClassVar[str] = "oxigraph"
    capabilities: ClassVar[StoreCapabilities] = StoreCapabilities(
        native_formats=frozenset({"json", "xml", "csv", "tsv", *_GRAPH_FORMATS}),
        federation=False,
        cancellable=False,
        thread_safe=True,
    )

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        allowed_services: Sequence[str] = DEFAULT_ALLOWED_SERVICES,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.allowed_services = tuple(allowed_services)
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
            self._store = ox.Store.read_only(str(self.path))
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
        children = [c for c in self.path.iterdir() if c.name != _LOCK]
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
        parsed strictly and counted (a DISTINCT over every triple: 1.2 s at 1M).
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
        query = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }"
        solutions = store.query(query, use_default_graph_as_union=True)
        assert isinstance(solutions, ox.QuerySolutions)
        return int(next(iter(solutions))["n"].value)

    # --- queries ---------------------------------------------------------------------

    def query(
        self,
        sparql: str,
        *,
        default_graph_uris: Sequence[str] = (),
        named_graph_uris: Sequence[str] = (),
        max_rows: int | None = None,
    ) -> QueryResult:
        store = self._require()
        info = inspect_query(sparql)  # refuses updates; syntax errors with their position
        check_services(info, self.allowed_services)
        options: dict[str, Any] = {"prefixes": PREFIXES}
        if default_graph_uris or named_graph_uris:
            options["default_graph"] = [ox.NamedNode(u) for u in default_graph_uris]
            options["named_graphs"] = [ox.NamedNode(u) for u in named_graph_uris]
        elif info.from_default or info.from_named:
            options["default_graph"] = [ox.NamedNode(u) for u in info.from_default]
            options["named_graphs"] = [ox.NamedNode(u) for u in info.from_named]
        else:
            options["use_default_graph_as_union"] = True
        try:
            answer = store.query(sparql, **options)
        except SyntaxError as exc:
            raise QuerySyntaxError(str(exc)) from None
        except OSError as exc:
            raise StoreError(f"oxigraph failed: {exc}") from None
        form = info.form
        limit = None if max_rows is None else max_rows + 1
        try:
            if isinstance(answer, ox.QueryBoolean):
                return OxigraphResult(QueryForm.ASK, boolean=bool(answer))
            if isinstance(answer, ox.QuerySolutions):
                variables = [v.value for v in answer.variables]
                rows = list(itertools.islice(answer, limit))
                cut = max_rows is not None and len(rows) > max_rows
                return OxigraphResult(
                    form, variables=variables, rows=rows[:max_rows] if cut else rows, truncated=cut
                )
            triples = list(itertools.islice(_distinct(answer), limit))
        except OSError as exc:
            raise StoreError(f"oxigraph failed: {exc}") from None
        except SyntaxError as exc:  # pragma: no cover - raised lazily by some engines
            raise QuerySyntaxError(str(exc)) from None
        cut = max_rows is not None and len(triples) > max_rows
        if form not in (QueryForm.CONSTRUCT, QueryForm.DESCRIBE):
            form = QueryForm.DESCRIBE if _DESCRIBE.search(sparql) else QueryForm.CONSTRUCT
        return OxigraphResult(form, triples=triples[:max_rows] if cut else triples, truncated=cut)

    def triple_count(self) -> int:
        self._require()
        return self._triples

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
    triples = manifest.get("triples_merged")
    return Dump(path, fmt, trusted=True, triples=triples if isinstance(triples, int) else None)


def _read_marker(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((path / LOADED_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
