"""The README's citation section is the one generated from the release metadata."""

from __future__ import annotations

from pathlib import Path

from graph import __version__
from graph.release.readme import END, README, START, citation_section, current_metadata, rewrite


def test_the_readme_citation_section_is_generated_from_the_release_metadata() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split(START, 1)[1].split(END, 1)[0].strip("\n")
    assert section == citation_section(current_metadata()), "run: python -m graph.release.readme"
    assert f"version = {{{__version__}}}" in section


def test_rewriting_puts_the_section_between_the_markers_and_keeps_the_rest(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{START}\nold\n{END}\n\n## After\n", encoding="utf-8")
    assert rewrite(readme)
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# Title\n") and text.endswith("## After\n") and "old" not in text
    assert not rewrite(readme)  # idempotent
