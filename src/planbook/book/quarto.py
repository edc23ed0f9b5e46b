"""Quarto: the period's book project, the briefing's single-document project, the staged
copies of the executed notebooks Quarto reads, and running `quarto render`.

Book: a Quarto project of its own per period, build/quarto/<P>/book/: the project's shared
`_quarto.yml` (copied), the generated profile `_quarto-<P>.yml` listing the period's pages,
the summary as `index.qmd` (Quarto books need an index page) and every page staged beside
them, so each page's URL is flat (html/02_county.html, as the built-in engine's) and two
periods never share a file. The staged notebooks are copies of the executed ones whose
fig-cap/tbl-cap end with the audit links and the tables' download links, with the 指标档案's
uses filled in, so the published notebooks stay as papermill wrote them. `quarto render
--profile <P>` runs in that folder.

Briefing: a project of its own in build/quarto/<P>/document/ (see below).

Both projects' pages get the built-in engine's stylesheet and CJK web font (assets.copy_static,
linked from every page's head), its stamp, its sample banner and its Content-Security-Policy.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import yaml

from planbook import paths
from planbook.book.assets import ASSETS, copy_static, stage_fonts
from planbook.book.code import audit_captions, quarto_caption, raw_inline, register_section
from planbook.book.dossier import fill_uses, indicator_uses
from planbook.book.downloads import download_links
from planbook.book.html import (
    PDF_HREF,
    PORTAL_HREF,
    content_policy,
    sample_banner,
)
from planbook.book.pages import (
    _H1,
    Captioned,
    cell_options,
    expand_includes,
    figure_data_html,
    page_markdown,
    read_page,
)
from planbook.book.spec import (
    QUARTO_INDEX,
    SAMPLE_NOTICE,
    BookChapters,
    BookPage,
)
from planbook.chapters.catalogue import DOSSIER_PAGE, REGISTER_PAGE, USES_CLASS
from planbook.chapters.display import figure_data
from planbook.errors import RenderError
from planbook.escape import html_text, md_text, typst_str

# --- Quarto ---------------------------------------------------------------------------------

# The Word edition's styles (scripts/make_reference_docx.py), staged beside the filters.
REFERENCE_DOC = "reference.docx"

def quarto_profile_name(period: str) -> str:
    return period


def quarto_book_dir(period: str, root: Path) -> Path:
    """The period's Quarto book project (see the module's docstring)."""
    return paths.build_dir(root) / "quarto" / period / "book"


def quarto_profile_path(period: str, root: Path) -> Path:
    return quarto_book_dir(period, root) / f"_quarto-{quarto_profile_name(period)}.yml"


def quarto_fonts_dir(root: Path) -> Path:
    """The Noto CJK files the Quarto configs name (assets.stage_fonts), shared by every period."""
    return paths.build_dir(root) / "quarto" / "fonts"


def quarto_font_paths(root: Path, project: Path) -> list[str]:
    """`font-paths` for a Quarto project in folder `project`: the staged fonts, relative to it.

    Quarto (>= 1.8.10 for documents, >= 1.10.4 for books) joins an entry that starts with "/"
    onto the project folder, so an absolute path is never found; a relative one is resolved
    from the project (and input) folder in every 1.10.x (/work/quarto-findings.md §2). Staged
    at render time, so no entry names a Python version or an environment's place."""
    fonts = stage_fonts(quarto_fonts_dir(root))
    return [Path(os.path.relpath(fonts, project)).as_posix()]


def quarto_source(page: BookPage) -> str:
    """The file Quarto renders `page` from, relative to the book project: flat, named by the
    page's key, so its html is the page's own name (page.html_name)."""
    if page.kind == "index":
        return QUARTO_INDEX
    return page.key + Path(page.source).suffix


