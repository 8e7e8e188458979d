"""Which focus nodes could fail a shape: SHACL Core constraints asked of Oxigraph as SPARQL.

pyshacl checks every constraint on every focus node in Python, about 15 s per 100,000 triples
with our shapes. Most SHACL Core constraints are set questions ("which recognitions have no
dk:startDate?", "which values of dk:endDate are not an xsd:date, gYearMonth or gYear?") that
Oxigraph answers over a million triples in a fraction of a second. This module turns each node
shape into one SPARQL query returning a *superset* of the focus nodes that can violate it, so
pyshacl (which stays the judge and writes the report) only looks at those nodes.

The translation is conservative by construction: a construct it does not know makes every
target of its shape a candidate, and a shape whose targets it cannot enumerate is validated in
full. Unknown constructs cost time, never a missed violation; `graph.validate` keeps an
exhaustive mode and the tests compare both on every broken fixture.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD
from rdflib.term import Node

#: Predicates that say nothing about conformance (annotations, report wording, structure
#: handled elsewhere). Any other SHACL term on a shape makes the translation give up.
NEUTRAL = {
    RDF.type, RDFS.label, RDFS.comment, SH.message, SH.severity, SH.name, SH.description,
    SH.order, SH.group, SH.defaultValue, SH.targetClass, SH.targetNode, SH.targetSubjectsOf,
    SH.targetObjectsOf, SH.target, SH.path, SH.property, SH.deactivated, SH.flags,
    SH.minCount, SH.maxCount, SH.declare, SH.prefixes,
}  # fmt: skip

#: Datatypes whose well-formedness Oxigraph checks by casting: an ill-formed literal (such as
#: "2025-13-45"^^xsd:date) fails the cast and so becomes a candidate.
#: Structure that only a node shape's own level handles; inside sh:or, sh:not or sh:node it is
#: not translated.
STRUCTURAL = {SH.property, SH.minCount, SH.maxCount}

_CASTABLE = {
    XSD.string, XSD.boolean, XSD.integer, XSD.decimal, XSD.float, XSD.double, XSD.date,
    XSD.dateTime, XSD.time, XSD.gYear, XSD.gYearMonth, XSD.duration,
}  # fmt: skip

_NODE_KINDS: dict[Node, str] = {
    SH.IRI: "isIRI({v})",
    SH.BlankNode: "isBlank({v})",
    SH.Literal: "isLiteral({v})",
    SH.BlankNodeOrIRI: "!isLiteral({v})",
    SH.BlankNodeOrLiteral: "!isIRI({v})",
    SH.IRIOrLiteral: "!isBlank({v})",
}

_COMPARISONS: dict[Node, str] = {
    SH.minInclusive: ">=",
    SH.maxInclusive: "<=",
    SH.minExclusive: ">",
    SH.maxExclusive: "<",
}


class Unsupported(Exception):
    """A construct the translation does not handle: fall back to every target."""


@dataclass(frozen=True)
class ShapeQuery:
    """How to find the candidates of one node shape.

    `query` returns `?this` for every focus node that may violate the shape; `None` means the
    targets cannot be enumerated here, so the shape must be validated in full.
    """

    shape: URIRef
    query: str | None
    narrowed: bool  # False when every target is a candidate
    #: Property shapes named by an IRI that the shape uses (sh:property): pyshacl only applies
    #: them when they are listed with the shape in `use_shapes`.
    companions: tuple[URIRef, ...] = ()


def shape_queries(
    shapes: Graph, subclasses: Mapping[Node, Sequence[Node]] | None = None
) -> list[ShapeQuery]:
    """One query per node shape (named by an IRI) that has targets and is not deactivated.

    `subclasses` maps each class the shapes name (see `named_classes`) to all of its subclasses,
    itself included, as found in the data; without it, queries follow rdfs:subClassOf* paths.
    """
    translation = _Translation(shapes, subclasses)
    prologue = _prologue(shapes)
    out = []
    for shape in sorted(_node_shapes(shapes)):
        if shapes.value(shape, SH.deactivated) == Literal(True):
            continue
        try:
            targets = translation.targets(shape)
            companions = _companions(shapes, shape)
        except Unsupported:
            out.append(ShapeQuery(shape, None, narrowed=False))
            continue
        if not targets:
            continue
        target = " UNION ".join(f"{{ {t} }}" for t in targets)
        try:
            branches = list(translation.violation_branches(shape, target))
            narrowed = True
        except Unsupported:
            branches = [target]
            narrowed = False
        if not branches:
            continue
        body = " UNION ".join(f"{{ {branch} }}" for branch in branches)
        query = f"{prologue}SELECT DISTINCT ?this WHERE {{ {body} }}"
        out.append(ShapeQuery(shape, query, narrowed, companions))
    return out


def named_classes(shapes: Graph) -> set[URIRef]:
    """Every class the shapes target or require (sh:targetClass, sh:class, implicit targets)."""
    found: set[Node] = set(shapes.objects(None, SH.targetClass)) | set(
        shapes.objects(None, SH["class"])
    )
    for kind in (RDFS.Class, OWL.Class):
        found.update(
            s for s in shapes.subjects(RDF.type, kind) if (s, RDF.type, SH.NodeShape) in shapes
        )
    return {c for c in found if isinstance(c, URIRef)}


def subclass_query(classes: Iterable[URIRef]) -> str:
    """SPARQL for (class, subclass) pairs, each class with itself, over rdfs:subClassOf*."""
    values = " ".join(_term(c) for c in sorted(classes))
    return (
        f"SELECT ?class ?sub WHERE {{ VALUES ?class {{ {values} }} "
        f"?sub {_term(RDFS.subClassOf)}* ?class }}"
    )


_SHAPE_VALUED = (SH.property, SH.node, SH["not"], SH.qualifiedValueShape)
_SHAPE_LISTS = (SH["and"], SH["or"], SH.xone)


def _companions(shapes: Graph, shape: URIRef) -> tuple[URIRef, ...]:
    """The IRI property shapes `shape` lists under sh:property.

    pyshacl, given `use_shapes`, drops every shape named by an IRI that is not listed, so those
    must be listed too; they are then fed the focus nodes directly, which gives the same results
    only for property shapes hanging straight off the node shape. A shape named by an IRI
    anywhere else (under sh:node, sh:or, a property shape...) is Unsupported.
    """
    direct = sorted(
        (p for p in shapes.objects(shape, SH.property) if isinstance(p, URIRef)), key=str
    )
    for root in [shape, *direct]:
        for child in _children(shapes, root):
            if isinstance(child, URIRef) and not (root == shape and child in direct):
                raise Unsupported(f"shape {child} named by an IRI inside {root}")
            if isinstance(child, BNode):
                _no_named_shapes_below(shapes, child, depth=0)
    return tuple(direct)


def _children(shapes: Graph, node: Node) -> Iterator[Node]:
    for predicate in _SHAPE_VALUED:
        yield from shapes.objects(node, predicate)
    for predicate in _SHAPE_LISTS:
        for members in shapes.objects(node, predicate):
            yield from Collection(shapes, members)


def _no_named_shapes_below(shapes: Graph, node: Node, depth: int) -> None:
    if depth > 10:
        raise Unsupported("shapes nested too deep")
    for child in _children(shapes, node):
        if isinstance(child, URIRef):
            raise Unsupported(f"shape {child} named by an IRI inside a blank shape")
        _no_named_shapes_below(shapes, child, depth + 1)


def _node_shapes(shapes: Graph) -> set[URIRef]:
    found: set[Node] = set(shapes.subjects(RDF.type, SH.NodeShape))
    for predicate in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf):
        found.update(shapes.subjects(predicate, None))
    found.update(shapes.subjects(SH.target, None))
    return {s for s in found if isinstance(s, URIRef) and shapes.value(s, SH.path) is None}


def _prologue(shapes: Graph) -> str:
    lines = []
    for decl in shapes.objects(None, SH.declare):
        prefix, namespace = shapes.value(decl, SH.prefix), shapes.value(decl, SH.namespace)
        if prefix is not None and namespace is not None:
            lines.append(f"PREFIX {prefix}: <{namespace}>")
    return "\n".join(sorted(set(lines))) + "\n"


def _strip_prologue(select: str) -> str:
    """A SPARQL target's SELECT, usable as a subquery (its prefixes come from sh:declare)."""
    if "PREFIX" in select.upper().split("SELECT", 1)[0]:
        raise Unsupported("a SPARQL target with its own PREFIX lines")
    return select.strip()


