"""Content negotiation as a pure function: q-values, wildcards, aliases, format=, 406."""

from __future__ import annotations

import pytest

from api.negotiation import NotAcceptable, negotiate
from graph.formats import QueryForm, formats_for

SOLUTIONS = formats_for(QueryForm.SELECT)
GRAPHS = formats_for(QueryForm.CONSTRUCT)
ASK = formats_for(QueryForm.ASK)


@pytest.mark.parametrize(
    ("offers", "accept", "expected"),
    [
        (SOLUTIONS, None, "json"),
        (SOLUTIONS, "", "json"),
        (GRAPHS, None, "turtle"),
        (SOLUTIONS, "*/*", "json"),
        (GRAPHS, "*/*", "turtle"),
        (SOLUTIONS, "application/sparql-results+xml", "xml"),
        (SOLUTIONS, "text/csv", "csv"),
        (SOLUTIONS, "text/tab-separated-values", "tsv"),
        (SOLUTIONS, "application/json", "json"),
        (GRAPHS, "application/json", "jsonld"),
        (GRAPHS, "application/n-triples", "ntriples"),
        (GRAPHS, "application/rdf+xml", "rdfxml"),
        (GRAPHS, "application/ld+json", "jsonld"),
        (SOLUTIONS, "text/csv;q=0.5, application/sparql-results+xml;q=0.9", "xml"),
        (SOLUTIONS, "text/*;q=0.9, */*;q=0.1", "csv"),
        (SOLUTIONS, "text/*, text/csv;q=0", "tsv"),
        (SOLUTIONS, "*/*;q=0.1, application/sparql-results+json;q=0", "xml"),
        (GRAPHS, "text/turtle;charset=utf-8", "turtle"),
        (SOLUTIONS, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "xml"),
        (SOLUTIONS, "garbage, text/csv", "csv"),
    ],
)
def test_accept_header_chooses_the_best_offer(
    offers: tuple[object, ...], accept: str | None, expected: str
) -> None:
    assert negotiate(offers, accept, None).name == expected  # type: ignore[arg-type]


def test_format_parameter_wins_over_accept() -> None:
    assert negotiate(SOLUTIONS, "text/csv", "tsv").name == "tsv"
    assert negotiate(GRAPHS, "text/turtle", "ntriples").name == "ntriples"


def test_format_parameter_accepts_a_media_type() -> None:
    assert negotiate(SOLUTIONS, None, "application/sparql-results+xml").name == "xml"


def test_nothing_acceptable_raises_with_the_offers() -> None:
    with pytest.raises(NotAcceptable) as caught:
        negotiate(SOLUTIONS, "image/png", None)
    assert [name for name, _ in caught.value.offers] == ["json", "xml", "csv", "tsv"]


def test_zero_quality_everywhere_is_not_acceptable() -> None:
    with pytest.raises(NotAcceptable):
        negotiate(GRAPHS, "*/*;q=0", None)


def test_format_that_cannot_carry_the_form_is_not_acceptable() -> None:
    with pytest.raises(NotAcceptable):
        negotiate(GRAPHS, None, "csv")
    with pytest.raises(NotAcceptable):
        negotiate(ASK, None, "tsv")
    with pytest.raises(NotAcceptable):
        negotiate(SOLUTIONS, None, "nonsense")


def test_charset_other_than_utf8_is_not_acceptable() -> None:
    with pytest.raises(NotAcceptable):
        negotiate(GRAPHS, "text/turtle;charset=latin-1", None)
