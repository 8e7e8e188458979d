"""A query worker process (`python -m api.worker CONFIG_JSON`, started by api.pool): check, negotiate, run, serialize.

It opens its store, reports `("ready", StoreInfo)`, then answers each job read from standard
input (its expiry on the monotonic clock, its time limit, the number of the last commit
acknowledged when it arrived, the Job's fields as a tuple) with `("ok", *Answer's fields)` or
`("error", DiploKGError)` on its original standard output (the message format of api.pool),
and at once with QueryTimeout for a job whose time ran out while it waited; a notice that
commits were logged is answered `(APPLIED, number)` once they are applied (see Replica).
Anything a library prints goes to standard error instead. Every step of a query happens here,
against its time limit: the static checks (form, updates, SERVICE allow-list, dataset
clauses), the choice of format, evaluation and serialization.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from api.negotiation import negotiate
from api.pool import APPLIED, LENGTH, NOTICE, Answer, Job, StoreInfo, WorkerConfig, frame
from graph.errors import DiploKGError, QueryRefused, QueryTimeout, StoreError
from graph.formats import formats_for
from graph.stores import open_store_spec, parse_store_spec
from graph.stores.analysis import inspect_query
from graph.stores.base import Store


def answer(store: Store, job: Job, allowed_services: Sequence[str]) -> Answer:
    """One query, checked, evaluated and serialized in the format the client accepts."""
    info = inspect_query(job.query, allowed_services)
    fmt = negotiate(formats_for(info.form), job.accept, job.formats)
    result = store.query(
        job.query,
        default_graph_uris=job.default_graph_uris,
        named_graph_uris=job.named_graph_uris,
        max_rows=job.max_rows,
        info=info,
    )
    body = result.serialize(fmt.name)
    return Answer(str(result.form), fmt.name, body, result.truncated)


def guard_network(allowed: Sequence[str]) -> None:
    """Refuse, in this process, any URL Python code requests outside `allowed` (defence in
    depth behind the SERVICE allow-list, for engines that fetch with urllib, such as rdflib)."""
    allowed_set = frozenset(allowed)

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "urllib.Request":
            url = str(args[0]).split("?", 1)[0]
            if url not in allowed_set:
                raise PermissionError(f"fetching {url} is not allowed from a query")

    sys.addaudithook(hook)


#: The most of the change log a replica applies at once (a long log, read at start, goes in
#: parts of whole commits: memory stays bounded).
CATCH_UP_BYTES = 4 << 20


class Replica:
    """A worker's store kept up with the change log of curated writes (graph.writes.log): the
    commits logged since it last looked, applied in log order (a query never sees part of a
    commit). The server tells an idle worker when commits were logged (a notice), one worker at
    a time, and acknowledges a commit once a copy holds it (api.pool); the worker's Applier
    thread applies them while queries go on. A query applies first the commits acknowledged
    before it arrived that the copy lacks (read-your-writes: rare, as queries go first to a
    worker that holds them), and waits for no other. On a remote store the data is the store's
    own; only its list of graphs follows.

    Thread-safe: one catch-up at a time (`catch_up` waits for one under way). Commits that only
    add go in as one Oxigraph transaction, beside running queries; a part of the log that also
    removes is applied with `gate` held, which a query holds while it runs (a removal and the
    additions after it are several transactions, and a graph left empty is dropped after)."""

    def __init__(self, store: Store, path: Path) -> None:
        from graph.writes.log import LogFollower  # only a server that takes writes needs it

        self.store = store
        self.follower = LogFollower(path)
        #: Why applying the log failed, if it did (the copy lacks part of it for good).
        self.failure: str | None = None
        #: Held by a query while it runs, and by an apply that removes quads.
        self.gate = threading.Lock()
        self._applying = threading.Lock()
        #: The number of the last commit applied (the follower counts those read: more while
        #: a part of the log is being applied).
        self._applied = 0
        #: Whether the copy holds the whole log it has read since it started (its first
        #: catch-up, over a new build, may meet additions already there: applied one by one).
        self._exact = False

    def catch_up(self) -> None:
        """Apply what was logged since the last call; StoreError if that failed, now or
        before: from then on the copy answers no query."""
        with self._applying:
            if self.failure is None:
                try:
                    self._apply_new()
                    self._exact = True
                    return
                except Exception as exc:
                    self.failure = f"{type(exc).__name__}: {exc}"
        raise StoreError(
            f"this query worker's copy of the store could not apply the change log "
            f"({self.failure}); it answers no more queries"
        )

    def _apply_new(self) -> None:
        import pyoxigraph as ox

        from graph.writes.log import additions_of, operations_of

        while True:
            data = self.follower.new_transactions(CATCH_UP_BYTES)
            if data and self.store.name == "oxigraph":
                added = additions_of(data) if self._exact else None
                if added is not None:
                    self.store.add_new_quads(*added)  # type: ignore[attr-defined]
                else:
                    operations = operations_of(data)
                    with self.gate:
                        self.store.apply_operations(operations)  # type: ignore[attr-defined]
            elif data and self.store.name == "remote":
                graphs = {
                    q.graph_name.value
                    for op, q in operations_of(data)
                    if op == "A" and isinstance(q.graph_name, ox.NamedNode)
                }
                self.store.add_graphs(graphs)  # type: ignore[attr-defined]
            self._applied = self.follower.sequence
            if not self.follower.behind:
                break

    @property
    def applied(self) -> int:
        """The number of the last commit applied (read: after a failure, `failure` says the
        copy lacks part of the log)."""
        return self._applied

    def needs(self, acknowledged: int) -> bool:
        """Whether the copy must apply the log before a query that came after commit number
        `acknowledged` (or must report that it cannot)."""
        return self.applied < acknowledged or self.failure is not None


class Applier:
    """A worker's thread that applies the change log when a notice says commits were logged,
    and answers each notice with (APPLIED, the number of the last commit its copy holds).

    It runs as Linux's SCHED_IDLE, like the writer: on a busy machine the queries, the server
    and the other processes take a core from it at once, so keeping the copy current uses only
    CPU that no read wants. Oxigraph parses and inserts without Python's interpreter lock, so
    the worker's queries go on meanwhile."""

    def __init__(self, replica: Replica, send: Callable[[object], None]) -> None:
        self.replica = replica
        self.send = send
        self._notices = 0
        self._stopped = False
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="applier", daemon=True)
        self._thread.start()

    def notice(self) -> None:
        with self._wake:
            self._notices += 1
            self._wake.notify()

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
        self._thread.join()

    def _run(self) -> None:
        run_when_idle()
        while True:
            with self._wake:
                while not self._notices and not self._stopped:
                    self._wake.wait()
                if self._stopped:
                    return
                notices, self._notices = self._notices, 0
            if self.replica.failure is None:
                try:
                    self.replica.catch_up()
                except StoreError as exc:  # logged once; every query answers with it
                    logging.getLogger(__name__).error("%s", exc)
            with contextlib.suppress(BrokenPipeError, ValueError):
                for _ in range(notices):
                    self.send((APPLIED, self.replica.applied))


