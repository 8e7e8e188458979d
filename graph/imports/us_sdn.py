"""OFAC Specially Designated Nationals list, CSV form (sdn.csv): its FTO and SDGT entities.

`sdn.csv` (https://www.treasury.gov/ofac/downloads/sdn.csv, a US Government work: public
domain) has no header and 12 columns: ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign,
Vess_type, Tonnage, GRT, Vess_flag, Vess_owner, Remarks. `-0- ` (with its trailing space) is an
empty value; several programs share a cell as `FTO] [SDGT`; entities have an empty SDN_Type
(individuals, vessels and aircraft are typed); Remarks carry the aliases (`a.k.a. 'HQN'.`,
`f.k.a. '...'`, separated by `;`). The file has CRLF line endings, ends with a Ctrl-Z (\\x1a)
line, and is ASCII in every version seen (2021-2024); a file that is not UTF-8 is read as
cp1252 (else latin-1) and the encoding used is recorded on its `Version`.

The list has no designation dates: a single version proves a listing "no later than" its date;
a history of versions bounds each start and end to the interval between two versions.

Histories are read from
  - a git repository (bare or not) whose commits hold successive versions of `sdn.csv` (such as
    github:jackdwyer/specially-designated-nationals-list): each commit touching the file is a
    version dated by its commit date in UTC; or
  - a directory of files whose names hold the version date as YYYY-MM-DD
    (`sdn-2024-05-03.csv`, at most one file per date); files without a date in their name
    are ignored; or
  - several such dated files.
Empty versions, versions that do not parse, and truncated versions (fewer than 80% of the
records of both neighbouring versions; of its one neighbour for the last version) are skipped
and named in `History.skipped` / `ImportResult.skipped`. When two versions fall on the same
day (UTC) in a repository, the last of the day is kept (version keys `us-sdn-YYYY-MM-DD` stay
unique) and the earlier one is named in `skipped` as superseded. The first version of a history
is not checked for truncation (being smaller than the next is what growth looks like too).
The XML forms (sdn.xml) are not read.
"""

from __future__ import annotations

import csv
import logging
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from graph.imports.model import Entity, ListFileError, Listing, SourceFile
from graph.imports.result import ImportResult

__all__ = [
    "UPSTREAM_URL",
    "History",
    "ImportResult",
    "SdnEntity",
    "Version",
    "import_paths",
    "listings_from_history",
    "listings_from_version",
    "load_history",
    "read_history",
    "read_version",
]

log = logging.getLogger(__name__)

UPSTREAM_URL = "https://www.treasury.gov/ofac/downloads/sdn.csv"
MEMBER = "sdn.csv"  # the file's path inside a history repository
COLUMNS = 12
PROGRAMS = {"FTO": "us-fto", "SDGT": "us-sdgt"}  # program tag -> REGIMES key
LISTS = ("us-fto", "us-sdgt")
#: A version with fewer records than this share of its neighbours' is taken as truncated.
TRUNCATION_RATIO = 0.8

_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_PROGRAM_SEP = re.compile(r"\]\s*\[")
# An alias: `a.k.a. '...'` (also f.k.a., n.k.a.) up to the quote that ends the remark or is
# followed by `;` -- aliases may hold apostrophes (`KATIBAT AL A'ABAS`).
_ALIAS = re.compile(r"(?:^|;)\s*[afn]\.k\.a\.,?\s*'(.+?)'(?=\s*;|\.?\s*$)")
_GITHUB = re.compile(r"github\.com[:/]+([\w.-]+/[\w.-]+?)(?:\.git)?/?$")
_BINARY_MAGIC = (b"\x89PNG", b"%PDF", b"PK\x03\x04", b"\x1f\x8b", b"GIF8", b"\xff\xd8\xff")


@dataclass(frozen=True)
class SdnEntity:
    """One SDN entity carrying FTO and/or SDGT, as one row of one version gives it."""

    ent_num: str
    name: str  # SDN_Name, verbatim
    aliases: tuple[str, ...]  # from Remarks' a.k.a. / f.k.a. / n.k.a., verbatim, in order
    programs: frozenset[str]  # REGIMES keys: 'us-fto', 'us-sdgt'
    row: str  # the CSV record exactly as the file has it, without its line break


@dataclass(frozen=True)
class Version:
    """One version of sdn.csv: its file record and its terrorism entities."""

    source: SourceFile
    entities: tuple[SdnEntity, ...]
    records: int  # all records of the file (every SDN_Type and program)
    encoding: str  # 'utf-8', or 'cp1252' / 'latin-1' for a file that is not UTF-8

    @property
    def date(self) -> date:
        return self.source.version


