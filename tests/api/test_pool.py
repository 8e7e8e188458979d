"""The query workers (api.pool, api.worker): answers of any size, typed errors, dead and runaway workers replaced."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import pickle
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from api.pool import NOTICE, Job, QueryPool, WorkerConfig
from graph import errors
from graph.errors import (
    ForbiddenService,
    NotAcceptable,
    QuerySyntaxError,
    QueryTimeout,
    UpdateRefused,
    WorkerLost,
)
from graph.formats import QueryForm

T = TypeVar("T")
BIG = "SELECT ?s ?p ?o ?t WHERE { ?s ?p ?o . ?x a ?t } LIMIT 30000"
ASK = "ASK { ?s ?p ?o }"
#: A count that takes a second or more.
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } LIMIT 3000000 }"


def job(query: str, accept: str | None = None, max_rows: int = 100_000) -> Job:
    return Job(query, accept=accept, max_rows=max_rows)


def with_pool(
    built_dir: Path, size: int, body: Callable[[QueryPool], Awaitable[T]], store: str = "memory"
) -> T:
    async def main() -> T:
        pool = QueryPool(WorkerConfig(store, built_dir, ()), size)
        await pool.start()
        try:
            return await body(pool)
        finally:
            await pool.close()

    return asyncio.run(main())


@pytest.mark.parametrize("store", ["memory", "oxigraph"])
def test_an_answer_larger_than_the_pipe_buffer_arrives_whole_beside_a_small_one(
    built_dir: Path, store: str
) -> None:
    async def body(pool: QueryPool) -> None:
        big, small = await asyncio.gather(pool.run(job(BIG), 20), pool.run(job(ASK), 20))
        assert len(big.body) > 1_000_000
        assert len(json.loads(big.body)["results"]["bindings"]) == 30000
        assert (big.form, big.format, big.truncated) == ("SELECT", "json", False)
        assert json.loads(small.body)["boolean"] is True

    with_pool(built_dir, 2, body, store)


def test_the_worker_negotiates_the_format_for_the_query_form(built_dir: Path) -> None:
    async def body(pool: QueryPool) -> None:
        graph = await pool.run(job("CONSTRUCT WHERE { ?s a ?t } LIMIT 3", "text/turtle"), 20)
        assert (graph.form, graph.format) == ("CONSTRUCT", "turtle")
        with pytest.raises(NotAcceptable):
            await pool.run(job(ASK, "text/csv"), 20)

    with_pool(built_dir, 1, body, "oxigraph")


def test_a_failing_query_comes_back_as_its_domain_error(built_dir: Path) -> None:
    async def body(pool: QueryPool) -> None:
        with pytest.raises(QuerySyntaxError):
            await pool.run(job("SELECT ?s WHERE { ?s"), 20)
        with pytest.raises(UpdateRefused):
            await pool.run(job("DROP ALL"), 20)
        with pytest.raises(ForbiddenService):
            await pool.run(job("SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"), 20)
        answer = await pool.run(job(ASK), 20)  # the worker is still usable
        assert json.loads(answer.body)["boolean"] is True

    with_pool(built_dir, 1, body, "oxigraph")


def test_a_worker_that_dies_is_reported_and_replaced(built_dir: Path) -> None:
    async def body(pool: QueryPool) -> None:
        (pid,) = pool.pids
        (worker,) = pool._all
        worker.process.kill()
        # Sent before the death is noticed, it fails; after, it waits for the replacement.
        with contextlib.suppress(WorkerLost):
            await pool.run(job(ASK), 20)
        assert pool.ready  # its replacement is starting: queries wait for it
        answer = await pool.run(job(ASK), 20)  # waits for the replacement
        assert json.loads(answer.body)["boolean"] is True
        assert pool.respawns == 1
        assert pool.pids != [pid]

    with_pool(built_dir, 1, body)


def test_a_runaway_query_is_stopped_and_the_pool_keeps_answering(built_dir: Path) -> None:
    runaway = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"

    async def body(pool: QueryPool) -> None:
        with pytest.raises(QueryTimeout):
            await pool.run(job(runaway, max_rows=10**9), 0.5)
        answer = await pool.run(job(ASK), 20)
        assert json.loads(answer.body)["boolean"] is True

    with_pool(built_dir, 2, body)


def test_a_long_parse_counts_against_the_time_limit(built_dir: Path) -> None:
    """rdflib parses a huge query for seconds in the worker; the limit still holds."""
    values = " ".join(str(i) for i in range(40_000))
    huge = f"SELECT ?x FROM <http://example.org/g> WHERE {{ VALUES ?x {{ {values} }} }}"

    async def body(pool: QueryPool) -> None:
        started = asyncio.get_running_loop().time()
        with pytest.raises(QueryTimeout):
            await pool.run(job(huge), 0.5)
        assert asyncio.get_running_loop().time() - started < 3

    with_pool(built_dir, 1, body)


@pytest.mark.parametrize(
    "error",
    [
        errors.QuerySyntaxError("bad", 2, 5),
        errors.ForbiddenService("http://x/", ["https://query.wikidata.org/sparql"]),
        errors.NotAcceptable([("json", "application/sparql-results+json")], "text/csv"),
        errors.UnsupportedFormat(QueryForm.ASK, "csv"),
        errors.QueryTimeout(1.5),
        errors.StoreUnavailable("down", 7),
        errors.WorkerLost("gone"),
        errors.RDFParseError("a.ttl", "bad", 3),
        errors.UpdateRefused("no"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_every_domain_error_survives_pickling_with_its_attributes(
    error: errors.DiploKGError,
) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert vars(copy) == vars(error)


def test_queries_are_answered_in_arrival_order(built_dir: Path) -> None:
    """First come, first served: one worker, its pipe holding the next job, and a queue."""

    async def body(pool: QueryPool) -> list[int]:
        done: list[int] = []

        async def one(n: int) -> None:
            await pool.run(job(f"ASK {{ ?s ?p {n} }}"), 20)
            done.append(n)

        tasks = [asyncio.create_task(one(n)) for n in range(8)]
        await asyncio.gather(*tasks)
        return done

    assert with_pool(built_dir, 1, body, "oxigraph") == list(range(8))


def test_a_query_waiting_behind_a_runaway_goes_to_another_worker(built_dir: Path) -> None:
    """The job already in a killed worker's pipe never started: it is sent again."""
    runaway = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"

    async def body(pool: QueryPool) -> None:
        stuck = asyncio.create_task(pool.run(job(runaway, max_rows=10**9), 0.5))
        await asyncio.sleep(0)  # the runaway is written first
        answer = await pool.run(job(ASK), 20)  # in the same worker's pipe, behind it
        assert json.loads(answer.body)["boolean"] is True
        with pytest.raises(QueryTimeout):
            await stuck
        assert pool.respawns == 1

    with_pool(built_dir, 1, body, "oxigraph")


