"""The one writer: a request becomes a Delta, is checked, logged, applied, in that order.

`Repository.commit` evaluates a write request against an Overlay of the store (nothing visible
yet), refuses it if it changes a protected graph, too many quads, or breaks the shapes, appends
the commit's RDF Patch (the change and its PROV record) to the change log and waits for the disk,
and only then applies it to the store (or, after `apply_in_background`, hands it to a thread
that does, while the next batch is checked over it). A crash before the log write loses a
request that was never acknowledged; a crash after it is repaired by `recover`, which applies the
logged commits the store does not have. Requests are serialized by the caller (one writer
process).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from rdflib import URIRef
from rdflib.namespace import RDF

from graph.errors import DiploKGError
from graph.namespaces import DK, ONTOLOGY_IRI
from graph.writes.backends import Backend
from graph.writes.check import CheckOutcome, CommitCheck, Neighbourhood
from graph.writes.commits import Commit, commit_iri, is_commit_graph, new_id, now
from graph.writes.delta import Delta, Patch
from graph.writes.log import ChangeLog
from graph.writes.overlay import Base, Overlay
from graph.writes.update import (
    GraphOperation,
    UpdateFailed,
    UpdateRequest,
    run_graph_operation,
    run_update,
    skolem,
)

log = logging.getLogger(__name__)

#: Graphs the build writes and the endpoint never does: the ontology and the VoID description.
BUILD_GRAPHS = frozenset({ONTOLOGY_IRI, URIRef("https://w3id.org/diplokg/graph/void")})
#: New graphs a POST to the Graph Store creates are named under this IRI.
CURATED_GRAPHS = "https://w3id.org/diplokg/graph/curated/"


class ShapesViolation(DiploKGError):
    """The commit would break the shapes: refused (409) with the SHACL report."""

    def __init__(self, outcome: CheckOutcome, report_nquads: bytes, report_turtle: bytes) -> None:
        self.report = outcome.report
        self.report_nquads = report_nquads
        self.report_turtle = report_turtle
        super().__init__(
            f"the change was refused: it breaks the shapes ({outcome.report.summary()}); "
            "nothing was written"
        )


class PreconditionFailed(DiploKGError):
    """If-Match named a state of the dataset that is no longer current (412)."""

    def __init__(self, current: str, given: str) -> None:
        self.current = current
        self.given = given
        super().__init__(
            f"the dataset has changed: its ETag is {current}, the request's If-Match was {given}"
        )


class ProtectedGraph(DiploKGError):
    """The request would change a graph the server maintains (403)."""

    def __init__(self, graph: str) -> None:
        self.graph = graph
        super().__init__(
            f"the graph <{graph}> cannot be written through the endpoint "
            "(the ontology comes from the build; commit records are written by the server)"
        )


class TooManyChanges(DiploKGError):
    """A request that would change more quads than one commit may (413)."""

    def __init__(self, changes: int, limit: int) -> None:
        self.changes = changes
        self.limit = limit
        super().__init__(f"the request would change {changes} quads; one commit may change {limit}")


class CommitNotFound(DiploKGError):
    def __init__(self, commit_id: str) -> None:
        self.commit_id = commit_id
        super().__init__(f"no commit {commit_id!r} in the change log")


class ReplayConflict(DiploKGError):
    """The change log does not fit a new build: replaying it breaks the shapes."""


@dataclass(frozen=True)
class WriteRequest:
    """One write, as the server hands it to the writer."""

    agent: str
    update: UpdateRequest | None = None
    graph: GraphOperation | None = None
    #: POST to the Graph Store itself: a new graph is created (its body in `graph`).
    new_graph: bool = False
    revert: str | None = None
    message: str | None = None
    source: str | None = None
    if_match: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommitResult:
    """What a write did: its commit (None when it changed nothing) and the dataset's new ETag."""

    commit: Commit | None
    etag: str
    created: bool = False
    graph: str | None = None
    focus_nodes: int = 0
    triples: int = 0
    #: Milliseconds per step (evaluate, check, log, apply).
    timings: dict[str, float] = field(default_factory=dict)
    #: The named graphs the commit changed: True if it holds triples after it, False if gone.
    graphs: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Recovery:
    """What `recover` found: commits applied again, and quads already in place."""

    replayed: int
    already_present: int
    head: str | None


