"""What benchmarks/endpoint.py sends, and wrk that sends it: distinct queries, repeated ones.

Distinct queries: every request a query string not sent before to that server. Three kinds,
each ending with a LIMIT (issue 10):
  point     SELECT ?p ?o WHERE { <entity> ?p ?o } LIMIT n, on an entity of the dataset (every
            IRI that is the subject of an rdf:type);
  count     the class counts, SELECT ?class (COUNT(?s) AS ?n) ... GROUP BY ?class LIMIT n;
  evidence  SELECT ?f ?e WHERE { ?f dk:evidence ?e FILTER(CONTAINS(?e, "word")) } LIMIT n, on a
            word (4 letters or more) of the dataset's evidence texts.

wrk builds the requests with benchmarks/distinct.lua from a file written here: one line per
kind and item, the URL-encoded query text up to its LIMIT value. The script draws a kind
(equally likely), an item, and a LIMIT:

    LIMIT = 1 + stripe + stripes * (thread + THREADS * slot),  slot random in 0..SLOTS-1

where `stripe` numbers the wrk runs against one server (stripe 0: the sample of queries whose
row counts are compared across servers) and `thread` the wrk thread. A slot is not drawn twice
for the same item in a thread (then slots SLOTS, SLOTS+1... follow), so no two requests to a
server repeat during its life, and the LIMIT is uniform in 1..SLOTS*stripes*THREADS wherever
the slots of an item last.

Repeated queries (cache hits for our endpoint): the class-count aggregate and one point lookup.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import Literal, NamedNode, RdfFormat, parse

from graph.namespaces import DK, RDF, RES

#: Query kind -> (text before the item, text after it and before the LIMIT value).
KINDS: dict[str, tuple[str, str]] = {
    "point": ("SELECT ?p ?o WHERE { <", "> ?p ?o } LIMIT "),
    "count": (
        "SELECT ?class (COUNT(?s) AS ?n) WHERE { ?s a ?class } "
        "GROUP BY ?class ORDER BY DESC(?n) LIMIT ",
        "",
    ),
    "evidence": (
        f'SELECT ?f ?e WHERE {{ ?f <{DK.evidence}> ?e FILTER(CONTAINS(?e, "',
        '")) } LIMIT ',
    ),
}
#: The distinct workloads and the kinds each draws from.
DISTINCT: dict[str, list[str]] = {"mix": list(KINDS), "point": ["point"]}
#: The repeated workloads: the class counts, and a point lookup on Dataset.subject.
REPEATED = ("count-hit", "point-hit")
AGGREGATE = (
    "SELECT ?class (COUNT(?s) AS ?n) WHERE { ?s a ?class } GROUP BY ?class ORDER BY DESC(?n) ?class"
)
#: LIMIT values drawn per item, thread and wrk run before they are taken in sequence.
SLOTS = 100
#: wrk threads (-t): one per core of the 2-core machine.
THREADS = 2
#: A request unanswered after this long counts as a wrk timeout (wrk's default is 2 s).
WRK_TIMEOUT = "60s"
LUA_SCRIPT = Path(__file__).with_name("distinct.lua")
ACCEPT = "application/sparql-results+json"

_WORD = re.compile(r"[^\W\d_]{4,}")  # letters only: nothing to escape in a SPARQL string


@dataclass
class Workload:
    """The items of each kind for one dataset, and the number of LIMIT stripes per server."""

    items: dict[str, list[str]]
    stripes: int

    @classmethod
    def from_nquads(cls, path: Path, stripes: int) -> Workload:
        """Entities (IRI subjects of rdf:type) and evidence words of an N-Quads file, sorted."""
        rdf_type, evidence = NamedNode(str(RDF.type)), NamedNode(str(DK.evidence))
        entities: set[str] = set()
        words: set[str] = set()
        for quad in parse(path=str(path), format=RdfFormat.N_QUADS):
            if quad.predicate == rdf_type and isinstance(quad.subject, NamedNode):
                entities.add(quad.subject.value)
            elif quad.predicate == evidence and isinstance(quad.object, Literal):
                words.update(_WORD.findall(quad.object.value))
        items = {"point": sorted(entities), "count": [""], "evidence": sorted(words)}
        return cls(items, stripes)

    @property
    def limit_max(self) -> int:
        """The largest LIMIT before any item runs out of slots."""
        return self.limit(self.stripes - 1, THREADS - 1, SLOTS - 1)

    def limit(self, stripe: int, thread: int, slot: int) -> int:
        return 1 + stripe + self.stripes * (thread + THREADS * slot)

    @staticmethod
    def text(kind: str, item: str, limit: int) -> str:
        head, tail = KINDS[kind]
        return f"{head}{item}{tail}{limit}"

    def write_queries(self, path: Path) -> None:
        """The file distinct.lua reads: `KIND<TAB>URL-encoded query text without its LIMIT value`.

        URL encoding works character by character, so the script appends the digits as they are.
        """
        with path.open("w", encoding="utf-8") as out:
            for kind, items in self.items.items():
                for item in items:
                    prefix = urllib.parse.quote_plus(self.text(kind, item, 0)[:-1])
                    out.write(f"{kind}\t{prefix}\n")

    def sample(self, rng: random.Random, per_kind: int) -> list[str]:
        """Queries of stripe 0 (never sent by wrk): `per_kind` random items of each kind."""
        texts = []
        for kind, items in self.items.items():
            for item in rng.sample(items, min(per_kind, len(items))):
                slot = rng.randrange(SLOTS)
                texts.append(self.text(kind, item, self.limit(0, 0, slot)))
        return texts

    def script_args(self, queries: Path, kinds: list[str], stripe: int, seed: int) -> list[str]:
        """distinct.lua's arguments (after wrk's URL and `--`) for one run with its own stripe."""
        if not 0 < stripe < self.stripes:
            raise ValueError(f"stripe {stripe} outside 1..{self.stripes - 1}: raise the stripes")
        numbers = (stripe, self.stripes, THREADS, SLOTS, seed)
        return [str(queries), ",".join(kinds), *(str(n) for n in numbers)]


@dataclass
class Dataset:
    """A directory holding diplokg.nq, and the workloads over it."""

    size: str  # `seed` or a triple count
    directory: Path
    quads: int
    subject: str  # of the repeated point lookup
    workload: Workload
    queries: Path  # the distinct queries, as distinct.lua reads them

    @property
    def label(self) -> str:
        return f"{self.size} ({self.quads} quads)"

    @property
    def nquads(self) -> Path:
        return self.directory / "diplokg.nq"

    def repeated(self, workload: str) -> str:
        point = f"SELECT ?p ?o WHERE {{ <{RES}{self.subject}> ?p ?o }}"
        return {"count-hit": AGGREGATE, "point-hit": point}[workload]

    def sample(self, seed: int, per_kind: int = 10) -> list[str]:
        """Distinct queries that wrk never sends (stripe 0), then the repeated ones."""
        distinct = self.workload.sample(random.Random(seed), per_kind)
        return distinct + [self.repeated(w) for w in REPEATED]

    def script_args(self, workload: str, stripe: int, seed: int) -> list[str]:
        return self.workload.script_args(self.queries, DISTINCT[workload], stripe, seed)


@dataclass
class Run:
    """One wrk run."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx answers and socket errors (connect, read, write, timeout)
    requests: int
    load_before: float  # the machine's 1-minute load average when the run started
    #: Seconds the server took, before the run, to finish the requests of the one before.
    waited_s: float = 0.0


def wrk_argv(url: str, duration: int, connections: int, script: list[str] | None) -> list[str]:
    """wrk's command line; `script`: distinct.lua's arguments (Dataset.script_args), or None
    to send `url` itself every time."""
    argv = ["wrk", f"-t{THREADS}", f"-c{connections}", f"-d{duration}s", "--latency"]
    argv += ["--timeout", WRK_TIMEOUT, "-H", f"Accept: {ACCEPT}"]
    if script is None:
        return [*argv, url]
    return [*argv, "-s", str(LUA_SCRIPT), url, "--", *script]


def run_wrk(url: str, duration: int, connections: int, script: list[str] | None = None) -> Run:
    load = os.getloadavg()[0]
    argv = wrk_argv(url, duration, connections, script)
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=duration + 60)
    return parse_wrk(out.stdout, load)


def parse_wrk(out: str, load_before: float) -> Run:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.MULTILINE))
    p50, p99 = (_ms(*re.match(r"([\d.]+)(\w+)", lat[k]).groups()) for k in ("50", "99"))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return Run(rps, p50, p99, errors, requests, load_before)


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]
