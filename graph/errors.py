"""Domain exceptions raised by the graph library; the API and CLI map them to statuses and exit codes.

Every one of them pickles with its attributes, whatever its constructor takes: a query worker
raises them in its own process and the server re-raises the same object (api.pool).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from graph.formats import QueryForm

#: Default allow-list of SERVICE endpoints: Wikidata's public query service only.
DEFAULT_ALLOWED_SERVICES: tuple[str, ...] = ("https://query.wikidata.org/sparql",)


def _rebuild(cls: type[DiploKGError], message: str, state: dict[str, Any]) -> DiploKGError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class DiploKGError(Exception):
    """Base class of every error the library raises on purpose."""

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild, (type(self), str(self), dict(self.__dict__))


class RDFParseError(DiploKGError):
    """A data file does not parse; names the file, the line (when known) and the parser's message."""

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class DatasetNotBuilt(DiploKGError):
    """The dataset directory holds no build to load."""


class QuerySyntaxError(DiploKGError):
    """A SPARQL query does not parse; carries the parser's message and position."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        self.message = message
        self.line = line
        self.column = column
        where = f" at line {line}, column {column}" if line is not None else ""
        super().__init__(f"SPARQL syntax error{where}: {message}")


class QueryRefused(DiploKGError):
    """The query is well-formed but this endpoint will not evaluate it (base class)."""


class UpdateRefused(QueryRefused):
    """A SPARQL 1.1 Update (INSERT, DELETE, LOAD, CLEAR, ...) reached a query operation."""


class ForbiddenService(QueryRefused):
    """A SERVICE clause names an endpoint outside the allow-list (or a variable)."""

    def __init__(self, target: str, allowed: Sequence[str]) -> None:
        self.target = target
        self.allowed = tuple(allowed)
        listed = ", ".join(self.allowed) or "none"
        super().__init__(f"SERVICE <{target}> is not allowed; allowed endpoints: {listed}")


class NotAcceptable(DiploKGError):
    """No format the client accepts can carry this result; carries the offers (their names)."""

    def __init__(self, offers: Sequence[tuple[str, str]], asked: str) -> None:
        #: (short name, media type) of each format offered.
        self.offers = tuple(offers)
        self.asked = asked
        names = ", ".join(f"{media} ({name})" for name, media in self.offers)
        super().__init__(f"cannot produce {asked!r}; this result is available as: {names}")


class UnsupportedFormat(DiploKGError):
    """The result of this query form cannot be written in the requested format."""

    def __init__(self, form: QueryForm, fmt: str) -> None:
        self.form = form
        self.format = fmt
        super().__init__(f"a {form} result cannot be serialized as {fmt!r}")


class QueryTimeout(DiploKGError):
    """Evaluation was stopped because it ran longer than the configured limit."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"the query was stopped after {seconds:g} s (the endpoint's time limit)")


class StoreError(DiploKGError):
    """The backend failed for a reason that is not the client's fault (a bug, an engine down)."""


class StoreUnavailable(StoreError):
    """The store cannot be reached for now (a remote engine down or refusing connections)."""

    def __init__(self, message: str, retry_after: int = 5, *, public: bool = False) -> None:
        self.retry_after = retry_after
        #: The message may be shown to clients (it names no store address): the writer's own.
        self.public = public
        super().__init__(message)


class WorkerLost(StoreError):
    """The process evaluating a query died before answering (killed, or crashed)."""

    def __init__(self, message: str, retry_after: int = 1) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class ReadOnlyStore(DiploKGError):
    """The store cannot be written to (loading into a read-only remote store, for instance)."""