def is_protected(graph: URIRef | None) -> bool:
    return graph is not None and (graph in BUILD_GRAPHS or is_commit_graph(graph))


class Repository:
    """The writable store, its change log and the commit check."""

    def __init__(
        self,
        backend: Backend,
        changes: ChangeLog,
        check: CommitCheck,
        *,
        build_tag: str,
        triples: int,
        allowed_urls: tuple[str, ...] = (),
        max_changes: int = 500_000,
    ) -> None:
        self.backend = backend
        self.changes = changes
        self.check = check
        check.forget()  # what it kept was read from another store
        self.build_tag = build_tag
        self.triples = triples
        self.allowed_urls = allowed_urls
        self.max_changes = max_changes
        self.head: str | None = None
        #: True while a logged commit has not reached the store (it failed to apply).
        self.unapplied = False
        #: The number of the last commit in the log.
        self.sequence = 0
        #: Batches logged but not yet applied to the store, oldest first (background applying):
        #: the next batch is evaluated over the last of them, which stands on the ones before.
        self._pending: deque[Overlay] = deque()
        self._chain = threading.Lock()
        self._applier: queue.Queue[tuple[Overlay, Delta]] | None = None

    def apply_in_background(self) -> None:
        """From now on a batch is applied to the store by a thread of its own: `commit_batch`
        returns once its commits are logged (durable, and what the replicas read), while the
        store catches up behind it and the next batch is evaluated and checked. At most one
        batch waits to be applied (`commit_batch` waits for room), so the writer is never more
        than two batches ahead of its store."""
        if self._applier is None:
            self._applier = queue.Queue(maxsize=1)
            threading.Thread(target=self._apply_loop, name="applier", daemon=True).start()

    def drain(self) -> None:
        """Wait until every logged batch has been applied (or has failed to be)."""
        if self._applier is not None:
            self._applier.join()

    def _base(self) -> Base:
        """What a new batch stands on: the last batch not yet applied, or the store."""
        with self._chain:
            return self._pending[-1] if self._pending else self.backend

    def _apply_loop(self) -> None:
        assert self._applier is not None
        while True:
            batch, delta = self._applier.get()
            try:
                if not self.unapplied:  # after a failure, recovery applies the rest in order
                    mark = time.perf_counter()
                    self.backend.apply(delta.removed, delta.added)
                    log.debug("batch applied in %.1f ms", _ms(mark))
                    with self._chain:
                        assert self._pending[0] is batch
                        self._pending.popleft()
                        if self._pending:  # the next batch now stands on the store itself
                            self._pending[0].base = self.backend
            except DiploKGError as exc:
                self.unapplied = True
                log.error("a logged batch could not be applied yet: %s", exc)
            except Exception:  # never lose the thread: the next commit recovers from the log
                self.unapplied = True
                log.exception("a logged batch could not be applied yet")
            finally:
                self._applier.task_done()

    @property
    def etag(self) -> str:
        return f'"{self.head}"' if self.head else f'"build-{self.build_tag[:16]}"'

    # --- start-up --------------------------------------------------------------------

    def recover(self, rebuilt: bool) -> Recovery:
        """Bring the store up to the change log. After a crash (`rebuilt` False), apply the
        logged commits the store lacks. On a store just loaded from a build, replay the whole
        log, checking the result against the shapes first (ReplayConflict if it breaks them)."""
        patches = self.changes.recover()
        self.head = _id(patches[-1].id) if patches else None
        self.sequence = len(patches)
        if not patches:
            return Recovery(0, 0, None)
        present = {
            str(q[0]) for q in self.backend.quads(None, RDF.type, DK.Commit, None, any_graph=True)
        }
        missing = [p for p in patches if p.id not in present]
        if not missing:
            return Recovery(0, 0, self.head)
        overlay = Overlay(self.backend)
        already = 0
        for patch in missing:
            for op, quad in patch.operations:
                if overlay.contains(quad) == (op == "A"):
                    already += 1  # in place already: the build holds it, or it was applied
                elif op == "A":
                    overlay.add(quad)
                else:
                    overlay.remove(quad)
        delta = overlay.delta()
        if rebuilt:
            data = Delta(
                frozenset(q for q in delta.removed if not is_commit_graph(q[3])),
                frozenset(q for q in delta.added if not is_commit_graph(q[3])),
            )
            outcome = self.check.check(data, overlay)
            if not outcome.report.conforms:
                raise ReplayConflict(
                    "the change log no longer fits the build: replaying its "
                    f"{len(missing)} commit(s) breaks the shapes.\n{outcome.report.text()}\n"
                    "Export the changes (diplokg changes export), resolve them in the sources, "
                    f"and move {self.changes.path} aside before serving this build."
                )
        self.check.forget()
        self.backend.apply(delta.removed, delta.added)
        self.triples += len(delta.added) - len(delta.removed)
        log.info(
            "change log: %d commit(s) applied to the store (%d change(s) already in place)",
            len(missing),
            already,
        )
        return Recovery(len(missing), already, self.head)

    # --- commits ---------------------------------------------------------------------

    def commit(self, request: WriteRequest) -> CommitResult:
        """One request, one commit: its result, or the DiploKGError that refused it."""
        [outcome] = self.commit_batch([request])
        if isinstance(outcome, DiploKGError):
            raise outcome
        return outcome

    def commit_batch(self, requests: list[WriteRequest]) -> list[CommitResult | DiploKGError]:
        """Several requests, in order, each its own commit checked on the data as the ones
        before it left it; then one log write (one fsync) and one store update for all that
        were accepted (group commit). Each request's outcome: its result or its refusal.
        A failure to apply, after the log write, fails every accepted request of the batch
        (applied in the background, they are answered already): they are in the log and reach
        the store before the next commit or on the next start."""
        if self.unapplied:  # logged but not applied earlier: apply it now
            self.drain()
            with self._chain:
                self._pending.clear()
            self.recover(rebuilt=False)
            self.unapplied = False
        clock = time.perf_counter()
        base = self._base()
        batch = Overlay(base)
        prepared = self._checked_together(requests, batch) if len(requests) > 1 else None
        if prepared is None:
            batch = Overlay(base)
            prepared = [self._try(request, batch) for request in requests]
        outcomes = [outcome for outcome, _ in prepared]
        patches = [patch for _, patch in prepared if patch is not None]
        if not patches:
            return outcomes
        mark = time.perf_counter()
        self.changes.append_all(patches)
        logged = _ms(mark)
        total = batch.delta()
        # Nothing read of these nodes before this batch may serve a later one (the nodes of
        # batches not yet applied are read through them, never from what was kept).
        self.check.forget({q[0] for q in (*total.removed, *total.added)})
        applied: float | None = None
        if self._applier is not None:
            with self._chain:
                # What the batch stood on may have been applied while it was evaluated: it
                # then stands on the store, or every later batch would read through it, and
                # the chain of overlays would grow by one a batch for as long as the store
                # keeps up (measured: 186 deep after 600 commits, 15 ms a commit).
                if batch.base is not self.backend and all(
                    p is not batch.base for p in self._pending
                ):
                    batch.base = self.backend
                self._pending.append(batch)
            self._applier.put((batch, total))  # waits while another batch waits already
        else:
            mark = time.perf_counter()
            try:
                self.backend.apply(total.removed, total.added)
            except DiploKGError as exc:
                # Logged, not applied: applied before the next commit, or on the next start
                # (recover); the replicas that follow the log see it now. Never lost.
                self.unapplied = True
                log.error("%d logged commit(s) could not be applied yet: %s", len(patches), exc)
                return [exc if isinstance(o, CommitResult) and o.commit else o for o in outcomes]
            applied = _ms(mark)
        done = [o for o in outcomes if isinstance(o, CommitResult) and o.commit is not None]
        for outcome in done:
            outcome.timings.update(log=logged, total=_ms(clock))
            if applied is not None:
                outcome.timings["apply"] = applied
        if done:  # one line a batch: who committed what, and where the time went
            t = done[0].timings
            log.info(
                "%d commit(s) in %.1f ms (evaluate %.1f, check %.1f a commit; log %.1f; apply %s): %s",
                len(done), t["total"], t.get("evaluate", 0.0), t.get("check", 0.0), logged,
                "in the background" if applied is None else f"{applied:.1f}",
                ", ".join(
                    f"{o.commit.id} by {o.commit.agent} -{o.commit.removed} +{o.commit.added}"
                    for o in done if o.commit is not None
                ),
            )  # fmt: skip
        return outcomes

    def _try(
        self, request: WriteRequest, batch: Overlay
    ) -> tuple[CommitResult | DiploKGError, Patch | None]:
        try:
            return self._prepare(request, batch)
        except DiploKGError as exc:
            return exc, None

    def _checked_together(
        self, requests: list[WriteRequest], batch: Overlay
    ) -> list[tuple[CommitResult | DiploKGError, Patch | None]] | None:
        """A batch checked in one pass, when that is the same as checking each commit on what
        the ones before it left: every request evaluates without error or If-Match, and no
        commit changes a node another commit's check reads. Then the neighbourhoods are
        disjoint, each commit's is as the batch leaves it, and one small store and one run of
        the shapes' queries judge them all. None (check one by one) otherwise, or if any
        focus node may violate a shape (the one-by-one check then says which commit)."""
        if any(r.if_match for r in requests):
            return None
        evaluated: list[tuple[WriteRequest, bool, str | None, str, Delta]] = []
        started, clock = now(), time.perf_counter()
        try:
            for request in requests:
                overlay = Overlay(batch)
                created, graph, operation = self._evaluate(request, overlay)
                delta = overlay.delta()
                self._admissible(delta)
                for quad in delta.removed:
                    batch.remove(quad)
                for quad in delta.added:
                    batch.add(quad)
                evaluated.append((request, created, graph, operation, delta))
        except DiploKGError:
            return None
        evaluate_ms = _ms(clock) / len(requests)
        mark = time.perf_counter()
        parts = [self.check.gather(d, batch) for *_, d in evaluated if d]
        changed = [{q[0] for q in (*d.removed, *d.added)} for *_, d in evaluated if d]
        for i, part in enumerate(parts):
            if any(part.nodes & other for j, other in enumerate(changed) if j != i):
                return None
        if parts and not self.check.judge(Neighbourhood.merge(parts)).report.conforms:
            return None
        check_ms = _ms(mark) / len(requests)
        focus_counts = iter([len(p.focus) for p in parts])
        out: list[tuple[CommitResult | DiploKGError, Patch | None]] = []
        for request, created, graph, operation, delta in evaluated:
            timings = {"evaluate": evaluate_ms, "check": check_ms}
            if not delta:
                result = CommitResult(None, self.etag, created, graph, triples=self.triples)
                result.timings.update(timings)
                out.append((result, None))
                continue
            focus = next(focus_counts)
            result, patch = self._record(
                request, delta, created, graph, operation, focus, batch, started
            )
            result.timings.update(timings)
            out.append((result, patch))
        return out

    def _admissible(self, delta: Delta) -> None:
        """Refuse a change to a protected graph, to a default graph the store lacks, or of
        more quads than one commit may change."""
        for quad in (*delta.removed, *delta.added):
            if is_protected(quad[3]):
                raise ProtectedGraph(str(quad[3]))
        if not self.backend.default_graph and any(
            q[3] is None for q in (*delta.removed, *delta.added)
        ):
            raise UpdateFailed(
                "this store has no default graph of its own (a remote store answers over all of "
                "its graphs): name the graph to write, with GRAPH <...> or ?graph="
            )
        size = len(delta.removed) + len(delta.added)
        if size > self.max_changes:
            raise TooManyChanges(size, self.max_changes)

    def _prepare(self, request: WriteRequest, batch: Overlay) -> tuple[CommitResult, Patch | None]:
        """Evaluate and check one request over `batch` (the store as the batch's earlier
        commits left it); accepted, fold its change and record into `batch` and advance the
        head. Nothing is written here."""
        started, clock = now(), time.perf_counter()
        timings: dict[str, float] = {}
        if request.if_match and "*" not in request.if_match and self.etag not in request.if_match:
            raise PreconditionFailed(self.etag, ", ".join(request.if_match))
        overlay = Overlay(batch)
        created, graph, operation = self._evaluate(request, overlay)
        delta = overlay.delta()
        timings["evaluate"] = _ms(clock)
        self._admissible(delta)
        if not delta:
            result = CommitResult(None, self.etag, created, graph, triples=self.triples)
            result.timings.update(timings)
            return result, None
        mark = time.perf_counter()
        outcome = self.check.check(delta, overlay)
        timings["check"] = _ms(mark)
        if not outcome.report.conforms:
            from graph.writes.check import report_nquads

            assert outcome.graph is not None
            turtle = outcome.graph.serialize(format="turtle", encoding="utf-8")
            raise ShapesViolation(outcome, report_nquads(outcome.graph), turtle)
        for quad in delta.removed:
            batch.remove(quad)
        for quad in delta.added:
            batch.add(quad)
        result, patch = self._record(
            request, delta, created, graph, operation, outcome.focus_nodes, batch, started
        )
        result.timings.update(timings)
        return result, patch

    def _record(
        self,
        request: WriteRequest,
        delta: Delta,
        created: bool,
        graph: str | None,
        operation: str,
        focus: int,
        batch: Overlay,
        started: str,
    ) -> tuple[CommitResult, Patch]:
        """Make `delta` (already in `batch`) a commit: its id, PROV record and RDF Patch; the
        record goes into `batch` and the head moves on."""
        self.sequence += 1
        commit = Commit(
            id=new_id(self.sequence),
            previous=self.head,
            agent=request.agent,
            operation=operation,
            started=started,
            ended=now(),
            message=request.message,
            source=request.source,
            reverts=request.revert,
            added=len(delta.added),
            removed=len(delta.removed),
        )
        record = commit.quads(delta)
        patch = Patch.of(
            str(commit.iri), str(commit_iri(self.head)) if self.head else None, delta, record
        )
        for quad in record:
            batch.add(quad, new=True)
        self.head = commit.id
        self.triples += len(delta.added) + len(record) - len(delta.removed)
        result = CommitResult(commit, self.etag, created, graph, focus, self.triples)
        added_to = {q[3] for q in delta.added}  # a graph just added to exists: no read needed
        result.graphs.update(
            {str(g): g in added_to or batch.graph_exists(g) for g in delta.graphs() if g}
        )
        result.graphs[str(commit.iri)] = True
        return result, patch

    def _evaluate(self, request: WriteRequest, overlay: Overlay) -> tuple[bool, str | None, str]:
        if request.update is not None:
            run_update(request.update, overlay, allowed_urls=self.allowed_urls)
            return False, None, "update"
        if request.revert is not None:
            patch = self.changes.find(request.revert)
            if patch is None:
                raise CommitNotFound(request.revert)
            undo = patch.delta(graphs=[commit_iri(request.revert)]).inverse()
            for quad in undo.removed:
                overlay.remove(quad)
            for quad in undo.added:
                overlay.add(quad)
            return False, None, "revert"
        assert request.graph is not None
        op = request.graph
        if request.new_graph:
            name = CURATED_GRAPHS + str(skolem()).rsplit("/", 1)[-1]
            op = GraphOperation("POST", name, op.body, op.media_type)
        created = run_graph_operation(op, overlay)
        kind = {"PUT": "graph-put", "POST": "graph-post", "DELETE": "graph-delete"}[op.method]
        return created, op.graph, kind

    def patch_of(self, commit_id: str) -> Patch:
        patch = self.changes.find(commit_id)
        if patch is None:
            raise CommitNotFound(commit_id)
        return patch


def _id(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


__all__ = [
    "CURATED_GRAPHS",
    "CommitNotFound",
    "CommitResult",
    "PreconditionFailed",
    "ProtectedGraph",
    "ReplayConflict",
    "Repository",
    "ShapesViolation",
    "TooManyChanges",
    "WriteRequest",
]
