"""Ontology + sources -> a validated, deterministic dataset and its dumps (TriG, N-Quads, Turtle, JSON-LD), with the ontology documented as HTML."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rdflib import Dataset, Graph
from rdflib.compare import to_canonical_graph

from graph import __version__
from graph.describe import CHANGELOG, VOID_FILE, VOID_GRAPH, describe, void_turtle
from graph.dumps import DUMP_STEM, MANIFEST, read_manifest
from graph.layout import ONTOLOGY_DIR, SHAPES_DIR, SOURCES_DIR
from graph.loading import new_dataset, parse_into
from graph.namespaces import ONTOLOGY_IRI, PREFIXES
from graph.ontology_docs import ONTOLOGY_DOC, ontology_page
from graph.ontology_docs import TEMPLATES_DIR as DOC_TEMPLATES
from graph.validate import ValidationFailed, ValidationReport, load_shapes, union_graph, validate

log = logging.getLogger(__name__)

#: The files `build` writes, by role; all are named diplokg.<suffix>.
DUMP_FORMATS: dict[str, str] = {
    "trig": "trig",  # named graphs
    "nq": "nquads",  # named graphs, one quad per line, sorted
    "ttl": "turtle",  # all graphs merged
    "jsonld": "json-ld",  # all graphs merged
}


@dataclass(frozen=True)
class BuildResult:
    out_dir: Path
    files: tuple[Path, ...]
    report: ValidationReport | None
    skipped: bool
    quads: int


@dataclass(frozen=True)
class Inputs:
    """Where a build reads from; the default is the project's own ontology, shapes and sources."""

    ontology_dir: Path = ONTOLOGY_DIR
    shapes_dir: Path = SHAPES_DIR
    sources_dir: Path = SOURCES_DIR

    def ontology_files(self) -> list[Path]:
        return sorted(self.ontology_dir.glob("*.ttl"))

    def shape_files(self) -> list[Path]:
        return sorted(self.shapes_dir.glob("*.ttl"))

    def source_files(self) -> list[Path]:
        return sorted(self.sources_dir.glob("*.trig"))


PROJECT_INPUTS = Inputs()


def input_digest(inputs: Inputs = PROJECT_INPUTS) -> str:
    """A digest of everything a build depends on: version, ontology, shapes and sources."""
    h = hashlib.sha256(__version__.encode())
    for path in [*inputs.ontology_files(), *inputs.shape_files(), *inputs.source_files()]:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    if CHANGELOG.is_file():  # release dates of the VoID/DCAT description
        h.update(CHANGELOG.read_bytes())
    for path in sorted(DOC_TEMPLATES.glob("*.html")):  # the ontology documentation's layout
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def load_sources(inputs: Inputs = PROJECT_INPUTS) -> Dataset:
    """The ontology (in its own named graph) and every source's named graph, parsed."""
    ds = new_dataset()
    for path in inputs.ontology_files():
        parse_into(ds, path, graph_name=str(ONTOLOGY_IRI))
    for path in inputs.source_files():
        parse_into(ds, path)
    return ds


def is_current(out_dir: Path, inputs: Inputs = PROJECT_INPUTS) -> bool:
    """True when `out_dir` holds a complete build of the current inputs."""
    manifest = read_manifest(out_dir)
    if manifest is None or manifest.get("input_digest") != input_digest(inputs):
        return False
    return all((out_dir / name).is_file() for name in manifest.get("files", {}))


def build(out_dir: Path, *, force: bool = False, inputs: Inputs = PROJECT_INPUTS) -> BuildResult:
    """Validate the sources and write the dumps to `out_dir`; refuse (ValidationFailed) if they do not conform.

    Skips the work when `out_dir` already holds a build of the same inputs, unless `force`.
    """
    if not force and is_current(out_dir, inputs):
        log.info("build in %s is current; nothing to do", out_dir)
        files = tuple(sorted(out_dir / n for n in (read_manifest(out_dir) or {}).get("files", {})))
        return BuildResult(out_dir, files, None, skipped=True, quads=_manifest_quads(out_dir))
    ds = load_sources(inputs)
    report = validate(ds, load_shapes(inputs.shapes_dir))
    if not report.conforms:
        raise ValidationFailed(report)
    canonical = canonicalize(ds)
    description = canonical.graph(VOID_GRAPH)  # counts the data without the description
    for triple in describe(canonical):
        description.add(triple)
    files = write_dumps(canonical, out_dir, input_digest(inputs))
    return BuildResult(out_dir, files, report, skipped=False, quads=quad_count(canonical))


def canonicalize(ds: Dataset) -> Dataset:
    """A copy of `ds` whose blank nodes carry content-derived labels, so dumps are byte-for-byte stable."""
    out = new_dataset()
    for graph in sorted(ds.graphs(), key=lambda g: str(g.identifier)):
        if len(graph) == 0:
            continue
        target = out.graph(graph.identifier)
        for triple in to_canonical_graph(graph):  # each writer orders its own output
            target.add(triple)
    return out


