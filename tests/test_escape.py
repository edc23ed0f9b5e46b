"""No department text is ever markup, and it is quoted exactly (planbook.escape).

One build of a poisoned copy of the project (tests/poison.py: every text field of every
workbook kind and the evaluator's file hold XSS, Markdown, Quarto and typst payloads) is
opened in Chromium: no dialog, no request outside the book, the payloads shown verbatim;
the PDF's text holds them verbatim too and no file was read into it. Unit tests pin each
context's function and the one CSV rule."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from conftest import build_at, copy_project
from poison import PAYLOADS, poison

from planbook.escape import csv_cell, html_text, md_cell, md_text, typst_str, typst_text

PERIOD = "2025"
# Pages where department text lands: sources (数据来源, a4), statements and the evaluator's
# words (the chapters' 任务评估 blocks), the register's quoted values (a2).
PAGES = ("a4_dossiers.html", "a2_sources.html", "02_county.html", "03_villages.html")


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory) -> Path:
    root = copy_project(tmp_path_factory.mktemp("poisoned") / "project")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PLANBOOK_ROOT", str(root))
        poison(root, PERIOD, received="2026-01-15")
    lines = build_at(root, PERIOD)
    assert any("完成" in line for line in lines)
    return root


# --- the one build, in a browser and on paper -------------------------------------------------

def test_no_payload_runs_or_loads_and_every_one_shows_verbatim(poisoned, browser):
    html = poisoned / "reports" / PERIOD / "html"
    book = html.as_uri()
    context = browser.new_context()
    dialogs: list[str] = []
    outside: list[str] = []

    def route(r):
        if r.request.url.startswith(book) or r.request.url.startswith("file://"):
            if not r.request.url.startswith(book):
                outside.append(r.request.url)
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    shown = ""
    try:
        for name in PAGES:
            page.goto((html / name).as_uri())
            page.wait_for_load_state("load")
            shown += page.locator("main").inner_text() + "\n"
            # no link or image the reader could follow out of the book
            hrefs = page.eval_on_selector_all(
                "a[href], img[src], [srcset], iframe, object, embed",
                "els => els.map(e => e.getAttribute('href') || e.getAttribute('src') || e.tagName)")
            bad = [h for h in hrefs if re.match(r"(?i)\s*(javascript|data|https?):", h or "")
                   or h in ("IFRAME", "OBJECT", "EMBED")]
            assert bad == [], f"{name}: {bad}"
    finally:
        context.close()
    assert dialogs == []
    assert outside == []
    squashed = _squash(shown)
    missing = [p for p in PAYLOADS if _squash(p) not in squashed]
    assert missing == []


def test_pages_carry_the_content_security_policy(poisoned):
    html = poisoned / "reports" / PERIOD / "html"
    for path in [*(html / n for n in PAGES), poisoned / "reports" / "index.html"]:
        text = path.read_text(encoding="utf-8")
        assert '<meta http-equiv="Content-Security-Policy"' in text, path.name
        assert "script-src 'self';" in text and "object-src 'none'" in text
        assert "<script>" not in text  # no inline script at all, the injected ones escaped


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler) missing")
def test_the_pdf_quotes_every_payload_and_reads_no_file(poisoned):
    pdf = poisoned / "reports" / PERIOD / "report.pdf"
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                          check=True).stdout.decode("utf-8")
    squashed = _squash(text)
    missing = [p for p in PAYLOADS if _squash(p) not in squashed]
    assert missing == []
    assert "root:x:0:0" not in text  # no #read("/etc/passwd") ran
    assert "’" not in text.split("单引号")[0][-3:]  # the quote before 单引号 stays ASCII


def test_data_package_and_table_downloads_neutralise_formulas(poisoned):
    downloads = poisoned / "reports" / PERIOD / "html" / "downloads"
    with zipfile.ZipFile(downloads / f"data-{PERIOD}.zip") as z:
        rows = list(csv.DictReader(io.StringIO(z.read("observations.csv").decode("utf-8-sig"))))
    texts = {r[k] for r in rows for k in ("source", "note")}
    assert "'" + PAYLOADS[14] in texts  # =HYPERLINK(…) is text
    assert not any(t.startswith(("=", "+", "@")) for t in texts)
    for path in downloads.glob("*.csv"):
        for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))):
            assert not any(c.startswith(("=", "+", "@", "\t", "\r")) for c in row), path.name


# --- each context's function ------------------------------------------------------------------

def test_markdown_text_escapes_every_construct_and_keeps_line_breaks():
    assert md_text("[x](javascript:alert(1))") == "\\[x\\]\\(javascript\\:alert\\(1\\)\\)"
    assert md_text("{{< include x >}}") == "\\{\\{\\< include x \\>\\}\\}"
    assert md_text("# 标题\n- 项") == "\\# 标题\\\n\\- 项"
    assert md_text("'a' \"b\" -- c...") == "\\'a\\' \\\"b\\\" \\-\\- c\\.\\.\\."
    assert md_cell("a | b\nc") == "a \\| b c"
    assert md_text("中文，无需转义。") == "中文，无需转义。"


def test_html_typst_and_csv_cells():
    assert html_text("<img src=x onerror=alert(1)> & \"'") == (
        "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;&#x27;")
    assert typst_text('#read("/etc/passwd")') == '\\#read\\(\\"\\/etc\\/passwd\\"\\)'
    assert typst_str('a"b\\') == '"a\\"b\\\\"'
    assert [csv_cell(v) for v in ("=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx")] == [
        "'=1+1", "'+cmd", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx"]
    assert [csv_cell(v) for v in ("-3", "-0.5", "-1,234.5", "-3.2%", "-1e+308", "正常", "")] == [
        "-3", "-0.5", "-1,234.5", "-3.2%", "-1e+308", "正常", ""]


def test_markdown_reaches_html_and_typst_exactly():
    from planbook.book.pandoc import pandoc

    text = "'单引号' \"双引号\" -- 长划 --- 省略... -? <b>x</b> $x$ @fig-a"
    out_html = pandoc(md_text(text), "html")
    assert html_text(text).replace("&#x27;", "'").replace("&quot;", '"') in out_html.replace(
        "&#39;", "'").replace("&quot;", '"')
    out_typst = pandoc(md_text(text), "typst")
    assert "\\.\\.\\." in out_typst and "\\-\\?" in out_typst and "\\'" in out_typst
    assert "\\-2" in pandoc(md_text("-2+3"), "typst")  # not typst's minus sign
