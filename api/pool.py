"""The query workers: child processes, each with its own store, killed when a query overruns.

Neither rdflib nor pyoxigraph can cancel a query that is running, so a query runs in a worker
process (api.worker) that the pool kills (SIGKILL) once the query's time is up; a replacement
starts in the background while the other workers keep answering. A worker that dies for any
other reason is replaced too, and only the query it held fails (WorkerLost).

Each worker is an asyncio subprocess: a job goes to its standard input and its answer comes back
on its standard output, each message a pickle preceded by its length (8 bytes, big-endian):
a Job's fields as a tuple, then ("ok", *an Answer's fields) or ("error", the DiploKGError).
Asyncio's streams read and write them without blocking the event loop, however large.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import os
import pickle
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph.errors import DatasetNotBuilt, DiploKGError, QueryTimeout, StoreError, WorkerLost

log = logging.getLogger(__name__)

#: The length prefix of every message between the pool and a worker.
LENGTH = struct.Struct("!Q")


@dataclass(frozen=True)
class Job:
    """One query for a worker: text, protocol dataset, what the client accepts, row cap."""

    query: str
    default_graph_uris: tuple[str, ...] = ()
    named_graph_uris: tuple[str, ...] = ()
    #: The request's Accept header, and its format parameters (`format`, `output`, `results`).
    accept: str | None = None
    formats: tuple[str, ...] = ()
    max_rows: int | None = None

    def fields(self) -> tuple[object, ...]:
        """What travels to the worker, in order (`Job(*fields)` rebuilds it)."""
        return (
            self.query,
            self.default_graph_uris,
            self.named_graph_uris,
            self.accept,
            self.formats,
            self.max_rows,
        )


@dataclass(frozen=True)
class Answer:
    """A worker's answer: the query form, the format chosen, the body, whether rows were cut."""

    form: str
    format: str
    body: bytes
    truncated: bool

    def fields(self) -> tuple[object, ...]:
        """What travels back from the worker, in order (`Answer(*fields)` rebuilds it)."""
        return (self.form, self.format, self.body, self.truncated)


@dataclass(frozen=True)
class StoreInfo:
    """What the service description says about the data, reported by a worker once loaded."""

    backend: str
    triples: int
    named_graphs: tuple[str, ...]


@dataclass(frozen=True)
class WorkerConfig:
    """Everything a worker needs to open its store (passed to it as JSON)."""

    store: str
    dataset: Path
    allowed_services: tuple[str, ...] = field(default=())
    #: The change log of curated writes to follow (api.writes): a worker applies the commits
    #: it has not seen before each query. None on a read-only server.
    follow: Path | None = None

    def to_json(self) -> str:
        data = {
            "store": self.store,
            "dataset": str(self.dataset),
            "allowed": self.allowed_services,
            "follow": str(self.follow) if self.follow else None,
        }
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> WorkerConfig:
        data = json.loads(text)
        follow = Path(data["follow"]) if data.get("follow") else None
        return cls(data["store"], Path(data["dataset"]), tuple(data["allowed"]), follow)


class Undelivered(Exception):
    """A job could not be written to a worker: it has gone, and never saw the job."""


def frame(message: object) -> bytes:
    """`message` as it travels between the pool and a worker."""
    payload = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
    return LENGTH.pack(len(payload)) + payload


class _Worker:
    """One `python -m api.worker` child process and its two pipes."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        assert process.stdin is not None and process.stdout is not None
        self._stdin = process.stdin
        self._stdout = process.stdout

    @classmethod
    async def spawn(cls, config: WorkerConfig) -> _Worker:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "api.worker",
            config.to_json(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def receive(self) -> Any:
        """The worker's next message; EOFError when it has gone."""
        try:
            (size,) = LENGTH.unpack(await self._stdout.readexactly(LENGTH.size))
            return pickle.loads(await self._stdout.readexactly(size))
        except asyncio.IncompleteReadError:
            raise EOFError("the query worker closed its output") from None

    @property
    def alive(self) -> bool:
        """False once the worker is known to have exited or closed a pipe."""
        return (
            self.process.returncode is None
            and not self._stdin.is_closing()
            and not self._stdout.at_eof()
        )

    async def send(self, data: bytes) -> None:
        """Write one framed message; Undelivered if the worker has gone (it never read it)."""
        try:
            self._stdin.write(data)
            await self._stdin.drain()  # returns at once unless a long query fills the pipe
        except (OSError, RuntimeError) as exc:  # uvloop: RuntimeError on a closed transport
            raise Undelivered(str(exc)) from None

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()

    async def stop(self, grace: float = 0.5) -> None:
        """Close its input (it exits by itself), then kill it if it has not."""
        with contextlib.suppress(Exception):
            self._stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), grace)
        except TimeoutError:
            self.kill()
            await self.process.wait()


