"""Checks that every dk:evidence excerpt appears verbatim in the source it cites.

A news article's text is `<texts_dir>/<its dct:identifier>.txt`. A list version (dk:ListVersion)
is the file whose SHA-256 is its dk:sha256, found anywhere under `lists_dir`; an excerpt of a
listing must appear in one of the versions the listing is derived from (a span of a list's
history cites its first row and the version where the row was gone). Sources that cannot be
checked here (no `lists_dir`, or a page kept only as excerpts and a digest) are counted, not
failed.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Dataset, Graph
from rdflib.namespace import DCTERMS, PROV, RDF
from rdflib.term import Node

from graph.namespaces import DK
from graph.validate import union_graph


@dataclass(frozen=True, order=True)
class EvidenceProblem:
    fact: str
    article: str
    excerpt: str
    reason: str


@dataclass
class EvidenceCheck:
    """The problems found, and how many excerpts could not be checked here, by reason."""

    problems: list[EvidenceProblem] = field(default_factory=list)
    unchecked: Counter[str] = field(default_factory=Counter)
    checked: int = 0


def check_evidence(ds: Dataset, texts_dir: Path) -> list[EvidenceProblem]:
    """Problems found in the news articles' excerpts (lists are not checked)."""
    return check_all(ds, texts_dir).problems


def check_all(ds: Dataset, texts_dir: Path, lists_dir: Path | None = None) -> EvidenceCheck:
    """Check every excerpt against its article's text, or its list version's file."""
    graph: Graph = union_graph(ds)
    result = EvidenceCheck()
    texts = _Texts(texts_dir)
    files = _ListFiles(lists_dir) if lists_dir is not None else None
    for fact, _, excerpt in sorted(graph.triples((None, DK.evidence, None)), key=str):
        sources = sorted(graph.objects(fact, PROV.wasDerivedFrom), key=str)
        versions = [s for s in sources if (s, RDF.type, DK.ListVersion) in graph]
        articles = [s for s in sources if s not in versions]
        text = str(excerpt)
        if versions:
            if files is None:
                result.unchecked["list versions (pass the list files)"] += 1
                continue
            _check_versions(graph, fact, versions, text, files, result)
        for article in articles:
            _check_article(graph, fact, article, text, texts, result)
    result.problems = sorted(set(result.problems))
    return result


def _check_article(
    graph: Graph, fact: Node, article: Node, excerpt: str, texts: _Texts, out: EvidenceCheck
) -> None:
    identifier = graph.value(article, DCTERMS.identifier)
    if identifier is None:
        out.problems.append(
            EvidenceProblem(str(fact), str(article), excerpt, "article has no dct:identifier")
        )
        return
    text = texts.get(str(identifier))
    if text is None:
        if graph.value(article, DK.sha256) is not None:
            out.unchecked["pages kept as excerpts and a digest"] += 1
            return
        out.problems.append(
            EvidenceProblem(str(fact), str(article), excerpt, f"no text file {identifier}.txt")
        )
    elif excerpt not in text:
        out.problems.append(
            EvidenceProblem(str(fact), str(article), excerpt, "excerpt not found verbatim")
        )
    else:
        out.checked += 1


def _check_versions(
    graph: Graph,
    fact: Node,
    versions: list[Node],
    excerpt: str,
    files: _ListFiles,
    out: EvidenceCheck,
) -> None:
    found_any = False
    for version in versions:
        digest = graph.value(version, DK.sha256)
        text = files.text(str(digest)) if digest is not None else None
        if text is None:
            continue
        found_any = True
        if excerpt in text:
            out.checked += 1
            return
    where = ", ".join(str(v) for v in versions)
    reason = (
        "excerpt not found verbatim in its list versions"
        if found_any
        else "no file under the list directory has the version's dk:sha256"
    )
    out.problems.append(EvidenceProblem(str(fact), where, excerpt, reason))


class _Texts:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.cache: dict[str, str | None] = {}

    def get(self, identifier: str) -> str | None:
        if identifier not in self.cache:
            path = self.directory / f"{identifier}.txt"
            self.cache[identifier] = path.read_text(encoding="utf-8") if path.is_file() else None
        return self.cache[identifier]


class _ListFiles:
    """The files under a directory, by SHA-256; read (and decoded) only when an excerpt needs one."""

    def __init__(self, directory: Path) -> None:
        self.by_digest: dict[str, Path] = {}
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            self.by_digest.setdefault(hashlib.sha256(path.read_bytes()).hexdigest(), path)
        self.cache: dict[str, str] = {}

    def text(self, digest: str) -> str | None:
        path = self.by_digest.get(digest)
        if path is None:
            return None
        if digest not in self.cache:
            data = path.read_bytes()
            try:
                self.cache[digest] = data.decode("utf-8")
            except UnicodeDecodeError:
                self.cache[digest] = data.decode("cp1252", errors="replace")
        return self.cache[digest]
