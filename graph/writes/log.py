"""The append-only change log: one RDF Patch transaction per commit, fsynced before it is applied.

The writer appends (`ChangeLog`); the query replicas follow it (`LogFollower`), reading only
complete transactions. A transaction torn by a crash (no `TC`) was never acknowledged: recovery
cuts it off.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pyoxigraph as ox

from graph.writes.delta import Patch, complete_length, parse_patches

log = logging.getLogger(__name__)


class ChangeLog:
    """The log file, opened by the one writer."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.patches: list[Patch] = []

    def recover(self) -> list[Patch]:
        """Read every complete transaction; cut a torn tail off the file (never acknowledged)."""
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
        self.patches = list(parse_patches(data[:keep].decode("utf-8")))
        return self.patches

    def append(self, patch: Patch) -> None:
        """Write one transaction and wait until it is on disk."""
        self.append_all([patch])

    def append_all(self, patches: list[Patch]) -> None:
        """Write transactions, in order, and wait once until they are on disk (group commit)."""
        data = "".join(p.text() for p in patches).encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
            os.fsync(fd)
        finally:
            os.close(fd)
        self.patches.extend(patches)

    def find(self, commit_id: str) -> Patch | None:
        for patch in self.patches:
            if patch.id.endswith("/" + commit_id):
                return patch
        return None


class LogFollower:
    """A replica's view of the log: the transactions added since it last looked."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def _new_text(self) -> str:
        """The complete transactions written since the last call ("" when none: one stat)."""
        try:
            size = os.stat(self.path).st_size
        except FileNotFoundError:
            return ""
        if size <= self.offset:
            return ""
        with self.path.open("rb") as f:
            f.seek(self.offset)
            data = f.read(size - self.offset)
        keep = complete_length(data)
        self.offset += keep
        return data[:keep].decode("utf-8")

    def new_patches(self) -> list[Patch]:
        text = self._new_text()
        return list(parse_patches(text)) if text else []

    def new_operations(self) -> list[tuple[str, ox.Quad]]:
        """The operations of the new transactions, in order, as pyoxigraph quads: what a
        replica applies (one parse for all of them, no rdflib terms)."""
        text = self._new_text()
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
        quads = list(
            ox.parse(("\n".join(lines) + "\n").encode("utf-8"), format=ox.RdfFormat.N_QUADS)
        )
        return list(zip(codes, quads, strict=True))