def _datatype(datatype: Node, v: str, lower: bool) -> str:
    if not isinstance(datatype, URIRef):
        raise Unsupported(f"sh:datatype {datatype}")
    test = f"isLiteral({v}) && sameTerm(DATATYPE({v}), {_term(datatype)})"
    if lower and datatype in _CASTABLE:
        # An ill-formed literal fails its own cast (an error, hence COALESCE): a candidate.
        test += f" && COALESCE(sameTerm({v}, {_term(datatype)}(STR({v}))), false)"
    return test


def _term(node: Node) -> str:
    if isinstance(node, URIRef):
        return f"<{node}>"
    if isinstance(node, Literal):
        lexical = _string(str(node))
        if node.language:
            return f"{lexical}@{node.language}"
        return f"{lexical}^^<{node.datatype or XSD.string}>"
    if isinstance(node, BNode):
        raise Unsupported("a blank node as a value")
    raise Unsupported(f"{node!r}")


def _string(text: str) -> str:
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"'


def _int(node: Node | None) -> int | None:
    return None if node is None else _need_int(node)


def _need_int(node: Node) -> int:
    if isinstance(node, Literal) and isinstance(node.toPython(), int):
        return int(node.toPython())
    raise Unsupported(f"not an integer: {node}")


@dataclass(frozen=True)
class _Translation:
    """The shapes graph, and the subclasses of each class when known (else a property path)."""

    shapes: Graph
    subclasses: Mapping[Node, Sequence[Node]] | None = None
    names: Iterator[int] = field(default_factory=itertools.count)

    def targets(self, shape: URIRef) -> list[str]:
        """The shape's targets as SPARQL group patterns binding ?this (SHACL 2.1.3)."""
        patterns = []
        classes = set(self.shapes.objects(shape, SH.targetClass))
        if {RDFS.Class, OWL.Class} & set(self.shapes.objects(shape, RDF.type)):
            classes.add(shape)  # implicit class target
        patterns += [f"?this {self._instance_of(c)} ." for c in sorted(classes, key=str)]
        nodes = sorted(self.shapes.objects(shape, SH.targetNode), key=str)
        if nodes:
            patterns.append(f"VALUES ?this {{ {' '.join(_term(n) for n in nodes)} }}")
        patterns += [
            f"?this {_term(p)} [] ."
            for p in sorted(self.shapes.objects(shape, SH.targetSubjectsOf), key=str)
        ]
        patterns += [
            f"[] {_term(p)} ?this ."
            for p in sorted(self.shapes.objects(shape, SH.targetObjectsOf), key=str)
        ]
        for target in self.shapes.objects(shape, SH.target):
            select = self.shapes.value(target, SH.select)
            if (target, RDF.type, SH.SPARQLTarget) not in self.shapes or select is None:
                raise Unsupported(f"target {target}")
            patterns.append(f"{{ {_strip_prologue(str(select))} }}")
        return patterns

    def violation_branches(self, shape: URIRef, target: str) -> Iterator[str]:
        """Group patterns whose ?this include every focus node (of `target`) violating the shape."""
        if (shape, SH.sparql, None) in self.shapes:
            raise Unsupported("sh:sparql")  # the candidates are the targets themselves
        ok = self._conforms(shape, "?this", top=True)
        if ok != "true":
            yield f"{target} FILTER(!({ok}))"
        for prop in sorted(self.shapes.objects(shape, SH.property), key=str):
            if self.shapes.value(prop, SH.deactivated) == Literal(True):
                continue
            yield from self._property_branches(prop, target)

    def _property_branches(self, prop: Node, target: str) -> Iterator[str]:
        path = self._path(prop)
        ok = self._conforms(prop, "?v", top=True)
        if ok != "true":
            yield f"{target} ?this {path} ?v . FILTER(!({ok}))"
        low = _int(self.shapes.value(prop, SH.minCount))
        high = _int(self.shapes.value(prop, SH.maxCount))
        if low == 1:
            yield f"{target} FILTER NOT EXISTS {{ ?this {path} [] }}"
        elif low is not None and low > 1:
            yield (
                f"{{ SELECT ?this WHERE {{ {target} OPTIONAL {{ ?this {path} ?low }} }} "
                f"GROUP BY ?this HAVING (COUNT(DISTINCT ?low) < {low}) }}"
            )
        if high == 1:
            yield f"{target} ?this {path} ?v1, ?v2 . FILTER(!sameTerm(?v1, ?v2))"
        elif high is not None:
            yield (
                f"{{ SELECT ?this WHERE {{ {target} ?this {path} ?high }} "
                f"GROUP BY ?this HAVING (COUNT(DISTINCT ?high) > {high}) }}"
            )

    def _path(self, prop: Node) -> str:
        path = self.shapes.value(prop, SH.path)
        if isinstance(path, URIRef):
            return _term(path)
        inverse = self.shapes.value(path, SH.inversePath) if path is not None else None
        if isinstance(inverse, URIRef):
            return f"^{_term(inverse)}"
        raise Unsupported(f"sh:path {path}")

    def _conforms(self, node: Node, v: str, *, top: bool = False, lower: bool = True) -> str:
        """A SPARQL expression, never an error, over value `v` for the value-level constraints of
        `node` (a shape's property shapes and counts are the caller's).

        With `lower`, it is true only if `v` conforms (a lower bound, so its negation finds every
        violation); without, it is true whenever `v` may conform (an upper bound, used under sh:not).
        """
        if not top and self.shapes.value(node, SH.deactivated) == Literal(True):
            raise Unsupported("a deactivated shape inside another")
        parts = []
        for predicate, obj in sorted(self.shapes.predicate_objects(node)):
            if predicate in NEUTRAL and (top or predicate not in STRUCTURAL):
                continue
            parts.append(self._component(node, predicate, obj, v, lower))
        if (node, SH.flags, None) in self.shapes and (node, SH.pattern, None) not in self.shapes:
            raise Unsupported("sh:flags without sh:pattern")
        return " && ".join(f"({p})" for p in parts) if parts else "true"

    def _component(self, node: Node, predicate: Node, obj: Node, v: str, lower: bool) -> str:
        error = "false" if lower else "true"  # what an expression error counts as
        if predicate == SH["class"]:
            return f"EXISTS {{ {v} {self._instance_of(obj)} }}"
        if predicate == SH.datatype:
            return _datatype(obj, v, lower)
        if predicate == SH.nodeKind and obj in _NODE_KINDS:
            return _NODE_KINDS[obj].format(v=v)
        if predicate == SH.minLength:
            return f"!isBlank({v}) && STRLEN(STR({v})) >= {_need_int(obj)}"
        if predicate == SH.maxLength:
            return f"!isBlank({v}) && STRLEN(STR({v})) <= {_need_int(obj)}"
        if predicate == SH.pattern:
            flags = self.shapes.value(node, SH.flags)
            args = _string(str(obj)) + (f", {_string(str(flags))}" if flags is not None else "")
            return f"!isBlank({v}) && COALESCE(REGEX(STR({v}), {args}), {error})"
        if predicate == SH["in"]:
            members = list(Collection(self.shapes, obj))
            return " || ".join(f"sameTerm({v}, {_term(m)})" for m in members) or "false"
        if predicate in _COMPARISONS and isinstance(obj, Literal):
            return f"COALESCE({v} {_COMPARISONS[predicate]} {_term(obj)}, {error})"
        if predicate == SH["or"]:
            either = [self._conforms(s, v, lower=lower) for s in Collection(self.shapes, obj)]
            return " || ".join(f"({m})" for m in either) or "false"
        if predicate == SH["and"]:
            both = [self._conforms(s, v, lower=lower) for s in Collection(self.shapes, obj)]
            return " && ".join(f"({m})" for m in both) or "true"
        if predicate == SH["not"]:
            return f"!({self._conforms(obj, v, lower=not lower)})"
        if predicate == SH.node:
            return self._conforms(obj, v, lower=lower)
        raise Unsupported(f"{predicate}")

    def _instance_of(self, cls: Node) -> str:
        """A SHACL instance of `cls` (SHACL 1.5): rdf:type, then rdfs:subClassOf*."""
        if self.subclasses is None or cls not in self.subclasses:
            return f"{_term(RDF.type)}/{_term(RDFS.subClassOf)}* {_term(cls)}"
        values = " ".join(_term(c) for c in self.subclasses[cls])
        var = f"?_class{next(self.names)}"  # each use its own, or EXISTS would see another's
        return f"{_term(RDF.type)} {var} . VALUES {var} {{ {values} }}"
