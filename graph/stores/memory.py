"""The in-memory store: rdflib's SPARQL 1.1 engine over the built dataset (contract in graph.stores.base)."""

from __future__ import annotations

import itertools
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import rdflib.plugins.sparql
from pyparsing import ParseException
from rdflib import Dataset, Graph, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.evaluate import evalPart
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.processor import SPARQLResult
from rdflib.plugins.sparql.sparql import Query, QueryContext
from rdflib.term import Node

from graph.dumps import load_build
from graph.errors import QuerySyntaxError, UnsupportedFormat
from graph.formats import RDFLIB_NAMES, QueryForm, by_name, tsv_results
from graph.loading import new_dataset
from graph.namespaces import PREFIXES
from graph.stores.analysis import QueryInfo, inspect_query, syntax_error
from graph.stores.base import QueryResult, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Prepared:
    """A parsed and translated query with its own dataset clause taken out (we apply it)."""

    form: QueryForm
    query: Query
    from_default: tuple[str, ...]
    from_named: tuple[str, ...]


class RdflibResult(QueryResult):
    """An rdflib query result, cut to `max_rows`, serialized by rdflib (TSV by graph.formats)."""

    def __init__(self, form: QueryForm, result: SPARQLResult, truncated: bool = False) -> None:
        self.form = form
        self.result = result
        self.truncated = truncated

    def serialize(self, fmt: str) -> bytes:
        spec = by_name(fmt)
        if spec is None or self.form not in spec.forms:
            raise UnsupportedFormat(self.form, fmt)
        if self.form.returns_graph:
            graph = self.result.graph
            assert graph is not None
            for name, iri in PREFIXES.items():
                graph.bind(name, iri, override=True, replace=True)
            return graph.serialize(format=RDFLIB_NAMES[spec.name], encoding="utf-8")
        if spec.name == "tsv":
            names = [str(v) for v in self.result.vars or []]
            rows: list[list[Node | None]] = [list(row) for row in self.result]  # type: ignore[arg-type]
            return tsv_results(names, rows)
        out = self.result.serialize(format=RDFLIB_NAMES[spec.name], encoding="utf-8")
        assert isinstance(out, bytes)
        return out


class MemoryStore(Store):
    """rdflib in memory; the default graph is the union of the named graphs."""

    name: ClassVar[str] = "memory"

    def __init__(self, *, prepared_cache_size: int = 512, dataset_cache_size: int = 16) -> None:
        # rdflib would otherwise fetch the IRI of a FROM / FROM NAMED graph it does not hold.
        rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False
        self._ds: Dataset = new_dataset()
        self._prepared: OrderedDict[str, _Prepared] = OrderedDict()
        self._prepared_cap = prepared_cache_size
        self._views: OrderedDict[tuple[tuple[str, ...], tuple[str, ...]], tuple[Graph, Dataset]]
        self._views = OrderedDict()
        self._views_cap = dataset_cache_size

    def load_dataset(self, source: Path | Dataset) -> None:
        ds = load_build(source) if isinstance(source, Path) else source
        ds.default_union = True
        self._ds = ds
        self._prepared.clear()
        self._views.clear()
        log.info("memory store loaded %d quads", len(ds))

    def query(
        self,
        sparql: str,
        *,
        default_graph_uris: Sequence[str] = (),
        named_graph_uris: Sequence[str] = (),
        max_rows: int | None = None,
        info: QueryInfo | None = None,
    ) -> QueryResult:
        prepared = self._prepare(sparql, info)
        if default_graph_uris or named_graph_uris:
            default, named = tuple(default_graph_uris), tuple(named_graph_uris)
        else:
            default, named = prepared.from_default, prepared.from_named
        if default or named:
            default_graph, dataset = self._view(default, named)
            ctx = QueryContext(dataset, initBindings={})
            ctx.graph = default_graph
        else:
            # graph = the union (SPARQL_DEFAULT_GRAPH_UNION); initBindings={}: rdflib's OPTIONAL
            # (LeftJoin.forget) fails on a context whose initBindings is None.
            ctx = QueryContext(self._ds, initBindings={})
            ctx.graph = self._ds
        ctx.prologue = prepared.query.prologue
        res: dict[str, Any] = dict(evalPart(ctx, prepared.query.algebra))
        truncated = False
        if max_rows is not None and prepared.form is QueryForm.SELECT:
            rows = list(itertools.islice(res["bindings"], max_rows + 1))
            truncated = len(rows) > max_rows
            res["bindings"] = rows[:max_rows]
        elif max_rows is not None and prepared.form.returns_graph:
            graph: Graph = res["graph"]
            if len(graph) > max_rows:
                kept = Graph()
                for triple in itertools.islice(graph, max_rows):
                    kept.add(triple)
                res["graph"], truncated = kept, True
        return RdflibResult(prepared.form, SPARQLResult(res), truncated)

    def triple_count(self) -> int:
        return len(set(self._ds.triples((None, None, None))))

    def named_graphs(self) -> list[str]:
        default = DATASET_DEFAULT_GRAPH_ID
        return sorted(
            str(g.identifier) for g in self._ds.graphs() if g.identifier != default and len(g)
        )

    def close(self) -> None:
        self._prepared.clear()
        self._views.clear()

    def _prepare(self, sparql: str, info: QueryInfo | None) -> _Prepared:
        cached = self._prepared.get(sparql)
        if cached is not None:
            self._prepared.move_to_end(sparql)
            return cached
        if info is None:  # refuses updates; syntax errors with their position
            info = inspect_query(sparql)
        try:
            query = translateQuery(parseQuery(sparql), initNs=PREFIXES)
        except ParseException as exc:
            raise syntax_error(exc) from None
        except Exception as exc:  # rdflib reports algebra errors (unknown prefix...) as Exception
            raise QuerySyntaxError(str(exc)) from None
        query.algebra["datasetClause"] = None  # applied by `query` from local graphs only
        prepared = _Prepared(info.form, query, info.from_default, info.from_named)
        self._prepared[sparql] = prepared
        if len(self._prepared) > self._prepared_cap:
            self._prepared.popitem(last=False)
        return prepared

    def _view(self, default: tuple[str, ...], named: tuple[str, ...]) -> tuple[Graph, Dataset]:
        """The dataset of a protocol request or FROM clause, copied from local graphs only."""
        key = (default, named)
        cached = self._views.get(key)
        if cached is not None:
            return cached
        default_graph = Graph()
        for iri in default:
            for triple in self._ds.graph(URIRef(iri)):
                default_graph.add(triple)
        dataset = new_dataset()
        for iri in named:
            target = dataset.graph(URIRef(iri))
            for triple in self._ds.graph(URIRef(iri)):
                target.add(triple)
        self._views[key] = (default_graph, dataset)
        if len(self._views) > self._views_cap:
            self._views.popitem(last=False)
        return default_graph, dataset
