"""Quarto: the per-period book profile, the briefing's single-document project, the staged
copies of the executed notebooks Quarto reads, and running `quarto render`.

Book: `_quarto-<P>.yml` (git-ignored) lists the period's chapters; `quarto render --profile <P>`
merges it with `_quarto.yml`. The summary notebook becomes the generated `index.qmd` (Quarto
books need an index page). Chapters are read from build/quarto/<P>/chapters/: copies of the
executed notebooks whose fig-cap/tbl-cap end with the audit links, so the published notebooks
stay as papermill wrote them.

Briefing: a project of its own in build/quarto/<P>/document/ (see below).
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
from pathlib import Path

import yaml

from planbook import paths
from planbook.book.assets import ASSETS, stage_fonts
from planbook.book.code import audit_captions, quarto_caption, register_section
from planbook.book.html import content_policy
from planbook.book.pages import _H1, cell_options, page_markdown, read_page
from planbook.book.spec import (
    QUARTO_INDEX,
    SAMPLE_NOTICE,
    BookChapters,
    BookPage,
)
from planbook.chapters.catalogue import REGISTER_PAGE
from planbook.chapters.display import LIGHT_COLOURS
from planbook.errors import RenderError
from planbook.escape import typst_str

# --- Quarto ---------------------------------------------------------------------------------

# The Word edition's styles (scripts/make_reference_docx.py), staged beside the filters.
REFERENCE_DOC = "reference.docx"

def quarto_profile_name(period: str) -> str:
    return period


def quarto_profile_path(period: str, root: Path) -> Path:
    return root / f"_quarto-{quarto_profile_name(period)}.yml"


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


def quarto_filter_path(root: Path, name: str) -> str:
    """A Lua filter of assets/ staged beside the fonts, relative to the project root (as
    font-paths are: no path names a Python version or an environment's place)."""
    target = paths.build_dir(root) / "quarto" / "filters" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.is_file() or target.read_bytes() != (ASSETS / name).read_bytes():
        shutil.copyfile(ASSETS / name, target)
    return target.relative_to(root).as_posix()


def quarto_stage_dir(period: str, root: Path) -> Path:
    """Where Quarto reads the chapters from: copies of the executed notebooks whose captions
    carry the audit links (the published notebooks stay as papermill wrote them)."""
    return paths.build_dir(root) / "quarto" / period / "chapters"


def quarto_source(page: BookPage, period: str) -> str:
    """The root-relative path Quarto renders `page` from (its html sits at the same path)."""
    if not page.source.endswith(".ipynb"):
        return page.source
    return f"build/quarto/{period}/chapters/{Path(page.source).name}"


def quarto_profile(book: BookChapters, *, sample_notice: bool = False,
                   font_paths: list[str] = (), filters: list[str] = (),
                   reference_doc: str = REFERENCE_DOC) -> dict:
    """The per-period Quarto profile: chapters live only here (profile lists concatenate).

    The summary notebook is rendered into the generated `index.qmd` (Quarto books need an
    index page), so the first chapter is `index.qmd`. font_paths: quarto_font_paths.
    """
    period, params = book.period, book.params
    chapters: list = [QUARTO_INDEX]
    for part in book.parts:
        chapters.append({"part": part.title,
                         "chapters": [quarto_source(p, period) for p in part.pages]})
    profile: dict = {
        "book": {
            "title": book.title,
            "subtitle": book.subtitle,
            "author": book.compiler,
            "date": params.as_of,
            "chapters": chapters,
            "appendices": [quarto_source(p, period) for p in book.appendices],
        },
        # The staged Noto CJK fonts, relative to the project root (quarto_font_paths); the Word
        # edition (report.docx) in the reference document's styles (book.docx).
        "format": {"typst": {"font-paths": list(font_paths)},
                   "docx": {"reference-doc": reference_doc}},
        "from": READER,
        "filters": list(filters),
    }
    profile["format"]["typst"]["include-in-header"] = [
        {"text": quarto_book_footer(book, sample_notice=sample_notice)}]
    profile["format"]["typst"]["include-before-body"] = [
        {"text": quarto_book_typst(book, sample_notice=sample_notice)}]
    if sample_notice:
        banner = f'<div class="pb-sample-banner" role="region" aria-label="数据说明">{SAMPLE_NOTICE}</div>'
        profile["format"]["html"] = {"include-before-body": [{"text": banner}]}
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
                         sample_notice: bool = False) -> Path:
    """Write `_quarto-<P>.yml` (git-ignored) so `quarto render --profile <P>` builds period P,
    and stage the chapters it lists (stage_quarto_chapters)."""
    period = book.period
    stage_quarto_chapters(book, root, register)
    path = quarto_profile_path(period, root)
    header = (f"# Generated by `planbook render --period {period}`; do not edit.\n"
              f"# quarto render --profile {quarto_profile_name(period)}\n")
    profile = quarto_profile(book, sample_notice=sample_notice,
                             font_paths=quarto_font_paths(root, root),
                             filters=[quarto_filter_path(root, EXACT_FILTER)],
                             reference_doc=quarto_filter_path(root, REFERENCE_DOC))
    text = header + yaml.safe_dump(profile, allow_unicode=True, sort_keys=False, width=1000)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


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
# Quarto's pandoc reads without `smart`, as the built-in engine's does: department text keeps
# its straight quotes, "--" and "..." (issue 24).
READER = "markdown-smart"
# The dots of the department tables: light_dots.lua leaves an empty span, the glyph is drawn
# from its data-glyph, in the colours of planbook.chapters.display.LIGHT_COLOURS.
_DOT_CSS = ".pb-dot::before{content:attr(data-glyph)}" + "".join(
    f".pb-dot-{light}{{color:{colour}}}" for light, colour in LIGHT_COLOURS.items())
