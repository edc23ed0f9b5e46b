"""Narrative in the executed notebooks is Markdown display output (`text/markdown`), so
JupyterLab and `jupyter nbconvert` show it formatted, while Quarto and the built-in engine
insert it as markdown (`#| output: asis`) exactly as they inserted the printed text before.

Pandoc-only syntax is written so a CommonMark viewer reads it: divs and spans as HTML tags
(chapters.display.div_lines / span), a paper-only div `hidden`, bold labels closed before
their colon. What a viewer still shows as written is a heading's permalink (`{#ind_gdp}`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from planbook.book.pages import Block, cell_options, read_page
from planbook.book.spec import BookPage

PERIOD = "2025"
# Markup a reader must never see as text: bold and div fences, pipe-table rows, pandoc
# attributes and spans, HTML tags that did not become elements.
RAW = {"bold": re.compile(r"\*\*"), "fence": re.compile(r"^\s*:::", re.M),
       "pipe row": re.compile(r"^\s*\|.*\|\s*$", re.M), "span": re.compile(r"\]\{\."),
       "tag": re.compile(r"</?(div|span)\b")}


def _narrative(folder: Path) -> list[tuple[str, int, dict]]:
    """(notebook, cell index, output) of every output of every asis (narrative) cell."""
    out = []
    for path in sorted(folder.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and cell_options(cell.source).get("output") == "asis":
                out += [(path.stem, index, o) for o in cell.outputs]
    return out


def _shown_text(html: str) -> str:
    """What a reader sees of rendered HTML: its text, without `hidden` elements."""
    soup = BeautifulSoup(html, "html.parser")
    for el in soup.select("[hidden]"):
        el.decompose()
    return soup.get_text()


def _raw_markup(text: str) -> list[str]:
    return [f"{name}: {m.group(0)[:60]!r}" for name, rx in RAW.items() for m in rx.finditer(text)]


def test_narrative_is_markdown_display_output(sample_build):
    folder = sample_build / "reports" / PERIOD / "notebooks"
    narrative = _narrative(folder)
    assert len(narrative) >= 140  # every chapter's narrative, one output per cell
    for name, index, output in narrative:
        assert output.output_type == "display_data", (name, index)
        assert set(output.data) == {"text/markdown"}, (name, index, set(output.data))
        assert output.data["text/markdown"].strip(), (name, index)
    # No cell of any notebook prints: nothing reaches a viewer as raw text.
    for path in folder.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        printed = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                   for o in c.outputs if o.output_type == "stream"]
        assert not printed, (path.name, printed)


def _assert_commonmark_renders(folder: Path) -> int:
    """Every narrative output through nbconvert's own Markdown renderer (mistune, what
    `jupyter nbconvert --to html` uses): no markup left as text."""
    found = []
    narrative = _narrative(folder)
    for name, index, output in narrative:
        found += [f"{name} 单元 {index} {p}"
                  for p in _raw_markup(_shown_text(markdown2html_mistune(
                      output.data["text/markdown"])))]
    assert not found, "\n".join(found[:20])
    return len(narrative)


def test_every_narrative_output_reads_formatted_in_a_notebook_viewer(sample_build):
    assert _assert_commonmark_renders(sample_build / "reports" / PERIOD / "notebooks") >= 140


def test_the_briefing_reads_formatted_in_a_notebook_viewer(kind_builds):
    # department blocks: pipe tables of lights (spans), headings per department
    assert _assert_commonmark_renders(kind_builds / "reports" / "2026-10" / "notebooks")


def test_nbconvert_html_shows_bold_tables_and_hides_paper_notes(sample_build, tmp_path):
    """The real `jupyter nbconvert --to html` on executed notebooks: the dossiers (bold
    labels, pipe tables, the uses div) and the front chapter (lists the PDF cuts short)."""
    folder = sample_build / "reports" / PERIOD / "notebooks"
    for name in ("a4_dossiers", "00b_judgement"):
        subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html",
                        "--output-dir", str(tmp_path), str(folder / f"{name}.ipynb")],
                       check=True, capture_output=True)
    pages = {name: BeautifulSoup((tmp_path / f"{name}.html").read_text("utf-8"), "html.parser")
             for name in ("a4_dossiers", "00b_judgement")}
    for name, soup in pages.items():
        shown = soup.select(".jp-RenderedMarkdown.jp-OutputArea-output")
        assert len(shown) >= 7, name
        problems = _raw_markup("\n".join(_shown_text(str(o)) for o in shown))
        assert not problems, (name, problems[:10])
        assert sum(len(o.find_all("strong")) for o in shown) >= 20, name
    dossiers = pages["a4_dossiers"].select(".jp-RenderedMarkdown.jp-OutputArea-output")
    assert len(dossiers) == 107  # one entry per indicator
    entry = dossiers[0]
    assert entry.find("h2") and "地区生产总值" in entry.find("h2").get_text()
    assert [s.get_text() for s in entry.find_all("strong")][:3] == ["定义", "方案条目", "方案原文"]
    history = entry.find("table")
    assert history is not None and "依据" in history.find("thead").get_text()
    uses = entry.find("div", class_="pb-uses")
    assert uses is not None and "planbook trace ind_gdp" in uses.get_text()
    # A list the PDF cuts short is whole on screen; the PDF's 共N项 note is hidden.
    judgement = pages["00b_judgement"]
    notes = judgement.select("div.content-hidden[hidden]")
    assert notes and all("共" in n.get_text() and "列出前" in n.get_text() for n in notes)
    assert judgement.select("div.content-visible li")


def test_the_built_in_engine_reads_narrative_as_markdown(tmp_path):
    """A text/markdown output of an asis cell is a markdown block, as a printed one was; a
    text/markdown output elsewhere stays an output (a rich block)."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    text = "## 小节\n\n**加粗**：正文"
    markdown = new_output("display_data", data={"text/markdown": text})
    nb = new_notebook(cells=[
        new_markdown_cell("# 章"),
        new_code_cell("#| output: asis\nshow_markdown(t)", outputs=[markdown]),
        new_code_cell("#| output: asis\nprint(t)",
                      outputs=[new_output("stream", name="stdout", text=text + "\n")]),
        new_code_cell("show(t)", outputs=[markdown])])
    path = tmp_path / "ch.ipynb"
    nbformat.write(nb, path)
    page = BookPage(key="ch", source="ch.ipynb", title="章", kind="chapter", number="1")
    blocks = read_page(page, tmp_path).blocks
    assert [(b.kind, b.text.strip()) for b in blocks] == [
        ("md", ""), ("md", text), ("md", text), ("rich", text)]
    assert all(isinstance(b, Block) for b in blocks)


