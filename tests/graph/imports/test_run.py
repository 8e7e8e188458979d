"""`diplokg import`: one TriG file per source, validated before it is written, byte-stable, with a diff."""

from __future__ import annotations

import shutil
import sys
import threading
import types
from collections.abc import Iterator
from datetime import date
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from rdflib import Dataset, Literal
from typer.testing import CliRunner

from api.cli import app
from graph.imports import run
from graph.imports.model import Entity, ListFileError, Listing, SourceFile
from graph.imports.result import ImportResult
from graph.namespaces import DK, GRAPH, RES
from graph.validate import ValidationFailed, union_graph

LISTS = Path(__file__).parents[2] / "data" / "lists"
runner = CliRunner()


def _file(day: int) -> SourceFile:
    return SourceFile(
        key=f"fake-2024-0{day}-01",
        url="https://example.org/list.csv",
        name="list.csv",
        version=date(2024, day, 1),
        retrieved=date(2024, day, 2),
        sha256=f"{day}" * 64,
        lists=("us-fto",),
        label=f"Fake list, version of 2024-0{day}-01",
    )


def _listing(entry: str, name: str, **kw: object) -> Listing:
    fields: dict[str, object] = {
        "regime": "us-fto",
        "entry_id": entry,
        "entity": Entity(name),
        "evidence": (f'{entry},"{name}",-0- ,"FTO"',),
        "sources": (_file(1),),
        "started_no_later_than": date(2024, 1, 1),
    }
    fields.update(kw)
    return Listing(**fields)  # type: ignore[arg-type]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> list[ImportResult]:
    """An importer registered as 'us-sdn' that returns the next result of the list."""
    results: list[ImportResult] = []
    module = types.ModuleType("fake_importer")

    def import_paths(paths: object, *, retrieved: date | None) -> ImportResult:
        return results.pop(0)

    module.import_paths = import_paths  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_importer", module)
    monkeypatch.setitem(run.IMPORTERS, "us-sdn", "fake_importer")
    return results


def _read(path: Path) -> Dataset:
    ds = Dataset()
    ds.parse(path, format="trig")
    return ds


def test_an_import_writes_one_named_graph_per_list_version(
    sources: Path, fake: list[ImportResult]
) -> None:
    ended = _listing(
        "15484",
        "HAQQANI NETWORK",
        ended=True,
        ended_after=date(2024, 1, 1),
        ended_no_later_than=date(2024, 2, 1),
        end_kind="delisting",
        end_sources=(_file(2),),
    )
    fake.append(ImportResult([_listing("6636", "TALIBAN"), ended], [_file(1), _file(2)], []))
    report = run.run_import("us-sdn", [Path(__file__)], sources_dir=sources)
    assert report.written and report.path == sources / "list-us-sdn.trig"
    ds = _read(report.path)
    first, second = ds.graph(GRAPH["fake-2024-01-01"]), ds.graph(GRAPH["fake-2024-02-01"])
    haqqani = RES["listing-us-fto-15484"]
    assert (haqqani, DK.startedNoLaterThan, None) in first
    assert (haqqani, DK.endedNoLaterThan, Literal(date(2024, 2, 1))) in second
    assert (haqqani, DK.hasEnded, Literal(True)) not in first
    # the seed's Taliban is the organization listed, not a new one
    assert (RES["listing-us-fto-6636"], DK.designatedOrganization, RES.taliban) in first
    assert {c.kind for c in report.changes} == {"added", "ended"}


def test_importing_the_same_version_again_changes_nothing_byte_for_byte(
    sources: Path, fake: list[ImportResult]
) -> None:
    result = ImportResult([_listing("6636", "TALIBAN"), _listing("1", "AL-QA'IDA")], [_file(1)])
    fake += [result, result]
    run.run_import("us-sdn", [Path(__file__)], sources_dir=sources)
    before = (sources / "list-us-sdn.trig").read_bytes()
    again = run.run_import("us-sdn", [Path(__file__)], sources_dir=sources)
    assert not again.written and again.changes == []
    assert (sources / "list-us-sdn.trig").read_bytes() == before
    assert again.merged == {"previous import": 2}


def test_the_diff_names_listings_added_ended_changed_and_removed(
    sources: Path, fake: list[ImportResult]
) -> None:
    fake.append(
        ImportResult(
            [_listing("1", "ONE GROUP"), _listing("2", "TWO GROUP"), _listing("3", "THREE")],
            [_file(1)],
        )
    )
    run.run_import("us-sdn", [Path(__file__)], sources_dir=sources)
    fake.append(
        ImportResult(
            [
                _listing(
                    "1",
                    "ONE GROUP",
                    ended=True,
                    ended_after=date(2024, 1, 1),
                    ended_no_later_than=date(2024, 2, 1),
                    end_sources=(_file(2),),
                ),
                _listing("2", "TWO GROUP", evidence=('2,"TWO GROUP",-0- ,"FTO] [SDGT"',)),
                _listing("4", "FOUR GROUP"),
            ],
            [_file(1), _file(2)],
        )
    )
    report = run.run_import("us-sdn", [Path(__file__)], sources_dir=sources)
    kinds = {c.iri.rsplit("-", 1)[-1]: c.kind for c in report.changes}
    assert kinds == {"1": "ended", "2": "changed", "3": "removed", "4": "added"}
    text = report.diff_text()
    assert "## ended: 1" in text and "## removed: 1" in text


