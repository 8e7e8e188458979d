"""Media types <-> formats per query form (SPARQL 1.1 Protocol §2.1; Results JSON/XML/CSV/TSV)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rdflib import BNode, Literal, URIRef
from rdflib.term import Node


class QueryForm(StrEnum):
    """The four SPARQL 1.1 query forms (SPARQL 1.1 Query §16)."""

    SELECT = "SELECT"
    ASK = "ASK"
    CONSTRUCT = "CONSTRUCT"
    DESCRIBE = "DESCRIBE"

    @property
    def returns_graph(self) -> bool:
        return self in (QueryForm.CONSTRUCT, QueryForm.DESCRIBE)


@dataclass(frozen=True)
class Format:
    """A serialization a client asks for by short name (`?format=`) or media type."""

    name: str
    media_type: str
    #: Other media types that mean the same format in an Accept header.
    aliases: tuple[str, ...]
    #: The query forms this format can carry.
    forms: frozenset[QueryForm]
    #: True for text formats that take `; charset=utf-8` in Content-Type.
    text: bool = True
    #: Other short names a client may give in a format parameter (SPARQLWrapper sends `xml`
    #: for RDF/XML and `n3` for Turtle, for instance).
    names: tuple[str, ...] = ()

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8" if self.text else self.media_type


_SOLUTIONS = frozenset({QueryForm.SELECT, QueryForm.ASK})
_TABLES = frozenset({QueryForm.SELECT})
_GRAPHS = frozenset({QueryForm.CONSTRUCT, QueryForm.DESCRIBE})

#: Every format the endpoint produces; for each form, the first format listed is its default.
FORMATS: tuple[Format, ...] = (
    Format("json", "application/sparql-results+json", ("application/json",), _SOLUTIONS, False),
    Format("xml", "application/sparql-results+xml", ("application/xml", "text/xml"), _SOLUTIONS),
    Format("csv", "text/csv", (), _TABLES),
    Format("tsv", "text/tab-separated-values", (), _TABLES),
    Format("turtle", "text/turtle", ("application/x-turtle",), _GRAPHS, names=("ttl", "n3")),
    Format("ntriples", "application/n-triples", ("text/plain",), _GRAPHS, names=("nt",)),
    Format(
        "jsonld", "application/ld+json", ("application/json",), _GRAPHS, False, ("json-ld", "json")
    ),
    Format(
        "rdfxml",
        "application/rdf+xml",
        ("application/xml", "text/xml"),
        _GRAPHS,
        names=("rdf", "rdf+xml", "xml"),
    ),
)

#: rdflib's plugin name for each format (TSV is ours: rdflib has no TSV results serializer).
RDFLIB_NAMES: dict[str, str] = {
    "json": "json",
    "xml": "xml",
    "csv": "csv",
    "turtle": "turtle",
    "ntriples": "nt",
    "jsonld": "json-ld",
    "rdfxml": "xml",
}

_BY_NAME = {f.name: f for f in FORMATS}


def by_name(name: str) -> Format | None:
    """The format with this short name (json, xml, csv, tsv, turtle, ntriples, jsonld, rdfxml)."""
    return _BY_NAME.get(name.strip().lower())


def formats_for(form: QueryForm) -> tuple[Format, ...]:
    """The formats that can carry a result of `form`, its default first."""
    return tuple(f for f in FORMATS if form in f.forms)


def tsv_term(node: Node | None) -> str:
    """One RDF term in TSV syntax (Query Results CSV/TSV §3.2): its Turtle encoding."""
    if node is None:
        return ""
    if isinstance(node, URIRef | BNode | Literal):
        return node.n3()
    return str(node)


def tsv_results(variables: list[str], rows: list[list[Node | None]]) -> bytes:
    """A SELECT result as TSV (Query Results CSV/TSV §3): `?var` header, Turtle terms."""
    lines = ["\t".join(f"?{v}" for v in variables)]
    for row in rows:
        cells = (tsv_term(value) for value in row)
        lines.append("\t".join(c.replace("\t", "\\t").replace("\n", "\\n") for c in cells))
    return ("\n".join(lines) + "\n").encode("utf-8")
