"""Wikidata P3461 ("designated as terrorist by") statements, from SPARQL JSON results or Wikidata entity JSON.

Inputs, told apart by their content (gzip and bzip2 files are read through):

* SPARQL 1.1 JSON results of `QUERY` (what `fetch_statements` returns and `save_statements`
  writes): rows of one statement's designator, or one qualifier value, or one reference URL,
  or one English label or alias of an item; rows are grouped by statement.
* a Wikidata JSON dump (https://dumps.wikimedia.org/wikidatawiki/entities/): `[` on the first
  line, one entity per line with a trailing comma, `]` on the last; read line by line, and a
  line without the text `"P3461"` is passed over unparsed (entities without P3461 are skipped).
* one entity's Special:EntityData JSON, `{"entities": {"Q…": {...}}}`.

Each statement becomes a `Listing` with `regime=None`, `designator` = the DiploKG slug of the
designating state (`DESIGNATORS`), `entry_id` = the statement GUID (`Q42418$…`; the SPARQL form
writes it `…/entity/statement/Q42418-…`, read back with the first `-` as `$`), start and end
from P580/P582 at their precision (9 year, 10 month, 11 day or finer -> the day). P854 reference
URLs become `source_refs`; P248 (stated in) and P813 (retrieved) are not carried. English
aliases are kept in sorted order, so that every form gives the same `Entity`.

Evidence is exact text the file holds, each its own string, so that a checker can find every
one in the file: the statement's id as written (the GUID in entity JSON, the statement IRI in
SPARQL results), the designator's IRI (SPARQL results only: entity JSON writes only the short
Q-id, below the 10-character minimum), then each P580 and P582 time value as written
(`+2003-00-00T00:00:00Z` in entity JSON, `2003-01-01T00:00:00Z` in SPARQL results).

Not imported, each reported in `ImportResult.skipped` with the statement GUID: statements by a
designator without a slug (with its Q-id), of unknown ("somevalue") or no designator, of
deprecated rank, of an item without an English label; and dates left out of a listing that is
kept (precision coarser than a year, Julian calendar, year before 1 CE or after 9999, two
different values).
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import IO, Any, cast

from graph.imports.model import DateValue, Entity, ListFileError, Listing, SourceFile
from graph.imports.result import ImportResult
from graph.wikidata.client import SparqlClient

#: Where the SPARQL results come from, where dumps and single entities are published.
SPARQL_URL = "https://query.wikidata.org/sparql"
DUMPS_URL = "https://dumps.wikimedia.org/wikidatawiki/entities/"
ENTITY_DATA_URL = "https://www.wikidata.org/wiki/Special:EntityData/"
#: Wikidata's data are CC0.
LICENSE = "http://creativecommons.org/publicdomain/zero/1.0/"

#: Designating states: Wikidata Q-id -> DiploKG slug (res:<slug>). Only Q-ids confirmed in
#: docs/wikidata.md, plus the United Kingdom and Canada (the QID->ISO code table those notes rely
#: on maps Q145 -> GB and Q16 -> CA).
DESIGNATORS: dict[str, str] = {
    "Q159": "russia",
    "Q30": "united-states",
    "Q232": "kazakhstan",
    "Q813": "kyrgyzstan",
    "Q265": "uzbekistan",
    "Q148": "china",
    "Q843": "pakistan",
    "Q878": "united-arab-emirates",
    "Q889": "afghanistan",
    "Q145": "united-kingdom",
    "Q16": "canada",
}

PROPERTY = "P3461"
START, END, REFERENCE_URL = "P580", "P582", "P854"
YEAR, MONTH, DAY = 9, 10, 11
JULIAN = "http://www.wikidata.org/entity/Q1985786"

_WD = "http://www.wikidata.org/entity/"
_STATEMENT = _WD + "statement/"
_DEPRECATED = "http://wikiba.se/ontology#DeprecatedRank"

#: The variables of QUERY, in the order the saved results declare them.
VARIABLES = (
    "item",
    "statement",
    "designator",
    "rank",
    "start",
    "startPrecision",
    "startSome",
    "end",
    "endPrecision",
    "endSome",
    "refUrl",
    "label",
    "alias",
)

#: One query for every P3461 statement: each row carries one fact (UNION), never a product.
QUERY = """\
PREFIX wikibase: <http://wikiba.se/ontology#>
PREFIX p: <http://www.wikidata.org/prop/>
PREFIX ps: <http://www.wikidata.org/prop/statement/>
PREFIX pq: <http://www.wikidata.org/prop/qualifier/>
PREFIX pqv: <http://www.wikidata.org/prop/qualifier/value/>
PREFIX pr: <http://www.wikidata.org/prop/reference/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?item ?statement ?designator ?rank ?start ?startPrecision ?startSome
       ?end ?endPrecision ?endSome ?refUrl ?label ?alias
