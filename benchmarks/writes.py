"""Write benchmark (issue 12, curated writes): commit latency, sustained writes under reads, kill -9.

On a synthetic world of `--triples` (benchmarks/generate.py, seed 1), served as benchmarks/
endpoint.py serves one (a directory holding diplokg.nq, the app started without the rebuild
check, here after `diplokg serve`'s own preparation of a writable store, api.cli.prepare_writes)
by `diplokg serve --store oxigraph:DIR --write-tokens FILE` with its default two query workers:

  latency    `--commits` sequential commits on one keep-alive connection, each a new
             dk:Recognition (label, evidence, source article, and the state, government and
             start date of a recognition of the world) in a graph of its own, answered 200; then
             as many refused ones (the same with a dk:endDate before its start), answered 409
             with the SHACL report. Median, p95, p99, max in ms. Target: under 50 ms each.
  sustained  `--readers` processes of distinct point lookups (SELECT ?p ?o WHERE { <entity> ?p ?o }
             LIMIT n, never the same query twice, each reader at most `--read-rate` per second,
             over a keep-alive connection of http.client, each reader a process of its own)
             and `--writers` connections of wrk committing (benchmarks/commits.lua, each commit
             a new one), `--duration` s a phase: the writers alone, as fast as they are
             answered; then `--rounds` times the readers alone, the readers beside writers
             holding to `--write-rate` commits/s between them (the target's rate, on a
             schedule), and the readers beside writers as fast as they are answered (in turn,
             so that a drift of the shared machine's speed weighs on every kind alike). Each
             kind's reads are pooled over its phases. Targets: at least 200 commits/s beside
             the readers (as fast as answered), and the reads' p99 beside writers at the
             target's rate less than 2x its value alone; the p99 beside writers as fast as
             answered (a load the target does not ask) is shown too, with each round's ratios.
  kill       `--kill-writes` commits from `--writers` threads, the whole server process group
             (server, writer, query workers) killed with SIGKILL `--kills` times while writes
             are in flight, started again each time; then every acknowledged commit must be
             there in full (via /sparql, and in the store DIR itself once the server stopped),
             no commit half there, and /changes, the store's dk:Commit records and the change
             log must name the same commits. Acknowledged commits lost: target 0.
  breakdown  the server stopped, the store opened in this process (api.writer.open_repository)
             and `--commits` more commits run through Repository.commit: the median of each step
             (evaluate, check, log, apply; CommitResult.timings), to tell where the time goes.

Every figure is printed as it comes, then a Markdown table for docs/benchmarks.md. The 1-minute
load average is printed with each phase: the machine may be shared.

    .venv/bin/python benchmarks/writes.py --triples 1000000 --workdir /tmp/diplokg-writes
    .venv/bin/python benchmarks/writes.py --triples 100000 --commits 100 --duration 10

The world is generated once per workdir and size (kept); the store is loaded afresh every run.
Not part of `make test`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import itertools
import json
import multiprocessing
import os
import platform
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.generate import DK, DKG, PROV, RDF, RES  # noqa: E402
from benchmarks.generate import write as write_world  # noqa: E402
from benchmarks.servers import free_port, server_env, tree_rss_mb  # noqa: E402
from benchmarks.workload import ACCEPT  # noqa: E402

WORLD_SEED = 1
AGENT = "bench"
CHANGE_LOG = "diplokg-changes.rdfp"
#: wrk's threads for the writers' connections, and its script.
WRK_THREADS = 2
COMMITS_LUA = ROOT / "benchmarks" / "commits.lua"
UPDATE = "application/sparql-update"
TARGET_LATENCY_MS = 50.0
TARGET_COMMITS_PER_S = 200.0
TARGET_READ_P99_RATIO = 2.0
#: An end date before any start date of the world: the commit breaks FactEndNotBeforeStartShape.
EARLY_END = '"1800-01-01"^^<http://www.w3.org/2001/XMLSchema#date>'
#: Commits before the latency run (first requests: imports, caches, connections).
WARM_UP = 10
#: Recognitions of the world whose links the new facts reuse.
TEMPLATES = 2000
PREFIXES = (
    "PREFIX dk: <https://w3id.org/diplokg/ontology#>\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
    "PREFIX prov: <http://www.w3.org/ns/prov#>\n"
)

#: `diplokg serve` minus its rebuild check (a generated world is not a build of the sources):
#: prepare the writable store as the command does, then serve. argv: dataset, port, Settings JSON.
LAUNCHER = """
import json, sys
from pathlib import Path
from api.app import serve
from api.cli import prepare_writes
from api.settings import Settings
settings = Settings.from_env(dataset=Path(sys.argv[1]), port=int(sys.argv[2]),
                             **json.loads(sys.argv[3]))
prepare_writes(settings)
serve(settings)
"""


# --- the world and the facts written into it ----------------------------------------------------


@dataclass(frozen=True)
class Template:
    """The links of a recognition of the world (terms in N-Triples syntax)."""

    state: str
    government: str
    start: str
    article: str


@dataclass(frozen=True)
class World:
    directory: Path
    quads: int
    templates: list[Template]
    entities: list[str]


def prepare_world(workdir: Path, triples: int) -> World:
    """The world's directory (diplokg.nq, generated once), and what the benchmark reads of it."""
    directory = workdir / f"world-{triples}"
    nq = directory / "diplokg.nq"
    if not nq.is_file():
        directory.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        partial = nq.with_suffix(".part")
        write_world(partial, WORLD_SEED, triples)
        append_ontology(partial)
        partial.rename(nq)
        print(f"generated {nq} in {time.monotonic() - started:.1f} s", flush=True)
    templates, entities, quads = read_world(nq)
    if not templates:
        sys.exit(f"{nq} holds no dk:Recognition with its state, government, date and article")
    return World(directory, quads, templates, entities)


