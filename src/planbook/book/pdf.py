"""The built-in engine's PDF: pandoc -t typst per page, planbook's typst template, typst-py.

A book gets book.typ's `pb-book` (cover, TOC, chapters); a single document (the monthly
briefing) its `pb-brief` (title block on the first page, compact A4, no TOC or numbering).

An evaluation makes two PDFs from one set of pages: report.pdf, the evaluation a reviewer
reads (summary, chapters, 评估方法), and annex.pdf, the 技术附件 (register, audit trail, data
quality, 指标档案), with the same stamp and running header. A link in one to a place in the
other keeps its text and loses its target (typst refuses a link to a label it lacks).

Every PDF is exported as PDF/UA-1 and PDF/A-2a (typst's own `pdf_standards`): tagged, language
zh-CN, the title shown in the window (DisplayDocTitle), every figure with the alt text the HTML
shows (its cell's `fig-alt`). typst refuses a document that breaks either standard; the
refusal is told in Chinese, a figure without alt text by its label, notebook and cell.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from planbook.book.assets import ASSETS, font_dir
from planbook.book.pages import Block, PageContent, Ref, page_markdown
from planbook.book.pandoc import largest_first, pandoc
from planbook.book.spec import (
    ANNEX_TITLE,
    PLAN_NAME,
    SAMPLE_NOTICE,
    BookChapters,
    annex_title,
    book_title,
)
from planbook.errors import EnvironmentFault, RenderError
from planbook.escape import typst_str
from planbook.plan.params import Params

# A label typst defines (`<tbl-x>` after a figure or heading), not one a link points at.
_DEFINED = re.compile(r"(?<![\\(])<([A-Za-z0-9_:.\-]+)>")
_LINK = re.compile(r"#link\(<([A-Za-z0-9_:.\-]+)>\)\[")


def unlink_missing(source: str) -> str:
    """Links to labels the document does not define become plain text (`#[…]`): a page of
    the report pointing into the 技术附件, or the other way round."""
    defined = set(_DEFINED.findall(source))
    return _LINK.sub(lambda m: m[0] if m[1] in defined else "#[", source)


def typst_source(book: BookChapters, contents: list[PageContent], refs: dict[str, Ref],
                 params: Params, *, sample_notice: bool | Callable[[], bool], hook,
                 annex: bool = False) -> str:
    """The whole book as one typst document (imports book.typ from the same folder).
    `sample_notice` may be a function: asked once the pages are converted (the render reads
    it from the data meanwhile). `contents`: the pages of this PDF (the report's body, or
    with `annex` the 技术附件's)."""

    filters = ("image_alt.lua",) + (("keep_with_next.lua",) if book.single else ())

    def body(job: tuple[PageContent, str]) -> str:
        c, md = job
        return pandoc(md, "typst", prefix=c.page.heading_prefix, number=c.page.number,
                      filters=filters)

    bodies = largest_first(body, [(c, page_markdown(c, "typst", refs, hook)) for c in contents],
                           lambda job: len(job[1]))
    if callable(sample_notice):
        sample_notice = sample_notice()
    if book.single:
        # One document: its H1 becomes the title block of the first page (book.typ pb-brief).
        title = contents[0].title
        head = [
            '#import "book.typ": pb-brief',
            "#show: pb-brief.with(",
            f"  kicker: {typst_str(PLAN_NAME)},",
            f"  running: {typst_str(f'{title} · {params.label_zh}')},",
            f"  subtitle: {typst_str(params.label_zh)},",
            f"  as-of: {typst_str(params.as_of_zh)},",
            f"  compiler: {typst_str(book.compiler)},",
            f"  sample: {typst_str(SAMPLE_NOTICE) if sample_notice else 'none'},",
            f"  stamp: {typst_str(book.stamp)},",
            f"  date: {_typst_date(book, params)},",
            ")",
            "",
        ]
        return "\n".join(head) + "\n\n".join(bodies)
    subtitle = params.label_zh + params.kind_zh + (f"·{ANNEX_TITLE}" if annex else "")
    head = [
        '#import "book.typ": pb-book',
        "#show: pb-book.with(",
        f"  title: {typst_str(annex_title(params) if annex else book_title(params))},",
        f"  short-title: {typst_str(book.short_title + (f'·{ANNEX_TITLE}' if annex else ''))},",
        f"  subtitle: {typst_str(subtitle)},",
        f"  as-of: {typst_str(params.as_of_zh)},",
        f"  compiler: {typst_str(book.compiler)},",
        f"  sample: {typst_str(SAMPLE_NOTICE) if sample_notice else 'none'},",
        f"  stamp: {typst_str(book.stamp)},",
        f"  date: {_typst_date(book, params)},",
        ")",
        "",
    ]
    return unlink_missing("\n".join(head) + "\n\n".join(bodies))


def _typst_date(book: BookChapters, params: Params) -> str:
    """The document's date, which PDF/A requires: the edition's date, else the data cut-off,
    never the build time (the same edition gives the same bytes)."""
    y, m, d = (int(x) for x in (book.edition_date or params.as_of)[:10].split("-"))
    return f"datetime(year: {y}, month: {m}, day: {d})"


# What typst checks the PDF against. PDF/A-2a is the archival standard that keeps the tags.
PDF_STANDARDS = ("ua-1", "a-2a")

# typst runs in a short-lived process: its compiler keeps fonts and layouts in memory that it
# never gives back (+206 MiB at base, about 20 MiB more per month of a range, measured).
_TYPST = """\
import sys
import typst
main, pdf, root, fonts, standards = sys.argv[1:6]
try:
    # System fonts ignored: the same Noto files on every machine give the same PDF.
    typst.compile(main, output=pdf, root=root, font_paths=[fonts], ignore_system_fonts=True,
                  pdf_standards=standards.split(","))
except Exception as exc:  # typst-py's TypstError: its diagnostic shows the source line
    print(getattr(exc, "diagnostic", None) or exc, file=sys.stderr)
    sys.exit(1)
"""


def typst_child(script: str, *args: str, writes: Path) -> str | None:
    """Run a typst `script` (as _TYPST) in a child Python with `args`; None when it succeeds,
    else typst's diagnostic. A machine fault (disk full, no permission) met writing under
    `writes` is raised here as EnvironmentFault, whoever called."""
    proc = subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                          check=False)
    if proc.returncode == 0:
        return None
    detail = proc.stderr.decode("utf-8", "replace").strip() or f"exit {proc.returncode}"
    fault = EnvironmentFault.from_tool(detail, writes)
    if fault is not None:
        raise fault
    return detail


