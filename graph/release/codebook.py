"""The release's codebook (`DIR/codebook.md` and `DIR/codebook.html`), generated, never edited.

Built from the `Table` descriptions that `graph.release.tables` and `graph.release.panel`
return and from the ontology: for every column, its type, meaning, allowed values and the
rdfs:comment of the ontology property behind it. Markdown (CommonMark tables) and a
self-contained HTML page carry the same content.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import pyoxigraph as ox

from graph.release.tables import SEPARATOR, Table, select

DATES = (
    "Dates keep the precision the source gives. A `*_date` column holds `YYYY`, `YYYY-MM` or "
    "`YYYY-MM-DD` and the `*_precision` column beside it says `year`, `month` or `day` (from "
    "the RDF literal's datatype: xsd:gYear, xsd:gYearMonth, xsd:date). Nothing is padded to an "
    "invented day. An end date is the first day the fact no longer held. When a listing's "
    "dates come from comparing versions of a list, the bounds say what is known: it began "
    "after `started_after` and no later than `started_no_later_than`; it was still in force on "
    "`ended_after` and had ended by `ended_no_later_than`. `has_ended` true with no end date "
    "means the source says it ended without saying when."
)
MULTI = (
    f'A cell with several values joins them with "{SEPARATOR}". An empty cell is a missing '
    "value: the graph says nothing. Each row is one fact node; several sources stating the "
    "same fact keep their own rows, linked by `same_fact_as`."
)
PANEL = (
    'The dyad-year panel reads a year as "yes" when a designation or recognition was '
    'certainly in force on some day of it, "unknown" when its dates or bounds allow but do '
    'not establish that, "no" otherwise (the graph is read as complete). Fact nodes linked '
    "by dk:sameFactAs count as one fact: from the earliest certain start any source gives, "
    "until any source dates an end."
)


def property_comments(store: ox.Store) -> dict[str, str]:
    """The English rdfs:comment of every property and class of the ontology."""
    query = (
        "SELECT ?p (MIN(STR(?c)) AS ?comment) WHERE { ?p rdfs:comment ?c "
        'FILTER(STRSTARTS(STR(?p), STR(dk:)) && LANGMATCHES(LANG(?c), "en")) } GROUP BY ?p'
    )
    return {
        row["p"].value: str(getattr(row["comment"], "value", "")) for row in select(store, query)
    }


def _sections(
    tables: Sequence[Table], comments: dict[str, str], version: str, citation: str
) -> list[tuple[str, list[str], list[list[str]]]]:
    """(heading, paragraphs, table rows) for each section, in order."""
    sections: list[tuple[str, list[str], list[list[str]]]] = [
        (f"DiploKG {version}: codebook", ["Generated from the ontology and the data package."], []),
        ("How to cite", [citation], []),
        ("Dates and precision", [DATES], []),
        ("Several values, missing values", [MULTI, PANEL], []),
    ]
    for table in tables:
        rows = [["column", "type", "meaning", "values", "ontology"]]
        for field in table.fields:
            ontology = ""
            if field.property:
                ontology = f"{field.property} {comments.get(field.property, '')}".strip()
            rows.append(
                [field.name, field.type, field.description, ", ".join(field.values), ontology]
            )
        about = [
            table.description,
            f"File `{table.path}`, {table.rows} rows; key: {', '.join(table.primary_key)}.",
        ]
        about += [
            f"`{', '.join(k.fields)}` refers to `{k.resource}.{', '.join(k.reference)}`."
            for k in table.foreign_keys
        ]
        sections.append((f"{table.title} (`{table.name}`)", about, rows))
    return sections


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown(sections: list[tuple[str, list[str], list[list[str]]]]) -> str:
    lines: list[str] = []
    for index, (heading, paragraphs, rows) in enumerate(sections):
        lines += [("# " if index == 0 else "## ") + heading, ""]
        for paragraph in paragraphs:
            lines += [paragraph, ""]
        if rows:
            lines.append("| " + " | ".join(rows[0]) + " |")
            lines.append("|" + "---|" * len(rows[0]))
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows[1:]]
            lines.append("")
    return "\n".join(lines)


def _html(sections: list[tuple[str, list[str], list[list[str]]]]) -> str:
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(sections[0][0])}</title>",
        "<style>body{font-family:sans-serif;max-width:70em;margin:auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em;"
        "vertical-align:top;text-align:left}</style></head><body>",
    ]
    for index, (heading, paragraphs, rows) in enumerate(sections):
        tag = "h1" if index == 0 else "h2"
        parts.append(f"<{tag}>{e(heading)}</{tag}>")
        parts += [f"<p>{e(p)}</p>" for p in paragraphs]
        if rows:
            parts.append("<table><tr>" + "".join(f"<th>{e(c)}</th>" for c in rows[0]) + "</tr>")
            parts += [
                "<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows[1:]
            ]
            parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_codebook(
    out_dir: Path,
    tables: Sequence[Table],
    store: ox.Store,
    version: str,
    citation: str,
) -> tuple[Path, Path]:
    """Write `out_dir/codebook.md` and `out_dir/codebook.html`; return their paths."""
    sections = _sections(tables, property_comments(store), version, citation)
    md, page = out_dir / "codebook.md", out_dir / "codebook.html"
    md.write_text(_markdown(sections), encoding="utf-8")
    page.write_text(_html(sections), encoding="utf-8")
    return md, page