WHERE {
  {
    ?item p:P3461 ?statement .
    ?statement ps:P3461 ?designator ; wikibase:rank ?rank .
  } UNION {
    ?item p:P3461 ?statement .
    ?statement pqv:P580 ?startNode .
    ?startNode wikibase:timeValue ?start ; wikibase:timePrecision ?startPrecision .
  } UNION {
    ?item p:P3461 ?statement .
    ?statement pq:P580 ?startSome .
    FILTER(!isLiteral(?startSome))
  } UNION {
    ?item p:P3461 ?statement .
    ?statement pqv:P582 ?endNode .
    ?endNode wikibase:timeValue ?end ; wikibase:timePrecision ?endPrecision .
  } UNION {
    ?item p:P3461 ?statement .
    ?statement pq:P582 ?endSome .
    FILTER(!isLiteral(?endSome))
  } UNION {
    ?item p:P3461 ?statement .
    ?statement prov:wasDerivedFrom ?reference .
    ?reference pr:P854 ?refUrl .
  } UNION {
    { SELECT DISTINCT ?item WHERE { ?item p:P3461 ?anyStatement . } }
    ?item rdfs:label ?label .
    FILTER(LANG(?label) = "en")
  } UNION {
    { SELECT DISTINCT ?item WHERE { ?item p:P3461 ?anyStatement . } }
    ?item skos:altLabel ?alias .
    FILTER(LANG(?alias) = "en")
  }
}
ORDER BY ?item ?statement ?label ?alias ?start ?end ?startSome ?endSome ?refUrl
"""

_QID = re.compile(r"Q[1-9][0-9]*")
_GUID = re.compile(r"(Q[1-9][0-9]*)\$\S+")
_TIME = re.compile(r"([+-]?)(\d+)-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:Z|[+-]00:00)?")
_NAME_DATE = re.compile(r"(?<!\d)(\d{4})(-?)(\d{2})\2(\d{2})(?!\d)")
_DUMP_NAME = re.compile(r"wikidata-(\d{8})-all\.json(?:\.gz|\.bz2)?")
_PRECISIONS = {
    0: "billion years",
    1: "hundred million years",
    6: "millennium",
    7: "century",
    8: "decade",
}


# --- fetching -----------------------------------------------------------------------------------


def fetch_statements(client: SparqlClient) -> bytes:
    """Run QUERY on `client`'s endpoint; the answer as SPARQL JSON results (UTF-8 bytes).

    SparqlClient hands back parsed bindings, so the document is written anew from them: the same
    bindings, in the endpoint's order, under `head.vars` = VARIABLES.
    """
    bindings = client.select(QUERY)
    document = {"head": {"vars": list(VARIABLES)}, "results": {"bindings": bindings}}
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def save_statements(client: SparqlClient, directory: Path, *, today: date) -> Path:
    """Fetch the statements into `directory`/wikidata-p3461-<today>.json (written whole or not at all)."""
    data = fetch_statements(client)
    target = directory / f"wikidata-p3461-{today.isoformat()}.json"
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".wikidata-p3461-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


# --- what both forms are read into ---------------------------------------------------------------


@dataclass
class _Time:
    raw: str  # the time string as the file writes it
    precision: int
    location: str
    calendar: str | None = None


@dataclass
class _Statement:
    guid: str
    item: str
    location: str
    designator: str | None = None  # None: "somevalue" or "novalue"
    designator_text: str | None = None  # as the file writes it, when 10 characters or more
    deprecated: bool = False
    starts: list[_Time] = field(default_factory=list)
    ends: list[_Time] = field(default_factory=list)
    start_unknown: bool = False
    end_unknown: bool = False
    refs: list[str] = field(default_factory=list)
    id_text: str = ""  # the statement's id as the file writes it


@dataclass
class _Item:
    label: str | None = None
    aliases: list[str] = field(default_factory=list)


@dataclass
class _Read:
    kind: str  # 'sparql', 'dump' or 'entity'
    statements: list[_Statement]
    items: dict[str, _Item]
    entity_ids: list[str] = field(default_factory=list)


# --- dates ---------------------------------------------------------------------------------------


def _date(path: Path, time: _Time, what: str, skipped: list[str]) -> DateValue | None:
    """The DateValue of a Wikidata time at its precision; None (and a note) when it has none."""
    match = _TIME.fullmatch(time.raw)
    if match is None:
        raise ListFileError(path, f"not a Wikidata time: {time.raw!r}", time.location)
    sign, year_text, month_text, day_text = match.group(1, 2, 3, 4)
    year, month, day = int(year_text), int(month_text), int(day_text)
    if not 0 <= time.precision <= 14:
        raise ListFileError(path, f"not a time precision: {time.precision}", time.location)
    if time.precision < YEAR:
        name = _PRECISIONS.get(time.precision, "coarser than a year")
        skipped.append(
            f"{what}: precision {time.precision} ({name}) is coarser than a year; date left out"
        )
        return None
    if time.calendar == JULIAN:
        skipped.append(f"{what}: {time.raw} is in the Julian calendar; date left out")
        return None
    if sign == "-" or not 1 <= year <= 9999:
        skipped.append(f"{what}: year {sign}{year} is outside 1..9999; date left out")
        return None
    if time.precision == YEAR:
        return DateValue(f"{year:04d}")
    if not 1 <= month <= 12:
        raise ListFileError(path, f"{time.raw!r} has no month at month precision", time.location)
    if time.precision == MONTH:
        return DateValue(f"{year:04d}-{month:02d}")
    try:
        return DateValue.of(date(year, month, day))
    except ValueError:
        raise ListFileError(path, f"{time.raw!r} is not a day", time.location) from None


def _one_date(path: Path, times: list[_Time], what: str, skipped: list[str]) -> DateValue | None:
    values = {_date(path, time, what, skipped) for time in times}
    values.discard(None)
    if len(values) > 1:
        shown = ", ".join(sorted(v.text for v in values if v is not None))
        skipped.append(f"{what}: different values ({shown}); date left out")
        return None
    return next(iter(values), None)


# --- statements -> listings ----------------------------------------------------------------------


def _listing(
    path: Path, statement: _Statement, item: _Item, source: SourceFile, skipped: list[str]
) -> Listing | None:
    guid = statement.guid
    if statement.deprecated:
        skipped.append(f"{guid}: deprecated rank; not imported")
        return None
    if statement.designator is None:
        skipped.append(f"{guid}: designator unknown or none; not imported")
        return None
    slug = DESIGNATORS.get(statement.designator)
    if slug is None:
        skipped.append(
            f"{guid}: designator {statement.designator} has no DiploKG slug; not imported"
        )
        return None
    if item.label is None:
        skipped.append(f"{guid}: item {statement.item} has no English label; not imported")
        return None
    if statement.start_unknown and not statement.starts:
        skipped.append(f"{guid} P580: unknown value (somevalue); no start date")
    start = _one_date(path, statement.starts, f"{guid} P580", skipped)
    end = _one_date(path, statement.ends, f"{guid} P582", skipped)
    evidence = [statement.id_text]
    if statement.designator_text:
        evidence.append(statement.designator_text)
    for time in [*statement.starts, *statement.ends]:
        if time.raw not in evidence:
            evidence.append(time.raw)
    aliases = tuple(sorted({a for a in item.aliases if a != item.label}))
    return Listing(
        regime=None,
        entry_id=guid,
        entity=Entity(name=item.label, aliases=aliases, wikidata=statement.item),
        evidence=tuple(evidence),
        sources=(source,),
        start=start,
        ended=bool(statement.ends) or statement.end_unknown,
        end=end,
        designator=slug,
        source_refs=tuple(dict.fromkeys(statement.refs)),
    )


# --- reading SPARQL JSON results -----------------------------------------------------------------


def _term(path: Path, row: dict[str, Any], name: str, pointer: str) -> dict[str, str] | None:
    value = row.get(name)
    if value is None:
        return None
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("type"), str)
        or not isinstance(value.get("value"), str)
    ):
        raise ListFileError(path, "not an RDF term ({type, value})", f"{pointer}/{name}")
    return value


def _entity_iri(path: Path, term: dict[str, str], pointer: str) -> str:
    value = term["value"]
    local = value[len(_WD) :] if value.startswith(_WD) else ""
    if term["type"] != "uri" or not _QID.fullmatch(local):
        raise ListFileError(path, f"not a Wikidata item IRI: {value!r}", pointer)
    return local


def _sparql_time(path: Path, row: dict[str, Any], name: str, pointer: str) -> _Time | None:
    term = _term(path, row, name, pointer)
    if term is None:
        return None
    precision_term = _term(path, row, name + "Precision", pointer)
    if precision_term is None:
        raise ListFileError(path, f"{name} without {name}Precision", pointer)
    try:
        precision = int(precision_term["value"])
    except ValueError:
        raise ListFileError(
            path,
            f"not a time precision: {precision_term['value']!r}",
            f"{pointer}/{name}Precision/value",
        ) from None
    return _Time(term["value"], precision, f"{pointer}/{name}/value")


def _read_sparql(path: Path, document: dict[str, Any]) -> _Read:
    head, results = document.get("head"), document.get("results")
    variables = head.get("vars") if isinstance(head, dict) else None
    bindings = results.get("bindings") if isinstance(results, dict) else None
    if not isinstance(variables, list) or not isinstance(bindings, list):
        raise ListFileError(path, "SPARQL JSON results without head.vars and results.bindings", "/")
    if not {"item", "statement", "designator"} <= set(variables):
        raise ListFileError(
            path, "not the results of the P3461 query (variables differ)", "/head/vars"
        )
    statements: dict[str, _Statement] = {}
    items: dict[str, _Item] = {}
    for index, row in enumerate(bindings):
        pointer = f"/results/bindings/{index}"
        if not isinstance(row, dict):
            raise ListFileError(path, "a result row is not an object", pointer)
        _read_row(path, row, pointer, statements, items)
    for statement in statements.values():
        if not statement.id_text:
            raise ListFileError(
                path, f"statement {statement.guid} has no designator row", statement.location
            )
    return _Read("sparql", list(statements.values()), items)


def _read_row(
    path: Path,
    row: dict[str, Any],
    pointer: str,
    statements: dict[str, _Statement],
    items: dict[str, _Item],
) -> None:
    item_term = _term(path, row, "item", pointer)
    if item_term is None:
        raise ListFileError(path, "a row without ?item", pointer)
    qid = _entity_iri(path, item_term, f"{pointer}/item/value")
    item = items.setdefault(qid, _Item())
    label, alias = _term(path, row, "label", pointer), _term(path, row, "alias", pointer)
    if label is not None and item.label is None:
        item.label = label["value"]
    if alias is not None:
        item.aliases.append(alias["value"])
    statement_term = _term(path, row, "statement", pointer)
    if statement_term is None:
        return
    iri = statement_term["value"]
    local = iri[len(_STATEMENT) :] if iri.startswith(_STATEMENT) else ""
    guid = local.replace("-", "$", 1)
    if not _GUID.fullmatch(guid) or not guid.startswith(qid + "$"):
        raise ListFileError(
            path, f"not a statement of {qid}: {iri!r}", f"{pointer}/statement/value"
        )
    statement = statements.setdefault(guid, _Statement(guid, qid, pointer))
    designator = _term(path, row, "designator", pointer)
    if designator is not None:
        statement.id_text = iri
        if designator["type"] == "uri" and designator["value"].startswith(_WD):
            statement.designator = _entity_iri(path, designator, f"{pointer}/designator/value")
            statement.designator_text = designator["value"]
        rank = _term(path, row, "rank", pointer)
        statement.deprecated = rank is not None and rank["value"] == _DEPRECATED
    for name, times in (("start", statement.starts), ("end", statement.ends)):
        time = _sparql_time(path, row, name, pointer)
        if time is not None:
            times.append(time)
    statement.start_unknown |= "startSome" in row
    statement.end_unknown |= "endSome" in row
    ref = _term(path, row, "refUrl", pointer)
    if ref is not None:
        statement.refs.append(ref["value"])


# --- reading Wikidata entity JSON ----------------------------------------------------------------


_KINDS = {dict: "an object", list: "a list", str: "a string", int: "an integer"}


def _get(path: Path, node: Any, key: str, kind: type, where: str) -> Any:
    """`node[key]`, which must be of `kind`; else a ListFileError at `where`."""
    value = node.get(key) if isinstance(node, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ListFileError(path, f"{key} missing or not {_KINDS[kind]}", where)
    return value


def _snak_time(path: Path, snak: Any, where: str) -> _Time | None:
    """A qualifier snak's time; None for "somevalue" / "novalue"."""
    if not isinstance(snak, dict) or snak.get("snaktype") != "value":
        if isinstance(snak, dict) and snak.get("snaktype") in ("somevalue", "novalue"):
            return None
        raise ListFileError(path, "not a snak (snaktype value, somevalue or novalue)", where)
    value = _get(
        path, _get(path, snak, "datavalue", dict, where), "value", dict, f"{where}/datavalue"
    )
    raw = _get(path, value, "time", str, f"{where}/datavalue/value")
    precision = _get(path, value, "precision", int, f"{where}/datavalue/value")
    calendar = value.get("calendarmodel")
    return _Time(
        raw,
        precision,
        f"{where}/datavalue/value/time",
        calendar if isinstance(calendar, str) else None,
    )


