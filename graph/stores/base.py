"""The store interface every SPARQL backend implements (SPARQL 1.1 Query §13; Protocol §2.1.4).

The contract, for every backend (memory/rdflib, oxigraph, remote SPARQL 1.1 over HTTP):

* A store is created empty by its constructor (cheap, no I/O), then `load_dataset(source)` fills
  it from a build directory (`graph.build` output: `diplokg.nq` is the reference dump) or from
  an rdflib `Dataset`. A remote store may treat loading as "connect and check" and may refuse
  (`ReadOnlyStore`) when it cannot load. Stores are read-only after loading: `query` never
  changes the data.
* The service dataset: the **default graph is the union of all named graphs**; the named graphs
  are the sources (one per article, plus the entities and ontology graphs).
* `query(sparql, default_graph_uris=..., named_graph_uris=..., max_rows=...)` evaluates one
  SPARQL 1.1 *query* (never an update). When either URI list is non-empty, the protocol's
  dataset replaces the service dataset for this query (Protocol §2.1.4): the default graph is
  the merge of the graphs named in `default_graph_uris` (empty when none is given), and the
  named graphs are exactly `named_graph_uris`. Otherwise a FROM / FROM NAMED clause in the
  query does the same. Graph IRIs always name graphs *already in the store*: an unknown IRI is
  an empty graph. **A store must never dereference an IRI** (no file read, no HTTP fetch) for
  FROM, FROM NAMED, default-graph-uri or named-graph-uri.
* Static checks (`graph.stores.analysis.inspect_query`: the form, updates refused, SERVICE
  targets against the allow-list, FROM / FROM NAMED) are made by the caller, which passes its
  `QueryInfo` as `info`; given none, a store makes them itself. A store that evaluates SERVICE
  must never connect to a target outside `allowed_services`.
* Errors are domain exceptions: `graph.errors.QuerySyntaxError` (with line/column when the
  parser gives them), `UpdateRefused`, `ForbiddenService`, `UnsupportedFormat`,
  `QueryTimeout` (a store whose engine can be cancelled may raise it itself; otherwise the
  caller stops the worker process), `StoreError` for anything else the backend reports.
* The returned `QueryResult` knows its form and serializes itself to any short format name of
  `graph.formats` that carries its form, as bytes in UTF-8; once it has been serialized, its
  `truncated` says whether `max_rows` cut it (a store may know before, Oxigraph's solutions
  are cut while they are written). A store serializes natively when its engine can
  (pyoxigraph writes SPARQL JSON/XML/CSV/TSV and every RDF syntax itself); `RdflibResult` in
  `graph.stores.memory` serves rdflib and the remote store.
* `triple_count()` counts the distinct triples of the default graph (the union);
  `named_graphs()` lists the named graphs' IRIs, sorted; `close()` frees the store's resources
  and is idempotent.
* A store is used from one thread at a time; the API runs each store in its own worker
  process (api.worker), so a store must be constructible there from its spec (see
  `graph.stores.open_store_spec`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from rdflib import Dataset

from graph.formats import QueryForm
from graph.stores.analysis import QueryInfo

#: Named as a default-graph-uri, the store's own default graph (not the union of the named
#: graphs): what a Graph Store `GET ?default` reads. Only Oxigraph has one to read.
STORED_DEFAULT_GRAPH = "urn:x-diplokg:stored-default-graph"


class QueryResult(ABC):
    """The answer to one query: its form, truncation, and its serializations."""

    form: QueryForm
    #: True when `max_rows` cut the result (rows for SELECT, triples for CONSTRUCT/DESCRIBE).
    truncated: bool = False

    @abstractmethod
    def serialize(self, fmt: str) -> bytes:
        """The result in the format named `fmt` (graph.formats short name), UTF-8 bytes.

        Raises UnsupportedFormat when the format cannot carry this form.
        """


class Store(ABC):
    """A read-only SPARQL 1.1 query engine over DiploKG's dataset."""

    #: Short backend name: "memory", "oxigraph", "remote".
    name: ClassVar[str]

    @abstractmethod
    def load_dataset(self, source: Path | Dataset) -> None:
        """Fill the store from a build directory or an rdflib Dataset; replaces any data."""

    @abstractmethod
    def query(
        self,
        sparql: str,
        *,
        default_graph_uris: Sequence[str] = (),
        named_graph_uris: Sequence[str] = (),
        max_rows: int | None = None,
        info: QueryInfo | None = None,
    ) -> QueryResult:
        """Evaluate one SPARQL 1.1 query over the service dataset or the one the arguments give.

        `info` is the query's static reading (graph.stores.analysis.inspect_query) when the
        caller has checked it already; otherwise the store inspects and checks it itself.
        """

    @abstractmethod
    def triple_count(self) -> int:
        """The number of distinct triples in the default graph (the union of the named graphs)."""

    @abstractmethod
    def named_graphs(self) -> list[str]:
        """The IRIs of the named graphs, sorted."""

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Free the store's resources; idempotent."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
