"""The remote store: any SPARQL 1.1 engine over HTTP (SPARQL 1.1 Protocol §2.1 query, §2.2 update; contract in graph.stores.base).

`sparql:QUERY_URL[,UPDATE_URL]`. With an update URL, `load_dataset` puts DiploKG's graphs into
the engine with SPARQL 1.1 Update (`DROP SILENT GRAPH`, then `INSERT DATA` in chunks) and
records what it loaded (the dump's digest, the graphs, the triple count) in a bookkeeping graph
of its own, so a restart over the same build does not reload. Without one, it checks that the
engine already holds that dataset.

Engines differ, so the client is defensive: queries go by GET, or by an urlencoded form POST
when long (never `application/sparql-query`, which hangs Virtuoso 7.2.5); every request sends
an explicit Accept (with none, Virtuoso answers HTML); an HTML or otherwise unexpected answer
is a StoreError, never a result. The default graph is the union of DiploKG's own graphs only:
each query names them as the protocol dataset (default-graph-uri and named-graph-uri), so the
engine's system graphs and our bookkeeping graph stay out of the answers. Above
`max_dataset_graphs` graphs the engine's own default graph is used instead (see docs/stores.md).
"""

from __future__ import annotations

import http.client
import io
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from rdflib import BNode, Dataset, Graph, URIRef
from rdflib.plugins.sparql.processor import SPARQLResult
from rdflib.query import Result
from rdflib.term import Node

from graph.dumps import dataset_digest, load_build
from graph.errors import (
    DEFAULT_ALLOWED_SERVICES,
    QuerySyntaxError,
    ReadOnlyStore,
    StoreError,
    StoreUnavailable,
)
from graph.formats import QueryForm
from graph.loading import new_dataset, parse_into
from graph.namespaces import sparql_prologue
from graph.stores.analysis import QueryInfo, inspect_query, parse
from graph.stores.base import QueryResult, Store
from graph.stores.memory import RdflibResult

log = logging.getLogger(__name__)

#: The graph where the store records what it loaded (never part of the service dataset).
STATE_GRAPH = "urn:x-diplokg:load-state"
_DIGEST = "urn:x-diplokg:digest"
_GRAPH = "urn:x-diplokg:graph"
_TRIPLES = "urn:x-diplokg:triples"

_SOLUTIONS_ACCEPT = "application/sparql-results+json"
_GRAPH_ACCEPT = "text/turtle"
#: GET is used up to this URL length; longer requests are form POSTs.
MAX_GET_URL = 4000