def _qualifiers(path: Path, statement: _Statement, claim: dict[str, Any], where: str) -> None:
    qualifiers = claim.get("qualifiers", {})
    if not isinstance(qualifiers, dict):
        raise ListFileError(path, "qualifiers is not an object", f"{where}/qualifiers")
    for prop, times in ((START, statement.starts), (END, statement.ends)):
        snaks = qualifiers.get(prop, [])
        if not isinstance(snaks, list):
            raise ListFileError(
                path, f"qualifiers {prop} is not a list", f"{where}/qualifiers/{prop}"
            )
        for index, snak in enumerate(snaks):
            time = _snak_time(path, snak, f"{where}/qualifiers/{prop}/{index}")
            if time is not None:
                times.append(time)
            elif snak.get("snaktype") == "somevalue":
                if prop == START:
                    statement.start_unknown = True
                else:
                    statement.end_unknown = True


def _references(path: Path, statement: _Statement, claim: dict[str, Any], where: str) -> None:
    references = claim.get("references", [])
    if not isinstance(references, list):
        raise ListFileError(path, "references is not a list", f"{where}/references")
    for index, reference in enumerate(references):
        at = f"{where}/references/{index}"
        snaks = _get(path, reference, "snaks", dict, at).get(REFERENCE_URL, [])
        if not isinstance(snaks, list):
            raise ListFileError(
                path, f"{REFERENCE_URL} is not a list", f"{at}/snaks/{REFERENCE_URL}"
            )
        for number, snak in enumerate(snaks):
            snak_at = f"{at}/snaks/{REFERENCE_URL}/{number}"
            if isinstance(snak, dict) and snak.get("snaktype") in ("somevalue", "novalue"):
                continue
            datavalue = _get(path, snak, "datavalue", dict, snak_at)
            statement.refs.append(_get(path, datavalue, "value", str, f"{snak_at}/datavalue"))


