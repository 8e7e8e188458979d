"""Fixtures of the importer tests: a sources directory to import into."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from graph.layout import SOURCES_DIR


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """A copy of the curated sources (entities and lists) to import into."""
    out = tmp_path / "sources"
    out.mkdir()
    for name in ("entities.trig", "lists.trig"):
        shutil.copyfile(SOURCES_DIR / name, out / name)
    return out
