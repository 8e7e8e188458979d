"""The home page (query editor, examples, no-JS form) and the timeline (api.routers.ui)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from api.routers import ui
from graph.catalog import load_examples
from graph.namespaces import PREFIXES, RES
from tests.api.test_resources import HTML, Page


def config_of(html: str) -> dict[str, object]:
    start = html.index('id="diplokg-config">') + len('id="diplokg-config">')
    return dict(json.loads(html[start : html.index("</script>", start)]))


def test_home_lists_every_example_with_a_link_that_loads_it(client: TestClient) -> None:
    response = client.get("/", headers=HTML)
    assert response.status_code == 200
    page = Page(response.text)
    for example in load_examples():
        assert example.title in page.text
        assert f"/?example={example.name}#editor" in page.hrefs()
    loaded = Page(client.get("/?example=12-first-recognizer").text)
    assert "ORDER BY" in loaded.text and "dk:Recognition" in loaded.text


def test_home_configures_the_editor_for_this_server_only(client: TestClient) -> None:
    html = client.get("/").text
    config = config_of(html)
    assert config["endpoint"] == "/sparql"
    assert config["prefixes"] == PREFIXES
    assert set(config["examples"]) == {e.name for e in load_examples()}  # type: ignore[arg-type]
    for tag in ("<script src=", '<link rel="stylesheet" href='):
        for chunk in html.split(tag)[1:]:
            assert chunk.lstrip('"').startswith("/"), chunk[:80]


def test_home_without_vendor_assets_is_a_plain_form(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(ui, "VENDOR", tmp_path)
    html = client.get("/").text
    assert "yasgui.min.js" not in html
    assert 'id="plain-form"' in html and 'action="/sparql"' in html
    assert '<select id="format" name="format">' in html


def test_form_query_is_answered_as_a_table_with_local_links_and_downloads(
    client: TestClient,
) -> None:
    query = "SELECT ?state WHERE { ?r a dk:Recognition ; dk:recognizingState ?state }"
    page = Page(client.get("/", params={"query": query}).text)
    assert ("/resource/russia", "res:russia") in page.links
    downloads = {
        parse_qs(urlsplit(h).query)["format"][0]: h for h in page.hrefs() if "/sparql?" in h
    }
    assert set(downloads) >= {"csv", "json"}
    csv = client.get(downloads["csv"])
    assert csv.headers["content-type"].startswith("text/csv")
    assert str(RES["russia"]) in csv.text


def test_form_shows_ask_answers_and_syntax_errors(client: TestClient) -> None:
    ask = Page(client.get("/", params={"query": "ASK { res:russia a dk:State }"}).text)
    assert "Answer: yes" in ask.text
    broken = client.get("/", params={"query": "SELECT WHERE {"})
    assert broken.status_code == 400
    assert "The query failed" in Page(broken.text).text


def test_query_text_is_escaped_in_the_page(client: TestClient) -> None:
    hostile = "</textarea><script>alert(1)</script> ASK {}"
    html = client.get("/", params={"query": hostile}).text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;/textarea&gt;&lt;script&gt;" in html


def timeline_rows(html: str) -> list[tuple[str, str, str]]:
    """(date, what, link of the event) of each event of a timeline page."""
    rows = []
    for chunk in html.split("<li ")[1:]:
        if "data-date" not in chunk:
            continue
        date = chunk.split('data-date="')[1].split('"')[0]
        what = chunk.split('data-what="')[1].split('"')[0]
        link = Page(chunk).links[0][0]
        rows.append((date, what, link))
    return rows


def timeline(client: TestClient, **params: str) -> list[tuple[str, str, str]]:
    return timeline_rows(client.get("/timeline", params=params).text)


def bounds(client: TestClient, **params: str) -> dict[str, str]:
    """The link of each event shown with bounds -> the text in its date's place."""
    html = client.get("/timeline", params=params).text
    found = {}
    for chunk in html.split("<li ")[1:]:
        if 'data-bound="' in chunk:
            text = Page(chunk.split(">", 1)[1].split('<span class="badge')[0]).text
            found[Page(chunk).links[0][0]] = text
    return found


def links_in(html: str, element_id: str) -> list[tuple[str, str]]:
    """The links (href, text) inside the element with `element_id` (a nav, a p)."""
    start = html.index(f'id="{element_id}"')
    tag = html[html.rindex("<", 0, start) + 1 : start].split()[0]
    return Page(html[start : html.index(f"</{tag}>", start)]).links


def year_links(html: str) -> list[tuple[str, str]]:
    return links_in(html, "timeline-years")


