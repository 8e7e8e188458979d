"""The change log keeps where each commit lies, not the commits: read back from the file, they
are the commits written, across a restart and past an aborted transaction."""

from __future__ import annotations

from pathlib import Path

from rdflib import Literal, URIRef

from graph.writes.delta import Delta, Patch
from graph.writes.log import ChangeLog, LogFollower, read_patch

G = URIRef("https://w3id.org/diplokg/graph/curated-log-test")
P = URIRef("http://www.w3.org/2000/01/rdf-schema#label")
COMMITS = "https://w3id.org/diplokg/commit/"


def _patch(n: int, previous: str | None) -> Patch:
    node = URIRef(f"https://w3id.org/diplokg/resource/log-test-{n}")
    added = {(node, P, Literal(f"line one\nof commit {n}"), G)}
    removed = {(node, P, Literal(f"old {n}"), G)} if n % 2 else set()
    return Patch.of(f"{COMMITS}c{n}", previous, Delta(frozenset(removed), frozenset(added)))


def test_commits_are_read_back_from_the_file(tmp_path: Path) -> None:
    log = ChangeLog(tmp_path / "changes.rdfp")
    log.recover()
    written = [_patch(1, None)]
    log.append(written[0])
    written += [_patch(2, f"{COMMITS}c1"), _patch(3, f"{COMMITS}c2")]
    log.append_all(written[1:])
    assert len(log) == 3
    assert not hasattr(log, "patches")
    for patch in written:
        assert log.find(patch.id.rsplit("/", 1)[-1]) == patch
    assert log.find("c4") is None


def test_a_restarted_log_finds_every_commit_past_an_aborted_one(tmp_path: Path) -> None:
    path = tmp_path / "changes.rdfp"
    first = ChangeLog(path)
    first.recover()
    first.append(_patch(1, None))
    with path.open("a", encoding="utf-8") as f:  # an aborted transaction, then a torn one
        f.write("H id <urn:aborted> .\nTX .\nTA .\n")
    first.append(_patch(2, f"{COMMITS}c1"))
    with path.open("a", encoding="utf-8") as f:
        f.write("H id <urn:torn> .\nTX .\nA <urn:s> <urn:p> <urn:o> .\n")
    again = ChangeLog(path)
    patches = again.recover()
    assert [p.id for p in patches] == [f"{COMMITS}c1", f"{COMMITS}c2"]
    assert again.find("c2") == _patch(2, f"{COMMITS}c1")
    again.append(_patch(3, f"{COMMITS}c2"))
    assert again.find("c3") == _patch(3, f"{COMMITS}c2")


def test_a_follower_locates_each_new_commit(tmp_path: Path) -> None:
    log = ChangeLog(tmp_path / "changes.rdfp")
    log.recover()
    follower = LogFollower(log.path)
    log.append_all([_patch(1, None), _patch(2, f"{COMMITS}c1")])
    located = follower.new_located()
    log.append(_patch(3, f"{COMMITS}c2"))
    located += follower.new_located()
    assert [p.id for p, _, _ in located] == [f"{COMMITS}c{n}" for n in (1, 2, 3)]
    for patch, offset, length in located:
        assert read_patch(log.path, offset, length) == patch
    assert follower.new_located() == []