def _claim(path: Path, qid: str, claim: Any, where: str) -> _Statement:
    guid = _get(path, claim, "id", str, where)
    if not _GUID.fullmatch(guid) or not guid.startswith(qid + "$"):
        raise ListFileError(path, f"not a statement id of {qid}: {guid!r}", f"{where}/id")
    statement = _Statement(guid, qid, where, id_text=guid)
    statement.deprecated = claim.get("rank") == "deprecated"
    mainsnak = _get(path, claim, "mainsnak", dict, where)
    snaktype = mainsnak.get("snaktype")
    if snaktype == "value":
        datavalue = _get(path, mainsnak, "datavalue", dict, f"{where}/mainsnak")
        value = _get(path, datavalue, "value", dict, f"{where}/mainsnak/datavalue")
        target = value.get("id")
        if (
            value.get("entity-type") != "item"
            or not isinstance(target, str)
            or not _QID.fullmatch(target)
        ):
            raise ListFileError(
                path, "the value is not an item", f"{where}/mainsnak/datavalue/value"
            )
        statement.designator = target
    elif snaktype not in ("somevalue", "novalue"):
        raise ListFileError(path, f"unknown snaktype {snaktype!r}", f"{where}/mainsnak/snaktype")
    _qualifiers(path, statement, claim, where)
    _references(path, statement, claim, where)
    return statement


