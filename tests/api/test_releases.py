"""Earlier releases served beside the current data: /release/VERSION/ (endpoint, pages) and
Memento (RFC 7089): TimeGate, Memento-Datetime, TimeMap."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from api.settings import Settings
from graph import __version__

HTML = {"Accept": "text/html"}
BEFORE = "Mon, 01 Jun 2026 12:00:00 GMT"  # after the release (2026-06-01), before the sources'
LATER = "Wed, 02 Dec 2026 00:00:00 GMT"


@pytest.fixture(scope="module")
def client(built_dir: Path, release_dir: Path) -> Iterator[TestClient]:
    settings = Settings(
        dataset=built_dir, store="oxigraph", workers=1, releases=(str(release_dir),)
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_an_earlier_release_has_its_own_endpoint(client: TestClient) -> None:
    response = client.post(
        f"/release/{__version__}/sparql",
        data={"query": "ASK { res:recognition-russia-islamic-emirate dk:startDate ?d }"},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert response.status_code == 200 and response.json()["boolean"] is True
    assert client.get(f"/release/{__version__}/healthz").json()["status"] == "ok"


def test_the_current_page_is_a_timegate_to_the_release_asked_for(client: TestClient) -> None:
    response = client.get(
        "/resource/russia", headers={"Accept-Datetime": BEFORE}, follow_redirects=False
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/release/{__version__}/resource/russia")
    assert "accept-datetime" in response.headers["Vary"].lower()
    assert 'rel="timemap"' in response.headers["Link"]
    current = client.get(
        "/resource/russia", headers={"Accept-Datetime": LATER, **HTML}, follow_redirects=False
    )
    assert current.status_code == 200 and current.headers["Memento-Datetime"]
    assert (
        'rel="alternate"' in current.headers["Link"] and 'rel="timemap"' in current.headers["Link"]
    )
    bad = client.get(
        "/resource/russia", headers={"Accept-Datetime": "yesterday"}, follow_redirects=False
    )
    assert bad.status_code == 400


def test_a_release_page_is_a_memento_and_says_which_release_it_shows(client: TestClient) -> None:
    page = client.get(f"/release/{__version__}/resource/russia", headers=HTML)
    assert page.status_code == 200
    assert page.headers["Memento-Datetime"] == "Mon, 01 Jun 2026 00:00:00 GMT"
    assert 'rel="original timegate"' in page.headers["Link"]
    assert f"release {__version__} of 2026-06-01" in page.text and 'class="memento"' in page.text
    # Its links stay within the release.
    assert f'href="/release/{__version__}/resource/' in page.text
    current = client.get("/resource/russia", headers=HTML).text
    assert 'class="memento"' not in current and f"version {__version__}" in current


def test_the_timemap_lists_every_release(client: TestClient) -> None:
    response = client.get("/timemap/resource/russia")
    assert response.headers["content-type"].startswith("application/link-format")
    assert 'rel="first memento"' in response.text and 'rel="last memento"' in response.text
    assert f"/release/{__version__}/resource/russia" in response.text


def test_a_directory_that_is_not_a_release_is_refused(built_dir: Path) -> None:
    result = CliRunner().invoke(
        cli, ["serve", "--dataset", str(built_dir), "--release", str(built_dir)]
    )
    assert result.exit_code == 2 and "not a release" in result.output