_BANNER_CSS = (".pb-sample-banner{background:#fdecea;color:#b00020;text-align:center;"
               "font-weight:bold;padding:.35rem 1rem}")


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
    html_header = f"<style>{_DOT_CSS}{_BANNER_CSS}</style>"
    config: dict = {
        "project": {"type": "default", "render": [QUARTO_DOCUMENT]},
        "title": title,
        "subtitle": book.subtitle,
        "author": book.compiler,
        "lang": "zh",
        "number-sections": False,
        # The notebook was executed by papermill: render its stored outputs, never re-execute.
        "execute": {"enabled": False, "echo": False, "warning": False},
        "crossref": {"fig-title": "图", "tbl-title": "表", "fig-prefix": "图",
                     "tbl-prefix": "表"},
        "from": READER,
        "filters": [DOT_FILTER, EXACT_FILTER],
        "format": {
            "html": {"toc": True, "toc-title": "目录", "html-math-method": "plain",
                     "include-in-header": [{"text": html_header}]},
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
        banner = f'<div class="pb-sample-banner" role="region" aria-label="数据说明">{SAMPLE_NOTICE}</div>'
        config["format"]["html"]["include-before-body"] = [{"text": banner}]
        # page.foreground: a footer line that leaves the template's page number alone.
        config["format"]["typst"]["include-in-header"].append({"text": (
            "#set page(foreground: place(bottom + center, dy: -0.9cm, "
            f'text(size: 8pt, fill: rgb("#b00020"))[{SAMPLE_NOTICE}]))\n')})
    return config


def write_quarto_document(book: BookChapters, root: Path, *, sample_notice: bool = False
                          ) -> Path:
    """Write the briefing's Quarto project (build/quarto/<P>/document/): _quarto.yml, the
    staged notebook index.ipynb (stage_quarto_document) and the dot filter.
    Returns the folder; `quarto render` runs in it."""
    period = book.period
    folder = quarto_document_dir(period, root)
    folder.mkdir(parents=True, exist_ok=True)
    stage_quarto_document(book, root, folder / QUARTO_DOCUMENT)
    for name in (DOT_FILTER, EXACT_FILTER, REFERENCE_DOC):
        shutil.copyfile(ASSETS / name, folder / name)
    header = (f"# Generated by `planbook render --period {period}`; do not edit.\n"
              "# A single document, not a book: quarto render (in this folder)\n")
    text = header + yaml.safe_dump(
        quarto_document(book, sample_notice=sample_notice,
                        font_paths=quarto_font_paths(root, folder)),
        allow_unicode=True, sort_keys=False, width=1000)
    path = folder / "_quarto.yml"
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
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


def _link_captions(nb, key: str, up: str) -> None:
    """End every fig-cap and tbl-cap of `nb` with `quarto_caption` (in place)."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        opts = cell_options(cell.source)
        label = str(opts.get("label") or "")
        option = "fig-cap" if label.startswith("fig-") else (
            "tbl-cap" if label.startswith("tbl-") else "")
        if option:
            caption = str(opts.get(option) or "") + quarto_caption(key, cell.get("id"), label, up)
            cell.source = _with_option(cell.source, option, caption)


def stage_quarto_document(book: BookChapters, root: Path, target: Path) -> Path:
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
    _link_captions(nb, page.key, "")
    for cell in nb.cells:
        if cell.cell_type == "markdown" and _H1.search(cell.source):
            cell.source = _H1.sub("", cell.source, count=1).strip("\n")
            break
    text = nbformat.writes(nb)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
    return target


def stage_quarto_chapters(book: BookChapters, root: Path, register: list[dict]) -> list[Path]:
    """Copies of the executed notebooks for Quarto (book.quarto_source): each fig-cap and
    tbl-cap ends with `quarto_caption`, and the register page gets the register as a last
    markdown cell. Quarto takes captions from cell options, so this is where its links go."""
    import nbformat

    period = book.period
    folder = quarto_stage_dir(period, root)
    folder.mkdir(parents=True, exist_ok=True)
    titles = {p.key: p.title for p in book.pages}
    written = []
    for page in book.pages:
        if page.kind == "index" or not page.source.endswith(".ipynb"):
            continue  # the summary becomes index.qmd (write_quarto_index)
        src = root / page.source
        if not src.is_file():
            continue
        staged = root / quarto_source(page, period)
        up = "../" * len(Path(quarto_source(page, period)).parent.parts)
        nb = nbformat.read(src, as_version=4)
        _link_captions(nb, page.key, up)
        if page.key == REGISTER_PAGE:
            head, table, _ = register_section(register, titles, period)
            nb.cells.append(nbformat.v4.new_markdown_cell(f"{head}\n\n{table}"))
            nb.cells[-1]["id"] = "planbook-register"
        text = nbformat.writes(nb)
        if not staged.is_file() or staged.read_text(encoding="utf-8") != text:
            staged.write_text(text, encoding="utf-8")
        written.append(staged)
    return written


# --- running quarto -----------------------------------------------------------------------

def write_quarto_index(book: BookChapters, root: Path) -> Path:
    """Quarto books need index.qmd: the summary notebook, converted, with its figure files.

    Generated (git-ignored) for the period last rendered; figures go to build/quarto/<P>/.
    """
    period = book.period
    content = read_page(book.index, root)
    assets_root = paths.build_dir(root) / "quarto" / period
    rel = assets_root.relative_to(root).as_posix()
    for name, data in content.assets.items():
        (assets_root / name).parent.mkdir(parents=True, exist_ok=True)
        (assets_root / name).write_bytes(data)
    for block in content.blocks:
        if block.asset and not block.asset.startswith(rel):
            block.asset = f"{rel}/{block.asset}"
    text = page_markdown(content, "quarto", {}, audit_captions)
    path = root / QUARTO_INDEX
    path.write_text(f"<!-- Generated by `planbook render --period {period}`; do not edit. -->\n"
                    + text, encoding="utf-8")
    return path


def quarto_command(period: str, output_dir: Path) -> list[str]:
    """One call renders html and typst (both under format:), so neither clean wipes the other."""
    return ["quarto", "render", "--profile", quarto_profile_name(period),
            "--output-dir", str(output_dir), "--no-clean"]


def quarto_document_command(output_dir: Path) -> list[str]:
    """Renders the single-document project in the current folder (html and typst)."""
    return ["quarto", "render", "--output-dir", str(output_dir), "--no-clean"]


def render_quarto_document(book: BookChapters, root: Path, staging: Path, *,
                           sample_notice: bool) -> QuartoRun:
    """Render the briefing's single-document project into `staging`."""
    folder = write_quarto_document(book, root, sample_notice=sample_notice)
    return _run_quarto(quarto_document_command(staging / "quarto"), folder, staging,
                       quarto_log(book.period, root))


def render_quarto_book(book: BookChapters, root: Path, staging: Path, register: list[dict], *,
                       sample_notice: bool) -> QuartoRun:
    """Render the period's book profile into `staging`."""
    write_quarto_profile(book, root, register, sample_notice=sample_notice)
    write_quarto_index(book, root)
    return _run_quarto(quarto_command(book.period, staging / "quarto"), root, staging,
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
    """Run `command` (its --output-dir is staging/quarto); its whole output goes to `log`."""
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


def inline_script_hashes(html: str) -> tuple[str, ...]:
    """'sha256-…' of each inline script a browser would run (data blocks are not run)."""
    found = []
    for attrs, body in _INLINE_SCRIPT.findall(html):
        if re.search(r"\bsrc\s*=", attrs, re.I):
            continue
        kind = re.search(r"\btype\s*=\s*[\"']?([^\"'\s>]+)", attrs, re.I)
        if kind and kind.group(1).lower() in _DATA_TYPES:
            continue
        digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
        found.append(f"sha256-{digest}")
    return tuple(dict.fromkeys(found))


def secure_page(page: Path) -> None:
    """Put the policy first in the page's head (a meta policy governs what follows it)."""
    html = page.read_text(encoding="utf-8")
    head = _HEAD.search(html)
    if head is None or "Content-Security-Policy" in html:
        return
    policy = content_policy(inline_script_hashes(html), fetch=True, data_urls=True)
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
    page.write_text(html[:head.end()] + meta + html[head.end():], encoding="utf-8")
