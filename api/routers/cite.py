"""Cite this fact, and the dataset's schema.org description in the pages (issue 13).

Routes: `/cite/{slug}.bib` (BibTeX), `/cite/{slug}.json` (CSL-JSON,
https://citeproc-js.readthedocs.io/en/latest/csl-json/markup.html), `/cite/{slug}.ris` (RIS) and
`/cite/{slug}.trig` (the fact as an unsigned nanopublication in TriG,
https://nanopub.net/guidelines/working_draft/, to sign with the `nanopub` package; DiploKG never
publishes it), for every fact (an instance of a subclass of dk:Fact); 404 as problem+json for
anything else. They read the fact's triples, its sources' titles, URLs and dates and its
classes' hierarchy through the query service (one CONSTRUCT), load them into a small Oxigraph
store and hand it to graph.release.cite.

The "Cite this fact" section of an entity page (`cite_section`, passed to entity.html by
api.routers.resources) reads the same CONSTRUCT, so the page's BibTeX is the downloadable one;
an entity whose classes are no fact's costs no query. One template global, registered on the
shared Jinja environment when this module is imported (which api.app does):
`dataset_jsonld()`, the schema.org Dataset (https://schema.org/Dataset) of the served dataset as
`<script type="application/ld+json">` (home.html, void.html): a release's own `dataset.jsonld`,
else built from a small enough build by graph.release.metadata, once, at start-up
(`prepare_dataset_jsonld`), and kept in `Site.memo`.

Version and dates: a release's manifest (`manifest.json`, key "release": version, date, doi when
one is minted) else the build's version (graph.__version__ when the manifest has none), no DOI;
the access date is today.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import pyoxigraph as ox
from fastapi import APIRouter, Request
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.linkeddata import describe as data
from api.linkeddata.site import Site, site, templates
from api.problems import Problem
from api.routers.resources import SLUG
from graph import __version__
from graph.dumps import read_manifest
from graph.loading import ontology_subclasses
from graph.namespaces import BASE, RES
from graph.release import cite
from graph.release import metadata as release_meta

log = logging.getLogger(__name__)

router = APIRouter(tags=["linked data"])

_RDFS_SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
_DK_FACT = BASE + "ontology#Fact"

#: Suffix -> (media type, what it is) of each representation of a fact's citation.
CITATION_FORMATS: dict[str, tuple[str, str]] = {
    "bib": ("application/x-bibtex", "BibTeX"),
    "json": ("application/vnd.citationstyles.csl+json", "CSL-JSON"),
    "ris": ("application/x-research-info-systems", "RIS"),
    "trig": ("application/trig", "Nanopublication (TriG, unsigned)"),
}
#: The source properties a citation reads (title, URL, date).
SOURCE_PROPERTIES = cite.TITLE_PROPERTIES + cite.URL_PROPERTIES + cite.DATE_PROPERTIES
#: The key of the embedded Dataset description in Site.memo.
JSONLD_MEMO = "cite.dataset.jsonld"
#: The largest build dump the server describes itself (releases carry their dataset.jsonld).
DESCRIBED_DUMP_BYTES = 50_000_000
RELEASE_MEMO = "cite.release"


@dataclass(frozen=True)
class ReleaseInfo:
    """What a citation says about the served dataset."""

    version: str
    release_date: str | None
    doi: str | None


def release_info(dataset: Path) -> ReleaseInfo:
    """The served release's version, date and DOI; a build's version, no date, no DOI."""
    manifest = _manifest(dataset)
    release = manifest.get("release")
    if isinstance(release, dict):
        doi = release.get("doi") or manifest.get("doi")
        return ReleaseInfo(
            str(release.get("version") or manifest.get("version") or __version__),
            str(release["date"]) if release.get("date") else None,
            str(doi) if doi else None,
        )
    return ReleaseInfo(str(manifest.get("version") or __version__), None, None)


def _manifest(dataset: Path) -> dict[str, Any]:
    return read_manifest(dataset) or {}


def _site_release(s: Site) -> ReleaseInfo:
    found = s.memo.get(RELEASE_MEMO)
    if not isinstance(found, ReleaseInfo):
        found = release_info(s.settings.dataset)
        s.memo[RELEASE_MEMO] = found
    return found


# --- the citation routes -------------------------------------------------------------------


def citation_query(fact_iri: str) -> str:
    """A CONSTRUCT of what a fact's citation needs: its own triples, its sources' titles, URLs
    and dates, and the subclass edges above its classes."""
    f = str(ox.NamedNode(fact_iri))  # ValueError unless an IRI: nothing else is injected
    props = ", ".join(f"<{p}>" for p in SOURCE_PROPERTIES)
    return f"""
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX prov: <http://www.w3.org/ns/prov#>
CONSTRUCT {{ {f} ?p ?o . ?s ?sp ?so . ?c rdfs:subClassOf ?d }} WHERE {{
  {{ GRAPH ?g {{ {f} ?p ?o }} }}
  UNION {{ GRAPH ?g1 {{ {f} prov:wasDerivedFrom ?s }} GRAPH ?g {{ ?s ?sp ?so }}
           FILTER(?sp IN ({props})) }}
  UNION {{ GRAPH ?g1 {{ {f} rdf:type ?t }}
           GRAPH ?g {{ ?t rdfs:subClassOf* ?c . ?c rdfs:subClassOf ?d }} }}
}}
"""


def store_of(ntriples: bytes) -> ox.Store:
    """A small in-memory store holding N-Triples."""
    store = ox.Store()
    if ntriples:
        store.load(ntriples, format=ox.RdfFormat.N_TRIPLES)
    return store


def render_citation(
    store: ox.Store, fact_iri: str, suffix: str, info: ReleaseInfo, today: dt.date
) -> bytes:
    """One representation of a fact's citation (CitationError when it is no fact)."""
    if suffix == "trig":
        day = info.release_date or today.isoformat()
        return cite.nanopublication(store, fact_iri, info.version, day).encode("utf-8")
    citation = cite.fact_citation(
        store, fact_iri, info.version, today, doi=info.doi, release_date=info.release_date
    )
    if suffix == "bib":
        return citation.bibtex().encode("utf-8")
    if suffix == "ris":
        return citation.ris().encode("utf-8")
    text = json.dumps([citation.csl_json()], ensure_ascii=False, indent=2) + "\n"
    return text.encode("utf-8")


