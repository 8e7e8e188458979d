"""The build's files for download (issue 5, "versioned dumps downloadable from the server"): /download/ and /download/[VERSION/]FILE.

Each file is served with its media type, an ETag derived from its content (304 on a match) and
`Content-Disposition: attachment` naming the version. Only the files listed in DOWNLOADS are
served, and only for the version being served.
"""

from __future__ import annotations

import hashlib
import json
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
    return await _download(request, filename, version)


async def _download(request: Request, filename: str, version: str | None) -> Response:
    s = site(request)
    dataset = s.settings.dataset
    manifest = await run_in_threadpool(read_manifest, dataset)
    current = str(manifest.get("version", __version__))
    wants_html = "text/html" in request.headers.get("accept", "")
    fmt = HTML if wants_html else TURTLE
    if filename not in DOWNLOADS or not (dataset / filename).is_file():
        return not_found(request, fmt, f"there is no file {filename!r} in this build's downloads")
    if version is not None and version != current:
        return not_found(request, fmt, f"this server has version {current}, not {version!r}")
    path = dataset / filename
    tag = await run_in_threadpool(file_tag, s, path)
    stem, dot, suffix = filename.partition(".")
    headers = {
        "ETag": tag,
        "Content-Disposition": f'attachment; filename="{stem}-{current}{dot}{suffix}"',
    }
    if tag in if_none_match(request):
        return Response(status_code=304, headers=headers)
    media = DOWNLOADS[filename][0]
    text = media.startswith("text/") or media in ("application/trig", "application/n-quads")
    return FileResponse(
        path, media_type=f"{media}; charset=utf-8" if text else media, headers=headers
    )