def append_ontology(nq: Path) -> None:
    """The ontology in its graph, as a build has it: the commit check takes the class hierarchy
    (a dk:Recognition is a dk:Fact) from the store, and the world alone has none."""
    import pyoxigraph as ox

    from graph.layout import ONTOLOGY_DIR
    from graph.namespaces import ONTOLOGY_IRI

    graph = ox.NamedNode(str(ONTOLOGY_IRI))
    quads = [
        ox.Quad(t.subject, t.predicate, t.object, graph)
        for path in sorted(ONTOLOGY_DIR.glob("*.ttl"))
        for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)
    ]
    with nq.open("ab") as out:
        out.write(ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"")


def read_world(nq: Path) -> tuple[list[Template], list[str], int]:
    """Recognitions with all their links (the first TEMPLATES), the typed entities, the quads."""
    import pyoxigraph as ox

    wanted = {
        DK + "recognizingState": "state",
        DK + "recognizedGovernment": "government",
        DK + "startDate": "start",
        PROV + "wasDerivedFrom": "article",
    }
    rdf_type, recognition = RDF + "type", DK + "Recognition"
    facts: dict[str, dict[str, str]] = {}
    recognitions: list[str] = []
    entities: list[str] = []
    quads = 0
    for quad in ox.parse(path=str(nq), format=ox.RdfFormat.N_QUADS):
        quads += 1
        subject, predicate = quad.subject, quad.predicate.value
        if not isinstance(subject, ox.NamedNode):
            continue
        if predicate == rdf_type:
            entities.append(subject.value)
            if quad.object.value == recognition and len(recognitions) < TEMPLATES:
                recognitions.append(subject.value)
        elif predicate in wanted:
            facts.setdefault(subject.value, {})[wanted[predicate]] = str(quad.object)
    templates = [Template(**facts[r]) for r in recognitions if len(facts.get(r, {})) == len(wanted)]
    return templates, sorted(set(entities)), quads


class Facts:
    """New recognitions, numbered: each its own subject and graph, reusing a world's links."""

    #: Quads of one accepted fact (type, label, state, government, start, article, evidence).
    QUADS = 7

    def __init__(self, templates: list[Template], tag: str) -> None:
        self.templates = templates
        self.tag = tag
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    def next_number(self) -> int:
        with self._lock:
            return next(self._numbers)

    def graph(self, n: int) -> str:
        return f"{DKG}curated-bench-{self.tag}-{n:06d}"

    def text(self, n: int, *, refused: bool = False) -> str:
        t = self.templates[n % len(self.templates)]
        node = f"<{RES}recognition-bench-{self.tag}-{n:06d}>"
        end = f" ;\n  dk:endDate {EARLY_END}" if refused else ""
        return (
            f"{PREFIXES}INSERT DATA {{ GRAPH <{self.graph(n)}> {{\n"
            f'{node} a dk:Recognition ; rdfs:label "Benchmark recognition {n}"@en ;\n'
            f"  dk:recognizingState {t.state} ; dk:recognizedGovernment {t.government} ;\n"
            f"  dk:startDate {t.start} ; prov:wasDerivedFrom {t.article} ;\n"
            f'  dk:evidence "A recognition written by the write benchmark, number {n}."{end} .\n'
            "} }"
        )


# --- the server ---------------------------------------------------------------------------------


@dataclass
class Server:
    """`diplokg serve` with writes, leading a process group of its own (writer, query workers)."""

    process: subprocess.Popen[bytes]
    base: str
    log: Path
    started_s: float

    @property
    def group(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL to the whole group at once (kill -9 of the server and its children)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.group, signal.SIGKILL)
        self.process.wait(timeout=30)
        wait_group_gone(self.group)

    def stop(self) -> None:
        self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=60)
        wait_group_gone(self.group, within=10)
        self.kill()  # whatever is left of the group


def group_gone(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return True
    return False


def wait_group_gone(group: int, within: float = 30) -> None:
    deadline = time.monotonic() + within
    while not group_gone(group) and time.monotonic() < deadline:
        time.sleep(0.05)


@dataclass(frozen=True)
class ServerConfig:
    dataset: Path
    store: Path
    tokens: Path
    logs: Path
    workers: int

    def settings(self) -> dict[str, object]:
        return {
            "store": f"oxigraph:{self.store}",
            "write_tokens": str(self.tokens),
            "workers": self.workers,
            "log_level": "warning",  # the writer logs each commit at INFO all the same
        }


def start_server(config: ServerConfig, launcher: Path, ready_within: float = 900) -> Server:
    port = free_port()
    argv = [sys.executable, str(launcher), str(config.dataset), str(port)]
    argv.append(json.dumps(config.settings()))
    started = time.monotonic()
    with config.logs.open("ab") as out:
        process = subprocess.Popen(
            argv, stdout=out, stderr=out, env=server_env(), start_new_session=True
        )
    server = Server(process, f"http://127.0.0.1:{port}", config.logs, 0.0)
    deadline = started + ready_within
    while True:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(server.base + "/healthz", timeout=2).status_code == 200:
                server.started_s = time.monotonic() - started
                return server
        if process.poll() is not None or time.monotonic() > deadline:
            server.kill()
            tail = config.logs.read_text(errors="replace")[-3000:]
            sys.exit(f"the server did not start ({process.returncode}):\n{tail}")
        time.sleep(0.2)


# --- figures --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Latency:
    n: int
    median: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, samples_ms: list[float]) -> Latency:
        if not samples_ms:
            return cls(0, float("nan"), float("nan"), float("nan"), float("nan"))
        if len(samples_ms) == 1:
            v = samples_ms[0]
            return cls(1, v, v, v, v)
        cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
        return cls(
            len(samples_ms), statistics.median(samples_ms), cuts[94], cuts[98], max(samples_ms)
        )

    def line(self) -> str:
        return (
            f"median {self.median:7.2f} ms  p95 {self.p95:7.2f} ms  p99 {self.p99:7.2f} ms  "
            f"max {self.max:7.2f} ms  (n={self.n})"
        )


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def write_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": UPDATE}


