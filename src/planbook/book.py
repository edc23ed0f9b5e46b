"""The book of one period: which pages, in which order, and the Quarto profile listing them.

`book_chapters(period)` is the one place the chapter list is decided; both engines and the
generated Quarto profile read it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import yaml

from planbook import paths
from planbook.errors import RenderError
from planbook.periods import parse_period

PLAN_NAME = "建德市县城承载能力提升和深化“千村示范、万村整治”工程实施方案（2023—2027年）"
TITLE = PLAN_NAME + "年度评估报告"
BRIEFING_TITLE = PLAN_NAME + "工作进展通报"
SHORT_TITLE = "县城承载能力提升和深化“千万工程”年度评估报告"
COMPILER = "编制：planbook 自动生成"
SAMPLE_NOTICE = "示例数据，非官方统计"
PART_TITLE = "分章评估"
METHODOLOGY = "book/methodology.qmd"
QUARTO_INDEX = "index.qmd"


@dataclass(frozen=True)
class BookPage:
    """One page of the book: a chapter notebook, the summary or a static appendix page."""

    key: str  # file stem, also the HTML page name (index for the summary)
    source: str  # path relative to the project root
    title: str  # expected title; the page's own H1 wins
    kind: str  # "index" | "chapter" | "appendix"
    number: str = ""  # "1".."5" for chapters, "A".. for appendices, "" unnumbered

    @property
    def html_name(self) -> str:
        return "index.html" if self.kind == "index" else f"{self.key}.html"

    @property
    def heading_prefix(self) -> str:
        """What precedes the chapter title: 第1章 / 附录A / nothing."""
        if not self.number:
            return ""
        return f"附录{self.number}" if self.kind == "appendix" else f"第{self.number}章"


@dataclass(frozen=True)
class Part:
    title: str
    pages: tuple[BookPage, ...]


@dataclass(frozen=True)
class BookChapters:
    """The summary (index page), the parts with their chapters, and the appendices.

    `single`: the period is one document, not a book (the monthly briefing): its only page is
    the index, rendered as one HTML page and a compact PDF with a title block instead of a
    cover and a table of contents."""

    index: BookPage
    parts: tuple[Part, ...]
    appendices: tuple[BookPage, ...]
    single: bool = False

    @property
    def pages(self) -> list[BookPage]:
        out = [self.index]
        for part in self.parts:
            out += part.pages
        return out + list(self.appendices)


@dataclass(frozen=True)
class PeriodParams:
    """The keys of params/<P>.yml, with the titles and labels the book shows."""

    period: str
    as_of: str
    data_dir: str
    kind: str
    plan_id: str

    @property
    def label_zh(self) -> str:
        return parse_period(self.period).label_zh

    @property
    def as_of_zh(self) -> str:
        d = dt.date.fromisoformat(self.as_of)
        return f"{d.year}年{d.month}月{d.day}日"

    @property
    def title(self) -> str:
        return BRIEFING_TITLE if self.kind == "briefing" else TITLE

    @property
    def subtitle(self) -> str:
        return f"{self.label_zh}（数据截至{self.as_of_zh}）"

    def data_path(self, root: Path) -> Path:
        p = Path(self.data_dir)
        return p if p.is_absolute() else root / p


def read_params(period: str, root: Path | None = None) -> PeriodParams:
    """The period's parameters (checked by planbook.params), with the book's display labels."""
    from planbook.params import load_params

    return PeriodParams(**load_params(period, root).as_dict())


def notebooks_out_dir(period: str, root: Path | None = None) -> Path:
    """Where the pipeline writes the executed chapter notebooks."""
    return paths.reports_dir(root) / period / "notebooks"


def book_chapters(period: str, root: Path | None = None) -> BookChapters:
    """The pages of `period`'s book, from planbook.chapters (annual or briefing)."""
    from planbook.chapters import chapters_for

    root = root or paths.project_root()
    params = read_params(period, root)
    nb_rel = notebooks_out_dir(period, root).relative_to(root).as_posix()
    chapters = chapters_for(params.kind)
    index: BookPage | None = None
    body: list[BookPage] = []
    appendices: list[BookPage] = []
    if params.kind != "briefing":
        appendices.append(BookPage("methodology", METHODOLOGY, "评估方法", "appendix"))
    for ch in chapters:
        source = f"{nb_rel}/{ch.notebook}"
        if index is None and not ch.appendix:
            index = BookPage(ch.key, source, ch.title, "index")
        elif ch.appendix:
            appendices.append(BookPage(ch.key, source, ch.title, "appendix"))
        else:
            body.append(BookPage(ch.key, source, ch.title, "chapter", str(len(body) + 1)))
    if index is None:
        raise RenderError(f"period {period}: the chapter list has no summary page")
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    appendices = [BookPage(p.key, p.source, p.title, p.kind, letters[i])
                  for i, p in enumerate(appendices)]
    parts = (Part(PART_TITLE, tuple(body)),) if body else ()
    single = params.kind == "briefing"
    if single and (parts or appendices):
        raise RenderError(f"period {period}: a briefing is one notebook, not a book")
    return BookChapters(index=index, parts=parts, appendices=tuple(appendices), single=single)