@router.get(
    "/cite/{name}",
    summary="Cite a fact: {slug}.bib (BibTeX), .json (CSL-JSON), .ris (RIS), .trig (nanopub)",
)
async def cite_fact(request: Request, name: str) -> Response:
    slug, _, suffix = name.rpartition(".")
    if suffix not in CITATION_FORMATS or not SLUG.match(slug):
        return _not_found(
            request, f"there is no citation {name!r}: ask for SLUG.bib, .json, .ris or .trig"
        )
    iri = str(RES[slug])
    body = await data.run(request, citation_query(iri), "ntriples")
    info = _site_release(site(request))
    try:
        rendered = await run_in_threadpool(_render_from, body, iri, suffix, info, dt.date.today())
    except cite.CitationError:
        return _not_found(request, f"DiploKG has no fact named {slug!r}")
    media, _ = CITATION_FORMATS[suffix]
    charset = "" if suffix == "json" else "; charset=utf-8"
    headers = {"Content-Disposition": f'inline; filename="{slug}.{suffix}"'}
    return Response(rendered, media_type=media + charset, headers=headers)


def _render_from(body: bytes, iri: str, suffix: str, info: ReleaseInfo, today: dt.date) -> bytes:
    return render_citation(store_of(body), iri, suffix, info, today)


def _not_found(request: Request, detail: str) -> Response:
    return Problem(404, "not-found", "Not found", detail).response(request.url.path)


# --- the "Cite this fact" section of an entity page ---------------------------------------


@lru_cache(maxsize=1)
def ontology_hierarchy() -> tuple[tuple[str, str], ...]:
    """The ontology's (class, superclass) edges between IRIs."""
    return ontology_subclasses()


@lru_cache(maxsize=1)
def fact_classes() -> frozenset[str]:
    """dk:Fact and every class below it in the ontology."""
    found = {_DK_FACT}
    edges = ontology_hierarchy()
    grew = True
    while grew:
        more = {c for c, d in edges if d in found and c not in found}
        found |= more
        grew = bool(more)
    return frozenset(found)


