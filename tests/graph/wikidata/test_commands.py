"""`diplokg export wikidata` and `diplokg link`: outputs, reports and exit codes (0 ok, 1 refused, 2 error)."""

from __future__ import annotations

import socket
from pathlib import Path

from rdflib import Dataset
from rdflib.namespace import OWL
from typer.testing import CliRunner

from api.cli import app
from graph.namespaces import ENTITIES_GRAPH, RES, WD
from tests.support.wikidata_standin import StandIn

runner = CliRunner()
# The seed (2003) and the news pages (14 February 2003; suspended 17 April 2025): one statement.
RUSSIA = "Q42418\tP3461\tQ159\tP580\t+2003-02-14T00:00:00Z/11\tP582\t+2025-04-17T00:00:00Z/11\t"


def test_export_wikidata_writes_quickstatements_and_reports_on_stderr(built_dir: Path) -> None:
    result = runner.invoke(
        app, ["export", "wikidata", "--dataset", str(built_dir), "--retrieved", "2026-11-23"]
    )
    assert result.exit_code == 0, result.output
    assert any(line.startswith(RUSSIA) for line in result.stdout.splitlines())
    assert "S813\t+2026-11-23T00:00:00Z/11" in result.stdout
    assert "Entities without a Wikidata item" in result.stderr
    assert "res:isis-k" in result.stderr


def test_export_wikidata_plain_to_file_has_commands_only(built_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "qs.tsv"
    result = runner.invoke(
        app,
        ["export", "wikidata", "--dataset", str(built_dir), "--plain", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines and all("\tP3461\t" in line for line in lines)  # P530 waits for review
    assert not [line for line in lines if line.startswith("#")]
    taliban = {line.split("\t")[2] for line in lines if line.startswith("Q42418\tP3461\t")}
    assert taliban == {"Q159", "Q232", "Q813", "Q265", "Q30"}  # Russia, KZ, KG, UZ, the US


def test_export_wikidata_defaults_retrieved_to_today_utc(built_dir: Path) -> None:
    from datetime import UTC, datetime

    result = runner.invoke(app, ["export", "wikidata", "--dataset", str(built_dir), "--plain"])
    today = datetime.now(UTC).date().isoformat()
    assert f"S813\t+{today}T00:00:00Z/11" in result.stdout


def test_export_wikidata_rejects_a_bad_retrieved_date(built_dir: Path) -> None:
    result = runner.invoke(
        app, ["export", "wikidata", "--dataset", str(built_dir), "--retrieved", "yesterday"]
    )
    assert result.exit_code == 2
    assert "is not a date" in result.stderr


def test_link_with_yes_writes_only_links_above_threshold(standin: StandIn, tmp_path: Path) -> None:
    patch = tmp_path / "links.trig"
    result = runner.invoke(app, ["link", "--endpoint", standin.url, "--yes", "--write", str(patch)])
    assert result.exit_code == 0, result.output
    assert "res:gul-hassan (Gul Hassan): needs confirmation: ambiguous" in result.stdout
    assert "wrote 4 link(s)" in result.stdout
    ds = Dataset()
    ds.parse(patch, format="trig")
    graph = ds.graph(ENTITIES_GRAPH)
    assert (RES["isis-k"], OWL.sameAs, WD["Q90000001"]) in graph
    assert not list(graph.triples((RES["gul-hassan"], None, None)))


def test_link_without_write_changes_nothing(standin: StandIn) -> None:
    result = runner.invoke(app, ["link", "--endpoint", standin.url])
    assert result.exit_code == 0, result.output
    assert "use --write FILE to save them" in result.stdout


def test_link_refuses_to_modify_an_existing_file_without_yes_when_it_cannot_ask(
    standin: StandIn, tmp_path: Path
) -> None:
    target = tmp_path / "entities.trig"
    target.write_text("# curated\n", encoding="utf-8")
    result = runner.invoke(app, ["link", "--endpoint", standin.url, "--write", str(target)])
    assert result.exit_code == 1
    assert "use --yes" in result.stderr
    assert target.read_text(encoding="utf-8") == "# curated\n"


def test_link_reports_http_errors_with_exit_2(standin: StandIn) -> None:
    result = runner.invoke(app, ["link", "--endpoint", f"{standin.base}/status/503"])
    assert result.exit_code == 2
    assert "HTTP 503" in result.stderr


def test_link_reports_an_unreachable_endpoint_with_exit_2() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = runner.invoke(
        app, ["link", "--endpoint", f"http://127.0.0.1:{port}/sparql", "--timeout", "2"]
    )
    assert result.exit_code == 2
    assert "cannot reach" in result.stderr