def write_dumps(ds: Dataset, out_dir: Path, digest: str) -> tuple[Path, ...]:
    """Write every dump and the manifest; files appear in `out_dir` only once all are written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    merged = union_graph(ds)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".build-") as tmp:
        staging = Path(tmp)
        written: dict[str, str] = {}
        for suffix, fmt in DUMP_FORMATS.items():
            name = f"{DUMP_STEM}.{suffix}"
            path = staging / name
            if suffix == "nq":
                text = ds.serialize(format="nquads")
                path.write_text(
                    "".join(sorted(set(text.splitlines(keepends=True)))), encoding="utf-8"
                )
            elif fmt == "trig":
                path.write_text(trig_text(ds), encoding="utf-8")
            elif fmt == "json-ld":
                _bind(merged)
                path.write_text(stable_jsonld(merged.serialize(format=fmt)), encoding="utf-8")
            else:
                _bind(merged)
                merged.serialize(destination=str(path), format=fmt)
            written[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        description = ds.get_graph(VOID_GRAPH)
        if description is not None and len(description):
            (staging / VOID_FILE).write_text(void_turtle(description), encoding="utf-8")
            written[VOID_FILE] = hashlib.sha256((staging / VOID_FILE).read_bytes()).hexdigest()
        ontology = ds.get_graph(ONTOLOGY_IRI)
        if ontology is not None and len(ontology):  # the ontology documented as HTML
            (staging / ONTOLOGY_DOC).write_text(ontology_page(ontology), encoding="utf-8")
            written[ONTOLOGY_DOC] = hashlib.sha256(
                (staging / ONTOLOGY_DOC).read_bytes()
            ).hexdigest()
        manifest = {
            "version": __version__,
            "input_digest": digest,
            "quads": quad_count(ds),
            "triples_merged": len(merged),
            "graphs": {
                str(g.identifier): len(g)
                for g in sorted(ds.graphs(), key=lambda g: str(g.identifier))
                if len(g)
            },
            "files": written,
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        for name in [*written, MANIFEST]:
            os.replace(staging / name, out_dir / name)
    return tuple(sorted(out_dir / name for name in written))


def quad_count(ds: Dataset) -> int:
    """The quads of `ds`: a triple stated in several named graphs counts once per graph (an
    imported organization is described in every list version that names it)."""
    return sum(len(g) for g in ds.graphs())


def trig_text(ds: Dataset) -> str:
    """TriG with the graphs in IRI order, each written by the (deterministic) Turtle serializer."""
    shared = Graph().namespace_manager
    for name, iri in PREFIXES.items():
        shared.bind(name, iri, override=True, replace=True)
    prefixes: set[str] = set()
    blocks: list[str] = []
    for graph in sorted(ds.graphs(), key=lambda g: str(g.identifier)):
        if len(graph) == 0:
            continue
        body = Graph()
        body.namespace_manager = shared
        for triple in sorted(graph):
            body.add(triple)
        lines = body.serialize(format="turtle").splitlines()
        prefixes.update(line for line in lines if line.startswith("@prefix"))
        inner = "".join(_indent([line for line in lines if not line.startswith("@prefix")]))
        blocks.append(f"\n{graph.identifier.n3(shared)} {{\n{inner}}}\n")
    graph_prefixes = {f"@prefix {name}: <{iri}> ." for name, iri in shared.namespaces()}
    header = sorted(prefixes | {p for p in graph_prefixes if p.startswith("@prefix dkg:")})
    return "\n".join(header) + "\n" + "".join(blocks)


_LONG_QUOTE = re.compile(r'(?<!\\)"""')


def _indent(lines: list[str]) -> Iterator[str]:
    """Turtle lines indented by four spaces for the TriG block, except the lines that continue a
    long string (\"\"\"...\"\"\"), whose text must stay exactly as it is; blank lines between
    statements are dropped, blank lines inside a long string kept."""
    in_long = False
    for line in lines:
        if in_long:
            yield f"{line}\n"
        elif line:
            yield f"    {line}\n"
        if len(_LONG_QUOTE.findall(line)) % 2:
            in_long = not in_long


def stable_jsonld(text: str) -> str:
    """JSON-LD with node objects and value arrays in a fixed order (rdflib's order varies run to run)."""
    return (
        json.dumps(_sorted_json(json.loads(text)), indent=2, sort_keys=True, ensure_ascii=False)
        + "\n"
    )


def _sorted_json(value: object, key: str = "") -> object:
    if isinstance(value, dict):
        return {k: _sorted_json(v, k) for k, v in value.items()}
    if isinstance(value, list):
        items = [_sorted_json(v) for v in value]
        if key == "@list":  # an RDF list: order is meaning
            return items
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
    return value


def clean(out_dir: Path) -> None:
    """Remove a build directory."""
    shutil.rmtree(out_dir, ignore_errors=True)


def _manifest_quads(out_dir: Path) -> int:
    value = (read_manifest(out_dir) or {}).get("quads", 0)
    return value if isinstance(value, int) else 0


def _bind(graph: Graph) -> None:
    for name, iri in PREFIXES.items():
        graph.bind(name, iri, override=True, replace=True)
