"""The commit check's narrowing, in Python: which focus nodes may violate a SHACL Core shape.

`graph.shacl_candidates` asks this question of Oxigraph as one SPARQL query per shape. Over a
commit's neighbourhood (a few dozen triples) the answer is immediate, but planning the query is
not: the fact shape's query costs 2 ms a commit, and a commit touching a fact runs eight such
queries. Here each node shape is compiled once, when the writer starts, into Python tests over
the neighbourhood's triples (the same triples the small store holds), so a commit that conforms
costs no planner at all for its SHACL Core shapes.

The tests are three-valued (SHACL Core, https://www.w3.org/TR/shacl/#core-components): True when
a value certainly conforms, False when it certainly does not, None when this module cannot tell
(an xsd:date not written in canonical form, a regular expression beyond the plain subset Python
and XPath read alike, a literal in sh:in). A focus node is a candidate unless every test of its
shape says True, so whatever cannot be told is judged by pyshacl, as before: never a missed
violation. A shape this module does not compile (SHACL-SPARQL, SPARQL targets, any construct
the SPARQL translation does not know either) keeps its SPARQL query.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD
from rdflib.term import Node

from graph.shacl_candidates import NEUTRAL, STRUCTURAL, Unsupported

#: Certainly conforms (True), certainly violates (False), cannot tell (None).
Verdict = bool | None
Triple = tuple[Node, Node, Node]


class Triples:
    """A neighbourhood's triples, indexed both ways, with SHACL instance-of (rdf:type, then
    rdfs:subClassOf*, SHACL 1.5) over them."""

    def __init__(self, triples: Iterable[Triple]) -> None:
        self._out: dict[Node, dict[Node, list[Node]]] = {}
        self._in: dict[Node, dict[Node, list[Node]]] = {}
        #: Every predicate of a triple.
        self.predicates: set[Node] = set()
        for s, p, o in triples:
            self._out.setdefault(s, {}).setdefault(p, []).append(o)
            self._in.setdefault(o, {}).setdefault(p, []).append(s)
            self.predicates.add(p)
        self._classes: dict[Node, frozenset[Node]] = {}

    def objects(self, s: Node, p: Node) -> list[Node]:
        return self._out.get(s, {}).get(p, [])

    def subjects(self, p: Node, o: Node) -> list[Node]:
        return self._in.get(o, {}).get(p, [])

    def pairs(self, p: Node) -> list[tuple[Node, Node]]:
        """The (subject, object) pairs of the triples with predicate `p`."""
        return [(s, o) for s, out in self._out.items() for o in out.get(p, ())]

    def nodes(self) -> set[Node]:
        """Every subject and object."""
        return set(self._out) | set(self._in)

    def classes(self, node: Node) -> frozenset[Node]:
        """Every class `node` is a SHACL instance of."""
        found = self._classes.get(node)
        if found is None:
            found = self._classes[node] = self._closure(self.objects(node, RDF.type))
        return found

    def superclasses(self, cls: Node) -> frozenset[Node]:
        """`cls` and every class it is a subclass of (rdfs:subClassOf*)."""
        return self._closure([cls])

    def _closure(self, classes: Iterable[Node]) -> frozenset[Node]:
        seen: set[Node] = set()
        todo = list(classes)
        while todo:
            cls = todo.pop()
            if cls not in seen:
                seen.add(cls)
                todo.extend(self.objects(cls, RDFS.subClassOf))
        return frozenset(seen)


Test = Callable[[Node, Triples], Verdict]


@dataclass(frozen=True)
class PropertyTest:
    """One property shape: its path (an IRI, or an inverse IRI), its value tests and counts."""

    predicate: URIRef
    inverse: bool
    test: Test | None
    min_count: int | None
    max_count: int | None

    def values(self, node: Node, data: Triples) -> list[Node]:
        if self.inverse:
            return data.subjects(self.predicate, node)
        return data.objects(node, self.predicate)

    def conforms(self, node: Node, data: Triples) -> bool:
        values = self.values(node, data)
        if self.min_count is not None and self.min_count > 0:
            if not values:
                return False
            # Distinct terms, counted so that two spellings of one term count once (never more
            # than the store counts): a count found too small is a candidate, never a miss.
            if self.min_count > 1 and len({_loose_key(v) for v in values}) < self.min_count:
                return False
        # ... and here so that they count twice (never fewer than the store counts).
        if self.max_count is not None and len({_strict_key(v) for v in values}) > self.max_count:
            return False
        test = self.test
        return test is None or all(test(v, data) is True for v in values)


@dataclass(frozen=True)
class ShapeTest:
    """One node shape, compiled: its targets and the tests a focus node must pass."""

    shape: URIRef
    target_classes: frozenset[Node]
    target_nodes: frozenset[Node]
    target_subjects_of: tuple[Node, ...]
    target_objects_of: tuple[Node, ...]
    node_test: Test | None
    properties: tuple[PropertyTest, ...]

    def targets(self, node: Node, data: Triples) -> bool:
        return (
            node in self.target_nodes
            or bool(self.target_classes & data.classes(node))
            or any(data.objects(node, p) for p in self.target_subjects_of)
            or any(data.subjects(p, node) for p in self.target_objects_of)
        )

    def candidates(self, focus: Iterable[Node], data: Triples) -> list[Node]:
        """The focus nodes that are targets of the shape and may violate it."""
        return [n for n in focus if self.targets(n, data) and not self._conforms(n, data)]

    def _conforms(self, node: Node, data: Triples) -> bool:
        if self.node_test is not None and self.node_test(node, data) is not True:
            return False
        return all(p.conforms(node, data) for p in self.properties)


def compile_shape(shapes: Graph, shape: URIRef) -> ShapeTest:
    """`shape` as Python tests; Unsupported when it is not SHACL Core this module knows."""
    return _Compiler(shapes).node_shape(shape)


def compile_shapes(shapes: Graph, names: Iterable[URIRef]) -> dict[URIRef, ShapeTest]:
    """The shapes of `names` that compile (the others keep their SPARQL query)."""
    compiled = {}
    for name in names:
        try:
            compiled[name] = compile_shape(shapes, name)
        except Unsupported:
            continue
    return compiled


@dataclass(frozen=True)
class _Compiler:
    shapes: Graph

    def node_shape(self, shape: URIRef) -> ShapeTest:
        g = self.shapes
        if (shape, SH.sparql, None) in g or (shape, SH.target, None) in g:
            raise Unsupported("SHACL-SPARQL")
        classes: set[Node] = set(g.objects(shape, SH.targetClass))
        if {RDFS.Class, OWL.Class} & set(g.objects(shape, RDF.type)):
            classes.add(shape)  # implicit class target
        properties = []
        for prop in sorted(g.objects(shape, SH.property), key=str):
            if g.value(prop, SH.deactivated) == Literal(True):
                continue
            properties.append(self._property(prop))
        return ShapeTest(
            shape,
            frozenset(classes),
            frozenset(g.objects(shape, SH.targetNode)),
            tuple(g.objects(shape, SH.targetSubjectsOf)),
            tuple(g.objects(shape, SH.targetObjectsOf)),
            self._conforms(shape, top=True),
            tuple(properties),
        )

    def _property(self, prop: Node) -> PropertyTest:
        g = self.shapes
        if (prop, SH.sparql, None) in g:
            raise Unsupported("SHACL-SPARQL")
        path = g.value(prop, SH.path)
        inverse = False
        if isinstance(path, BNode):
            path, inverse = g.value(path, SH.inversePath), True
        if not isinstance(path, URIRef):
            raise Unsupported(f"sh:path {path}")
        return PropertyTest(
            path,
            inverse,
            self._conforms(prop, top=True),
            _count(g.value(prop, SH.minCount)),
            _count(g.value(prop, SH.maxCount)),
        )

    def _conforms(self, node: Node, *, top: bool = False) -> Test | None:
        """The value-level constraints of `node`, all of them (None: there are none)."""
        g = self.shapes
        if not top and g.value(node, SH.deactivated) == Literal(True):
            raise Unsupported("a deactivated shape inside another")
        if (node, SH.flags, None) in g and (node, SH.pattern, None) not in g:
            raise Unsupported("sh:flags without sh:pattern")
        tests = [
            self._component(node, predicate, obj)
            for predicate, obj in sorted(g.predicate_objects(node))
            if not (predicate in NEUTRAL and (top or predicate not in STRUCTURAL))
        ]
        if not tests:
            return None
        return tests[0] if len(tests) == 1 else _all(tests)

    def _component(self, node: Node, predicate: Node, obj: Node) -> Test:
        g = self.shapes
        if predicate == SH["class"]:
            return _instance_of(obj)
        if predicate == SH.datatype:
            if not isinstance(obj, URIRef):
                raise Unsupported(f"sh:datatype {obj}")
            return _datatype(obj)
        if predicate == SH.nodeKind and obj in _NODE_KINDS:
            kinds = _NODE_KINDS[obj]
            return lambda v, _: isinstance(v, kinds)
        if predicate in (SH.minLength, SH.maxLength):
            limit = _count(obj)
            assert limit is not None
            return _length(limit, at_least=predicate == SH.minLength)
        if predicate == SH.pattern:
            return _pattern(str(obj), g.value(node, SH.flags))
        if predicate == SH["in"]:
            return _member(list(Collection(g, obj)))
        if predicate == SH["or"]:
            return _any([self._member_test(s) for s in Collection(g, obj)])
        if predicate == SH["and"]:
            return _all([self._member_test(s) for s in Collection(g, obj)])
        if predicate == SH["not"]:
            return _not(self._member_test(obj))
        if predicate == SH.node:
            return self._member_test(obj)
        raise Unsupported(f"{predicate}")

    def _member_test(self, shape: Node) -> Test:
        test = self._conforms(shape)
        return test if test is not None else _always


_NODE_KINDS: dict[Node, tuple[type, ...]] = {
    SH.IRI: (URIRef,),
    SH.BlankNode: (BNode,),
    SH.Literal: (Literal,),
    SH.BlankNodeOrIRI: (BNode, URIRef),
    SH.BlankNodeOrLiteral: (BNode, Literal),
    SH.IRIOrLiteral: (URIRef, Literal),
}


def _always(value: Node, data: Triples) -> Verdict:
    return True


def _all(tests: list[Test]) -> Test:
    """Kleene AND: False if any test is False, else None if any cannot tell, else True."""
    return _kleene(tests, decisive=False)


def _any(tests: list[Test]) -> Test:
    """Kleene OR: True if any test is True, else None if any cannot tell, else False."""
    return _kleene(tests, decisive=True)


def _kleene(tests: list[Test], *, decisive: bool) -> Test:
    def test(value: Node, data: Triples) -> Verdict:
        verdict: Verdict = not decisive
        for t in tests:
            v = t(value, data)
            if v is decisive:
                return decisive
            if v is None:
                verdict = None
        return verdict

    return test


def _not(inner: Test) -> Test:
    def test(value: Node, data: Triples) -> Verdict:
        v = inner(value, data)
        return None if v is None else not v

    return test


def _instance_of(cls: Node) -> Test:
    def test(value: Node, data: Triples) -> Verdict:
        return not isinstance(value, Literal) and cls in data.classes(value)

    return test


def _length(limit: int, *, at_least: bool) -> Test:
    """sh:minLength / sh:maxLength: a blank node never conforms; the length of the IRI or of
    the lexical form, in characters (XPath fn:string-length)."""

    def test(value: Node, data: Triples) -> Verdict:
        if isinstance(value, BNode):
            return False
        n = len(str(value))
        return n >= limit if at_least else n <= limit

    return test


def _member(members: list[Node]) -> Test:
    """sh:in (term equality). An IRI or blank node is told exactly; a literal only when it is
    spelled as a member is (term equality of literals is left to pyshacl)."""
    exact = {m for m in members if not isinstance(m, Literal)}
    literals = {_strict_key(m) for m in members if isinstance(m, Literal)}

    def test(value: Node, data: Triples) -> Verdict:
        if not isinstance(value, Literal):
            return value in exact
        if _strict_key(value) in literals:
            return True
        return None if literals else False

    return test


# --- sh:datatype ---------------------------------------------------------------------------------

_LANG_STRING = RDF.langString

#: Canonical lexical forms that Python can vouch for (XML Schema 1.1 Part 2, §3.3): a literal
#: spelled otherwise ("+1", "2020-1-5", "1"^^xsd:boolean) may still be valid, and is then left
#: to pyshacl.
_CANONICAL: dict[URIRef, re.Pattern[str]] = {
    XSD.date: re.compile(r"[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"),
    XSD.gYearMonth: re.compile(r"[1-9][0-9]{3}-(0[1-9]|1[0-2])"),
    XSD.gYear: re.compile(r"[1-9][0-9]{3}"),
    XSD.boolean: re.compile(r"true|false"),
    XSD.integer: re.compile(r"0|-?[1-9][0-9]{0,17}"),
}


def _datatype(datatype: URIRef) -> Test:
    canonical = _CANONICAL.get(datatype)

    def test(value: Node, data: Triples) -> Verdict:
        if not isinstance(value, Literal):
            return False
        if value.language is not None:
            return datatype == _LANG_STRING
        if datatype == XSD.string:
            return value.datatype is None or value.datatype == XSD.string
        if value.datatype != datatype:
            return False
        if canonical is None:
            return None
        lexical = str(value)
        if canonical.fullmatch(lexical) is None:
            return None
        if datatype == XSD.date:
            try:
                datetime.date.fromisoformat(lexical)
            except ValueError:
                return False
        return True

    return test


# --- sh:pattern ----------------------------------------------------------------------------------

#: Regular expressions that XPath (fn:matches) and Python read alike: literal characters,
#: `.`, `^`, `$`, groups, alternatives, quantifiers, bracketed ASCII classes and the escaped
#: metacharacters. No `\d`, `\w`, `\s`, `\p{}` (their Unicode classes differ), no class
#: subtraction, no back references.
_PLAIN_PATTERN = re.compile(
    r"(?:[A-Za-z0-9 _:/#@%&=,;'\"!<>~^$.*+?()|{}\[\]-]|\\[.\-/*+?()|{}\[\]^$])*"
)


def _pattern(pattern: str, flags: Node | None) -> Test:
    plain = _PLAIN_PATTERN.fullmatch(pattern) is not None and "[^" not in pattern
    if flags is not None and str(flags) not in ("", "i"):
        plain = False
    compiled = re.compile(pattern, re.IGNORECASE if flags is not None and str(flags) else 0)

    def test(value: Node, data: Triples) -> Verdict:
        if isinstance(value, BNode):
            return False
        text = str(value)
        if not plain or "\n" in text or "\r" in text or not text.isascii():
            return None  # `$` and `.` treat line ends differently; non-ASCII under "i"
        return compiled.search(text) is not None

    return test


# --- counting ------------------------------------------------------------------------------------


def _strict_key(term: Node) -> tuple[str, str, str]:
    """A term's identity as written (two spellings of a term count twice)."""
    if isinstance(term, Literal):
        datatype = str(term.datatype) if term.datatype is not None else ""
        return ("literal", str(term), f"{datatype}@{term.language or ''}")
    return (type(term).__name__, str(term), "")


def _loose_key(term: Node) -> tuple[str, str, str]:
    """A term's identity up to what a store may normalize (language tags' case)."""
    kind, text, rest = _strict_key(term)
    return (kind, text, rest.lower())


def _count(node: Node | None) -> int | None:
    if node is None:
        return None
    if isinstance(node, Literal) and isinstance(node.toPython(), int):
        return int(node.toPython())
    raise Unsupported(f"not an integer: {node}")
