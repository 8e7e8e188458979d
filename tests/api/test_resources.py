"""Linked Data: every DiploKG IRI dereferences to HTML or RDF (api.routers.resources)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, PROV, RDF, RDFS

from api.app import create_app
from api.settings import Settings
from graph.namespaces import DK, GRAPH, ONTOLOGY_IRI, RES
from tests.support.serving import served

RUSSIA = RES["russia"]
RECOGNITION = RES["recognition-russia-islamic-emirate"]
ARTICLE = RES["article-russia-recognizes-islamic-emirate"]
HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
RDF_SYNTAXES = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
}


class Page(HTMLParser):
    """The links, text and ids of an HTML page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.ids: set[str] = set()
        self.text_parts: list[str] = []
        self._href: str | None = None
        self._anchor: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if tag == "a" and found.get("href"):
            self._href, self._anchor = found["href"], []

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._anchor).strip()))
            self._href = None

    def handle_data(self, data: str) -> None:
        self.text_parts.append(data)
        if self._href is not None:
            self._anchor.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.text_parts).split())

    def hrefs(self) -> set[str]:
        return {href for href, _ in self.links}


def rdf(client: TestClient, path: str, media: str = "text/turtle") -> Graph:
    response = client.get(path, headers={"accept": media})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(media)
    return Graph().parse(data=response.content, format=RDF_SYNTAXES[media])


def entity_iris(ds: Dataset) -> set[URIRef]:
    return {
        node
        for s, _, o, _ in ds.quads((None, None, None, None))
        for node in (s, o)
        if isinstance(node, URIRef) and str(node).startswith(str(RES))
    }


def test_every_entity_of_the_seed_graph_resolves_as_html_and_turtle(
    client: TestClient, fast_store: str, seed_dataset: Dataset
) -> None:
    iris = sorted(entity_iris(seed_dataset))
    assert len(iris) > 40
    # the curated entities all, the imported ones (a thousand listings, organizations and list
    # versions, all written by the same importers) one in 50, so the test stays quick; on a
    # remote store, where each query names the dataset's 319 graphs (about 50 ms a query on
    # Virtuoso), one curated entity in 25 and one imported node in 1000
    remote = fast_store.startswith("sparql:")
    imported = re.compile(r"(listing|org|source)-")
    local = [str(iri)[len(str(RES)) :] for iri in iris]
    curated = [i for i, slug in zip(iris, local, strict=True) if not imported.match(slug)]
    rest = [i for i, slug in zip(iris, local, strict=True) if imported.match(slug)]
    sample = curated[:: 25 if remote else 1] + rest[:: 1000 if remote else 50]
    assert len(sample) > (4 if remote else 100)
    for iri in sample:
        path = "/resource/" + str(iri)[len(str(RES)) :]
        page = client.get(path, headers=HTML)
        assert page.status_code == 200, path
        assert page.headers["content-type"].startswith("text/html")
        graph = rdf(client, path)
        assert (iri, None, None) in graph or (None, None, iri) in graph, path


def test_entity_description_has_its_triples_labels_of_what_they_point_to_and_facts_about_it(
    client: TestClient,
) -> None:
    graph = rdf(client, "/resource/russia")
    assert (RUSSIA, RDF.type, DK.State) in graph
    assert (RUSSIA, OWL.sameAs, URIRef("http://www.wikidata.org/entity/Q159")) in graph
    assert (RECOGNITION, DK.recognizingState, RUSSIA) in graph
    assert (RECOGNITION, RDF.type, DK.Recognition) in graph
    assert (RECOGNITION, PROV.wasDerivedFrom, ARTICLE) in graph
    assert any(graph.objects(RECOGNITION, DK.evidence))
    assert graph.value(ARTICLE, RDFS.label) is not None
    # not the whole neighbourhood: the recognized government's own facts stay on its page
    emirate = RES["islamic-emirate-of-afghanistan"]
    assert (emirate, DK.governs, None) not in graph

    fact = rdf(client, "/resource/recognition-russia-islamic-emirate")
    assert fact.value(RUSSIA, RDFS.label) == Literal("Russia", lang="en")
    assert fact.value(emirate, RDF.type) == DK.Government


