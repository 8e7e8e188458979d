"""The generated codebook: every column, its meaning and the ontology's comment."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.release.codebook import write_codebook
from graph.release.tables import load_store, write_tables


@pytest.fixture(scope="module")
def codebook(
    built_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, str, list[str]]:
    store = load_store(built_dir / "diplokg.nq")
    out = tmp_path_factory.mktemp("codebook")
    tables = write_tables(store, out)
    md, page = write_codebook(out, tables, store, "0.1.0", "CITATION PLACEHOLDER")
    columns = [f"{t.name}.{f.name}" for t in tables for f in t.fields]
    return md.read_text(encoding="utf-8"), page.read_text(encoding="utf-8"), columns


def test_codebook_lists_every_column_of_every_table(codebook: tuple[str, str, list[str]]) -> None:
    md, page, columns = codebook
    for column in columns:
        name = column.split(".")[1]
        assert f"| {name} |" in md, column
        assert f"<td>{name}</td>" in page, column


def test_codebook_quotes_the_ontology_and_explains_precision_and_citation(
    codebook: tuple[str, str, list[str]],
) -> None:
    md, page, _ = codebook
    assert "The state that lists the organization as terrorist." in md  # dk:designatingState
    assert "xsd:gYearMonth" in md and "## Dates and precision" in md
    assert (
        "## How to cite" in md and "CITATION PLACEHOLDER" in md and "CITATION PLACEHOLDER" in page
    )
