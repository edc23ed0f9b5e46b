"""The book of one period: which pages, in which order, with which titles.

`book_spec(rp)` is the one place the page list is decided; both engines and the generated
Quarto configuration read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from planbook.errors import RenderError
from planbook.plan.params import KIND_ZH, Params
from planbook.run.period import ReportPeriod
from planbook.store.evaluation import issuer, signoff_of

PLAN_NAME = "建德市县城承载能力提升和深化“千村示范、万村整治”工程实施方案（2023—2027年）"
TITLE = PLAN_NAME + "年度评估报告"
BRIEFING_TITLE = PLAN_NAME + "工作进展通报"
SHORT_NAME = "县城承载能力提升和深化“千万工程”"
SHORT_TITLE = SHORT_NAME + "年度评估报告"
# The second PDF of an evaluation: the register, the audit trail, data quality, 指标档案.
ANNEX_TITLE = "技术附件"
ANNEX_PDF = "annex.pdf"
ANNEX_PART = ANNEX_TITLE
COMPILER = "编制：planbook 自动生成"
SAMPLE_NOTICE = "示例数据，非官方统计"
PART_TITLE = "分章评估"
ZH_NUMERALS = "一二三四五六七八九十"
METHODOLOGY = "book/methodology.qmd"
QUARTO_INDEX = "index.qmd"


@dataclass(frozen=True)
class BookPage:
    """One page of the book: a chapter notebook, the summary or a static appendix page."""

    key: str  # file stem, also the HTML page name (index for the summary)
    source: str  # path relative to the project root
    title: str  # expected title; the page's own H1 wins
    kind: str  # "index" | "chapter" | "appendix"
    # chapters: the plan's own chapter number in digits ("2" for 二、总体目标; see
    # chapter_numbers), "A".. for appendices, "" unnumbered
    number: str = ""
    annex: bool = False  # in the 技术附件 (annex.pdf) rather than the report's PDF

    @property
    def html_name(self) -> str:
        return "index.html" if self.kind == "index" else f"{self.key}.html"

    @property
    def heading_prefix(self) -> str:
        """What precedes the chapter title: 第二章 (the plan's 二、) / 附录A / nothing."""
        if not self.number:
            return ""
        if self.kind == "appendix":
            return f"附录{self.number}"
        return f"第{ZH_NUMERALS[int(self.number) - 1]}章"


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
    params: Params  # the period's parameters, for titles and labels
    single: bool = False
    edition: int = 1  # 版次 (see run.period.ReportPeriod)
    edition_date: str = ""  # 版次日期, ISO; "" when not recorded
    compiler: str = COMPILER  # 编制：<issuer> from the evaluator's file, else COMPILER
    signoff: str = ""  # 征求意见稿 / 审定稿 from the evaluator's file (the Word edition)

    @property
    def period(self) -> str:
        return self.params.period

    @property
    def title(self) -> str:
        return book_title(self.params)

    @property
    def subtitle(self) -> str:
        return book_subtitle(self.params)

    @property
    def stamp(self) -> str:
        """What every page states: period, data cut-off and edition (never the build time)."""
        return stamp_text(self.params, self.edition, self.edition_date)

    @property
    def short_title(self) -> str:
        return short_title(self.params)

    @property
    def pages(self) -> list[BookPage]:
        out = [self.index]
        for part in self.parts:
            out += part.pages
        return out + list(self.appendices)

    @property
    def body_appendices(self) -> tuple[BookPage, ...]:
        """The appendices printed in the report's PDF (评估方法)."""
        return tuple(p for p in self.appendices if not p.annex)

    @property
    def annex(self) -> tuple[BookPage, ...]:
        """The appendices of the 技术附件 (annex.pdf); in the HTML book, its last part."""
        return tuple(p for p in self.appendices if p.annex)

    @property
    def body_pages(self) -> list[BookPage]:
        """What report.pdf holds: summary, chapters, the body's appendices."""
        return [p for p in self.pages if not p.annex]


def chapter_numbers(plan_chapters: list[str | None]) -> list[str]:
    """One crosswalk for the whole book: a chapter reporting on the plan's 三、 is 第三章 (number
    "3", its sections 3.1 …, figures 图3.1), in the sidebar, the PDF and the tables alike. A
    chapter of no plan chapter (the front part) takes the lowest number no plan chapter uses
    (the plan's 一、指导思想 sets no tasks, so the front part is 第一章)."""
    taken = {ZH_NUMERALS.index(c) + 1 for c in plan_chapters if c}
    free = (n for n in range(1, len(ZH_NUMERALS) + 1) if n not in taken)
    return [str(ZH_NUMERALS.index(c) + 1) if c else str(next(free)) for c in plan_chapters]


def book_title(params: Params) -> str:
    """The plan's name and the report's kind: …年度评估报告 / 中期评估报告 / 总结评估报告."""
    return BRIEFING_TITLE if params.kind == "briefing" else PLAN_NAME + KIND_ZH[params.kind] + "报告"


def short_title(params: Params) -> str:
    """The running header: 县城承载能力提升和深化“千万工程”中期评估报告."""
    return SHORT_NAME + KIND_ZH[params.kind] + ("" if params.kind == "briefing" else "报告")


def annex_title(params: Params) -> str:
    """The 技术附件's cover title: the report's title and 技术附件."""
    return book_title(params) + "·" + ANNEX_TITLE


def date_zh(iso: str) -> str:
    """2026-04-15 → 2026年4月15日."""
    y, m, d = (int(x) for x in iso[:10].split("-"))
    return f"{y}年{m}月{d}日"


def edition_label(edition: int, edition_date: str = "") -> str:
    """第1版（2026年4月15日）; from the second edition on 第2版·修订版（…）."""
    label = f"第{edition}版" + ("·修订版" if edition > 1 else "")
    return label + (f"（{date_zh(edition_date)}）" if edition_date else "")


def stamp_text(params: Params, edition: int, edition_date: str = "") -> str:
    """2025年 · 数据截至2026年3月31日 · 第1版（2026年4月15日）."""
    return (f"{params.label_zh} · 数据截至{params.as_of_zh} · "
            f"{edition_label(edition, edition_date)}")


def compiler_line(rp: ReportPeriod) -> str:
    """编制：<the issuing body of the period's evaluator's file>; COMPILER without one."""
    body = issuer(rp.data, rp.code)
    return f"编制：{body}" if body else COMPILER


def book_subtitle(params: Params) -> str:
    return f"{params.label_zh}（数据截至{params.as_of_zh}）"


def book_spec(rp: ReportPeriod) -> BookChapters:
    """The pages of the period's book: its chapter notebooks (annual or briefing) as
    published under reports/<P>/notebooks/, plus the methodology appendix of an annual book."""
    period, params = rp.code, rp.params
    nb_rel = rp.rel(rp.notebooks_dir)
    chapters = rp.chapters
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
            appendices.append(BookPage(ch.key, source, ch.title, "appendix", annex=ch.annex))
        else:
            body.append(BookPage(ch.key, source, ch.title, "chapter"))
    if index is None:
        raise RenderError(f"期间 {period} 的章节清单中没有摘要页",
                          hint="在 planbook.chapters.catalogue 中为该报告类型列入摘要页")
    numbers = chapter_numbers([ch.plan_chapter for ch in chapters
                               if not ch.appendix and ch.key != index.key])
    body = [BookPage(p.key, p.source, p.title, p.kind, n) for p, n in zip(body, numbers,
                                                                           strict=True)]
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    appendices = [BookPage(p.key, p.source, p.title, p.kind, letters[i], annex=p.annex)
                  for i, p in enumerate(appendices)]
    parts = (Part(PART_TITLE, tuple(body)),) if body else ()
    single = params.kind == "briefing"
    if single and (parts or appendices):
        raise RenderError(f"期间 {period} 是简报：只有一个笔记本，不能编成多章报告",
                          hint="简报的章节清单只列一个笔记本")
    return BookChapters(index=index, parts=parts, appendices=tuple(appendices), params=params,
                        single=single, edition=rp.edition, edition_date=rp.edition_date,
                        compiler=compiler_line(rp), signoff=signoff_of(rp.data, rp.code))
