"""Store specs as given to `diplokg serve --store` / DIPLOKG_STORE."""

from __future__ import annotations

import pytest

from graph.errors import StoreError
from graph.stores import parse_store_spec


@pytest.mark.parametrize(
    ("spec", "kind", "options"),
    [
        ("memory", "memory", {}),
        ("oxigraph", "oxigraph", {}),
        ("oxigraph:/var/lib/diplokg", "oxigraph", {"path": "/var/lib/diplokg"}),
        (
            "sparql:http://127.0.0.1:8890/sparql",
            "remote",
            {"query_url": "http://127.0.0.1:8890/sparql", "update_url": None},
        ),
        (
            "sparql:http://h/query,http://h/update",
            "remote",
            {"query_url": "http://h/query", "update_url": "http://h/update"},
        ),
        (
            "remote:https://h/sparql",
            "remote",
            {"query_url": "https://h/sparql", "update_url": None},
        ),
    ],
)
def test_store_spec_names_backend_and_options(
    spec: str, kind: str, options: dict[str, object]
) -> None:
    assert parse_store_spec(spec) == (kind, options)


@pytest.mark.parametrize(
    "spec", ["", "fuseki", "memory:x", "sparql:", "sparql:ftp://h/sparql", "sparql:/etc/passwd"]
)
def test_bad_store_spec_is_refused_with_the_accepted_forms(spec: str) -> None:
    with pytest.raises(StoreError, match="store"):
        parse_store_spec(spec)
