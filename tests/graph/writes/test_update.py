"""Every form of SPARQL 1.1 Update, and the Graph Store operations, evaluated into a Delta."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD

from graph.errors import ForbiddenService, QuerySyntaxError
from graph.writes.backends import OxigraphBackend
from graph.writes.delta import Delta, quad_line
from graph.writes.overlay import Overlay
from graph.writes.update import (
    GENID,
    BodyError,
    GraphNotFound,
    GraphOperation,
    LoadRefused,
    UpdateFailed,
    UpdateRequest,
    run_graph_operation,
    run_update,
)

DATA = """
<urn:x:a> <urn:x:p> 1 .
GRAPH <urn:x:g> { <urn:x:b> <urn:x:p> 2 . <urn:x:b> <urn:x:q> "en"@en . <urn:x:b> <urn:x:r> <urn:x:c> }
GRAPH <urn:x:h> { <urn:x:c> <urn:x:p> 3 }
"""


@pytest.fixture()
def backend() -> OxigraphBackend:
    store = ox.Store()
    store.update(f"INSERT DATA {{ {DATA} }}")
    return OxigraphBackend(store)


def change(
    backend: OxigraphBackend, text: str, **protocol: tuple[str, ...]
) -> tuple[set[str], set[str]]:
    overlay = Overlay(backend)
    run_update(UpdateRequest(text, **protocol), overlay)
    delta = overlay.delta()
    return {quad_line(q) for q in delta.removed}, {quad_line(q) for q in delta.added}


def line(s: str, p: str, o: str, g: str | None = None) -> str:
    return f"{s} {p} {o}{' ' + g if g else ''} ."


INT = "^^<http://www.w3.org/2001/XMLSchema#integer>"


def test_insert_data_in_default_and_named_graphs(backend: OxigraphBackend) -> None:
    removed, added = change(
        backend,
        'INSERT DATA { <urn:x:n> <urn:x:p> "v" . GRAPH <urn:x:g> { <urn:x:n> <urn:x:p> "w" } }',
    )
    assert removed == set()
    assert added == {
        line("<urn:x:n>", "<urn:x:p>", '"v"'),
        line("<urn:x:n>", "<urn:x:p>", '"w"', "<urn:x:g>"),
    }


def test_a_quad_already_there_is_not_a_change(backend: OxigraphBackend) -> None:
    assert change(backend, "INSERT DATA { GRAPH <urn:x:g> { <urn:x:b> <urn:x:p> 2 } }") == (
        set(),
        set(),
    )
    assert change(backend, "DELETE DATA { GRAPH <urn:x:g> { <urn:x:zz> <urn:x:p> 2 } }") == (
        set(),
        set(),
    )


def test_an_overlay_reads_a_graph_once_to_know_it_is_new(backend: OxigraphBackend) -> None:
    """Quads staged for a graph the base lacks are new without a lookup each; in a graph the
    base has, each is looked up; an overlay over another sees what that one staged."""
    lookups: list[object] = []
    contains = backend.contains
    backend.contains = lambda quad: lookups.append(quad) or contains(quad)  # type: ignore[method-assign]
    p = URIRef("urn:x:p")
    below = Overlay(backend)
    for n in range(5):
        below.add((URIRef(f"urn:x:n{n}"), p, Literal(n), URIRef("urn:x:new")))
    assert lookups == []
    below.add((URIRef("urn:x:b"), p, Literal(2), URIRef("urn:x:g")))  # there already
    assert len(lookups) == 1 and not below.delta().added - {
        (URIRef(f"urn:x:n{n}"), p, Literal(n), URIRef("urn:x:new")) for n in range(5)
    }
    above = Overlay(below)
    above.add((URIRef("urn:x:n0"), p, Literal(0), URIRef("urn:x:new")))  # staged below
    above.remove((URIRef("urn:x:n1"), p, Literal(1), URIRef("urn:x:new")))
    assert above.delta() == Delta(
        frozenset({(URIRef("urn:x:n1"), p, Literal(1), URIRef("urn:x:new"))}), frozenset()
    )


def test_delete_data(backend: OxigraphBackend) -> None:
    removed, added = change(backend, "DELETE DATA { GRAPH <urn:x:g> { <urn:x:b> <urn:x:p> 2 } }")
    assert removed == {line("<urn:x:b>", "<urn:x:p>", f'"2"{INT}', "<urn:x:g>")} and not added


def test_delete_where_with_a_graph_variable(backend: OxigraphBackend) -> None:
    removed, _ = change(backend, "DELETE WHERE { GRAPH ?g { ?s <urn:x:p> ?o } }")
    assert removed == {
        line("<urn:x:b>", "<urn:x:p>", f'"2"{INT}', "<urn:x:g>"),
        line("<urn:x:c>", "<urn:x:p>", f'"3"{INT}', "<urn:x:h>"),
    }


def test_delete_insert_where_sees_the_union_and_writes_where_the_template_says(
    backend: OxigraphBackend,
) -> None:
    removed, added = change(
        backend,
        "DELETE { GRAPH ?g { ?s <urn:x:p> ?o } } INSERT { GRAPH ?g { ?s <urn:x:p2> ?o } } "
        "WHERE { GRAPH ?g { ?s <urn:x:p> ?o } }",
    )
    assert len(removed) == 2 and len(added) == 2
    assert line("<urn:x:c>", "<urn:x:p2>", f'"3"{INT}', "<urn:x:h>") in added
    # Without GRAPH, the WHERE clause reads the union of all graphs; the template writes to
    # the stored default graph.
    _, added = change(backend, "INSERT { ?s <urn:x:seen> true } WHERE { ?s <urn:x:p> ?o }")
    assert len(added) == 3 and all(not a.endswith("> > .") for a in added)


def test_with_names_the_graph_of_the_where_clause_and_the_templates(
    backend: OxigraphBackend,
) -> None:
    removed, added = change(
        backend,
        'WITH <urn:x:g> DELETE { ?s ?p ?o } INSERT { ?s ?p "changed" } '
        'WHERE { ?s ?p ?o FILTER(lang(?o) = "en") }',
    )
    assert removed == {line("<urn:x:b>", "<urn:x:q>", '"en"@en', "<urn:x:g>")}
    assert added == {line("<urn:x:b>", "<urn:x:q>", '"changed"', "<urn:x:g>")}


def test_using_and_the_protocols_using_graph_uri(backend: OxigraphBackend) -> None:
    text = "INSERT { GRAPH <urn:x:n> { ?s <urn:x:seen> true } } WHERE { ?s <urn:x:p> ?o }"
    using = "INSERT { GRAPH <urn:x:n> { ?s <urn:x:seen> true } } USING <urn:x:h> WHERE { ?s <urn:x:p> ?o }"
    expected = {
        line(
            "<urn:x:c>",
            "<urn:x:seen>",
            '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>',
            "<urn:x:n>",
        )
    }
    assert change(backend, using)[1] == expected
    assert change(backend, text, using_graph_uris=("urn:x:h",))[1] == expected
    named = "INSERT { GRAPH <urn:x:n> { ?s <urn:x:in> ?g } } WHERE { GRAPH ?g { ?s <urn:x:p> ?o } }"
    assert change(backend, named, using_named_graph_uris=("urn:x:h",))[1] == {
        line("<urn:x:c>", "<urn:x:in>", "<urn:x:h>", "<urn:x:n>")
    }
    with pytest.raises(UpdateFailed, match="using-graph-uri"):
        change(backend, using, using_graph_uris=("urn:x:g",))


def test_clear_and_drop(backend: OxigraphBackend) -> None:
    removed, _ = change(backend, "CLEAR DEFAULT")
    assert removed == {line("<urn:x:a>", "<urn:x:p>", f'"1"{INT}')}  # never the named graphs
    assert len(change(backend, "DROP GRAPH <urn:x:g>")[0]) == 3
    assert len(change(backend, "CLEAR NAMED")[0]) == 4
    assert len(change(backend, "DROP ALL")[0]) == 5
    with pytest.raises(UpdateFailed, match="no graph"):
        change(backend, "DROP GRAPH <urn:x:none>")
    assert change(backend, "DROP SILENT GRAPH <urn:x:none>") == (set(), set())


def test_create(backend: OxigraphBackend) -> None:
    assert change(backend, "CREATE GRAPH <urn:x:new>") == (
        set(),
        set(),
    )  # empty graphs are not kept
    with pytest.raises(UpdateFailed, match="exists"):
        change(backend, "CREATE GRAPH <urn:x:g>")
    assert change(backend, "CREATE SILENT GRAPH <urn:x:g>") == (set(), set())


def test_add_copy_move(backend: OxigraphBackend) -> None:
    removed, added = change(backend, "ADD <urn:x:h> TO <urn:x:g>")
    assert not removed and added == {line("<urn:x:c>", "<urn:x:p>", f'"3"{INT}', "<urn:x:g>")}
    removed, added = change(backend, "COPY <urn:x:h> TO <urn:x:g>")
    assert len(removed) == 3 and len(added) == 1
    removed, added = change(backend, "MOVE <urn:x:h> TO DEFAULT")
    assert line("<urn:x:c>", "<urn:x:p>", f'"3"{INT}', "<urn:x:h>") in removed
    assert line("<urn:x:a>", "<urn:x:p>", f'"1"{INT}') in removed  # the target is replaced
    assert added == {line("<urn:x:c>", "<urn:x:p>", f'"3"{INT}')}
    assert change(backend, "COPY <urn:x:g> TO <urn:x:g>") == (set(), set())
    with pytest.raises(UpdateFailed):
        change(backend, "MOVE <urn:x:none> TO <urn:x:g>")


def test_operations_see_the_earlier_ones_and_a_failure_aborts_the_request(
    backend: OxigraphBackend,
) -> None:
    _, added = change(
        backend,
        "INSERT DATA { GRAPH <urn:x:n> { <urn:x:z> <urn:x:p> 9 } } ; "
        "INSERT { GRAPH <urn:x:m> { ?s <urn:x:copied> ?o } } WHERE { GRAPH <urn:x:n> { ?s <urn:x:p> ?o } } ; "
        "DELETE DATA { GRAPH <urn:x:n> { <urn:x:z> <urn:x:p> 9 } }",
    )
    assert added == {line("<urn:x:z>", "<urn:x:copied>", f'"9"{INT}', "<urn:x:m>")}
    overlay = Overlay(backend)
    with pytest.raises(UpdateFailed):
        run_update(
            UpdateRequest("INSERT DATA { <urn:x:y> <urn:x:p> 1 } ; DROP GRAPH <urn:x:none>"),
            overlay,
        )


def test_blank_nodes_written_become_genid_iris(backend: OxigraphBackend) -> None:
    _, added = change(
        backend, "INSERT DATA { GRAPH <urn:x:g> { <urn:x:s> <urn:x:p> _:b . _:b <urn:x:q> 1 } }"
    )
    node = next(a for a in added if a.startswith("<urn:x:s>")).split()[2]
    assert node.startswith(f"<{GENID}") and any(a.startswith(node) for a in added)


def test_typed_literals_are_written_in_canonical_form_as_the_store_keeps_them(
    backend: OxigraphBackend,
) -> None:
    _, added = change(backend, 'INSERT DATA { <urn:x:s> <urn:x:p> "01"^^xsd:integer }')
    assert added == {line("<urn:x:s>", "<urn:x:p>", f'"1"{INT}')}
    # The same literal, written as the store keeps it, is no change.
    backend.store.update(
        'INSERT DATA { <urn:x:s> <urn:x:q> "1.50"^^<http://www.w3.org/2001/XMLSchema#decimal> }'
    )
    assert change(backend, 'INSERT DATA { <urn:x:s> <urn:x:q> "1.5"^^xsd:decimal }') == (
        set(),
        set(),
    )


def test_prefixes_of_the_endpoint_are_predeclared(backend: OxigraphBackend) -> None:
    _, added = change(backend, 'INSERT DATA { <urn:x:s> rdfs:label "x" }')
    assert added == {line("<urn:x:s>", "<http://www.w3.org/2000/01/rdf-schema#label>", '"x"')}


def test_refusals(backend: OxigraphBackend) -> None:
    with pytest.raises(LoadRefused, match="allow-list"):
        change(backend, "LOAD <http://example.org/data.ttl>")
    with pytest.raises(LoadRefused):
        change(backend, "LOAD SILENT <file:///etc/passwd>")  # SILENT does not hide a refusal
    with pytest.raises(ForbiddenService):
        change(
            backend,
            "INSERT { ?s ?p ?o } WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
        )
    with pytest.raises(QuerySyntaxError) as syntax:
        change(backend, "INSERT DATA { <urn:x:a> <urn:x:b> }")
    assert syntax.value.line == 1


def test_load_from_the_allow_list(backend: OxigraphBackend) -> None:
    url = "http://example.org/data.ttl"
    fetched = Graph()
    fetched.add((URIRef("urn:x:l"), URIRef("urn:x:p"), Literal(1)))
    overlay = Overlay(backend)
    run_update(
        UpdateRequest(f"LOAD <{url}> INTO GRAPH <urn:x:loaded>"),
        overlay,
        allowed_urls=(url,),
        fetch=lambda u: fetched,
    )
    assert {quad_line(q) for q in overlay.delta().added} == {
        line("<urn:x:l>", "<urn:x:p>", f'"1"{INT}', "<urn:x:loaded>")
    }


def graph_op(backend: OxigraphBackend, op: GraphOperation) -> tuple[bool, Delta]:
    overlay = Overlay(backend)
    created = run_graph_operation(op, overlay)
    return created, overlay.delta()


def test_graph_store_put_replaces_post_merges_delete_drops(backend: OxigraphBackend) -> None:
    created, delta = graph_op(
        backend, GraphOperation("PUT", "urn:x:g", b"<urn:x:b> <urn:x:p> 2 .", "text/turtle")
    )
    assert not created and len(delta.removed) == 2 and not delta.added
    created, delta = graph_op(
        backend, GraphOperation("PUT", "urn:x:new", b"<urn:x:b> <urn:x:p> 2 .", "text/turtle")
    )
    assert created and len(delta.added) == 1
    created, delta = graph_op(
        backend,
        GraphOperation("POST", "urn:x:g", b'<urn:x:b> <urn:x:p> "5" .', "application/n-triples"),
    )
    assert not created and len(delta.added) == 1 and not delta.removed
    _, delta = graph_op(backend, GraphOperation("DELETE", "urn:x:g"))
    assert len(delta.removed) == 3
    with pytest.raises(GraphNotFound):
        graph_op(backend, GraphOperation("DELETE", "urn:x:none"))
    with pytest.raises(BodyError):
        graph_op(backend, GraphOperation("PUT", "urn:x:g", b"<urn:x:b> <urn:x:p", "text/turtle"))
    _, delta = graph_op(
        backend, GraphOperation("PUT", None, b'<urn:x:d> <urn:x:p> "d" .', "text/turtle")
    )
    assert {q[3] for q in delta.added} == {None} and len(delta.removed) == 1  # the default graph


def test_literal_datatypes_compare_as_rdf_terms(backend: OxigraphBackend) -> None:
    # "x" and "x"^^xsd:string are one RDF term: adding one when the other is stored changes nothing.
    backend.store.add(
        ox.Quad(
            ox.NamedNode("urn:x:s"),
            ox.NamedNode("urn:x:p"),
            ox.Literal("x"),
            ox.NamedNode("urn:x:g"),
        )
    )
    overlay = Overlay(backend)
    overlay.add(
        (URIRef("urn:x:s"), URIRef("urn:x:p"), Literal("x", datatype=XSD.string), URIRef("urn:x:g"))
    )
    assert not overlay.delta()


def test_data_only_requests_are_read_by_oxigraph_and_the_rest_by_rdflib() -> None:
    from graph.writes.update import data_only

    found = data_only(
        'INSERT DATA { GRAPH <urn:x:g> { <urn:x:a> <urn:x:b> "DELETE DATA WHERE {" } }'
    )
    assert found is not None and found[0] == "A" and str(found[1][0][2]) == "DELETE DATA WHERE {"
    found = data_only(
        "DELETE DATA { GRAPH <urn:x:g> { <urn:x:a> <urn:x:b> 1 } } ; DELETE DATA { <urn:x:a> <urn:x:b> 2 }"
    )
    assert found is not None and found[0] == "D" and len(found[1]) == 2
    # Anything else goes to the full parse: mixed operations, WHERE, a keyword in a string that a
    # textual rewrite would touch, codepoint escapes.
    assert (
        data_only("INSERT DATA { <urn:x:a> <urn:x:b> 1 } ; DELETE DATA { <urn:x:a> <urn:x:b> 1 }")
        is None
    )
    assert data_only("DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }") is None
    assert data_only('DELETE DATA { <urn:x:a> <urn:x:b> "DELETE DATA" }') is None
    assert data_only('INSERT DATA { <urn:x:a> <urn:x:b> "\\u0041" }') is None
    with pytest.raises(QuerySyntaxError) as bad:
        data_only("INSERT DATA {\n <urn:x:a> <urn:x:b> }")
    assert bad.value.line == 2
    with pytest.raises(QuerySyntaxError, match="blank nodes"):
        data_only("DELETE DATA { _:b <urn:x:b> 1 }")
