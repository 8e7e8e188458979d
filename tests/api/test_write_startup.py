"""`diplokg serve --write-tokens`: refused at start-up, with a clear message and exit code 2,
when the store cannot keep writes or the token file cannot be used."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app as cli
from api.settings import CHANGE_LOG
from graph.writes import log as change_log


def serve(built_dir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["serve", "--dataset", str(built_dir), *args])
    return result.exit_code, result.output


def test_writes_on_an_in_memory_store_are_refused(built_dir: Path, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("alice:alice-token-0123456789\n", encoding="utf-8")
    for store in ("oxigraph", "memory", "sparql:http://127.0.0.1:9/sparql"):
        code, output = serve(built_dir, "--store", store, "--write-tokens", str(tokens))
        assert code == 2, output
        assert "oxigraph:DIR" in output


def test_a_remote_store_needs_a_change_log(built_dir: Path, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("alice:alice-token-0123456789\n", encoding="utf-8")
    spec = "sparql:http://127.0.0.1:9/sparql,http://127.0.0.1:9/update"
    code, output = serve(built_dir, "--store", spec, "--write-tokens", str(tokens))
    assert code == 2 and "--change-log" in output


def test_a_bad_token_file_is_refused_with_its_line(built_dir: Path, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("# curators\nalice:short\n", encoding="utf-8")
    code, output = serve(
        built_dir, "--store", f"oxigraph:{tmp_path / 'store'}", "--write-tokens", str(tokens)
    )
    assert (
        code == 2
        and "line 2" in output
        and "short" not in output.split("line 2")[1].split("\n")[0].split(":")[0]
    )
    code, output = serve(
        built_dir,
        "--store",
        f"oxigraph:{tmp_path / 'store'}",
        "--write-tokens",
        str(tmp_path / "missing.txt"),
    )
    assert code == 2 and "token file" in output


def test_a_second_server_on_the_same_store_is_refused_with_why(
    built_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The change log is one writer's: another server's writer holds it (here, this test)."""
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("alice:alice-token-0123456789\n", encoding="utf-8")
    store = tmp_path / "store"
    other = change_log.ChangeLog(store / CHANGE_LOG)
    other.hold()
    monkeypatch.setattr(change_log, "LOCK_WAIT_S", 0.2)
    try:
        code, output = serve(
            built_dir, "--store", f"oxigraph:{store}", "--write-tokens", str(tokens)
        )
    finally:
        other.release()
    assert code == 2, output
    assert "in use by another DiploKG writer" in output and str(store) in output
