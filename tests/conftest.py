"""Shared fixtures: one validated build of the seed graph per test session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
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