@dataclass(frozen=True)
class History:
    """The versions of a history in date order, and why each version left out was left out."""

    versions: list[Version]
    skipped: list[str] = field(default_factory=list)


# --- one version -------------------------------------------------------------------------


class _RowCache:
    """Parsed records by their text: successive versions share most of their rows."""

    def __init__(self) -> None:
        self.rows: dict[str, SdnEntity | None] = {}


def read_version(
    source: Path | bytes,
    *,
    version: date,
    retrieved: date,
    url: str = UPSTREAM_URL,
    copy: str | None = None,
    name: str = MEMBER,
    _cache: _RowCache | None = None,
) -> Version:
    """Parse one version of sdn.csv (a path, or its bytes) into its FTO/SDGT entities."""
    path: Path | str = source if isinstance(source, Path) else name
    data = _read_bytes(source) if isinstance(source, Path) else source
    text, encoding = _decode(data, path)
    cache = _cache if _cache is not None else _RowCache()
    entities, records = _scan(_lines(text), cache.rows, path)
    if records == 0:
        raise ListFileError(path, "no records: not an SDN CSV file")
    _check_unique(entities, path)
    key = f"us-sdn-{version.isoformat()}"
    label = f"OFAC SDN list ({name}), version of {version.isoformat()}"
    sha = SourceFile.digest(data)
    src = SourceFile(key, url, name, version, retrieved, sha, LISTS, label, copy=copy)
    if encoding != "utf-8":
        log.warning("%s: not UTF-8, read as %s", path, encoding)
    return Version(src, tuple(entities), records, encoding)


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise ListFileError(path, "no such file")
    if path.is_dir():
        raise ListFileError(path, "a directory, not an SDN CSV file")
    return path.read_bytes()


def _decode(data: bytes, path: Path | str) -> tuple[str, str]:
    """The file's text and the encoding it was read with; refuses binary and XML files."""
    if not data.strip(b"\x1a \t\r\n"):
        raise ListFileError(path, "empty file")
    if data.startswith(_BINARY_MAGIC) or b"\x00" in data:
        raise ListFileError(path, "a binary file, not an SDN CSV file", "byte 0")
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        raise ListFileError(path, "an XML/HTML document: only the CSV form sdn.csv is read")
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return data.decode(encoding), encoding.removesuffix("-sig")
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def _lines(text: str) -> list[str]:
    """The file's lines, each with its \r if any, without the final line break and Ctrl-Z."""
    lines = text.split("\n")
    while lines and lines[-1].strip("\r\x1a") == "":
        lines.pop()  # the trailing line break, Ctrl-Z line, blank lines
    return lines


def _scan(
    lines: list[str], rows: dict[str, SdnEntity | None], path: Path | str
) -> tuple[list[SdnEntity], int]:
    """The FTO/SDGT entities of the lines, and the number of records.

    Records seen in an earlier version are looked up in `rows` by their line; a record whose
    quoted field holds a line break spans several lines (never cached).
    """
    entities: list[SdnEntity] = []
    records = 0
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        i += 1
        records += 1
        if line in rows:  # a whole record: its quotes are balanced
            entity = rows[line]
        else:
            lineno, record = i, line
            while record.count('"') % 2 and i < n:
                record += "\n" + lines[i]
                i += 1
            entity = _parse_record(record.removesuffix("\r"), lineno, path)
            if record is line:
                rows[line] = entity
        if entity is not None:
            entities.append(entity)
    return entities, records


def _parse_record(record: str, lineno: int, path: Path | str) -> SdnEntity | None:
    """The record's FTO/SDGT entity, None for any other record; ListFileError if malformed."""
    where = f"line {lineno}"
    try:
        fields = next(csv.reader([record], strict=True), [])
    except csv.Error as e:
        raise ListFileError(path, f"malformed CSV record: {e}", where) from e
    if len(fields) != COLUMNS:
        raise ListFileError(
            path,
            f"expected {COLUMNS} columns (ent_num, SDN_Name, SDN_Type, Program, ..., Remarks), "
            f"found {len(fields)}",
            where,
        )
    ent_num = fields[0].strip()
    if not ent_num.isdigit():
        raise ListFileError(path, f"ent_num {fields[0][:40]!r} is not a number", where)
    if not _empty(fields[2]):
        return None  # an individual, vessel or aircraft
    programs = frozenset(PROGRAMS[p] for p in _programs(fields[3]) if p in PROGRAMS)
    if not programs:
        return None
    name = fields[1].strip()
    if _empty(name):
        raise ListFileError(path, f"entity {ent_num} has no SDN_Name", where)
    aliases = tuple(a for a in _unique(_aliases(fields[11])) if a != name)
    return SdnEntity(ent_num, name, aliases, programs, record)