def quarto_profile(book: BookChapters, *, sample_notice: bool = False,
                   font_paths: list[str] = (), filters: list[str] = (),
                   reference_doc: str = REFERENCE_DOC) -> dict:
    """The per-period Quarto profile: chapters live only here (profile lists concatenate).

    The summary notebook is rendered into the generated `index.qmd` (Quarto books need an
    index page), so the first chapter is `index.qmd`. font_paths: quarto_font_paths.
    """
    params = book.params
    chapters: list = [QUARTO_INDEX]
    for part in book.parts:
        chapters.append({"part": part.title,
                         "chapters": [quarto_source(p) for p in part.pages]})
    profile: dict = {
        "book": {
            "title": book.title,
            "subtitle": book.subtitle,
            "author": book.compiler,
            "date": params.as_of,
            "chapters": chapters,
            "appendices": [quarto_source(p) for p in book.appendices],
            # The built-in pages' footer: who made it, the stamp, the PDF and the portal.
            "page-footer": {"center": page_footer(book)},
        },
        # The staged Noto CJK fonts, relative to the project (quarto_font_paths); the Word
        # edition (report.docx) in the reference document's styles (book.docx).
        "format": {"typst": {"font-paths": list(font_paths)},
                   "html": quarto_html(sample_notice),
                   "docx": {"reference-doc": reference_doc}},
        "from": READER,
        "filters": list(filters),
    }
    profile["format"]["typst"]["include-in-header"] = [
        {"text": quarto_book_footer(book, sample_notice=sample_notice)}]
    profile["format"]["typst"]["include-before-body"] = [
        {"text": quarto_book_typst(book, sample_notice=sample_notice)}]
    return profile


def quarto_book_footer(book: BookChapters, *, sample_notice: bool) -> str:
    """The footer of every page (page number, stamp, sample notice), as in the built-in PDF.
    In the header-includes, before `#show: book.with(…)`: orange-book sets no footer, so it
    holds from the cover and contents on (rules set after the book's show rule reach only
    the body)."""
    sans = '("Noto Sans CJK SC",)'
    sample = (f'align(center, text(size: 8pt, fill: rgb("#b00020"), {typst_str(SAMPLE_NOTICE)}))'
              if sample_notice else "none")
    return "\n".join([
        "#set page(footer: context {",
        f"    set text(size: 8.5pt, font: {sans})",
        "    set par(first-line-indent: 0pt)",
        '    align(center, counter(page).display("1"))',
        f"    align(center, text(size: 7.5pt, fill: luma(70), {typst_str(book.stamp)}))",
        f"    {sample}",
        "  })",
        "",
    ])


def quarto_book_typst(book: BookChapters, *, sample_notice: bool) -> str:
    """Typst rules that make orange-book's PDF the built-in engine's book (book.typ pb-book).

    They go in `include-before-body`, which Quarto's typst template places after
    `#show: book.with(…)`: set inside the book's body, they override orange-book's own rules
    (in `include-in-header` they would come first and be overridden)."""
    sans = '("Noto Sans CJK SC",)'
    return "\n".join([
        # Compact A4, as the built-in PDF; the running header names the report and the chapter
        # (orange-book's header shows only the page number and a level-2 heading, none on
        # chapter pages); the footer (quarto_book_footer) is set again for the new margins.
        "#set page(margin: (x: 1.8cm, top: 2.0cm, bottom: 2.2cm),",
        "  header: context {",
        "    let n = here().page()",
        "    let hs = query(heading.where(level: 1)).filter(h => h.location().page() <= n)",
        f"    set text(size: 8pt, fill: luma(80), font: {sans})",
        "    set par(first-line-indent: 0pt, justify: false)",
        f"    grid(columns: (1fr, auto), {typst_str(book.short_title)}, "
        "if hs.len() > 0 { hs.last().body })",
        "    v(-0.6em)",
        "    line(length: 100%, stroke: 0.4pt + luma(150))",
        "  })",
        quarto_book_footer(book, sample_notice=sample_notice),
        "#set text(size: 9.5pt)",
        # The summary is unnumbered (chapter counter 0): its figures are 图1, 图2, as in the
        # built-in PDF, never 图0.1; chapters 图1.1, appendices 图A.1 (orange-book's own rule).
        "#set figure(numbering: n => {",
        "  let c = counter(heading).get().first()",
        '  if c == 0 { numbering("1", n) }',
        '  else if state("appendix-state", none).get() != none { numbering("A.1", c, n) }',
        '  else { numbering("1.1", c, n) }',
        "})",
        *TABLE_TYPST,
        "",
    ])


