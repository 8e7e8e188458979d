"""The narrowing queries of SHACL-SPARQL shapes, answered in Python over a commit's neighbourhood.

A shape with a SPARQL target or constraint keeps the narrowing query `graph.shacl_candidates`
writes for it (`SELECT DISTINCT ?this WHERE { ... }`). Over a commit's few dozen triples the
answer is immediate, but loading a small Oxigraph store and planning the query is not: 0.6 ms
for the store and 0.25 ms a query, paid on every commit that touches a recognition. The queries
the project's shapes write use a small part of SPARQL 1.1 (https://www.w3.org/TR/sparql11-query/
§18.5): basic graph patterns with IRIs or property paths as predicates, joins, UNION, and
FILTER with (NOT) EXISTS under `!`, `&&` and `||`. Such a query is compiled here once, when the
writer starts, and evaluated over `graph.writes.narrowing.Triples` (the triples the small store
would hold), with the same answer.

Anything else (BIND, expressions on values, OPTIONAL, a variable predicate...) raises
Unsupported when compiling: that shape keeps its SPARQL query. One thing is decided only while
evaluating: two literals of one datatype spelled differently ("1" and "01", "true" and "1") may
be one value to a store that canonicalizes them; matching such a pair raises Unknown, and the
caller then asks the SPARQL query (never a different answer, at worst the old cost).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from rdflib import Literal, URIRef, Variable
from rdflib.paths import AlternativePath, InvPath, MulPath, Path, SequencePath
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import Node

from graph.shacl_candidates import Unsupported
from graph.writes.narrowing import Triples

Solution = dict[Variable, Node]
Term = Node | Path


class Unknown(Exception):
    """Whether two literals are one term depends on canonical forms: ask the SPARQL query."""


THIS = Variable("this")


def same(a: Node, b: Node) -> bool:
    """RDF term equality as a store that canonicalizes literals may see it: True, False, or
    Unknown for two literals of one datatype (or language, up to case) spelled differently."""
    if a == b:
        return True
    if (
        isinstance(a, Literal)
        and isinstance(b, Literal)
        and a.datatype == b.datatype
        and (a.language or "").lower() == (b.language or "").lower()
    ):
        raise Unknown(f"{a.n3()} and {b.n3()}")
    return False


# --- property paths (§9.3) -------------------------------------------------------------------------


def _check_path(path: Term) -> None:
    if isinstance(path, URIRef):
        return
    if isinstance(path, SequencePath | AlternativePath):
        for part in path.args:
            _check_path(part)
    elif isinstance(path, InvPath):
        _check_path(path.arg)
    elif isinstance(path, MulPath) and path.mod in ("*", "+", "?"):
        _check_path(path.path)
    else:
        raise Unsupported(f"the property path {path}")


def _backward_step(node: Node, predicate: URIRef, data: Triples) -> list[Node]:
    if isinstance(node, Literal):  # literals are matched by `same`, never by hash
        return [s for s, o in data.pairs(predicate) if same(node, o)]
    return data.subjects(predicate, node)


def _walk(node: Node, path: Term, data: Triples, forward: bool) -> set[Node]:
    """The nodes `path` leads to from `node` (forward), or from which it leads to `node`."""
    if isinstance(path, URIRef):
        found = data.objects(node, path) if forward else _backward_step(node, path, data)
        return set(found)
    if isinstance(path, InvPath):
        return _walk(node, path.arg, data, not forward)
    if isinstance(path, SequencePath):
        current = {node}
        for part in path.args if forward else reversed(path.args):
            current = {n for c in current for n in _walk(c, part, data, forward)}
        return current
    if isinstance(path, AlternativePath):
        return {n for part in path.args for n in _walk(node, part, data, forward)}
    assert isinstance(path, MulPath)
    reached: set[Node] = {node} if path.mod in ("*", "?") else set()
    frontier = _walk(node, path.path, data, forward)
    if path.mod == "?":
        return reached | frontier
    while frontier - reached:
        fresh = frontier - reached
        reached |= fresh
        frontier = {n for f in fresh for n in _walk(f, path.path, data, forward)}
    return reached


# --- graph patterns --------------------------------------------------------------------------------

Pattern = tuple[Term, Term, Term]
Evaluate = Callable[[Triples, Solution], Iterator[Solution]]


def _value(term: Term, solution: Solution) -> Node | None:
    """A pattern position's term under `solution` (None: a variable it does not bind)."""
    if isinstance(term, Variable):
        return solution.get(term)
    assert isinstance(term, Node)
    return term


