"""The writer process (`python -m api.writer CONFIG_JSON`, started by api.writes): the one process
that holds the store read-write and commits (graph.writes.repository).

It opens the store (`oxigraph:DIR` read-write, or a remote store's update endpoint), repairs it
from the change log (`Repository.recover`), reports `("ready", WriterInfo)`, then answers each
batch of WriteRequests read from standard input with `("ok", [CommitResult or DiploKGError,
...])`, in the message format of api.pool. Batches come one at a time: commits are serialized
here, and a batch shares one log write (group commit).
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import pickle
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from rdflib.namespace import RDFS

from api.pool import LENGTH, frame
from graph.dumps import dataset_digest
from graph.errors import DiploKGError, StoreError
from graph.stores import parse_store_spec
from graph.writes.backends import OxigraphBackend
from graph.writes.check import CommitCheck
from graph.writes.delta import Quad
from graph.writes.log import ChangeLog
from graph.writes.repository import Repository, WriteRequest


@dataclass(frozen=True)
class WriterConfig:
    """What the writer needs: the store spec, the build, the change log, the LOAD allow-list."""

    store: str
    dataset: Path
    log: Path
    allowed_urls: tuple[str, ...] = ()
    max_changes: int = 500_000

    def to_json(self) -> str:
        return json.dumps(
            {
                "store": self.store,
                "dataset": str(self.dataset),
                "log": str(self.log),
                "allowed": list(self.allowed_urls),
                "max_changes": self.max_changes,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> WriterConfig:
        data = json.loads(text)
        return cls(
            data["store"],
            Path(data["dataset"]),
            Path(data["log"]),
            tuple(data["allowed"]),
            int(data["max_changes"]),
        )


@dataclass(frozen=True)
class WriterInfo:
    """What the writer reports once ready: the dataset's ETag, the head commit, what recovery did."""

    etag: str
    head: str | None
    triples: int
    replayed: int
    already_present: int


def open_repository(config: WriterConfig) -> tuple[Repository, WriterInfo]:
    """The repository over the configured store, recovered from its change log. The change
    log is this process's alone from here on (ChangeLog.hold), taken before the store opens
    so that a second server on the same store or log is told why it cannot start."""
    kind, options = parse_store_spec(config.store)
    changes = ChangeLog(config.log)
    if kind in ("oxigraph", "remote"):
        changes.hold()
    digest = dataset_digest(config.dataset)
    if kind == "oxigraph" and "path" in options:
        from graph.stores.oxigraph import OxigraphStore

        store = OxigraphStore(options["path"], writable=True)
        store.load_dataset(config.dataset)
        backend = OxigraphBackend(store.handle)
        rebuilt = not store.reused
        triples = len(store.handle)
    elif kind == "remote" and options.get("update_url"):
        from graph.stores.remote import RemoteStore
        from graph.writes.backends import RemoteBackend

        remote = RemoteStore(options["query_url"], options["update_url"])
        remote.load_dataset(config.dataset)
        backend = RemoteBackend(remote)  # type: ignore[assignment]
        rebuilt = not remote.reused
        triples = remote.triple_count()
    else:
        raise StoreError(
            f"store {config.store!r} cannot be written: writes need oxigraph:DIR or "
            "sparql:QUERY_URL,UPDATE_URL"
        )
    # The class hierarchy the shapes are read with: the served data's, and the ontology's (so
    # that a dataset served without its ontology graph is still checked as the build checks).
    hierarchy = [
        *backend.quads(None, RDFS.subClassOf, None, None, any_graph=True),
        *ontology_hierarchy(),
    ]
    check = CommitCheck(hierarchy=hierarchy)
    repository = Repository(
        backend,
        changes,
        check,
        build_tag=digest,
        triples=triples,
        allowed_urls=config.allowed_urls,
        max_changes=config.max_changes,
    )
    recovery = repository.recover(rebuilt)
    info = WriterInfo(
        repository.etag,
        repository.head,
        repository.triples,
        recovery.replayed,
        recovery.already_present,
    )
    return repository, info