# --- latency ----------------------------------------------------------------------------------------


def commit_once(client: httpx.Client, text: str) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = client.post("/update", content=text.encode("utf-8"))
    return (time.perf_counter() - started) * 1000, response


def check_status(response: httpx.Response, expected: int, what: str) -> None:
    if response.status_code != expected:
        sys.exit(
            f"{what}: expected {expected}, got {response.status_code}:\n{response.text[:3000]}"
        )


def latency_phase(
    server: Server, token: str, facts: Facts, commits: int
) -> tuple[Latency, Latency]:
    """Sequential accepted commits, then as many refused ones, on one keep-alive connection."""
    accepted: list[float] = []
    refused: list[float] = []
    with httpx.Client(base_url=server.base, headers=write_headers(token), timeout=120) as client:
        for _ in range(WARM_UP):
            _, response = commit_once(client, facts.text(facts.next_number()))
            check_status(response, 200, "a valid new recognition")
            _, response = commit_once(client, facts.text(facts.next_number(), refused=True))
            check_status(response, 409, "a recognition ending before its start")
        for _ in range(commits):
            ms, response = commit_once(client, facts.text(facts.next_number()))
            check_status(response, 200, "a valid new recognition")
            if response.json().get("commit") is None:
                sys.exit(f"a valid new recognition made no commit: {response.text}")
            accepted.append(ms)
        for _ in range(commits):
            ms, response = commit_once(client, facts.text(facts.next_number(), refused=True))
            check_status(response, 409, "a recognition ending before its start")
            refused.append(ms)
    return Latency.of(accepted), Latency.of(refused)


# --- sustained writes, and reads beside them ---------------------------------------------------------


@dataclass
class Tally:
    """What a phase's threads did: latencies, errors, under one lock."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, ms: float) -> None:
        with self.lock:
            self.latencies_ms.append(ms)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors[what] = self.errors.get(what, 0) + 1


class Reads:
    """Distinct point lookups: entity i, LIMIT from a counter, never one query twice. Reader
    `index` of `of` takes every `of`-th number from `first`, so that readers in processes of
    their own never send the same query either (each phase starts from a `first` of its own)."""

    def __init__(self, entities: list[str], first: int = 1000, index: int = 0, of: int = 1) -> None:
        self.entities = entities
        self._numbers = itertools.count(first + index, of)
        self._lock = threading.Lock()

    def next_query(self) -> str:
        with self._lock:
            n = next(self._numbers)
        entity = self.entities[(n * 7919) % len(self.entities)]
        return f"SELECT ?p ?o WHERE {{ <{entity}> ?p ?o }} LIMIT {n}"


def reader(base: str, reads: Reads, rate: float, until: float, tally: Tally) -> None:
    """One reader: a distinct query every 1/rate s (sooner if late), its latency, over one
    keep-alive connection of the standard library's http.client (httpx cost 2.3 ms of this
    2-core machine's CPU a read, taken from the server it measures)."""
    interval = 1.0 / rate
    url = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=60)
    try:
        next_at = time.monotonic()
        while time.monotonic() < until:
            path = "/sparql?" + urllib.parse.urlencode({"query": reads.next_query()})
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers={"Accept": ACCEPT})
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as exc:
                tally.error(type(exc).__name__)
                connection.close()
                continue
            ms = (time.perf_counter() - started) * 1000
            if response.status == 200:
                tally.add(ms)
            else:
                tally.error(str(response.status))
            next_at += interval
            pause = next_at - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            else:
                next_at = time.monotonic()
    finally:
        connection.close()


@dataclass(frozen=True)
class Sustained:
    label: str
    seconds: float
    commits: int
    commit_latency: Latency
    reads: Latency
    read_rps: float
    errors: dict[str, int]
    #: Every read's latency, in ms (pooled over the phases of one kind; left out of --json).
    read_samples: tuple[float, ...] = ()
    #: The commits/s the writers held to (0: as fast as answered).
    write_rate: float = 0.0

    @property
    def kind(self) -> str:
        """The load, without the number of its round ("reads alone", "reads + writes flat out")."""
        return self.label.split(" #")[0]

    @property
    def commits_per_s(self) -> float:
        return self.commits / self.seconds if self.seconds else 0.0


#: The kinds of sustained phase beside "writes alone" (Sustained.kind).
READS_ALONE = "reads alone"
READS_PACED = "reads + writes at"
READS_FLAT_OUT = "reads + writes flat out"
#: A paced phase whose writers committed less than this share of their rate fell behind.
PACED_KEPT_UP = 0.97

#: Sustained phases run so far (each reads queries of its own).
_PHASES = itertools.count()


def reader_process(base: str, reads: Reads, rate: float, until: float, out: Any) -> None:
    """A reader in a process of its own (forked): its latencies and errors, sent back on `out`."""
    tally = Tally()
    try:
        reader(base, reads, rate, until, tally)
    finally:
        out.send((tally.latencies_ms, tally.errors))
        out.close()


