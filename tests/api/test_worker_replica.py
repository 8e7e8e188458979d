"""A query worker's replica follows the change log: each catch-up is one transaction (no query
sees part of a commit, and none waits for one it need not see), and a query sees every commit
acknowledged before it arrived."""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest
from rdflib import BNode, Literal, URIRef

import api.worker
from api.pool import Job, WorkerConfig, frame
from api.worker import Replica
from graph.errors import StoreError
from graph.stores import open_store_spec
from graph.stores.base import Store
from graph.writes.delta import Delta, Patch, Quad
from graph.writes.log import ChangeLog

GRAPH = URIRef("https://w3id.org/diplokg/graph/curated-replica-test")
LABEL = URIRef("http://www.w3.org/2000/01/rdf-schema#label")


def _label(n: int) -> Quad:
    node = URIRef(f"https://w3id.org/diplokg/resource/replica-test-{n}")
    return (node, LABEL, Literal(f"replica test {n}"), GRAPH)


def _append(
    log: ChangeLog, previous: str | None, added: Iterable[Quad], removed: Iterable[Quad] = ()
) -> str:
    commit = f"https://w3id.org/diplokg/commit/replica-test-{len(log) + 1}"
    log.append(Patch.of(commit, previous, Delta(frozenset(removed), frozenset(added))))
    return commit


def _has(store: object, n: int) -> bool:
    ask = f'ASK {{ GRAPH <{GRAPH}> {{ ?s <{LABEL}> "replica test {n}" }} }}'
    return b"true" in store.query(ask).serialize("json")  # type: ignore[attr-defined]