def test_timeline_opens_on_the_latest_year_and_its_2025_page_has_every_event_of_the_query(
    client: TestClient,
) -> None:
    html = client.get("/timeline").text
    years = [text for _, text in year_links(html)]
    assert years == sorted(set(years)) and len(years) > 3
    assert f'<a href="/timeline?year={years[-1]}" aria-current="page">' in html
    example = next(e for e in load_examples() if e.name == "17-timeline")
    assert {d[:4] for d, *_ in example.expected} == {"2025"}
    answer = client.get("/sparql", params={"query": example.body, "format": "json"}).json()
    expected = sorted(
        {
            (
                b["date"]["value"],
                b["what"]["value"],
                b["event"]["value"].replace(str(RES), "/resource/"),
            )
            for b in answer["results"]["bindings"]
        }
    )
    assert len(expected) >= len(example.expected)
    rows = timeline(client, year="2025")
    dated = [r for r in rows if r[1] in {"start", "end", "date", "as of"}]
    plain = [r for r in dated if r[2] not in bounds(client, year="2025")]
    assert sorted(plain) == expected
    assert ("2025-07-03", "start", "/resource/recognition-russia-islamic-emirate") in rows
    assert ("2025-04-17", "end", "/resource/designation-russia-taliban") in rows


def test_timeline_pages_by_year_with_links_to_every_year_and_the_next_ones(
    client: TestClient,
    fast_store: str,
) -> None:
    html = client.get("/timeline", params={"year": "2025"}).text
    years = [text for _, text in year_links(html)]
    assert {"2003", "2021", "2024", "2025"} <= set(years)
    assert year_links(html) == [(f"/timeline?year={y}", y) for y in years]
    rows = timeline(client, year="2025")
    assert f"{len(rows)} dated events in 2025." in Page(html).text
    assert '<a href="/timeline?year=2025" aria-current="page">' in html
    before = years[years.index("2025") - 1]
    assert links_in(html, "pager-top")[0] == (f"/timeline?year={before}", f"← Earlier: {before}")
    assert links_in(html, "pager-bottom") == links_in(html, "pager-top")
    decree = "/resource/decree-putin-2024-terrorist-reclassification"
    assert ("2024", "date", decree) in timeline(client, year="2024")
    earliest = client.get("/timeline", params={"year": years[0]}).text
    assert links_in(earliest, "pager-top") == [
        (f"/timeline?year={years[1]}", f"Later: {years[1]} →")
    ]
    assert ("2003", "start", "/resource/designation-russia-taliban") in timeline(
        client, year="2003"
    )


def test_timeline_year_counts_are_the_events_each_year_page_shows(
    client: TestClient, fast_store: str
) -> None:
    html = client.get("/timeline", params={"organization": "taliban"}).text
    counts = dict(re.findall(r">([0-9]{4})</a> \(([0-9]+)\)", html))
    assert set(counts) == {text for _, text in year_links(html)}
    for year, n in counts.items():
        assert len(timeline(client, organization="taliban", year=year)) == int(n), year
    assert f"{sum(map(int, counts.values()))} in all years." in Page(html).text


def test_timeline_year_without_events_is_empty_with_links_to_the_nearest_years(
    client: TestClient,
    fast_store: str,
) -> None:
    years = [text for _, text in year_links(client.get("/timeline").text)]
    html = client.get("/timeline", params={"year": "1900"}).text
    assert "0 dated events in 1900." in Page(html).text
    assert [text for _, text in links_in(html, "pager-top")] == [f"Later: {years[0]} →"]
    future = client.get("/timeline", params={"year": "2999"}).text
    assert [text for _, text in links_in(future, "pager-top")] == [f"← Earlier: {years[-1]}"]


def test_timeline_pages_keep_the_filters(client: TestClient, fast_store: str) -> None:
    html = client.get("/timeline", params={"organization": "taliban"}).text
    designation = "/resource/designation-russia-taliban"
    assert {"2003", "2021", "2025"} <= {text for _, text in year_links(html)}
    assert all(h.startswith("/timeline?organization=taliban&year=") for h, _ in year_links(html))
    assert links_in(html, "pager-top")[0][0].startswith("/timeline?organization=taliban&year=")
    assert ("2025-04-17", "end", designation) in timeline(client, organization="taliban")
    assert ("2003", "start", designation) in timeline(client, organization="taliban", year="2003")


def test_timeline_ignores_a_year_that_is_not_a_year(client: TestClient) -> None:
    response = client.get("/timeline", params={"year": '2025") } #'})
    assert response.status_code == 200
    assert "Unknown filter value ignored: year" in Page(response.text).text
    assert timeline(client, year="20x5") == timeline(client)
    with pytest.raises(ValueError):
        ui.timeline_query([], '2025") } #')