def _read_entity(path: Path, entity: Any, where: str, read: _Read) -> None:
    qid = _get(path, entity, "id", str, f"{where}/id")
    if not _QID.fullmatch(qid):
        raise ListFileError(path, f"not an item id: {qid!r}", f"{where}/id")
    claims = entity.get("claims", {})
    if not isinstance(claims, dict):  # an entity without statements is written `"claims": []`
        claims = {}
    found = claims.get(PROPERTY, [])
    if not isinstance(found, list):
        raise ListFileError(path, f"claims {PROPERTY} is not a list", f"{where}/claims/{PROPERTY}")
    read.entity_ids.append(qid)
    if not found:
        return
    item = read.items.setdefault(qid, _Item())
    labels = entity.get("labels")
    label = labels.get("en") if isinstance(labels, dict) else None
    if isinstance(label, dict) and isinstance(label.get("value"), str):
        item.label = label["value"]
    aliases = entity.get("aliases")
    english = aliases.get("en", []) if isinstance(aliases, dict) else []
    item.aliases.extend(
        a["value"] for a in english if isinstance(a, dict) and isinstance(a.get("value"), str)
    )
    for index, claim in enumerate(found):
        read.statements.append(_claim(path, qid, claim, f"{where}/claims/{PROPERTY}/{index}"))