def _bind(term: Term, node: Node, solution: Solution) -> Solution | None:
    """`solution` with `term` matched to `node`: extended, unchanged, or None (no match)."""
    if isinstance(term, Variable):
        bound = solution.get(term)
        if bound is None:
            return {**solution, term: node}
        return solution if same(bound, node) else None
    assert isinstance(term, Node)
    return solution if same(term, node) else None


def _match(pattern: Pattern, data: Triples, solution: Solution) -> Iterator[Solution]:
    s, p, o = pattern
    subject, obj = _value(s, solution), _value(o, solution)
    pairs: Iterable[tuple[Node, Node]]
    if isinstance(p, URIRef):
        if subject is not None:
            pairs = ((subject, v) for v in data.objects(subject, p))
        elif obj is not None:
            pairs = ((v, obj) for v in _backward_step(obj, p, data))
        else:
            pairs = data.pairs(p)
    elif subject is not None:
        pairs = ((subject, v) for v in _walk(subject, p, data, forward=True))
    elif obj is not None:
        pairs = ((v, obj) for v in _walk(obj, p, data, forward=False))
    else:
        pairs = ((n, v) for n in data.nodes() for v in _walk(n, p, data, forward=True))
    for found_s, found_o in pairs:
        extended = _bind(s, found_s, solution)
        if extended is not None:
            extended = _bind(o, found_o, extended)
            if extended is not None:
                yield extended


def _bgp(patterns: list[Pattern]) -> Evaluate:
    for _, p, _ in patterns:
        if isinstance(p, Variable):
            raise Unsupported("a variable predicate")
        _check_path(p)
    for pattern in patterns:
        for term in (pattern[0], pattern[2]):
            if isinstance(term, Literal) and term.language is not None:
                raise Unsupported("a language-tagged literal in a pattern")

    def evaluate(data: Triples, solution: Solution) -> Iterator[Solution]:
        yield from _join_patterns(list(patterns), data, solution)

    return evaluate


def _join_patterns(todo: list[Pattern], data: Triples, solution: Solution) -> Iterator[Solution]:
    if not todo:
        yield solution
        return
    # The pattern with most of its ends known goes first (a nested loop over a few triples).
    best = max(todo, key=lambda t: sum(_value(x, solution) is not None for x in (t[0], t[2])))
    rest = [t for t in todo if t is not best]
    for extended in _match(best, data, solution):
        yield from _join_patterns(rest, data, extended)


def _compatible(a: Solution, b: Solution) -> Solution | None:
    merged = dict(a)
    for var, node in b.items():
        bound = merged.get(var)
        if bound is None:
            merged[var] = node
        elif not same(bound, node):
            return None
    return merged


def triples_block(node: CompValue) -> list[tuple[Node, Node, Node]]:
    """The triple patterns of a TriplesBlock (inside (NOT) EXISTS rdflib leaves the group
    untranslated, each block a flat list of terms)."""
    return [tuple(b[i : i + 3]) for b in node.triples for i in range(0, len(b) - 2, 3)]


def _pattern(node: object) -> Evaluate:
    """rdflib's algebra of a graph pattern (§18.2) -> an evaluator of its solutions."""
    if not isinstance(node, CompValue):
        raise Unsupported(f"{node!r}")
    name = node.name
    if name in ("SelectQuery", "Distinct", "Reduced", "ToMultiSet"):
        return _pattern(node.p)
    if name == "Project":
        return _project(_pattern(node.p), [Variable(v) for v in node.PV])
    if name == "BGP":
        return _bgp([tuple(t) for t in node.triples])
    if name == "GroupGraphPatternSub":  # the group of an EXISTS, left untranslated
        if not all(isinstance(part, CompValue) and part.name == "TriplesBlock"
                   for part in node.part):  # fmt: skip
            raise Unsupported("an EXISTS group beyond triple patterns")
        return _bgp([t for part in node.part for t in triples_block(part)])
    if name == "Join":
        return _join(_pattern(node.p1), _pattern(node.p2))
    if name == "Union":
        return _union(_pattern(node.p1), _pattern(node.p2))
    if name == "Filter":
        return _filter(_expression(node.expr), _pattern(node.p))
    raise Unsupported(f"SPARQL {name}")


