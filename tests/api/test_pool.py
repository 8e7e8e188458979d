"""The query workers (api.pool, api.worker): answers of any size, typed errors, dead and runaway workers replaced."""

from __future__ import annotations

import asyncio
import json
import os
import pickle
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from api.pool import Job, QueryPool, WorkerConfig
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
        with pytest.raises(WorkerLost):
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


def test_idle_workers_go_to_the_queries_that_waited_longest() -> None:
    """A query arriving just as a worker frees does not take it from the one queued before it
    (an asyncio.Queue lets it, and the overtaken query goes to the back of the line)."""

    async def main() -> None:
        pool = QueryPool(WorkerConfig("memory", Path("unused"), ()), 1)
        worker = object()
        pool._release(worker)  # type: ignore[arg-type]
        first = await pool._acquire()
        waiting = asyncio.create_task(pool._acquire())
        await asyncio.sleep(0)  # it queues
        newcomer = asyncio.create_task(pool._acquire())  # scheduled before the release...
        pool._release(first)
        await asyncio.sleep(0)  # ...and run before the queued one wakes
        await asyncio.sleep(0)
        assert waiting.done() and waiting.result() is worker
        assert not newcomer.done()
        pool._release(waiting.result())
        assert await newcomer is worker

    asyncio.run(main())


def test_a_worker_handed_to_a_query_that_gave_up_goes_to_the_next() -> None:
    async def main() -> None:
        pool = QueryPool(WorkerConfig("memory", Path("unused"), ()), 1)
        worker = object()
        pool._release(worker)  # type: ignore[arg-type]
        first = await pool._acquire()
        gave_up = asyncio.create_task(pool._acquire())
        timed_out = asyncio.create_task(asyncio.wait_for(pool._acquire(), 0.01))
        patient = asyncio.create_task(pool._acquire())
        await asyncio.sleep(0.05)
        with pytest.raises(TimeoutError):
            await timed_out
        pool._release(first)  # handed to `gave_up`, which is cancelled before it runs
        gave_up.cancel()
        assert await patient is worker
        assert not pool._waiting and not pool._idle

    asyncio.run(main())


@pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="Linux scheduling policies")
def test_workers_run_as_batch_processes_so_a_job_does_not_preempt_the_server(
    built_dir: Path,
) -> None:
    async def body(pool: QueryPool) -> list[int]:
        await pool.run(job(ASK), 20)
        return [os.sched_getscheduler(pid) for pid in pool.pids]

    assert with_pool(built_dir, 2, body, "oxigraph") == [os.SCHED_BATCH] * 2
    assert os.sched_getscheduler(0) != os.SCHED_BATCH  # the server's own policy is untouched
