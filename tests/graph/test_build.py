"""`build` validates, writes deterministic dumps that parse back, skips unchanged inputs, and refuses bad data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from rdflib import Dataset, Graph
from rdflib.compare import isomorphic

from graph.build import DUMP_STEM, PROJECT_INPUTS, BuildResult, Inputs, build, is_current
from graph.namespaces import ENTITIES_GRAPH, GRAPH, ONTOLOGY_IRI
from graph.validate import ValidationFailed

SOURCE_GRAPHS = {
    str(ONTOLOGY_IRI),
    str(ENTITIES_GRAPH),
    str(GRAPH["russia-recognizes-islamic-emirate"]),
    str(GRAPH["russia-removes-taliban-from-terror-list"]),
}


def test_build_writes_trig_nquads_turtle_jsonld_and_manifest(built: BuildResult) -> None:
    names = {p.name for p in built.out_dir.iterdir()}
    for suffix in ("trig", "nq", "ttl", "jsonld"):
        assert f"{DUMP_STEM}.{suffix}" in names
    assert "manifest.json" in names
    assert built.report is not None and built.report.conforms


def test_named_graph_dumps_keep_one_graph_per_source(built_dir: Path) -> None:
    for name, fmt in (("nq", "nquads"), ("trig", "trig")):
        ds = Dataset()
        ds.parse(built_dir / f"{DUMP_STEM}.{name}", format=fmt)
        graphs = {str(g.identifier) for g in ds.graphs() if len(g)}
        assert graphs >= SOURCE_GRAPHS, name


def test_every_dump_holds_the_same_triples(built_dir: Path) -> None:
    nq = Dataset()
    nq.parse(built_dir / f"{DUMP_STEM}.nq", format="nquads")
    merged = Graph()
    for quad in nq.quads((None, None, None, None)):
        merged.add(quad[:3])
    trig = Dataset()
    trig.parse(built_dir / f"{DUMP_STEM}.trig", format="trig")
    for graph in nq.graphs():
        assert isomorphic(graph, trig.graph(graph.identifier)), graph.identifier
    for name, fmt in (("ttl", "turtle"), ("jsonld", "json-ld")):
        other = Graph().parse(built_dir / f"{DUMP_STEM}.{name}", format=fmt)
        assert isomorphic(merged, other), name


def test_manifest_records_digests_and_counts(built_dir: Path) -> None:
    manifest = json.loads((built_dir / "manifest.json").read_text())
    assert manifest["input_digest"]
    assert set(manifest["graphs"]) >= SOURCE_GRAPHS
    assert manifest["quads"] == sum(manifest["graphs"].values())


def test_unchanged_inputs_skip_the_build(built_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(built_dir, copy)
    assert is_current(copy)
    assert build(copy).skipped


def _sources_without_lists(target: Path) -> Path:
    """The project's sources less the generated list files (20k quads the test does not need)."""
    shutil.copytree(
        PROJECT_INPUTS.sources_dir, target, ignore=shutil.ignore_patterns("list-*.trig")
    )
    return target


def test_changed_source_makes_the_build_stale(tmp_path: Path) -> None:
    sources = _sources_without_lists(tmp_path / "sources")
    inputs = Inputs(sources_dir=sources)
    out = tmp_path / "dist"
    build(out, inputs=inputs)
    assert is_current(out, inputs)
    entities = sources / "entities.trig"
    entities.write_text(
        entities.read_text().replace('"Gul Hassan"@en', '"Gul Hassan (ambassador)"@en')
    )
    assert not is_current(out, inputs)
    assert not build(out, inputs=inputs).skipped


def test_build_refuses_to_write_data_that_breaks_the_shapes(tmp_path: Path) -> None:
    sources = _sources_without_lists(tmp_path / "sources")
    shutil.copy(Path(__file__).parents[1] / "data" / "broken" / "end-before-start.trig", sources)
    out = tmp_path / "dist"
    with pytest.raises(ValidationFailed) as raised:
        build(out, inputs=Inputs(sources_dir=sources))
    assert not raised.value.report.conforms
    assert not out.exists() or not any(out.iterdir())


def test_trig_keeps_multi_line_literals_exactly() -> None:
    # The TriG dump indents each graph's statements; the lines of a long string must not move.
    from rdflib import Literal, URIRef

    from graph.build import trig_text
    from graph.loading import new_dataset

    ds = new_dataset()
    text = 'first line\n\n  indented after a blank line\n"""quoted""" and \\ a backslash'
    subject = URIRef("https://w3id.org/diplokg/resource/x")
    graph = ds.graph(URIRef("https://w3id.org/diplokg/graph/x"))
    graph.add((subject, URIRef("https://w3id.org/diplokg/ontology#evidence"), Literal(text)))
    graph.add((subject, URIRef("http://www.w3.org/2000/01/rdf-schema#label"), Literal("x")))
    back = Dataset()
    back.parse(data=trig_text(ds), format="trig")
    assert set(back.graph(graph.identifier)) == set(graph)