# Tables as in the built-in PDF (book.typ). Quarto's tables are figures of kind
# "quarto-float-tbl", not `table`: unless breakable, a long one runs over the page foot and
# its rows print over each other. An identifier or file name longer than its column may break
# anywhere (typst breaks no Latin word without hyphenation), or it runs into the next column.
TABLE_TYPST = (
    '#show figure.where(kind: "quarto-float-tbl"): set block(breakable: true)',
    "#show table: set text(size: 8pt)",
    "#show table: set par(justify: false, first-line-indent: 0pt)",
    '#show table: it => { show regex("[A-Za-z0-9_.:/-]{6,}"): w => w.text.clusters()'
    '.join(sym.zws); it }',
)


def write_quarto_profile(book: BookChapters, root: Path, register: list[dict], *,
                         sample_notice: bool = False, downloads: set[str] = frozenset()
                         ) -> Path:
    """Write the period's book project (quarto_book_dir): the shared `_quarto.yml`, the
    profile `_quarto-<P>.yml`, the exact-text filter and the staged pages
    (stage_quarto_chapters). Returns the profile's path; `quarto render --profile <P>` in
    its folder builds period P. downloads: labels of the tables with CSV/XLSX files."""
    period = book.period
    folder = quarto_book_dir(period, root)
    folder.mkdir(parents=True, exist_ok=True)
    stage_quarto_chapters(book, root, register, downloads=downloads)
    _write_if_changed(folder / "_quarto.yml", (root / "_quarto.yml").read_text(encoding="utf-8"))
    for name in (*QUARTO_FILTERS, REFERENCE_DOC):
        shutil.copyfile(ASSETS / name, folder / name)
    header = (f"# Generated by `planbook render --period {period}`; do not edit.\n"
              f"# quarto render --profile {quarto_profile_name(period)}  (in this folder)\n")
    profile = quarto_profile(book, sample_notice=sample_notice,
                             font_paths=quarto_font_paths(root, folder),
                             filters=quarto_filters(), reference_doc=REFERENCE_DOC)
    path = quarto_profile_path(period, root)
    _write_if_changed(path, header + yaml.safe_dump(profile, allow_unicode=True,
                                                    sort_keys=False, width=1000))
    return path


def _write_if_changed(path: Path, text: str) -> None:
    """Unchanged files keep their time (Quarto and the run cache see nothing new)."""
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


# --- what Quarto's HTML shares with the built-in engine's ------------------------------------
# The stylesheet and web font are the built-in pages' own (assets.copy_static into html/assets/,
# book.css with its @font-face), plus quarto.css for Quarto's Bootstrap markup; every page
# links them from its head (flat pages: one relative href fits all).

QUARTO_STATIC = ("book.css", "quarto.css", "favicon.svg")
_QUARTO_HEAD = ('<link rel="icon" type="image/svg+xml" href="assets/favicon.svg">\n'
                '<link rel="stylesheet" href="assets/book.css">\n'
                '<link rel="stylesheet" href="assets/quarto.css">\n')


def quarto_html(sample_notice: bool) -> dict:
    """`format: html:` additions of both Quarto projects: the stylesheets, and the sample
    banner first in the body (as on the built-in pages)."""
    html: dict = {"include-in-header": [{"text": _QUARTO_HEAD}]}
    if sample_notice:
        html["include-before-body"] = [{"text": sample_banner(True)}]
    return html


def page_footer(book: BookChapters) -> str:
    """The footer of every Quarto page (markdown): the built-in engine's stamp line and its
    links to the PDF (Quarto's one PDF holds the 技术附件 too) and the portal."""
    return (f"{md_text(book.compiler)} · [{md_text(book.stamp)}]{{.pb-stamp}}<br>"
            f"[PDF版（report.pdf）]({PDF_HREF}) · [全部报告]({PORTAL_HREF})")


# --- Quarto, single document (the monthly briefing) -------------------------------------------
# A briefing is not a book: its Quarto config is a project of its own, generated next to the
# staged notebook (build/quarto/<P>/_quarto.yml). Quarto takes the nearest _quarto.yml above a
# file as its project (the first one found walking up), so the book's _quarto.yml and its
# profiles are not read, and no book: key, chapter numbering or orange-book reaches it.
# `quarto render` runs in that folder: `project: render:` lists the one notebook, which is
# staged as index.ipynb so its page is index.html, like the built-in engine's.

