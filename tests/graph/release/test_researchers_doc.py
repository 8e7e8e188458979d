"""docs/researchers.md tells the truth about a release: its ```python blocks run in a release
directory and print what the ```text block after each says, and every file it lists exists.

Only blocks fenced exactly ```python run; ```py, ```r and ```stata are shown, not run (signing a
nanopublication needs your key, R and Stata are not installed here).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from graph import __version__
from graph.release.release import ReleaseResult
from tests.conftest import RELEASE_DATE

DOC = Path(__file__).resolve().parents[3] / "docs" / "researchers.md"
DAY = RELEASE_DATE
FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```\n", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Snippet:
    line: int
    code: str
    expected: str | None


def snippets(text: str) -> list[Snippet]:
    """Each ```python block, with the ```text block that directly follows it, if any."""
    blocks = list(FENCE.finditer(text))
    found = []
    for index, block in enumerate(blocks):
        if block.group(1) != "python":
            continue
        expected = None
        if index + 1 < len(blocks):
            following = blocks[index + 1]
            between = text[block.end() : following.start()]
            if following.group(1) == "text" and not between.strip():
                expected = following.group(2)
        found.append(Snippet(text.count("\n", 0, block.start()) + 1, block.group(2), expected))
    return found


def listed_files(text: str) -> list[str]:
    """The paths in the first column of the table under "What a release holds"."""
    section = text.split("## What a release holds", 1)[1].split("\n## ", 1)[0]
    paths: list[str] = []
    for row in section.splitlines():
        if not row.startswith("| `"):
            continue
        previous = ""
        for name in re.findall(r"`([^`]+)`", row.split(" | ", 1)[0]):
            if name.startswith("."):  # `panel/dyad_year.csv`, `.dta`: a sibling's suffix
                name = previous.rsplit(".", 1)[0] + name if "/" in previous else name
            paths.append(name)
            previous = name
    return paths


SNIPPETS = snippets(DOC.read_text(encoding="utf-8"))


@contextlib.contextmanager
def working_directory(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


@pytest.fixture(scope="module")
def release(release_dir: Path) -> ReleaseResult:
    """The session's release (tests/conftest.py), compared with an empty earlier one."""
    files = tuple(sorted(p for p in release_dir.rglob("*") if p.is_file()))
    return ReleaseResult(release_dir, __version__, DAY, files)


def test_the_doc_has_runnable_pandas_snippets_with_their_output() -> None:
    codes = [s.code for s in SNIPPETS]
    assert any('pd.read_parquet("panel/dyad_year.parquet")' in c for c in codes)
    assert any('pd.read_csv("panel/dyad_year.csv"' in "".join(c.split()) for c in codes)
    assert sum(s.expected is not None for s in SNIPPETS) >= 3


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[f"line{s.line}" for s in SNIPPETS])
def test_each_python_snippet_runs_in_a_release_and_prints_what_the_doc_shows(
    release: ReleaseResult, snippet: Snippet
) -> None:
    printed = io.StringIO()
    with working_directory(release.out), contextlib.redirect_stdout(printed):
        exec(compile(snippet.code, f"{DOC.name}:{snippet.line}", "exec"), {"__name__": "doc"})
    if snippet.expected is not None:
        lines = [line.rstrip() for line in printed.getvalue().rstrip().splitlines()]
        assert lines == snippet.expected.rstrip().splitlines()


def test_the_panel_claims_match_the_release(release: ReleaseResult) -> None:
    import pandas as pd

    panel = pd.read_parquet(release.out / "panel" / "dyad_year.parquet")
    assert (panel["year"].min(), panel["year"].max()) == (2002, DAY.year)
    assert set(panel["designated"]) == {"yes", "no", "unknown", ""}
    government = panel[panel["target_type"] == "government"]
    assert (government["designated"] == "").all()
    codes = panel.loc[panel["state_iso3"] == "USA", ["state_gw", "state_cow"]].iloc[0]
    assert (codes["state_gw"], codes["state_cow"]) == (2, 2)


def test_every_file_the_doc_lists_is_in_the_release(release: ReleaseResult) -> None:
    names = {p.relative_to(release.out).as_posix() for p in release.files}
    listed = listed_files(DOC.read_text(encoding="utf-8"))
    assert {"panel/dyad_year.dta", "changes/changes.rdfp", ".zenodo.json"} <= set(listed)
    for name in listed:
        if "*" in name:
            assert list(release.out.glob(name)), name
        else:
            assert name in names, name


def test_every_table_the_doc_describes_is_in_the_release(release: ReleaseResult) -> None:
    text = DOC.read_text(encoding="utf-8")
    described = set(re.findall(r"`(tables/\w+\.csv)`", text))
    written = {p.relative_to(release.out).as_posix() for p in release.out.glob("tables/*.csv")}
    assert described == written
