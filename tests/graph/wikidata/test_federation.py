"""The federated example queries (docs/federation/*.rq) run against the local Wikidata stand-in."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Dataset

from graph.query import parse, run_query
from tests.support.wikidata_standin import StandIn

QUERIES = Path(__file__).resolve().parents[3] / "docs" / "federation"
WIKIDATA = "https://query.wikidata.org/sparql"


def run(ds: Dataset, standin: StandIn, name: str) -> list[dict[str, str]]:
    text = (QUERIES / name).read_text(encoding="utf-8")
    assert f"SERVICE <{WIKIDATA}>" in text
    result = run_query(ds, text.replace(WIKIDATA, standin.url))
    return [
        {str(k): str(v) for k, v in row.asdict().items()}  # type: ignore[union-attr]
        for row in result
    ]


@pytest.mark.parametrize("path", sorted(QUERIES.glob("*.rq")), ids=lambda p: p.name)
def test_federated_query_is_sparql_11_with_a_wikidata_service(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    parse(text)
    assert f"SERVICE <{WIKIDATA}>" in text


def test_recognizers_get_population_and_capital_from_wikidata(
    seed_dataset: Dataset, standin: StandIn
) -> None:
    rows = run(seed_dataset, standin, "recognizers-population-capital.rq")
    assert rows == [
        {
            "state": "https://w3id.org/diplokg/resource/russia",
            "name": "Russia",
            "since": "2025-07-03",
            "item": "http://www.wikidata.org/entity/Q159",
            "population": "146000000",
            "capitalLabel": "Moscow",
        }
    ]


def test_designating_states_get_population_and_keep_their_dates(
    seed_dataset: Dataset, standin: StandIn
) -> None:
    rows = run(seed_dataset, standin, "designating-states-population.rq")
    names = [r["name"] for r in rows]
    assert names == ["Kazakhstan", "Kyrgyzstan", "Russia", "United States", "Uzbekistan"]
    russia = rows[2]
    # one row per state: the seed's "2003" and the news pages' 14 February 2003
    assert set(russia["starts"].split()) == {"2003", "2003-02-14"}
    assert (russia["ends"], russia["population"]) == ("2025-04-17", "146000000")
    assert rows[3].get("ended") in (None, "false")  # the US SDGT listing stands
    assert not rows[0].get("starts") and rows[0]["ended"] == "true"


def test_unlinked_entities_find_same_label_items_with_their_types(
    seed_dataset: Dataset, standin: StandIn
) -> None:
    rows = run(seed_dataset, standin, "unlinked-entities-label-matches.rq")
    pairs = {(r["label"], r["item"].rsplit("/", 1)[1]) for r in rows}
    assert ("Islamic State – Khorasan Province", "Q90000001") in pairs
    assert ("Gul Hassan", "Q90000005") in pairs and ("Gul Hassan", "Q90000006") in pairs
    assert all(r["label"] != "Russia" for r in rows)  # linked entities are left out


def test_service_calls_pass_the_bindings_so_wikidata_gets_small_queries(
    seed_dataset: Dataset, standin: StandIn
) -> None:
    start = len(standin.requests)
    run(seed_dataset, standin, "designating-states-population.rq")
    calls = standin.requests[start:]
    assert len(calls) == 5  # one per state
    assert all(c.query is not None and "VALUES" in c.query for c in calls)