QUARTO_DOCUMENT = "index.ipynb"
DOT_FILTER = "light_dots.lua"
# Text reaches the PDF character for character (escape.py; the built-in engine runs it too).
EXACT_FILTER = "exact_text.lua"
# HTML tables scroll in their own keyboard-reachable box; after Quarto's own filters.
SCROLL_FILTER = "scroll_boxes.lua"
QUARTO_FILTERS = (EXACT_FILTER, SCROLL_FILTER)


def quarto_filters(*first: str) -> list:
    """The `filters:` of a Quarto project holding QUARTO_FILTERS (after `first`)."""
    return [*first, EXACT_FILTER, {"path": SCROLL_FILTER, "at": "post-render"}]
# Quarto's pandoc reads without `smart`, as the built-in engine's does: department text keeps
# its straight quotes, "--" and "..." (issue 24).
READER = "markdown-smart"


def quarto_document_dir(period: str, root: Path) -> Path:
    """The briefing's own Quarto project: _quarto.yml, index.ipynb and the dot filter."""
    return paths.build_dir(root) / "quarto" / period / "document"


def quarto_document(book: BookChapters, *, sample_notice: bool = False,
                    font_paths: list[str] = ()) -> dict:
    """The briefing's Quarto config: a default (single-document) project rendering html and
    plain typst (A4, CJK fonts by name from font-paths, running header, no TOC, no numbering).
    font_paths: quarto_font_paths, relative to the document folder."""
    params = book.params
    title = book.index.title
    running = f"{title} · {params.label_zh}"
    header = [
        '#set text(font: ("Noto Serif CJK SC",), lang: "zh", region: "cn")',
        '#show heading: set text(font: ("Noto Sans CJK SC",))',
        '#show raw: set text(font: ("Noto Sans Mono CJK SC",))',
        '#show emph: set text(font: ("Noto Sans CJK SC",))',
        *TABLE_TYPST,
        # The default typst template sets paper, margins and numbering, not the header.
        "#set page(header: context { if here().page() > 1 { align(right, text(size: 8pt, "
        f'fill: luma(90), font: ("Noto Sans CJK SC",), {typst_str(running)})) }} }})',
    ]
    html = quarto_html(sample_notice)
    # A document has no page-footer (a book's): the built-in page's footer, after the body.
    html["include-after-body"] = [{"text": (
        f'<footer class="pb-footer pb-quarto-footer">{html_text(book.compiler)} · '
        f'<span class="pb-stamp">{html_text(book.stamp)}</span><br>'
        f'<a href="{PDF_HREF}">PDF版（report.pdf）</a> · <a href="{PORTAL_HREF}">全部报告</a>'
        "</footer>")}]
    config: dict = {
        "project": {"type": "default", "render": [QUARTO_DOCUMENT]},
        "title": title,
        "subtitle": book.subtitle,
        "author": book.compiler,
        "lang": "zh",
        "number-sections": False,
        # The notebook was executed by papermill: render its stored outputs, never re-execute.
        "execute": {"enabled": False, "echo": False, "warning": False},
        "crossref": {"title-delim": "\u3000", "fig-title": "图", "tbl-title": "表",
                     "fig-prefix": "图", "tbl-prefix": "表"},
        "from": READER,
        "filters": quarto_filters(DOT_FILTER),
        "format": {
            "html": {"toc": True, "toc-title": "目录", "html-math-method": "plain", **html},
            # Compact A4, as the built-in briefing (book.typ pb-brief).
            "typst": {"papersize": "a4", "fontsize": "9.5pt",
                      "margin": {"x": "1.8cm", "y": "2cm"},
                      "mainfont": "Noto Serif CJK SC", "font-paths": list(font_paths),
                      "toc": False, "page-numbering": "1",
                      "include-in-header": [{"text": "\n".join(header) + "\n"}]},
            "docx": {"reference-doc": REFERENCE_DOC},
        },
    }
    if sample_notice:
        # page.foreground: a footer line that leaves the template's page number alone.
        config["format"]["typst"]["include-in-header"].append({"text": (
            "#set page(foreground: place(bottom + center, dy: -0.9cm, "
            f'text(size: 8pt, fill: rgb("#b00020"))[{SAMPLE_NOTICE}]))\n')})
    return config


