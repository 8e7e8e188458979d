"""Shared fixtures: one validated build of the seed graph per test session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from rdflib import Dataset

from graph.build import BuildResult, Inputs, build
from graph.dumps import load_build
from graph.layout import SOURCES_DIR
from tests.support import virtuoso as vt


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The seed graph built (validated, dumps written) into a private directory."""
    return build(tmp_path_factory.mktemp("dist"), force=True)


@pytest.fixture(scope="session")
def built_dir(built: BuildResult) -> Path:
    """The directory of that build."""
    return built.out_dir


@pytest.fixture(scope="session")
def seed_dataset(built_dir: Path) -> Dataset:
    """The built seed dataset, loaded from its N-Quads dump (read it, do not modify it)."""
    return load_build(built_dir)


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[vt.VirtuosoServer]:
    """A private Virtuoso on 127.0.0.1 that accepts SPARQL Update; skipped loudly if not installed.

    On CI (CI=true) a missing Virtuoso is a failure: CI must run the remote-store tests.
    """
    if vt.server_binary() is None or vt.isql_binary() is None:
        reason = (
            "REMOTE STORE NOT TESTED: Virtuoso is not installed "
            f"(no {vt.SERVER_BINARY} / isql-vt on PATH); {vt.INSTALL_HINT}"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " -- CI must run these tests", pytrace=False)
        pytest.skip(reason)
    server = vt.start(tmp_path_factory.mktemp("virtuoso"))
    try:
        server.allow_sparql_update()
        yield server
    finally:
        server.stop()


#: The declared date of the release the tests make (an earlier release than the sources').
RELEASE_DATE = date(2026, 6, 1)


@pytest.fixture(scope="session")
def release_dir(tmp_path_factory: pytest.TempPathFactory, built_dir: Path) -> Path:
    """A release of the sources (`diplokg release`), made once per session (about 20 s),
    compared with an empty earlier release (version 0.0.0), so that its changes exist."""
    import json

    from graph import __version__
    from graph.release.release import make_release

    previous = tmp_path_factory.mktemp("previous-release")
    (previous / "diplokg.nq").write_text("", encoding="utf-8")
    (previous / "manifest.json").write_text(json.dumps({"version": "0.0.0"}), encoding="utf-8")
    out = tmp_path_factory.mktemp("release")
    return make_release(
        __version__, out, release_date=RELEASE_DATE, previous=previous, built=built_dir
    ).out


@pytest.fixture(scope="session")
def without_lists(tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    """The project's inputs without the generated list files (graph/sources/list-*.trig:
    20k quads that the broken fixtures do not refer to), so that validating each broken fixture
    takes a fraction of a second instead of seconds."""
    directory = tmp_path_factory.mktemp("sources-without-lists")
    for source in SOURCES_DIR.glob("*.trig"):
        if not source.name.startswith("list-"):
            shutil.copyfile(source, directory / source.name)
    return Inputs(sources_dir=directory)
