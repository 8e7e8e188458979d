"""`diplokg changes export`: accepted changes as reviewable sources, so that git stays the source of truth.

The commits of the change log (all, or those after `--since`) are folded into their net effect
and written to a directory:

* `changes.trig`: the quads the commits added, in their graphs, and each commit's PROV record
  in its own graph: a TriG source that can be reviewed and copied into graph/sources/;
* `removed.rdfp`: the quads they removed, as one RDF Patch transaction, with `REVIEW.md` naming
  the source file under graph/sources/ that states each of them (to be deleted there);
* `REVIEW.md`: the commits (who, when, why, from which source) and what to do with each file.

Once the sources hold the change and the graph is rebuilt, the server finds every exported
commit already in place when it replays its change log on the new build (docs/writes.md).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset, URIRef

from graph.build import trig_text
from graph.errors import DiploKGError
from graph.writes.commits import Commit, is_commit_graph
from graph.writes.delta import Delta, Patch, Quad, parse_patches, sorted_quads


class ExportError(DiploKGError):
    """The change log cannot be exported as asked (missing, or no such commit)."""


@dataclass(frozen=True)
class ExportSummary:
    commits: tuple[Commit, ...]
    added: int
    removed: int
    files: tuple[Path, ...]


def read_log(path: Path) -> list[Patch]:
    if not path.is_file():
        raise ExportError(f"no change log at {path}")
    return list(parse_patches(path.read_text(encoding="utf-8")))


def select(patches: list[Patch], since: str | None) -> list[Patch]:
    """The commits after `since` (a commit id), or all of them."""
    if since is None:
        return patches
    for index, patch in enumerate(patches):
        if patch.id.rsplit("/", 1)[-1] == since:
            return patches[index + 1 :]
    raise ExportError(f"no commit {since!r} in the change log")


def net_change(patches: list[Patch]) -> tuple[Delta, dict[URIRef, list[Quad]]]:
    """What the commits changed in the data, taken together, and each commit's record."""
    added: set[Quad] = set()
    removed: set[Quad] = set()
    records: dict[URIRef, list[Quad]] = defaultdict(list)
    for patch in patches:
        for op, quad in patch.operations:
            if is_commit_graph(quad[3]):
                records[quad[3]].append(quad)  # type: ignore[index]
            elif op == "A":
                if quad in removed:
                    removed.discard(quad)
                else:
                    added.add(quad)
            elif quad in added:
                added.discard(quad)
            else:
                removed.add(quad)
    return Delta(frozenset(removed), frozenset(added)), records


def graph_sources(sources_dir: Path) -> dict[str, list[str]]:
    """Graph IRI -> the source files under `sources_dir` that write into it."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(sources_dir.glob("*.trig")):
        names = {
            q.graph_name.value
            for q in ox.parse(path=str(path), format=ox.RdfFormat.TRIG)
            if isinstance(q.graph_name, ox.NamedNode)
        }
        for name in names:
            found[name].append(path.name)
    return found


def export_changes(
    log_path: Path, out: Path, sources_dir: Path, since: str | None = None
) -> ExportSummary:
    patches = select(read_log(log_path), since)
    if not patches:
        raise ExportError("no commit to export" + (f" after {since}" if since else ""))
    delta, records = net_change(patches)
    commits = tuple(
        Commit.from_quads(p.id.rsplit("/", 1)[-1], records.get(URIRef(p.id), [])) for p in patches
    )
    out.mkdir(parents=True, exist_ok=True)
    ds = Dataset()
    for s, p, o, g in [*delta.added, *(q for quads in records.values() for q in quads)]:
        ds.add((s, p, o, ds.graph(g) if g is not None else ds.default_context))
    files = [out / "changes.trig", out / "removed.rdfp", out / "REVIEW.md"]
    files[0].write_text(trig_text(ds), encoding="utf-8")
    first, last = commits[0].id, commits[-1].id
    removal = Patch(
        f"https://w3id.org/diplokg/change/{first}..{last}",
        None,
        tuple(("D", q) for q in sorted_quads(delta.removed)),
    )
    files[1].write_text(removal.text(), encoding="utf-8")
    files[2].write_text(_review(commits, delta, graph_sources(sources_dir)), encoding="utf-8")
    return ExportSummary(commits, len(delta.added), len(delta.removed), tuple(files))


def _review(commits: tuple[Commit, ...], delta: Delta, sources: dict[str, list[str]]) -> str:
    lines = [
        f"# Changes {commits[0].id} to {commits[-1].id}",
        "",
        f"{len(commits)} commit(s): {len(delta.added)} quad(s) added, {len(delta.removed)} "
        "removed in all (what the commits did together).",
        "",
        "| commit | agent | ended | operation | + | - | message | source |",
        "|---|---|---|---|---:|---:|---|---|",
    ]
    for c in commits:
        message = (c.message or "").replace("|", "\\|").replace("\n", " ")
        lines.append(
            f"| {c.id} | {c.agent} | {c.ended} | {c.operation} | {c.added} | {c.removed} "
            f"| {message} | {c.source or ''} |"
        )
    lines += [
        "",
        "## What to do",
        "",
        "1. Review `changes.trig`: the added quads in their graphs, and each commit's PROV",
        "   record. Copy the data graphs into a source file under `graph/sources/` (a new file",
        "   for a new graph), keeping the commit records with them.",
        "2. Delete the removed quads below from the source files named (`removed.rdfp` lists",
        "   them as an RDF Patch).",
        "3. `make build`, then restart the server: it replays its change log on the new build",
        "   and reports these commits as already in place.",
        "",
        "## Removed quads and their source files",
        "",
    ]
    by_graph: dict[URIRef | None, list[Quad]] = defaultdict(list)
    for quad in sorted_quads(delta.removed):
        by_graph[quad[3]].append(quad)
    if not by_graph:
        lines.append("None.")
    for graph, quads in by_graph.items():
        files = ", ".join(f"`{f}`" for f in sources.get(str(graph), [])) or "no source file"
        lines.append(f"- graph <{graph}> ({files}): {len(quads)} quad(s)")
    return "\n".join(lines) + "\n"
