"""The build's files for download (issue 5, "versioned dumps downloadable from the server"): /download/ and /download/[VERSION/]FILE.

Each file is served with its media type, an ETag derived from its content (304 on a match) and
`Content-Disposition: attachment` naming the version. Only the files listed in DOWNLOADS are
served, and only for the version being served. When the served directory is a release (its
manifest has "release"; layout: graph.release), its other files are served too: those whose
path relative to the directory matches RELEASE_FILES (citation and discovery metadata, the
tables, the panel, the codebook, what changed), regular files inside the directory only, never
through a symbolic link.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response

from api.linkeddata.representation import HTML, TURTLE, if_none_match, not_found
from api.linkeddata.site import Site, page, site
from graph import __version__
from graph.build import DUMP_FORMATS
from graph.describe import VOID_FILE
from graph.dumps import DUMP_STEM, MANIFEST
from graph.ontology_docs import ONTOLOGY_DOC
from graph.release.metadata import DATASET_FILE, file_description, media_type

router = APIRouter(tags=["linked data"])

#: File name -> (media type, description) of every file offered under /download/.
DOWNLOADS: dict[str, tuple[str, str]] = {
    f"{DUMP_STEM}.trig": ("application/trig", "TriG: every named graph"),
    f"{DUMP_STEM}.nq": ("application/n-quads", "N-Quads: every named graph, one quad a line"),
    f"{DUMP_STEM}.ttl": ("text/turtle", "Turtle: all graphs merged"),
    f"{DUMP_STEM}.jsonld": ("application/ld+json", "JSON-LD: all graphs merged"),
    VOID_FILE: ("text/turtle", "VoID/DCAT description of the dataset"),
    ONTOLOGY_DOC: ("text/html", "The ontology's documentation: a standalone HTML page"),
    MANIFEST: ("application/json", "Build manifest: version, SHA-256 of each dump, counts"),
}
assert all(f"{DUMP_STEM}.{suffix}" in DOWNLOADS for suffix in DUMP_FORMATS)

#: The other files of a release offered for download, as paths relative to its directory.
RELEASE_FILES = re.compile(
    r"(CITATION\.cff|\.zenodo\.json|dataset\.jsonld|ro-crate-metadata\.json|croissant\.json"
    r"|datapackage\.json|codebook\.(md|html)|CHANGES\.md"
    r"|tables/[A-Za-z0-9][A-Za-z0-9_.-]*\.csv|panel/dyad_year\.(csv|dta|parquet)"
    r"|changes/[A-Za-z0-9][A-Za-z0-9_.-]*)"
)
#: Where RELEASE_FILES may lie: the directory itself and these folders (listed in this order).
RELEASE_FOLDERS = ("", "tables", "panel", "changes")
#: What the metadata files of a release are (graph.release.metadata describes the others).
RELEASE_DESCRIPTIONS = {
    "CITATION.cff": "How to cite this release (Citation File Format 1.2.0)",
    ".zenodo.json": "Zenodo deposit metadata of this release",
    "dataset.jsonld": "schema.org Dataset description of this release (JSON-LD)",
    "ro-crate-metadata.json": "RO-Crate 1.1 metadata of this release",
    "croissant.json": "Croissant 1.0 metadata of this release",
}


def read_manifest(dataset: Path) -> dict[str, Any]:
    """The build's manifest, or {} when it has none."""
    try:
        data: dict[str, Any] = json.loads((dataset / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data


def file_tag(s: Site, path: Path) -> str:
    """The ETag of a file: a digest of its content, kept while its size and mtime stay the same."""
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    tag = s.file_tags.get(key)
    if tag is None:
        digest = hashlib.blake2b(digest_size=12)
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        tag = f'"{digest.hexdigest()}"'
        s.file_tags[key] = tag
    return tag


def is_release(manifest: dict[str, Any]) -> bool:
    """Whether the served directory is a release (graph.release.release marks its manifest)."""
    return isinstance(manifest.get("release"), dict)


def release_file(dataset: Path, name: str) -> Path | None:
    """The file a release offers as `name` (a RELEASE_FILES path), or None: a regular file
    inside `dataset`, reached through no symbolic link."""
    if not RELEASE_FILES.fullmatch(name):
        return None
    path = dataset
    for part in name.split("/"):
        path = path / part
        if path.is_symlink():
            return None
    root = dataset.resolve()
    resolved = path.resolve()
    if not resolved.is_relative_to(root) or not resolved.is_file():
        return None
    return path


def release_files(dataset: Path) -> list[str]:
    """Every file the release in `dataset` offers beside DOWNLOADS, folder by folder, sorted."""
    found: list[str] = []
    for folder in RELEASE_FOLDERS:
        where = dataset / folder if folder else dataset
        if not where.is_dir() or where.is_symlink():
            continue
        names = sorted(p.name for p in where.iterdir())
        rels = [f"{folder}/{n}" if folder else n for n in names]
        found += [rel for rel in rels if release_file(dataset, rel) is not None]
    return found


def release_checksums(dataset: Path) -> dict[str, str]:
    """The SHA-256 of each file a release's dataset.jsonld describes (name -> hex)."""
    try:
        doc = json.loads((dataset / DATASET_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found: dict[str, str] = {}
    for item in doc.get("distribution", []) if isinstance(doc, dict) else []:
        if isinstance(item, dict) and item.get("name") and item.get("sha256"):
            found[str(item["name"])] = str(item["sha256"])
    return found


def _release_rows(dataset: Path, manifest: dict[str, Any], version: str) -> list[dict[str, Any]]:
    if not is_release(manifest):
        return []
    sums = release_checksums(dataset)
    return [
        {
            "name": name,
            "media": media_type(name),
            "what": RELEASE_DESCRIPTIONS.get(name) or file_description(name).rstrip("."),
            "size": (dataset / name).stat().st_size,
            "sha256": sums.get(name, ""),
            "versioned": f"{version}/{name}",
        }
        for name in release_files(dataset)
    ]


def attachment_name(name: str, version: str) -> str:
    """The file name a download is saved under: its own, with the version before its suffix."""
    base = name.rsplit("/", 1)[-1].lstrip(".")
    stem, dot, suffix = base.partition(".")
    return f"{stem}-{version}{dot}{suffix}"


@router.get("/download/", summary="The downloadable dumps of this build (HTML index)")
async def downloads(request: Request) -> Response:
    dataset = site(request).settings.dataset
    manifest = await run_in_threadpool(read_manifest, dataset)
    version = str(manifest.get("version", __version__))
    files = []
    for name, (media, what) in DOWNLOADS.items():
        path = dataset / name
        if path.is_file():
            files.append(
                {
                    "name": name,
                    "media": media,
                    "what": what,
                    "size": path.stat().st_size,
                    "sha256": manifest.get("files", {}).get(name, ""),
                    "versioned": f"{version}/{name}",
                }
            )
    files += await run_in_threadpool(_release_rows, dataset, manifest, version)
    return page(
        request,
        "downloads.html",
        title="Downloads",
        files=files,
        version=version,
        quads=manifest.get("quads"),
    )


@router.get("/download/{filename}", summary="A dump of the current build")
async def download(request: Request, filename: str) -> Response:
    return await _download(request, filename, None)


@router.get("/download/{version}/{filename}", summary="A dump, by version (the current one only)")
async def download_version(request: Request, version: str, filename: str) -> Response:
    # /download/tables/x.csv is a release's file in a folder, not a version "tables".
    if version in RELEASE_FOLDERS[1:]:
        return await _download(request, f"{version}/{filename}", None)
    return await _download(request, filename, version)


@router.get(
    "/download/{version}/{folder}/{filename}",
    summary="A release's file in a folder (tables/, panel/, changes/), by version",
)
async def download_in_folder(
    request: Request, version: str, folder: str, filename: str
) -> Response:
    return await _download(request, f"{folder}/{filename}", version)


async def _download(request: Request, filename: str, version: str | None) -> Response:
    s = site(request)
    dataset = s.settings.dataset
    manifest = await run_in_threadpool(read_manifest, dataset)
    current = str(manifest.get("version", __version__))
    wants_html = "text/html" in request.headers.get("accept", "")
    fmt = HTML if wants_html else TURTLE
    path = await run_in_threadpool(_offered, dataset, manifest, filename)
    if path is None:
        return not_found(request, fmt, f"there is no file {filename!r} in this build's downloads")
    if version is not None and version != current:
        return not_found(request, fmt, f"this server has version {current}, not {version!r}")
    tag = await run_in_threadpool(file_tag, s, path)
    headers = {
        "ETag": tag,
        "Content-Disposition": f'attachment; filename="{attachment_name(filename, current)}"',
    }
    if tag in if_none_match(request):
        return Response(status_code=304, headers=headers)
    media = DOWNLOADS[filename][0] if filename in DOWNLOADS else media_type(filename)
    text = media.startswith("text/") or media in ("application/trig", "application/n-quads")
    return FileResponse(
        path, media_type=f"{media}; charset=utf-8" if text else media, headers=headers
    )


def _offered(dataset: Path, manifest: dict[str, Any], filename: str) -> Path | None:
    """The file served as `filename`: a build's dump, or a release's other file."""
    if filename in DOWNLOADS:
        path = dataset / filename
        return path if path.is_file() else None
    if is_release(manifest):
        return release_file(dataset, filename)
    return None
