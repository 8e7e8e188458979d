"""The table of listings on entity pages (api.linkeddata.render.listings_table): an
organization's designations and listings, a list version's entries, paged."""

from __future__ import annotations

from fastapi.testclient import TestClient
from rdflib import Dataset
from rdflib.namespace import RDF

from api.linkeddata.describe import LISTINGS_SHOWN
from graph.namespaces import DK, RES
from tests.api.test_resources import HTML, Page

LISTING_CLASSES = {DK.TerrorDesignation, DK.SanctionsListing, DK.Listing}


def listings_pointing_to(ds: Dataset, slug: str) -> int:
    """How many listings have a triple pointing to the resource, in any named graph."""
    pointing = {s for s, _, _, _ in ds.quads((None, None, RES[slug], None))}
    return sum(
        1
        for s in pointing
        if any(t in LISTING_CLASSES for _, _, t, _ in ds.quads((s, RDF.type, None, None)))
    )


def table_rows(html: str) -> list[list[str]]:
    """The cells' text of each row of the listings table."""
    table = html[html.index('<table class="listings">') :]
    table = table[: table.index("</table>")]
    rows = []
    for row in table.split("<tr>")[2:]:
        cells = row.replace("<th", "<td").split("<td")[1:]
        rows.append([Page("<td" + c).text for c in cells])
    return rows


def test_organization_page_tables_every_listing_of_the_taliban(
    client: TestClient, seed_dataset: Dataset
) -> None:
    html = client.get("/resource/taliban", headers=HTML).text
    rows = table_rows(html)
    total = listings_pointing_to(seed_dataset, "taliban")
    assert len(rows) == total
    assert f"{total} listings" in Page(html).text
    by_entry = {r[4]: r for r in rows if r[4]}
    us = by_entry["6636"]  # OFAC's entry number: the start is only bounded by the first version
    assert us[2:4] == ["United States", "US Specially Designated Global Terrorists"]
    assert us[6] == "no later than 2021-08-18"
    assert us[8] == "OFAC SDN list (sdn.csv), version of 2021-08-18 (2021-08-18)"
    canada = by_entry["53"]
    assert canada[2] == "Canada" and canada[5] == "2013-05-09"  # the list's own listing date
    russia = [r for r in rows if r[2] == "Russia" and r[6] == "2003"]
    assert russia and russia[0][7] == "2025-04-17"
    links = Page(html).hrefs()
    assert "/resource/source-us-sdn-2021-08-18" in links
    assert "/resource/list-us-sdgt" in links and "/resource/united-states" in links
    assert "/resource/article-russia-removes-taliban-from-terror-list" in links


def test_ended_listings_show_their_end_bounds_and_kind(client: TestClient, fast_store: str) -> None:
    html = client.get("/resource/list-us-fto", headers=HTML, params={"page": "1"}).text
    assert "between 2021-11-23 and 2021-12-02 (delisting)" in Page(html).text


def test_list_version_page_pages_its_listings_without_their_evidence(
    client: TestClient, fast_store: str, seed_dataset: Dataset
) -> None:
    path = "/resource/source-us-sdn-2021-08-18"
    total = listings_pointing_to(seed_dataset, "source-us-sdn-2021-08-18")
    assert total > LISTINGS_SHOWN
    first = client.get(path, headers=HTML).text
    assert f"1–{LISTINGS_SHOWN} shown ({LISTINGS_SHOWN} of {total})" in Page(first).text
    second = client.get(path, headers=HTML, params={"page": "2"}).text
    assert table_rows(first) != table_rows(second)
    assert len(table_rows(second)) == min(LISTINGS_SHOWN, total - LISTINGS_SHOWN)
    assert "?page=2#listings" in Page(first).hrefs()
    # each entry is a row of the table, not a fact with its verbatim CSV line
    assert "FTO] [SDGT" not in first


def test_a_page_beyond_the_last_has_no_rows_but_the_count(client: TestClient) -> None:
    html = client.get("/resource/isil", headers=HTML, params={"page": "999"}).text
    assert "listings" in Page(html).text
    assert client.get("/resource/isil", headers=HTML, params={"page": "x"}).status_code == 200