# --- Quarto ---------------------------------------------------------------------------------

def quarto_profile_name(period: str) -> str:
    return period


def quarto_profile_path(period: str, root: Path | None = None) -> Path:
    return (root or paths.project_root()) / f"_quarto-{quarto_profile_name(period)}.yml"


def quarto_stage_dir(period: str, root: Path | None = None) -> Path:
    """Where Quarto reads the chapters from: copies of the executed notebooks whose captions
    carry the audit links (the published notebooks stay as papermill wrote them)."""
    return paths.build_dir(root) / "quarto" / period / "chapters"


def quarto_source(page: BookPage, period: str) -> str:
    """The root-relative path Quarto renders `page` from (its html sits at the same path)."""
    if not page.source.endswith(".ipynb"):
        return page.source
    return f"build/quarto/{period}/chapters/{Path(page.source).name}"


def font_dir() -> Path:
    import mplfonts

    return Path(mplfonts.__file__).parent / "fonts"


def quarto_profile(period: str, root: Path | None = None, *, sample_notice: bool = False
                   ) -> dict:
    """The per-period Quarto profile: chapters live only here (profile lists concatenate).

    The summary notebook is rendered into the generated `index.qmd` (Quarto books need an
    index page), so the first chapter is `index.qmd`.
    """
    root = root or paths.project_root()
    params = read_params(period, root)
    book = book_chapters(period, root)
    chapters: list = [QUARTO_INDEX]
    for part in book.parts:
        chapters.append({"part": part.title,
                         "chapters": [quarto_source(p, period) for p in part.pages]})
    profile: dict = {
        "book": {
            "title": params.title,
            "subtitle": params.subtitle,
            "date": params.as_of,
            "chapters": chapters,
            "appendices": [quarto_source(p, period) for p in book.appendices],
        },
        # Absolute path of this machine's mplfonts; _quarto.yml keeps a relative fallback.
        "format": {"typst": {"font-paths": [str(font_dir())]}},
    }
    if sample_notice:
        banner = f'<div class="pb-sample-banner" role="note">{SAMPLE_NOTICE}</div>'
        profile["format"]["html"] = {"include-before-body": [{"text": banner}]}
        # orange-book sets its own footer; page.foreground survives its `set page` rules.
        profile["format"]["typst"]["include-in-header"] = [{"text": (
            "#set page(foreground: place(bottom + center, dy: -0.9cm, "
            f'text(size: 8pt, fill: rgb("#b00020"))[{SAMPLE_NOTICE}]))\n')}]
    return profile


def write_quarto_profile(period: str, root: Path | None = None, *, sample_notice: bool = False
                         ) -> Path:
    """Write `_quarto-<P>.yml` (git-ignored) so `quarto render --profile <P>` builds period P,
    and stage the chapters it lists (render_code.stage_quarto_chapters)."""
    from planbook.render_code import stage_quarto_chapters

    root = root or paths.project_root()
    stage_quarto_chapters(period, book_chapters(period, root), root)
    path = quarto_profile_path(period, root)
    header = (f"# Generated by `planbook render --period {period}`; do not edit.\n"
              f"# quarto render --profile {quarto_profile_name(period)}\n")
    text = header + yaml.safe_dump(quarto_profile(period, root, sample_notice=sample_notice),
                                   allow_unicode=True, sort_keys=False, width=1000)
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
# Light colours of planbook.display.LIGHT_COLOURS, for the dots of the department tables.
_DOT_CSS = (".pb-dot-green{color:#2e7d32}.pb-dot-yellow{color:#f2b705}"
            ".pb-dot-red{color:#c62828}.pb-dot-grey{color:#9e9e9e}")
