"""The `diplokg` command: thin wrappers over the graph library and the web app, with meaningful exit codes."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from graph import __version__
from graph.build import build as build_dataset
from graph.build import is_current, load_sources
from graph.dumps import DUMP_STEM, load_build, read_manifest
from graph.errors import (
    DatasetNotBuilt,
    DiploKGError,
    QuerySyntaxError,
    RDFParseError,
)
from graph.evidence import check_all
from graph.imports.model import ListFileError
from graph.imports.reconcile import (
    DECISIONS_FILE,
    append_decision,
    doubtful_pairs,
    index_dataset,
    parse_decision,
    read_decisions,
)
from graph.imports.refresh import CONFIG as REFRESH_CONFIG
from graph.imports.refresh import read_config, refresh
from graph.imports.run import DESCRIPTIONS, run_import
from graph.imports.wikidata import save_statements
from graph.layout import DEFAULT_DIST, ONTOLOGY_DIR, PROJECT_ROOT, SOURCES_DIR
from graph.loading import load_files, parse_into
from graph.query import format_result, run_query
from graph.stores import open_store_spec, parse_store_spec
from graph.validate import ValidationFailed, load_store, validate_store
from graph.validate import validate as validate_dataset
from graph.wikidata.client import DEFAULT_TIMEOUT, EndpointError, SparqlClient
from graph.wikidata.export import export_wikidata
from graph.wikidata.link import (
    DEFAULT_THRESHOLD,
    Candidate,
    LinkError,
    Proposal,
    accepted,
    write_links,
)
from graph.wikidata.link import link as link_entities
from graph.wikidata.link import report as link_report
from graph.wikidata.vocab import DEFAULT_ENDPOINT

#: Exit codes shared by every command.
EXIT_OK = 0
EXIT_INVALID = 1  # data does not conform, or a check found problems
EXIT_ERROR = 2  # bad input: a file that does not parse, a bad query, a missing build

app = typer.Typer(
    name="diplokg",
    help="DiploKG: build, validate, query and serve the diplomatic-recognition knowledge graph.",
    no_args_is_help=True,
    add_completion=False,
)

OutDir = Annotated[Path, typer.Option("--out", help="Directory the dumps are written to.")]


def _fail(message: str, code: int = EXIT_ERROR) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@app.callback()
def _root(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log progress to standard error.")
    ] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@app.command()
def version() -> None:
    """Print the DiploKG version."""
    typer.echo(__version__)


@app.command()
def build(
    out: OutDir = DEFAULT_DIST,
    force: Annotated[
        bool, typer.Option("--force", help="Rebuild even if the inputs have not changed.")
    ] = False,
) -> None:
    """Validate the ontology and sources, then write TriG, N-Quads, Turtle and JSON-LD dumps.

    Nothing is written when the data does not conform to the shapes (exit 1). A build whose
    inputs have not changed since the last one is skipped.
    """
    try:
        result = build_dataset(out, force=force)
    except RDFParseError as exc:
        raise _fail(str(exc)) from None
    except ValidationFailed as exc:
        typer.echo(exc.report.text(), err=True)
        raise _fail(
            "the data does not conform to the shapes; nothing was written", EXIT_INVALID
        ) from None
    if result.skipped:
        typer.echo(f"{out}: up to date ({result.quads} quads); use --force to rebuild")
        return
    typer.echo(f"validated and wrote {result.quads} quads to {out}:")
    for path in result.files:
        typer.echo(f"  {path}")


@app.command()
def validate(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="RDF files to validate (Turtle, TriG, N-Triples, N-Quads, JSON-LD, RDF/XML). "
            "Default: the project's sources."
        ),
    ] = None,
    with_sources: Annotated[
        bool,
        typer.Option("--with-sources", help="Validate FILES together with the project's sources."),
    ] = False,
    exhaustive: Annotated[
        bool,
        typer.Option(
            "--exhaustive",
            help="Have pyshacl check every focus node, instead of only those that SPARQL finds "
            "could fail (same report, much slower on large data).",
        ),
    ] = False,
) -> None:
    """Validate data against the SHACL shapes and print a readable report.

    The ontology is always included (it gives the class hierarchy). Exit 0 when the data conforms,
    1 on a violation, 2 when a file does not parse.
    """
    try:
        if not files:
            report = validate_dataset(load_sources(), exhaustive=exhaustive)
        else:
            ds = load_sources() if with_sources else load_files(sorted(ONTOLOGY_DIR.glob("*.ttl")))
            if exhaustive:
                for path in files:
                    parse_into(ds, path)
                report = validate_dataset(ds, exhaustive=True)
            else:  # straight into Oxigraph: a million triples in seconds, not rdflib's minutes
                report = validate_store(load_store(files, base=ds))
    except RDFParseError as exc:
        raise _fail(str(exc)) from None
    typer.echo(report.text(), nl=False)
    raise typer.Exit(EXIT_OK if report.conforms else EXIT_INVALID)


@app.command()
def query(
    sparql: Annotated[
        str,
        typer.Argument(help="The SPARQL query, or @FILE to read it from a file, or - for stdin."),
    ],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="table, csv or json (graphs print as Turtle).")
    ] = "table",
    dataset: Annotated[
        Path, typer.Option("--dataset", help="Build directory to query.")
    ] = DEFAULT_DIST,
) -> None:
    """Run a SPARQL query over the built graph (built first if it is missing or stale)."""
    if fmt not in ("table", "csv", "json"):
        raise _fail(f"unknown format {fmt!r}: use table, csv or json")
    text = _read_query(sparql)
    _ensure_built(dataset)
    try:
        result = run_query(load_build(dataset), text)
        typer.echo(format_result(result, fmt), nl=False)  # type: ignore[arg-type]
    except (QuerySyntaxError, RDFParseError, DatasetNotBuilt) as exc:
        raise _fail(str(exc)) from None


@app.command("check-evidence")
def check_evidence_command(
    texts: Annotated[
        Path, typer.Argument(help="Directory of article texts named <dct:identifier>.txt.")
    ],
    lists: Annotated[
        Path | None,
        typer.Option(
            help="Directory holding the imported list files (found by their SHA-256, at any "
            "depth): checks each listing's excerpts too."
        ),
    ] = None,
) -> None:
    """Check that every dk:evidence excerpt appears verbatim in its source (exit 1 if not).

    An article's text is TEXTS/<dct:identifier>.txt. A listing's excerpts are checked against the
    list files under --lists, found by the dk:sha256 of the versions it is derived from. What
    cannot be checked here (no --lists, pages kept only as excerpts) is counted, not failed.
    """
    if not texts.is_dir():
        raise _fail(f"{texts} is not a directory")
    if lists is not None and not lists.is_dir():
        raise _fail(f"{lists} is not a directory")
    result = check_all(load_sources(), texts, lists)
    for p in result.problems:
        typer.echo(f"{p.fact}: {p.reason}: {p.excerpt!r}")
    for why, count in sorted(result.unchecked.items()):
        typer.echo(f"not checked here: {count} excerpt(s) of {why}")
    typer.echo(f"{result.checked} excerpt(s) found verbatim; {len(result.problems)} problem(s)")
    raise typer.Exit(EXIT_INVALID if result.problems else EXIT_OK)


export_app = typer.Typer(
    name="export", help="Export the graph for other systems.", no_args_is_help=True
)
app.add_typer(export_app, name="export")


@export_app.command("nanopubs")
def export_nanopubs_command(
    out: Annotated[Path, typer.Option("--out", help="Directory for the .trig files.")],
    dataset: Annotated[
        Path, typer.Option(help="Build or release directory to read (default dist).")
    ] = DEFAULT_DIST,
    date: Annotated[
        str | None,
        typer.Option(help="Release date written in each publication info (default today)."),
    ] = None,
) -> None:
    """Write one nanopublication (assertion, provenance, publication info) per fact, as TriG,
    ready for the `nanopub` package to sign with your own key. DiploKG never publishes them."""
    import datetime as dt

    from graph.release.cite import export_nanopubs
    from graph.release.tables import load_store

    _ensure_built(dataset)
    try:
        day = dt.date.fromisoformat(date) if date else dt.date.today()
    except ValueError:
        raise _fail(f"--date {date!r} is not a date (YYYY-MM-DD)") from None
    manifest = read_manifest(dataset) or {}
    version = str(manifest.get("version", "unknown"))
    count = export_nanopubs(load_store(dataset / f"{DUMP_STEM}.nq"), out, version, day.isoformat())
    typer.echo(f"wrote {count} nanopublication(s) to {out}")


@app.command()
def release(
    version: Annotated[str, typer.Argument(help="The version to release (graph/__init__.py's).")],
    out: Annotated[Path, typer.Option("--out", help="The release directory to write.")],
    previous: Annotated[
        Path | None,
        typer.Option(help="The previous release's directory: what changed is written too."),
    ] = None,
    date: Annotated[
        str | None, typer.Option(help="The declared release date (default today).")
    ] = None,
) -> None:
    """Write a complete, self-describing release: dumps, VoID, tables, panel, codebook, data
    package, CITATION.cff, .zenodo.json, schema.org Dataset, RO-Crate and Croissant, and the
    changes since --previous. Serve it with `diplokg serve --dataset DIR` (docs/researchers.md)."""
    import datetime as dt

    from graph.release.release import ReleaseError, make_release

    try:
        day = dt.date.fromisoformat(date) if date else dt.date.today()
    except ValueError:
        raise _fail(f"--date {date!r} is not a date (YYYY-MM-DD)") from None
    try:
        result = make_release(version, out, release_date=day, previous=previous)
    except ReleaseError as exc:
        raise _fail(str(exc)) from None
    except ValidationFailed as exc:
        typer.echo(exc.report.text(), err=True)
        raise _fail("the sources do not conform to the shapes", EXIT_INVALID) from None
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    typer.echo(f"release {version} ({day}) in {out}: {len(result.files)} files ({steps})")


@export_app.command("wikidata")
def export_wikidata_command(
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default: standard output).")
    ] = None,
    retrieved: Annotated[
        str | None,
        typer.Option(help="The references' 'retrieved' date, YYYY-MM-DD (default: today, UTC)."),
    ] = None,
    plain: Annotated[
        bool, typer.Option("--plain", help="Commands only: no '#' notes, no report section.")
    ] = False,
    include_review: Annotated[
        bool,
        typer.Option("--include-review", help="Write the statements that need review as commands."),
    ] = False,
    dataset: Annotated[
        Path, typer.Option("--dataset", help="Build directory to export.")
    ] = DEFAULT_DIST,
) -> None:
    """Write the facts Wikidata can hold as QuickStatements (V1): terrorist designations (P3461)
    and, disabled until reviewed, recognitions as diplomatic relations (P530).

    Facts whose entities have no Wikidata item are reported on standard error, never dropped
    silently. See docs/wikidata-export.md.
    """
    try:
        day = date.fromisoformat(retrieved) if retrieved else datetime.now(UTC).date()
    except ValueError:
        raise _fail(f"--retrieved {retrieved!r} is not a date (YYYY-MM-DD)") from None
    _ensure_built(dataset)
    try:
        result = export_wikidata(load_build(dataset), day)
    except (RDFParseError, DatasetNotBuilt) as exc:
        raise _fail(str(exc)) from None
    text = result.text(comments=not plain, include_review=include_review)
    if out is None:
        typer.echo(text, nl=False)
    else:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise _fail(f"cannot write {out}: {exc.strerror}") from None
    typer.echo(result.report(), err=True, nl=False)


@app.command()
def link(
    endpoint: Annotated[str, typer.Option(help="Wikidata SPARQL endpoint.")] = DEFAULT_ENDPOINT,
    threshold: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Accept without asking at or above this score.")
    ] = DEFAULT_THRESHOLD,
    yes: Annotated[
        bool,
        typer.Option("--yes", "-y", help="Ask nothing: write the links above the threshold only."),
    ] = False,
    write: Annotated[
        Path | None,
        typer.Option(
            help="TriG file for the accepted links: created, or appended to if it exists."
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(min=1.0, help="Seconds to wait for each answer.")] = (
        DEFAULT_TIMEOUT
    ),
) -> None:
    """Propose Wikidata items for the entities without owl:sameAs, by label, alias and type.

    Links scoring at or above the threshold are accepted; on a terminal you are asked about the
    others (unless --yes). Nothing is written without --write. Writing into an existing file
    (such as graph/sources/entities.trig) asks first, or needs --yes. See docs/linking.md.
    """
    interactive = sys.stdin.isatty() and not yes
    client = SparqlClient(endpoint, timeout=timeout)
    try:
        proposals, skipped = link_entities(
            load_sources(), client, threshold=threshold, confirm=_ask if interactive else None
        )
    except EndpointError as exc:
        raise _fail(str(exc)) from None
    except RDFParseError as exc:
        raise _fail(str(exc)) from None
    typer.echo(link_report(proposals, skipped, endpoint), nl=False)
    links = accepted(proposals)
    if write is None:
        if links:
            typer.echo(f"{len(links)} link(s) accepted; use --write FILE to save them.")
        return
    if not links:
        typer.echo(f"no link accepted; {write} not written.")
        return
    if write.exists() and not yes:
        if not interactive:
            raise _fail(f"{write} exists: use --yes to append the links to it", EXIT_INVALID)
        if not typer.confirm(f"Append {len(links)} owl:sameAs link(s) to {write}?"):
            raise typer.Exit(EXIT_INVALID)
    try:
        write_links(write, links, endpoint)
    except LinkError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"wrote {len(links)} link(s) to {write}")


@app.command("import")
def import_command(
    source: Annotated[
        str,
        typer.Argument(
            help="The list: " + "; ".join(f"{k}: {v}" for k, v in DESCRIPTIONS.items()),
            show_default=False,
        ),
    ],
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="List files, a directory of dated versions, a git repository of a list's "
            "history, or http(s) URLs (downloaded first).",
            show_default=False,
        ),
    ] = None,
    retrieved: Annotated[
        str | None,
        typer.Option(
            help="When the files were retrieved (YYYY-MM-DD); default: each version's date, "
            "or today for URLs."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Parse, reconcile, validate and diff; write nothing.")
    ] = False,
    diff_out: Annotated[
        Path | None,
        typer.Option("--diff", help="Also save the diff (listings added, ended, changed) here."),
    ] = None,
    sources: Annotated[
        Path, typer.Option(help="The directory of source TriG files to import into.")
    ] = SOURCES_DIR,
    endpoint: Annotated[
        str | None,
        typer.Option(
            help="wikidata only: run the P3461 query on this SPARQL endpoint first, save the "
            "results in --save-dir (wikidata-p3461-DATE.json) and import that file too."
        ),
    ] = None,
    save_dir: Annotated[
        Path, typer.Option(help="Where --endpoint saves the query results.")
    ] = Path("."),
    copied_from: Annotated[
        str | None,
        typer.Option(
            "--copied-from",
            help="Where a copy that is not the publisher's own came from (repository@commit:path),"
            " recorded as dk:copiedFrom (canada).",
        ),
    ] = None,
) -> None:
    """Import a designation list into graph/sources/list-SOURCE.trig, one named graph per version.

    Entries are matched to the graph's organizations (docs/sources.md, "Reconciliation"); the
    whole graph must still conform to the shapes, or nothing is written (exit 1). A file of the
    wrong kind or a malformed one exits 2 with its location. Importing the same version again
    leaves the file byte for byte as it was. The diff against the previous import is printed.
    """
    try:
        when = date.fromisoformat(retrieved) if retrieved else None
    except ValueError:
        raise _fail(f"--retrieved must be a date YYYY-MM-DD, not {retrieved!r}") from None
    files: list[str] = list(paths or [])
    if endpoint is not None:
        if source != "wikidata":
            raise _fail("--endpoint is for the wikidata source only")
        try:
            saved = save_statements(SparqlClient(endpoint), save_dir, today=date.today())
        except (EndpointError, OSError) as exc:
            raise _fail(f"cannot fetch the P3461 statements: {exc}") from None
        typer.echo(f"saved the query results to {saved}", err=True)
        files.append(str(saved))
    if not files:
        raise _fail("give the list files to import (or --endpoint for wikidata)")
    try:
        report = run_import(
            source, files, retrieved=when, dry_run=dry_run, copy=copied_from, sources_dir=sources
        )
    except (ListFileError, RDFParseError) as exc:
        raise _fail(str(exc)) from None
    except ValidationFailed as exc:
        typer.echo(exc.report.text(), err=True)
        raise _fail(
            "the import would break the shapes; nothing was written", EXIT_INVALID
        ) from None
    text = report.diff_text()
    typer.echo(text, nl=False)
    if diff_out is not None:
        diff_out.write_text(text, encoding="utf-8")
    for why in report.skipped:
        typer.echo(f"skipped: {why}", err=True)
    how = ", ".join(f"{n} {k}" for k, n in sorted(report.merged.items()))
    state = "dry run, not written" if dry_run else "written" if report.written else "unchanged"
    typer.echo(
        f"{report.listings} listing(s) from {report.versions} version(s); organizations: {how}; "
        f"{report.path}: {state}"
    )


@app.command("update-lists")
def update_lists(
    config: Annotated[
        Path, typer.Option(help="What each list is made from (URLs and paths).")
    ] = REFRESH_CONFIG,
    archive: Annotated[
        Path, typer.Option(help="Where downloads are kept, under dated names.")
    ] = PROJECT_ROOT / "lists-archive",
    review: Annotated[
        Path, typer.Option(help="Where each source's diff is saved for review.")
    ] = DEFAULT_DIST / "update-lists",
    apply: Annotated[
        bool, typer.Option("--apply", help="Write graph/sources/list-*.trig (after review).")
    ] = False,
    only: Annotated[
        list[str] | None, typer.Option(help="Refresh only these sources (repeatable).")
    ] = None,
    sources: Annotated[
        Path, typer.Option(help="The directory of source TriG files to update.")
    ] = SOURCES_DIR,
) -> None:
    """Download every list again, import it, and print and save what changed.

    Without --apply nothing in graph/sources changes: read the diffs (REVIEW/<source>.diff.md),
    then run again with --apply and review `git diff` before committing. Needs network access
    to the publishers; see graph/imports/lists.toml and docs/sources.md.
    """
    try:
        configs = [c for c in read_config(config) if not only or c.name in only]
        done = refresh(configs, archive=archive, review=review, apply=apply, sources_dir=sources)
    except (ListFileError, RDFParseError) as exc:
        raise _fail(str(exc)) from None
    except ValidationFailed as exc:
        typer.echo(exc.report.text(), err=True)
        raise _fail("an import would break the shapes; nothing was written", EXIT_INVALID) from None
    for report in done.reports:
        typer.echo(report.diff_text())
        state = "written" if report.written else "not written" if not apply else "unchanged"
        typer.echo(f"{report.source}: {len(report.changes)} change(s); {report.path}: {state}")
    for note in done.notes:
        typer.echo(note, err=True)
    typer.echo(f"diffs saved in {review}")


@app.command()
def reconcile(
    decide: Annotated[
        list[str] | None,
        typer.Option(
            help="Record a decision: LIST:ENTRY_ID=same:ORG_IRI or LIST:ENTRY_ID=different:ORG_IRI "
            "(repeatable). Import the list again to apply it."
        ),
    ] = None,
    by: Annotated[
        str | None, typer.Option(help="Who decides (recorded with the decision).")
    ] = None,
    note: Annotated[str, typer.Option(help="Why (recorded with the decision).")] = "",
) -> None:
    """List pairs of organizations that may be one, with their evidence, or record a decision.

    Nothing is merged automatically beyond confirmed Wikidata IDs and exact names without
    conflicting evidence; the rest is listed here for a person to decide. Decisions are kept in
    graph/sources/reconciliation.tsv. Exit 1 when undecided pairs remain.
    """
    decisions_path = SOURCES_DIR / DECISIONS_FILE
    if decide:
        if not by:
            raise _fail("--decide needs --by NAME: who decides")
        for item in decide:
            try:
                decision = parse_decision(item, by, note)
            except ValueError as exc:
                raise _fail(str(exc)) from None
            append_decision(decisions_path, decision)
            typer.echo(
                f"recorded: {decision.list}:{decision.entry_id} {decision.decision} "
                f"{decision.organization}"
            )
        return
    try:
        pairs = list(doubtful_pairs(index_dataset(load_sources()), read_decisions(decisions_path)))
    except (ListFileError, RDFParseError) as exc:
        raise _fail(str(exc)) from None
    for pair in pairs:
        typer.echo(f"\n{pair.reason}")
        for org in (pair.left, pair.right):
            entries = ", ".join(f"{lst}:{entry}" for lst, entry in sorted(org.entries)) or "-"
            typer.echo(
                f"  <{org.iri}>\n    names: {' | '.join(sorted(org.names))}\n    entries: {entries}"
            )
    typer.echo(f"{len(pairs)} doubtful pair(s)")
    raise typer.Exit(EXIT_INVALID if pairs else EXIT_OK)


def _ask(proposal: Proposal) -> Candidate | None:
    """Ask which candidate (if any) is the entity, on the terminal."""
    entity = proposal.entity
    typer.echo(f"\n{entity.label} <{entity.iri}>: {proposal.reason}")
    for number, c in enumerate(proposal.candidates, start=1):
        desc = f" - {c.description}" if c.description else ""
        typer.echo(f"  [{number}] {c.qid} {c.label}{desc}\n      {c.why()}")
    answer = typer.prompt("Number of the matching item, or n for none", default="n")
    if answer.strip().isdigit() and 1 <= int(answer) <= len(proposal.candidates):
        return proposal.candidates[int(answer) - 1]
    return None


def _ensure_built(dataset: Path) -> None:
    """Build `dataset` when it is missing, or when it is a build of the sources that is stale;
    exit 1 if the sources break the shapes, 2 if a source does not parse. A directory holding a
    dataset that is not a build of these sources (a release, a generated world, a dump copied
    there) is served as it is, never overwritten."""
    if not wants_build(dataset):
        typer.echo(f"serving {dataset} as it is (not a build of the current sources)", err=True)
        return
    try:
        if not is_current(dataset):
            typer.echo(f"building {dataset} (missing or stale)...", err=True)
            build_dataset(dataset)
    except ValidationFailed as exc:
        typer.echo(exc.report.text(), err=True)
        raise _fail(
            "the sources do not conform to the shapes; fix them first", EXIT_INVALID
        ) from None
    except RDFParseError as exc:
        raise _fail(str(exc)) from None


def wants_build(dataset: Path) -> bool:
    """True for a directory the build owns: missing or empty, or holding a build manifest of
    these sources that is not a release's (graph.release marks its manifest)."""
    if not dataset.exists() or not any(dataset.iterdir()):
        return True
    manifest = read_manifest(dataset)
    if manifest is None:
        return not (dataset / f"{DUMP_STEM}.nq").is_file()
    return "input_digest" in manifest and "release" not in manifest


