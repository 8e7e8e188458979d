"""Every competency question answers as its .rq file says, and the docs list them all."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from rdflib import Dataset
from rdflib.query import Result

from graph.catalog import ExampleQuery, answer, load_examples, render_markdown
from graph.layout import PROJECT_ROOT
from graph.namespaces import GRAPH
from graph.query import short
from graph.stores import open_store
from graph.stores.base import Store

EXAMPLES = load_examples()


@pytest.fixture(scope="module")
def oxigraph(built_dir: Path) -> Iterator[Store]:
    """The build in Oxigraph, for the questions asked again on other dates: the semantics of
    the queries, not the engine, are under test there (rdflib answers every question above,
    and Oxigraph in tests/graph/stores/test_contract.py), and rdflib took ~30 s for them."""
    with open_store("oxigraph", built_dir) as store:
        yield store


def ox_answer(store: Store, example: ExampleQuery) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """`answer`, on a store: the columns and rows rendered like the expected answer."""
    result = Result.parse(io.BytesIO(store.query(example.text).serialize("json")), format="json")
    rows = [tuple(short(value) for value in row) for row in result]  # type: ignore[union-attr]
    return tuple(str(v) for v in result.vars or []), rows


def test_catalog_holds_at_least_twelve_questions() -> None:
    assert len(EXAMPLES) >= 12


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_competency_question_gives_its_expected_answer(
    seed_dataset: Dataset, example: ExampleQuery
) -> None:
    columns, rows = answer(seed_dataset, example)
    assert columns == example.columns
    if example.ordered:
        assert rows == list(example.expected)
    else:
        assert sorted(rows) == sorted(example.expected)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_example_query_declares_every_prefix_it_uses(example: ExampleQuery) -> None:
    # Self-contained queries run unchanged on any SPARQL 1.1 engine (no predeclared prefixes).
    from rdflib.plugins.sparql.parser import parseQuery

    parseQuery(example.body)


def test_competency_docs_are_generated_from_the_catalog() -> None:
    docs = (PROJECT_ROOT / "docs" / "competency-questions.md").read_text(encoding="utf-8")
    assert docs == render_markdown(EXAMPLES), (
        "regenerate: python -m graph.catalog > docs/competency-questions.md"
    )


def test_as_of_questions_distinguish_before_and_after_the_recognition(oxigraph: Store) -> None:
    by_name = {e.name: e for e in EXAMPLES}
    _, after = ox_answer(oxigraph, by_name["01-recognizers-2025-07-04"])
    _, before = ox_answer(oxigraph, by_name["02-recognizers-2025-07-01"])
    assert [row[0] for row in after] == ["res:russia"]
    assert before == []


def as_of(example: ExampleQuery, date: str) -> ExampleQuery:
    """`example` asked on another date (its own date, "2024-12-31", replaced)."""
    return replace(example, text=example.text.replace('"2024-12-31"', f'"{date}"'), expected=())


def test_year_precision_designation_counts_only_from_the_end_of_its_year(
    seed_dataset: Dataset,
) -> None:
    # The first article alone gives Russia's designation a year-precision start ("2003").
    example = next(e for e in EXAMPLES if e.name == "03-designators-2024-12-31")
    article = Dataset()
    for name in ("entities", "russia-removes-taliban-from-terror-list"):
        graph = article.graph(GRAPH[name])
        for triple in seed_dataset.graph(GRAPH[name]):
            graph.add(triple)
    assert answer(article, as_of(example, "2003-06-01"))[1] == []
    assert [r[0] for r in answer(article, as_of(example, "2003-12-31"))[1]] == ["res:russia"]


def test_designation_counts_from_the_earliest_precise_start_its_sources_give(
    oxigraph: Store,
) -> None:
    # The 2003 ruling's sources (dk:sameFactAs) date the same designation to the day.
    example = next(e for e in EXAMPLES if e.name == "03-designators-2024-12-31")
    assert ox_answer(oxigraph, as_of(example, "2003-02-13"))[1] == []
    assert ox_answer(oxigraph, as_of(example, "2003-06-01"))[1] == [("res:russia", "2003-02-14")]


def test_designation_ends_when_any_of_its_sources_says_so(oxigraph: Store) -> None:
    # The 2003 sources give no end; the first article and TASS end it on 2025-04-17.
    example = next(e for e in EXAMPLES if e.name == "03-designators-2024-12-31")
    states = [r[0] for r in ox_answer(oxigraph, as_of(example, "2025-04-17"))[1]]
    assert states == ["res:canada", "res:united-states"]


def test_queries_directory_exists_in_package() -> None:
    assert (Path(__file__).resolve().parents[2] / "graph" / "queries").is_dir()
