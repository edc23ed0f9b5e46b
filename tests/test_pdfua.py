"""The PDFs as typst's PDF/UA-1 and PDF/A-2a exports (issue 28): the standards claimed in the
XMP metadata, the language, the title shown, every figure with the alt text the HTML shows;
and a figure without alt text refused, in Chinese, naming it."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from pypdf import PdfReader
from pypdf.generic import BooleanObject

from planbook.book.pages import read_page
from planbook.book.pdf import write_pdf
from planbook.book.spec import BookChapters, BookPage
from planbook.errors import RenderError
from planbook.plan.params import load_params

ROOT = Path(__file__).resolve().parents[1]
TRUE = BooleanObject(True)  # (a pypdf BooleanObject is truthy even when false)


def _struct_figures(root) -> list:
    """The /Alt of every /Figure structure element (None when it has none)."""
    found = []
    stack = [root["/StructTreeRoot"]]
    while stack:
        node = stack.pop()
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, dict):
            if node.get("/S") == "/Figure":
                found.append(node.get("/Alt"))
            if "/K" in node:
                stack.append(node["/K"])
        elif isinstance(node, list):
            stack.extend(node)
    return found


class _ImageAlts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.alts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img" and dict(attrs).get("src", "").endswith((".svg", ".png", ".jpg")):
            self.alts.append(dict(attrs).get("alt") or "")


def _html_alts(html_dir: Path) -> list[str]:
    """The alt text of every chart in the book's pages (not the code pages)."""
    parser = _ImageAlts()
    for page in sorted(html_dir.glob("*.html")):
        parser.feed(page.read_text(encoding="utf-8"))
    return parser.alts


def _check_pdf(pdf: Path) -> list[str]:
    reader = PdfReader(pdf)
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    claims = dict(re.findall(r"<(pdf(?:ua|a)id:\w+)>([^<]*)<", xmp))
    assert claims == {"pdfuaid:part": "1", "pdfaid:part": "2", "pdfaid:conformance": "A"}, pdf
    assert str(root["/Lang"]).startswith("zh"), pdf
    assert root["/ViewerPreferences"]["/DisplayDocTitle"] == TRUE, pdf
    assert root["/MarkInfo"]["/Marked"] == TRUE, pdf
    assert reader.metadata.title and "planbook" not in reader.metadata.title, pdf
    # The document's date is the edition's (PDF/A needs one), never the build time.
    assert reader.metadata["/CreationDate"].startswith("D:2026"), pdf
    alts = _struct_figures(root)
    assert all(isinstance(a, str) and a.strip() for a in alts), (pdf, alts)
    return [str(a) for a in alts]


def test_report_and_annex_are_pdf_ua_with_the_html_alt_text(sample_build):
    folder = sample_build / "reports" / "2025"
    alts = _check_pdf(folder / "report.pdf") + _check_pdf(folder / "annex.pdf")
    html = _html_alts(folder / "html")
    # every chart of the book, each with the words its HTML <img alt> has (109 on the sample)
    assert len(alts) == len(html) > 100
    assert sorted(alts) == sorted(html)


def test_briefing_is_pdf_ua(kind_builds):
    folder = kind_builds / "reports" / "2026-10"
    alts = _check_pdf(folder / "report.pdf")
    assert sorted(alts) == sorted(_html_alts(folder / "html"))


# --- a figure without alt text ---------------------------------------------------------------

SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="120" height="60" viewBox="0 0 120 60">'
       '<rect x="10" y="10" width="100" height="40" fill="#1f4e79"/></svg>')


def _one_figure_pdf(tmp_path: Path, options: str) -> Path:
    """A one-page document holding one chart whose cell has `options`, through the real
    pandoc + typst export; returns the PDF."""
    source = tmp_path / "chart.ipynb"
    cell = nbformat.v4.new_code_cell(f"#| label: fig-bar\n{options}\nshow()")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/svg+xml": SVG})]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 图表"), cell])
    nbformat.write(nb, source)
    params = load_params("2025", ROOT)
    page = BookPage("chart", source.name, "图表", "index")
    book = BookChapters(index=page, parts=(), appendices=(), params=params, single=True)
    contents = [read_page(page, tmp_path)]
    pdf = tmp_path / "chart.pdf"
    write_pdf(book, contents, {}, params, tmp_path / "typst", pdf, sample_notice=False,
              hook=lambda item, target: "")
    return pdf


def test_a_figure_with_alt_text_is_exported_with_it(tmp_path):
    alt = '柱状图：一根蓝色的柱子，含引号"与反斜杠\\'
    pdf = _one_figure_pdf(tmp_path, f'#| fig-cap: "示例图"\n#| fig-alt: {json.dumps(alt)}')
    assert _check_pdf(pdf) == [alt]


def test_a_figure_without_alt_text_fails_the_export_in_chinese(tmp_path):
    # a caption is not a description: without fig-alt the figure has no alt text
    with pytest.raises(RenderError) as err:
        _one_figure_pdf(tmp_path, '#| fig-cap: "示例图"')
    message = str(err.value)
    assert message.startswith("图 1〔fig-bar〕（chart.ipynb 第 1 个单元格）没有替代文本（fig-alt）")
    assert "PDF/UA-1" in message and "#| fig-alt:" in message
    assert "missing alt text" not in message  # typst's words are translated
    assert not (tmp_path / "chart.pdf").exists()