def write_quarto_document(book: BookChapters, root: Path, *, sample_notice: bool = False,
                          downloads: dict[str, Captioned] | None = None) -> Path:
    """Write the briefing's Quarto project (build/quarto/<P>/document/): _quarto.yml, the
    staged notebook index.ipynb (stage_quarto_document) and the dot filter.
    Returns the folder; `quarto render` runs in it."""
    period = book.period
    folder = quarto_document_dir(period, root)
    folder.mkdir(parents=True, exist_ok=True)
    stage_quarto_document(book, root, folder / QUARTO_DOCUMENT, downloads)
    for name in (DOT_FILTER, *QUARTO_FILTERS, REFERENCE_DOC):
        shutil.copyfile(ASSETS / name, folder / name)
    header = (f"# Generated by `planbook render --period {period}`; do not edit.\n"
              "# A single document, not a book: quarto render (in this folder)\n")
    text = header + yaml.safe_dump(
        quarto_document(book, sample_notice=sample_notice,
                        font_paths=quarto_font_paths(root, folder)),
        allow_unicode=True, sort_keys=False, width=1000)
    _write_if_changed(folder / "_quarto.yml", text)
    return folder


# --- Quarto staging --------------------------------------------------------------------------

def _with_option(source: str, key: str, value: str) -> str:
    """`source` with the cell option `#| key:` set to `value` (JSON quoting is valid YAML)."""
    lines = source.split("\n")
    line = f"#| {key}: {json.dumps(value, ensure_ascii=False)}"
    n = 0
    while n < len(lines) and lines[n].startswith("#|"):
        if lines[n][2:].strip().startswith(f"{key}:"):
            lines[n] = line
            return "\n".join(lines)
        n += 1
    lines.insert(n, line)
    return "\n".join(lines)


