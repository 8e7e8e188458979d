"""What every HTML page of the server shares: the app's Site state, the Jinja environment, the layout."""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import jinja2
from fastapi import Request
from rdflib import Graph
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from api.settings import Settings
from graph import __version__
from graph.curie import short
from graph.namespaces import BASE

if TYPE_CHECKING:
    from api.linkeddata.describe import Catalogue, Quad

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

__all__ = ["STATIC_DIR", "TEMPLATES_DIR", "Site", "page", "short", "site", "static_files"]


@lru_cache(maxsize=1)
def templates() -> jinja2.Environment:
    """The Jinja2 environment of every HTML page (autoescape on for every template)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals["version"] = __version__
    env.filters["short"] = short
    return env


#: Memo entries a commit does not change (the dataset's schema.org description: its release).
KEPT_BY_COMMITS = frozenset({"cite.dataset.jsonld"})


class Site:
    """What every page needs from the running app: settings and the lookups kept between requests.

    What is computed from the data stays true until a commit (api.writes) changes the data:
    then `forget_data` drops it.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.prefix = urlsplit(settings.public_base).path.rstrip("/")
        self.catalogue: Catalogue | None = None
        self.ontology: Graph | None = None
        self.ontology_html: bytes | None = None
        self.shapes: Graph | None = None
        self.serialized: dict[tuple[str, str], bytes] = {}
        self.file_tags: dict[tuple[str, int, int], str] = {}
        self.descriptions: OrderedDict[str, list[Quad]] = OrderedDict()
        #: Other lookups computed once from the data (the timeline's filter choices...).
        self.memo: dict[str, Any] = {}
        from api.releases import current_release

        served = current_release(settings.dataset)
        #: What every page says it shows: a release and its date, or the sources' version.
        self.release_label = (
            f"release {served.version} of {served.date.isoformat()}"
            if served.released
            else f"version {served.version}"
        )
        #: On an earlier release's pages: where the current page of the same path lives.
        self.original_base = settings.original_base

    def forget_data(self) -> None:
        """Drop everything computed from the data (a commit changed it); the ontology and the
        shapes come from the build and stay."""
        self.catalogue = None
        self.serialized.clear()
        self.descriptions.clear()
        kept = {k: v for k, v in self.memo.items() if k in KEPT_BY_COMMITS}
        self.memo.clear()
        self.memo.update(kept)

    def href(self, iri: object) -> str | None:
        """The local link of a DiploKG IRI (the public base mapped to this server), else None."""
        text = str(iri)
        if not text.startswith(BASE):
            return None
        return self.prefix + "/" + text[len(BASE) :]

    def link(self, iri: object) -> str:
        """A link for any IRI: local for DiploKG's own, the IRI itself for others."""
        return self.href(iri) or str(iri)


def site(request: Request) -> Site:
    """The app's Site, created on first use (never at import time)."""
    state = request.app.state
    found: Site | None = getattr(state, "site", None)
    if found is None:
        found = Site(state.settings)
        state.site = found
    return found


def page(
    request: Request,
    template: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **ctx: Any,
) -> HTMLResponse:
    """Render an HTML page with the shared context (navigation, local links)."""
    s = site(request)
    html = (
        templates()
        .get_template(template)
        .render(
            href=s.link,
            local=s.href,
            prefix=s.prefix,
            path=request.url.path,
            release_label=s.release_label,
            memento_of=_current_page(s, request),
            **ctx,
        )
    )
    return HTMLResponse(html, status_code=status, headers=headers)


def _current_page(s: Site, request: Request) -> str:
    """On an earlier release's page, the URL of the current page at the same path; else ""."""
    if not s.original_base:
        return ""
    path = request.url.path[len(s.prefix) :].lstrip("/")
    return s.original_base + path


def static_files() -> StaticFiles:
    """The stylesheet and scripts under api/static (vendor/ holds the YASGUI build, gitignored)."""
    return StaticFiles(directory=STATIC_DIR)
