"""The web interface as a person uses it, in headless Chromium against a real server."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import Visit


def test_home_runs_an_example_in_yasgui_and_clicks_through_to_the_entity_and_its_sources(
    visit: Visit, yasgui_installed: None
) -> None:
    page = visit.open("/")
    expect(page.locator(".yasqe .CodeMirror")).to_be_visible()
    expect(page.locator("#plain-form")).to_be_hidden()
    visit.screenshot("home")

    page.locator("#example-01-recognizers-2025-07-04 a.load-example").click()
    editor_text = page.evaluate("window.diplokgYasgui.getTab().getQuery()")
    assert "2025-07-04" in editor_text
    page.locator(".yasqe_queryButton").click()
    table = page.locator(".yasr table")
    expect(table).to_contain_text("2025-07-03")
    russia = table.locator('a[href$="/resource/russia"]')
    expect(russia).to_have_count(1)
    assert russia.get_attribute("href") == "/resource/russia"
    visit.screenshot("home-results")

    csv = page.locator('#downloads a[data-format="csv"]').get_attribute("href")
    assert csv is not None and "2025-07-04" in httpx.URL(visit.base + csv).params["query"]
    response = httpx.get(visit.base + csv)
    assert response.headers["content-type"].startswith("text/csv")
    assert "https://w3id.org/diplokg/resource/russia" in response.text

    russia.click()
    expect(page).to_have_url(re.compile(r"/resource/russia$"))
    expect(page.locator("h1")).to_have_text("Russia")
    facts = page.locator("section", has=page.locator("#incoming-title"))
    recognition = facts.locator("li.fact", has_text="Russia recognizes the Islamic Emirate")
    expect(recognition.locator(".source")).to_contain_text("Report: Russia recognizes the Taliban")
    expect(recognition.locator("blockquote").first).to_be_visible()
    expect(page.locator('a[href="http://www.wikidata.org/entity/Q159"]')).to_be_visible()
    visit.screenshot("entity-russia")

    recognition.locator("h3 a").click()
    expect(page.locator("h1")).to_have_text("Russia recognizes the Islamic Emirate of Afghanistan")
    expect(page.locator("#sources-title")).to_be_visible()
    expect(page.locator(".sources blockquote").first).to_contain_text("officially recognized")
    visit.screenshot("entity-recognition")


def test_timeline_shows_the_recognition_and_the_end_of_the_designation(visit: Visit) -> None:
    page = visit.open("/timeline?year=2025")
    recognition = page.locator(
        'li[data-date="2025-07-03"]', has_text="Russia recognizes the Islamic Emirate"
    )
    expect(recognition).to_have_count(1)
    expect(recognition).to_contain_text("recognition")
    end = page.locator('li[data-date="2025-04-17"][data-what="end"]').filter(
        has_text="Russia designates the Taliban as terrorist"
    )
    expect(end).to_have_count(1)
    expect(end.locator(".meta a")).to_have_text(re.compile("Russia shocks world"))
    visit.screenshot("timeline")

    page.select_option("#filter-organization", label="Taliban")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"organization=taliban"))
    dates = page.locator("ol.timeline li").evaluate_all("els => els.map(e => e.dataset.date)")
    assert "2025-04-17" in dates and all(d.startswith("2025") for d in dates)
    visit.screenshot("timeline-taliban")

    page.locator("#timeline-years").get_by_role("link", name="2003").click()
    expect(page).to_have_url(
        re.compile(r"organization=taliban.*year=2003|year=2003.*organization=taliban")
    )
    starts = page.locator('ol.timeline li[data-what="start"]')
    expect(starts.first).to_be_visible()
    assert all(
        d.startswith("2003") for d in starts.evaluate_all("els => els.map(e => e.dataset.date)")
    )
    page.locator("#timeline-years").get_by_role("link", name="2025").click()
    expect(page.locator('#timeline-years a[aria-current="page"]')).to_have_text("2025")

    page.locator('li[data-what="end"]', has_text="(2003–2025)").locator("a").first.click()
    expect(page.locator("h1")).to_have_text(
        "Russia designates the Taliban as terrorist (2003–2025)"
    )


def test_plain_form_runs_a_query_without_javascript(visit_without_js: Visit) -> None:
    page = visit_without_js.open("/")
    page.fill(
        "#query",
        "SELECT ?state WHERE { ?r a dk:Recognition ; dk:recognizingState ?state }",
    )
    page.get_by_role("button", name="Run and show the table").click()
    table = page.locator("#results table")
    expect(table.locator('a[href="/resource/russia"]')).to_have_text("res:russia")
    visit_without_js.screenshot("home-no-javascript")
    json_link = page.locator('#downloads a[data-format="json"]').get_attribute("href")
    assert json_link is not None
    answer = httpx.get(visit_without_js.base + json_link).json()
    assert answer["results"]["bindings"][0]["state"]["value"].endswith("/resource/russia")


def test_pages_share_navigation_and_the_keyboard_reaches_the_content(visit: Visit) -> None:
    for path, name in [
        ("/ontology", "ontology"),
        ("/download/", "downloads"),
        ("/resource/", "browse"),
        ("/graph/entities", "graph-entities"),
    ]:
        page = visit.open(path)
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()
        expect(page.locator("main h1")).to_be_visible()
        visit.screenshot(name)
    page.keyboard.press("Tab")
    expect(page.locator("a.skip")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("#main$"))


def test_entity_page_is_readable_on_a_phone(visit_phone: Visit) -> None:
    page = visit_phone.open("/resource/designation-russia-taliban")
    expect(page.locator("h1")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the page scrolls sideways on a phone ({width}px)"
    visit_phone.screenshot("entity-phone")
