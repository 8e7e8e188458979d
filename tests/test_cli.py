"""The `diplokg` command: outputs and exit codes (0 ok, 1 invalid data, 2 bad input)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from rdflib import Dataset
from rdflib.namespace import DCTERMS, PROV
from typer.testing import CliRunner

from api.cli import app
from graph.namespaces import DK
from graph.validate import union_graph

BROKEN = Path(__file__).parent / "data" / "broken"
runner = CliRunner()


def test_validate_without_files_checks_the_project_sources() -> None:
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0, result.output
    assert "Conforms" in result.output


def test_validate_broken_file_exits_1_with_a_readable_report() -> None:
    result = runner.invoke(
        app, ["validate", "--with-sources", str(BROKEN / "end-before-start.trig")]
    )
    assert result.exit_code == 1
    assert "Does not conform" in result.output
    assert "is before the start date" in result.output
    assert "focus node: res:bad" in result.output


def test_validate_exhaustive_gives_the_same_report() -> None:
    args = ["validate", "--with-sources", str(BROKEN / "missing-evidence.trig")]
    narrowed = runner.invoke(app, args)
    exhaustive = runner.invoke(app, [*args, "--exhaustive"])
    assert narrowed.exit_code == exhaustive.exit_code == 1
    assert narrowed.output == exhaustive.output


def test_validate_reads_formats_oxigraph_does_not_parse_through_rdflib(tmp_path: Path) -> None:
    broken = Dataset()
    broken.parse(BROKEN / "missing-evidence.trig", format="trig")
    as_jsonld = tmp_path / "missing-evidence.jsonld"
    as_jsonld.write_text(broken.serialize(format="json-ld"), encoding="utf-8")
    args = ["validate", "--with-sources"]
    from_trig = runner.invoke(app, [*args, str(BROKEN / "missing-evidence.trig")])
    from_jsonld = runner.invoke(app, [*args, str(as_jsonld)])
    assert from_trig.exit_code == from_jsonld.exit_code == 1
    assert from_trig.output == from_jsonld.output


def test_validate_unparsable_file_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix ex: <http://e/> .\n\nex:a ex:b .\n")
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:3:" in result.output


def test_build_writes_dumps_then_skips_when_unchanged(built_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    first = runner.invoke(app, ["build", "--out", str(out)])
    assert first.exit_code == 0, first.output
    assert (out / "diplokg.trig").is_file()
    # Deterministic: byte for byte the session's own build, made separately.
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(p.name for p in built_dir.iterdir())
    for name in written:
        assert (out / name).read_bytes() == (built_dir / name).read_bytes(), name
    second = runner.invoke(app, ["build", "--out", str(out)])
    assert second.exit_code == 0
    assert "up to date" in second.output


def test_query_prints_a_table(built_dir: Path) -> None:
    result = runner.invoke(
        app,
        [
            "query",
            "--dataset",
            str(built_dir),
            "SELECT ?s WHERE { ?r a dk:Recognition ; dk:recognizingState ?s }",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "res:russia" in result.output
    assert "(1 row)" in result.output


def test_query_csv_and_json_parse_back(built_dir: Path) -> None:
    text = (
        "SELECT DISTINCT ?state WHERE { ?d a dk:TerrorDesignation ; dk:designatingState ?state ;"
        " dk:designatedOrganization res:taliban } ORDER BY ?state"
    )
    as_csv = runner.invoke(app, ["query", "--dataset", str(built_dir), "--format", "csv", text])
    rows = list(csv.DictReader(io.StringIO(as_csv.output)))
    assert [r["state"].rsplit("/", 1)[1] for r in rows] == [
        "canada",
        "kazakhstan",
        "kyrgyzstan",
        "russia",
        "united-states",
        "uzbekistan",
    ]
    as_json = runner.invoke(app, ["query", "--dataset", str(built_dir), "--format", "json", text])
    bindings = json.loads(as_json.output)["results"]["bindings"]
    assert len(bindings) == 6


def test_query_from_file(built_dir: Path, tmp_path: Path) -> None:
    query = tmp_path / "q.rq"
    query.write_text("ASK { res:russia a dk:State }")
    result = runner.invoke(app, ["query", "--dataset", str(built_dir), f"@{query}"])
    assert result.exit_code == 0
    assert result.output.strip() == "true"


def test_query_syntax_error_exits_2_with_position(built_dir: Path) -> None:
    result = runner.invoke(app, ["query", "--dataset", str(built_dir), "SELECT ?s WHERE { ?s a }"])
    assert result.exit_code == 2
    assert "line 1, column" in result.output


def test_query_rejects_an_update(built_dir: Path) -> None:
    result = runner.invoke(
        app, ["query", "--dataset", str(built_dir), "INSERT DATA { <a:b> <a:c> <a:d> }"]
    )
    assert result.exit_code == 2


def test_query_unknown_format_exits_2(built_dir: Path) -> None:
    result = runner.invoke(app, ["query", "--dataset", str(built_dir), "--format", "xml", "ASK {}"])
    assert result.exit_code == 2


def test_check_evidence_passes_on_texts_that_hold_every_excerpt(
    seed_dataset: Dataset, tmp_path: Path
) -> None:
    texts: dict[str, list[str]] = {}
    graph = union_graph(seed_dataset)
    for fact, _, excerpt in graph.triples((None, DK.evidence, None)):
        for source in graph.objects(fact, PROV.wasDerivedFrom):
            identifier = graph.value(source, DCTERMS.identifier)
            if identifier is not None:  # an article (list versions are checked with --lists)
                texts.setdefault(str(identifier), []).append(str(excerpt))
    for identifier, excerpts in texts.items():
        (tmp_path / f"{identifier}.txt").write_text("\n".join(excerpts))
    assert len(texts) >= 2  # the seed articles and the news pages behind their facts
    passed = runner.invoke(app, ["check-evidence", str(tmp_path)])
    assert passed.exit_code == 0, passed.output
    assert "0 problem(s)" in passed.output
    assert "not checked here:" in passed.output  # the listings, without --lists
    (tmp_path / "004_d52a76c4b611f5ec.txt").write_text("nothing of the sort")
    failed = runner.invoke(app, ["check-evidence", str(tmp_path)])
    assert failed.exit_code == 1
    assert "excerpt not found verbatim" in failed.output


def test_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    for command in ("build", "validate", "query", "check-evidence"):
        assert command in result.output


def test_serve_builds_only_a_directory_the_build_owns(tmp_path: Path) -> None:
    from api.cli import wants_build

    assert wants_build(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    assert wants_build(tmp_path / "empty")
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "diplokg.nq").write_text("<urn:x:a> <urn:x:b> <urn:x:c> .\n", encoding="utf-8")
    assert not wants_build(dump)  # a generated world or a copied dump: served as it is
    build = tmp_path / "build"
    build.mkdir()
    (build / "manifest.json").write_text(
        json.dumps({"input_digest": "x", "files": {}}), encoding="utf-8"
    )
    assert wants_build(build)
    release = tmp_path / "release"
    release.mkdir()
    (release / "manifest.json").write_text(
        json.dumps({"input_digest": "x", "files": {}, "release": {"version": "0.1.0"}}),
        encoding="utf-8",
    )
    assert not wants_build(release)
