"""benchmarks/endpoint.py's two extra measurements, each on a fresh server: soak and big query.

soak       the distinct mix at 64 connections for a while against `diplokg` defaults: errors,
           and the RSS of the server's process tree (server + query workers, summed VmRSS from
           /proc) before, during (every 5 s) and after;
big query  a 1 MB query (a SELECT counting a VALUES block of numbers, POST
           application/sparql-query) while another client sends `ASK {}` every 10 ms: the ASK
           latencies during the big query against those without it.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import statistics
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict

from benchmarks.servers import ASK, Launcher, Server, count_rows, tree_rss_mb
from benchmarks.workload import ACCEPT, Dataset, parse_wrk, wrk_argv

SOAK_CONNECTIONS = 64
#: The big query's size: the endpoint's default max_body_bytes, the largest query it accepts.
BIG_QUERY_BYTES = 1_000_000
#: How long the ASK client runs without the big query; the longest the big query may take.
ASK_BASELINE_SECONDS = 3.0
BIG_QUERY_TIMEOUT = 120.0


def soak(launcher: Launcher, dataset: Dataset, seconds: int, seed: int) -> dict[str, object]:
    """The distinct mix at 64 connections for `seconds` against `diplokg` defaults."""
    server = launcher.start("diplokg", dataset)
    try:
        for query in dataset.sample(seed):  # the warm-up of the table's servers
            count_rows(server.query_url(query))
        before = tree_rss_mb(server.process.pid)
        script = dataset.script_args("mix", next(server.stripes), seed)
        argv = wrk_argv(server.url, seconds, SOAK_CONNECTIONS, script)
        load = os.getloadavg()[0]
        started = time.monotonic()
        samples = [(0.0, before)]
        with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) as wrk:
            while True:
                try:
                    out = wrk.communicate(timeout=5)[0]
                    break
                except subprocess.TimeoutExpired:
                    elapsed = time.monotonic() - started
                    samples.append((round(elapsed, 1), tree_rss_mb(server.process.pid)))
                    if elapsed > seconds + 60:
                        wrk.kill()
        if wrk.returncode != 0:
            raise RuntimeError(f"wrk failed ({wrk.returncode}) during the soak")
        after = tree_rss_mb(server.process.pid)
        samples.append((round(time.monotonic() - started, 1), after))
    finally:
        server.stop()
    return {
        "dataset": dataset.label,
        "server": server.name,
        "seconds": seconds,
        "connections": SOAK_CONNECTIONS,
        "run": asdict(parse_wrk(out, load)),
        "rss_before_mb": round(before, 1),
        "rss_after_mb": round(after, 1),
        "rss_max_mb": round(max(rss for _, rss in samples), 1),
        "rss_growth_pct": round(100 * (after - before) / before, 1),
        "rss_samples_mb": [[t, round(rss, 1)] for t, rss in samples],
    }


def big_query(size: int) -> tuple[str, int]:
    """A SELECT counting a VALUES block of numbers, padded with spaces to `size` bytes; and the
    count it must answer."""
    head, tail = "SELECT (COUNT(?x) AS ?n) WHERE { VALUES ?x {", " } }"
    parts, length = [], len(head) + len(tail)
    for n in itertools.count():
        if length + len(f" {n}") > size:
            break
        parts.append(f" {n}")
        length += len(parts[-1])
    return head + "".join(parts) + " " * (size - length) + tail, len(parts)


def big_query_probe(launcher: Launcher, dataset: Dataset, name: str) -> dict[str, object]:
    """ASK latencies on server `name` without, then during, a 1 MB query."""
    query, values = big_query(BIG_QUERY_BYTES)
    outcome: dict[str, object] = {}
    running = threading.Event()

    def send_big_query() -> None:
        request = urllib.request.Request(
            server.url,
            data=query.encode(),
            method="POST",
            headers={"Content-Type": "application/sparql-query", "Accept": ACCEPT},
        )
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=BIG_QUERY_TIMEOUT) as response:
                outcome["status"] = response.status
                answer = json.loads(response.read())["results"]["bindings"][0]["n"]["value"]
                outcome["answer_ok"] = int(answer) == values
        except urllib.error.HTTPError as error:
            outcome["status"] = error.code
        except (OSError, ValueError, KeyError, IndexError) as error:
            outcome["status"] = f"{type(error).__name__}: {error}"
        outcome["seconds"] = round(time.monotonic() - started, 2)
        running.clear()

    server = launcher.start(name, dataset)
    try:
        running.set()
        without = ask_every_10ms(server, running, time.monotonic() + ASK_BASELINE_SECONDS)
        sender = threading.Thread(target=send_big_query)
        sender.start()
        during = ask_every_10ms(server, running, time.monotonic() + BIG_QUERY_TIMEOUT + 5)
        sender.join(timeout=BIG_QUERY_TIMEOUT + 10)
    finally:
        server.stop()
    return {
        "dataset": dataset.label,
        "server": name,
        "query_bytes": len(query.encode()),
        "values": values,
        **outcome,
        "ask_without": without,
        "ask_during": during,
    }


def ask_every_10ms(
    server: Server, running: threading.Event, deadline: float
) -> dict[str, float | int]:
    """`ASK {}` every 10 ms on one keep-alive connection while `running` is set and before
    `deadline` (time.monotonic): the latencies' statistics."""
    parts = urllib.parse.urlsplit(server.url)
    path = parts.path + "?" + urllib.parse.urlencode({"query": ASK})
    connection = http.client.HTTPConnection(
        parts.hostname or "", parts.port, timeout=BIG_QUERY_TIMEOUT
    )
    latencies: list[float] = []
    errors = 0
    next_at = time.monotonic()
    while running.is_set() and time.monotonic() < deadline:
        started = time.monotonic()
        try:
            connection.request("GET", path, headers={"Accept": ACCEPT})
            response = connection.getresponse()
            response.read()
            errors += response.status != 200
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()  # the next request reconnects
        latencies.append((time.monotonic() - started) * 1000)
        next_at = max(next_at + 0.010, time.monotonic())
        time.sleep(max(0.0, next_at - time.monotonic()))
    connection.close()
    ordered = sorted(latencies) or [0.0]
    return {
        "n": len(latencies),
        "errors": errors,
        "p50_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(ordered[round(0.99 * (len(ordered) - 1))], 2),
        "max_ms": round(ordered[-1], 2),
    }