def _within(seconds: float, condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


@pytest.fixture(scope="module")
def store(built_dir: Path) -> Iterator[Store]:
    """One in-memory Oxigraph store of the seed build for the module (each test its own graph)."""
    opened = open_store_spec("oxigraph", built_dir, ())
    yield opened
    opened.close()


def test_an_idle_replica_catches_up_by_itself_even_while_a_query_runs(
    store: Store, tmp_path: Path
) -> None:
    log = ChangeLog(tmp_path / "changes.rdfp")
    replica = Replica(store, log.path)
    replica.follow(every=0.01)
    try:
        first = _append(log, None, {_label(1)})
        assert _within(5, lambda: _has(store, 1)), "the idle replica never applied the commit"
        assert replica.applied == 1
        with replica.reading:  # a query runs: a commit without blank nodes is one transaction
            _append(log, first, {_label(2)})
            assert _within(5, lambda: _has(store, 2))
            assert replica.applied == 2
    finally:
        replica.stop()


def test_a_catch_up_removing_a_blank_node_waits_for_the_running_query(
    store: Store, tmp_path: Path
) -> None:
    """A blank node cannot be named in an update, so a catch-up that removes one is applied
    step by step, and only while no query runs (adding one is a plain `extend`)."""
    blank = (BNode("replica-b1"), LABEL, Literal("replica test 3"), GRAPH)
    log = ChangeLog(tmp_path / "changes.rdfp")
    replica = Replica(store, log.path)
    replica.follow(every=0.01)
    try:
        with replica.reading:
            head = _append(log, None, {blank})
            assert _within(5, lambda: _has(store, 3))
            _append(log, head, {_label(4)}, {blank})
            time.sleep(0.3)
            assert _has(store, 3) and not _has(store, 4) and replica.applied == 1
        assert _within(5, lambda: _has(store, 4) and not _has(store, 3))
        assert replica.applied == 2
    finally:
        replica.stop()


def test_no_query_sees_part_of_a_catch_up(store: Store, tmp_path: Path) -> None:
    """Commits move 200 facts between two graphs (one graph emptied, so dropped, the other
    filled); queries run meanwhile, in another thread, and count both: each sees the facts in
    one graph or the other, never split, never doubled."""
    first, second = (URIRef(f"{GRAPH}-move-{n}") for n in (1, 2))
    facts = [
        (URIRef(f"https://w3id.org/diplokg/resource/move-{n}"), LABEL, Literal(n))
        for n in range(200)
    ]
    log = ChangeLog(tmp_path / "changes.rdfp")
    replica = Replica(store, log.path)
    head = _append(log, None, {(*f, first) for f in facts})
    replica.catch_up()
    replica.follow(every=0.001)
    count = f"""SELECT ?g (COUNT(*) AS ?n) WHERE {{
        VALUES ?g {{ <{first}> <{second}> }} GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g"""
    seen: set[tuple[tuple[str, str], ...]] = set()
    queries = 0
    stop = threading.Event()

    def read() -> None:
        nonlocal queries
        while not stop.is_set():
            rows = store.handle.query(count)  # type: ignore[attr-defined]
            seen.add(tuple(sorted((r["g"].value, r["n"].value) for r in rows)))
            queries += 1

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(30):
            source, target = (first, second) if n % 2 == 0 else (second, first)
            head = _append(log, head, {(*f, target) for f in facts}, {(*f, source) for f in facts})
            time.sleep(0.005)
        assert _within(10, lambda: replica.applied == 31)
    finally:
        replica.stop()
        stop.set()
        reader.join()
    assert seen <= {((str(first), "200"),), ((str(second), "200"),)}, seen
    assert queries > 30
    graphs = store.named_graphs()
    assert str(first) in graphs and str(second) not in graphs  # the emptied graph is gone


def test_no_query_sees_part_of_a_catch_up_that_only_adds(store: Store, tmp_path: Path) -> None:
    """The usual catch-up (commits that only add) goes in one `extend`: queries meanwhile see
    whole commits of 150 facts each."""
    graph = URIRef(f"{GRAPH}-grow")
    log = ChangeLog(tmp_path / "changes.rdfp")
    replica = Replica(store, log.path)
    replica.follow(every=0.001)
    count = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    seen: set[int] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.add(int(next(iter(store.handle.query(count)))["n"].value))  # type: ignore[attr-defined]

    reader = threading.Thread(target=read)
    reader.start()
    head = None
    try:
        for n in range(30):
            facts = [
                (URIRef(f"https://w3id.org/diplokg/resource/grow-{n}-{k}"), LABEL, Literal(k))
                for k in range(150)
            ]
            head = _append(log, head, {(*f, graph) for f in facts})
            time.sleep(0.005)
        assert _within(10, lambda: replica.applied == 30)
    finally:
        replica.stop()
        stop.set()
        reader.join()
    assert all(n % 150 == 0 for n in seen), sorted(seen)
    assert len(seen) > 2


def test_a_long_log_is_applied_in_parts_of_whole_commits(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api.worker, "CATCH_UP_BYTES", 600)
    log = ChangeLog(tmp_path / "changes.rdfp")
    head = None
    for n in range(20, 40):
        head = _append(log, head, {_label(n)})
    replica = Replica(store, log.path)
    replica.catch_up()
    assert replica.applied == 20 and not replica.follower.behind
    assert all(_has(store, n) for n in range(20, 40))


def test_a_log_that_cannot_be_applied_stops_the_copy_answering(
    store: Store, tmp_path: Path
) -> None:
    """A replica that failed to apply part of the log lacks it for good: every later catch-up
    (each query's) fails with the reason, rather than answer from that copy."""
    log = ChangeLog(tmp_path / "changes.rdfp")
    replica = Replica(store, log.path)
    log.path.write_text("H id <urn:x:c1> .\nTX .\nA <urn:x:s> <urn:x:p> not-a-term .\nTC .\n")
    with pytest.raises(StoreError, match="could not apply the change log"):
        replica.catch_up()
    _append(log, "urn:x:c1", {_label(5)})
    with pytest.raises(StoreError, match="could not apply the change log"):
        replica.catch_up()
    assert replica.failure is not None and not _has(store, 5)


def test_operations_apply_in_log_order_and_count_once(store: Store) -> None:
    """Each quad ends as its last operation says; a quad added twice, or removed when absent,
    changes nothing and counts nothing; a graph left empty is gone."""
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


def test_any_term_goes_through_the_update_text_and_back(store: Store) -> None:
    """The transaction is SPARQL text: literals with quotes, backslashes, line ends, control
    characters, a backslash before `u`, language tags and datatypes, in the default graph and a
    named one, are added and removed exactly."""
    import pyoxigraph as ox

    p = ox.NamedNode("urn:x:p")
    objects = [
        ox.Literal('say "hi"\n\tand\r\\ go\b\f'),
        ox.Literal("a\\u0041 is not A"),
        ox.Literal("control \x01\x7f and 😀 é"),
        ox.Literal("chat", language="fr"),
        ox.Literal("01", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
        ox.NamedNode("urn:x:o?a=b&c=%20#frag"),
    ]
    graphs = [ox.DefaultGraph(), ox.NamedNode(str(GRAPH) + "-terms")]
    quads = [
        ox.Quad(ox.NamedNode(f"urn:x:term-{i}"), p, o, g)
        for i, o in enumerate(objects)
        for g in graphs
    ]
    before = store.triple_count()
    store.apply_operations([("A", q) for q in quads])  # type: ignore[attr-defined]
    handle = store.handle  # type: ignore[attr-defined]
    assert all(q in handle for q in quads)
    assert store.triple_count() == before + len(quads)
    store.apply_operations([("D", q) for q in quads])  # type: ignore[attr-defined]
    assert not any(q in handle for q in quads)
    assert store.triple_count() == before


def test_a_query_sees_the_commits_acknowledged_before_it_and_waits_for_no_other(
    built_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker (api.worker's loop, in a thread, its follower thread off) applies the log
    before a job only as far as the job's acknowledged commit number asks."""
    monkeypatch.setattr(Replica, "follow", lambda self, every=0.0: None)
    # An audit hook cannot be removed: in this process it would refuse every later fetch.
    monkeypatch.setattr(api.worker, "guard_network", lambda allowed: None)
    log = ChangeLog(tmp_path / "changes.rdfp")
    head = _append(log, None, {_label(11)})
    config = WorkerConfig("oxigraph", built_dir, (), follow=log.path)
    read_end, write_end = os.pipe()
    replies: queue.Queue[object] = queue.Queue()
    with os.fdopen(read_end, "rb") as jobs, os.fdopen(write_end, "wb") as out:
        worker = threading.Thread(target=api.worker._serve, args=(config, jobs, replies.put))
        worker.start()
        assert replies.get(timeout=60)[0] == "ready"  # type: ignore[index]

        def ask(n: int, acknowledged: int) -> bool:
            query = f'ASK {{ GRAPH <{GRAPH}> {{ ?s <{LABEL}> "replica test {n}" }} }}'
            job = Job(query, (), (), "application/sparql-results+json", (), None)
            out.write(frame((time.monotonic() + 30, 30.0, acknowledged, job.fields())))
            out.flush()
            reply = replies.get(timeout=30)
            assert reply[0] == "ok", reply  # type: ignore[index]
            return b"true" in reply[3]  # type: ignore[index]

        assert ask(11, 1)  # in the log before the worker started
        _append(log, head, {_label(12)})
        assert not ask(12, 1)  # logged, not acknowledged yet: the query does not wait for it
        assert ask(12, 2)  # acknowledged: applied first
        out.close()
        worker.join(timeout=30)
    assert not worker.is_alive()
