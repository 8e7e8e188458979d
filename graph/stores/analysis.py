"""Static checks on a SPARQL query before evaluation: form, updates, SERVICE allow-list, dataset clauses.

Engine-neutral, no evaluation, no I/O. Most queries are read by a lexical scan (C-speed regular
expressions, microseconds even for a megabyte): strings, IRIs and comments are blanked out, and
a query whose remaining text names none of SERVICE, FROM, LOAD, an update keyword or a codepoint
escape (`\\u`, which rdflib expands before parsing: SPARQL 1.1 Query §19.2) needs no parse here:
its form is the first keyword after the prologue (§19.8, rules [1]-[7]) and the engine's own
parser reports its syntax errors. Anything else, or a query whose form the scan cannot place,
is parsed in full by rdflib's parser, which refuses updates and finds every SERVICE target and
FROM / FROM NAMED IRI (Query §13.2; Federated Query §8.3). The scan only ever decides "nothing
to check": any doubt sends a query to the full parse, so the checks stay exactly as strict.

Callers run this where a query is evaluated (a query worker), so the time it takes counts
against the query's time limit and never holds the server's event loop.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from pyparsing import ParseException, ParseResults
from rdflib import URIRef, Variable
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from graph.errors import ForbiddenService, QuerySyntaxError, UpdateRefused
from graph.formats import QueryForm

_FORMS = {
    "SelectQuery": QueryForm.SELECT,
    "AskQuery": QueryForm.ASK,
    "ConstructQuery": QueryForm.CONSTRUCT,
    "DescribeQuery": QueryForm.DESCRIBE,
}
#: The URL rdflib's SERVICE evaluation actually requests is taken from the clause's text by this
#: pattern (rdflib.plugins.sparql.evaluate.evalServiceQuery), so it is checked as well as the term.
_RDFLIB_SERVICE_URL = re.compile(r"^service <(.*)>[ \n]*{(.*)}[ \n]*$", re.DOTALL | re.IGNORECASE)

#: Tokens that cannot hold a SPARQL keyword (Query §19.8), each found from its first character
#: (which keeps the scan at C speed over long runs of other text): long and short strings with
#: their escapes, IRIREF, comments, variables and blank node labels; and words, whose local part
#: is blanked when they are prefixed names. A prefix stays: Oxigraph reads `SERVICE:x` as
#: SERVICE with the target `:x`. A string left open runs to the end of its line (short) or of
#: the text (long): engines refuse such a query anyway, and no try starts again inside it (no
#: quadratic rescans).
_OPAQUE = re.compile(
    r"""
    ['"<\#?$_:A-Za-z]
    (?:
        (?<=') (?: ''(?:(?:'|'')?+(?:[^'\\]|\\.))*+(?:'''|\Z)
                 | (?:[^'\\\n\r]|\\.)*+(?:'|(?=[\n\r])|\Z) )
      | (?<=") (?: ""(?:(?:"|"")?+(?:[^"\\]|\\.))*+(?:\"\"\"|\Z)
                 | (?:[^"\\\n\r]|\\.)*+(?:"|(?=[\n\r])|\Z) )
      | (?<=<) [^<>"{}|^`\\\x00-\x20]*+>
      | (?<=\#) [^\n\r]*+
      | (?<=[?$]) \w*+
      | (?<=_) :[\w.-]*+
      | (?<=[A-Za-z:]) [\w.-]*+ (?::[\w.:%\\-]*+)?+
    )
    """,
    re.DOTALL | re.VERBOSE,
)
#: Words whose presence sends a query to the full parse: dataset clauses, federation and every
#: update operation (Update §3). Looked for anywhere in what the blanking leaves (keywords,
#: function names, numbers, punctuation), so `1SERVICE` counts too.
_KEYWORDS = (
    "SERVICE", "FROM", "LOAD", "INSERT", "DELETE", "CLEAR", "DROP",
    "CREATE", "ADD", "MOVE", "COPY", "WITH", "USING",
)  # fmt: skip
#: How deep braces, parentheses and brackets may nest (far beyond any real query).
MAX_NESTING = 256
_BRACKET = re.compile(r"[{}()\[\]]")
#: The prologue (BASE and PREFIX declarations, comments; raw or blanked) and the form keyword.
_FORM = re.compile(
    r"(?:\s|\#[^\n\r]*|BASE\s*<[^<>\s]*>|PREFIX\s*[^\s:<>]*:\s*<[^<>\s]*>)*"
    r"(SELECT|ASK|CONSTRUCT|DESCRIBE)\b"
)


@dataclass(frozen=True)
class QueryInfo:
    """What a query asks for, found without evaluating it."""

    form: QueryForm
    #: SERVICE targets, as written (IRIs; a variable or prefixed name appears as its text).
    services: tuple[str, ...] = ()
    #: FROM and FROM NAMED IRIs (the query's own dataset clause).
    from_default: tuple[str, ...] = ()
    from_named: tuple[str, ...] = ()
    #: True when rdflib parsed the whole query (False: the lexical scan sufficed).
    parsed: bool = False


def inspect_query(text: str, allowed_services: Sequence[str] | None = None) -> QueryInfo:
    """The static facts of a query, with its refusals.

    UpdateRefused for an update, QuerySyntaxError when the full parse fails, and, when
    `allowed_services` is given, ForbiddenService for a SERVICE target outside it.
    """
    info = scan(text)
    if info is None:
        info = parse(text)
    if allowed_services is not None:
        check_services(info, allowed_services)
    return info


def scan(text: str) -> QueryInfo | None:
    """The lexical reading of a query that needs no parse, or None (it must be parsed).

    QuerySyntaxError when groups nest deeper than MAX_NESTING (engines parse recursively:
    Oxigraph's parser overflows its stack a few thousand levels down and takes its process with
    it; rdflib's stops at Python's recursion limit).
    """
    if "\\u" in text or "\\U" in text:  # codepoint escapes may spell anything
        return None
    upper = text.upper()
    blanked: str | None = None
    if any(word in upper for word in _KEYWORDS):  # maybe only in a string, an IRI, a name...
        upper = blanked = _OPAQUE.sub(_blank, text).upper()
        if any(word in upper for word in _KEYWORDS):
            return None
    if sum(text.count(c) for c in "{([") > MAX_NESTING:
        check_nesting(blanked if blanked is not None else _OPAQUE.sub(_blank, text))
    match = _FORM.match(upper)
    if match is None:
        return None
    return QueryInfo(QueryForm(match.group(1)))


def check_nesting(text: str) -> None:
    """QuerySyntaxError if brackets in `text` (strings, IRIs and comments blanked) nest deeper
    than MAX_NESTING."""
    depth = 0
    for match in _BRACKET.finditer(text):
        if match.group(0) in "{([":
            depth += 1
            if depth > MAX_NESTING:
                line = text.count("\n", 0, match.start()) + 1
                column = match.start() - text.rfind("\n", 0, match.start())
                raise QuerySyntaxError(
                    f"groups, expressions and blank node lists nest more than {MAX_NESTING} deep",
                    line,
                    column,
                )
        else:
            depth -= 1


def _blank(match: re.Match[str]) -> str:
    """A neutral stand-in for an opaque token; a word keeps its prefix (or all of it)."""
    token = match.group(0)
    first = token[0]
    if first in "'\"":
        return '""'
    if first == "<":
        return "<>"
    if first == "#":
        return " "
    if first in "?$_":
        return " ?V "
    prefix, colon, _ = token.partition(":")
    return f" {prefix}{colon} "


def parse(text: str) -> QueryInfo:
    """The full reading of a query by rdflib's SPARQL 1.1 parser (no evaluation)."""
    try:
        parsed = parseQuery(text)
    except RecursionError:
        raise QuerySyntaxError("the query is nested too deeply to parse") from None
    except ParseException as exc:
        if _is_update(text):
            raise UpdateRefused(
                "SPARQL 1.1 Update is not accepted by this query endpoint; nothing was executed"
            ) from None
        raise syntax_error(exc) from None
    query = parsed[1]
    form = _FORMS[query.name]
    services = [_service_target(n) for n in _walk(query) if n.name == "ServiceGraphPattern"]
    default: list[str] = []
    named: list[str] = []
    for clause in dict.get(query, "datasetClause") or ():
        if dict.get(clause, "default") is not None:
            default.append(str(clause["default"]))
        elif dict.get(clause, "named") is not None:
            named.append(str(clause["named"]))
    return QueryInfo(form, tuple(services), tuple(default), tuple(named), parsed=True)


def syntax_error(exc: ParseException) -> QuerySyntaxError:
    """The parser's message and position as a domain error."""
    return QuerySyntaxError(str(exc), line=exc.lineno, column=exc.col)


def check_services(info: QueryInfo, allowed: Sequence[str]) -> None:
    """ForbiddenService unless every SERVICE target is an IRI on the allow-list."""
    for target in info.services:
        if target not in allowed:
            raise ForbiddenService(target, allowed)


#: Oxigraph's syntax errors start with their position, "error at 3:11: expected ...", the column
#: one past the character where parsing stopped (pyoxigraph 0.5): reported 1-based, as rdflib's.
_POSITION = re.compile(r"^error at (\d+):(\d+): ?")


def engine_syntax_error(message: str) -> QuerySyntaxError:
    """An engine parser's message as a domain error, with line and column when it gives them."""
    match = _POSITION.match(message)
    if match is None:
        return QuerySyntaxError(message)
    column = max(1, int(match.group(2)) - 1)
    return QuerySyntaxError(message[match.end() :], int(match.group(1)), column)


def _is_update(text: str) -> bool:
    try:
        parseUpdate(text)
    except (ParseException, RecursionError):
        return False
    return True


def _service_target(node: CompValue) -> str:
    term = dict.get(node, "term")
    if isinstance(term, URIRef):
        match = _RDFLIB_SERVICE_URL.match(str(dict.get(node, "service_string", "")))
        fetched = match.group(1) if match else str(term)
        # Both must agree: a target whose text rdflib would read differently is refused.
        return str(term) if fetched == str(term) else fetched
    if isinstance(term, Variable):
        return f"?{term}"
    if isinstance(term, CompValue) and term.name == "pname":
        return f"{dict.get(term, 'prefix') or ''}:{dict.get(term, 'localname') or ''}"
    return str(term)


def _walk(value: object) -> Iterator[CompValue]:
    if isinstance(value, CompValue):
        yield value
        for child in value.values():
            yield from _walk(child)
    elif isinstance(value, ParseResults | list | tuple):
        for child in value:
            yield from _walk(child)