def run_phase(
    label: str,
    server: Server,
    token: str,
    facts: Facts,
    entities: list[str],
    args: argparse.Namespace,
    *,
    writers: int,
    readers: int,
    write_rate: float = 0,
) -> Sustained:
    """`readers` reader processes and `writers` wrk connections committing, for `duration` s.

    Each reader is a process of its own, like the independent users it stands for: as threads
    of this process they shared its interpreter lock with each other and with this process's
    own work, so that one stalled the other (docs/benchmarks.md)."""
    fork = multiprocessing.get_context("fork")
    first = 1000 + next(_PHASES) * 10_000_000
    until = time.monotonic() + args.duration
    read = Tally()
    pipes = [fork.Pipe(duplex=False) for _ in range(readers)]
    processes = [
        fork.Process(
            target=reader_process,
            args=(server.base, Reads(entities, first, i, readers), args.read_rate, until, sending),
            daemon=True,
        )
        for i, (_, sending) in enumerate(pipes)
    ]
    started = time.monotonic()
    for process in processes:
        process.start()
    errors: dict[str, int] = {}
    commits, latency, writing_s = 0, Latency.of([]), 0.0
    if writers:
        commits, latency, errors, writing_s = wrk_writers(
            server.base, token, facts, writers, args, write_rate
        )
    for (receiving, _), process in zip(pipes, processes, strict=True):
        latencies, failed = receiving.recv()
        read.latencies_ms += latencies
        for what, n in failed.items():
            read.errors[what] = read.errors.get(what, 0) + n
        process.join()
    seconds = time.monotonic() - started
    errors |= {f"read {k}": v for k, v in read.errors.items()}
    return Sustained(
        label,
        writing_s or seconds,
        commits,
        latency,
        Latency.of(read.latencies_ms),
        len(read.latencies_ms) / seconds,
        errors,
        tuple(read.latencies_ms),
        write_rate,
    )


#: Commits prepared per second of a sustained phase: more than the server could take.
PREPARED_PER_S = 800


def wrk_writers(
    base: str, token: str, facts: Facts, writers: int, args: argparse.Namespace, rate: float = 0
) -> tuple[int, Latency, dict[str, int], float]:
    """`writers` wrk connections, each committing as soon as its last commit is answered, or
    with a `rate`, all of them together `rate` commits/s on a schedule (benchmarks/commits.lua): commits answered 2xx, their latency, the errors, and the seconds
    wrk wrote for. wrk is C: its own share of the machine is small beside a Python client's
    (httpx threads took a third of a core here, which the server then lacked)."""
    count = int(args.duration * PREPARED_PER_S) + 1000
    texts = (facts.text(facts.next_number()) for _ in range(count))
    with tempfile.NamedTemporaryFile(prefix="diplokg-commits-", suffix=".bin") as bodies:
        bodies.write(b"\0".join(t.encode("utf-8") for t in texts))
        bodies.flush()
        wrk_threads = min(WRK_THREADS, writers)
        argv = ["wrk", f"-t{wrk_threads}", f"-c{writers}", f"-d{int(args.duration)}s"]
        argv += ["--latency", "--timeout", "60s", "-s", str(COMMITS_LUA), base, "--"]
        argv += [bodies.name, token, str(wrk_threads), f"{rate:g}"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=args.duration + 120)
    found = re.search(r"commits: (.*)", done.stdout)
    if done.returncode != 0 or found is None:
        sys.exit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    f = {k: int(v) for k, v in re.findall(r"(\w+) (\d+)", found.group(1))}
    errors = {k: f[k] for k in ("non2xx", "socket") if f[k]}
    answered = f["requests"] - f["non2xx"]
    seconds = f["duration_us"] / 1e6
    ms = [f[k] / 1000 for k in ("p50_us", "p95_us", "p99_us", "max_us")]
    return answered, Latency(answered, *ms), errors, seconds


def print_sustained(s: Sustained) -> None:
    print(f"  {s.label} ({s.seconds:.1f} s, {load()})", flush=True)
    if s.commits:
        print(
            f"    commits {s.commits} = {s.commits_per_s:.1f}/s; commit {s.commit_latency.line()}"
        )
    if s.reads.n:
        print(f"    reads {s.reads.n} = {s.read_rps:.1f}/s; read {s.reads.line()}")
    if s.errors:
        print(f"    errors: {s.errors}")


# --- kill -9 -------------------------------------------------------------------------------------------


@dataclass
class KillRun:
    """Writes sent, acknowledged (number -> commit id), refused, over every server life."""

    attempted: set[int] = field(default_factory=set)
    acknowledged: dict[int, str] = field(default_factory=dict)
    refused: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def unanswered(self) -> set[int]:
        with self.lock:
            return self.attempted - set(self.acknowledged) - set(self.refused)


def kill_writer(base: str, token: str, facts: Facts, run: KillRun, stop: threading.Event) -> None:
    with httpx.Client(base_url=base, headers=write_headers(token), timeout=120) as client:
        while not stop.is_set():
            n = facts.next_number()
            with run.lock:
                run.attempted.add(n)
            try:
                _, response = commit_once(client, facts.text(n))
            except httpx.TransportError:  # killed under this request
                continue
            with run.lock:
                if response.status_code == 200:
                    run.acknowledged[n] = response.json()["commit"]
                else:
                    run.refused[n] = response.status_code


def life(
    server: Server, token: str, facts: Facts, run: KillRun, writers: int, until: int, *, kill: bool
) -> None:
    """Writers on one server life, until `until` writes are acknowledged in all; then SIGKILL
    to the group with the writes in flight (`kill`), or the writers stop."""
    stop = threading.Event()
    threads = [
        threading.Thread(target=kill_writer, args=(server.base, token, facts, run, stop))
        for _ in range(writers)
    ]
    for thread in threads:
        thread.start()
    while len(run.acknowledged) < until and server.process.poll() is None:
        time.sleep(0.002)
    stop.set()  # no write starts after this; those in flight meet the kill
    if kill:
        server.kill()
    for thread in threads:
        thread.join(timeout=130)
    if server.process.poll() is not None and not kill:
        sys.exit(f"the server stopped by itself ({server.process.returncode}); see {server.log}")