def print_probes(soaks: list[dict[str, object]], bigs: list[dict[str, object]]) -> None:
    for s in soaks:
        run = s["run"]
        assert isinstance(run, dict)
        print(
            f"\nSoak, {s['dataset']}, diplokg defaults, distinct mix, c{s['connections']} for "
            f"{s['seconds']} s: {run['rps']:.0f} req/s, p50 {run['p50_ms']:.2f} ms, "
            f"p99 {run['p99_ms']:.2f} ms, errors {run['errors']} of {run['requests']}; "
            f"RSS of the process tree {s['rss_before_mb']} MB before, {s['rss_after_mb']} MB "
            f"after ({s['rss_growth_pct']:+}%), max {s['rss_max_mb']} MB"
        )
    for b in bigs:
        without, during = b["ask_without"], b["ask_during"]
        assert isinstance(without, dict) and isinstance(during, dict)
        ok = b.get("answer_ok")
        answer = "none" if ok is None else "right" if ok else "WRONG"
        print(
            f"\nBig query, {b['dataset']}, {b['server']}: {b['query_bytes']} bytes "
            f"({b['values']} values): status {b.get('status')} after {b.get('seconds')} s, "
            f"answer {answer}"
        )
        for label, stats in (("without it", without), ("during it", during)):
            print(
                f"  ASK every 10 ms {label + ':':11} p99 {stats['p99_ms']} ms, max {stats['max_ms']} ms"
                f" ({stats['n']} asks, {stats['errors']} errors)"
            )
