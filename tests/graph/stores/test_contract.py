"""The Store contract and the competency questions on every backend beyond memory (Oxigraph in a directory and in memory, remote).

The contract tests are the memory backend's (tests/graph/test_stores_memory.py), collected here
again with this module's `store` fixture; the competency questions must give their expected
answers on every backend.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib.query import Result

from graph.catalog import ExampleQuery, load_examples
from graph.query import short
from graph.stores import open_store
from graph.stores.base import Store
from tests.graph.stores.conftest import backend_options
from tests.graph.test_stores_memory import (  # noqa: F401 - collected again on these backends
    test_construct_serializes_to_every_graph_format,
    test_default_graph_is_the_union_and_named_graphs_are_listed,
    test_errors_are_domain_exceptions,
    test_max_rows_truncates_and_says_so,
    test_protocol_dataset_replaces_the_service_dataset,
    test_select_finds_the_recognizing_state,
    test_unknown_graph_iri_is_an_empty_graph_never_fetched,
)

#: oxigraph: in a directory; oxigraph-memory: in memory (the endpoint's default store).
BACKENDS = ["oxigraph", "oxigraph-memory", "remote"]
EXAMPLES = load_examples()
#: Answers that a backend's engine gets wrong, with the reason (checked: they must still fail).
ENGINE_BUGS: dict[tuple[str, str], str] = {
    ("remote", "22-taliban-every-list-and-court"): (
        "Virtuoso 7.2 loses the dates built with CONCAT/IF over DATATYPE() inside an aggregate "
        "(since/until come back empty); Oxigraph and rdflib agree on the expected answer"
    ),
    ("remote", "24-sdn-version-changes"): (
        "Virtuoso 7.2 joins an xsd:date of one UNION branch with the version date of the day "
        "before (a removal on 2022-05-20 is counted on 2022-05-19); Oxigraph and rdflib agree"
    ),
}


@pytest.fixture(scope="module", params=BACKENDS)
def store(
    request: pytest.FixtureRequest, built_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    options = backend_options(request, tmp_path_factory)
    kind = "oxigraph" if request.param == "oxigraph-memory" else request.param
    with open_store(kind, built_dir, **options) as opened:
        yield opened


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_competency_question_gives_its_expected_answer(
    request: pytest.FixtureRequest, store: Store, example: ExampleQuery
) -> None:
    bug = ENGINE_BUGS.get((store.name, example.name))
    if bug:
        request.applymarker(pytest.mark.xfail(reason=bug, strict=True))
    body = store.query(example.text).serialize("json")
    result = Result.parse(io.BytesIO(body), format="json")
    columns = tuple(str(v) for v in result.vars or [])
    rows = [tuple(short(value) for value in row) for row in result]  # type: ignore[union-attr]
    assert columns == example.columns
    if example.ordered:
        assert rows == list(example.expected)
    else:
        assert sorted(rows) == sorted(example.expected)
