"""Every page of both outputs for every reader: axe-core finds no serious or critical
violation, and on a 390 px phone no page scrolls sideways (tables and charts scroll inside
their own box). Debian chromium over file://; axe-core from npm (`make pa11y`), driven by
axe-playwright-python."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

BRIEFING = "2026-10"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def outputs(site_build) -> list[Path]:
    """Every HTML page of the 2025 book (chapters and code pages), of the 2026-10 briefing and
    the portal, built from the shipped sample data (the session's `site_build`)."""
    pages = []
    for period in ("2025", BRIEFING):
        html = site_build / "reports" / period / "html"
        pages += sorted(html.glob("*.html")) + sorted((html / "code").glob("*.html"))
    pages.append(site_build / "reports" / "index.html")  # the portal of every period
    assert any("/code/" in p.as_posix() for p in pages) and len(pages) > 10
    return pages


# axe reports only its violations: every rule still runs on every node, but the selectors and
# details of the passes (most of the nodes) are not built. Half the time on the 指标档案
# (21 s against 43 s), and the same violations on every page of 2025.
ONLY_VIOLATIONS = {"resultTypes": ["violations"]}
# axe-core from npm (`make pa11y` installs it beside pa11y): 4.14.1 ran the 指标档案 in 7 s,
# where the 4.12.1 bundled in axe-playwright-python took 20-30 s (and pa11y's 4.13.0 longer).
AXE_CORE = Path(__file__).parent / "pa11y" / "node_modules" / "axe-core" / "axe.min.js"
AXE_VERSION = "4.14.1"


def axe():
    """axe-core for playwright: npm's AXE_VERSION, else (no npm) the bundled one, said once."""
    from axe_playwright_python.sync_playwright import Axe

    if AXE_CORE.is_file():
        return Axe.from_file(AXE_CORE)
    warnings.warn(f"axe-core {AXE_VERSION} is not installed (`make pa11y`): the axe checks run "
                  "the older axe-core bundled in axe-playwright-python", stacklevel=2)
    return Axe()


def serious_violations(checker, page) -> list[str]:
    """axe-core's serious and critical violations on the page loaded in `page` (`checker`:
    axe())."""
    result = checker.run(page, options=ONLY_VIOLATIONS)
    if AXE_CORE.is_file():
        assert result.response["testEngine"]["version"] == AXE_VERSION
    return [f"{v['id']} ({v['impact']}): " + "; ".join(str(n["target"]) for n in v["nodes"][:3])
            for v in result.response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "390px"])
def test_no_serious_axe_violation_on_any_page(browser, outputs, viewport):
    checker = axe()
    page = browser.new_page(viewport=viewport)
    found = {}
    for path in outputs:
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        problems = serious_violations(checker, page)
        if problems:
            found[path.relative_to(path.parents[3]).as_posix()] = problems
    page.close()
    assert found == {}


def test_axe_with_only_violations_still_finds_a_faint_text_and_a_nameless_image(browser,
                                                                              tmp_path):
    """The check above asks axe for its violations only: a page with the kinds of fault it
    must catch (text too faint, an image without a text alternative) is still refused."""
    # Latin text: this bare page has no CJK font, and axe skips text drawn without glyphs
    # (the book's pages carry their own CJK font, and axe checks their Chinese text).
    bad = tmp_path / "bad.html"
    bad.write_text('<!doctype html><html lang="en"><head><title>Bad page</title></head><body>'
                   '<main><p style="color:#ddd;background:#fff">Completion 35.0%</p>'
                   '<img src="x.png"></main></body></html>', encoding="utf-8")
    page = browser.new_page(viewport=DESKTOP)
    page.goto(bad.as_uri())
    found = serious_violations(axe(), page)
    page.close()
    assert {f.split(" ")[0] for f in found} == {"color-contrast", "image-alt"}, found


def test_no_page_scrolls_sideways_on_a_phone(browser, outputs):
    page = browser.new_page(viewport=PHONE)
    wide = {}
    for path in outputs:
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        extra = page.evaluate("document.documentElement.scrollWidth"
                              " - document.documentElement.clientWidth")
        if extra > 0:
            wide[path.relative_to(path.parents[3]).as_posix()] = extra
    page.close()
    assert wide == {}


def test_keyboard_reaches_the_content_first_and_sees_where_it_is(browser, outputs):
    page = browser.new_page(viewport=DESKTOP)
    page.goto(outputs[0].as_uri())
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.className, document.activeElement.href,"
                            " getComputedStyle(document.activeElement).outlineStyle]")
    assert focused[0] == "pb-skip" and focused[1].endswith("#pb-main")
    assert focused[2] != "none"  # a visible focus ring
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "pb-main"
    page.close()


def test_search_results_are_not_clipped_by_the_sidebar(browser, outputs):
    page = browser.new_page(viewport=DESKTOP)
    page.goto(outputs[0].as_uri())
    page.fill("#pb-search-input", "老旧小区")
    page.locator("#pb-search-results a").first.wait_for(state="visible", timeout=5000)
    side = page.locator("#pb-sidebar").bounding_box()
    for box in page.eval_on_selector_all("#pb-search-results li", "els => els.map(e => {"
                                         " const r = e.getBoundingClientRect();"
                                         " return [r.left, r.right]; })"):
        assert side["x"] <= box[0] and box[1] <= side["x"] + side["width"]
    page.close()


def test_phone_navigation_collapses_and_opens(browser, outputs):
    page = browser.new_page(viewport=PHONE)
    page.goto(outputs[0].as_uri())
    page.wait_for_load_state("load")
    assert not page.locator("#pb-nav").is_visible()
    toggle = page.locator(".pb-nav-toggle")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    assert page.locator("#pb-nav").is_visible()
    assert toggle.get_attribute("aria-expanded") == "true"
    page.close()


def test_every_figure_offers_its_numbers_and_code_pages_carry_the_sample_banner(browser,
                                                                               outputs):
    page = browser.new_page(viewport=DESKTOP)
    figures = 0
    for path in outputs:
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        if "/code/" in path.as_posix():
            assert page.locator(".pb-sample-banner").is_visible(), path
            continue
        for fig in page.locator("figure.pb-figure").all():
            figures += 1
            details = fig.locator("details.pb-figdata")
            assert details.count() == 1, f"{path.name}: {fig.get_attribute('id')}"
            details.locator("summary").click()
            assert details.locator("table tbody tr").count() >= 1
    assert figures > 10
    page.close()