def _empty(value: str) -> bool:
    return value.strip() in ("", "-0-")


def _programs(cell: str) -> list[str]:
    """`FTO] [SDGT` -> ['FTO', 'SDGT']."""
    if _empty(cell):
        return []
    return [p.strip() for p in _PROGRAM_SEP.split(cell.strip().strip("[]"))]


def _aliases(remarks: str) -> list[str]:
    if _empty(remarks):
        return []
    return [m.group(1) for m in _ALIAS.finditer(remarks)]


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _check_unique(entities: list[SdnEntity], path: Path | str) -> None:
    seen: set[str] = set()
    for entity in entities:
        if entity.ent_num in seen:
            raise ListFileError(path, f"ent_num {entity.ent_num} appears twice")
        seen.add(entity.ent_num)


def listings_from_version(v: Version) -> list[Listing]:
    """One listing per entity and program, started no later than the version's date."""
    return [
        Listing(
            regime=regime,
            entry_id=e.ent_num,
            entity=Entity(e.name, e.aliases),
            evidence=(e.row,),
            sources=(v.source,),
            started_no_later_than=v.date,
        )
        for e in sorted(v.entities, key=lambda e: int(e.ent_num))
        for regime in sorted(e.programs)
    ]


# --- histories ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Raw:
    """One version's bytes before parsing, with where they come from."""

    when: datetime  # UTC
    data: bytes
    label: str  # for messages: the file path or commit
    copy: str | None
    name: str = MEMBER


def read_history(path: Path, *, retrieved: date | None = None) -> list[Version]:
    """The usable versions of a history (git repository or directory of dated files)."""
    return load_history(path, retrieved=retrieved).versions


def load_history(
    path: Path, *, retrieved: date | None = None, origin: str | None = None
) -> History:
    """Read a git repository or a directory of dated files; see the module's docstring.

    `retrieved` defaults to each version's own date; `origin` ('owner/name' on GitHub) names
    the repository copied when its remote.origin.url does not.
    """
    if not path.exists():
        raise ListFileError(path, "no such file or directory")
    if not path.is_dir():
        raise ListFileError(path, "a history is a git repository or a directory of dated files")
    if _is_git(path):
        raws, skipped = _git_versions(path, origin)
    else:
        raws, skipped = _dated_files(sorted(p for p in path.iterdir() if _dated(p)), path)
    return _build_history(raws, skipped, retrieved, path)


def _build_history(
    raws: list[_Raw], skipped: list[str], retrieved: date | None, where: Path | str
) -> History:
    cache = _RowCache()
    parsed: list[tuple[str, Version]] = []
    for raw in sorted(raws, key=lambda r: r.when):
        day = raw.when.date()
        if not raw.data:
            skipped.append(f"{raw.label} ({day}): empty file")
            continue
        try:
            v = read_version(
                raw.data,
                version=day,
                retrieved=retrieved or day,
                copy=raw.copy,
                name=raw.name,
                _cache=cache,
            )
        except ListFileError as e:
            skipped.append(f"{raw.label} ({day}): {e.message}" + _at(e))
            continue
        parsed.append((raw.label, v))
    kept = _last_of_day(_drop_truncated(parsed, skipped), skipped)
    for reason in skipped:
        log.warning("skipped %s", reason)
    if not kept:
        raise ListFileError(where, "no usable SDN version: " + "; ".join(skipped or ["none"]))
    return History(kept, skipped)


def _at(e: ListFileError) -> str:
    return f" at {e.location}" if e.location else ""


def _drop_truncated(
    versions: list[tuple[str, Version]], skipped: list[str]
) -> list[tuple[str, Version]]:
    """Leave out versions with far fewer records than their neighbours (a truncated copy).

    The first version is not checked: being smaller than the next is also what growth of
    the list looks like, and a truncated first version makes no false delisting.
    """
    kept = []
    for i, (label, v) in enumerate(versions):
        neighbours = [n.records for _, n in versions[max(i - 1, 0) : i + 2] if n is not v]
        if i > 0 and all(v.records < TRUNCATION_RATIO * n for n in neighbours):
            counts = " and ".join(str(n) for n in neighbours)
            skipped.append(
                f"{label} ({v.date}): truncated: {v.records} records against {counts} in "
                "the neighbouring versions"
            )
            continue
        kept.append((label, v))
    return kept