@dataclass(frozen=True)
class CiteSection:
    """What entity.html shows in "Cite this fact"."""

    slug: str
    bibtex: str
    formats: tuple[tuple[str, str], ...]  # (suffix, what)


async def cite_section(request: Request, iri: str, kinds: Iterable[str]) -> CiteSection | None:
    """The "Cite this fact" section of `iri`'s page read like `/cite/{slug}.bib` (the sources'
    URLs and dates included), or None when it is no fact: `kinds`, the entity's classes as the
    page read them, decide that without a query."""
    if not iri.startswith(str(RES)) or not SLUG.match(iri[len(str(RES)) :]):
        return None
    if not set(kinds) & fact_classes():
        return None
    body = await data.run(request, citation_query(iri), "ntriples")
    info = _site_release(site(request))
    try:
        bib = await run_in_threadpool(_render_from, body, iri, "bib", info, dt.date.today())
    except cite.CitationError:
        return None
    return _section(iri, bib.decode("utf-8"))


def _section(iri: str, bibtex: str) -> CiteSection:
    formats = tuple((suffix, what) for suffix, (_, what) in CITATION_FORMATS.items())
    return CiteSection(iri[len(str(RES)) :], bibtex, formats)


def _owning_site(ctx: jinja2.runtime.Context) -> Site | None:
    """The Site of the page being rendered (api.linkeddata.site.page passes its bound methods)."""
    owner = getattr(ctx.get("local"), "__self__", None)
    return owner if isinstance(owner, Site) else None


# --- the schema.org Dataset embedded in pages ----------------------------------------------


def dataset_description(dataset: Path) -> dict[str, Any] | None:
    """The served dataset's schema.org Dataset: a release's `dataset.jsonld`, else built from
    the build's files and facts; None when the directory has no N-Quads dump."""
    manifest = _manifest(dataset)
    own = dataset / release_meta.DATASET_FILE
    if "release" in manifest and own.is_file():
        found = json.loads(own.read_text(encoding="utf-8"))
        return found if isinstance(found, dict) else None
    nquads = dataset / "diplokg.nq"
    if not nquads.is_file():
        return None
    if nquads.stat().st_size > DESCRIBED_DUMP_BYTES:
        # Describing a build reads its whole dump in the server process (1M quads: 15 s and
        # 460 MB at start-up); a release ships its own dataset.jsonld instead.
        log.info("no schema.org description embedded: %s is too large to describe here", nquads)
        return None
    built = dt.datetime.fromtimestamp(nquads.stat().st_mtime, tz=dt.UTC).date()
    version = str(manifest.get("version") or __version__)
    store = release_meta.load_store(nquads)
    meta = release_meta.release_metadata(dataset, version, built, store)
    return release_meta.dataset_jsonld(meta)


def script_element(doc: dict[str, Any]) -> Markup:
    """A JSON-LD document as an HTML `<script>` element (`<`, `>`, `&` escaped in the JSON)."""
    text = json.dumps(doc, ensure_ascii=False, sort_keys=False, separators=(",", ":"))
    for ch, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e")):
        text = text.replace(ch, escaped)
    return Markup(f'<script type="application/ld+json">{text}</script>')


@jinja2.pass_context
def dataset_jsonld(ctx: jinja2.runtime.Context) -> Markup:
    """The `<script type="application/ld+json">` of the served dataset (empty when unknown)."""
    s = _owning_site(ctx)
    found = s.memo.get(JSONLD_MEMO) if s is not None else None
    return found if isinstance(found, Markup) else Markup("")


def prepare_dataset_jsonld(s: Site) -> None:
    """Compute the embedded description once (api.app runs it in a thread at start-up: for a
    large build it reads the whole dump, which must never hold a page's request)."""
    try:
        doc = dataset_description(s.settings.dataset)
    except (OSError, ValueError, SyntaxError) as exc:
        log.warning("no schema.org description of the dataset: %s", exc)
        doc = None
    s.memo[JSONLD_MEMO] = script_element(doc) if doc else Markup("")


def install_template_globals(env: jinja2.Environment) -> None:
    """Make `dataset_jsonld` available to every template."""
    env.globals["dataset_jsonld"] = dataset_jsonld


install_template_globals(templates())