def _read_query(arg: str) -> str:
    if arg == "-":
        return sys.stdin.read()
    if arg.startswith("@"):
        path = Path(arg[1:])
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise _fail(f"cannot read {path}: {exc.strerror}") from None
    return arg


changes_app = typer.Typer(
    name="changes",
    help="The accepted writes of a server started with --write-tokens (docs/writes.md).",
    no_args_is_help=True,
)
app.add_typer(changes_app, name="changes")


@changes_app.command("export")
def export_changes_command(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the export to.")],
    store: Annotated[
        str | None,
        typer.Option(help="The server's store, oxigraph:DIR, to find its change log."),
    ] = None,
    change_log: Annotated[
        Path | None, typer.Option(help="The change log file itself (instead of --store).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Export only the commits after this commit id.")
    ] = None,
) -> None:
    """Write accepted changes as reviewable sources: changes.trig (the quads added, in their
    graphs, with each commit's PROV record), removed.rdfp and REVIEW.md (what to merge into
    graph/sources/ so that git stays the source of truth)."""
    from graph.writes.export import ExportError, export_changes

    if change_log is None:
        if store is None:
            raise _fail("give --store oxigraph:DIR or --change-log FILE")
        kind, options = parse_store_spec(store)
        if kind != "oxigraph" or "path" not in options:
            raise _fail(f"{store}: give --change-log FILE for a store other than oxigraph:DIR")
        from graph.stores.oxigraph import CHANGE_LOG

        change_log = Path(options["path"]) / CHANGE_LOG
    try:
        summary = export_changes(change_log, out, SOURCES_DIR, since)
    except ExportError as exc:
        raise _fail(str(exc)) from None
    typer.echo(
        f"{len(summary.commits)} commit(s) ({summary.commits[0].id} to {summary.commits[-1].id}): "
        f"{summary.added} quad(s) added, {summary.removed} removed"
    )
    for path in summary.files:
        typer.echo(f"  {path}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port (default 8000).")] = None,
    dataset: Annotated[
        Path | None, typer.Option(help="Build directory to serve (default dist).")
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(
            help="oxigraph (default: Oxigraph in memory), oxigraph:DIR (persistent Oxigraph in "
            "DIR), memory (rdflib in memory; also named rdflib) or sparql:QUERY_URL[,UPDATE_URL] "
            "(a remote SPARQL 1.1 store)."
        ),
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Query worker processes (default 2).")] = None,
    query_timeout: Annotated[
        float | None, typer.Option(help="Seconds per query (default 30).")
    ] = None,
    max_rows: Annotated[int | None, typer.Option(help="Rows/triples returned at most.")] = None,
    max_body_bytes: Annotated[int | None, typer.Option(help="Largest request body.")] = None,
    allowed_service: Annotated[
        list[str] | None, typer.Option(help="A SERVICE endpoint queries may call (repeatable).")
    ] = None,
    result_cache_entries: Annotated[
        int | None, typer.Option(help="Cached results (0: off).")
    ] = None,
    log_level: Annotated[
        str | None, typer.Option(help="debug, info, warning (default info).")
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            help="Public URL serving https://w3id.org/diplokg/ (default http://HOST:PORT/)."
        ),
    ] = None,
    write_tokens: Annotated[
        Path | None,
        typer.Option(
            help="Enable writes (/update, /store, reverts) for the name:token lines of this file. "
            "Needs --store oxigraph:DIR or sparql:QUERY_URL,UPDATE_URL (docs/writes.md)."
        ),
    ] = None,
    change_log: Annotated[
        Path | None,
        typer.Option(help="Change log file (default DIR/diplokg-changes.rdfp for oxigraph:DIR)."),
    ] = None,
    update_allowed_url: Annotated[
        list[str] | None,
        typer.Option(help="A URL updates may LOAD or call with SERVICE (repeatable; none)."),
    ] = None,
    release: Annotated[
        list[Path] | None,
        typer.Option(
            help="An earlier release's directory, served under /release/VERSION/ (repeatable; "
            "resource pages then answer Accept-Datetime, Memento)."
        ),
    ] = None,
) -> None:
    """Serve the graph as a SPARQL 1.1 endpoint at /sparql (built first if stale).

    Read-only unless --write-tokens is given. Every option can also be set as an environment
    variable DIPLOKG_<OPTION> (see docs/endpoint.md and docs/writes.md).
    """
    from api.app import serve as run_server
    from api.releases import NotARelease, read_release
    from api.settings import Settings

    try:
        settings = Settings.from_env(
            host=host,
            port=port,
            dataset=dataset,
            store=store,
            workers=workers,
            query_timeout=query_timeout,
            max_rows=max_rows,
            max_body_bytes=max_body_bytes,
            allowed_services=tuple(allowed_service) if allowed_service else None,
            result_cache_entries=result_cache_entries,
            log_level=log_level,
            base_url=base_url,
            write_tokens=str(write_tokens) if write_tokens else None,
            change_log=str(change_log) if change_log else None,
            update_allowed_urls=tuple(update_allowed_url) if update_allowed_url else None,
            releases=tuple(str(p) for p in release) if release else None,
        )
        for directory in settings.releases:
            read_release(Path(directory))
    except NotARelease as exc:
        raise _fail(str(exc)) from None
    except ValueError as exc:
        raise _fail(str(exc)) from None
    _ensure_built(settings.dataset)
    try:
        if settings.writable:
            prepare_writes(settings)
        else:
            prepare_store(settings.store, settings.dataset)
    except (DiploKGError, ValueError) as exc:
        raise _fail(f"store {settings.store}: {exc}") from None
    run_server(settings)