_BANNER_CSS = (".pb-sample-banner{background:#fdecea;color:#b00020;text-align:center;"
               "font-weight:bold;padding:.35rem 1rem}")


def quarto_document_dir(period: str, root: Path | None = None) -> Path:
    """The briefing's own Quarto project: _quarto.yml, index.ipynb and the dot filter."""
    return paths.build_dir(root) / "quarto" / period / "document"


def _typst_str(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)  # a valid typst string literal


def quarto_document(period: str, root: Path | None = None, *, sample_notice: bool = False,
                    title: str = "") -> dict:
    """The briefing's Quarto config: a default (single-document) project rendering html and
    plain typst (A4, CJK fonts by name from font-paths, running header, no TOC, no numbering)."""
    root = root or paths.project_root()
    params = read_params(period, root)
    title = title or book_chapters(period, root).index.title
    running = f"{title} · {params.label_zh}"
    header = [
        '#set text(font: ("Noto Serif CJK SC",), lang: "zh", region: "cn")',
        '#show heading: set text(font: ("Noto Sans CJK SC",))',
        '#show raw: set text(font: ("Noto Sans Mono CJK SC",))',
        '#show emph: set text(font: ("Noto Sans CJK SC",))',
        "#show figure.where(kind: table): set block(breakable: true)",
        # The default typst template sets paper, margins and numbering, not the header.
        "#set page(header: context { if here().page() > 1 { align(right, text(size: 8pt, "
        f'fill: luma(90), font: ("Noto Sans CJK SC",), {_typst_str(running)})) }} }})',
    ]
    html_header = f"<style>{_DOT_CSS}{_BANNER_CSS}</style>"
    config: dict = {
        "project": {"type": "default", "render": [QUARTO_DOCUMENT]},
        "title": title,
        "subtitle": params.subtitle,
        "author": COMPILER,
        "lang": "zh",
        "number-sections": False,
        # The notebook was executed by papermill: render its stored outputs, never re-execute.
        "execute": {"enabled": False, "echo": False, "warning": False},
        "crossref": {"fig-title": "图", "tbl-title": "表", "fig-prefix": "图",
                     "tbl-prefix": "表"},
        "filters": [DOT_FILTER],
        "format": {
            "html": {"toc": True, "toc-title": "目录", "html-math-method": "plain",
                     "include-in-header": [{"text": html_header}]},
            "typst": {"papersize": "a4", "fontsize": "10pt",
                      "margin": {"x": "2cm", "y": "2.2cm"},
                      "mainfont": "Noto Serif CJK SC", "font-paths": [str(font_dir())],
                      "toc": False, "page-numbering": "1",
                      "include-in-header": [{"text": "\n".join(header) + "\n"}]},
        },
    }
    if sample_notice:
        banner = f'<div class="pb-sample-banner" role="note">{SAMPLE_NOTICE}</div>'
        config["format"]["html"]["include-before-body"] = [{"text": banner}]
        # page.foreground: a footer line that leaves the template's page number alone.
        config["format"]["typst"]["include-in-header"].append({"text": (
            "#set page(foreground: place(bottom + center, dy: -0.9cm, "
            f'text(size: 8pt, fill: rgb("#b00020"))[{SAMPLE_NOTICE}]))\n')})
    return config


def write_quarto_document(period: str, root: Path | None = None, *,
                          sample_notice: bool = False) -> Path:
    """Write the briefing's Quarto project (build/quarto/<P>/document/): _quarto.yml, the
    staged notebook index.ipynb (render_code.stage_quarto_document) and the dot filter.
    Returns the folder; `quarto render` runs in it."""
    import shutil

    from planbook.pandoc import ASSETS
    from planbook.render_code import stage_quarto_document

    root = root or paths.project_root()
    book = book_chapters(period, root)
    folder = quarto_document_dir(period, root)
    folder.mkdir(parents=True, exist_ok=True)
    stage_quarto_document(period, book, root, folder / QUARTO_DOCUMENT)
    shutil.copyfile(ASSETS / DOT_FILTER, folder / DOT_FILTER)
    header = (f"# Generated by `planbook render --period {period}`; do not edit.\n"
              "# A single document, not a book: quarto render (in this folder)\n")
    text = header + yaml.safe_dump(
        quarto_document(period, root, sample_notice=sample_notice, title=book.index.title),
        allow_unicode=True, sort_keys=False, width=1000)
    path = folder / "_quarto.yml"
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return folder