def run_when_idle() -> None:
    """The calling thread runs as Linux's SCHED_IDLE (elsewhere, as it was)."""
    idle = getattr(os, "SCHED_IDLE", None)
    if idle is not None:
        with contextlib.suppress(OSError):
            os.sched_setscheduler(0, idle, os.sched_param(0))


def serve(config: WorkerConfig, jobs: BinaryIO, replies: BinaryIO) -> None:
    """A worker's life: open the store, report, then answer jobs until its input closes."""
    lock = threading.Lock()  # the query loop and the Applier both reply

    def send(message: object) -> None:
        data = frame(message)
        with lock:
            replies.write(data)
            replies.flush()

    with contextlib.suppress(BrokenPipeError):  # the server went away: nothing to answer
        _serve(config, jobs, send)


def _serve(config: WorkerConfig, jobs: BinaryIO, send: Callable[[object], None]) -> None:
    try:
        _, options = parse_store_spec(config.store)
        own = [options.get("query_url"), options.get("update_url")]
        # The store may reach its own engine; queries may reach only the SERVICE allow-list.
        guard_network([*config.allowed_services, *(url for url in own if url)])
        store = open_store_spec(config.store, config.dataset, config.allowed_services)
    except DiploKGError as exc:
        send(("failed", exc))
        return
    follower = Replica(store, config.follow) if config.follow else None
    if follower is not None:
        follower.catch_up()
    send(("ready", StoreInfo(store.name, store.triple_count(), tuple(store.named_graphs()))))
    applier = Applier(follower, send) if follower is not None else None
    try:
        _answer_jobs(config, store, follower, applier, jobs, send)
    finally:
        if applier is not None:
            applier.stop()
        store.close()


def _answer_jobs(
    config: WorkerConfig,
    store: Store,
    follower: Replica | None,
    applier: Applier | None,
    jobs: BinaryIO,
    send: Callable[[object], None],
) -> None:
    gate = follower.gate if follower is not None else contextlib.nullcontext()
    while True:
        header = jobs.read(LENGTH.size)
        if len(header) < LENGTH.size:
            break
        message = pickle.loads(jobs.read(LENGTH.unpack(header)[0]))
        if message[0] == NOTICE:  # commits were logged: the Applier applies them, says how far
            if applier is not None:
                applier.notice()
            continue
        expires, limit, acknowledged, fields = message
        job = Job(*fields)
        if time.monotonic() >= expires:  # its client stopped waiting while it was queued here
            send(("error", QueryTimeout(limit)))
            continue
        try:
            if follower is not None and follower.needs(acknowledged):
                follower.catch_up()  # read-your-writes
            with gate:
                reply: tuple[object, ...] = (
                    "ok",
                    *answer(store, job, config.allowed_services).fields(),
                )
        except DiploKGError as exc:
            reply = ("error", exc)
        except PermissionError as exc:  # the network guard stopped a fetch
            reply = ("error", QueryRefused(str(exc)))
        except Exception as exc:  # a bug or an engine failure: typed, so the server maps it once
            logging.getLogger(__name__).exception("query failed")
            reply = ("error", StoreError(f"{type(exc).__name__}: {exc}"))
        send(reply)


def yield_to_the_server() -> None:
    """Run as a batch process (Linux's SCHED_BATCH): a job written to this worker no longer
    preempts the server process that wrote it, whose event loop every request passes through
    (on a busy 2-core machine that pipe write took 18% of the event loop's time, by py-spy:
    docs/benchmarks.md); with an idle core the worker still starts at once."""
    batch = getattr(os, "SCHED_BATCH", None)
    if batch is not None:
        with contextlib.suppress(OSError):
            os.sched_setscheduler(0, batch, os.sched_param(0))


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s query worker: %(message)s")
    yield_to_the_server()
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever a library prints must not corrupt the replies
    serve(WorkerConfig.from_json(argv[0]), sys.stdin.buffer, replies)


if __name__ == "__main__":
    main(sys.argv[1:])
