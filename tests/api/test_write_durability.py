"""An acknowledged write survives kill -9 of the server; the store and the change log agree after.

A real `diplokg serve --store oxigraph:DIR --write-tokens FILE` takes a burst of writes from
several threads, each write an INSERT DATA of three triples about its own subject in its own
graph, so that each is all-or-nothing checkable. Once enough are acknowledged, the whole process
group (server, writer, query workers) gets SIGKILL while writes are in flight. The server then
starts again on the same store and token file, and every acknowledged write must be there in
full, every other one in full or not at all, and /changes, the store's commit records and the
change log file must name the same commits.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from graph.writes.commits import commit_id_of
from graph.writes.delta import Patch, parse_patches
from tests.support.serving import free_port

THREADS = 4
#: Triples per write: a write is all there or not at all, never 1 or 2 of them.
TRIPLES = 3
#: The kill comes once this many writes are acknowledged, or after KILL_AFTER_S seconds.
ACKNOWLEDGED_BEFORE_KILL = 100
KILL_AFTER_S = 20.0
#: Then, at most this long for a commit logged but not yet acknowledged.
WINDOW_S = 3.0
READY_WITHIN_S = 60.0
BURST = "urn:x:burst/"
CHANGE_LOG = "diplokg-changes.rdfp"
SPARQL_JSON = "application/sparql-results+json"
COMMITS = "SELECT ?c WHERE { GRAPH ?c { ?c a dk:Commit } }"
BURST_GRAPHS = (
    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
    f'FILTER(STRSTARTS(STR(?g), "{BURST}")) }} GROUP BY ?g'
)
COMMITS_PREFIXED = "PREFIX dk: <https://w3id.org/diplokg/ontology#>\n" + COMMITS


# --- the server, as a process group -----------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str

    @property
    def group(self) -> int:
        return self.process.pid  # start_new_session: the server leads its own process group


def start_server(built_dir: Path, store: Path, tokens: Path, log: Path) -> Server:
    """`diplokg serve` with writes on `store`, in a session of its own, once /healthz answers."""
    port = free_port()
    argv = [
        sys.executable, "-c", "from api.cli import main; main()", "serve",
        "--dataset", str(built_dir), "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1", "--log-level", "warning", "--store", f"oxigraph:{store}",
        "--write-tokens", str(tokens),
    ]  # fmt: skip
    with log.open("ab") as out:  # a file, not a pipe: the writer logs every commit
        process = subprocess.Popen(argv, stdout=out, stderr=out, start_new_session=True)
    server = Server(process, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + READY_WITHIN_S
    while True:
        try:
            if httpx.get(server.base + "/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            kill_group(server)
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(
                f"diplokg serve did not become ready ({process.returncode}):\n{tail}"
            )
        time.sleep(0.1)


def group_gone(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return True
    return False


def kill_group(server: Server) -> None:
    """SIGKILL to the server and all its children at once; wait until they are gone."""
    if not group_gone(server.group):
        os.killpg(server.group, signal.SIGKILL)
    server.process.wait(timeout=10)
    wait_group_gone(server.group)


def stop_group(server: Server) -> None:
    """A clean stop (SIGTERM to the server), then SIGKILL for anything left of the group."""
    server.process.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.process.wait(timeout=20)
    wait_group_gone(server.group, within=5)
    kill_group(server)


def wait_group_gone(group: int, within: float = 10) -> None:
    deadline = time.monotonic() + within
    while not group_gone(group) and time.monotonic() < deadline:
        time.sleep(0.05)


# --- the burst ----------------------------------------------------------------------------------


def write_text(n: int) -> str:
    """Write `n`: TRIPLES triples about its own subject in its own graph."""
    triples = " ".join(f'<urn:x:p{k}> "w{n}-{k}" ;' for k in range(1, TRIPLES))
    last = f'<urn:x:p{TRIPLES}> "w{n}-{TRIPLES}" .'
    return f"INSERT DATA {{ GRAPH <{BURST}{n}> {{ <urn:x:s/{n}> {triples} {last} }} }}"


@dataclass
class Burst:
    """What the writers sent and what the server acknowledged (write number -> commit id)."""

    attempted: set[int] = field(default_factory=set)
    acknowledged: dict[int, str] = field(default_factory=dict)
    refused: dict[int, int] = field(default_factory=dict)  # answered, but not 2xx
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def next_number(self) -> int:
        with self.lock:
            n = next(self.numbers)
            self.attempted.add(n)
            return n


def send_writes(base: str, token: str, burst: Burst) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/sparql-update"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        while not burst.stop.is_set():
            n = burst.next_number()
            try:
                response = client.post("/update", content=write_text(n))
            except httpx.TransportError:  # the server was killed under this request
                continue
            with burst.lock:
                if response.is_success:
                    burst.acknowledged[n] = response.json()["commit"]
                else:
                    burst.refused[n] = response.status_code


def wait_for_unacknowledged_commit(change_log: Path, burst: Burst) -> None:
    """Return once the log holds more commits than were acknowledged (a commit logged, perhaps
    applied, not yet answered: the kill then tests recovery), or after WINDOW_S seconds."""
    deadline = time.monotonic() + WINDOW_S
    offset, complete = 0, 0
    while time.monotonic() < deadline:
        try:
            with change_log.open("rb") as f:
                f.seek(offset)
                data = f.read()
        except FileNotFoundError:  # no commit yet
            data = b""
        end = data.rfind(b"\nTC .\n")
        if end >= 0:
            complete += data[: end + 6].count(b"\nTC .\n")
            offset += end + 6
        with burst.lock:
            if complete > len(burst.acknowledged):
                return
        time.sleep(0.0005)


def burst_until_killed(server: Server, token: str, change_log: Path) -> Burst:
    """Writers on THREADS threads; SIGKILL to the server's group while they are still writing,
    preferably just after a commit was logged and before its client had the answer."""
    burst = Burst()
    threads = [
        threading.Thread(target=send_writes, args=(server.base, token, burst), daemon=True)
        for _ in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + KILL_AFTER_S
    while len(burst.acknowledged) < ACKNOWLEDGED_BEFORE_KILL and time.monotonic() < deadline:
        time.sleep(0.01)
    wait_for_unacknowledged_commit(change_log, burst)
    burst.stop.set()  # no new write starts; those in flight meet the kill
    kill_group(server)
    for thread in threads:
        thread.join(timeout=35)
    return burst


# --- what the store, the endpoint and the log say ------------------------------------------------


def select(base: str, query: str) -> list[dict[str, dict[str, str]]]:
    response = httpx.get(
        base + "/sparql", params={"query": query}, headers={"Accept": SPARQL_JSON}, timeout=30
    )
    assert response.status_code == 200, response.text
    return list(response.json()["results"]["bindings"])


def burst_counts_of(rows: list[dict[str, dict[str, str]]]) -> dict[int, int]:
    """Write number -> how many of its triples are there, from rows of ?g ?n."""
    return {int(row["g"]["value"][len(BURST) :]): int(row["n"]["value"]) for row in rows}


def commit_ids_of(iris: list[str]) -> set[str]:
    ids = {commit_id_of(iri) for iri in iris}
    assert None not in ids, iris
    return {i for i in ids if i is not None}


def listed_changes(base: str) -> list[str]:
    """Every commit id /changes lists (all its pages), newest first."""
    ids: list[str] = []
    url: str | None = "/changes?limit=1000"
    while url is not None:
        response = httpx.get(base + url, headers={"Accept": "application/json"}, timeout=30)
        assert response.status_code == 200, response.text
        page = response.json()
        ids += [entry["id"] for entry in page["changes"]]
        url = page.get("next")
    return ids


def logged(log_bytes: bytes) -> list[Patch]:
    return list(parse_patches(log_bytes.decode("utf-8")))


def patch_ids(patches: list[Patch]) -> list[str]:
    return [patch.id.rsplit("/", 1)[-1] for patch in patches]


@dataclass(frozen=True)
class StoreView:
    """The oxigraph:DIR store read directly, with no server running."""

    commits: set[str]
    burst: dict[int, int]


def read_store(store: Path) -> StoreView:
    db = ox.Store.read_only(str(store))
    try:
        commits = [str(row["c"].value) for row in solutions(db, COMMITS_PREFIXED)]
        burst = {
            int(row["g"].value[len(BURST) :]): int(row["n"].value)
            for row in solutions(db, BURST_GRAPHS)
        }
    finally:
        del db
    return StoreView(commit_ids_of(commits), burst)


def solutions(db: ox.Store, query: str) -> list[ox.QuerySolution]:
    result = db.query(query)
    assert isinstance(result, ox.QuerySolutions)
    return list(result)


@dataclass(frozen=True)
class Aftermath:
    burst: Burst
    #: The log's complete transactions at the kill, and whether a torn one followed them.
    log_at_kill: list[Patch]
    torn_at_kill: bool
    store_at_kill: StoreView
    #: As the restarted server answers, before any new write.
    endpoint_burst: dict[int, int]
    endpoint_commits: set[str]
    listed: list[str]
    #: The log file and the store once the restarted server has stopped (after one more write).
    log_after: bytes
    store_after: StoreView
    write_after_restart: dict[str, object]


@pytest.fixture(scope="module")
def aftermath(built_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Aftermath:
    work = tmp_path_factory.mktemp("durability")
    store, tokens, server_log = work / "store", work / "tokens", work / "server.log"
    token = secrets.token_hex(16)
    tokens.write_text(f"burst:{token}\n")
    server = start_server(built_dir, store, tokens, server_log)
    try:
        burst = burst_until_killed(server, token, store / CHANGE_LOG)
    finally:
        kill_group(server)
    raw = (store / CHANGE_LOG).read_bytes()
    log_at_kill, torn = logged(raw), not raw.endswith(b"TC .\n")
    store_at_kill = read_store(store)

    server = start_server(built_dir, store, tokens, server_log)
    try:
        endpoint_burst = burst_counts_of(select(server.base, BURST_GRAPHS))
        endpoint_commits = commit_ids_of([r["c"]["value"] for r in select(server.base, COMMITS)])
        listed = listed_changes(server.base)
        after = httpx.post(
            server.base + "/update",
            content=write_text(0),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/sparql-update",
            },
            timeout=30,
        )
        write_after = {"status": after.status_code, **json.loads(after.content or b"{}")}
    finally:
        stop_group(server)
    return Aftermath(
        burst,
        log_at_kill,
        torn,
        store_at_kill,
        endpoint_burst,
        endpoint_commits,
        listed,
        (store / CHANGE_LOG).read_bytes(),
        read_store(store),
        write_after,
    )


# --- the checks ---------------------------------------------------------------------------------


def test_burst_is_acknowledged_and_refuses_nothing(aftermath: Aftermath) -> None:
    burst = aftermath.burst
    assert burst.acknowledged, "no write was acknowledged before the kill"
    assert burst.refused == {}
    assert set(burst.acknowledged) <= burst.attempted


def test_every_acknowledged_write_is_there_in_full_after_the_restart(aftermath: Aftermath) -> None:
    acknowledged = aftermath.burst.acknowledged
    missing = {n: aftermath.endpoint_burst.get(n, 0) for n in acknowledged}
    assert {n: c for n, c in missing.items() if c != TRIPLES} == {}
    stored = {n: aftermath.store_after.burst.get(n, 0) for n in acknowledged}
    assert {n: c for n, c in stored.items() if c != TRIPLES} == {}


def test_no_write_is_half_there_after_the_restart(aftermath: Aftermath) -> None:
    attempted = aftermath.burst.attempted
    for view in (aftermath.endpoint_burst, aftermath.store_after.burst):
        assert {n: c for n, c in view.items() if c != TRIPLES} == {}
        assert set(view) - {0} <= attempted


def test_acknowledged_commits_are_in_the_change_log(aftermath: Aftermath) -> None:
    logged_ids = set(patch_ids(logged(aftermath.log_after)))
    assert set(aftermath.burst.acknowledged.values()) <= logged_ids
    # At the kill already: acknowledged means logged and on disk.
    assert set(aftermath.burst.acknowledged.values()) <= set(patch_ids(aftermath.log_at_kill))


def test_store_at_the_kill_holds_no_commit_the_log_lacks(aftermath: Aftermath) -> None:
    at_kill = aftermath.store_at_kill
    assert at_kill.commits <= set(patch_ids(aftermath.log_at_kill))
    assert {n: c for n, c in at_kill.burst.items() if c != TRIPLES} == {}


def test_changes_lists_exactly_the_commits_in_the_store(aftermath: Aftermath) -> None:
    listed = aftermath.listed
    assert len(listed) == len(set(listed))
    assert set(listed) == aftermath.endpoint_commits
    assert set(listed) == set(patch_ids(aftermath.log_at_kill))
    # One commit per write present, and one write per commit.
    assert len(listed) == len(aftermath.endpoint_burst)


def test_change_log_parses_into_one_chain_ending_with_a_complete_transaction(
    aftermath: Aftermath,
) -> None:
    log_after = aftermath.log_after
    assert log_after.endswith(b"\nTC .\n")
    patches = logged(log_after)
    ids = patch_ids(patches)
    assert len(ids) == len(set(ids))
    previous = [patch.previous for patch in patches]
    assert previous == [None, *(patch.id for patch in patches[:-1])]


def test_store_on_disk_and_change_log_name_the_same_commits(aftermath: Aftermath) -> None:
    assert aftermath.store_after.commits == set(patch_ids(logged(aftermath.log_after)))


def test_writes_continue_the_chain_after_the_restart(aftermath: Aftermath) -> None:
    after = aftermath.write_after_restart
    assert after["status"] == 200
    patches = logged(aftermath.log_after)
    assert patch_ids(patches)[-1] == after["commit"]
    assert patches[-1].previous is not None
    assert patch_ids(patches)[-2] == aftermath.listed[0]
    assert aftermath.store_after.burst.get(0) == TRIPLES
