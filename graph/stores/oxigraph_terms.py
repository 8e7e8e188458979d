"""pyoxigraph terms as rdflib terms: for the Oxigraph store's results and for SHACL narrowing.

Kept apart from graph.stores.oxigraph, which imports the build (and so the validator), so that
graph.validate can use it without an import cycle.
"""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from graph.stores.base import StoreError


def to_rdflib(term: Any) -> Node | None:
    """A pyoxigraph term as an rdflib term (a blank node keeps its id, as pyshacl's Oxigraph
    backend names it)."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise StoreError(f"unsupported term in a result: {term!r}")