def _read_entity_data(path: Path, document: dict[str, Any]) -> _Read:
    entities = document["entities"]
    if not isinstance(entities, dict) or not entities:
        raise ListFileError(path, "entities is not an object of entities", "/entities")
    read = _Read("entity", [], {})
    for key, entity in entities.items():
        _read_entity(path, entity, f"/entities/{key}", read)
    return read


def _read_dump(path: Path, lines: Iterator[tuple[int, str]]) -> _Read:
    read = _Read("dump", [], {})
    closed = False
    for number, line in lines:
        text = line.strip()
        if not text:
            continue
        if closed:
            raise ListFileError(path, "text after the closing ']'", f"line {number}")
        if text == "]":
            closed = True
            continue
        if f'"{PROPERTY}"' not in text:
            continue
        try:
            entity = json.loads(text.removesuffix(","))
        except ValueError as exc:
            raise ListFileError(path, f"not a JSON entity: {exc}", f"line {number}") from None
        _read_entity(path, entity, f"line {number}: ", read)
    if not closed:
        raise ListFileError(path, "truncated dump: no closing ']'", "end of file")
    return read


# --- files ---------------------------------------------------------------------------------------


class _Hashing(io.RawIOBase):
    """Reads a binary file and digests every byte read."""

    def __init__(self, raw: io.BufferedReader) -> None:
        self.raw = raw
        self.hash = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self.raw.readinto(buffer)
        self.hash.update(memoryview(buffer)[:count])
        return count


def _decompressed(buffered: io.BufferedReader[_Hashing]) -> IO[bytes]:
    """The file's bytes, through gzip or bzip2 when its first bytes say it is compressed."""
    magic = buffered.peek(3)[:3]
    if magic[:2] == b"\x1f\x8b":
        return cast(IO[bytes], gzip.GzipFile(fileobj=buffered))
    if magic == b"BZh":
        return cast(IO[bytes], bz2.BZ2File(buffered))
    return buffered


def _numbered(stream: IO[str], first: int) -> Iterator[tuple[int, str]]:
    yield from enumerate(stream, start=first)


