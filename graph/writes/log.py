"""The append-only change log: one RDF Patch transaction per commit, fsynced before it is applied.

The writer appends (`ChangeLog`); the query replicas follow it (`LogFollower`), reading only
complete transactions. A transaction torn by a crash (no `TC`) was never acknowledged: recovery
cuts it off.
"""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path

import pyoxigraph as ox

from graph.errors import StoreError
from graph.writes.delta import Patch, complete_length, parse_patches

log = logging.getLogger(__name__)


#: How long a writer waits for the change log's lock before refusing to start (a writer being
#: replaced may still be exiting).
LOCK_WAIT_S = 5.0


def _hold(path: Path, wait: float) -> int:
    """Make this process the one writer of the change log at `path`: an exclusive lock on
    `path`.lock, which holds the writer's pid, until the process exits (the descriptor
    returned must stay open). Two servers writing through one log would interleave their
    transactions and break its chain; the second is refused (StoreError) once `wait` seconds
    have passed without the lock coming free."""
    import fcntl

    lock = path.with_name(path.name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
                os.close(fd)
                raise StoreError(
                    f"the change log {path} is in use by another DiploKG writer (pid {holder}): "
                    "two servers cannot write through one change log (or one oxigraph:DIR)"
                ) from None
            time.sleep(0.05)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    return fd


class ChangeLog:
    """The log file, opened by the one writer. What it keeps of each transaction is where it
    lies in the file (a commit is read back from disk when asked for: a server that has taken
    a million commits holds no million patches, and no collector walks them)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        #: Commit id (the last segment of its IRI) -> (offset, length) of its transaction.
        self._where: dict[str, tuple[int, int]] = {}
        self._size = 0
        self._lock: int | None = None

    def hold(self, wait: float | None = None) -> None:
        """Take the log for this process until it exits; StoreError if another writer holds
        it after `wait` seconds (default LOCK_WAIT_S; see _hold)."""
        if self._lock is None:
            self._lock = _hold(self.path, LOCK_WAIT_S if wait is None else wait)

    def release(self) -> None:
        """Let another process take the log (the server's start-up check hands it to the
        writer process this way)."""
        if self._lock is not None:
            os.close(self._lock)  # closing the descriptor drops the lock
            self._lock = None

    def __len__(self) -> int:
        return len(self._where)

    def recover(self) -> list[Patch]:
        """Every complete transaction, in order; a torn tail (never acknowledged) is cut off
        the file. The list is the caller's: the log keeps only where each one lies."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = self.path.read_bytes() if self.path.exists() else b""
        keep = complete_length(data)
        if keep < len(data):
            log.warning(
                "change log %s: dropping %d bytes of a transaction that never completed",
                self.path,
                len(data) - keep,
            )
            with self.path.open("r+b") as f:
                f.truncate(keep)
                f.flush()
                os.fsync(f.fileno())
        located = located_patches(data[:keep], 0)
        self._where = {_short(patch.id): (at, length) for patch, at, length in located}
        self._size = keep
        return [patch for patch, _, _ in located]

    def append(self, patch: Patch) -> None:
        """Write one transaction and wait until it is on disk."""
        self.append_all([patch])

    def append_all(self, patches: list[Patch]) -> None:
        """Write transactions, in order, and wait once until they are on disk (group commit)."""
        texts = [p.text().encode("utf-8") for p in patches]
        data = b"".join(texts)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
            os.fsync(fd)
        finally:
            os.close(fd)
        for patch, text in zip(patches, texts, strict=True):
            self._where[_short(patch.id)] = (self._size, len(text))
            self._size += len(text)

    def find(self, commit_id: str) -> Patch | None:
        """The transaction of a commit, read back from the file (None: no such commit)."""
        where = self._where.get(commit_id)
        if where is None:
            return None
        return read_patch(self.path, *where)


def read_patch(path: Path, offset: int, length: int) -> Patch | None:
    """The transaction at `offset` in a change log (None for an aborted one)."""
    with path.open("rb") as f:
        f.seek(offset)
        chunk = f.read(length)
    return next(parse_patches(chunk.decode("utf-8")), None)


_END = re.compile(rb"^T[CA] \.\n", re.MULTILINE)


def committed_count(data: bytes, end: int) -> int:
    """How many `TC .` lines the first `end` bytes of log text hold (a line that starts so is
    one: N-Quads escapes the line ends of literals). Counted with bytes.count, not a regular
    expression, which took a sixth of a query worker's time under writes (py-spy)."""
    return data.count(b"\nTC .", 0, end) + data.startswith(b"TC .", 0, end)


def located_patches(data: bytes, offset: int) -> list[tuple[Patch, int, int]]:
    """The transactions of `data` (log bytes starting at `offset`), each with its offset and
    length in the file; an aborted one yields nothing. A transaction ends with its `TC .` (or
    `TA .`) line, and no line before starts so: N-Quads escapes the line ends of literals."""
    located: list[tuple[Patch, int, int]] = []
    start = 0
    for end in _END.finditer(data):
        chunk = data[start : end.end()]
        located.extend((p, offset + start, len(chunk)) for p in parse_patches(chunk.decode()))
        start = end.end()
    return located


def _short(commit_iri: str) -> str:
    return commit_iri.rsplit("/", 1)[-1]


class LogFollower:
    """A replica's view of the log: the transactions added since it last looked."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        #: How many committed transactions it has read: the number of the last one (a commit's
        #: number, graph.writes.commits.new_id, is its place among them).
        self.sequence = 0
        #: Whether the last read left complete transactions unread (it reached its limit).
        self.behind = False

    def new_transactions(self, limit: int | None = None) -> bytes:
        """The complete transactions written since the last call, as they are in the log
        (b"" when none: one stat), about `limit` bytes of them at most (more if the first is
        longer); `behind` says whether more were there. A replica applies them
        (operations_of, additions_of)."""
        try:
            size = os.stat(self.path).st_size
        except FileNotFoundError:
            return b""
        if size <= self.offset:
            self.behind = False
            return b""
        left = size - self.offset
        want = left if limit is None else min(left, limit)
        with self.path.open("rb") as f:
            while True:
                f.seek(self.offset)
                data = f.read(want)
                keep = complete_length(data)
                if keep or want >= left:
                    break
                want = min(left, want * 2)  # a transaction longer than the limit
        self.offset += keep
        self.sequence += committed_count(data, keep)
        self.behind = want < left
        return data[:keep]

    def new_located(self) -> list[tuple[Patch, int, int]]:
        """The new transactions, each with its offset and length in the file (to read it back
        later instead of keeping it)."""
        offset = self.offset
        return located_patches(self.new_transactions(), offset)


def operations_of(data: bytes) -> list[tuple[str, ox.Quad]]:
    """The operations ("A" or "D", and the quad) of transactions of the change log, in order,
    as pyoxigraph quads (one parse for all of them, no rdflib terms)."""
    text = data.decode("utf-8")
    if not text:
        return []
    codes: list[str] = []
    lines: list[str] = []
    for line in text.splitlines():
        if line[:2] in ("A ", "D "):
            codes.append(line[0])
            lines.append(line[2:])
    if not lines:
        return []
    quads = list(ox.parse(("\n".join(lines) + "\n").encode("utf-8"), format=ox.RdfFormat.N_QUADS))
    return list(zip(codes, quads, strict=True))


def additions_of(data: bytes) -> tuple[bytes, int] | None:
    """The quads that transactions of the change log add, as N-Quads, and how many; None when
    they also remove one (then their order matters: see operations_of). Each line of the log is
    one operation (N-Quads escapes a literal's line breaks), so no parse is needed."""
    lines = data.split(b"\n")
    if any(line[:2] == b"D " for line in lines):
        return None
    added = [line[2:] for line in lines if line[:2] == b"A "]
    return b"\n".join(added) + b"\n" if added else b"", len(added)