def ontology_hierarchy() -> list[Quad]:
    """The rdfs:subClassOf triples of the ontology files (ontology/*.ttl), as quads."""
    from rdflib import URIRef

    from graph.loading import ontology_subclasses

    return [(URIRef(s), RDFS.subClassOf, URIRef(o), None) for s, o in ontology_subclasses()]


def serve(config: WriterConfig, jobs: BinaryIO, replies: BinaryIO) -> None:
    def send(message: object) -> None:
        replies.write(frame(message))
        replies.flush()

    with contextlib.suppress(BrokenPipeError):
        _serve(config, jobs, send)


def _serve(config: WriterConfig, jobs: BinaryIO, send: Callable[[object], None]) -> None:
    try:
        repository, info = open_repository(config)
    except DiploKGError as exc:
        send(("failed", exc))
        return
    except Exception as exc:  # a store that cannot open: reported, typed
        logging.getLogger(__name__).exception("the writer could not start")
        send(("failed", StoreError(f"{type(exc).__name__}: {exc}")))
        return
    # What start-up made (the shapes, the ontology's terms, the modules) lives as long as the
    # writer: out of the collector's sight, so that a full collection walks only what commits
    # made since (a walk over it all stopped the writer for 0.3 s at a time).
    gc.collect()
    gc.freeze()
    # With oxigraph:DIR the query workers read replicas that follow the change log, so a write
    # is answered once logged, and the store catches up in a thread while the next batch is
    # checked (Repository.apply_in_background). A remote store's readers read the store
    # itself: there a write is answered once applied.
    if isinstance(repository.backend, OxigraphBackend):
        repository.apply_in_background()
    send(("ready", info))
    while True:
        header = jobs.read(LENGTH.size)
        if len(header) < LENGTH.size:
            break
        kind, payload = pickle.loads(jobs.read(LENGTH.unpack(header)[0]))
        try:
            if kind == "batch":
                assert all(isinstance(r, WriteRequest) for r in payload)
                reply: tuple[object, ...] = ("ok", repository.commit_batch(list(payload)))
            elif kind == "patch":
                reply = ("ok", repository.patch_of(payload))
            else:
                reply = ("error", StoreError(f"unknown writer request {kind!r}"))
        except DiploKGError as exc:
            reply = ("error", exc)
        except Exception as exc:
            logging.getLogger(__name__).exception("write failed")
            reply = ("error", StoreError(f"{type(exc).__name__}: {exc}"))
        send(reply)
    repository.drain()  # the server closed our input: leave the store whole


#: The writer's scheduling priority below the server's and the query workers' (os.nice), where
#: the system has no SCHED_IDLE (see run_in_the_background).
WRITER_NICENESS = 5


def run_in_the_background() -> None:
    """When the machine is busy, reads go first and writes take what is left: the writer runs
    as Linux's SCHED_IDLE, so that the server and a query worker woken by a request take a
    core from it at once (as nice 5, a woken worker waited 0.7-1.0 ms on average for one
    beside 4 writers, and the reads' p99 rose; docs/benchmarks.md). Its commits still run
    on every moment of CPU that no read wants. Elsewhere, a lower priority (os.nice)."""
    idle = getattr(os, "SCHED_IDLE", None)
    if idle is not None:
        with contextlib.suppress(OSError):
            os.sched_setscheduler(0, idle, os.sched_param(0))
            return
    with contextlib.suppress(OSError):
        os.nice(WRITER_NICENESS)


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s writer: %(message)s")
    run_in_the_background()
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    serve(WriterConfig.from_json(argv[0]), sys.stdin.buffer, replies)


if __name__ == "__main__":
    # Run as the imported module, not as __main__: what it pickles (WriterInfo, CommitResult)
    # must name classes the server can import.
    from api.writer import main as run

    run(sys.argv[1:])
