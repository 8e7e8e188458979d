"""The change log keeps where each commit lies, not the commits: read back from the file, they
are the commits written, across a restart and past an aborted transaction."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Literal, URIRef

from graph.errors import StoreError
from graph.writes.delta import Delta, Patch
from graph.writes.log import (
    ChangeLog,
    LogFollower,
    additions_of,
    committed_count,
    operations_of,
    read_patch,
)

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


def test_a_follower_reads_whole_transactions_a_limited_amount_at_a_time(tmp_path: Path) -> None:
    """A replica catching up a long log applies it in parts (each a transaction of whole
    commits): a read stops at the last whole transaction within the limit, says whether more
    are there, counts the commits read (their numbers), and reads a transaction longer than
    the limit whole."""
    log = ChangeLog(tmp_path / "changes.rdfp")
    log.recover()
    follower = LogFollower(log.path)
    patches = [_patch(n, f"{COMMITS}c{n - 1}" if n > 1 else None) for n in range(1, 11)]
    log.append_all(patches)
    one = len(patches[0].text().encode())
    parts, counts = [], []
    while True:
        operations = operations_of(follower.new_transactions(limit=int(one * 2.5)))
        parts.append(len(operations))
        counts.append(follower.sequence)
        if not follower.behind:
            break
    assert counts == [2, 4, 6, 8, 10]
    assert sum(parts) == sum(len(p.operations) for p in patches)
    assert operations_of(follower.new_transactions(limit=10)) == [] and not follower.behind
    log.append(_patch(11, f"{COMMITS}c10"))
    assert len(operations_of(follower.new_transactions(limit=10))) == len(patches[0].operations)
    assert follower.sequence == 11 and not follower.behind


def test_the_additions_of_transactions_are_their_a_lines_unparsed(tmp_path: Path) -> None:
    """Transactions that only add give their quads as N-Quads (a literal's line break stays
    escaped: one line an operation), the same quads the parse gives; any removal gives None."""
    import pyoxigraph as ox

    log = ChangeLog(tmp_path / "changes.rdfp")
    log.recover()
    log.append_all([_patch(2, None), _patch(4, f"{COMMITS}c2")])  # even: additions only
    data = LogFollower(log.path).new_transactions()
    added = additions_of(data)
    assert added is not None
    nquads, count = added
    parsed = set(ox.parse(nquads, format=ox.RdfFormat.N_QUADS))
    assert count == 2 and parsed == {q for op, q in operations_of(data) if op == "A"}
    assert any("line one\nof commit 2" in q.object.value for q in parsed)  # type: ignore[union-attr]
    log.append(_patch(5, f"{COMMITS}c4"))  # odd: removes a quad too
    follower = LogFollower(log.path)
    assert additions_of(follower.new_transactions()) is None
    assert additions_of(b"") == (b"", 0) and operations_of(b"") == []


def test_one_writer_holds_the_log_and_a_second_is_told_who(tmp_path: Path) -> None:
    path = tmp_path / "changes.rdfp"
    first = ChangeLog(path)
    first.hold()
    with pytest.raises(
        StoreError, match=rf"in use by another DiploKG writer \(pid {os.getpid()}\)"
    ):
        ChangeLog(path).hold(wait=0.1)
    first.release()
    second = ChangeLog(path)
    second.hold(wait=0.1)  # free again
    second.release()


def test_the_log_comes_free_when_its_writer_dies(tmp_path: Path) -> None:
    path = tmp_path / "changes.rdfp"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"""
import sys, time
from pathlib import Path
from graph.writes.log import ChangeLog
ChangeLog(Path({str(path)!r})).hold()
print("held", flush=True)
time.sleep(60)
"""],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreError, match=f"pid {holder.pid}"):
            ChangeLog(path).hold(wait=0.1)
        holder.kill()  # SIGKILL: no clean-up runs, the kernel drops the lock
        holder.wait()
        ChangeLog(path).hold(wait=1.0)
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"TC .\n",
        b'H id <urn:x:c1> .\nTX .\nA <urn:x:s> <urn:x:p> "TC ." .\nTC .\n',
        b'TX .\nTC .\nTC .\nTA .\nTX .\nA <urn:x:s> <urn:x:p> "a\\nTC ." .\nTC .\nTX .\n',
    ],
)
def test_committed_lines_are_counted_as_the_line_pattern_counts_them(text: bytes) -> None:
    """`TC .` lines, at the start and after a line end, next to each other or not; never inside
    a literal (whose line ends N-Quads escapes); only within the bytes asked for."""
    pattern = re.compile(rb"^TC \.\n", re.MULTILINE)
    for end in range(len(text) + 1):
        complete = text[:end]
        if complete and not complete.endswith(b"\n"):
            continue  # a follower counts only up to a line's end
        assert committed_count(text, end) == len(pattern.findall(text, 0, end)), (text, end)