def _expression(node: object) -> Callable[[Triples, Solution], bool]:
    if not isinstance(node, CompValue):
        raise Unsupported(f"the expression {node!r}")
    name = node.name
    if name in ("Builtin_EXISTS", "Builtin_NOTEXISTS"):
        inner, negated = _pattern(node.graph), name == "Builtin_NOTEXISTS"
        # EXISTS substitutes the solution's bindings into its pattern (§18.6, substitute).
        return lambda data, sol: (next(inner(data, sol), None) is None) is negated
    if name in ("ConditionalOrExpression", "ConditionalAndExpression"):
        parts = [_expression(e) for e in [node.expr, *(node.other or [])]]
        combine = any if name == "ConditionalOrExpression" else all
        return lambda data, sol: combine(part(data, sol) for part in parts)
    if name == "UnaryNot":
        inner_test = _expression(node.expr)
        return lambda data, sol: not inner_test(data, sol)
    raise Unsupported(f"the expression {name}")


def _merged(solution: Solution, found: Iterable[Solution]) -> Iterator[Solution]:
    """`found` (a pattern's solutions, evaluated on their own) joined with the outer solution."""
    for item in found:
        merged = _compatible(solution, item)
        if merged is not None:
            yield merged


def _project(inner: Evaluate, variables: list[Variable]) -> Evaluate:
    def evaluate(data: Triples, solution: Solution) -> Iterator[Solution]:
        # Only the projected variables are visible outside: the subquery is evaluated alone.
        found = ({v: f[v] for v in variables if v in f} for f in inner(data, {}))
        yield from _merged(solution, found)

    return evaluate


def _join(left: Evaluate, right: Evaluate) -> Evaluate:
    def evaluate(data: Triples, solution: Solution) -> Iterator[Solution]:
        rights = list(right(data, {}))
        pairs = (_compatible(a, b) for a in left(data, {}) for b in rights)
        yield from _merged(solution, (m for m in pairs if m is not None))

    return evaluate


def _union(left: Evaluate, right: Evaluate) -> Evaluate:
    def evaluate(data: Triples, solution: Solution) -> Iterator[Solution]:
        yield from itertools.chain(left(data, solution), right(data, solution))

    return evaluate


def _filter(test: Callable[[Triples, Solution], bool], inner: Evaluate) -> Evaluate:
    def evaluate(data: Triples, solution: Solution) -> Iterator[Solution]:
        # The filter sees the group's own solutions, not what an outer pattern bound.
        yield from _merged(solution, (f for f in inner(data, {}) if test(data, f)))

    return evaluate


@dataclass(frozen=True)
class CompiledQuery:
    """A narrowing query (`SELECT ... ?this`), compiled: its candidates among focus nodes."""

    evaluate: Evaluate

    def candidates(self, focus: Iterable[Node], data: Triples) -> list[Node]:
        """The focus nodes the query returns as ?this over `data` (Unknown: ask SPARQL)."""
        found: set[Node] = set()
        for solution in self.evaluate(data, {}):
            this = solution.get(THIS)
            if this is not None and not isinstance(this, Literal):
                found.add(this)
        return [n for n in focus if n in found]


def compile_query(query: str) -> CompiledQuery:
    """`query` as Python; Unsupported when it is beyond the subset this module evaluates."""
    try:
        algebra = prepareQuery(query).algebra
    except Exception as exc:  # rdflib's parser raises its own types
        raise Unsupported(f"rdflib cannot read the query: {exc}") from None
    if algebra.name != "SelectQuery" or THIS not in algebra.PV:
        raise Unsupported("not a SELECT of ?this")
    if algebra.datasetClause:
        raise Unsupported("FROM in a narrowing query")
    return CompiledQuery(_pattern(algebra))


def compile_queries(queries: dict[URIRef, str]) -> dict[URIRef, CompiledQuery]:
    """The queries that compile (the others stay SPARQL), by shape."""
    compiled = {}
    for shape, query in queries.items():
        try:
            compiled[shape] = compile_query(query)
        except Unsupported:
            continue
    return compiled


__all__ = ["CompiledQuery", "Unknown", "compile_queries", "compile_query", "same", "triples_block"]
