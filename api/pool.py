"""The query workers: child processes, each with its own store, killed when a query overruns.

Neither rdflib nor pyoxigraph can cancel a query that is running, so a query runs in a worker
process (api.worker) that the pool kills (SIGKILL) once the query's time is up; a replacement
starts in the background while the other workers keep answering. A worker that dies for any
other reason is replaced too, and only the query it was running fails (WorkerLost).

Queries are handed to workers first come, first served, each worker holding up to DEPTH jobs:
the one it runs and the next, already in its pipe, so that it never idles waiting for the
server's event loop. An idle worker is chosen first; a job goes behind another only while that
one is young (PIPELINE_WINDOW_S), and one caught behind a job that grew long is sent again to
the first free worker. A job a killed worker never started goes to another worker (queries are
read-only). One task per worker reads its replies, in order.

Each worker is an asyncio subprocess: a job goes to its standard input and its answer comes back
on its standard output, each message a pickle preceded by its length (8 bytes, big-endian):
(expiry on the monotonic clock, time limit, the number of the last commit acknowledged, a Job's
fields as a tuple), then ("ok", *an Answer's fields) or ("error", the DiploKGError). A worker
answers QueryTimeout at once for a job whose time was up before it read it. Asyncio's streams
read and write the messages without blocking the event loop, however large. On a server that
takes writes, the pool also writes (NOTICE, number) to an idle worker when commits were
logged: the worker applies the change log that far (api.worker.Replica) and answers
(APPLIED, the number of the last commit its copy holds). One worker applies at a time, and a
query goes first to an idle worker that holds the commits acknowledged before it came.
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
import time
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
    #: The change log of curated writes to follow (api.writes): a worker applies its commits
    #: as they come, and before a query those acknowledged before it. None on a read-only
    #: server.
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


def frame(message: object) -> bytes:
    """`message` as it travels between the pool and a worker."""
    payload = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
    return LENGTH.pack(len(payload)) + payload


#: The first item of a notice to a worker that commits were logged, and of its reply
#: once it has applied them (with the number of the last commit its copy holds).
NOTICE = "log"
APPLIED = "applied"
#: Jobs a worker holds at once: the one it runs and the next, already in its pipe, so that it
#: never waits for the server's event loop between two queries (with one job at a time, each
#: worker idled ~70% of the time at 64 connections while queries queued for it).
DEPTH = 2
#: A job is put in a busy worker's pipe only while the job that worker runs is this young: a
#: job behind a long query would wait for all of it. One already waiting behind a job that has
#: grown old is sent again to the first worker that is free (queries are read-only: whichever
#: answer comes first is the one used).
PIPELINE_WINDOW_S = 0.005
#: The least time a job has once its worker starts on it: one whose time ran out while it
#: waited in the pipe is answered at once with QueryTimeout by the worker, which is not
#: killed for it.
EXPIRED_GRACE_S = 0.1


@dataclass(eq=False)
class _Sent:
    """A query handed to the pool: its message, the future of the worker's reply, and when its
    time is up (on the event loop's clock)."""

    message: bytes
    reply: asyncio.Future[Any]
    deadline: float
    timeout: float
    #: When its worker started on it (it became the first of the worker's jobs).
    started: float | None = None
    #: Sent again to another worker, which answers it for both (see QueryPool._steal).
    stolen: bool = False
    #: The number of the last commit acknowledged when it came: its worker applies that far
    #: first.
    acknowledged: int = 0


class _Worker:
    """One `python -m api.worker` child process, its two pipes, and the jobs written to it."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        assert process.stdin is not None and process.stdout is not None
        self._stdin = process.stdin
        self._stdout = process.stdout
        #: Jobs written to it, in order: it runs the first; the others wait in its pipe.
        self.jobs: collections.deque[_Sent] = collections.deque()
        #: Kills it when the job it runs is out of time.
        self.watchdog: asyncio.TimerHandle | None = None
        #: Set once the pool gave up on it (killed, or found dead): it takes no more jobs.
        self.lost = False
        #: A second look, once the job it runs is no longer young, at the job waiting behind it.
        self.recheck: asyncio.TimerHandle | None = None
        #: The number of the last commit its copy holds, as it last said (see QueryPool._replicate).
        self.applied = 0
        #: A notice was written to it and it has not said yet that it applied it.
        self.applying = False

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

    def cancel_timers(self) -> None:
        for timer in (self.watchdog, self.recheck):
            if timer is not None:
                timer.cancel()

    @property
    def alive(self) -> bool:
        """False once the process is known to have exited or closed a pipe."""
        return (
            self.process.returncode is None
            and not self._stdin.is_closing()
            and not self._stdout.at_eof()
        )

    async def send(self, data: bytes) -> None:
        """Write one framed message and wait until the pipe takes it (the writer's protocol:
        one request, then its reply)."""
        self._stdin.write(data)
        await self._stdin.drain()

    def write(self, data: bytes) -> bool:
        """Queue one framed message to its input (never blocks: the transport keeps what the
        pipe cannot take yet); False if the worker has gone."""
        if not self.alive:
            return False
        try:
            self._stdin.write(data)
        except (OSError, RuntimeError):  # uvloop: RuntimeError on a closed transport
            return False
        return True

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
    """`size` worker processes; queries go to them in arrival order, a runaway's worker is
    killed, and a dead one is replaced."""

    def __init__(self, config: WorkerConfig, size: int) -> None:
        self.config = config
        self.size = size
        self.info: StoreInfo | None = None
        #: Workers started to replace a killed or dead one.
        self.respawns = 0
        #: The number of the last commit acknowledged to a writer (graph.writes): each job
        #: carries it, and its worker applies the change log at least that far before running
        #: it (a client that saw its write succeed reads it).
        self.acknowledged = 0
        #: The number of the last commit in the change log, which the workers' copies follow.
        self.logged = 0
        #: Commits waiting to be acknowledged until a worker's copy holds them (see visible).
        self._waiting: list[tuple[int, asyncio.Future[None]]] = []
        self._notice_due = False
        #: Queries not yet written to a worker, in arrival order.
        self._queue: collections.deque[_Sent] = collections.deque()
        #: Workers that take jobs.
        self._workers: list[_Worker] = []
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
        assert isinstance(payload, StoreInfo)
        self._workers.append(worker)
        self._background(self._read(worker))
        self._dispatch()
        self._replicate()  # it says how far its copy is, and catches up if behind
        return payload

    def committed(self, number: int) -> None:
        """Commit `number` is in the change log (durable): the workers' copies apply it in the
        background, one worker at a time (see _replicate)."""
        self.logged = max(self.logged, number)
        if not self._notice_due:
            self._notice_due = True
            asyncio.get_running_loop().call_soon(self._replicate)

    async def visible(self, number: int, within: float) -> None:
        """Wait until a worker's copy holds commit `number`, `within` seconds at most, then count
        it acknowledged: later jobs carry it. A commit is acknowledged to its writer once this
        returns, so that the queries sent after it find a worker that holds it (see _pick)
        rather than apply it first; after `within` (every worker busy with long queries) it is
        acknowledged anyway, and the queries after it apply it themselves."""
        if number > max((w.applied for w in self._workers), default=0):
            entry = (number, asyncio.get_running_loop().create_future())
            self._waiting.append(entry)
            try:
                async with asyncio.timeout(within):
                    await entry[1]
            except TimeoutError:
                pass
            finally:
                with contextlib.suppress(ValueError):
                    self._waiting.remove(entry)
        self.acknowledged = max(self.acknowledged, number)

    def _applied(self, worker: _Worker, number: int) -> None:
        """`worker` said its copy holds every commit up to `number`."""
        worker.applied, worker.applying = number, False
        if self._waiting:
            waiting = []
            for entry in self._waiting:
                if entry[0] <= number:
                    if not entry[1].done():
                        entry[1].set_result(None)
                else:
                    waiting.append(entry)
            self._waiting = waiting
        self._replicate()

    def _replicate(self) -> None:
        """Tell one idle worker whose copy is behind to apply the change log (a notice), unless
        one is doing so already. One at a time, so that another worker is always there for a
        query, holding every commit acknowledged before it arrived but the newest; a worker that
        is running a query hears of the commits once it has answered. Called once per turn of
        the event loop in which commits were logged, and whenever a worker answers."""
        self._notice_due = False
        behind = None
        for worker in self._workers:
            if worker.applying:
                return
            if (
                worker.applied < self.logged
                and not worker.jobs
                and (behind is None or worker.applied < behind.applied)
            ):
                behind = worker
        if behind is not None and behind.write(frame((NOTICE, self.logged))):
            behind.applying = True  # a worker gone is found by its reader

    # --- handing out jobs ------------------------------------------------------------

    async def run(self, job: Job, timeout: float) -> Answer:
        """Evaluate `job` in a worker: its Answer, or the DiploKGError the worker raised;
        QueryTimeout after `timeout` seconds, waiting for a worker included."""
        loop = asyncio.get_running_loop()
        # A tuple pickles in a third of a dataclass's time.
        acknowledged = self.acknowledged
        message = frame((time.monotonic() + timeout, timeout, acknowledged, job.fields()))
        sent = _Sent(
            message, loop.create_future(), loop.time() + timeout, timeout, acknowledged=acknowledged
        )
        self._queue.append(sent)
        self._dispatch()
        try:
            async with asyncio.timeout_at(sent.deadline):
                reply = await asyncio.shield(sent.reply)
        except TimeoutError:
            self._abandon(sent)
            raise QueryTimeout(timeout) from None
        except asyncio.CancelledError:  # the client went away: its worker goes on
            self._abandon(sent)
            raise
        if reply[0] == "ok":
            return Answer(*reply[1:])
        error = reply[1]
        assert isinstance(error, DiploKGError)
        raise error

    def _dispatch(self) -> None:
        """Write waiting queries, oldest first, to idle workers, then behind young jobs; then
        let idle workers take over jobs stuck behind old ones."""
        now = asyncio.get_running_loop().time()
        while self._queue:
            worker = self._pick(now, self._queue[0].acknowledged)
            if worker is None:
                break
            sent = self._queue.popleft()
            if not self._hand(worker, sent):
                self._queue.appendleft(sent)  # first in line still, for the next worker
                self._lose(worker, "it had exited")  # dispatches again
                return
        self._steal(now)

    def _pick(self, now: float, acknowledged: int) -> _Worker | None:
        """An idle worker (the first of them that holds the commits `acknowledged` asks for and is
        not applying newer ones, else one that is not applying, else any), or one whose running
        job is young enough to queue behind."""
        best, rank = None, 3
        for worker in self._workers:
            if not worker.jobs:
                r = 2 if worker.applying else 0 if worker.applied >= acknowledged else 1
                if r == 0:
                    return worker
                if r < rank:
                    best, rank = worker, r
        if best is not None:
            return best
        for worker in self._workers:
            if len(worker.jobs) < DEPTH and self._young(worker.jobs[0], now):
                return worker
        return None

    @staticmethod
    def _young(running: _Sent, now: float) -> bool:
        return running.started is not None and now - running.started < PIPELINE_WINDOW_S

    def _hand(self, worker: _Worker, sent: _Sent) -> bool:
        """Write `sent` to `worker`; False if it has gone (the caller gives it up)."""
        if not worker.write(sent.message):
            return False
        worker.jobs.append(sent)
        if len(worker.jobs) == 1:
            self._watch(worker)
        elif worker.recheck is None:  # once its running job is old, look again
            assert worker.jobs[0].started is not None
            loop = asyncio.get_running_loop()
            when = worker.jobs[0].started + PIPELINE_WINDOW_S
            worker.recheck = loop.call_at(when, self._recheck, worker)
        return True

    def _recheck(self, worker: _Worker) -> None:
        worker.recheck = None
        self._dispatch()

    def _steal(self, now: float) -> None:
        """Send each job waiting behind an old one again, to an idle worker."""
        for idle in [w for w in self._workers if not w.jobs]:
            stuck = next(
                (
                    waiting
                    for w in self._workers
                    for waiting in list(w.jobs)[1:]
                    if not waiting.stolen
                    and not waiting.reply.done()
                    and not self._young(w.jobs[0], now)
                ),
                None,
            )
            if stuck is None:
                return
            copy = _Sent(stuck.message, stuck.reply, stuck.deadline, stuck.timeout)
            if not self._hand(idle, copy):
                self._lose(idle, "it had exited")  # dispatches again
                return
            stuck.stolen = True

    def _abandon(self, sent: _Sent) -> None:
        """The client stopped waiting for `sent`: never send it, or let its worker's reply
        go (the watchdog stops the worker if it runs on past its time)."""
        if not sent.reply.done():
            sent.reply.cancel()
        with contextlib.suppress(ValueError):
            self._queue.remove(sent)

    # --- the workers' side -----------------------------------------------------------

    async def _read(self, worker: _Worker) -> None:
        """Read `worker`'s replies, in the order of its jobs, until it goes."""
        try:
            while True:
                reply = await worker.receive()
                if reply[0] == APPLIED:
                    self._applied(worker, reply[1])
                    continue
                sent = worker.jobs.popleft()
                if not sent.reply.done():
                    sent.reply.set_result(reply)
                self._watch(worker)
                self._dispatch()
                if not worker.jobs and worker.applied < self.logged:
                    self._replicate()
        except Exception as exc:  # gone (EOF), or a message that does not read: replaced
            self._lose(worker, str(exc) or type(exc).__name__)

    def _watch(self, worker: _Worker) -> None:
        """Arm `worker`'s watchdog for the job it now runs."""
        if worker.watchdog is not None:
            worker.watchdog.cancel()
            worker.watchdog = None
        if worker.jobs and not worker.lost:
            running = worker.jobs[0]
            loop = asyncio.get_running_loop()
            if running.started is None:
                running.started = loop.time()
            when = max(running.deadline, loop.time() + EXPIRED_GRACE_S)
            worker.watchdog = loop.call_at(when, self._expire, worker, running)

    def _expire(self, worker: _Worker, running: _Sent) -> None:
        if worker.lost or not worker.jobs or worker.jobs[0] is not running:
            return
        log.warning(
            "query ran past %.3g s: stopping its worker (pid %s)",
            running.timeout,
            worker.process.pid,
        )
        if not running.reply.done():
            running.reply.set_exception(QueryTimeout(running.timeout))
        self._lose(worker, "its query ran out of time", logged=True)

    def _lose(self, worker: _Worker, why: str, *, logged: bool = False) -> None:
        """Give up on `worker` (killed, or found dead): the query it ran fails with
        WorkerLost, the ones waiting in its pipe go back to the front of the line, and a
        replacement starts."""
        if worker.lost:
            return
        worker.lost = True
        worker.cancel_timers()
        with contextlib.suppress(ValueError):
            self._workers.remove(worker)
        jobs = list(worker.jobs)
        worker.jobs.clear()
        if jobs and not jobs[0].reply.done():
            log.error("a query worker died (pid %s): %s", worker.process.pid, why)
            jobs[0].reply.set_exception(
                WorkerLost("the query worker stopped before answering; it is being replaced")
            )
        elif not self._closed and not logged:
            log.warning("a query worker had gone (pid %s): %s", worker.process.pid, why)
        self._queue.extendleft(
            reversed([s for s in jobs[1:] if not s.reply.done() and not s.stolen])
        )
        self._replace(worker)
        self._dispatch()
        self._replicate()  # in case it was the one applying

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
        for sent in self._queue:
            if not sent.reply.done():
                sent.reply.set_exception(StoreError("the server is shutting down"))
        self._queue.clear()
        workers = [*self._all, *self._reaping]
        for worker in workers:
            worker.lost = True
            worker.cancel_timers()
        await asyncio.gather(*(w.stop() for w in workers), return_exceptions=True)
        self._all.clear()
        self._reaping.clear()
