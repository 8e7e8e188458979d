"""Cite this fact, the embedded schema.org Dataset and a release's downloads (issue 13; api.routers.cite, api.routers.downloads)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from graph import __version__

HTML = {"accept": "text/html"}
RECOGNITION = "recognition-russia-islamic-emirate"
RUSSIA = "russia"
JSONLD_SCRIPT = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


@pytest.fixture(scope="module")
def client(release_dir: Path) -> Iterator[TestClient]:
    app = create_app(Settings(dataset=release_dir, store="oxigraph", workers=1))
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def build_client(built_dir: Path) -> Iterator[TestClient]:
    """The plain build (no release): no release files, a Dataset description built on the fly."""
    app = create_app(Settings(dataset=built_dir, store="oxigraph", workers=1))
    with TestClient(app) as c:
        yield c


def embedded_dataset(html: str) -> dict[str, object]:
    found = JSONLD_SCRIPT.findall(html)
    assert len(found) == 1, "one schema.org description per page"
    doc = json.loads(found[0])
    assert isinstance(doc, dict)
    return doc


# --- Cite this fact ----------------------------------------------------------------------


def test_a_fact_page_offers_its_citation_in_four_formats_and_shows_its_bibtex(
    client: TestClient,
) -> None:
    page = client.get(f"/resource/{RECOGNITION}", headers=HTML)
    assert page.status_code == 200
    html = page.text
    assert 'id="cite-title">Cite this fact</h2>' in html
    for suffix in ("bib", "json", "ris", "trig"):
        assert f'href="/cite/{RECOGNITION}.{suffix}"' in html
    bibtex = re.search(r'<pre class="code" id="cite-bibtex">(.*?)</pre>', html, re.S)
    assert bibtex is not None
    assert bibtex.group(1).startswith(f"@misc{{diplokg:{RECOGNITION}:{__version__},")
    assert "version = {" + __version__ + "}" in bibtex.group(1)
    assert "DiploKG never publishes" in html


def test_an_entity_that_is_no_fact_has_no_cite_section(client: TestClient) -> None:
    html = client.get(f"/resource/{RUSSIA}", headers=HTML).text
    assert "Cite this fact" not in html
    assert "/cite/" not in html


def test_bibtex_names_the_release_its_date_the_access_date_and_the_source(
    client: TestClient,
) -> None:
    response = client.get(f"/cite/{RECOGNITION}.bib")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-bibtex; charset=utf-8"
    text = response.text
    assert text.startswith(f"@misc{{diplokg:{RECOGNITION}:{__version__},")
    assert f"url = {{https://w3id.org/diplokg/resource/{RECOGNITION}}}" in text
    assert "date = {2026-06-01}" in text and "year = {2026}" in text
    assert f"urldate = {{{dt.date.today().isoformat()}}}" in text
    assert "doi" not in text  # no DOI is minted for this release
    assert "fact of type Recognition" in text
    assert "Russia recognizes the Taliban government of Afghanistan" in text  # its source


def test_csl_json_is_one_dataset_item_with_version_and_dates(client: TestClient) -> None:
    response = client.get(f"/cite/{RECOGNITION}.json")
    assert response.headers["content-type"] == "application/vnd.citationstyles.csl+json"
    [item] = response.json()
    assert item["type"] == "dataset"
    assert item["version"] == __version__
    assert item["URL"] == f"https://w3id.org/diplokg/resource/{RECOGNITION}"
    assert item["issued"] == {"date-parts": [[2026, 6, 1]]}
    today = dt.date.today()
    assert item["accessed"] == {"date-parts": [[today.year, today.month, today.day]]}
    assert "DOI" not in item


def test_ris_is_a_data_record_ending_with_er(client: TestClient) -> None:
    response = client.get(f"/cite/{RECOGNITION}.ris")
    assert response.headers["content-type"] == "application/x-research-info-systems; charset=utf-8"
    lines = response.text.splitlines()
    assert lines[0] == "TY  - DATA"
    assert f"ET  - {__version__}" in lines
    assert "DA  - 2026/06/01" in lines
    assert lines[-1] == "ER  - "


def test_the_nanopublication_is_trig_with_the_fact_as_its_assertion(client: TestClient) -> None:
    response = client.get(f"/cite/{RECOGNITION}.trig")
    assert response.headers["content-type"] == "application/trig; charset=utf-8"
    store = ox.Store()
    store.load(response.content, format=ox.RdfFormat.TRIG)
    base = f"http://purl.org/nanopub/temp/diplokg/{__version__}/{RECOGNITION}/"
    fact = ox.NamedNode(f"https://w3id.org/diplokg/resource/{RECOGNITION}")
    dk = "https://w3id.org/diplokg/ontology#"
    assertion = ox.NamedNode(base + "assertion")
    start = list(store.quads_for_pattern(fact, ox.NamedNode(dk + "startDate"), None, assertion))
    assert [str(getattr(q.object, "value", "")) for q in start] == ["2025-07-03"]
    created = list(
        store.quads_for_pattern(
            None,
            ox.NamedNode("http://purl.org/dc/terms/created"),
            None,
            ox.NamedNode(base + "pubinfo"),
        )
    )
    assert [str(getattr(q.object, "value", "")) for q in created] == ["2026-06-01"]


@pytest.mark.parametrize("name", ["russia.bib", "no-such-fact.ris", f"{RECOGNITION}.pdf", "x"])
def test_citing_what_is_no_fact_is_a_404_problem(client: TestClient, name: str) -> None:
    response = client.get(f"/cite/{name}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


# --- the schema.org Dataset embedded in pages ------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/.well-known/void"])
def test_a_release_embeds_its_own_dataset_jsonld(
    client: TestClient, release_dir: Path, path: str
) -> None:
    doc = embedded_dataset(client.get(path, headers=HTML).text)
    assert doc == json.loads((release_dir / "dataset.jsonld").read_text(encoding="utf-8"))
    assert doc["@type"] == "Dataset"
    assert str(doc["name"]).startswith("DiploKG")
    assert doc["version"] == __version__
    assert doc["datePublished"] == "2026-06-01"
    assert doc["license"] == "https://creativecommons.org/licenses/by/4.0/"
    names = {d["name"] for d in doc["distribution"]}  # type: ignore[attr-defined]
    assert {"diplokg.nq", "datapackage.json", "panel/dyad_year.csv"} <= names


def test_a_plain_build_embeds_a_dataset_built_from_its_files(build_client: TestClient) -> None:
    doc = embedded_dataset(build_client.get("/", headers=HTML).text)
    assert doc["@type"] == "Dataset"
    assert doc["name"] and doc["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert doc["version"] == __version__
    names = {d["name"] for d in doc["distribution"]}  # type: ignore[attr-defined]
    assert {"diplokg.nq", "diplokg.trig", "void.ttl"} <= names
    again = embedded_dataset(build_client.get("/.well-known/void", headers=HTML).text)
    assert again == doc  # computed once, kept


# --- a release's downloads ---------------------------------------------------------------


def test_the_download_page_lists_the_release_files(client: TestClient) -> None:
    html = client.get("/download/", headers=HTML).text
    for name in (
        "CITATION.cff",
        ".zenodo.json",
        "dataset.jsonld",
        "ro-crate-metadata.json",
        "croissant.json",
        "datapackage.json",
        "codebook.md",
        "codebook.html",
        "panel/dyad_year.csv",
        "panel/dyad_year.dta",
        "panel/dyad_year.parquet",
    ):
        assert f'href="/download/{name}"' in html, name
        assert f'href="/download/{__version__}/{name}"' in html, name
    assert re.search(r'href="/download/tables/[a-z_]+\.csv"', html)


@pytest.mark.parametrize(
    ("name", "media", "saved_as"),
    [
        ("CITATION.cff", "application/yaml", f"CITATION-{__version__}.cff"),
        (".zenodo.json", "application/json", f"zenodo-{__version__}.json"),
        ("codebook.md", "text/markdown; charset=utf-8", f"codebook-{__version__}.md"),
        ("panel/dyad_year.parquet", "application/vnd.apache.parquet", None),
        ("panel/dyad_year.dta", "application/x-stata-dta", None),
    ],
)
def test_release_files_download_with_media_type_etag_and_name(
    client: TestClient, release_dir: Path, name: str, media: str, saved_as: str | None
) -> None:
    response = client.get(f"/download/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == media
    assert response.content == (release_dir / name).read_bytes()
    saved = saved_as or f"dyad_year-{__version__}.{name.rsplit('.', 1)[-1]}"
    assert response.headers["content-disposition"] == f'attachment; filename="{saved}"'
    tag = response.headers["etag"]
    again = client.get(f"/download/{__version__}/{name}", headers={"if-none-match": tag})
    assert again.status_code == 304


def test_a_table_downloads_by_folder_and_by_version(client: TestClient, release_dir: Path) -> None:
    table = sorted((release_dir / "tables").glob("*.csv"))[0]
    name = f"tables/{table.name}"
    plain = client.get(f"/download/{name}")
    versioned = client.get(f"/download/{__version__}/{name}")
    assert plain.status_code == versioned.status_code == 200
    assert plain.headers["content-type"] == "text/csv; charset=utf-8"
    assert plain.content == versioned.content == table.read_bytes()
    assert client.get(f"/download/9.9.9/{name}").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/download/tables/..%2Fmanifest.json",
        "/download/panel/dyad_year.sav",
        "/download/secret.txt",
        "/download/tables/linked.csv",
        "/download/changes/.hidden",
    ],
)
def test_nothing_outside_the_release_patterns_is_served(
    client: TestClient, release_dir: Path, tmp_path: Path, path: str
) -> None:
    (release_dir / "secret.txt").write_text("no", encoding="utf-8")
    outside = tmp_path / "outside.csv"
    outside.write_text("secret,1\n", encoding="utf-8")
    link = release_dir / "tables" / "linked.csv"
    if not link.is_symlink():
        link.symlink_to(outside)
    try:
        assert client.get(path).status_code == 404
    finally:
        link.unlink()
        (release_dir / "secret.txt").unlink()


def test_a_plain_build_serves_no_release_files(build_client: TestClient) -> None:
    assert build_client.get("/download/CITATION.cff").status_code == 404
    assert "panel/" not in build_client.get("/download/", headers=HTML).text


def test_a_designation_cites_its_own_source_and_ends_in_2025(client: TestClient) -> None:
    slug = "designation-russia-taliban"
    html = client.get(f"/resource/{slug}", headers=HTML).text
    assert f'href="/cite/{slug}.bib"' in html
    [item] = client.get(f"/cite/{slug}.json").json()
    assert item["id"] == f"diplokg:{slug}:{__version__}"
    assert "fact of type TerrorDesignation" in item["note"]
    trig = client.get(f"/cite/{slug}.trig").text
    assert '"2025-04-17"^^<http://www.w3.org/2001/XMLSchema#date>' in trig
