"""The oxigraph backend: persistence in DIR, reuse on restart, reload when the dataset changes."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.query import Result

from graph.errors import StoreError
from graph.stores.oxigraph import LOADED_MARKER, OxigraphStore, inspect_dump

LABEL = URIRef("http://www.w3.org/2000/01/rdf-schema#label")


def _count(store: OxigraphStore) -> int:
    body = store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").serialize("json")
    row = next(iter(Result.parse(io.BytesIO(body), format="json")))
    return int(row[0])  # type: ignore[index,arg-type]


def test_restart_reuses_the_directory_without_reloading(built_dir: Path, tmp_path: Path) -> None:
    with (first := OxigraphStore(tmp_path / "db")):
        first.load_dataset(built_dir)
        assert not first.reused
        triples = first.triple_count()
    with (second := OxigraphStore(tmp_path / "db")):
        second.load_dataset(built_dir)
        assert second.reused
        assert second.triple_count() == triples == _count(second)


def test_changed_dataset_is_detected_and_reloaded(built_dir: Path, tmp_path: Path) -> None:
    changed = tmp_path / "changed"
    shutil.copytree(built_dir, changed)
    with (store := OxigraphStore(tmp_path / "db")):
        store.load_dataset(built_dir)
        before = store.triple_count()
    extra = "<https://w3id.org/diplokg/resource/x> <http://www.w3.org/2000/01/rdf-schema#label> "
    extra += '"x" <https://w3id.org/diplokg/graph/entities> .\n'
    with (changed / "diplokg.nq").open("a", encoding="utf-8") as dump:
        dump.write(extra)
    (changed / "manifest.json").unlink()  # no recorded digest: the dump itself is hashed
    with (store := OxigraphStore(tmp_path / "db")):
        store.load_dataset(changed)
        assert not store.reused
        assert store.triple_count() == before + 1 == _count(store)


def test_a_directory_holding_other_files_is_refused_untouched(
    built_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "db").mkdir()
    keep = tmp_path / "db" / "notes.txt"
    keep.write_text("mine")
    with (
        pytest.raises(StoreError, match="not an Oxigraph store"),
        OxigraphStore(tmp_path / "db") as store,
    ):
        store.load_dataset(built_dir)
    assert keep.read_text() == "mine"


def test_two_handles_can_serve_the_same_directory(built_dir: Path, tmp_path: Path) -> None:
    with (one := OxigraphStore(tmp_path / "db")), (two := OxigraphStore(tmp_path / "db")):
        one.load_dataset(built_dir)
        two.load_dataset(built_dir)
        assert _count(one) == _count(two) > 0
    assert (tmp_path / "db" / LOADED_MARKER).is_file()


def test_an_rdflib_dataset_loads_into_memory_without_a_directory() -> None:
    ds = Dataset()
    ds.graph(URIRef("https://w3id.org/diplokg/graph/g")).add(
        (URIRef("https://w3id.org/diplokg/resource/a"), LABEL, Literal("a"))
    )
    with (store := OxigraphStore()):
        store.load_dataset(ds)
        assert store.named_graphs() == ["https://w3id.org/diplokg/graph/g"]
        assert store.triple_count() == 1


def test_select_and_ask_serialize_to_every_results_format(built_dir: Path, tmp_path: Path) -> None:
    query = "SELECT ?s ?label WHERE { ?s a dk:State ; rdfs:label ?label }"
    with (store := OxigraphStore(tmp_path / "db")):
        store.load_dataset(built_dir)
        result = store.query(query)
        expected = {
            tuple(str(v) for v in row)  # type: ignore[union-attr]
            for row in Result.parse(io.BytesIO(result.serialize("json")), format="json")
        }
        assert len(expected) >= 9
        for fmt in ("xml", "csv", "tsv"):
            parsed = Result.parse(io.BytesIO(result.serialize(fmt)), format=fmt)
            assert {tuple(str(v) for v in row) for row in parsed} == expected, fmt  # type: ignore[union-attr]
        ask = store.query("ASK { res:russia a dk:State }")
        for fmt in ("json", "xml"):
            assert Result.parse(io.BytesIO(ask.serialize(fmt)), format=fmt).askAnswer is True


def _graph(store: OxigraphStore, name: str) -> Graph:
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{name}> {{ ?s ?p ?o }} }}"
    return Graph().parse(data=store.query(query).serialize("ntriples"), format="nt")


def test_a_build_dump_is_trusted_only_while_its_manifest_records_its_bytes(
    built_dir: Path, tmp_path: Path
) -> None:
    assert inspect_dump(built_dir).trusted
    assert not inspect_dump(built_dir / "diplokg.nq").trusted  # a dump file given directly
    edited = tmp_path / "edited"
    shutil.copytree(built_dir, edited)
    with (edited / "diplokg.nq").open("a", encoding="utf-8") as dump:
        dump.write("<https://w3id.org/diplokg/resource/x> <http://example.org/p> <x> .\n")
    assert not inspect_dump(edited).trusted


def test_lenient_load_of_a_build_equals_the_strict_load_of_its_dump(built_dir: Path) -> None:
    with (lenient := OxigraphStore()), (strict := OxigraphStore()):
        lenient.load_dataset(built_dir)
        strict.load_dataset(built_dir / "diplokg.nq")
        assert (lenient.lenient, strict.lenient) == (True, False)
        assert "count" not in lenient.load_seconds  # the manifest's count
        assert lenient.triple_count() == strict.triple_count() == _count(strict)
        assert lenient.named_graphs() == strict.named_graphs()
        for name in strict.named_graphs():
            assert isomorphic(_graph(lenient, name), _graph(strict, name)), name


@pytest.mark.parametrize("on_disk", [False, True], ids=["memory", "dir"])
def test_a_dump_that_is_not_valid_n_quads_is_a_store_error(tmp_path: Path, on_disk: bool) -> None:
    dump = tmp_path / "diplokg.nq"
    dump.write_text("<https://w3id.org/diplokg/resource/x> <p> <o> .\n", encoding="utf-8")
    store = OxigraphStore(tmp_path / "db" if on_disk else None)
    with store, pytest.raises(StoreError, match="cannot load"):
        store.load_dataset(dump)


# --- results: pyoxigraph's serializers, cut at max_rows ----------------------------------------

EX = "http://example.org/"
#: Terms a round trip through TSV must keep exactly: escapes, language, datatype, blank node.
ODD = [
    Literal('tab\there, newline\nthere, "quotes", back\\slash'),
    Literal("chat", lang="fr"),
    Literal("42", datatype=URIRef("http://www.w3.org/2001/XMLSchema#integer")),
    Literal("x" * 5000),  # long enough to send a small result down the counting path
]


@pytest.fixture(scope="module")
def rows_store() -> OxigraphStore:
    ds = Dataset()
    graph = ds.graph(URIRef(EX + "g"))
    for i in range(50):
        graph.add((URIRef(f"{EX}s{i:02}"), URIRef(EX + "p"), Literal(i)))
    for i, term in enumerate(ODD):
        graph.add((URIRef(f"{EX}odd{i}"), URIRef(EX + "q"), term))
    store = OxigraphStore()
    store.load_dataset(ds)
    return store


ROWS = f"SELECT ?s ?o WHERE {{ ?s <{EX}p> ?o }} ORDER BY ?s"
ODD_ROWS = f"SELECT ?s ?o WHERE {{ ?s <{EX}q> ?o }} ORDER BY ?s"


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
@pytest.mark.parametrize(
    ("max_rows", "expected", "cut"),
    [(10, 10, True), (49, 49, True), (50, 50, False), (500, 50, False)],
)
def test_solutions_are_cut_at_max_rows_in_every_format(
    rows_store: OxigraphStore, fmt: str, max_rows: int, expected: int, cut: bool
) -> None:
    result = rows_store.query(ROWS, max_rows=max_rows)
    body = result.serialize(fmt)
    assert result.truncated is cut
    rows = list(Result.parse(io.BytesIO(body), format=fmt))
    assert len(rows) == expected
    assert str(rows[0][0]) == f"{EX}s00"  # type: ignore[index]
    assert str(rows[-1][0]) == f"{EX}s{expected - 1:02}"  # type: ignore[index]


@pytest.mark.parametrize("fmt", ["json", "xml", "tsv"])
def test_the_counting_path_keeps_every_term_exactly(rows_store: OxigraphStore, fmt: str) -> None:
    """A result longer than max_rows minimal rows goes through TSV and back: nothing changes."""
    direct = rows_store.query(ODD_ROWS).serialize(fmt)
    counted = rows_store.query(ODD_ROWS, max_rows=len(ODD))
    body = counted.serialize(fmt)
    assert counted.truncated is False
    got = [tuple(r) for r in Result.parse(io.BytesIO(body), format=fmt)]
    want = [tuple(r) for r in Result.parse(io.BytesIO(direct), format=fmt)]
    assert got == want
    assert {row[1] for row in got} == set(ODD)


def test_a_result_serialized_twice_is_evaluated_again(rows_store: OxigraphStore) -> None:
    result = rows_store.query(ROWS, max_rows=100)
    assert result.serialize("json") == result.serialize("json")


def test_a_syntax_error_carries_oxigraph_s_line_and_column(rows_store: OxigraphStore) -> None:
    from graph.errors import QuerySyntaxError

    with pytest.raises(QuerySyntaxError) as raised:
        rows_store.query("SELECT * WHERE {\n  ?s ?p \n}")
    assert (raised.value.line, raised.value.column) == (3, 1)
