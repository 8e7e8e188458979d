"""Reading RDF files into rdflib datasets, with parse errors that name the file, the line and the reason."""

from __future__ import annotations

import json
import xml.sax
from collections.abc import Iterable
from pathlib import Path

from rdflib import Dataset, Graph
from rdflib.exceptions import ParserError
from rdflib.plugins.parsers.notation3 import BadSyntax

from graph.errors import RDFParseError
from graph.namespaces import PREFIXES

#: File suffix -> rdflib parser name.
PARSER_BY_SUFFIX: dict[str, str] = {
    ".ttl": "turtle",
    ".trig": "trig",
    ".nt": "nt",
    ".nq": "nquads",
    ".jsonld": "json-ld",
    ".json": "json-ld",
    ".rdf": "xml",
    ".owl": "xml",
    ".xml": "xml",
}


def parser_for(path: Path) -> str:
    """The rdflib parser for a file, chosen by its suffix."""
    try:
        return PARSER_BY_SUFFIX[path.suffix.lower()]
    except KeyError:
        known = ", ".join(sorted(PARSER_BY_SUFFIX))
        raise RDFParseError(path, f"unknown RDF file type (expected one of {known})") from None


def new_dataset() -> Dataset:
    """An empty dataset with DiploKG's prefixes bound."""
    ds = Dataset()
    for name, iri in PREFIXES.items():
        ds.bind(name, iri, override=True, replace=True)
    return ds


def parse_into(ds: Dataset, path: Path, *, graph_name: str | None = None) -> None:
    """Parse one RDF file into `ds`. Triple formats go into `graph_name` (or a graph named after the file)."""
    fmt = parser_for(path)
    if not path.is_file():
        raise RDFParseError(path, "no such file")
    try:
        if fmt in ("trig", "nquads"):
            ds.parse(path, format=fmt)
        else:
            target: Graph = ds.graph(graph_name or path.resolve().as_uri())
            target.parse(path, format=fmt)
    except BadSyntax as exc:
        raise RDFParseError(path, exc._why, line=exc.lines + 1) from None
    except ParserError as exc:
        raise RDFParseError(
            path, str(exc.msg).split("\n")[0], line=_first_bad_line(path, fmt)
        ) from None
    except json.JSONDecodeError as exc:
        raise RDFParseError(path, exc.msg, line=exc.lineno) from None
    except xml.sax.SAXParseException as exc:
        raise RDFParseError(path, exc.getMessage(), line=exc.getLineNumber()) from None
    except UnicodeDecodeError as exc:
        raise RDFParseError(path, f"not UTF-8 text ({exc.reason})") from None
    except Exception as exc:  # rdflib's parsers raise bare Exception / ValueError subclasses too
        raise RDFParseError(path, f"{type(exc).__name__}: {exc}") from None


def load_files(paths: Iterable[Path]) -> Dataset:
    """A new dataset holding every file in `paths`."""
    ds = new_dataset()
    for path in paths:
        parse_into(ds, path)
    return ds


def _first_bad_line(path: Path, fmt: str) -> int | None:
    """For line-based formats, the first line that does not parse on its own."""
    with path.open(encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                Dataset().parse(data=line, format=fmt)
            except Exception:
                return number
    return None


def ontology_subclasses(ontology_dir: Path | None = None) -> tuple[tuple[str, str], ...]:
    """The ontology files' (class, superclass) rdfs:subClassOf edges between IRIs, sorted."""
    import pyoxigraph as ox

    from graph.layout import ONTOLOGY_DIR

    subclass = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
    edges = set()
    for path in sorted((ontology_dir or ONTOLOGY_DIR).glob("*.ttl")):
        for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            if (
                t.predicate.value == subclass
                and isinstance(t.subject, ox.NamedNode)
                and isinstance(t.object, ox.NamedNode)
            ):
                edges.add((t.subject.value, t.object.value))
    return tuple(sorted(edges))