def _last_of_day(versions: list[tuple[str, Version]], skipped: list[str]) -> list[Version]:
    by_day: dict[date, tuple[str, Version]] = {}
    for label, v in versions:  # in time order: the last of a day wins
        if v.date in by_day:
            skipped.append(f"{by_day[v.date][0]} ({v.date}): superseded by a later version")
        by_day[v.date] = (label, v)
    return [v for _, v in by_day.values()]


def _dated(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(".") and bool(_date_in(path.name))


def _date_in(name: str) -> date | None:
    m = _DATE_IN_NAME.search(name)
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def _dated_files(files: Sequence[Path], where: Path | str) -> tuple[list[_Raw], list[str]]:
    if not files:
        raise ListFileError(
            where, "no dated SDN files (names holding YYYY-MM-DD, e.g. sdn-2024-05-03.csv)"
        )
    raws: list[_Raw] = []
    seen: dict[date, Path] = {}
    for f in files:
        day = _date_in(f.name)
        if day is None:
            raise ListFileError(f, "no YYYY-MM-DD date in the file name")
        if day in seen:
            raise ListFileError(f, f"two files of the same date: {seen[day].name} and {f.name}")
        seen[day] = f
        when = datetime(day.year, day.month, day.day, tzinfo=UTC)
        raws.append(_Raw(when, _read_bytes(f), str(f), None, f.name))
    return raws, []


def _is_git(path: Path) -> bool:
    bare = (path / "HEAD").is_file() and (path / "objects").is_dir()
    return bare or (path / ".git").exists()


def _git(repo: Path, *args: str) -> str:
    if shutil.which("git") is None:
        raise ListFileError(repo, "reading a git repository needs the git program")
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise ListFileError(repo, f"git {args[0]} failed: {done.stderr.strip()[:300]}")
    return done.stdout


def _origin(repo: Path, origin: str | None) -> str:
    """How copies from this repository are named: 'github:owner/name' or its path."""
    if origin:
        return f"github:{origin}"
    try:
        url = _git(repo, "config", "--get", "remote.origin.url").strip()
    except ListFileError:
        url = ""
    m = _GITHUB.search(url)
    return f"github:{m[1]}" if m else str(repo.resolve())


def _git_versions(repo: Path, origin: str | None) -> tuple[list[_Raw], list[str]]:
    """Each commit touching sdn.csv, oldest first, read through one `git cat-file --batch`."""
    out = _git(repo, "log", "--reverse", "--format=%H %cI", "--", MEMBER)
    commits = [line.split(" ", 1) for line in out.splitlines() if line.strip()]
    if not commits:
        raise ListFileError(repo, f"no commit of the repository touches {MEMBER}")
    prefix = _origin(repo, origin)
    raws: list[_Raw] = []
    skipped: list[str] = []
    for (commit, stamp), data in zip(commits, _cat_files(repo, commits), strict=True):
        when = datetime.fromisoformat(stamp).astimezone(UTC)
        copy = f"{prefix}@{commit}:{MEMBER}"
        if data is None:
            skipped.append(f"{copy} ({when.date()}): {MEMBER} deleted")
            continue
        raws.append(_Raw(when, data, copy, copy))
    return raws, skipped


def _cat_files(repo: Path, commits: list[list[str]]) -> list[bytes | None]:
    """The sdn.csv blob of each commit (None where absent), from one git cat-file process."""
    blobs: list[bytes | None] = []
    cmd = ["git", "-C", str(repo), "cat-file", "--batch"]
    with subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        for commit, _ in commits:
            proc.stdin.write(f"{commit}:{MEMBER}\n".encode())
            proc.stdin.flush()
            header = proc.stdout.readline().split()
            if len(header) != 3 or header[1] != b"blob":
                blobs.append(None)  # '<name> missing'
                continue
            blobs.append(proc.stdout.read(int(header[2])))
            proc.stdout.read(1)  # the newline after the contents
        proc.stdin.close()
    return blobs


# --- spans ----------------------------------------------------------------------------------


@dataclass
class _Span:
    number: int
    first: int  # index of the first version with the pair
    last: int  # index of the last version with it so far
    first_entity: SdnEntity
    last_entity: SdnEntity


def listings_from_history(versions: Sequence[Version]) -> list[Listing]:
    """Per (ent_num, program), one listing per span of consecutive versions carrying it."""
    open_spans: dict[tuple[str, str], _Span] = {}
    spans_so_far: dict[tuple[str, str], int] = {}
    closed: list[tuple[tuple[str, str], _Span, int | None]] = []
    latest: dict[str, SdnEntity] = {}
    names: dict[str, list[str]] = {}
    for i, v in enumerate(versions):
        present: set[tuple[str, str]] = set()
        for e in v.entities:
            latest[e.ent_num] = e
            names.setdefault(e.ent_num, [])
            if e.name not in names[e.ent_num]:
                names[e.ent_num].append(e.name)
            for regime in e.programs:
                pair = (e.ent_num, regime)
                present.add(pair)
                span = open_spans.get(pair)
                if span is None:
                    number = spans_so_far.get(pair, 0) + 1
                    spans_so_far[pair] = number
                    open_spans[pair] = _Span(number, i, i, e, e)
                else:
                    span.last, span.last_entity = i, e
        for pair in [p for p in open_spans if p not in present]:
            closed.append((pair, open_spans.pop(pair), i))
    closed.extend((pair, span, None) for pair, span in open_spans.items())
    entities = {n: _entity(latest[n], names[n]) for n in latest}
    listings = [
        _listing(pair, span, end, versions, entities[pair[0]]) for pair, span, end in closed
    ]
    return sorted(listings, key=lambda x: (int(x.entry_id), x.regime or "", x.span))


def _entity(latest: SdnEntity, names: list[str]) -> Entity:
    """The latest name and aliases, with the entry's former names as aliases too."""
    aliases = _unique([*latest.aliases, *(n for n in names if n != latest.name)])
    return Entity(latest.name, tuple(a for a in aliases if a != latest.name))


def _listing(
    pair: tuple[str, str],
    span: _Span,
    end: int | None,
    versions: Sequence[Version],
    entity: Entity,
) -> Listing:
    first, last = versions[span.first], versions[span.last]
    evidence: tuple[str, ...] = (span.first_entity.row,)
    sources: tuple[SourceFile, ...] = (first.source,)
    if span.last_entity.row != span.first_entity.row:
        evidence += (span.last_entity.row,)
        sources += (last.source,)
    ended = end is not None
    return Listing(
        regime=pair[1],
        entry_id=pair[0],
        entity=entity,
        evidence=evidence,
        sources=sources,
        started_after=versions[span.first - 1].date if span.first > 0 else None,
        started_no_later_than=first.date,
        ended=ended,
        ended_after=last.date if ended else None,
        ended_no_later_than=versions[end].date if end is not None else None,
        end_kind="delisting" if ended else None,
        span=span.number,
        end_sources=(versions[end].source,) if end is not None else (),
    )


# --- entry point ----------------------------------------------------------------------------


def import_paths(
    paths: Sequence[Path], *, retrieved: date | None, copy: str | None = None
) -> ImportResult:
    """Import sdn.csv files: one file is one version; a directory, repository or several files
    is a history. `retrieved` defaults to each version's own date. `copy` names a git
    repository's origin (github:owner/name) when its configuration does not."""
    if not paths:
        raise ListFileError("", "no file given")
    for p in paths:
        if not p.exists():
            raise ListFileError(p, "no such file or directory")
    if len(paths) == 1 and paths[0].is_dir():
        history = load_history(paths[0], retrieved=retrieved, origin=copy)
    elif len(paths) == 1:
        return _import_file(paths[0], retrieved)
    else:
        history = _files_history(paths, retrieved, copy)
    return ImportResult(
        listings_from_history(history.versions),
        [v.source for v in history.versions],
        list(history.skipped),
    )


def _import_file(path: Path, retrieved: date | None) -> ImportResult:
    day = _date_in(path.name) or retrieved
    if day is None:
        raise ListFileError(
            path,
            "the version's date is unknown: give it in the file name (sdn-2024-05-03.csv) "
            "or as the retrieval date",
        )
    v = read_version(path, version=day, retrieved=retrieved or day, name=path.name)
    return ImportResult(listings_from_version(v), [v.source], [])


def _files_history(
    paths: Sequence[Path], retrieved: date | None, origin: str | None = None
) -> History:
    """One history from several places: git repositories, directories of dated files, and
    dated files (so that a refresh can add today's download to a scraped history)."""
    raws: list[_Raw] = []
    skipped: list[str] = []
    loose: list[Path] = []
    for p in paths:
        if p.is_dir() and _is_git(p):
            found, why = _git_versions(p, origin)
        elif p.is_dir():
            found, why = _dated_files(sorted(f for f in p.iterdir() if _dated(f)), p)
        else:
            loose.append(p)
            continue
        raws += found
        skipped += why
    if loose:
        found, why = _dated_files(loose, "the files given")
        raws += found
        skipped += why
    return _build_history(raws, skipped, retrieved, "the paths given")