def compile_typst(main: Path, pdf: Path, root: Path,
                  figures: dict[str, str] | None = None) -> None:
    """typst main -> pdf with the book's fonts only, in a child process, as PDF_STANDARDS.
    `figures`: image file (relative to `root`) -> how to name its figure in an error."""
    detail = typst_child(_TYPST, str(main), str(pdf), str(root), str(font_dir()),
                         ",".join(PDF_STANDARDS), writes=pdf.parent)
    if detail is not None:
        refused = standard_refusal(detail, main, figures or {})
        if refused is not None:
            raise refused
        raise RenderError(f"typst 无法编译 {main}：{detail}",
                          hint="生成的 typst 源文件保留在其旁边，可据此排查")


_REFUSAL = re.compile(r"(PDF/[^\n]*?) error: ([^\n]*)")
_IMAGE = re.compile(r'image\("((?:[^"\\]|\\.)*)"')
# typst's reasons, in the words a reader of the error understands.
_REASONS = (
    ("missing alt text", "图片缺少替代文本"),
    ("could not be displayed with font", "有文字无法用所嵌入的字体显示"),
    ("missing document title", "缺少文档标题"),
    ("missing document date", "缺少文档日期"),
    ("missing document language", "缺少文档语言"),
)


def standard_refusal(detail: str, main: Path, figures: dict[str, str]) -> RenderError | None:
    """typst's refusal to export under PDF/UA-1 or PDF/A as a Chinese error; a figure without
    alt text named by its label, notebook and cell (the diagnostic quotes its image call)."""
    m = _REFUSAL.search(detail)
    if m is None:
        return None
    standards, reason = m[1].replace(", ", "、"), m[2]
    if "missing alt text" in reason:
        image = _IMAGE.search(detail)
        figure = figures.get(image[1]) if image else None
        return RenderError(
            f"{figure or '一幅图'}没有替代文本（fig-alt），PDF 无法按 {standards} 导出："
            "每幅图都要有一段文字说明图中所示内容，供读屏软件朗读",
            hint="在生成该图的代码单元格顶部加一行 #| fig-alt: \"…\"（一两句话写出图中所示"
                 "内容，HTML 的 alt 用同一段文字），重新运行 planbook build")
    said = next((zh for en, zh in _REASONS if en in reason), None)
    return RenderError(
        f"PDF 无法按 {standards} 导出：{said or 'typst 拒绝了该文档'}（typst：{reason}）",
        hint=f"生成的 typst 源文件 {main} 保留在其旁边；typst 的完整诊断：\n{detail}")


def figure_names(contents: list[PageContent]) -> dict[str, str]:
    """Each image file of `contents` -> 图 2.1〔fig-x〕（notebooks/….ipynb 第 N 个单元格）."""
    names: dict[str, str] = {}
    for c in contents:
        for b in c.blocks:
            if b.kind == "figure" and b.asset:
                names[b.asset] = _figure_name(c, b)
    return names


def _figure_name(c: PageContent, b: Block) -> str:
    item = b.item
    what = (f"{item.display_number}〔{item.label}〕" if item and item.label and item.number
            else f"图 {b.asset}")
    return f"{what}（{c.page.source} 第 {b.cell_index} 个单元格）"


def write_pdf(book: BookChapters, contents: list[PageContent], refs: dict[str, Ref],
              params: Params, work: Path, pdf: Path, *,
              sample_notice: bool | Callable[[], bool], hook, annex: bool = False) -> Path:
    """Compile `contents` (the report's pages, or with `annex` the 技术附件's) into `pdf`;
    `work` holds main.typ and the figure files."""
    work.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ASSETS / "book.typ", work / "book.typ")
    for c in contents:
        for name, data in c.assets.items():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            (work / name).write_bytes(data)
    main = work / "main.typ"
    main.write_text(typst_source(book, contents, refs, params, sample_notice=sample_notice,
                                 hook=hook, annex=annex), encoding="utf-8")
    compile_typst(main, pdf, work, figure_names(contents))
    return pdf
