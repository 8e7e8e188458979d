"""`diplokg build` documents the ontology as one standalone, deterministic HTML page (graph.ontology_docs)."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from graph.build import load_sources
from graph.layout import ONTOLOGY_DIR
from graph.namespaces import DK, ONTOLOGY_IRI
from graph.ontology_docs import ONTOLOGY_DOC, document, ontology_page, split_page

PROPERTY_KINDS = (
    OWL.ObjectProperty,
    OWL.DatatypeProperty,
    OWL.AnnotationProperty,
    RDF.Property,
)


class Outline(HTMLParser):
    """Ids, links, resources the page would load, and whether every element is closed."""

    VOID = frozenset({"meta", "link", "br", "img", "input", "hr", "col", "source", "wbr"})

    def __init__(self, text: str) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.loads: list[str] = []
        self.tags: list[str] = []
        self.open: list[str] = []
        self.lang: str | None = None
        self.title = ""
        self._in_title = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append(tag)
        if found.get("id"):
            self.ids.append(str(found["id"]))
        if tag == "a" and found.get("href"):
            self.hrefs.append(str(found["href"]))
        if tag == "html":
            self.lang = found.get("lang")
        if tag == "title":
            self._in_title = True
        if tag in ("script", "img", "iframe") and found.get("src"):
            self.loads.append(str(found["src"]))
        if tag == "link" and found.get("href") and found.get("rel") != "icon":
            self.loads.append(str(found["href"]))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1:]}>"
        self.open.pop()
        self._in_title = False if tag == "title" else self._in_title

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def ontology_terms() -> set[URIRef]:
    """Every class and property the ontology file declares in the dk: namespace."""
    graph = Graph()
    for path in sorted(ONTOLOGY_DIR.glob("*.ttl")):
        graph.parse(path, format="turtle")
    kinds = (OWL.Class, RDFS.Class, *PROPERTY_KINDS)
    return {
        s
        for kind in kinds
        for s in graph.subjects(RDF.type, kind)
        if isinstance(s, URIRef) and str(s).startswith(str(DK))
    }


def test_build_writes_the_ontology_documentation_and_lists_it_in_the_manifest(
    built_dir: Path,
) -> None:
    assert (built_dir / ONTOLOGY_DOC).is_file()
    manifest = json.loads((built_dir / "manifest.json").read_text())
    assert ONTOLOGY_DOC in manifest["files"]


def test_ontology_documentation_is_a_complete_well_formed_page(built_dir: Path) -> None:
    page = Outline((built_dir / ONTOLOGY_DOC).read_text(encoding="utf-8"))
    assert page.open == []  # every element closed, in order
    assert page.lang == "en"
    assert page.title == "DiploKG ontology"
    for tag in ("html", "head", "title", "style", "body", "main", "h1", "nav"):
        assert tag in page.tags, tag
    assert len(page.ids) == len(set(page.ids)), "duplicate ids"


def test_every_class_and_property_of_the_ontology_has_an_anchor(built_dir: Path) -> None:
    page = Outline((built_dir / ONTOLOGY_DOC).read_text(encoding="utf-8"))
    terms = ontology_terms()
    assert DK.State in terms and DK.recognizingState in terms
    missing = {str(t)[len(str(DK)) :] for t in terms} - set(page.ids)
    assert not missing


def test_links_between_terms_stay_on_the_page_and_every_fragment_exists(built_dir: Path) -> None:
    page = Outline((built_dir / ONTOLOGY_DOC).read_text(encoding="utf-8"))
    fragments = {h[1:] for h in page.hrefs if h.startswith("#")}
    assert "State" in fragments  # e.g. the range of dk:recognizingState
    assert fragments <= set(page.ids)


def test_standalone_page_loads_nothing_from_elsewhere(built_dir: Path) -> None:
    text = (built_dir / ONTOLOGY_DOC).read_text(encoding="utf-8")
    assert Outline(text).loads == []
    assert "@import" not in text and "url(" not in text


def test_ontology_documentation_is_byte_for_byte_deterministic(built_dir: Path) -> None:
    # The ontology graph as a build reads it, documented again in this process (the whole
    # build's determinism, this page included, is tested in tests/graph/test_build.py).
    from graph.dumps import load_build

    ontology = load_build(built_dir).get_graph(ONTOLOGY_IRI)
    assert ontology is not None
    assert ontology_page(ontology).encode("utf-8") == (built_dir / ONTOLOGY_DOC).read_bytes()


def test_split_page_gives_back_the_title_and_the_body_with_every_anchor(built_dir: Path) -> None:
    found = split_page((built_dir / ONTOLOGY_DOC).read_text(encoding="utf-8"))
    assert found is not None
    title, body = found
    assert title == "DiploKG ontology"
    assert body.startswith("<article") and body.endswith("</article>")
    assert {"State", "classes"} <= set(Outline(body).ids)
    assert split_page("<html><body>not ours</body></html>") is None


def test_document_sorts_terms_by_label_and_resolves_unions() -> None:
    doc = document(load_sources().graph(ONTOLOGY_IRI))
    sections = {anchor: terms for anchor, _, terms in doc.sections}
    labels = [t.label.lower() for t in sections["classes"]]
    assert labels == sorted(labels)
    date_value = next(t for t in sections["datatypes"] if t.anchor == "DateValue")
    equivalent = dict(date_value.relations)["Equivalent to"]
    assert [v.text for v in equivalent] == ["xsd:date", "xsd:gYearMonth", "xsd:gYear"]
    assert all(v.external for v in equivalent)


def test_ontology_page_escapes_text_from_the_graph() -> None:
    graph = load_sources().graph(ONTOLOGY_IRI)
    hostile = Graph()
    for triple in graph:
        hostile.add(triple)
    hostile.set((DK.State, RDFS.comment, hostile.value(DK.State, RDFS.comment) + "<script>x"))
    page = ontology_page(hostile)
    assert "<script>x" not in page and "&lt;script&gt;x" in page
