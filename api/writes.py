"""The write service: tokens, the writer process, and what a commit changes for readers.

Framework-free, like the query service (api.queries). Writes are enabled by a token file
(`--write-tokens`); each request's Bearer token names the curator or pipeline recorded as the
commit's agent. Commits happen in one writer process (api.writer): it holds the store
read-write, checks, logs and applies (graph.writes.repository). Writes that queue up while it
works go to it as one batch, each still its own checked commit, sharing one fsync. A write that runs past
`update_timeout` has its writer killed and restarted; the change log makes the store whole again.
After each commit the result cache is emptied, and the query workers pick the commit up from
the change log before their next query (api.worker).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path

from api.pool import _Worker
from api.problems import Problem
from api.settings import Settings
from api.writer import WriterConfig, WriterInfo
from graph.errors import DiploKGError, StoreError, StoreUnavailable
from graph.writes.commits import Commit, is_commit_graph
from graph.writes.delta import Patch
from graph.writes.log import LogFollower, read_patch
from graph.writes.repository import CommitResult, WriteRequest

log = logging.getLogger(__name__)

#: A token's name: recorded as the commit's agent, and part of its IRI.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MIN_TOKEN_LENGTH = 16
#: The most queued writes sent to the writer as one batch.
MAX_BATCH = 64
#: How long a commit's acknowledgement waits at most for a query worker's copy to hold it
#: (api.pool.QueryPool.visible).
VISIBLE_WITHIN_S = 0.02


class TokenFileError(ValueError):
    """A token file that cannot be used (the server refuses to start)."""


def load_tokens(path: Path) -> dict[str, str]:
    """token -> name, from `name:token` lines (blank lines and # comments skipped)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TokenFileError(f"cannot read the token file {path}: {exc}") from None
    tokens: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, token = line.partition(":")
        name, token = name.strip(), token.strip()
        where = f"{path}, line {number}"
        if not sep or not NAME.fullmatch(name):
            raise TokenFileError(
                f"{where}: expected name:token, with a name of letters, digits, . _ -"
            )
        if len(token) < MIN_TOKEN_LENGTH or any(c.isspace() for c in token):
            raise TokenFileError(
                f"{where}: the token for {name!r} must be at least {MIN_TOKEN_LENGTH} characters, "
                "without spaces"
            )
        if token in tokens:
            raise TokenFileError(f"{where}: this token is given twice")
        tokens[token] = name
    if not tokens:
        raise TokenFileError(f"{path} holds no name:token line")
    return tokens


def unauthorized(detail: str, error: str | None = None) -> Problem:
    challenge = 'Bearer realm="DiploKG"'
    if error:
        challenge += f', error="{error}"'
    return Problem(401, "unauthorized", "Unauthorized", detail, {"WWW-Authenticate": challenge})


def read_only() -> Problem:
    return Problem(
        403,
        "read-only",
        "Writes are not enabled",
        "this server is read-only: it was started without --write-tokens",
    )


class Tokens:
    """The accepted tokens; `agent` compares in constant time and never logs a token."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self._tokens = [(t.encode("utf-8"), n) for t, n in tokens.items()]

    def agent(self, authorization: str | None) -> str:
        """The name the request's Bearer token belongs to; a 401 Problem otherwise."""
        if not authorization:
            raise unauthorized("writing needs a token: send Authorization: Bearer TOKEN")
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise unauthorized(
                "use the Bearer scheme: Authorization: Bearer TOKEN", "invalid_request"
            )
        given = credentials.strip().encode("utf-8", errors="replace")
        found: str | None = None
        for token, name in self._tokens:  # every token is compared: the time does not tell which
            if hmac.compare_digest(given, token):
                found = name
        if found is None:
            raise unauthorized("the token is not valid", "invalid_token")
        return found


@dataclass(frozen=True)
class ChangeEntry:
    """One commit as /changes lists it: its record, and where its transaction lies in the
    change log (read back when asked for, never kept)."""

    commit: Commit
    log: Path
    offset: int
    length: int

    @property
    def patch(self) -> Patch:
        patch = read_patch(self.log, self.offset, self.length)
        if patch is None:  # the log changed under the server: only a new server reads it anew
            raise StoreError(f"the change log {self.log} no longer holds commit {self.commit.id}")
        return patch


class WriteService:
    """The writer process and the change history, for the write routes."""

    def __init__(self, settings: Settings, tokens: Tokens) -> None:
        self.settings = settings
        self.tokens = tokens
        self.log_path = settings.change_log_path()
        self.config = WriterConfig(
            settings.store,
            settings.dataset,
            self.log_path,
            settings.update_allowed_urls,
            settings.max_update_changes,
        )
        self.info: WriterInfo | None = None
        self._writer: _Worker | None = None
        self._queue: asyncio.Queue[tuple[WriteRequest, asyncio.Future[CommitResult]]] = (
            asyncio.Queue()
        )
        self._consumer: asyncio.Task[None] | None = None
        self._history: list[ChangeEntry] = []
        self._follower = LogFollower(self.log_path)
        #: Called after each commit (the app empties the result cache, updates the counts).
        self.on_commit: list[object] = []
        #: Awaited before a commit is acknowledged: until a query worker's copy holds the
        #: commit with this number (the app sets it: api.pool.QueryPool.visible).
        self.visible: Callable[[int], Awaitable[None]] | None = None

    @property
    def etag(self) -> str:
        return self.info.etag if self.info else '"unknown"'

    async def start(self) -> WriterInfo:
        self._writer, self.info = await self._spawn()
        self._consumer = asyncio.get_running_loop().create_task(self._consume())
        if self.info.replayed:
            log.info(
                "change log: %d commit(s) replayed on start (%d change(s) already in place)",
                self.info.replayed,
                self.info.already_present,
            )
        return self.info

    async def _spawn(self) -> tuple[_Worker, WriterInfo]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "api.writer",
            self.config.to_json(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        writer = _Worker(process)
        try:
            kind, payload = await writer.receive()
        except EOFError:
            writer.kill()
            raise StoreError("the writer process died while opening the store") from None
        if kind != "ready":
            writer.kill()
            if isinstance(payload, DiploKGError):
                raise payload
            raise StoreError(f"the writer could not open the store: {payload}")
        assert isinstance(payload, WriterInfo)
        return writer, payload

    async def close(self) -> None:
        if self._consumer is not None:
            self._consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._consumer
            self._consumer = None
        if self._writer is not None:
            await self._writer.stop(grace=5.0)
            self._writer = None

    async def commit(self, request: WriteRequest) -> CommitResult:
        """Queue one write and wait for its commit (or its refusal, raised).

        Writes queued while the writer is busy go to it together, as one batch: each is still
        its own commit, checked on the data as the earlier ones left it, and the batch shares
        one fsync of the change log (group commit). A client that goes away does not cancel its
        write: it is in the batch already, and its reply is read.
        """
        future: asyncio.Future[CommitResult] = asyncio.get_running_loop().create_future()
        await self._queue.put((request, future))
        outcome = await asyncio.shield(future)
        if outcome.commit is not None and self.visible is not None:
            await self.visible(outcome.commit.sequence)
        return outcome

    async def _consume(self) -> None:
        """The one task that talks to the writer: batches of queued writes, in order."""
        while True:
            first = await self._queue.get()
            # With whatever queued meanwhile; never waiting for more (a 3 ms wait cost more than
            # it saved: 97 instead of 137 commits/s from 4 writers at 100k).
            batch = [first]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                reply = await self._ask(("batch", [request for request, _ in batch]))
            except DiploKGError as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            assert isinstance(reply, list)
            for (_, future), outcome in zip(batch, reply, strict=True):
                if isinstance(outcome, CommitResult):
                    self._committed(outcome)
                    if not future.done():
                        future.set_result(outcome)
                elif not future.done():
                    future.set_exception(outcome)

    def _committed(self, result: CommitResult) -> None:
        if self.info is not None:
            self.info = replace(self.info, etag=result.etag, triples=result.triples)
        if result.commit is not None:
            for callback in self.on_commit:
                callback(result)  # type: ignore[operator]

    async def _ask(self, message: tuple[str, object]) -> object:
        from api.pool import frame

        if self._writer is None or not self._writer.alive:
            log.warning("the writer process had stopped: starting it again")
            self._writer, self.info = await self._spawn()
        writer = self._writer
        try:
            async with asyncio.timeout(self.settings.update_timeout):
                await writer.send(frame(message))
                kind, payload = await writer.receive()
        except TimeoutError:
            log.warning(
                "a write ran past %.3g s: restarting the writer", self.settings.update_timeout
            )
            await self._restart(writer)
            raise StoreUnavailable(
                f"the write was stopped after {self.settings.update_timeout:g} s; if it had been "
                "logged it is applied, otherwise nothing of it is (see /changes)",
                retry_after=1,
                public=True,
            ) from None
        except Exception as exc:  # the pipe broke, the writer died: never a half-read reply
            log.error("the writer process failed: %s", exc)
            await self._restart(writer)
            raise StoreUnavailable(
                "the writer process stopped; it is being restarted: try again",
                retry_after=1,
                public=True,
            ) from None
        if kind == "ok":
            return payload
        assert isinstance(payload, DiploKGError)
        raise payload

    async def _restart(self, writer: _Worker) -> None:
        writer.kill()
        with contextlib.suppress(Exception):
            await writer.process.wait()
        self._writer = None
        try:
            self._writer, self.info = await self._spawn()
        except DiploKGError as exc:
            log.error("could not restart the writer: %s", exc)

    # --- history ------------------------------------------------------------------------

    def history(self) -> list[ChangeEntry]:
        """Every commit in the change log, oldest first (read from the log, as the replicas do)."""
        for patch, offset, length in self._follower.new_located():
            commit_id = patch.id.rsplit("/", 1)[-1]
            record = [q for op, q in patch.operations if op == "A" and is_commit_graph(q[3])]
            commit = Commit.from_quads(commit_id, record)
            self._history.append(ChangeEntry(commit, self.log_path, offset, length))
        return self._history

    def entry(self, commit_id: str) -> ChangeEntry | None:
        for entry in self.history():
            if entry.commit.id == commit_id:
                return entry
        return None
