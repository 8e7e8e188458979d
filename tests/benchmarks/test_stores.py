"""The store benchmark (benchmarks/stores.py): its queries agree across engines on a small world."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import stores
from benchmarks.generate import write
from benchmarks.stores import COMPARED, QUERIES, compare, comparison_table, measure, table


@pytest.fixture(autouse=True)
def few_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rows and the tables are under test, not the timings: each query runs twice, not
    for a second each (that took ~20 s here)."""
    monkeypatch.setattr(stores, "RUNS", 2)
    monkeypatch.setattr(stores, "TIMED_S", 0.0)


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("bench-world")
    write(directory / "diplokg.nq", seed=5, triples=10_000)
    return directory


def test_benchmark_queries_give_the_same_rows_on_every_in_process_engine(
    world_dir: Path, tmp_path: Path
) -> None:
    results = [measure(b, world_dir, tmp_path) for b in ("raw-oxigraph", "oxigraph", "memory")]
    counts = [[r["queries"][name]["rows"] for name in QUERIES] for r in results]
    assert counts[0] == counts[1] == counts[2]
    assert counts[0][0] > 0  # the point lookup finds the state
    text = table(10_000, 10_000, results)
    assert text.count("\n| ") == 4  # header and one row per backend


def test_both_http_rows_answer_as_raw_pyoxigraph_and_are_compared_with_it(
    world_dir: Path, tmp_path: Path
) -> None:
    results = []
    for backend in COMPARED:
        scratch = tmp_path / backend
        scratch.mkdir()
        results.append(measure(backend, world_dir, scratch))
    counts = [[r["queries"][name]["rows"] for name in QUERIES] for r in results]
    assert counts[0] == counts[1] == counts[2]
    endpoint = results[0]
    assert endpoint["result_cache"] == "off"
    assert "query worker: spawn, imports, store load" in endpoint["load_parts"]
    assert (tmp_path / "http-oxigraph" / "oxigraph" / "diplokg-loaded.json").is_file()  # a DIR
    compared = compare(results)
    assert list(compared) == list(QUERIES)
    assert all(c["same_rows"] for c in compared.values())
    text = comparison_table(compared)
    assert text.count("\n| ") == len(QUERIES) + 1
