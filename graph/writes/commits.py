"""The PROV record of a commit: a dk:Commit (a prov:Activity) in its own named graph.

The graph is named by the commit's IRI (`https://w3id.org/diplokg/change/ID`). It says who made
the commit (the token's name, as a prov:Agent), when it started and ended, its message and
source, and the commit before it. It links every node the commit added or removed a quad about
(as subject or object) with dk:changed, and carries the change itself as RDF Patch text
(dk:patch: its `D` and `A` lines, for a change of up to PATCH_IN_RECORD quads; a larger one is in
the change log only), so that the history of a fact or an entity is a SPARQL query. A compact
record on purpose: each quad of it is written to the store, logged and replicated.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from rdflib import Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, XSD

from graph.namespaces import BASE, DK
from graph.writes.delta import Delta, Quad


def patch_lines(delta: Delta) -> str:
    """The change as RDF Patch operations: `D` lines, then `A` lines, each sorted."""
    removed, added = delta.ordered
    lines = [f"D {line}" for line, _ in removed]
    lines += [f"A {line}" for line, _ in added]
    return "\n".join(lines)


CHANGE = BASE + "change/"
AGENT = BASE + "agent/"
#: The largest change whose RDF Patch text the record carries (dk:patch).
PATCH_IN_RECORD = 1_000
#: What a commit's operation may be.
OPERATIONS = ("update", "graph-put", "graph-post", "graph-delete", "revert")


def new_id(sequence: int) -> str:
    """A commit id: its number in the log (sortable), then random hex (unique across stores)."""
    return f"{sequence:06d}-{secrets.token_hex(4)}"


def commit_iri(commit_id: str) -> URIRef:
    return URIRef(CHANGE + commit_id)


def commit_id_of(iri: str) -> str | None:
    return iri[len(CHANGE) :] if iri.startswith(CHANGE) else None


def is_commit_graph(graph: object) -> bool:
    return isinstance(graph, URIRef) and str(graph).startswith(CHANGE)


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# The record's terms, looked up once (an rdflib namespace's attribute costs a microsecond).
_TYPE, _LABEL, _COMMENT, _DATETIME = RDF.type, RDFS.label, RDFS.comment, XSD.dateTime
_ACTIVITY, _AGENT, _ASSOCIATED = PROV.Activity, PROV.Agent, PROV.wasAssociatedWith
_STARTED, _ENDED = PROV.startedAtTime, PROV.endedAtTime
_COMMIT, _OPERATION, _ADDED, _REMOVED = DK.Commit, DK.operation, DK.quadsAdded, DK.quadsRemoved
_SOURCE, _PREVIOUS, _REVERTS = DK.changeSource, DK.previousCommit, DK.reverts
_CHANGED, _PATCH = DK.changed, DK.patch


@dataclass(frozen=True)
class Commit:
    """What is recorded of one commit."""

    id: str
    previous: str | None
    agent: str
    operation: str
    started: str
    ended: str
    message: str | None = None
    source: str | None = None
    reverts: str | None = None
    added: int = 0
    removed: int = 0

    @property
    def iri(self) -> URIRef:
        return commit_iri(self.id)

    @property
    def sequence(self) -> int:
        """Its number in the change log (the first part of its id)."""
        return int(self.id.split("-", 1)[0])

    def quads(self, delta: Delta) -> list[Quad]:
        """The commit's PROV record, every quad in the commit's own graph."""
        c, g = self.iri, self.iri
        agent = URIRef(AGENT + self.agent)
        out: list[Quad] = [
            (c, _TYPE, _COMMIT, g),
            (c, _TYPE, _ACTIVITY, g),
            (c, _LABEL, Literal(f"commit {self.id}"), g),
            (c, _ASSOCIATED, agent, g),
            (agent, _TYPE, _AGENT, g),
            (agent, _LABEL, Literal(self.agent), g),
            (c, _STARTED, Literal(self.started, datatype=_DATETIME, normalize=False), g),
            (c, _ENDED, Literal(self.ended, datatype=_DATETIME, normalize=False), g),
            (c, _OPERATION, Literal(self.operation), g),
            (c, _ADDED, Literal(self.added), g),
            (c, _REMOVED, Literal(self.removed), g),
        ]
        if self.message:
            out.append((c, _COMMENT, Literal(self.message), g))
        if self.source:
            out.append((c, _SOURCE, URIRef(self.source), g))
        if self.previous:
            out.append((c, _PREVIOUS, commit_iri(self.previous), g))
        if self.reverts:
            out.append((c, _REVERTS, commit_iri(self.reverts), g))
        changed = {q[0] for q in (*delta.added, *delta.removed)}
        changed |= {q[2] for q in (*delta.added, *delta.removed) if isinstance(q[2], URIRef)}
        out += [(c, _CHANGED, node, g) for node in sorted(changed, key=str)]
        if len(delta.added) + len(delta.removed) <= PATCH_IN_RECORD:
            out.append((c, _PATCH, Literal(patch_lines(delta)), g))
        return out

    @classmethod
    def from_quads(cls, commit_id: str, quads: list[Quad]) -> Commit:
        """The record read back from its quads (the change log's `A` lines in its graph)."""
        c = commit_iri(commit_id)
        values: dict[URIRef, str] = {}
        agent = ""
        for s, p, o, _ in quads:
            if s == c and isinstance(p, URIRef):
                if p == PROV.wasAssociatedWith:
                    agent = str(o)[len(AGENT) :]
                else:
                    values[p] = str(o)

        def ident(prop: URIRef) -> str | None:
            value = values.get(prop)
            return commit_id_of(value) if value else None

        return cls(
            id=commit_id,
            previous=ident(DK.previousCommit),
            agent=agent,
            operation=values.get(DK.operation, "update"),
            started=values.get(PROV.startedAtTime, ""),
            ended=values.get(PROV.endedAtTime, ""),
            message=values.get(RDFS.comment),
            source=values.get(DK.changeSource),
            reverts=ident(DK.reverts),
            added=int(values.get(DK.quadsAdded, "0")),
            removed=int(values.get(DK.quadsRemoved, "0")),
        )
