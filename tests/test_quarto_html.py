"""The 2025 book rendered by a real Quarto (`quarto_build`), read in Chromium as a reader gets
it: flat URLs, Chinese in the shipped web font (Chromium's own report of the fonts it drew
each text with), the built-in pages' stamp, banner, downloads, 指标档案 labels, evaluator frame
and policy, axe-core with no serious or critical violation at 1280 and 390 px, no page
scrolling sideways on a phone. Quarto's pages load scripts as ES modules, which browsers
refuse from file://, so they are read over a local HTTP server (as Quarto means them to be).

The font check is run on the built-in engine's pages too (`sample_build`)."""

from __future__ import annotations

import asyncio
import functools
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import ARGS, CHROMIUM
from test_a11y import DESKTOP, PHONE, axe, serious_violations

from planbook.book.spec import SAMPLE_NOTICE
from planbook.chapters.catalogue import DOSSIER_PAGE

PERIOD = "2025"
# The 指标档案 page (79 charts, 3 MB of HTML) takes long to load on a busy machine.
LOAD_MS = 180_000
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@pytest.fixture(scope="module")
def served(quarto_build) -> Iterator[str]:
    """reports/ of the Quarto build over http://127.0.0.1 (a thread of this process)."""
    handler = functools.partial(_Quiet, directory=str(quarto_build / "reports"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # the test output is for failures
        pass


def _html(root: Path) -> Path:
    return root / "reports" / PERIOD / "html"


def _pages(root: Path) -> list[Path]:
    """Every HTML page a reader can open: the book's pages and the code pages."""
    html = _html(root)
    return sorted(html.glob("*.html")) + sorted((html / "code").glob("*.html"))


def _url(base: str, root: Path, path: Path) -> str:
    return f"{base}/{path.relative_to(root / 'reports').as_posix()}"


# --- flat URLs, what every page carries ------------------------------------------------------

def test_pages_sit_flat_with_the_built_in_engines_names(quarto_build):
    from planbook.book.spec import book_spec
    from planbook.run.period import resolve

    html = _html(quarto_build)
    expected = {p.html_name for p in book_spec(resolve(PERIOD, quarto_build)).pages}
    assert expected <= {p.name for p in html.glob("*.html")}
    assert not (html / "build").exists() and not (html / "book").exists()
    for path in [*_pages(quarto_build), html / "search.json"]:
        text = path.read_text(encoding="utf-8")
        assert "build/quarto" not in text and "../" * 3 not in text, path.name
    # the staging folder is no reader's business: Quarto's sidebar links the flat pages
    index = (html / "index.html").read_text(encoding="utf-8")
    assert 'href="./02_county.html"' in index or 'href="02_county.html"' in index


def test_every_page_has_the_stamp_banner_policy_and_no_remote_script(quarto_build):
    stamp = re.compile(r'class="pb-stamp">2025年 · 数据截至2026年3月31日 · 第1版（[^<]+）<')
    for path in _pages(quarto_build):
        text = path.read_text(encoding="utf-8")
        assert stamp.search(text), path.name
        assert f'class="pb-sample-banner" role="region" aria-label="数据说明">{SAMPLE_NOTICE}<' \
            in text, path.name
        head = text[:text.index("</head>")]
        policy = head.index('http-equiv="Content-Security-Policy"')  # first: it governs what follows
        assert "<script" not in head[:policy], path.name
        assert not re.search(r'<script[^>]+src="(https?:)?//', text), path.name
        if "/code/" not in path.as_posix():
            assert 'href="assets/book.css"' in head and 'href="assets/quarto.css"' in head


def test_tables_link_their_downloads_and_the_dossier_its_uses(quarto_build):
    html = _html(quarto_build)
    tables = 0
    for path in sorted(html.glob("*.html")):
        text = path.read_text(encoding="utf-8")
        for label in re.findall(r'href="downloads/(tbl-[\w-]+)\.csv"', text):
            tables += 1
            assert f'href="downloads/{label}.xlsx"' in text, label
            assert (html / "downloads" / f"{label}.csv").is_file(), label
            assert (html / "downloads" / f"{label}.xlsx").is_file(), label
    # every table download the render wrote is linked from a caption
    written = {p.stem for p in (html / "downloads").glob("tbl-*.csv")}
    assert tables == len(written) > 100
    dossier = (html / f"{DOSSIER_PAGE}.html").read_text(encoding="utf-8")
    assert "使用本指标的图、表和数字见附录" not in dossier  # the placeholder is filled
    uses = re.findall(r'class="pb-uses"[^>]*>(.*?)</div>', dossier, re.S)
    assert len(uses) == 107
    # figures and tables as cross-references Quarto resolved into links to their pages
    assert any(re.search(r'<a href="0\d_\w+\.html#fig-[\w-]+"', u) for u in uses)


# --- in the browser --------------------------------------------------------------------------

async def cjk_misses(page) -> tuple[int, list[str]]:
    """(text nodes with Han characters drawn, those not drawn in a CJK font): Chromium's own
    account of the fonts it used for each text node (CDP CSS.getPlatformFontsForNode). A
    node whose Han characters outnumber the glyphs drawn from CJK fonts fell back to another
    font (a tofu box on a machine without CJK fonts). Every node is asked; the questions are
    sent a batch at a time rather than each waiting for the last answer (a page holds
    thousands of nodes, and one round trip each cost about two minutes a book)."""
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("DOM.enable")
    await cdp.send("CSS.enable")
    nodes: list[dict] = []

    def walk(node: dict) -> None:
        if node.get("nodeType") == 3 and HAN.search(node.get("nodeValue", "")):
            nodes.append(node)
        for child in node.get("children") or []:
            walk(child)

    walk((await cdp.send("DOM.getDocument", {"depth": -1}))["root"])
    drawn, misses = 0, []
    for start in range(0, len(nodes), 200):
        batch = nodes[start:start + 200]
        answers = await asyncio.gather(*(
            cdp.send("CSS.getPlatformFontsForNode", {"nodeId": n["nodeId"]}) for n in batch))
        for node, answer in zip(batch, answers, strict=True):
            fonts = answer["fonts"]
            if not fonts:
                continue  # not rendered (a closed <details>, a collapsed menu)
            drawn += 1
            cjk = sum(f["glyphCount"] for f in fonts if "CJK" in f["familyName"])
            if cjk < len(HAN.findall(node["nodeValue"])):
                misses.append(f"{node['nodeValue'][:20]!r}: "
                              + ", ".join(f"{f['familyName']}×{f['glyphCount']}" for f in fonts))
    await cdp.detach()
    return drawn, misses


def _page(browser, viewport):
    page = browser.new_page(viewport=viewport)
    page.set_default_timeout(LOAD_MS)
    return page


def _fonts_everywhere(urls: list[str]) -> dict[str, list[str]]:
    """{url: first misses} over every page, in a Chromium of its own driven by playwright's
    asyncio API (so the font questions can be pipelined), in a thread of its own (the sync
    API of the other tests keeps its loop on this one). Its tests still take `browser`: without
    Chromium they are skipped as the others are."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _fonts_on(urls)).result()


async def _fonts_on(urls: list[str]) -> dict[str, list[str]]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS,
                                            headless=True)
        page = await chromium.new_page(viewport=DESKTOP)
        page.set_default_timeout(LOAD_MS)
        found, drawn = {}, 0
        for url in urls:
            await page.goto(url)
            await page.wait_for_load_state("load")
            await page.evaluate("document.fonts.ready.then(() => true)")
            n, misses = await cjk_misses(page)
            drawn += n
            if misses:
                found[url] = misses[:3]
        await chromium.close()
    assert drawn > 1000
    return found


def test_chinese_is_drawn_in_the_shipped_cjk_font_on_every_quarto_page(browser, quarto_build,
                                                                       served):
    urls = [_url(served, quarto_build, p) for p in _pages(quarto_build)]
    assert _fonts_everywhere(urls) == {}


def test_chinese_is_drawn_in_the_shipped_cjk_font_on_every_built_in_page(browser,
                                                                         sample_build):
    assert _fonts_everywhere([p.as_uri() for p in _pages(sample_build)]) == {}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "390px"])
def test_no_serious_axe_violation_on_any_quarto_page(browser, quarto_build, served, viewport):
    checker = axe()
    page = _page(browser, viewport)
    found = {}
    for path in _pages(quarto_build):
        page.goto(_url(served, quarto_build, path))
        page.wait_for_load_state("load")
        problems = serious_violations(checker, page)
        if problems:
            found[path.name] = problems
    page.close()
    assert found == {}


def test_no_quarto_page_scrolls_sideways_on_a_phone_and_the_frames_show(browser, quarto_build,
                                                                        served):
    page = _page(browser, PHONE)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    wide = {}
    for path in _pages(quarto_build):
        page.goto(_url(served, quarto_build, path))
        page.wait_for_load_state("load")
        extra = page.evaluate("document.documentElement.scrollWidth"
                              " - document.documentElement.clientWidth")
        if extra > 0:
            wide[path.name] = extra
        assert page.locator(".pb-sample-banner").is_visible(), path.name
    assert wide == {}
    assert errors == []
    # the evaluator's judgement is set apart by book.css's frame, as on the built-in pages
    page.goto(_url(served, quarto_build, _html(quarto_build) / "02_county.html"))
    frame = page.locator(".pb-evaluator").first
    assert frame.evaluate("e => getComputedStyle(e).borderLeftWidth") == "4px"
    page.close()