def test_timeline_filters_by_state_and_organization(client: TestClient, fast_store: str) -> None:
    china = timeline(client, state="china")
    assert [r[2] for r in china] == ["/resource/engagement-china-islamic-emirate"]
    taliban = timeline(client, organization="taliban", year="2025")
    assert "/resource/designation-russia-taliban" in {r[2] for r in taliban}
    assert all("taliban" in r[2] for r in taliban)
    both = timeline(client, state="russia", organization="islamic-emirate-of-afghanistan")
    assert ("2025-07-03", "start", "/resource/recognition-russia-islamic-emirate") in both
    assert all("china" not in r[2] for r in both)


def test_timeline_ignores_unknown_filter_values(client: TestClient) -> None:
    for name in ("state", "list", "organization", "page"):
        response = client.get("/timeline", params={name: "atlantis"})
        assert response.status_code == 200
        assert f"Unknown filter value ignored: {name}." in Page(response.text).text
        assert timeline_rows(response.text) == timeline(client)


def test_timeline_filters_by_designating_state_and_list_given_as_slug_or_curie(
    client: TestClient,
    fast_store: str,
) -> None:
    curie = {"state": "res:united-states", "list": "res:list-us-fto", "year": "2021"}
    rows = timeline(client, **curie)
    assert rows == timeline(client, state="united-states", list="list-us-fto", year="2021")
    assert rows and all(r[2].startswith("/resource/listing-us-fto-") for r in rows)
    html = client.get("/timeline", params=curie).text
    assert "involving United States and US Foreign Terrorist Organizations" in Page(html).text
    assert '<option value="list-us-fto" selected>' in html
    assert '<option value="united-states" selected>' in html
    canada = timeline(client, list="list-ca-criminal-code", year="2013")
    assert canada and all(w == "listed" for _, w, _ in canada)


def test_timeline_shows_bounds_from_list_versions_never_a_day(
    client: TestClient, fast_store: str
) -> None:
    fto = bounds(client, list="list-us-fto", year="2021")
    assert fto["/resource/listing-us-fto-33983"] == "between 2021-11-23 and 2021-12-02"
    assert fto["/resource/listing-us-fto-4711"] == "between 2021-11-23 and 2021-12-02"
    taliban = bounds(client, organization="taliban", year="2021")
    assert taliban == {"/resource/listing-us-sdgt-6636": "no later than 2021-08-18"}
    html = client.get("/timeline", params={"organization": "taliban", "year": "2021"}).text
    assert "OFAC SDN list (sdn.csv), version of 2021-08-18" in Page(html).text


def test_timeline_pages_a_busy_year_showing_how_many_of_how_many(client: TestClient) -> None:
    html = client.get("/timeline", params={"year": "2021"}).text
    total = int(re.search(r"([0-9]+) dated events in 2021\.", Page(html).text).group(1))  # type: ignore[union-attr]
    assert total > ui.PAGE_SIZE
    assert f"Showing 1–{ui.PAGE_SIZE} ({ui.PAGE_SIZE} of {total})." in Page(html).text
    pages = links_in(html, "pages-top")
    assert [text for _, text in pages] == [str(n) for n in range(1, len(pages) + 1)]
    seen = []
    for href, _ in pages:
        seen += timeline_rows(client.get(href).text)
    assert len(seen) == total == len(set(seen))
    assert seen == sorted(seen, key=lambda r: r[0])
    assert pages[1][0] == "/timeline?year=2021&page=2"


def test_timeline_searches_organizations_by_name(client: TestClient, fast_store: str) -> None:
    html = client.get("/timeline", params={"q": "TALIBAN", "year": "2021"}).text
    links = {r[2] for r in timeline_rows(html)}
    assert "/resource/listing-us-sdgt-6636" in links  # the Taliban
    assert "/resource/listing-us-fto-12206" in links  # Tehrik-e Taliban Pakistan
    assert 'value="TALIBAN"' in html
    assert all("q=TALIBAN" in h for h, _ in year_links(html))
    none = client.get("/timeline", params={"q": "no such organization"})
    assert "No organization's name contains “no such organization”." in Page(none.text).text
    assert timeline_rows(none.text) == []


def test_timeline_form_offers_designating_states_and_lists_from_the_data(
    client: TestClient,
) -> None:
    html = client.get("/timeline").text
    designating = html.split('<optgroup label="Designating states">')[1].split("</optgroup>")[0]
    assert '<option value="united-states">' in designating
    assert '<option value="canada">' in designating
    assert '<option value="china">' not in designating
    lists = html.split('<select id="filter-list" name="list">')[1].split("</select>")[0]
    assert (
        '<option value="list-us-sdgt">US Specially Designated Global Terrorists</option>' in lists
    )
    assert 'name="q"' in html