def _link_captions(nb, key: str, up: str, downloads: dict[str, Captioned] | None = None
                   ) -> None:
    """End every fig-cap and tbl-cap of `nb` with `quarto_caption`, and the tbl-cap of a
    table in `downloads` (label -> its caption item) with its download links (in place)."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        opts = cell_options(cell.source)
        label = str(opts.get("label") or "")
        option = "fig-cap" if label.startswith("fig-") else (
            "tbl-cap" if label.startswith("tbl-") else "")
        if option:
            caption = str(opts.get(option) or "") + quarto_caption(key, cell.get("id"), label, up)
            if downloads and label in downloads:
                caption += quarto_download_links(downloads[label])
            cell.source = _with_option(cell.source, option, caption)


def _add_figure_data(nb) -> None:
    """After each figure cell whose output carries its numbers (display.figure_data), a raw
    HTML cell with them, as the built-in pages show under a chart (pages.figure_data_html):
    the figure cell keeps its one output, and the PDF gets nothing (in place)."""
    import nbformat

    cells = []
    for cell in nb.cells:
        cells.append(cell)
        if cell.cell_type != "code" or len(cell.get("outputs", [])) != 1:
            continue
        table = figure_data(cell.outputs[0])
        if not table:
            continue
        opts = cell_options(cell.source)
        alt = html_text(str(opts.get("fig-alt") or opts.get("fig-cap") or ""))
        raw = nbformat.v4.new_raw_cell(figure_data_html(alt, table),
                                       metadata={"raw_mimetype": "text/html"})
        raw["id"] = f"{cell.get('id') or len(cells)}-data"
        cells.append(raw)
    nb.cells = cells


def quarto_download_links(item: Captioned) -> str:
    """The built-in caption's CSV/XLSX links (downloads.download_links), as a raw html inline
    of a Quarto caption (the typst writer drops it; one line, as a tbl-cap must be)."""
    return " " + raw_inline("html", download_links(item).strip())


def _fill_uses(nb, register: list[dict], period: str) -> None:
    """The 指标档案's uses blocks, filled from the register (in place): the same text the
    built-in engine writes (dossier.fill_uses), in the outputs Quarto reads as markdown."""
    uses = indicator_uses(register)
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else ():
            if output.get("output_type") == "stream" and USES_CLASS in output.get("text", ""):
                output["text"] = fill_uses(output["text"], register, period, uses)
            data = output.get("data", {})
            if USES_CLASS in data.get("text/markdown", ""):
                data["text/markdown"] = fill_uses(data["text/markdown"], register, period, uses)


def stage_quarto_document(book: BookChapters, root: Path, target: Path,
                          downloads: dict[str, Captioned] | None = None) -> Path:
    """The single document's notebook for Quarto (book.write_quarto_document): a copy of the
    executed notebook with linked captions and without its H1, since the title comes from
    the config's `title:` (Quarto would otherwise also promote the H1, and show it twice)."""
    import nbformat

    period = book.period
    page = book.index
    src = root / page.source
    if not src.is_file():
        raise RenderError(f"缺少简报笔记本 {src}",
                          hint=f"先运行 planbook run --period {period}")
    nb = nbformat.read(src, as_version=4)
    _link_captions(nb, page.key, "", downloads)
    _add_figure_data(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and _H1.search(cell.source):
            cell.source = _H1.sub("", cell.source, count=1).strip("\n")
            break
    target.parent.mkdir(parents=True, exist_ok=True)
    _write_if_changed(target, nbformat.writes(nb))
    return target


def stage_quarto_chapters(book: BookChapters, root: Path, register: list[dict], *,
                          downloads: dict[str, Captioned] | None = None) -> list[Path]:
    """The pages Quarto reads, in the book project (quarto_source): copies of the executed
    notebooks whose fig-cap and tbl-cap end with `quarto_caption` (and a table's download
    links), the 指标档案's uses filled in and, on the register page, the register as a last
    markdown cell; static pages with their includes expanded (so the project holds no other
    files). Quarto takes captions from cell options, so this is where its links go."""
    import nbformat

    period = book.period
    folder = quarto_book_dir(period, root)
    folder.mkdir(parents=True, exist_ok=True)
    titles = {p.key: p.title for p in book.pages}
    written = []
    for page in book.pages:
        if page.kind == "index":
            continue  # the summary becomes index.qmd (write_quarto_index)
        src = root / page.source
        if not src.is_file():
            continue
        staged = folder / quarto_source(page)
        if not page.source.endswith(".ipynb"):
            text = expand_includes(src.read_text(encoding="utf-8"), src.parent)
        else:
            nb = nbformat.read(src, as_version=4)
            _link_captions(nb, page.key, "", downloads)
            _add_figure_data(nb)
            if page.key == DOSSIER_PAGE:
                _fill_uses(nb, register, period)
            if page.key == REGISTER_PAGE:
                head, table, _ = register_section(register, titles, period)
                nb.cells.append(nbformat.v4.new_markdown_cell(f"{head}\n\n{table}"))
                nb.cells[-1]["id"] = "planbook-register"
            text = nbformat.writes(nb)
        _write_if_changed(staged, text)
        written.append(staged)
    return written


# --- running quarto -----------------------------------------------------------------------

def write_quarto_index(book: BookChapters, root: Path,
                       downloads: dict[str, Captioned] | None = None) -> Path:
    """Quarto books need index.qmd: the summary notebook, converted, with its figure files,
    in the period's book project (quarto_book_dir)."""
    period = book.period
    content = read_page(book.index, root)
    folder = quarto_book_dir(period, root)
    for name, data in content.assets.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)

    def hook(item: Captioned, target: str) -> str:
        links = downloads or {}
        return audit_captions(item, target) + (
            quarto_download_links(item) if item.label in links else "")

    text = page_markdown(content, "quarto", {}, hook)
    path = folder / QUARTO_INDEX
    _write_if_changed(path, f"<!-- Generated by `planbook render --period {period}`; "
                            "do not edit. -->\n" + text)
    return path


def quarto_command(period: str, output_dir: Path) -> list[str]:
    """One call renders html and typst (both under format:), so neither clean wipes the other."""
    return ["quarto", "render", "--profile", quarto_profile_name(period),
            "--output-dir", str(output_dir), "--no-clean"]


def quarto_document_command(output_dir: Path) -> list[str]:
    """Renders the single-document project in the current folder (html and typst)."""
    return ["quarto", "render", "--output-dir", str(output_dir), "--no-clean"]


