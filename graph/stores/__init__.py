"""SPARQL stores behind one interface (graph.stores.base): memory, oxigraph, remote."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from rdflib import Dataset

from graph.errors import StoreError
from graph.stores.base import QueryResult, Store

__all__ = [
    "STORE_CLASSES",
    "QueryResult",
    "Store",
    "open_store",
    "open_store_spec",
    "parse_store_spec",
    "store_class",
]

#: How a store is named on the command line and in DIPLOKG_STORE.
STORE_SPEC_HELP = "oxigraph[:DIR], memory (or rdflib) or sparql:QUERY_URL[,UPDATE_URL]"

#: Backend name -> "module:Class"; modules are imported only when their backend is asked for.
STORE_CLASSES: dict[str, str] = {
    "memory": "graph.stores.memory:MemoryStore",
    "oxigraph": "graph.stores.oxigraph:OxigraphStore",
    "remote": "graph.stores.remote:RemoteStore",
}


def store_class(kind: str) -> type[Store]:
    """The Store class registered under `kind`; StoreError if unknown or not importable."""
    try:
        module_name, _, class_name = STORE_CLASSES[kind].partition(":")
    except KeyError:
        known = ", ".join(sorted(STORE_CLASSES))
        raise StoreError(f"unknown store {kind!r}: use one of {known}") from None
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise StoreError(f"store {kind!r} is not available: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, Store)):
        raise StoreError(f"{STORE_CLASSES[kind]} is not a Store")
    return cls


def open_store(kind: str, source: Path | Dataset | None = None, **options: Any) -> Store:
    """A new store of backend `kind` (`options` go to its constructor), loaded from `source`."""
    store = store_class(kind)(**options)
    if source is not None:
        store.load_dataset(source)
    return store


def parse_store_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """`memory`, `oxigraph[:DIR]` or `sparql:QUERY_URL[,UPDATE_URL]` -> (backend, constructor options).

    `oxigraph` without a directory keeps the store in memory; `rdflib` names the memory store
    (rdflib's engine); `remote:` is accepted for `sparql:`.
    """
    kind, _, rest = spec.strip().partition(":")
    kind = kind.lower()
    if kind in ("memory", "rdflib") and not rest:
        return "memory", {}
    if kind == "oxigraph":
        return "oxigraph", ({"path": rest} if rest else {})
    if kind in ("sparql", "remote") and rest:
        query_url, _, update_url = (part.strip() for part in rest.partition(","))
        for url in (query_url, update_url):
            if url and not url.startswith(("http://", "https://")):
                raise StoreError(f"store {spec!r}: {url!r} is not an http(s) URL")
        return "remote", {"query_url": query_url, "update_url": update_url or None}
    raise StoreError(f"unknown store {spec!r}: use {STORE_SPEC_HELP}")


def open_store_spec(
    spec: str, source: Path | Dataset | None = None, allowed_services: tuple[str, ...] = ()
) -> Store:
    """A store named by a spec (see parse_store_spec), loaded from `source`.

    Backends that evaluate SERVICE themselves get the allow-list; the memory store is guarded by
    the caller's check and by the worker's network guard.
    """
    kind, options = parse_store_spec(spec)
    if kind != "memory" and allowed_services:
        options["allowed_services"] = allowed_services
    return open_store(kind, source, **options)