class RemoteStore(Store):
    """A SPARQL 1.1 query endpoint (and optionally its update endpoint) over HTTP."""

    name: ClassVar[str] = "remote"

    def __init__(
        self,
        query_url: str,
        update_url: str | None = None,
        *,
        timeout: float = 60.0,
        chunk_triples: int = 1_000,
        max_dataset_graphs: int = 500,
        allowed_services: Sequence[str] = DEFAULT_ALLOWED_SERVICES,
    ) -> None:
        self.query_url = query_url
        self.update_url = update_url
        self.timeout = timeout
        self.chunk_triples = chunk_triples
        self.max_dataset_graphs = max_dataset_graphs
        self.allowed_services = tuple(allowed_services)
        _allow_headers(max_dataset_graphs * 2 + 100)
        self._graphs: list[str] = []
        self._triples = 0
        self.reused = False

    # --- loading ---------------------------------------------------------------------

    def load_dataset(self, source: Path | Dataset) -> None:
        digest = dataset_digest(source)
        state = self._read_state()
        self.reused = state is not None and state[0] == digest
        if self.reused and state is not None:
            _, self._graphs, self._triples = state
            log.info("remote store at %s already holds this dataset", self.query_url)
            return
        if self.update_url is None:
            raise ReadOnlyStore(
                f"{self.query_url} does not hold this dataset and no update URL was given to load it"
            )
        ds = _dataset(source)
        old_graphs = state[1] if state is not None else []
        graphs = sorted(
            str(g.identifier) for g in ds.graphs() if len(g) and isinstance(g.identifier, URIRef)
        )
        drops = [
            f"DROP SILENT GRAPH <{iri}>" for iri in sorted({*old_graphs, *graphs, STATE_GRAPH})
        ]
        for start in range(0, len(drops), 200):
            self._update(" ;\n".join(drops[start : start + 200]))
        self._insert_all(ds, graphs)
        # What `SELECT (COUNT(*) ...)` over the default graph counts when each graph is named in
        # the dataset: a triple stated in two graphs counts twice (Virtuoso, Oxigraph).
        triples = sum(1 for _ in ds.quads((None, None, None, None)))
        facts = [f"<{STATE_GRAPH}> <{_DIGEST}> {json.dumps(digest)}"]
        facts += [f"<{STATE_GRAPH}> <{_GRAPH}> <{iri}>" for iri in graphs]
        facts.append(f'<{STATE_GRAPH}> <{_TRIPLES}> "{triples}"')
        for start in range(0, len(facts), self.chunk_triples):
            part = " .\n".join(facts[start : start + self.chunk_triples])
            self._update(f"INSERT DATA {{ GRAPH <{STATE_GRAPH}> {{ {part} }} }}")
        self._graphs, self._triples = graphs, triples
        log.info("loaded %d triples in %d graphs into %s", triples, len(graphs), self.update_url)

    def _insert_all(self, ds: Dataset, graphs: list[str]) -> None:
        """INSERT DATA with many small graphs per request, up to `chunk_triples` triples each."""
        blocks: list[str] = []
        size = 0
        for iri in graphs:
            triples = sorted(ds.graph(URIRef(iri)))
            if any(isinstance(t, BNode) for triple in triples for t in triple):
                # Blank node labels are scoped to one request, and Virtuoso refuses them in
                # INSERT DATA: such a graph goes alone, as INSERT ... WHERE {}.
                self._update(f"INSERT {{ {_block(iri, triples)} }} WHERE {{}}")
                continue
            for start in range(0, len(triples), self.chunk_triples):
                part = triples[start : start + self.chunk_triples]
                if size + len(part) > self.chunk_triples and blocks:
                    self._update(f"INSERT DATA {{ {' '.join(blocks)} }}")
                    blocks, size = [], 0
                blocks.append(_block(iri, part))
                size += len(part)
        if blocks:
            self._update(f"INSERT DATA {{ {' '.join(blocks)} }}")

    def _read_state(self) -> tuple[str, list[str], int] | None:
        query = f"SELECT ?p ?o WHERE {{ GRAPH <{STATE_GRAPH}> {{ <{STATE_GRAPH}> ?p ?o }} }}"
        result = self._select(query, {})
        digest, graphs, triples = None, [], 0
        for row in result:
            p, o = str(row[0]), row[1]  # type: ignore[index]
            if p == _DIGEST:
                digest = str(o)
            elif p == _GRAPH:
                graphs.append(str(o))
            elif p == _TRIPLES:
                triples = int(str(o))
        return (digest, sorted(graphs), triples) if digest else None

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
        if info is None:  # refuses updates and SERVICE outside the allow-list
            info = inspect_query(sparql, self.allowed_services)
        if default_graph_uris or named_graph_uris:
            dataset = (list(default_graph_uris), list(named_graph_uris))
        elif info.from_default or info.from_named:
            dataset = (list(info.from_default), list(info.from_named))
        elif len(self._graphs) <= self.max_dataset_graphs:
            dataset = (self._graphs, self._graphs)
        else:
            dataset = ([], [])
        try:
            return self._evaluate(sparql, info, dataset, max_rows)
        except QuerySyntaxError as exc:
            if exc.line is None and not info.parsed:
                parse(sparql)  # the engine refused it: rdflib's parser says where, if it can
            raise

    def _evaluate(
        self,
        sparql: str,
        info: QueryInfo,
        dataset: tuple[list[str], list[str]],
        max_rows: int | None,
    ) -> QueryResult:
        params = {"default-graph-uri": dataset[0], "named-graph-uri": dataset[1]}
        text = sparql_prologue() + sparql
        if info.form.returns_graph:
            body, _ = self._request(
                self.query_url, {"query": [text], **params}, _GRAPH_ACCEPT, ("turtle", "n-triples")
            )
            graph = Graph().parse(data=body.decode("utf-8"), format="turtle")
            truncated = max_rows is not None and len(graph) > max_rows
            if truncated:
                kept = Graph()
                for triple in sorted(graph)[:max_rows]:
                    kept.add(triple)
                graph = kept
            return RdflibResult(
                info.form, SPARQLResult({"type_": "CONSTRUCT", "graph": graph}), truncated
            )
        result = self._select(text, params)
        if info.form is QueryForm.ASK:
            res: dict[str, Any] = {"type_": "ASK", "askAnswer": bool(result.askAnswer)}
            return RdflibResult(info.form, SPARQLResult(res))
        bindings = list(result.bindings)
        truncated = max_rows is not None and len(bindings) > max_rows
        res = {"type_": "SELECT", "vars_": result.vars, "bindings": bindings[:max_rows]}
        return RdflibResult(info.form, SPARQLResult(res), truncated)

    def triple_count(self) -> int:
        return self._triples

    def add_graphs(self, graphs: set[str]) -> None:
        """Graphs created since loading (curated writes): named in the dataset of each query."""
        self._graphs = sorted(set(self._graphs) | graphs)

    def named_graphs(self) -> list[str]:
        return list(self._graphs)

    # --- HTTP --------------------------------------------------------------------------

    def _select(self, text: str, params: dict[str, list[str]]) -> Result:
        body, _ = self._request(
            self.query_url, {"query": [text], **params}, _SOLUTIONS_ACCEPT, ("json",)
        )
        try:
            return Result.parse(io.BytesIO(body), format="json")
        except (ValueError, KeyError) as exc:
            raise StoreError(f"{self.query_url} answered unreadable SPARQL JSON: {exc}") from None

    def _update(self, text: str) -> None:
        assert self.update_url is not None
        self._request(self.update_url, {"update": [text]}, _SOLUTIONS_ACCEPT, None, post=True)

    def _request(
        self,
        url: str,
        fields: dict[str, list[str]],
        accept: str,
        expect: Iterable[str] | None,
        *,
        post: bool = False,
    ) -> tuple[bytes, str]:
        encoded = urllib.parse.urlencode([(k, v) for k, vs in fields.items() for v in vs])
        headers = {"Accept": accept, "User-Agent": "DiploKG remote store"}
        if not post and len(url) + len(encoded) + 1 <= MAX_GET_URL:
            request = urllib.request.Request(f"{url}?{encoded}", headers=headers)
        else:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            request = urllib.request.Request(url, data=encoded.encode(), headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
                ctype = response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:500].decode("utf-8", errors="replace").strip()
            if exc.code == 400 and "query" in fields:
                # The engine refused the query itself (an undefined prefix, say): the client's
                # error, reported as such, not a failure of the store.
                raise QuerySyntaxError(f"the SPARQL engine refused the query: {detail}") from None
            if exc.code in (502, 503, 504):  # the engine is down or overloaded: try later
                raise StoreUnavailable(f"{url} answered HTTP {exc.code}: {detail}") from None
            raise StoreError(f"{url} answered HTTP {exc.code}: {detail}") from None
        except (OSError, ValueError) as exc:
            raise StoreUnavailable(f"{url} could not be reached: {exc}") from None
        if "html" in ctype.lower():
            raise StoreError(f"{url} answered HTML ({ctype}) instead of {accept}")
        if expect is not None and not any(e in ctype.lower() for e in expect):
            raise StoreError(f"{url} answered {ctype or 'no Content-Type'}, not {accept}")
        return body, ctype


def _block(iri: str, triples: list[tuple[Node, Node, Node]]) -> str:
    body = " .\n".join(" ".join(t.n3() for t in triple) for triple in triples)
    return f"GRAPH <{iri}> {{\n{body} .\n}}"


def _dataset(source: Path | Dataset) -> Dataset:
    if isinstance(source, Dataset):
        return source
    if source.is_file():
        ds = new_dataset()
        parse_into(ds, source)
        return ds
    return load_build(source)


def _allow_headers(count: int) -> None:
    """Let http.client read answers with `count` header lines. Virtuoso echoes one
    `X-SPARQL-default-graph` header per default-graph-uri it is given, and the standard
    library refuses a response with more than 100 headers (a guard against endless headers,
    kept at a bound that grows only with the dataset's graphs)."""
    if getattr(http.client, "_MAXHEADERS", 100) < count:
        setattr(http.client, "_MAXHEADERS", count)  # noqa: B010
