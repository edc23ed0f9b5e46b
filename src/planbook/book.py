"""The book of one period: which pages, in which order, and the Quarto profile listing them.

`book_chapters(period)` is the one place the chapter list is decided; both engines and the
generated Quarto profile read it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from planbook import paths
from planbook.errors import RenderError
from planbook.periods import parse_period

TITLE = ("建德市县城承载能力提升和深化“千村示范、万村整治”工程实施方案（2023—2027年）"
         "年度评估报告")
BRIEFING_TITLE = ("建德市县城承载能力提升和深化“千村示范、万村整治”工程实施方案（2023—2027年）"
                  "工作进展通报")
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
    """The summary (index page), the parts with their chapters, and the appendices."""

    index: BookPage
    parts: tuple[Part, ...]
    appendices: tuple[BookPage, ...]

    @property
    def pages(self) -> list[BookPage]:
        out = [self.index]
        for part in self.parts:
            out += part.pages
        return out + list(self.appendices)


@dataclass(frozen=True)
class PeriodParams:
    """The keys of params/<P>.yml the render needs (read directly until planbook.params lands)."""

    period: str
    as_of: str
    data_dir: str
    kind: str
    plan_id: str
    extra: dict = field(default_factory=dict, compare=False)

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
    """Read params/<period>.yml with yaml.safe_load; a missing file or key is a RenderError."""
    root = root or paths.project_root()
    path = paths.params_dir(root) / f"{period}.yml"
    if not path.is_file():
        raise RenderError(f"{path}: no parameters for period {period}",
                          hint="write params/<period>.yml or run `planbook run --period P` first")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    keys = ("period", "as_of", "data_dir", "kind", "plan_id")
    missing = [k for k in keys if k not in raw]
    if missing:
        raise RenderError(f"{path}: missing key(s) {', '.join(missing)}")
    values = {k: raw[k].isoformat() if isinstance(raw[k], dt.date) else str(raw[k])
              for k in keys}
    return PeriodParams(**values, extra={k: v for k, v in raw.items() if k not in keys})


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
    return BookChapters(index=index, parts=parts, appendices=tuple(appendices))


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
