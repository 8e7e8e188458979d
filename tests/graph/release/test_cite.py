"""Cite this fact: BibTeX, CSL-JSON, RIS, and nanopublications that `nanopub` loads and signs."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Dataset, URIRef

from graph.release.cite import (
    Citation,
    CitationError,
    export_nanopubs,
    fact_citation,
    nanopublication,
)

R = "https://w3id.org/diplokg/resource/"
RECOGNITION = R + "recognition-russia-islamic-emirate"
DESIGNATION = R + "designation-russia-taliban"
NP = "http://www.nanopub.org/nschema#"


@pytest.fixture(scope="module")
def store(built_dir: Path) -> ox.Store:
    loaded = ox.Store()
    loaded.load(path=built_dir / "diplokg.nq", format=ox.RdfFormat.N_QUADS)
    return loaded


@pytest.fixture(scope="module")
def recognition(store: ox.Store) -> Citation:
    return fact_citation(
        store,
        RECOGNITION,
        "0.1.0",
        "2026-01-15",
        doi="10.5281/zenodo.1234567",
        release_date="2026-01-10",
    )


def test_citation_names_fact_release_and_source(recognition: Citation) -> None:
    assert recognition.label == "Russia recognizes the Islamic Emirate of Afghanistan"
    assert recognition.fact_type == "https://w3id.org/diplokg/ontology#Recognition"
    (source,) = recognition.sources
    assert source.iri == R + "article-russia-recognizes-islamic-emirate"
    assert (
        source.title
        == "Report: Russia recognizes the Taliban government of Afghanistan (July 2025)"
    )
    assert source.date == "2025-07-03"  # the untitled report's events; it has no URL
    assert source.url is None


def test_bibtex_is_one_misc_entry_with_its_fields(recognition: Citation) -> None:
    text = recognition.bibtex()
    entry = re.fullmatch(r"@misc\{([^,\s]+),\n((?:  \w+ = \{.*\},?\n)+)\}\n", text)
    assert entry is not None, text
    assert entry.group(1) == "diplokg:recognition-russia-islamic-emirate:0.1.0"
    fields = dict(re.findall(r"  (\w+) = \{(.*)\},?\n", entry.group(2)))
    assert fields["title"] == "{Russia recognizes the Islamic Emirate of Afghanistan}"
    assert fields["url"] == RECOGNITION
    assert fields["version"] == "0.1.0"
    assert fields["doi"] == "10.5281/zenodo.1234567"
    assert fields["urldate"] == "2026-01-15"
    assert fields["year"] == "2026"
    assert "Report: Russia recognizes the Taliban government" in fields["note"]
    for value in fields.values():  # braces balance within each field
        assert value.count("{") == value.count("}")


def test_bibtex_escapes_special_characters(store: ox.Store) -> None:
    citation = fact_citation(store, DESIGNATION, "0.1.0", "2026-01-15")
    assert "Russia designates the Taliban as terrorist (2003–2025)" in citation.bibtex()
    assert "doi =" not in citation.bibtex()  # no DOI minted yet
    odd = Citation(DESIGNATION, "50% & #1_{x}", "dk:Fact", "0.1.0", "2026-01-15", ())
    assert r"{50\% \& \#1\_\{x\}}" in odd.bibtex()


def test_csl_json_is_a_dataset_item(recognition: Citation) -> None:
    item = json.loads(json.dumps(recognition.csl_json()))
    assert {"id", "type", "title", "author", "URL", "version", "accessed", "issued"} <= item.keys()
    assert item["type"] == "dataset"
    assert item["title"] == "Russia recognizes the Islamic Emirate of Afghanistan"
    assert item["URL"] == RECOGNITION
    assert item["DOI"] == "10.5281/zenodo.1234567"
    assert item["accessed"] == {"date-parts": [[2026, 1, 15]]}
    assert item["issued"] == {"date-parts": [[2026, 1, 10]]}
    assert item["author"] == [{"literal": "DiploKG contributors"}]


def test_ris_starts_with_ty_and_ends_with_er(recognition: Citation) -> None:
    lines = recognition.ris().splitlines()
    assert lines[0] == "TY  - DATA"
    assert lines[-1] == "ER  - "
    assert "TI  - Russia recognizes the Islamic Emirate of Afghanistan" in lines
    assert f"UR  - {RECOGNITION}" in lines
    assert "DO  - 10.5281/zenodo.1234567" in lines
    assert "Y2  - 2026/01/15" in lines
    assert all(re.fullmatch(r"[A-Z][A-Z0-9]  - .*", line) for line in lines)


def test_citing_something_that_is_no_fact_fails(store: ox.Store) -> None:
    with pytest.raises(CitationError):
        fact_citation(store, R + "russia", "0.1.0", "2026-01-15")


@pytest.fixture()
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a network connection fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_nanopublication_has_the_four_graphs(store: ox.Store) -> None:
    text = nanopublication(store, DESIGNATION, "0.1.0", "2026-01-10")
    ds = ox.Dataset(ox.parse(text.encode("utf-8"), format=ox.RdfFormat.TRIG))
    base = "http://purl.org/nanopub/temp/diplokg/0.1.0/designation-russia-taliban/"
    graphs = {q.graph_name.value for q in ds}
    assert graphs == {base + g for g in ("Head", "assertion", "provenance", "pubinfo")}
    assertion = {
        (q.predicate.value, q.object.value) for q in ds if q.graph_name.value == base + "assertion"
    }
    assert ("https://w3id.org/diplokg/ontology#endDate", "2025-04-17") in assertion
    assert (
        "http://www.w3.org/ns/prov#wasDerivedFrom",
        R + "article-russia-removes-taliban-from-terror-list",
    ) not in assertion
    provenance = [q for q in ds if q.graph_name.value == base + "provenance"]
    assert any(
        q.subject.value == base + "assertion"
        and q.predicate.value == "http://www.w3.org/ns/prov#wasDerivedFrom"
        and q.object.value == R + "article-russia-removes-taliban-from-terror-list"
        for q in provenance
    )
    assert any(q.predicate.value.endswith("ontology#evidence") for q in provenance)
    assert '"2026-01-10"^^<http://www.w3.org/2001/XMLSchema#date>' in text


def test_nanopub_package_loads_and_signs_it_offline(
    store: ox.Store, tmp_path: Path, offline: None
) -> None:
    from nanopub.nanopub import Nanopub
    from nanopub.nanopub_conf import NanopubConf
    from nanopub.profile import Profile

    path = tmp_path / "np.trig"
    path.write_text(nanopublication(store, RECOGNITION, "0.1.0", "2026-01-10"), encoding="utf-8")
    profile = Profile(orcid_id="https://orcid.org/0000-0000-0000-0000", name="Test signer")
    publication = Nanopub(rdf=path, conf=NanopubConf(profile=profile))
    assert publication.is_valid
    publication.sign()
    assert publication.source_uri.startswith("http://purl.org/np/RA")
    assert publication.has_valid_signature
    signed = Dataset(default_union=True)
    signed.parse(data=publication.rdf.serialize(format="trig"), format="trig")
    recognized = (URIRef(RECOGNITION), None, URIRef(R + "islamic-emirate-of-afghanistan"))
    assert len(list(signed.triples(recognized))) == 1


def test_export_writes_one_trig_per_fact_identically(store: ox.Store, tmp_path: Path) -> None:
    count = export_nanopubs(store, tmp_path / "a", "0.1.0", "2026-01-10")
    files = sorted(p.name for p in (tmp_path / "a").glob("*.trig"))
    assert count == len(files) > 1000  # the list imports give over a thousand listings
    assert "recognition-russia-islamic-emirate.trig" in files
    assert "listing-us-fto-10391.trig" in files
    export_nanopubs(store, tmp_path / "b", "0.1.0", "2026-01-10")
    for name in ("recognition-russia-islamic-emirate.trig", "listing-us-fto-10391.trig"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    text = (tmp_path / "a" / "listing-us-fto-10391.trig").read_text("utf-8")
    assert NP + "Nanopublication" in text
    assert R + "source-us-sdn-2021-08-18" in text