@pytest.mark.parametrize("media", sorted(RDF_SYNTAXES))
def test_every_rdf_syntax_parses_to_the_same_description(client: TestClient, media: str) -> None:
    assert isomorphic(rdf(client, "/resource/russia", media), rdf(client, "/resource/russia"))


def test_format_parameter_overrides_accept(client: TestClient) -> None:
    response = client.get("/resource/russia?format=ntriples", headers=HTML)
    assert response.headers["content-type"].startswith("application/n-triples")
    assert "text/html" in client.get("/resource/russia?format=html").headers["content-type"]


def test_no_accept_header_gets_turtle_and_a_wildcard_gets_turtle(client: TestClient) -> None:
    for headers in ({}, {"accept": "*/*"}):
        response = client.get("/resource/russia", headers=headers)
        assert response.headers["content-type"].startswith("text/turtle")
        assert "Accept" in response.headers["vary"]


def test_unacceptable_media_type_is_406_listing_the_offers(client: TestClient) -> None:
    response = client.get("/resource/russia", headers={"accept": "image/png"})
    assert response.status_code == 406
    offered = {o["media_type"] for o in response.json()["offers"]}
    assert {"text/html", "text/turtle", "application/ld+json"} <= offered


def test_etag_gives_304_on_a_repeated_request(client: TestClient) -> None:
    first = client.get("/resource/russia")
    again = client.get("/resource/russia", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304


def test_unknown_slug_is_404_html_for_browsers_and_problem_json_for_machines(
    client: TestClient,
) -> None:
    page = client.get("/resource/atlantis", headers=HTML)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "/resource/" in Page(page.text).hrefs()  # points somewhere useful
    machine = client.get("/resource/atlantis", headers={"accept": "text/turtle"})
    assert machine.status_code == 404
    assert machine.headers["content-type"] == "application/problem+json"
    assert machine.json()["status"] == 404
    assert client.get("/resource/no%20such%3Cthing%3E", headers=HTML).status_code == 404


def test_fact_page_shows_labels_links_sources_and_verbatim_evidence(client: TestClient) -> None:
    page = Page(client.get("/resource/recognition-russia-islamic-emirate", headers=HTML).text)
    assert "Russia recognizes the Islamic Emirate of Afghanistan" in page.text
    for label in ("recognizing state", "recognized government", "start date"):
        assert label in page.text
    assert ("/resource/russia", "Russia") in page.links
    assert "/resource/article-russia-recognizes-islamic-emirate" in page.hrefs()
    assert "/graph/russia-recognizes-islamic-emirate" in page.hrefs()
    assert "becoming the first country to do so since the group took power in 2021" in page.text
    assert not any(h.startswith("https://w3id.org/") for h in page.hrefs())


def test_state_page_lists_facts_about_it_with_their_sources_and_wikidata_link(
    client: TestClient,
) -> None:
    page = Page(client.get("/resource/russia", headers=HTML).text)
    assert "http://www.wikidata.org/entity/Q159" in page.hrefs()
    assert "/resource/recognition-russia-islamic-emirate" in page.hrefs()
    assert "/resource/designation-russia-taliban" in page.hrefs()
    assert "had been in place since 2003" in page.text  # the designation's evidence
    assert "Where these facts come from" in page.text
    assert "/graph/entities" in page.hrefs()


def test_base_url_maps_the_public_base_to_the_server_path(built_dir: Path) -> None:
    """The mapping is the app's, whatever the store: checked once, on in-process Oxigraph (a new
    app over Virtuoso reloads the dataset, 20 s)."""
    settings = Settings(
        dataset=built_dir,
        store="oxigraph",
        workers=1,
        query_timeout=20.0,
        base_url="https://example.org/kg/",
    )
    with TestClient(create_app(settings)) as client:
        page = Page(client.get("/resource/russia", headers=HTML).text)
        assert "/kg/resource/recognition-russia-islamic-emirate" in page.hrefs()
        assert "/kg/static/site.css" in client.get("/resource/russia", headers=HTML).text
        # the IRIs in the data never change
        assert (RECOGNITION, DK.recognizingState, RUSSIA) in rdf(client, "/resource/russia")


def test_ontology_is_documented_in_html_and_served_as_rdf(
    client: TestClient, seed_dataset: Dataset
) -> None:
    page = Page(client.get("/ontology", headers=HTML).text)
    ontology = seed_dataset.graph(ONTOLOGY_IRI)
    terms = {
        str(s)[len(str(DK)) :]
        for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
        for s in ontology.subjects(RDF.type, kind)
        if str(s).startswith(str(DK))
    }
    assert terms and terms <= page.ids
    assert "DiploKG ontology" in page.text
    for media in RDF_SYNTAXES:
        assert len(rdf(client, "/ontology", media)) == len(ontology)
    assert len(rdf(client, "/ontology/0.1.0")) == len(ontology)
    assert client.get("/ontology/9.9.9", headers=HTML).status_code == 404


def test_named_graph_serves_exactly_its_triples(client: TestClient, seed_dataset: Dataset) -> None:
    name = "russia-recognizes-islamic-emirate"
    served_graph = rdf(client, f"/graph/{name}", "application/n-triples")
    assert isomorphic(served_graph, seed_dataset.graph(GRAPH[name]))
    page = Page(client.get(f"/graph/{name}", headers=HTML).text)
    assert "/resource/recognition-russia-islamic-emirate" in page.hrefs()
    assert client.get("/graph/nope", headers={"accept": "text/turtle"}).status_code == 404


def test_shapes_are_served_as_rdf_and_html(client: TestClient) -> None:
    shapes = rdf(client, "/shapes")
    node_shape = URIRef("http://www.w3.org/ns/shacl#NodeShape")
    assert len(set(shapes.subjects(RDF.type, node_shape))) > 5
    assert "SHACL shapes" in Page(client.get("/shapes", headers=HTML).text).text


def test_void_description_is_served_from_the_build(client: TestClient, built_dir: Path) -> None:
    response = client.get("/.well-known/void", headers={"accept": "text/turtle"})
    if not (built_dir / "void.ttl").exists():
        assert response.status_code == 404
        return
    void = Graph().parse(data=response.content, format="turtle")
    assert isomorphic(void, Graph().parse(built_dir / "void.ttl"))


@pytest.fixture()
def build_without_void(built_dir: Path, tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "dist"
    shutil.copytree(built_dir, copy)
    (copy / "void.ttl").unlink(missing_ok=True)
    yield copy


def test_void_is_404_with_a_clear_message_when_the_build_has_none(
    make_client: Callable[..., TestClient], build_without_void: Path
) -> None:
    client = make_client(dataset=build_without_void)
    response = client.get("/.well-known/void", headers={"accept": "text/turtle"})
    assert response.status_code == 404
    assert "void.ttl" in response.json()["detail"]
    assert (
        client.get("/.well-known/void", headers=HTML)
        .headers["content-type"]
        .startswith("text/html")
    )


def test_downloads_have_media_type_disposition_and_etag(
    client: TestClient, built_dir: Path
) -> None:
    index = Page(client.get("/download/").text)
    for name in ("diplokg.trig", "diplokg.nq", "diplokg.ttl", "diplokg.jsonld"):
        assert f"/download/{name}" in index.hrefs()
    response = client.get("/download/diplokg.trig")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/trig")
    assert response.headers["content-disposition"] == 'attachment; filename="diplokg-0.1.0.trig"'
    ds = Dataset()
    ds.parse(data=response.content, format="trig")
    expected = Dataset()
    expected.parse(built_dir / "diplokg.nq", format="nquads")
    assert len(ds) == len(expected)
    again = client.get(
        "/download/diplokg.trig", headers={"if-none-match": response.headers["etag"]}
    )
    assert again.status_code == 304
    assert (
        client.get("/download/0.1.0/diplokg.nq")
        .headers["content-type"]
        .startswith("application/n-quads")
    )
    assert client.get("/download/0.0.1/diplokg.nq").status_code == 404
    assert client.get("/download/secrets.txt").status_code == 404
    assert client.get("/download/..%2Fpyproject.toml").status_code == 404


@pytest.fixture(scope="module")
def live_server(built_dir: Path) -> Iterator[str]:
    with served(built_dir) as base:
        yield base


def test_rdflib_dereferences_an_entity_iri_against_a_real_server(live_server: str) -> None:
    graph = Graph().parse(live_server + "/resource/russia")
    assert graph.value(RUSSIA, RDFS.label) == Literal("Russia", lang="en")
    assert (RECOGNITION, DK.recognizingState, RUSSIA) in graph
    assert (RECOGNITION, PROV.wasDerivedFrom, ARTICLE) in graph


def main_content(html: str) -> str:
    """What a page has between `<main ...>` and `</main>`."""
    start = html.index(">", html.index("<main")) + 1
    return html[start : html.index("</main>")].strip()


def test_ontology_page_embeds_the_body_prebuilt_by_the_build_inside_the_site_layout(
    client: TestClient, built_dir: Path
) -> None:
    html = client.get("/ontology", headers=HTML).text
    prebuilt = (built_dir / "ontology.html").read_text(encoding="utf-8")
    body = prebuilt[prebuilt.index("<article") : prebuilt.index("</article>")]
    # the same content, with links to DiploKG IRIs mapped to the server
    assert body.replace('href="https://w3id.org/diplokg/', 'href="/') in main_content(html)
    page = Page(html)
    assert "/download/" in page.hrefs()  # the site's navigation
    assert "/static/site.css" in html
    assert "?format=turtle" in page.hrefs()
    assert "/ontology/0.1.0" in page.hrefs()  # the version IRI, local
    assert "#State" in page.hrefs() and "State" in page.ids
    assert not any(h.startswith("https://w3id.org/") for h in page.hrefs())


@pytest.fixture()
def build_with_marked_ontology_doc(built_dir: Path, tmp_path: Path) -> Iterator[Path]:
    """A copy of the build whose ontology.html says where it came from."""
    copy = tmp_path / "dist"
    shutil.copytree(built_dir, copy)
    doc = copy / "ontology.html"
    doc.write_text(
        doc.read_text(encoding="utf-8").replace(
            '<h1 id="ontology-title">',
            '<p id="prebuilt-marker">prebuilt</p><h1 id="ontology-title">',
        ),
        encoding="utf-8",
    )
    yield copy


def test_ontology_page_is_read_from_the_build_not_rendered_by_the_server(
    make_client: Callable[..., TestClient], build_with_marked_ontology_doc: Path
) -> None:
    client = make_client(dataset=build_with_marked_ontology_doc, base_url="https://example.org/kg/")
    page = Page(client.get("/ontology", headers=HTML).text)
    assert "prebuilt-marker" in page.ids
    assert "/kg/ontology/0.1.0" in page.hrefs()
    assert "/kg/download/" in page.hrefs()


@pytest.fixture()
def build_without_ontology_doc(built_dir: Path, tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "dist"
    shutil.copytree(built_dir, copy)
    (copy / "ontology.html").unlink()
    yield copy


def test_ontology_page_of_an_older_build_without_the_file_is_rendered_from_the_graph(
    make_client: Callable[..., TestClient],
    build_without_ontology_doc: Path,
    client: TestClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    older = make_client(dataset=build_without_ontology_doc)
    with caplog.at_level("WARNING", logger="api.linkeddata.ontology"):
        html = older.get("/ontology", headers=HTML).text
    assert "ontology.html" in caplog.text
    assert main_content(html) == main_content(client.get("/ontology", headers=HTML).text)


def test_downloads_list_and_serve_the_ontology_documentation_as_html(
    client: TestClient, built_dir: Path
) -> None:
    index = Page(client.get("/download/").text)
    assert "/download/ontology.html" in index.hrefs()
    assert "/download/0.1.0/ontology.html" in index.hrefs()
    response = client.get("/download/ontology.html")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="ontology-0.1.0.html"'
    assert response.content == (built_dir / "ontology.html").read_bytes()
    assert "State" in Page(response.text).ids
