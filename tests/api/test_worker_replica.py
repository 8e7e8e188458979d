"""A query worker's replica follows the change log while it is idle, and never applies a
commit while a query holds its lock."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import Literal, URIRef

from api.worker import Replica
from graph.stores import open_store_spec
from graph.stores.base import Store
from graph.writes.delta import Delta, Patch
from graph.writes.log import ChangeLog

GRAPH = URIRef("https://w3id.org/diplokg/graph/curated-replica-test")
LABEL = URIRef("http://www.w3.org/2000/01/rdf-schema#label")


def _commit(log: ChangeLog, n: int, previous: str | None) -> str:
    node = URIRef(f"https://w3id.org/diplokg/resource/replica-test-{n}")
    commit = f"https://w3id.org/diplokg/commit/replica-test-{n}"
    delta = Delta(frozenset(), frozenset({(node, LABEL, Literal(f"replica test {n}"), GRAPH)}))
    log.append(Patch.of(commit, previous, delta))
    return commit


def _has(store: object, n: int) -> bool:
    ask = f'ASK {{ GRAPH <{GRAPH}> {{ ?s <{LABEL}> "replica test {n}" }} }}'
    return b"true" in store.query(ask).serialize("json")  # type: ignore[attr-defined]


def _within(seconds: float, condition: object) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.01)
    return False


@pytest.fixture(scope="module")
def store(built_dir: Path) -> Iterator[Store]:
    """One in-memory Oxigraph store of the seed build for the module (each test its own graph)."""
    opened = open_store_spec("oxigraph", built_dir, ())
    yield opened
    opened.close()


def test_an_idle_replica_catches_up_by_itself_and_waits_for_the_query_lock(
    store: Store, tmp_path: Path
) -> None:
    log = ChangeLog(tmp_path / "changes.rdfp")
    replica = Replica(store, log.path)
    replica.follow(every=0.01)
    first = _commit(log, 1, None)
    assert _within(5, lambda: _has(store, 1)), "the idle replica never applied the commit"
    with replica.lock:  # a query runs: nothing is applied under it
        _commit(log, 2, first)
        time.sleep(0.2)
        assert not _has(store, 2)
    assert _within(5, lambda: _has(store, 2))


def test_operations_apply_in_log_order_and_count_once(store: Store) -> None:
    """Runs of additions go in one transaction, but in log order with the removals between
    them; a quad added twice, or removed when absent, changes nothing and counts nothing."""
    import pyoxigraph as ox

    g = ox.NamedNode(str(GRAPH) + "-operations")
    q1, q2 = (
        ox.Quad(ox.NamedNode(f"urn:x:s{n}"), ox.NamedNode(str(LABEL)), ox.Literal("x"), g)
        for n in (1, 2)
    )
    before = store.triple_count()
    store.apply_operations(  # type: ignore[attr-defined]
        [("A", q1), ("A", q1), ("A", q2), ("D", q1), ("D", q1), ("A", q1), ("D", q2)]
    )
    assert store.triple_count() == before + 1
    handle = store.handle  # type: ignore[attr-defined]
    assert q1 in handle and q2 not in handle
    store.apply_operations([("D", q1)])  # type: ignore[attr-defined]
    assert store.triple_count() == before and g.value not in store.named_graphs()
