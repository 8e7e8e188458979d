"""`diplokg update-lists`: download again, import as a dry run, save the diffs; write only on --apply."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from datetime import date
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from graph.imports.model import ListFileError
from graph.imports.refresh import CONFIG, read_config, refresh

LISTS = Path(__file__).parents[2] / "data" / "lists"


@pytest.fixture
def publisher(tmp_path: Path) -> Iterator[str]:
    """The publishers' files, served on 127.0.0.1."""
    root = tmp_path / "www"
    root.mkdir()
    shutil.copyfile(LISTS / "canada" / "lstd-ntts-eng.xml", root / "lstd-ntts-eng.xml")
    shutil.copyfile(LISTS / "us-sdn" / "versions" / "sdn-2024-05-03.csv", root / "sdn.csv")
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _config(tmp_path: Path, publisher: str) -> Path:
    history = LISTS / "us-sdn" / "versions"
    path = tmp_path / "lists.toml"
    path.write_text(
        f'[us-sdn]\nurls = ["{publisher}/sdn.csv"]\npaths = ["{history}"]\n\n'
        f'[canada]\nurls = ["{publisher}/lstd-ntts-eng.xml"]\n'
    )
    return path


def test_the_project_config_names_known_sources_only() -> None:
    names = [c.name for c in read_config(CONFIG)]
    assert names == ["us-sdn", "canada", "uk"]


def test_a_refresh_is_a_dry_run_that_saves_each_diff(
    tmp_path: Path, publisher: str, sources: Path
) -> None:
    configs = read_config(_config(tmp_path, publisher))
    review, archive = tmp_path / "review", tmp_path / "archive"
    done = refresh(
        configs,
        archive=archive,
        review=review,
        sources_dir=sources,
        today=date(2026, 12, 1),
    )
    assert [r.source for r in done.reports] == ["us-sdn", "canada"]
    assert not any(r.written for r in done.reports)
    assert not list(sources.glob("list-*.trig"))
    assert (archive / "us-sdn" / "sdn-2026-12-01.csv").is_file()
    assert (archive / "canada" / "lstd-ntts-eng-2026-12-01.xml").is_file()
    diff = (review / "canada.diff.md").read_text()
    assert diff.startswith("# diplokg import canada") and "## added: " in diff
    # today's download extends the history: the scraped versions and one more
    us = done.reports[0]
    assert us.versions == 7


def test_apply_writes_the_sources(tmp_path: Path, publisher: str, sources: Path) -> None:
    configs = read_config(_config(tmp_path, publisher))
    done = refresh(
        configs,
        archive=tmp_path / "archive",
        review=tmp_path / "review",
        sources_dir=sources,
        apply=True,
        today=date(2026, 12, 1),
    )
    assert all(r.written for r in done.reports)
    assert (sources / "list-canada.trig").is_file()


def test_a_missing_input_is_a_clear_error_unless_optional(tmp_path: Path, sources: Path) -> None:
    path = tmp_path / "lists.toml"
    path.write_text('[us-sdn]\npaths = ["$DIPLOKG_UNSET_VARIABLE_FOR_TEST"]\n')
    with pytest.raises(ListFileError, match="no input"):
        refresh(read_config(path), archive=tmp_path, review=tmp_path / "r", sources_dir=sources)
    path.write_text('[us-sdn]\npaths = ["$DIPLOKG_UNSET_VARIABLE_FOR_TEST"]\noptional = true\n')
    done = refresh(read_config(path), archive=tmp_path, review=tmp_path / "r", sources_dir=sources)
    assert done.reports == [] and "skipped us-sdn" in done.notes[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[eu]\nurls = []\n", "unknown source"),
        ("[canada]\nurl = []\n", "unknown keys"),
        ("[canada\n", "not a readable TOML file"),
    ],
)
def test_a_broken_config_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "lists.toml"
    path.write_text(text)
    with pytest.raises(ListFileError, match=message):
        read_config(path)


def test_the_cli_prints_the_diffs_and_writes_nothing_without_apply(
    tmp_path: Path, publisher: str, sources: Path
) -> None:
    config = _config(tmp_path, publisher)
    review = tmp_path / "review"
    before = {p.name: p.read_bytes() for p in sources.glob("*.trig")}
    result = CliRunner().invoke(
        app,
        [
            "update-lists",
            "--config",
            str(config),
            "--archive",
            str(tmp_path / "archive"),
            "--review",
            str(review),
            "--only",
            "canada",
            "--sources",
            str(sources),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "canada:" in result.output and "not written" in result.output
    assert {p.name: p.read_bytes() for p in sources.glob("*.trig")} == before
    assert (review / "canada.diff.md").is_file()