def prepare_writes(settings: Any) -> None:
    """Check the token file, then open the writable store once and bring it up to its change
    log, so that a log that no longer fits the build stops the server here, with its report."""
    import gc

    from api.writer import WriterConfig, open_repository
    from api.writes import load_tokens

    load_tokens(Path(settings.write_tokens))
    config = WriterConfig(
        settings.store,
        settings.dataset,
        settings.change_log_path(),
        settings.update_allowed_urls,
        settings.max_update_changes,
    )
    typer.echo(f"opening {settings.store} for writes (change log {config.log})...", err=True)
    repository, info = open_repository(config)
    if info.replayed:
        typer.echo(
            f"change log: {info.replayed} commit(s) applied "
            f"({info.already_present} change(s) already in the build)",
            err=True,
        )
    repository.changes.release()
    del repository
    gc.collect()  # the writer process opens the store next: release it


def prepare_store(spec: str, dataset: Path) -> None:
    """Check the store spec and load the dataset into a persistent or remote store once, here,
    so that the query workers find it loaded instead of racing to load it."""
    kind, options = parse_store_spec(spec)
    if kind == "memory" or (kind == "oxigraph" and "path" not in options):
        return  # each worker holds its own in-memory copy
    typer.echo(
        f"loading {dataset} into the {kind} store (skipped when already loaded)...", err=True
    )
    with open_store_spec(spec, dataset):
        pass


def main() -> None:
    """Console-script entry point."""
    app()