def test_data_that_breaks_the_shapes_is_refused_and_nothing_is_written(
    sources: Path, fake: list[ImportResult]
) -> None:
    backwards = _listing(
        "1",
        "GROUP",
        ended=True,
        ended_after=date(2024, 3, 1),
        ended_no_later_than=date(2024, 2, 1),
    )
    fake.append(ImportResult([backwards], [_file(1)]))
    with pytest.raises(ValidationFailed) as failed:
        run.run_import("us-sdn", [Path(__file__)], sources_dir=sources)
    assert "leave no date in between" in failed.value.report.text()
    assert not (sources / "list-us-sdn.trig").exists()


def test_a_dry_run_writes_nothing(sources: Path, fake: list[ImportResult]) -> None:
    fake.append(ImportResult([_listing("6636", "TALIBAN")], [_file(1)]))
    report = run.run_import("us-sdn", [Path(__file__)], sources_dir=sources, dry_run=True)
    assert not report.written and report.changes
    assert not (sources / "list-us-sdn.trig").exists()


def test_an_unknown_source_or_a_missing_path_is_a_clear_error(sources: Path) -> None:
    with pytest.raises(ListFileError, match="unknown source"):
        run.run_import("eu", [Path(__file__)], sources_dir=sources)
    with pytest.raises(ListFileError, match="no such file"):
        run.run_import("canada", [sources / "absent.json"], sources_dir=sources)


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "www"
    root.mkdir()
    shutil.copyfile(LISTS / "canada" / "terrorist-groups.json", root / "terrorist-groups.json")
    handler = partial(SimpleHTTPRequestHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_url_is_downloaded_then_imported(sources: Path, http_root: str) -> None:
    report = run.run_import("canada", [f"{http_root}/terrorist-groups.json"], sources_dir=sources)
    assert report.written and report.listings > 10
    graph = union_graph(_read(report.path))
    assert (None, DK.retrievedOn, Literal(date.today())) in graph
    with pytest.raises(ListFileError, match="could not download"):
        run.run_import("canada", [f"{http_root}/absent.json"], sources_dir=sources)


def test_the_cli_imports_prints_the_diff_and_exits_2_on_a_broken_file(
    sources: Path, tmp_path: Path
) -> None:
    galaxy = str(LISTS / "canada" / "terrorist-groups.json")
    args = ["import", "canada", galaxy, "--sources", str(sources), "--retrieved", "2026-12-01"]
    diff = tmp_path / "canada.diff.md"
    result = runner.invoke(app, [*args, "--diff", str(diff)])
    assert result.exit_code == 0, result.output
    assert "## added:" in result.output and "written" in result.output
    assert diff.read_text().startswith("# diplokg import canada")
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "unchanged" in again.output
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    failed = runner.invoke(app, ["import", "canada", str(broken), "--sources", str(sources)])
    assert failed.exit_code == 2
    assert "broken.json" in failed.output
    bad_date = runner.invoke(app, [*args, "--retrieved", "yesterday"])
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.output


def test_reconcile_lists_doubtful_pairs_and_records_decisions(tmp_path: Path) -> None:
    listed = runner.invoke(app, ["reconcile"])
    assert listed.exit_code in (0, 1)
    assert "doubtful pair(s)" in listed.output
    refused = runner.invoke(app, ["reconcile", "--decide", "ca-criminal-code:1=same:org-x"])
    assert refused.exit_code == 2 and "--by" in refused.output


def test_every_organization_keeps_exactly_one_label_whatever_the_import_order(
    sources: Path, fake: list[ImportResult]
) -> None:
    from rdflib.namespace import RDFS

    galaxy = LISTS / "canada" / "terrorist-groups.json"
    run.run_import("canada", [galaxy], retrieved=date(2026, 12, 1), sources_dir=sources)
    fake.append(ImportResult([_listing("4698", "HAMAS")], [_file(1)]))
    run.run_import("us-sdn", [Path(__file__)], sources_dir=sources)
    again = run.run_import("canada", [galaxy], retrieved=date(2026, 12, 1), sources_dir=sources)
    assert not again.written
    graph = union_graph(_read_all(sources))
    hamas = graph.value(RES["listing-us-fto-4698"], DK.designatedOrganization)
    assert hamas is not None and len(list(graph.objects(hamas, RDFS.label))) == 1
    for org in set(graph.objects(None, DK.designatedOrganization)):
        assert len(list(graph.objects(org, RDFS.label))) == 1, org


def _read_all(directory: Path) -> Dataset:
    ds = Dataset()
    for path in sorted(directory.glob("*.trig")):
        ds.parse(path, format="trig")
    return ds


def test_a_delisting_keeps_the_name_of_an_organization_another_list_still_names(
    sources: Path, fake: list[ImportResult], tmp_path: Path
) -> None:
    import json

    from rdflib.namespace import RDFS

    galaxy = LISTS / "canada" / "terrorist-groups.json"
    run.run_import("canada", [galaxy], retrieved=date(2026, 12, 1), sources_dir=sources)
    fake.append(ImportResult([_listing("15484", "Haqqani Network")], [_file(1)]))
    run.run_import("us-sdn", [Path(__file__)], sources_dir=sources)
    data = json.loads(galaxy.read_text(encoding="utf-8"))
    data["values"] = [v for v in data["values"] if v["value"] != "Haqqani Network"]
    smaller = tmp_path / "terrorist-groups.json"
    smaller.write_text(json.dumps(data), encoding="utf-8")
    report = run.run_import("canada", [smaller], retrieved=date(2026, 12, 2), sources_dir=sources)
    assert [c.kind for c in report.changes if "Haqqani" in c.label] == ["removed"]
    graph = union_graph(_read_all(sources))
    org = graph.value(RES["listing-us-fto-15484"], DK.designatedOrganization)
    assert [str(x) for x in graph.objects(org, RDFS.label)] == ["Haqqani Network"]
