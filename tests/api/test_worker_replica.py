"""A query worker's replica follows the change log between queries: a query sees every commit
acknowledged before it arrived and waits for no other, an idle worker applies what a notice
announces and says how far its copy is, a long log goes in parts, and a copy that cannot apply
the log stops answering."""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from rdflib import Literal, URIRef

import api.worker
from api.pool import APPLIED, NOTICE, Job, WorkerConfig, frame
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


@pytest.fixture(scope="module")
def store(built_dir: Path) -> Iterator[Store]:
    """One in-memory Oxigraph store of the seed build for the module (each test its own graph)."""
    opened = open_store_spec("oxigraph", built_dir, ())
    yield opened
    opened.close()


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


def test_new_commits_that_only_add_go_in_as_one_transaction_beside_queries(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After its first catch-up a copy adds a part of the log that only adds in one Oxigraph
    load, without the gate that queries hold; a part that removes is applied with the gate
    held. The number applied moves only once the part is in (a query that checks it meanwhile
    applies the part itself, after the one under way)."""
    log = ChangeLog(tmp_path / "changes.rdfp")
    head = _append(log, None, {_label(61)})
    replica = Replica(store, log.path)
    replica.catch_up()  # the first: applied one operation at a time
    assert replica.applied == 1 and _has(store, 61)
    seen: list[tuple[str, int, bool]] = []
    real_add, real_apply = store.add_new_quads, store.apply_operations  # type: ignore[attr-defined]

    def add(nquads: bytes, count: int) -> None:
        seen.append(("load", replica.applied, replica.gate.locked()))
        real_add(nquads, count)

    def apply(operations: list[object]) -> None:
        seen.append(("operations", replica.applied, replica.gate.locked()))
        real_apply(operations)

    monkeypatch.setattr(store, "add_new_quads", add)
    monkeypatch.setattr(store, "apply_operations", apply)
    before = store.triple_count()
    head = _append(log, head, {_label(62)})
    head = _append(log, head, {_label(63)})
    replica.catch_up()
    assert seen == [("load", 1, False)] and replica.applied == 3
    assert _has(store, 62) and _has(store, 63) and store.triple_count() == before + 2
    _append(log, head, {_label(64)}, removed={_label(62)})
    replica.catch_up()
    assert seen[1:] == [("operations", 3, True)] and replica.applied == 4
    assert _has(store, 64) and not _has(store, 62) and store.triple_count() == before + 2


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="Linux scheduling policies")
def test_the_applier_runs_when_idle_and_answers_each_notice(store: Store, tmp_path: Path) -> None:
    """The Applier's thread is SCHED_IDLE (the worker's own thread is untouched), applies the
    log on a notice and answers it with the number its copy holds; stopped, it ends."""
    log = ChangeLog(tmp_path / "changes.rdfp")
    _append(log, None, {_label(71)})
    replica = Replica(store, log.path)
    replies: queue.Queue[object] = queue.Queue()
    applier = api.worker.Applier(replica, replies.put)
    try:
        applier.notice()
        assert replies.get(timeout=30) == (APPLIED, 1)
        assert _has(store, 71)
        native = applier._thread.native_id
        assert native is not None and os.sched_getscheduler(native) == os.SCHED_IDLE
        assert os.sched_getscheduler(0) != os.SCHED_IDLE
    finally:
        applier.stop()
    assert not applier._thread.is_alive()


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


def test_a_query_sees_the_commits_acknowledged_before_it_and_waits_for_no_other(
    built_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker (api.worker's loop, in a thread) applies the log before a job only as far as
    the job's acknowledged commit number asks, and as far as a notice says while idle; a copy
    that failed to apply the log answers every later query with the reason."""
    # An audit hook cannot be removed: in this process it would refuse every later fetch.
    monkeypatch.setattr(api.worker, "guard_network", lambda allowed: None)
    log = ChangeLog(tmp_path / "changes.rdfp")
    head = _append(log, None, {_label(11)})
    config = WorkerConfig("oxigraph", built_dir, (), follow=log.path)
    read_end, write_end = os.pipe()
    replies: queue.Queue[tuple[object, ...]] = queue.Queue()
    with os.fdopen(read_end, "rb") as jobs, os.fdopen(write_end, "wb") as out:
        worker = threading.Thread(target=api.worker._serve, args=(config, jobs, replies.put))
        worker.start()
        assert replies.get(timeout=60)[0] == "ready"

        def send(message: object) -> None:
            out.write(frame(message))
            out.flush()

        def ask(n: int, acknowledged: int) -> tuple[object, ...]:
            query = f'ASK {{ GRAPH <{GRAPH}> {{ ?s <{LABEL}> "replica test {n}" }} }}'
            job = Job(query, (), (), "application/sparql-results+json", (), None)
            send((time.monotonic() + 30, 30.0, acknowledged, job.fields()))
            return replies.get(timeout=30)

        def has(n: int, acknowledged: int) -> bool:
            reply = ask(n, acknowledged)
            assert reply[0] == "ok", reply
            return b"true" in reply[3]  # type: ignore[operator]

        assert has(11, 1)  # in the log before the worker started
        head = _append(log, head, {_label(12)})
        assert not has(12, 1)  # logged, not acknowledged yet: the query does not wait for it
        assert has(12, 2)  # acknowledged: applied first
        head = _append(log, head, {_label(13)})
        send((NOTICE, 3))  # applied while idle, and said so
        assert replies.get(timeout=30) == (APPLIED, 3)
        assert has(13, 0)
        with log.path.open("a") as f:
            f.write(f"H id <urn:x:c4> .\nH prev <{head}> .\nTX .\nA <urn:x:s> not-a-term .\nTC .\n")
        send((NOTICE, 4))
        assert replies.get(timeout=30)[0] == APPLIED
        failed = ask(11, 0)
        assert failed[0] == "error" and isinstance(failed[1], StoreError)
        assert "could not apply the change log" in str(failed[1])
        out.close()
        worker.join(timeout=30)
    assert not worker.is_alive() and replies.empty()