def render_quarto_document(book: BookChapters, root: Path, staging: Path, *,
                           sample_notice: bool, downloads: dict[str, Captioned] | None = None
                           ) -> QuartoRun:
    """Render the briefing's single-document project into `staging`."""
    folder = write_quarto_document(book, root, sample_notice=sample_notice, downloads=downloads)
    return _run_quarto(quarto_document_command(staging / "quarto"), folder, staging,
                       quarto_log(book.period, root))


def render_quarto_book(book: BookChapters, root: Path, staging: Path, register: list[dict], *,
                       sample_notice: bool, downloads: dict[str, Captioned] | None = None
                       ) -> QuartoRun:
    """Render the period's book project into `staging`."""
    profile = write_quarto_profile(book, root, register, sample_notice=sample_notice,
                                   downloads=downloads)
    write_quarto_index(book, root, downloads)
    return _run_quarto(quarto_command(book.period, staging / "quarto"), profile.parent, staging,
                       quarto_log(book.period, root))


@dataclass(frozen=True)
class QuartoRun:
    html_dir: Path
    pdf: Path
    messages: tuple[str, ...]  # Quarto's WARN/ERROR lines (quarto_messages), as printed
    log: Path  # everything Quarto printed (quarto_log)


def quarto_log(period: str, root: Path) -> Path:
    """build/render/<P>/quarto.log: all Quarto printed on the last render of period P (the
    staging folder beside it is removed after each render; this log stays)."""
    return paths.build_dir(root) / "render" / period / "quarto.log"


# Quarto's own warnings and errors ("WARN: …", "ERROR: …"), its Lua filters' ("WARNING (…)")
# and pandoc's ("[WARNING] …"); its progress lines are not messages.
_MESSAGE = re.compile(r"^\s*(?:\[(?:WARNING|ERROR)\]|(?:WARN|WARNING|ERROR)\b[:( ])")
# The one line every typst render prints with the Quarto of ../shared/quarto (no typst-gather).
KNOWN_QUARTO_WARNING = "typst-gather analyze failed"
_COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # Quarto colours its WARN and ERROR lines


def quarto_messages(output: str) -> tuple[str, ...]:
    """The warning and error lines of Quarto's output, in order, each once."""
    plain = _COLOUR.sub("", output)
    return tuple(dict.fromkeys(line.strip() for line in plain.splitlines()
                               if _MESSAGE.match(line)))


def _run_quarto(command: list[str], cwd: Path, staging: Path, log: Path) -> QuartoRun:
    """Run `command` (its --output-dir is staging/quarto); its whole output goes to `log`.
    The pages get their policy and the built-in pages' stylesheet and web font."""
    out = staging / "quarto"
    out.mkdir(parents=True)
    # One stream, so the log keeps Quarto's lines in the order it printed them.
    proc = subprocess.run(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, check=False)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(f"$ {' '.join(command)}\n# in {cwd}\n{proc.stdout}", encoding="utf-8")
    messages = quarto_messages(proc.stdout)
    if proc.returncode:
        said = "\n".join(messages) or proc.stdout[-2000:]
        raise RenderError(f"quarto 渲染失败（退出码 {proc.returncode}），Quarto 报告：\n{said}",
                          hint=f"Quarto 的完整输出在 {log}；或改用 --engine builtin")
    for page in sorted(out.rglob("*.html")):
        secure_page(page)
    copy_static(out, QUARTO_STATIC)
    pdf = out / "report.pdf"
    if not pdf.is_file():
        found = sorted(out.rglob("*.pdf"))
        if len(found) != 1:
            raise RenderError(f"quarto 渲染后 {out} 中的 PDF 不是恰好一个（{len(found)} 个）",
                              hint="改用 --engine builtin，或检查 quarto 的输出设置")
        pdf = found[0]
    moved = staging / "report.pdf"
    shutil.move(pdf, moved)
    # The Word edition: the book's report.docx, the single document's index.docx.
    docx = out / "report.docx"
    if not docx.is_file():
        found = sorted(out.rglob("*.docx"))
        docx = found[0] if len(found) == 1 else None
    if docx is not None:
        shutil.move(docx, staging / "report.docx")
    return QuartoRun(out, moved, messages, log)