def _read_file(path: Path) -> tuple[_Read, str]:
    """Read the statements of `path` and the SHA-256 of its bytes."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise ListFileError(path, f"cannot read: {exc.strerror}") from None
    with raw:
        hashing = _Hashing(raw)
        buffered = io.BufferedReader(hashing, buffer_size=1 << 20)
        stream = io.TextIOWrapper(_decompressed(buffered), encoding="utf-8-sig")
        try:
            read = _read_stream(path, stream)
            while buffered.read(1 << 20):  # digest the whole file, whatever was parsed
                pass
        except UnicodeDecodeError:
            raise ListFileError(path, "not UTF-8 text") from None
        except (OSError, EOFError) as exc:
            raise ListFileError(path, f"cannot read: {exc}") from None
    return read, hashing.hash.hexdigest()


def _read_stream(path: Path, stream: IO[str]) -> _Read:
    first = stream.readline()
    if first.strip() == "[":
        return _read_dump(path, _numbered(stream, 2))
    try:
        document = json.loads(first + stream.read())
    except ValueError as exc:
        raise ListFileError(path, f"not JSON: {exc}") from None
    if isinstance(document, dict) and "entities" in document:
        return _read_entity_data(path, document)
    if isinstance(document, dict) and "results" in document:
        return _read_sparql(path, document)
    raise ListFileError(
        path,
        "neither SPARQL JSON results, a Wikidata JSON dump ('[' alone on the first line)"
        " nor Special:EntityData JSON",
        "/",
    )


def _name_date(path: Path) -> date | None:
    """The first real date in the file's name: 2025-05-01 or 20250501."""
    for match in _NAME_DATE.finditer(path.name):
        try:
            return date(int(match[1]), int(match[3]), int(match[4]))
        except ValueError:
            continue
    return None


def _source(path: Path, read: _Read, digest: str, version: date, retrieved: date) -> SourceFile:
    if read.kind == "sparql":
        key, url = f"wikidata-p3461-{version.isoformat()}", SPARQL_URL
        what = "Wikidata P3461 statements, SPARQL results"
    elif read.kind == "dump":
        dated = _DUMP_NAME.fullmatch(path.name)
        suffix = "".join(s for s in path.suffixes if s in (".gz", ".bz2"))
        url = DUMPS_URL + (f"{dated.group(1)}/{path.name}" if dated else f"latest-all.json{suffix}")
        key, what = f"wikidata-dump-{version.isoformat()}", "Wikidata JSON dump"
    else:
        first = read.entity_ids[0] if read.entity_ids else "entity"
        url = ENTITY_DATA_URL + f"{first}.json"
        key, what = f"wikidata-{first.lower()}-{version.isoformat()}", f"Wikidata entity {first}"
    return SourceFile(
        key=key,
        url=url,
        name=path.name,
        version=version,
        retrieved=retrieved,
        sha256=digest,
        lists=(),
        label=f"{what} ({path.name}), version of {version.isoformat()}",
        license=LICENSE,
    )


def import_paths(paths: Iterable[Path | str], *, retrieved: date | None = None) -> ImportResult:
    """Import P3461 statements from SPARQL JSON results, Wikidata JSON dumps or EntityData files.

    A file's version is the date in its name (`wikidata-20250421-all.json.gz`,
    `wikidata-p3461-2025-05-01.json`), else `retrieved`; `retrieved` defaults to that date, and
    a file with neither is refused. The same statement GUID in several files is one listing,
    attested by the files that say the same of it (the latest version's content and evidence win).
    """
    sources: list[SourceFile] = []
    skipped: list[str] = []
    by_guid: dict[str, Listing] = {}
    for each in paths:
        path = Path(each)
        named = _name_date(path)
        if named is None and retrieved is None:
            raise ListFileError(
                path, "no date in the file name: give the retrieval date (--retrieved)"
            )
        version = named or retrieved
        assert version is not None
        read, digest = _read_file(path)
        source = _source(path, read, digest, version, retrieved or version)
        sources.append(source)
        for statement in read.statements:
            item = read.items.get(statement.item, _Item())
            listing = _listing(path, statement, item, source, skipped)
            if listing is not None:
                by_guid[listing.entry_id] = _merge(by_guid.get(listing.entry_id), listing)
    return ImportResult(listings=list(by_guid.values()), sources=sources, skipped=skipped)


def _merge(old: Listing | None, new: Listing) -> Listing:
    """One listing per GUID: the later version's content, with every file that agrees with it."""
    if old is None:
        return new
    newer, older = (new, old) if new.sources[0].version >= old.sources[-1].version else (old, new)
    same = _content(newer) == _content(older)
    sources = tuple(sorted({*newer.sources, *older.sources})) if same else newer.sources
    return replace(newer, sources=sources)


def _content(listing: Listing) -> tuple[Any, ...]:
    return (
        listing.entity,
        listing.designator,
        listing.start,
        listing.ended,
        listing.end,
        listing.source_refs,
    )
