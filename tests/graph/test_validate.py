"""SHACL validation: the seed graph conforms; each broken fixture fails with the shape and message it names."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.build import Inputs, load_sources
from graph.loading import parse_into
from graph.validate import ValidationReport, load_shapes, validate

BROKEN = sorted((Path(__file__).parents[1] / "data" / "broken").glob("*.trig"))
SHAPES = load_shapes()


def _expectation(path: Path) -> tuple[str, str]:
    meta = dict(
        line[1:].strip().split(": ", 1)
        for line in path.read_text().splitlines()
        if line.startswith("# expect-")
    )
    return meta["expect-shape"], meta["expect-message"]


def _validate_with_sources(path: Path, inputs: Inputs) -> ValidationReport:
    ds = load_sources(inputs)
    parse_into(ds, path)
    return validate(ds, SHAPES)


def test_seed_graph_conforms() -> None:
    report = validate(load_sources(), SHAPES)
    assert report.conforms, report.text()
    assert report.violations == ()


def test_there_are_broken_fixtures_for_every_fact_type() -> None:
    assert len(BROKEN) >= 15


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_fixture_fails_with_expected_shape_and_message(
    path: Path, without_lists: Inputs
) -> None:
    shape, message = _expectation(path)
    report = _validate_with_sources(path, without_lists)
    assert not report.conforms
    matching = [r for r in report.violations if r.shape == shape and message in r.message]
    assert matching, f"expected {shape} / {message!r}; got:\n{report.text()}"
    assert all(r.focus.startswith("res:") for r in matching)


def test_report_text_names_focus_node_path_and_shape(without_lists: Inputs) -> None:
    missing = next(p for p in BROKEN if p.stem == "missing-evidence")
    report = _validate_with_sources(missing, without_lists)
    text = report.text()
    assert text.startswith("Does not conform")
    assert "focus node: res:bad" in text
    assert "path:       dk:evidence" in text
    assert "dksh:FactShape[dk:evidence]" in text