@pytest.mark.skipif(shutil.which("quarto") is None, reason="quarto is not on PATH")
def test_quarto_inserts_markdown_output_as_it_inserted_printed_text(tmp_path):
    """Real Quarto: an asis cell's text/markdown output becomes the same HTML as the text
    printed before (section, bold, pipe table, spans and divs written as HTML tags, the
    screen-only div kept, the paper-only one dropped); without asis it would be wrapped in
    an output div, so narrative keeps `output: asis`."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    from planbook.chapters.display import LIGHT_TEXT, capped_list

    def body(tag: str) -> str:
        items = capped_list([f"- 条目{tag}{n}" for n in range(3)], 2, "其余见网页")
        return "\n".join([f"## 小节{tag}", "", f"**标签{tag}**：{LIGHT_TEXT['green']} 文字", "",
                          "| 甲 | 乙 |", "|:--|--:|", "| 1 | 2 |", "", *items])

    nb = new_notebook(cells=[
        new_markdown_cell("# 章"),
        new_code_cell("#| output: asis\nprint(a)", outputs=[
            new_output("stream", name="stdout", text=body("A") + "\n")]),
        new_code_cell("#| output: asis\nshow_markdown(b)", outputs=[
            new_output("display_data", data={"text/markdown": body("B")})])])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, tmp_path / "t.ipynb")
    (tmp_path / "_quarto.yml").write_text(
        "project: {type: default}\nlang: zh\nexecute: {echo: false}\nformat: html\n", "utf-8")
    proc = subprocess.run(["quarto", "render", "t.ipynb", "--to", "html"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    soup = BeautifulSoup((tmp_path / "t.html").read_text("utf-8"), "html.parser")
    a, b = soup.select("main section.level2")

    def shape(section) -> list:
        return [(t.name, t.get("class")) for t in section.find_all(True)]

    assert shape(a) == shape(b) and a.get_text().replace("A", "B") == b.get_text()
    assert b.find("strong").get_text() == "标签B" and b.find("table")
    assert b.find("span", class_="pb-dot") and "条目B2" in b.get_text()
    assert "共3项" not in b.get_text() and not b.find_parent(class_="cell-output")