@dataclass(frozen=True)
class KillReport:
    writes: int
    acknowledged: int
    kills: int
    unanswered: int  # attempted, never acknowledged (in flight at a kill)
    lost: int  # acknowledged, not all there after the restarts
    partial: int  # any write with some but not all of its quads
    unanswered_present: int  # unacknowledged writes present in full
    changes_match: bool
    store_matches_log: bool
    log_complete: bool
    restart_s: list[float]
    details: list[str]


def kill_phase(
    config: ServerConfig,
    launcher: Path,
    token: str,
    facts: Facts,
    args: argparse.Namespace,
) -> KillReport:
    run = KillRun()
    kills = max(1, args.kills)
    goals = [args.kill_writes * (k + 1) // (kills + 1) for k in range(kills)]
    restarts: list[float] = []
    loads: list[float] = []
    for k, goal in enumerate(goals):
        server = start_server(config, launcher)
        (restarts if k else loads).append(server.started_s)
        before = len(run.unanswered())
        life(server, token, facts, run, args.writers, goal, kill=True)
        print(
            f"  kill {k + 1}: SIGKILL after {len(run.acknowledged)} acknowledged writes, "
            f"{len(run.unanswered()) - before} in flight ({load()})",
            flush=True,
        )
    server = start_server(config, launcher)
    restarts.append(server.started_s)
    try:
        life(server, token, facts, run, args.writers, args.kill_writes, kill=False)
        present = graph_sizes(server.base, facts, run.attempted)
        listed = listed_changes(server.base)
        committed = commits_via_sparql(server.base)
    finally:
        server.stop()
    from graph.writes.delta import parse_patches

    log_bytes = (config.store / CHANGE_LOG).read_bytes()
    logged = {p.id.rsplit("/", 1)[-1] for p in parse_patches(log_bytes.decode("utf-8"))}
    stored_commits, stored = read_store(config.store, facts, run.attempted)
    print(f"  first start (store loaded): {loads[0]:.1f} s", flush=True)
    return judge(run, kills, present, stored, listed, committed, logged, stored_commits, log_bytes,
                 restarts)  # fmt: skip


def judge(
    run: KillRun,
    kills: int,
    present: dict[int, int],
    stored: dict[int, int],
    listed: list[str],
    committed: set[str],
    logged: set[str],
    stored_commits: set[str],
    log_bytes: bytes,
    restarts: list[float],
) -> KillReport:
    details: list[str] = []
    full = Facts.QUADS
    lost = {n for n in run.acknowledged if present.get(n) != full or stored.get(n) != full}
    partial = {n for view in (present, stored) for n, c in view.items() if c != full}
    unanswered = run.unanswered()
    if lost:
        details.append(f"lost: {sorted(lost)[:20]}")
    if partial:
        details.append(f"partial: { {n: present.get(n) for n in sorted(partial)[:20]} }")
    if run.refused:
        details.append(f"refused: {dict(list(run.refused.items())[:20])}")
    acknowledged_ids = set(run.acknowledged.values())
    if not acknowledged_ids <= logged:
        details.append(f"acknowledged, not logged: {sorted(acknowledged_ids - logged)[:20]}")
    changes_match = set(listed) == committed == logged and len(listed) == len(set(listed))
    if not changes_match:
        details.append(
            f"/changes {len(listed)}, dk:Commit via /sparql {len(committed)}, log {len(logged)}"
        )
    store_matches = stored_commits == logged
    if not store_matches:
        details.append(f"store {len(stored_commits)} commits, log {len(logged)}")
    return KillReport(
        writes=len(run.attempted),
        acknowledged=len(run.acknowledged),
        kills=kills,
        unanswered=len(unanswered),
        lost=len(lost),
        partial=len(partial),
        unanswered_present=sum(1 for n in unanswered if present.get(n) == full),
        changes_match=changes_match,
        store_matches_log=store_matches,
        log_complete=log_bytes.endswith(b"\nTC .\n"),
        restart_s=restarts,
        details=details,
    )


def sizes_query(facts: Facts, numbers: set[int]) -> str:
    """Quads per graph of the given facts (graphs without any are left out)."""
    graphs = " ".join(f"<{facts.graph(n)}>" for n in sorted(numbers))
    return (
        f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {graphs} }} GRAPH ?g {{ ?s ?p ?o }} }} "
        "GROUP BY ?g"
    )


def number_of(facts: Facts, graph: str) -> int:
    return int(graph[len(facts.graph(0)) - len("000000") :])


def graph_sizes(base: str, facts: Facts, numbers: set[int]) -> dict[int, int]:
    """Fact number -> quads in its graph, via /sparql (POST: the query names every graph)."""
    rows = select(base, sizes_query(facts, numbers))
    return {number_of(facts, r["g"]["value"]): int(r["n"]["value"]) for r in rows}


def select(base: str, query: str) -> list[dict[str, dict[str, str]]]:
    response = httpx.post(
        base + "/sparql",
        content=query.encode("utf-8"),
        headers={"Accept": ACCEPT, "Content-Type": "application/sparql-query"},
        timeout=300,
    )
    check_status(response, 200, query[:80])
    return list(response.json()["results"]["bindings"])


def commits_via_sparql(base: str) -> set[str]:
    rows = select(base, PREFIXES + "SELECT ?c WHERE { GRAPH ?c { ?c a dk:Commit } }")
    return {r["c"]["value"].rsplit("/", 1)[-1] for r in rows}


def listed_changes(base: str) -> list[str]:
    ids: list[str] = []
    url: str | None = "/changes?limit=1000"
    while url is not None:
        response = httpx.get(base + url, headers={"Accept": "application/json"}, timeout=60)
        check_status(response, 200, "/changes")
        page = response.json()
        ids += [entry["id"] for entry in page["changes"]]
        url = page.get("next")
    return ids