class QueryPool:
    """`size` worker processes; a job goes to an idle one, a runaway's worker is killed."""

    def __init__(self, config: WorkerConfig, size: int) -> None:
        self.config = config
        self.size = size
        self.info: StoreInfo | None = None
        #: Workers started to replace a killed or dead one.
        self.respawns = 0
        #: Idle workers, and the queries waiting for one, first come first served (an
        #: asyncio.Queue is not: a query arriving as a worker frees takes it from the one woken
        #: for it, which goes to the back of the line; under load that made the p99 3x the p50).
        self._idle: collections.deque[_Worker] = collections.deque()
        self._waiting: collections.deque[asyncio.Future[_Worker]] = collections.deque()
        self._all: set[_Worker] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        #: Killed workers not yet reaped (their pipes close once they are).
        self._reaping: set[_Worker] = set()
        #: Replacements being started (queries wait for them rather than fail).
        self._starting = 0
        self._closed = False

    async def start(self) -> StoreInfo:
        """Start every worker and wait until all have loaded the store."""
        infos = await asyncio.gather(*(self._spawn() for _ in range(self.size)))
        self.info = infos[0]
        log.info(
            "%d query workers ready (%s store, %d triples, %d named graphs, pid %d)",
            self.size,
            self.info.backend,
            self.info.triples,
            len(self.info.named_graphs),
            os.getpid(),
        )
        return self.info

    async def _spawn(self) -> StoreInfo:
        worker = await _Worker.spawn(self.config)
        self._all.add(worker)
        try:
            kind, payload = await worker.receive()
        except BaseException as exc:
            self._discard(worker)
            if isinstance(exc, EOFError):
                raise StoreError("a query worker died while loading the store") from None
            raise
        if kind != "ready":
            self._discard(worker)
            if isinstance(payload, DatasetNotBuilt):
                raise payload
            raise StoreError(f"a query worker could not open the store: {payload}")
        self._release(worker)
        assert isinstance(payload, StoreInfo)
        return payload

    async def _acquire(self) -> _Worker:
        """An idle worker, once every query that asked before this one has had one."""
        if self._idle and not self._waiting:
            return self._idle.popleft()
        waiter: asyncio.Future[_Worker] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            return await waiter
        except BaseException:  # timed out or cancelled: a worker handed over meanwhile goes on
            if waiter.done() and not waiter.cancelled():
                self._release(waiter.result())
            else:
                with contextlib.suppress(ValueError):
                    self._waiting.remove(waiter)
            raise

    def _release(self, worker: _Worker) -> None:
        """Hand `worker` to the query that has waited longest, or keep it idle."""
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return
        self._idle.append(worker)

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        self._all.discard(worker)
        self._reaping.add(worker)
        self._background(self._reap(worker))

    async def _reap(self, worker: _Worker) -> None:
        await worker.process.wait()
        self._reaping.discard(worker)

    def _replace(self, worker: _Worker) -> None:
        """Kill `worker` and start a replacement in the background."""
        self._discard(worker)
        if not self._closed:
            self.respawns += 1
            self._starting += 1
            self._background(self._respawn())

    def _background(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _respawn(self) -> None:
        try:
            await self._spawn()
        except DiploKGError as exc:
            log.error("could not restart a query worker: %s", exc)
        finally:
            self._starting -= 1

    async def run(self, job: Job, timeout: float) -> Answer:
        """Evaluate `job` in a worker: its Answer, or the DiploKGError the worker raised;
        QueryTimeout after `timeout` seconds, waiting for a worker included. A worker found gone
        before it took the job is replaced and the job goes to another one."""
        message = frame(job.fields())  # a tuple pickles in a third of a dataclass's time
        worker: _Worker | None = None
        delivered = False
        try:
            async with asyncio.timeout(timeout):
                while not delivered:
                    worker = await self._acquire()
                    try:
                        if not worker.alive:
                            raise Undelivered("it had exited")
                        await worker.send(message)
                        delivered = True
                    except Undelivered as exc:
                        log.warning("a query worker had gone (pid %s): %s", worker.process.pid, exc)
                        self._replace(worker)
                        worker = None
                assert worker is not None
                reply = await worker.receive()
        except TimeoutError:
            if worker is not None:  # it holds the job (or part of it): stop it
                log.warning(
                    "query ran past %.3g s: stopping its worker (pid %s)",
                    timeout,
                    worker.process.pid,
                )
                self._replace(worker)
            raise QueryTimeout(timeout) from None
        except (EOFError, OSError) as exc:
            assert worker is not None
            log.error("a query worker died (pid %s): %s", worker.process.pid, exc)
            self._replace(worker)
            raise WorkerLost(
                "the query worker stopped before answering; it is being replaced"
            ) from None
        except BaseException:  # cancelled (the client went away): the worker's state is unknown
            if worker is not None:
                self._replace(worker)
            raise
        assert worker is not None
        self._release(worker)
        if reply[0] == "ok":
            return Answer(*reply[1:])
        error = reply[1]
        assert isinstance(error, DiploKGError)
        raise error

    @property
    def ready(self) -> bool:
        return self.info is not None and not self._closed and bool(self._all or self._starting)

    @property
    def pids(self) -> list[int]:
        """The process ids of the live workers."""
        return sorted(w.process.pid for w in self._all)

    async def close(self) -> None:
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        workers = [*self._all, *self._reaping]
        await asyncio.gather(*(w.stop() for w in workers), return_exceptions=True)
        self._all.clear()
        self._reaping.clear()
