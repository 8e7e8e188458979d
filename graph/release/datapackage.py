"""The release's Frictionless Data Package (`DIR/datapackage.json`).

Frictionless Data Package v2 (https://datapackage.org/standard/data-package/), readable by v1
tools: one tabular data resource per CSV that `graph.release.tables` and `graph.release.panel`
write, with its Table Schema (field types, primary key, foreign keys, missing values), under
CC-BY-4.0. Keys are written in a stable order; the only date is the release date passed in.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from graph.release.tables import Field, Table

PACKAGE_FILE = "datapackage.json"
PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
RESOURCE_PROFILE = "https://datapackage.org/profiles/2.0/dataresource.json"
SCHEMA_PROFILE = "https://datapackage.org/profiles/2.0/tableschema.json"
LICENSE = {
    "name": "CC-BY-4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
    "title": "Creative Commons Attribution 4.0",
}


def _field(field: Field) -> dict[str, Any]:
    described: dict[str, Any] = {
        "name": field.name,
        "type": field.type,
        "description": field.description,
    }
    if field.property:
        described["rdfType"] = field.property
    if field.values:
        described["constraints"] = {"enum": list(field.values)}
    return described


def _schema(table: Table) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "$schema": SCHEMA_PROFILE,
        "fields": [_field(f) for f in table.fields],
        "missingValues": list(table.missing_values),
        "primaryKey": list(table.primary_key),
    }
    if table.foreign_keys:
        schema["foreignKeys"] = [
            {
                "fields": list(key.fields),
                "reference": {"resource": key.resource, "fields": list(key.reference)},
            }
            for key in table.foreign_keys
        ]
    return schema


def _resource(table: Table) -> dict[str, Any]:
    return {
        "$schema": RESOURCE_PROFILE,
        "name": table.name,
        "type": "table",
        "path": table.path,
        "title": table.title,
        "description": table.description,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "dialect": {"delimiter": ",", "lineTerminator": "\r\n", "quoteChar": '"', "header": True},
        "schema": _schema(table),
        "licenses": [LICENSE],
    }


def package(tables: Sequence[Table], version: str, release_date: str) -> dict[str, Any]:
    """The data package descriptor of the tables, as a JSON-ready dict."""
    return {
        "$schema": PROFILE,
        "name": "diplokg",
        "id": "https://w3id.org/diplokg/",
        "title": "DiploKG: diplomatic recognition and terrorist designations, as tables",
        "description": (
            "Tables of the DiploKG knowledge graph for people who do not use RDF: one CSV per "
            "fact type, the states with their ISO 3166-1, Gleditsch-Ward and Correlates of War "
            "codes, and a directed dyad-year panel (also as Stata .dta and Parquet beside the "
            "CSV). See codebook.md."
        ),
        "version": version,
        "created": f"{release_date}T00:00:00Z",
        "homepage": "https://w3id.org/diplokg/",
        "licenses": [LICENSE],
        "contributors": [{"title": "DiploKG contributors", "roles": ["author"]}],
        "keywords": ["diplomatic recognition", "terrorist designation", "sanctions", "dyad-year"],
        "resources": [_resource(t) for t in tables],
    }


def write_datapackage(
    out_dir: Path, tables: Sequence[Table], version: str, release_date: str
) -> Path:
    """Write `out_dir/datapackage.json` describing the tables; return its path."""
    path = out_dir / PACKAGE_FILE
    text = json.dumps(package(tables, version, release_date), indent=2, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path
