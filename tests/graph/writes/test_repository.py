"""Commits over the seed build: checked against the shapes in their neighbourhood, logged, applied,
recovered after a crash and replayed on a new build."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from rdflib import URIRef
from rdflib.namespace import RDFS

from graph.dumps import dump_path
from graph.errors import StoreError
from graph.namespaces import sparql_prologue
from graph.writes.backends import OxigraphBackend
from graph.writes.check import CommitCheck
from graph.writes.commits import commit_iri
from graph.writes.delta import Patch, Quad, parse_patches
from graph.writes.log import ChangeLog
from graph.writes.overlay import Overlay
from graph.writes.repository import (
    CommitNotFound,
    PreconditionFailed,
    ProtectedGraph,
    ReplayConflict,
    Repository,
    ShapesViolation,
    TooManyChanges,
    WriteRequest,
)
from graph.writes.update import GraphOperation, UpdateRequest

PREFIX = "PREFIX res: <https://w3id.org/diplokg/resource/>\n"
GOOD = (
    PREFIX
    + """INSERT DATA { GRAPH dkg:curated-test {
  res:recognition-test a dk:Recognition ; rdfs:label "A test recognition"@en ;
    dk:recognizingState res:russia ; dk:recognizedGovernment res:islamic-emirate-of-afghanistan ;
    dk:startDate "2025-07-04"^^xsd:date ;
    dk:evidence "Russia has officially recognized the Taliban government (test)." ;
    prov:wasDerivedFrom res:article-russia-recognizes-islamic-emirate .
} }"""
)
RECOGNITION = URIRef("https://w3id.org/diplokg/resource/recognition-test")


@pytest.fixture(scope="module")
def check(built_dir: Path) -> CommitCheck:
    store = ox.Store()
    store.load(path=str(dump_path(built_dir)), format=ox.RdfFormat.N_QUADS)
    backend = OxigraphBackend(store)
    return CommitCheck(hierarchy=backend.quads(None, RDFS.subClassOf, None, None, any_graph=True))


def fresh_store(built_dir: Path) -> ox.Store:
    store = ox.Store()
    store.load(path=str(dump_path(built_dir)), format=ox.RdfFormat.N_QUADS)
    return store


def new_repository(backend: OxigraphBackend, check: CommitCheck, tmp_path: Path) -> Repository:
    repository = Repository(
        backend,
        ChangeLog(tmp_path / "log.rdfp"),
        check,
        build_tag="0" * 64,
        triples=len(backend.store),
    )
    repository.recover(rebuilt=True)
    return repository


@pytest.fixture()
def repo(built_dir: Path, check: CommitCheck, tmp_path: Path) -> Iterator[Repository]:
    yield new_repository(OxigraphBackend(fresh_store(built_dir)), check, tmp_path)


def update(repo: Repository, text: str, **kw: object) -> object:
    return repo.commit(WriteRequest("alice", update=UpdateRequest(text), **kw))  # type: ignore[arg-type]


def ask(repo: Repository, query: str) -> bool:
    store = repo.backend.store  # type: ignore[attr-defined]
    return bool(store.query(sparql_prologue() + query, use_default_graph_as_union=True))


def test_a_commit_is_logged_applied_and_recorded(repo: Repository) -> None:
    before = repo.etag
    result = update(repo, GOOD, message="a test", source="https://example.org/source")
    commit = result.commit  # type: ignore[attr-defined]
    assert commit is not None and commit.agent == "alice" and commit.added == 7
    assert repo.etag == f'"{commit.id}"' != before
    assert ask(repo, "ASK { res:recognition-test dk:recognizingState res:russia }")
    # The record: a dk:Commit in its own graph, linking each quad it added.
    record = f"<{commit_iri(commit.id)}>"
    assert ask(
        repo,
        f'ASK {{ GRAPH {record} {{ {record} a dk:Commit ; rdfs:comment "a test" ; '
        "dk:changeSource <https://example.org/source> ; prov:wasAssociatedWith ?agent } }",
    )
    assert ask(
        repo,
        f"ASK {{ GRAPH {record} {{ {record} dk:changed res:recognition-test, res:russia ; "
        'dk:patch ?patch FILTER(CONTAINS(?patch, "A <https://w3id.org/diplokg/resource/'
        'recognition-test> <https://w3id.org/diplokg/ontology#recognizingState>")) } }',
    )
    # The log: one RDF Patch transaction, the data and the record.
    [patch] = parse_patches(repo.changes.path.read_text(encoding="utf-8"))
    assert patch.id == str(commit_iri(commit.id)) and patch.previous is None
    assert len(patch.delta(graphs=[commit_iri(commit.id)]).added) == 7


def test_a_commit_that_breaks_the_shapes_changes_nothing(repo: Repository) -> None:
    bad = GOOD.replace(
        'dk:startDate "2025-07-04"^^xsd:date ;',
        'dk:startDate "2025-07-04"^^xsd:date ; dk:endDate "2020-01-01"^^xsd:date ;',
    )
    before = repo.etag
    with pytest.raises(ShapesViolation) as refused:
        update(repo, bad)
    assert [r.shape for r in refused.value.report.violations] == ["dksh:FactEndNotBeforeStartShape"]
    assert b"http://www.w3.org/ns/shacl#ValidationReport" in refused.value.report_nquads
    assert repo.etag == before and not repo.changes.path.exists()
    assert not ask(repo, "ASK { res:recognition-test ?p ?o }")


def test_a_change_far_from_the_facts_it_breaks_is_refused(repo: Repository) -> None:
    # Russia stops being a dk:State: every recognition by Russia breaks (sh:class, one hop).
    with pytest.raises(ShapesViolation) as refused:
        update(repo, PREFIX + "DELETE WHERE { GRAPH ?g { res:russia a dk:State } }")
    assert any("recognition" in r.focus for r in refused.value.report.violations)
    # The Islamic Emirate stops governing Afghanistan: recognitions of it break (two hops).
    with pytest.raises(ShapesViolation):
        update(
            repo,
            PREFIX
            + "DELETE WHERE { GRAPH ?g { res:islamic-emirate-of-afghanistan dk:governs ?s } }",
        )


def test_protected_graphs_and_size_limit(repo: Repository) -> None:
    with pytest.raises(ProtectedGraph):
        update(repo, "DELETE WHERE { GRAPH <https://w3id.org/diplokg/ontology> { ?s ?p ?o } }")
    repo.max_changes = 3
    with pytest.raises(TooManyChanges):
        update(repo, GOOD)


def test_if_match(repo: Repository) -> None:
    current = repo.etag
    with pytest.raises(PreconditionFailed):
        update(repo, GOOD, if_match=('"something-else"',))
    assert update(repo, GOOD, if_match=(current,)).commit is not None  # type: ignore[attr-defined]
    with pytest.raises(PreconditionFailed):
        update(repo, GOOD.replace("recognition-test", "recognition-test2"), if_match=(current,))
    assert update(
        repo, GOOD.replace("recognition-test", "recognition-test2"), if_match=("*",)
    ).commit  # type: ignore[attr-defined]


def test_revert_undoes_a_commit_with_a_new_commit(repo: Repository) -> None:
    first = update(repo, GOOD).commit  # type: ignore[attr-defined]
    reverted = repo.commit(WriteRequest("bob", revert=first.id)).commit
    assert reverted is not None and reverted.reverts == first.id and reverted.removed == 7
    assert not ask(repo, "ASK { res:recognition-test ?p ?o }")
    with pytest.raises(CommitNotFound):
        repo.commit(WriteRequest("bob", revert="000999-deadbeef"))


def test_graph_store_put_and_a_new_graph(repo: Repository) -> None:
    body = (
        b'<https://w3id.org/diplokg/resource/x> <http://www.w3.org/2000/01/rdf-schema#label> "x" .'
    )
    result = repo.commit(
        WriteRequest(
            "alice", graph=GraphOperation("PUT", "https://example.org/g", body, "text/turtle")
        )
    )
    assert result.created and result.commit is not None and result.commit.operation == "graph-put"
    posted = repo.commit(
        WriteRequest(
            "alice", graph=GraphOperation("POST", None, body, "text/turtle"), new_graph=True
        )
    )
    assert posted.graph is not None and posted.graph.startswith(
        "https://w3id.org/diplokg/graph/curated/"
    )


def test_recovery_cuts_a_torn_transaction_and_applies_logged_commits(
    built_dir: Path, check: CommitCheck, tmp_path: Path
) -> None:
    log_path = tmp_path / "log.rdfp"
    store = fresh_store(built_dir)
    repo = Repository(
        OxigraphBackend(store), ChangeLog(log_path), check, build_tag="0" * 64, triples=len(store)
    )
    repo.recover(rebuilt=True)
    commit = update(repo, GOOD).commit  # type: ignore[attr-defined]
    logged = log_path.read_bytes()
    # A crash: the store never saw the commit (a fresh copy of the build), and a second
    # transaction was cut off while it was being written.
    with log_path.open("ab") as f:
        f.write(
            b"H id <https://w3id.org/diplokg/change/000002-00000000> .\nTX .\nA <urn:x:a> <urn:x:b> "
        )
    store = fresh_store(built_dir)
    again = Repository(
        OxigraphBackend(store), ChangeLog(log_path), check, build_tag="0" * 64, triples=len(store)
    )
    recovery = again.recover(rebuilt=False)
    assert recovery.replayed == 1 and recovery.head == commit.id
    assert log_path.read_bytes() == logged  # the torn tail is gone
    assert ask(again, "ASK { res:recognition-test dk:recognizingState res:russia }")
    assert again.recover(rebuilt=False).replayed == 0  # idempotent


def test_replay_on_a_new_build_reports_changes_already_in_it_and_refuses_conflicts(
    built_dir: Path, check: CommitCheck, tmp_path: Path
) -> None:
    log_path = tmp_path / "log.rdfp"
    store = fresh_store(built_dir)
    repo = Repository(
        OxigraphBackend(store), ChangeLog(log_path), check, build_tag="0" * 64, triples=len(store)
    )
    repo.recover(rebuilt=True)
    update(repo, GOOD)
    # The new build already holds the facts (they were exported and merged): nothing conflicts.
    merged = fresh_store(built_dir)
    merged.update(sparql_prologue() + GOOD.replace(PREFIX, ""))
    replay = Repository(
        OxigraphBackend(merged), ChangeLog(log_path), check, build_tag="1" * 64, triples=len(merged)
    )
    assert replay.recover(rebuilt=True).already_present == 7
    # A new build where Russia is no longer a state: the logged recognition no longer fits.
    broken = fresh_store(built_dir)
    broken.update(
        "DELETE WHERE { GRAPH ?g { <https://w3id.org/diplokg/resource/russia> a <https://w3id.org/diplokg/ontology#State> } }"
    )
    conflict = Repository(
        OxigraphBackend(broken), ChangeLog(log_path), check, build_tag="2" * 64, triples=len(broken)
    )
    with pytest.raises(ReplayConflict, match="no longer fits"):
        conflict.recover(rebuilt=True)


def test_patch_text_round_trips() -> None:
    from rdflib import Literal

    quad = (URIRef("urn:x:s"), URIRef("urn:x:p"), Literal('two\nlines "quoted"'), URIRef("urn:x:g"))
    from graph.writes.delta import Delta

    patch = Patch.of(
        "https://w3id.org/diplokg/change/000001-aa", None, Delta(frozenset(), frozenset({quad}))
    )
    [again] = parse_patches(patch.text())
    assert again == patch


def test_a_batch_commits_each_request_on_what_the_earlier_ones_left(repo: Repository) -> None:
    second = GOOD.replace("recognition-test", "recognition-test2")
    bad = GOOD.replace("recognition-test", "recognition-bad").replace(
        '"2025-07-04"', '"2025-07-04", "2025-07-05"'
    )
    undo = (
        PREFIX
        + 'DELETE DATA { GRAPH dkg:curated-test { res:recognition-test dk:startDate "2025-07-04"^^xsd:date } }'
    )
    outcomes = repo.commit_batch(
        [
            WriteRequest("alice", update=UpdateRequest(GOOD)),
            WriteRequest("bob", update=UpdateRequest(bad)),  # two start dates: refused alone
            WriteRequest("carol", update=UpdateRequest(second)),
            WriteRequest("dave", update=UpdateRequest(undo)),  # sees the first: breaks it
        ]
    )
    first, refused, third, broken = outcomes
    assert first.commit is not None and third.commit is not None  # type: ignore[union-attr]
    assert isinstance(refused, ShapesViolation) and isinstance(broken, ShapesViolation)
    assert third.commit.previous == first.commit.id  # type: ignore[union-attr]
    assert repo.etag == f'"{third.commit.id}"'  # type: ignore[union-attr]
    patches = list(parse_patches(repo.changes.path.read_text(encoding="utf-8")))
    assert [p.id.rsplit("/", 1)[-1] for p in patches] == [first.commit.id, third.commit.id]  # type: ignore[union-attr]
    assert ask(
        repo, "ASK { res:recognition-test2 dk:startDate ?d . res:recognition-test dk:startDate ?e }"
    )


def test_independent_commits_of_a_batch_are_checked_together_with_the_same_outcome(
    repo: Repository,
) -> None:
    texts = [GOOD.replace("recognition-test", f"recognition-together{i}") for i in range(3)]
    outcomes = repo.commit_batch([WriteRequest("alice", update=UpdateRequest(t)) for t in texts])
    commits = [o.commit for o in outcomes]  # type: ignore[union-attr]
    assert all(c is not None for c in commits)
    assert [c.previous for c in commits] == [None, commits[0].id, commits[1].id]  # type: ignore[union-attr]
    assert all(c.added == 7 for c in commits)  # type: ignore[union-attr]
    # Two commits about the same node cannot be judged together: one by one, the second
    # (a second start date) is refused and the first kept.
    clash = PREFIX + (
        "INSERT DATA { GRAPH dkg:curated-test { res:recognition-together0 dk:startDate "
        '"2025-07-05"^^xsd:date } }'
    )
    fine = GOOD.replace("recognition-test", "recognition-together9")
    kept, refused = repo.commit_batch(
        [
            WriteRequest("alice", update=UpdateRequest(fine)),
            WriteRequest("bob", update=UpdateRequest(clash)),
        ]
    )
    assert kept.commit is not None and isinstance(refused, ShapesViolation)  # type: ignore[union-attr]


class _GatedBackend(OxigraphBackend):
    """An Oxigraph backend whose `apply` waits for a gate (and fails while `fail` is set)."""

    def __init__(self, store: ox.Store) -> None:
        super().__init__(store)
        self.gate = threading.Event()
        self.fail = False

    def apply(self, removed: Iterable[Quad], added: Iterable[Quad]) -> None:
        self.gate.wait(timeout=30)
        if self.fail:
            raise StoreError("the disk is full (a test)")
        super().apply(removed, added)


@pytest.fixture()
def gated(built_dir: Path, check: CommitCheck, tmp_path: Path) -> Iterator[Repository]:
    repository = new_repository(_GatedBackend(fresh_store(built_dir)), check, tmp_path)
    repository.apply_in_background()
    yield repository
    repository.backend.gate.set()  # type: ignore[attr-defined]
    repository.drain()


def test_in_the_background_a_batch_stands_on_the_batches_not_yet_applied(
    gated: Repository,
) -> None:
    """Answered once logged; the next commits are evaluated and checked over the batches the
    store does not hold yet, and the store ends as if each had been applied in turn."""
    first = update(gated, GOOD).commit  # type: ignore[attr-defined]
    assert not ask(gated, "ASK { res:recognition-test ?p ?o }")  # logged, not applied yet
    # Depends on the first: deletes what it added (found through it, not in the store).
    second = update(
        gated,
        "DELETE { GRAPH ?g { res:recognition-test dk:evidence ?e } } "
        "INSERT { GRAPH ?g { res:recognition-test dk:evidence "
        '"Russia has officially recognized the Taliban government (edited)." } } '
        "WHERE { GRAPH ?g { res:recognition-test dk:evidence ?e } }",
    ).commit  # type: ignore[attr-defined]
    assert second.removed == 1 and second.added == 1 and second.previous == first.id
    # The shapes see the pending batches too: removing the evidence is refused.
    with pytest.raises(ShapesViolation):
        update(gated, "DELETE WHERE { GRAPH ?g { res:recognition-test dk:evidence ?e } }")
    gated.backend.gate.set()  # type: ignore[attr-defined]
    gated.drain()
    assert ask(gated, 'ASK { res:recognition-test dk:evidence ?e FILTER(CONTAINS(?e, "edited")) }')
    assert not ask(
        gated, 'ASK { res:recognition-test dk:evidence ?e FILTER(!CONTAINS(?e, "edited")) }'
    )
    assert len(gated.changes) == 2


def test_a_batch_that_fails_to_apply_in_the_background_is_applied_by_the_next_commit(
    gated: Repository,
) -> None:
    backend: _GatedBackend = gated.backend  # type: ignore[assignment]
    backend.fail = True
    backend.gate.set()
    update(gated, GOOD)  # logged: answered; applying it fails
    gated.drain()
    assert gated.unapplied and not ask(gated, "ASK { res:recognition-test ?p ?o }")
    backend.fail = False
    update(gated, GOOD.replace("recognition-test", "recognition-test-2"))
    gated.drain()
    assert ask(gated, "ASK { res:recognition-test dk:recognizingState res:russia }")
    assert ask(gated, "ASK { res:recognition-test-2 dk:recognizingState res:russia }")
    assert not gated.unapplied


class _CountedBackend(OxigraphBackend):
    """An Oxigraph backend that applies as many batches as it is allowed to (`allowed`), and
    can run a hook on the next read (from inside a commit being evaluated)."""

    def __init__(self, store: ox.Store) -> None:
        super().__init__(store)
        self.allowed = threading.Semaphore(0)
        self.applied = threading.Event()
        self.on_read: Callable[[], None] | None = None

    def quads(self, *args: Any, **kwargs: Any) -> Iterator[Quad]:
        hook, self.on_read = self.on_read, None
        if hook is not None:
            hook()
        return super().quads(*args, **kwargs)

    def apply(self, removed: Iterable[Quad], added: Iterable[Quad]) -> None:
        self.allowed.acquire(timeout=30)
        super().apply(removed, added)
        self.applied.set()


def _stands_on(repository: Repository, overlay: object) -> int:
    """How many overlays a read through `overlay` walks before it reaches the store."""
    depth = 0
    while isinstance(overlay, Overlay):
        depth, overlay = depth + 1, overlay.base
    assert overlay is repository.backend
    return depth


def test_a_batch_whose_base_was_applied_meanwhile_stands_on_the_store(
    built_dir: Path, check: CommitCheck, tmp_path: Path
) -> None:
    """The batch before it is applied while a batch is being evaluated: once logged, the new
    batch reads the store itself, not through the applied batch (else each batch would add one
    overlay to every later read, without end)."""
    backend = _CountedBackend(fresh_store(built_dir))
    repository = new_repository(backend, check, tmp_path)
    repository.apply_in_background()
    update(repository, GOOD)  # logged; its applying waits
    [first] = repository._pending

    def let_the_first_be_applied() -> None:
        backend.allowed.release()
        assert backend.applied.wait(timeout=30)
        while repository._pending:  # the applier pops it right after applying it
            threading.Event().wait(0.001)

    backend.on_read = let_the_first_be_applied
    update(repository, GOOD.replace("recognition-test", "recognition-test-2"))
    [second] = repository._pending  # the first is applied; the second waits for its turn
    assert second is not first and _stands_on(repository, second) == 1
    for i in range(20):  # and so on: no batch ever stands more than two batches from the store
        backend.allowed.release()
        update(repository, GOOD.replace("recognition-test", f"recognition-test-{i + 3}"))
        assert all(_stands_on(repository, p) <= 2 for p in list(repository._pending))
    for _ in range(25):
        backend.allowed.release()
    repository.drain()
    assert ask(repository, "ASK { res:recognition-test-22 dk:recognizingState res:russia }")
