"""Earlier releases, served beside the current data: one path per release, and Memento (RFC 7089).

`diplokg serve --release DIR` (repeatable; DIPLOKG_RELEASES) serves each earlier release
directory (graph.release) under `/release/VERSION/`: its own SPARQL endpoint
(`/release/VERSION/sparql`), Linked Data pages and downloads, each release an app of its own
with one query worker. A query "as of" a release is sent to its endpoint.

The current resource pages are Memento TimeGates: a request with `Accept-Datetime` is
redirected (302) to the page of the latest release published at or before that time (or the
current page, when that is the latest). Every page of an earlier release is a Memento: it says
`Memento-Datetime` (the release date) and links its original, its TimeGate and the TimeMap
(`/timemap/resource/SLUG`, application/link-format), which lists every release's page.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from dataclasses import dataclass
from pathlib import Path

from graph import __version__
from graph.describe import releases as changelog_releases
from graph.dumps import read_manifest


class NotARelease(ValueError):
    """A --release directory that is not a release (graph.release writes one)."""


@dataclass(frozen=True)
class Release:
    """One dataset the server answers for: its version, its release date, where it is served."""

    version: str
    date: dt.date
    #: The path it is served under ("" for the current data).
    prefix: str
    directory: Path | None = None
    #: True for a release's directory (graph.release marks its manifest), False for a build.
    released: bool = True


def read_release(directory: Path) -> Release:
    """The release in `directory`; NotARelease if its manifest is not a release's."""
    manifest = read_manifest(directory) or {}
    release = manifest.get("release")
    if not isinstance(release, dict) or "version" not in release or "date" not in release:
        raise NotARelease(
            f"{directory} is not a release (make one with `diplokg release VERSION --out DIR`)"
        )
    version = str(release["version"])
    return Release(
        version, dt.date.fromisoformat(str(release["date"])), f"/release/{version}", directory
    )


def current_release(dataset: Path) -> Release:
    """The data served at the root: a release's version and date, or the sources' version,
    dated as CHANGELOG.md dates it."""
    try:
        found = read_release(dataset)
    except NotARelease:
        version = str((read_manifest(dataset) or {}).get("version", __version__))
        day = changelog_releases().get(version, dt.date.today())
        return Release(version, day, "", released=False)
    return Release(found.version, found.date, "")


def http_date(day: dt.date) -> str:
    """A date as an HTTP date (RFC 7231), at midnight UTC."""
    moment = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return email.utils.format_datetime(moment, usegmt=True)


def parse_http_date(text: str) -> dt.datetime | None:
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def memento_for(candidates: list[Release], when: dt.datetime) -> Release:
    """The latest release published at or before `when`; the earliest if all are later."""
    ordered = sorted(candidates, key=lambda r: (r.date, r.prefix == ""))
    chosen = ordered[0]
    for release in ordered:
        if http_moment(release.date) <= when:
            chosen = release
    return chosen


def http_moment(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def timemap(
    original: str, timegate: str, timemap_url: str, mementos: list[tuple[str, dt.date]]
) -> str:
    """An application/link-format TimeMap (RFC 7089 §5)."""
    links = [
        f'<{original}>; rel="original"',
        f'<{timegate}>; rel="timegate"',
        f'<{timemap_url}>; rel="self"; type="application/link-format"',
    ]
    ordered = sorted(mementos, key=lambda m: m[1])
    for i, (url, day) in enumerate(ordered):
        rel = "memento"
        if i == 0:
            rel = "first memento"
        if i == len(ordered) - 1:
            rel = "last memento" if i else "first last memento"
        links.append(f'<{url}>; rel="{rel}"; datetime="{http_date(day)}"')
    return ",\n".join(links) + "\n"