def read_store(store: Path, facts: Facts, numbers: set[int]) -> tuple[set[str], dict[int, int]]:
    """The commits and the facts' graph sizes in the store DIR itself (no server running)."""
    import pyoxigraph as ox

    db = ox.Store.read_only(str(store))
    try:
        commit_rows = solutions(db, PREFIXES + "SELECT ?c WHERE { GRAPH ?c { ?c a dk:Commit } }")
        size_rows = solutions(db, sizes_query(facts, numbers))
    finally:
        del db
    commits = {str(term_value(row, "c")).rsplit("/", 1)[-1] for row in commit_rows}
    sizes = {number_of(facts, term_value(row, "g")): int(term_value(row, "n")) for row in size_rows}
    return commits, sizes


def solutions(db: Any, query: str) -> list[Any]:
    import pyoxigraph as ox

    result = db.query(query)
    assert isinstance(result, ox.QuerySolutions)
    return list(result)


def term_value(row: Any, name: str) -> str:
    return str(row[name].value)


def print_kill(report: KillReport) -> None:
    print(
        f"  {report.acknowledged} acknowledged of {report.writes} sent, {report.kills} kill(s); "
        f"in flight at the kills (unanswered): {report.unanswered}, of which present in full: "
        f"{report.unanswered_present}"
    )
    print(
        f"  acknowledged lost: {report.lost}; half there: {report.partial}; /changes = commits "
        f"in the store = change log: {report.changes_match}; store DIR = log: "
        f"{report.store_matches_log}; log ends with TC: {report.log_complete}"
    )
    print(f"  restarts: {', '.join(f'{s:.1f} s' for s in report.restart_s)}")
    for line in report.details:
        print(f"  PROBLEM {line}")


# --- where a commit's time goes ----------------------------------------------------------------------


def breakdown_phase(
    config: ServerConfig, facts: Facts, commits: int
) -> tuple[dict[str, Latency], Latency, float]:
    """Commits run through Repository.commit in this process: each step's latencies, the
    refusals' (ShapesViolation raised), and the seconds to open and recover the store."""
    from api.writer import WriterConfig, open_repository
    from graph.writes.repository import ShapesViolation, WriteRequest
    from graph.writes.update import UpdateRequest

    started = time.monotonic()
    repository, _ = open_repository(
        WriterConfig(f"oxigraph:{config.store}", config.dataset, config.store / CHANGE_LOG)
    )
    opened = time.monotonic() - started
    steps: dict[str, list[float]] = {}
    for _ in range(WARM_UP):
        repository.commit(
            WriteRequest(AGENT, update=UpdateRequest(facts.text(facts.next_number())))
        )
    for _ in range(commits):
        text = facts.text(facts.next_number())
        result = repository.commit(WriteRequest(AGENT, update=UpdateRequest(text)))
        for step, ms in result.timings.items():
            steps.setdefault(step, []).append(ms)
    refused: list[float] = []
    for _ in range(commits):
        text = facts.text(facts.next_number(), refused=True)
        clock = time.perf_counter()
        try:
            repository.commit(WriteRequest(AGENT, update=UpdateRequest(text)))
        except ShapesViolation:
            refused.append((time.perf_counter() - clock) * 1000)
        else:
            sys.exit("a recognition ending before its start was accepted in-process")
    del repository
    return {k: Latency.of(v) for k, v in steps.items()}, Latency.of(refused), opened


# --- the run -----------------------------------------------------------------------------------------


@dataclass
class Results:
    triples: int
    quads: int
    start_s: float = 0.0
    rss_mb: float = 0.0
    accepted: Latency | None = None
    refused: Latency | None = None
    sustained: list[Sustained] = field(default_factory=list)
    kill: KillReport | None = None
    steps: dict[str, Latency] = field(default_factory=dict)
    steps_refused: Latency | None = None


def pooled(phases: list[Sustained]) -> dict[str, Sustained]:
    """Each kind of load (Sustained.kind) with the figures of all its runs together: the reads'
    latencies pooled, commits over the seconds of all of them."""
    kinds: dict[str, list[Sustained]] = {}
    for s in phases:
        kinds.setdefault(s.kind, []).append(s)
    merged = {}
    for kind, runs in kinds.items():
        seconds = sum(s.seconds for s in runs)
        samples = tuple(x for s in runs for x in s.read_samples)
        commits = sum(s.commits for s in runs)
        # The commits' latency percentiles come from wrk per run: the pooled ones are the
        # commit-weighted medians of the runs' figures, not exact.
        latency = runs[0].commit_latency
        if len(runs) > 1 and commits:
            weighted = [
                _weighted_median([(getattr(s.commit_latency, f), s.commits) for s in runs])
                for f in ("median", "p95", "p99")
            ]
            top = max(s.commit_latency.max for s in runs)
            latency = Latency(commits, weighted[0], weighted[1], weighted[2], top)
        errors: dict[str, int] = {}
        for s in runs:
            for k, v in s.errors.items():
                errors[k] = errors.get(k, 0) + v
        merged[kind] = Sustained(
            f"{kind}, all {len(runs)}" if len(runs) > 1 else kind,
            seconds,
            commits,
            latency,
            Latency.of(list(samples)),
            len(samples) / seconds if seconds else 0.0,
            errors,
            samples,
            runs[0].write_rate,
        )
    return merged


def _weighted_median(values: list[tuple[float, int]]) -> float:
    values = sorted((v, w) for v, w in values if w)
    half, seen = sum(w for _, w in values) / 2, 0
    for v, w in values:
        seen += w
        if seen >= half:
            return v
    return float("nan")


def verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


def print_table(r: Results) -> None:
    print(f"\n### Writes at {r.triples} triples ({r.quads} quads), oxigraph:DIR, 2 query workers\n")
    print("| measure | median | p95 | p99 | max | target | met |")
    print("|---|---:|---:|---:|---:|---|---|")
    for label, lat in (
        ("commit, accepted (200)", r.accepted),
        ("commit, refused (409)", r.refused),
    ):
        if lat is not None:
            print(
                f"| {label} | {lat.median:.1f} ms | {lat.p95:.1f} ms | {lat.p99:.1f} ms | "
                f"{lat.max:.1f} ms | < {TARGET_LATENCY_MS:.0f} ms | "
                f"{verdict(lat.p99 < TARGET_LATENCY_MS)} (p99) |"
            )
    for step, lat in r.steps.items():
        print(
            f"| in-process step `{step}` | {lat.median:.2f} ms | {lat.p95:.2f} ms | "
            f"{lat.p99:.2f} ms | {lat.max:.2f} ms | | |"
        )
    if r.steps_refused is not None:
        lat = r.steps_refused
        print(
            f"| in-process refusal (check + report) | {lat.median:.2f} ms | {lat.p95:.2f} ms | "
            f"{lat.p99:.2f} ms | {lat.max:.2f} ms | | |"
        )
    total = r.steps.get("total")
    if r.accepted is not None and total is not None:
        print(
            f"\nAccepted commit over HTTP minus the writer's own time (in-process total), "
            f"medians: {r.accepted.median - total.median:.1f} ms"
        )
    if r.sustained:
        print("\n| load | commits/s | commit p50 | commit p99 | reads/s | read p50 | read p99 |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        by = pooled(r.sustained)
        for s in [*r.sustained, *(p for kind, p in by.items() if p.label != kind)]:
            cps = f"{s.commits_per_s:.0f}" if s.commits else "—"
            cl = f"{s.commit_latency.median:.1f} ms" if s.commits else "—"
            cl99 = f"{s.commit_latency.p99:.1f} ms" if s.commits else "—"
            rr = f"{s.read_rps:.0f}" if s.reads.n else "—"
            r50 = f"{s.reads.median:.1f} ms" if s.reads.n else "—"
            r99 = f"{s.reads.p99:.1f} ms" if s.reads.n else "—"
            print(f"| {s.label} | {cps} | {cl} | {cl99} | {rr} | {r50} | {r99} |")
        print()
        writes, alone = by.get("writes alone"), by.get(READS_ALONE)
        paced_kind = next((kind for kind in by if kind.startswith(READS_PACED)), "")
        flat = by.get(READS_FLAT_OUT)
        if writes is not None:
            ok = writes.commits_per_s >= TARGET_COMMITS_PER_S
            print(
                f"- commits/s, writers alone: {writes.commits_per_s:.0f} "
                f"(target >= {TARGET_COMMITS_PER_S:.0f}: {verdict(ok)})"
            )
        if flat is not None and flat.commits:
            ok = flat.commits_per_s >= TARGET_COMMITS_PER_S
            print(
                f"- commits/s beside the readers, writers as fast as answered (all rounds): "
                f"{flat.commits_per_s:.0f} (target >= {TARGET_COMMITS_PER_S:.0f}: {verdict(ok)})"
            )
        for name, judged in ((paced_kind, True), (READS_FLAT_OUT, False)):
            kind = by.get(name)
            if alone is None or kind is None or not alone.reads.n or not kind.reads.n:
                continue
            ratio = kind.reads.p99 / alone.reads.p99
            rounds = [
                b.reads.p99 / a.reads.p99
                for a, b in zip(
                    (s for s in r.sustained if s.kind == READS_ALONE),
                    (s for s in r.sustained if s.kind == name),
                    strict=False,
                )
                if a.reads.n and b.reads.n
            ]
            each = ", ".join(f"{x:.2f}x" for x in rounds)
            rate = f"{kind.commits_per_s:.0f} commits/s"
            if judged:
                kept = kind.commits_per_s >= PACED_KEPT_UP * kind.write_rate
                verdict_text = (
                    f"target < {TARGET_READ_P99_RATIO:.0f}x: "
                    f"{verdict(kept and ratio < TARGET_READ_P99_RATIO)}"
                    + ("" if kept else ", the writers fell behind their rate")
                )
            else:
                verdict_text = "beyond the target's rate: shown, not judged"
            print(
                f"- read p99 beside the writers ({name.removeprefix('reads + ')}, {rate}) "
                f"over alone, every round's reads pooled: {ratio:.2f}x ({verdict_text}); "
                f"round by round: {each}"
            )
    if r.kill is not None:
        k = r.kill
        print(
            f"- kill -9: {k.acknowledged} acknowledged writes, {k.kills} SIGKILL(s) of the "
            f"process group with writes in flight ({k.unanswered} unanswered): "
            f"{k.lost} acknowledged lost (target 0: {verdict(k.lost == 0)}), {k.partial} half "
            f"there, /changes = store = log: {verdict(k.changes_match and k.store_matches_log)}"
        )
    print(f"- server start (load into oxigraph:DIR + 2 replicas): {r.start_s:.1f} s; "
          f"RSS of the process tree after the latency run: {r.rss_mb:.0f} MB")  # fmt: skip


def parse_args() -> argparse.Namespace:
    lines = (__doc__ or "").splitlines()
    parser = argparse.ArgumentParser(
        description=lines[0],
        epilog="\n".join(lines[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--triples", type=int, default=1_000_000, help="size of the generated world")
    add("--commits", type=int, default=200, help="timed commits, accepted and refused each")
    add("--duration", type=float, default=20.0, help="seconds per sustained phase")
    add(
        "--rounds",
        type=int,
        default=4,
        help="reads alone, beside writers at --write-rate, beside writers flat out: how many times",
    )
    add(
        "--write-rate",
        type=float,
        default=TARGET_COMMITS_PER_S,
        help="commits/s of the paced writers beside the readers (0: no paced phases)",
    )
    add("--writers", type=int, default=4, help="concurrent writer threads")
    add("--readers", type=int, default=2, help="concurrent reader processes")
    add("--read-rate", type=float, default=50.0, help="queries per second per reader, at most")
    add("--workers", type=int, default=2, help="the server's query workers")
    add("--kill-writes", type=int, default=1000, help="acknowledged writes in the kill phase")
    add("--kills", type=int, default=2, help="SIGKILLs of the server during the kill phase")
    add("--workdir", type=Path, help="where the world, store and logs go (default: a temp dir)")
    add("--skip-latency", action="store_true")
    add("--skip-sustained", action="store_true")
    add("--skip-kill", action="store_true")
    add("--skip-breakdown", action="store_true")
    add("--json", type=Path, metavar="FILE", help="also write the figures to this JSON file")
    return parser.parse_args()


def run_phases(args: argparse.Namespace, workdir: Path) -> Results:
    world = prepare_world(workdir, args.triples)
    print(f"world: {world.quads} quads, {len(world.templates)} recognitions reused as templates")
    token = secrets.token_hex(24)
    tokens = workdir / "tokens"
    tokens.write_text(f"{AGENT}:{token}\n", encoding="utf-8")
    launcher = workdir / "launch_diplokg.py"
    launcher.write_text(LAUNCHER, encoding="utf-8")
    facts = Facts(world.templates, secrets.token_hex(3))
    results = Results(args.triples, world.quads)

    def fresh(name: str) -> ServerConfig:
        """A store and change log of their own for a phase, emptied first."""
        store = workdir / f"store-{args.triples}-{name}"
        shutil.rmtree(store, ignore_errors=True)
        logs = workdir / f"server-{args.triples}-{name}.log"
        logs.unlink(missing_ok=True)
        return ServerConfig(world.directory, store, tokens, logs, args.workers)

    config = fresh("main")
    if not (args.skip_latency and args.skip_sustained):
        server_phases(args, config, launcher, token, facts, world, results)
    if not args.skip_breakdown:
        print(f"\nbreakdown: {args.commits} commits in-process ({load()})")
        results.steps, results.steps_refused, opened = breakdown_phase(config, facts, args.commits)
        print(f"  store opened and recovered in {opened:.1f} s")
        for step, lat in results.steps.items():
            print(f"  {step:9} {lat.line()}")
        print(f"  refusal   {results.steps_refused.line()}", flush=True)
    if not args.skip_kill:
        print(f"\nkill -9: {args.kill_writes} acknowledged writes, {args.kills} kill(s) ({load()})")
        results.kill = kill_phase(fresh("kill"), launcher, token, facts, args)
        print_kill(results.kill)
    return results


def server_phases(
    args: argparse.Namespace,
    config: ServerConfig,
    launcher: Path,
    token: str,
    facts: Facts,
    world: World,
    results: Results,
) -> None:
    """Latency, then the sustained loads, on one server."""
    print(f"\nstarting the server on oxigraph:{config.store} ({load()})...", flush=True)
    server = start_server(config, launcher)
    results.start_s = server.started_s
    print(f"  ready in {server.started_s:.1f} s", flush=True)
    try:
        if not args.skip_latency:
            print(f"\nlatency: {args.commits} commits, accepted then refused ({load()})")
            results.accepted, results.refused = latency_phase(server, token, facts, args.commits)
            print(f"  accepted (200): {results.accepted.line()}")
            print(f"  refused  (409): {results.refused.line()}", flush=True)
        results.rss_mb = tree_rss_mb(server.process.pid)
        if args.skip_sustained:
            return
        print(
            f"\nsustained: {args.writers} writers, {args.readers} readers at most "
            f"{args.read_rate:g}/s each, {args.duration:g} s per phase"
        )
        phases = [("writes alone", args.writers, 0, 0.0)]
        for n in range(1, args.rounds + 1):
            phases.append((f"{READS_ALONE} #{n}", 0, args.readers, 0.0))
            if args.write_rate > 0:
                label = f"{READS_PACED} {args.write_rate:g}/s #{n}"
                phases.append((label, args.writers, args.readers, args.write_rate))
            phases.append((f"{READS_FLAT_OUT} #{n}", args.writers, args.readers, 0.0))
        for label, writers, readers, rate in phases:
            s = run_phase(label, server, token, facts, world.entities, args,
                          writers=writers, readers=readers, write_rate=rate)  # fmt: skip
            results.sustained.append(s)
            print_sustained(s)
    finally:
        server.stop()


def main() -> None:
    args = parse_args()
    if not args.skip_sustained and shutil.which("wrk") is None:
        sys.exit("wrk is needed for the sustained phase: apt-get install wrk (or --skip-sustained)")
    print(
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    )
    with contextlib.ExitStack() as stack:
        if args.workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="diplokg-w-")))
        else:
            workdir = args.workdir
            workdir.mkdir(parents=True, exist_ok=True)
        results = run_phases(args, workdir)
        print_table(results)
        if args.json:
            args.json.write_text(json.dumps(_jsonable(results), indent=2) + "\n")
            print(f"\nwrote {args.json}")


def _jsonable(value: Any) -> Any:
    from dataclasses import asdict, is_dataclass

    if is_dataclass(value) and not isinstance(value, type):
        return {
            k: _jsonable(v) for k, v in asdict(value).items() if k not in ("lock", "read_samples")
        }
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


if __name__ == "__main__":
    main()