def test_a_query_whose_time_ran_out_in_the_pipe_costs_no_worker(built_dir: Path) -> None:
    """Its worker answers QueryTimeout without running it, and is not killed for it."""

    async def body(pool: QueryPool) -> None:
        pids = pool.pids
        first = asyncio.create_task(pool.run(job(SLOW), 60))
        await asyncio.sleep(0)
        with pytest.raises(QueryTimeout):
            await pool.run(job(ASK), 0.05)  # waits in the pipe behind `slow`
        answer = await first
        assert json.loads(answer.body)["results"]["bindings"][0]["n"]["value"] == "3000000"
        after = await pool.run(job(ASK), 20)
        assert json.loads(after.body)["boolean"] is True
        assert pool.respawns == 0 and pool.pids == pids

    with_pool(built_dir, 1, body, "oxigraph")


def test_no_query_waits_behind_a_long_one_while_another_worker_answers(built_dir: Path) -> None:
    """A job is queued in a worker's pipe only behind a young job; one queued there just before
    the job it waits for grew long is sent again to the worker that frees first."""

    async def body(pool: QueryPool) -> None:
        slow = asyncio.create_task(pool.run(job(SLOW), 60))
        # Written in the same turn as `slow`: one behind it, the other to the second worker.
        behind = [asyncio.create_task(pool.run(job(f"ASK {{ ?s ?p {n} }}"), 60)) for n in (1, 2)]
        done: list[int] = []

        async def client(c: int) -> None:
            for n in range(20):
                await pool.run(job(f"ASK {{ ?s ?p {1000 * c + n} }}"), 60)
                done.append(n)

        await asyncio.gather(*behind, *(client(c) for c in range(4)))
        assert not slow.done(), "the fast queries were answered while the long one ran"
        assert len(done) == 80
        answer = await slow
        assert json.loads(answer.body)["results"]["bindings"][0]["n"]["value"] == "3000000"
        assert pool.respawns == 0

    with_pool(built_dir, 2, body, "oxigraph")


@pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="Linux scheduling policies")
def test_workers_run_as_batch_processes_so_a_job_does_not_preempt_the_server(
    built_dir: Path,
) -> None:
    async def body(pool: QueryPool) -> list[int]:
        await pool.run(job(ASK), 20)
        return [os.sched_getscheduler(pid) for pid in pool.pids]

    assert with_pool(built_dir, 2, body, "oxigraph") == [os.SCHED_BATCH] * 2
    assert os.sched_getscheduler(0) != os.SCHED_BATCH  # the server's own policy is untouched


class FakeWorker:
    """What the pool reads and writes of a worker when it hands out notices and jobs."""

    def __init__(self, applied: int = 0, jobs: int = 0) -> None:
        self.messages: list[object] = []
        self.applied = applied
        self.applying = False
        self.jobs: collections.deque[object] = collections.deque(range(jobs))

    def write(self, data: bytes) -> bool:
        self.messages.append(pickle.loads(data[8:]))
        return True


def fake_pool(*workers: FakeWorker) -> QueryPool:
    pool = QueryPool(WorkerConfig("memory", Path("unused"), ()), len(workers))
    pool._workers = list(workers)  # type: ignore[arg-type]
    return pool


def test_commits_logged_in_one_turn_make_one_notice_to_one_idle_worker_at_a_time() -> None:
    """The copies apply the log one worker at a time: a turn's commits make one notice (the
    highest number) to the idle worker furthest behind; the next worker hears once the first
    says it applied them, and a worker running a query only once it is idle again."""

    async def main() -> None:
        first, second, busy = FakeWorker(applied=1), FakeWorker(applied=0), FakeWorker(jobs=1)
        pool = fake_pool(first, second, busy)
        for number in (3, 5, 4):
            pool.committed(number)
        assert pool.logged == 5 and pool.acknowledged == 0  # acknowledged once visible
        await asyncio.sleep(0)
        assert second.messages == [(NOTICE, 5)] and second.applying
        assert first.messages == [] and busy.messages == []
        pool.committed(6)
        await asyncio.sleep(0)
        assert first.messages == []  # one at a time
        pool._applied(second, 6)  # type: ignore[arg-type]
        assert first.messages == [(NOTICE, 6)] and busy.messages == []
        pool._applied(first, 6)  # type: ignore[arg-type]
        assert busy.messages == []  # running a query
        busy.jobs.clear()
        pool._replicate()
        assert busy.messages == [(NOTICE, 6)]

    asyncio.run(main())


def test_a_query_goes_to_an_idle_worker_that_holds_what_it_must_see() -> None:
    """Of the idle workers, the first that holds the commits acknowledged before the query and
    is not applying newer ones; else one that is not applying; else one that is."""
    applying = FakeWorker(applied=9)
    applying.applying = True
    behind, current, busy = (
        FakeWorker(applied=3),
        FakeWorker(applied=7),
        FakeWorker(applied=9, jobs=1),
    )
    pool = fake_pool(busy, applying, behind, current)
    assert pool._pick(0.0, 7) is current
    assert pool._pick(0.0, 8) is behind  # it applies the log first
    pool._workers.remove(behind)  # type: ignore[arg-type]
    pool._workers.remove(current)  # type: ignore[arg-type]
    assert pool._pick(0.0, 8) is applying  # behind the notice in its pipe


def test_a_commit_is_acknowledged_once_a_worker_holds_it_or_after_the_wait() -> None:
    """visible() returns when a worker says its copy holds the commit, and only then do later
    jobs carry the commit's number; with no worker applying it, after `within` anyway."""

    async def main() -> None:
        worker = FakeWorker(applied=2)
        pool = fake_pool(worker)
        pool.committed(3)
        waiting = asyncio.ensure_future(pool.visible(3, 30))
        await asyncio.sleep(0.01)
        assert not waiting.done() and pool.acknowledged == 0
        assert worker.messages == [(NOTICE, 3)]
        pool._applied(worker, 3)  # type: ignore[arg-type]
        await asyncio.wait_for(waiting, 5)
        assert pool.acknowledged == 3 and pool._waiting == []
        await asyncio.wait_for(pool.visible(3, 30), 1)  # held already: at once
        loop = asyncio.get_running_loop()
        started = loop.time()
        await pool.visible(4, 0.05)  # never applied: acknowledged after the wait
        assert loop.time() - started >= 0.04
        assert pool.acknowledged == 4 and pool._waiting == []

    asyncio.run(main())
