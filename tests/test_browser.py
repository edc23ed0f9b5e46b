"""The built book in a real browser: Debian chromium, opened from disk (file://), offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from planbook.chapters import catalogue as chapters

PERIOD = "2025"
CHAPTERS = [(c.key, c.title) for c in chapters.ANNUAL]
SEARCH_NAME = "老旧小区改造"  # an indicator of 三(二)2, found by its Chinese name
# the chapter links of the sidebar (its 技术附件 heading also links annex.pdf)
NAV = ".pb-nav a:not([href$='.pdf'])"


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    p = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    p.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.on("request", lambda r: requests.append(r.url))
    p.errors, p.requests = errors, requests
    yield p
    context.close()


@pytest.fixture(scope="module")
def index_url(sample_build) -> str:
    """The real 2025 book built from the shipped sample data."""
    return (sample_build / "reports" / PERIOD / "html" / "index.html").as_uri()


def test_pages_load_without_errors_and_every_image_shows(page, index_url):
    page.goto(index_url)
    hrefs = page.eval_on_selector_all(NAV, "els => els.map(e => e.href)")
    assert len(hrefs) == len(CHAPTERS) + 1  # + methodology
    for href in hrefs:
        page.goto(href)
        page.wait_for_load_state("load")
        sizes = page.eval_on_selector_all(
            "img", "els => els.map(e => [e.getAttribute('src'), e.complete, e.naturalWidth])")
        for src, complete, width in sizes:
            assert complete and width > 0, f"{href}: image {src} did not load"
        assert page.locator(".pb-sample-banner").is_visible()
    assert page.errors == []
    assert all(u.startswith("file://") for u in page.requests), page.requests


def test_sidebar_navigates_to_each_chapter(page, index_url):
    page.goto(index_url)
    count = page.locator(NAV).count()
    titles = []
    for i in range(count):
        link = page.locator(NAV).nth(i)
        expected = link.locator("span").last.inner_text()
        link.click()
        page.wait_for_load_state("load")
        assert expected in page.locator("h1").first.inner_text()
        assert page.locator(".pb-nav a.active").inner_text().endswith(expected)
        titles.append(expected)
    assert [t for _, t in CHAPTERS][1:6] == titles[1:6]
    assert page.errors == []


def test_search_finds_an_indicator_by_its_chinese_name(page, index_url):
    page.goto(index_url)
    page.fill("#pb-search-input", SEARCH_NAME)
    results = page.locator("#pb-search-results a")
    results.first.wait_for(state="visible", timeout=5000)
    assert results.count() > 1
    assert SEARCH_NAME in results.first.inner_text()
    results.nth(1).click()
    page.wait_for_load_state("load")
    assert SEARCH_NAME in page.locator("main").inner_text()
    assert page.errors == []


def test_screenshot_of_the_summary_page(page, index_url):
    page.goto(index_url)
    page.wait_for_load_state("load")
    html_dir = Path(index_url.removeprefix("file://")).parent
    shot = html_dir.parent / "screenshot-summary.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000
    assert page.errors == []
