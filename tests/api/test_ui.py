"""The home page (query editor, examples, no-JS form) and the timeline (api.routers.ui)."""

from __future__ import annotations

import json
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


def timeline(client: TestClient, **params: str) -> list[tuple[str, str, str]]:
    html = client.get("/timeline", params=params).text
    rows = []
    for chunk in html.split("<li ")[1:]:
        if "data-date" not in chunk:
            continue
        date = chunk.split('data-date="')[1].split('"')[0]
        what = chunk.split('data-what="')[1].split('"')[0]
        link = Page(chunk).links[0][0]
        rows.append((date, what, link))
    return rows


def links_in(html: str, element_id: str) -> list[tuple[str, str]]:
    """The links (href, text) inside the element with `element_id` (a nav, a p)."""
    start = html.index(f'id="{element_id}"')
    tag = html[html.rindex("<", 0, start) + 1 : start].split()[0]
    return Page(html[start : html.index(f"</{tag}>", start)]).links


def test_timeline_opens_on_the_latest_year_with_every_event_of_the_timeline_query(
    client: TestClient,
) -> None:
    expected = next(e for e in load_examples() if e.name == "17-timeline").expected
    assert {d[:4] for d, *_ in expected} == {"2025"}
    rows = timeline(client)
    assert [(d, w, "/resource/" + e.removeprefix("res:")) for d, e, _, w, _ in expected] == rows
    assert ("2025-07-03", "start", "/resource/recognition-russia-islamic-emirate") in rows
    assert ("2025-04-17", "end", "/resource/designation-russia-taliban") in rows


def test_timeline_pages_by_year_with_links_to_every_year_and_the_next_ones(
    client: TestClient,
) -> None:
    html = client.get("/timeline").text
    assert "9 dated events in 2025." in Page(html).text
    years = links_in(html, "timeline-years")
    assert years == [(f"/timeline?year={y}", y) for y in ("2003", "2024", "2025")]
    assert '<a href="/timeline?year=2025" aria-current="page">' in html
    assert links_in(html, "pager-top") == [("/timeline?year=2024", "← Earlier: 2024")]
    assert links_in(html, "pager-bottom") == links_in(html, "pager-top")
    decree = "/resource/decree-putin-2024-terrorist-reclassification"
    assert timeline(client, year="2024") == [("2024", "date", decree)]
    earliest = client.get("/timeline", params={"year": "2003"}).text
    assert links_in(earliest, "pager-top") == [("/timeline?year=2024", "Later: 2024 →")]
    assert timeline(client, year="2003") == [
        ("2003", "start", "/resource/designation-russia-taliban")
    ]


def test_timeline_year_without_events_is_empty_with_links_to_the_nearest_years(
    client: TestClient,
) -> None:
    html = client.get("/timeline", params={"year": "2010"}).text
    assert "0 dated events in 2010." in Page(html).text
    assert [text for _, text in links_in(html, "pager-top")] == [
        "← Earlier: 2003",
        "Later: 2024 →",
    ]


def test_timeline_pages_keep_the_filters(client: TestClient) -> None:
    html = client.get("/timeline", params={"organization": "taliban"}).text
    designation = "/resource/designation-russia-taliban"
    assert [text for _, text in links_in(html, "timeline-years")] == ["2003", "2025"]
    earlier = "/timeline?organization=taliban&year=2003"
    assert links_in(html, "pager-top") == [(earlier, "← Earlier: 2003")]
    assert timeline(client, organization="taliban") == [("2025-04-17", "end", designation)]
    assert timeline(client, organization="taliban", year="2003") == [("2003", "start", designation)]


def test_timeline_ignores_a_year_that_is_not_a_year(client: TestClient) -> None:
    response = client.get("/timeline", params={"year": '2025") } #'})
    assert response.status_code == 200
    assert "Unknown filter value ignored: year" in Page(response.text).text
    assert timeline(client, year="20x5") == timeline(client)
    with pytest.raises(ValueError):
        ui.timeline_query([], '2025") } #')


def test_timeline_filters_by_state_and_organization(client: TestClient) -> None:
    china = timeline(client, state="china")
    assert [r[2] for r in china] == ["/resource/engagement-china-islamic-emirate"]
    taliban = timeline(client, organization="taliban")
    assert {r[2] for r in taliban} == {"/resource/designation-russia-taliban"}
    both = timeline(client, state="russia", organization="islamic-emirate-of-afghanistan")
    assert ("2025-07-03", "start", "/resource/recognition-russia-islamic-emirate") in both
    assert all("china" not in r[2] for r in both)


def test_timeline_ignores_unknown_filter_values(client: TestClient) -> None:
    response = client.get("/timeline", params={"state": "atlantis"})
    assert response.status_code == 200
    assert "Unknown filter value ignored" in Page(response.text).text
    assert len(timeline(client, state="atlantis")) == len(timeline(client))