# --- the pages' Content-Security-Policy ------------------------------------------------------
# Quarto's pages carry inline scripts of its own; they are allowed by hash, nothing else is,
# so a slip in escaping department text still runs nothing (as on the built-in pages).

_HEAD = re.compile(r"<head\b[^>]*>", re.I)
_INLINE_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.I | re.S)
_DATA_TYPES = ("application/json", "text/plain", "application/ld+json", "text/template")


# Quarto's own inline event handlers (its sidebar toggles and search button). A policy allows a
# handler only by 'unsafe-hashes' and the hash of its text; without them Chromium
# 156.0.8078.129 logged a refusal for each on every page load (the suite had passed with an
# earlier build). Only these texts are allowed: a handler that reached a page any other way
# still runs nothing.
QUARTO_HANDLERS = ("if (window.quartoToggleHeadroom) { window.quartoToggleHeadroom(); }",
                   "window.quartoOpenSearch();")
_HANDLER = re.compile(r"\son[a-z]+\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", re.I)


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def handler_hashes(html: str) -> tuple[str, ...]:
    """'sha256-…' of each of QUARTO_HANDLERS the page carries as an inline event handler."""
    found = {unescape(a or b) for a, b in _HANDLER.findall(html)}
    return tuple(_sha256(h) for h in QUARTO_HANDLERS if h in found)


def inline_script_hashes(html: str) -> tuple[str, ...]:
    """'sha256-…' of each inline script a browser would run (data blocks are not run)."""
    found = []
    for attrs, body in _INLINE_SCRIPT.findall(html):
        if re.search(r"\bsrc\s*=", attrs, re.I):
            continue
        kind = re.search(r"\btype\s*=\s*[\"']?([^\"'\s>]+)", attrs, re.I)
        if kind and kind.group(1).lower() in _DATA_TYPES:
            continue
        found.append(_sha256(body))
    return tuple(dict.fromkeys(found))


# Quarto puts require.js and jQuery from a CDN into the head of every page of a notebook with
# a text/html output (core/jupyter/widgets.ts, for JavaScript widgets), and a shim that needs
# them. The report's tables use neither, the policy would refuse both (a console error on every
# page) and the pages are read offline: they are dropped.
_WIDGET_SCRIPTS = re.compile(
    r"<script\b[^>]*\bsrc=\"https://cdn\.jsdelivr\.net/npm/(?:requirejs|jquery)@[^\"]*\"[^>]*>"
    r"</script>\n?|<script type=\"application/javascript\">define\('jquery', \[\],"
    r"function\(\) \{return window\.jQuery;\}\)</script>\n?")


# Quarto names its previous / next chapter links by the chapter's title alone (aria-label),
# while they show its number too ("3 全面提升县城承载能力"): a name that does not hold the visible
# text fails WCAG 2.5.3 (axe-core 4.14's label-content-name-mismatch, serious). Without the
# aria-label the link is named by what it shows.
_PAGINATION_LINK = re.compile(r'<a\b[^>]*\bclass="pagination-link"[^>]*>')
_ARIA_LABEL = re.compile(r'\s+aria-label="[^"]*"')


def name_pagination_by_text(html: str) -> str:
    """The page with the aria-label of Quarto's previous / next chapter links dropped."""
    return _PAGINATION_LINK.sub(lambda m: _ARIA_LABEL.sub("", m.group(0)), html)


def secure_page(page: Path) -> None:
    """Put the policy first in the page's head (a meta policy governs what follows it), once
    the CDN scripts Quarto adds for widgets are dropped (_WIDGET_SCRIPTS) and its chapter
    links named by their text (name_pagination_by_text): one rewrite of each page."""
    html = page.read_text(encoding="utf-8")
    head = _HEAD.search(html)
    if head is None or "Content-Security-Policy" in html:
        return
    html = name_pagination_by_text(_WIDGET_SCRIPTS.sub("", html))
    head = _HEAD.search(html)
    policy = content_policy(inline_script_hashes(html), fetch=True, data_urls=True,
                            handler_hashes=handler_hashes(html))
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
    page.write_text(html[:head.end()] + meta + html[head.end():], encoding="utf-8")
