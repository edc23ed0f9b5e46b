"""Render a period's book to reports/<P>/html/ and reports/<P>/report.pdf.

Recipe: within the period's edition (run.publish: one flock for the command, a staged copy
of reports/<P>/) → build every output into build/render/<P>/staging → check it is complete →
put html/ and report.pdf into the staged edition → the edition is swapped in whole. A failed
render leaves the published edition untouched. Rendered alone (not inside a build), the
edition's manifest.json is dropped, since it listed the previous book's files; `planbook
render` and `planbook build` write a new one (build.render_book).

Engines: "quarto" (when `quarto` is on PATH) renders the generated profile; "builtin" reads
the executed notebooks with nbformat and runs pandoc + typst itself; "auto" picks quarto when
it is installed.

A briefing period (`BookChapters.single`) is one document, not a book: the built-in engine
writes one HTML page and a compact PDF (html.write_single_html, book.typ pb-brief); Quarto
renders the generated single-document project (quarto.write_quarto_document).

The audit register (planbook.audit.register, a later stage) is handed in as data: the
register appendix and the code pages show it.
"""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from planbook import paths
from planbook.book.code import audit_captions, register_section, write_code_pages
from planbook.book.dossier import add_indicator_uses
from planbook.book.downloads import (
    stamp_datetime,
    with_download_links,
    write_data_package,
    write_table_downloads,
)
from planbook.book.pages import Block, CaptionHook, PageContent, collect_refs, read_page
from planbook.book.portal import period_summary, write_period_summary
from planbook.book.quarto import quarto_source, render_quarto_book, render_quarto_document
from planbook.book.spec import BookChapters, book_spec
from planbook.chapters.catalogue import REGISTER_PAGE
from planbook.errors import RenderError
from planbook.run import publish
from planbook.run.period import ReportPeriod
from planbook.store.observations import uses_sample

ENGINES = ("auto", "quarto", "builtin")


@dataclass(frozen=True)
class RenderResult:
    period: str
    engine: str  # the engine that ran: "quarto" | "builtin"
    html_dir: Path
    pdf: Path
    pages: int
    sample_notice: bool
    seconds: float
    single: bool = False  # one document (the monthly briefing), not a book

    @property
    def index_html(self) -> Path:
        return self.html_dir / "index.html"

    def __str__(self) -> str:
        note = "（含示例数据提示）" if self.sample_notice else ""
        if self.single:
            return (f"已生成 {self.period} 工作进展通报{note}：单页 HTML 与 PDF，"
                    f"{self.engine} 引擎，用时 {self.seconds:.1f} 秒\n"
                    f"  HTML: {self.index_html}\n  PDF:  {self.pdf}")
        return (f"已生成 {self.period} 评估报告{note}：{self.pages} 个页面（摘要、各章与附录），"
                f"{self.engine} 引擎，用时 {self.seconds:.1f} 秒\n"
                f"  HTML: {self.index_html}\n  PDF:  {self.pdf}")


def default_sample_notice(rp: ReportPeriod) -> bool:
    """Whether the report must say 示例数据，非官方统计 (any sample observation it can use)."""
    return bool(uses_sample(rp.data, rp.period, as_of=rp.params.as_of))


def pick_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise RenderError(f"unknown engine {engine!r}", hint=f"use one of {', '.join(ENGINES)}")
    if engine == "auto":
        return "quarto" if shutil.which("quarto") else "builtin"
    if engine == "quarto" and not shutil.which("quarto"):
        raise RenderError("quarto is not on PATH",
                          hint="install it (pip install quarto-cli, or conda) or use --engine builtin")
    return engine


def render(rp: ReportPeriod, register: list[dict], *, engine: str = "auto",
           sample_notice: bool | None = None,
           caption_hook: CaptionHook | None = None) -> RenderResult:
    """Render the period's book (HTML and PDF) and publish it into reports/<P>/.

    `register`: the audit register of the executed notebooks (planbook.audit.register).
    Captions carry the audit trail by default (code.audit_captions: 溯源 links in HTML,
    labels in the PDF); pass pages.no_caption_links for bare captions. Both engines also
    write the code pages html/code/<notebook>.html.
    """
    caption_hook = caption_hook or audit_captions
    started = time.monotonic()
    root, period = rp.root, rp.code
    chosen = pick_engine(engine)
    if sample_notice is None:
        sample_notice = default_sample_notice(rp)
    with publish.edition(rp) as edition:
        book = book_spec(edition)  # the staged edition's notebooks
        staging = staging_dir(period, root)
        try:
            if chosen == "quarto" and book.single:
                html_dir, pdf = render_quarto_document(book, root, staging,
                                                       sample_notice=sample_notice)
                _write_code_pages(book, root, html_dir, register, quarto=True,
                                  sample_notice=sample_notice)
            elif chosen == "quarto":
                html_dir, pdf = render_quarto_book(book, root, staging, register,
                                                   sample_notice=sample_notice)
                _write_code_pages(book, root, html_dir, register, quarto=True,
                                  sample_notice=sample_notice)
            else:
                html_dir, pdf = _render_builtin(book, root, staging, register,
                                                sample_notice=sample_notice, hook=caption_hook)
            write_data_package(rp, register, html_dir)
            write_period_summary(html_dir, period_summary(rp, book, _assessments(rp)))
            _check_complete(book, html_dir, pdf, chosen)
            install(edition, html_dir, pdf)
            if not rp.staged:
                (edition.report_dir / "manifest.json").unlink(missing_ok=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    final = rp.report_dir  # reports/<P>/ once swapped in (alone), else the caller's staging
    return RenderResult(period, chosen, final / "html", final / "report.pdf", len(book.pages),
                        sample_notice, time.monotonic() - started, single=book.single)


def _assessments(rp: ReportPeriod) -> list:
    """The period's assessments, as the notebooks compute them (for the portal's counts);
    none for a book made without the plan registry (e.g. a hand-made test book)."""
    from planbook.assess.rules import assess_all
    from planbook.plan.registry import load_registry
    from planbook.store.observations import load_all

    if not (paths.plan_dir(rp.data) / "indicators.yaml").is_file():
        return []
    registry = load_registry(rp.data)
    # The rows the report read: received by its cut-off, for periods up to its own.
    frame = load_all(rp.data, registry, as_of=rp.params.as_of, period=rp.period)
    return assess_all(registry, frame, rp.period)


# --- the built-in engine ---------------------------------------------------------------------

def _render_builtin(book: BookChapters, root: Path, staging: Path, register: list[dict], *,
                    sample_notice: bool, hook: CaptionHook) -> tuple[Path, Path]:
    from planbook.book.html import write_html
    from planbook.book.pdf import write_pdf

    params = book.params
    contents = [read_page(p, root) for p in book.pages]
    add_register_section(book.period, contents, register)
    add_indicator_uses(contents, register, book.period)
    refs = collect_refs(contents)
    html_dir = staging / "html"
    pdf = staging / "report.pdf"
    # The PDF (pandoc, then typst in its own process) is made while this thread writes the
    # downloads, HTML book and code pages: all only read `contents`. Download links are on
    # HTML captions only, so the PDF takes the caption hook as given.
    with ThreadPoolExecutor(1) as pool:
        pdf_job = pool.submit(write_pdf, book, contents, refs, params, staging / "typst", pdf,
                              sample_notice=sample_notice, hook=hook)
        try:
            stamp = stamp_datetime(book.edition_date, params.as_of)
            hook = with_download_links(hook, write_table_downloads(contents, html_dir, stamp))
            write_html(book, contents, refs, params, html_dir, sample_notice=sample_notice,
                       hook=hook)
            _write_code_pages(book, root, html_dir, register, quarto=False,
                              titles={c.page.key: c.title for c in contents},
                              sample_notice=sample_notice)
        finally:
            pdf_job.result()  # its error first if both failed; never left running
    return html_dir, pdf


def add_register_section(period: str, contents: list[PageContent], register: list[dict]
                         ) -> None:
    """Append the audit register to the appendix 数据来源与追溯 (when the book has it)."""
    page = next((c for c in contents if c.page.key == REGISTER_PAGE), None)
    if page is None:
        return
    titles = {c.page.key: c.title for c in contents}
    head, table_md, table_html = register_section(register, titles, period)
    page.blocks += [Block("md", head), Block("rich", table_md, table_html)]


def _write_code_pages(book: BookChapters, root: Path, html_dir: Path, register: list[dict], *,
                      quarto: bool, titles: dict[str, str] | None = None,
                      sample_notice: bool = False) -> None:
    period = book.period

    def chapter_href(page) -> str:
        # Quarto writes a chapter's page where its (staged) source sits, index.html at the top.
        if not quarto or page.kind == "index":
            return f"../{page.html_name}"
        return "../" + Path(quarto_source(page, period)).with_suffix(".html").as_posix()

    write_code_pages(book.pages, titles or {p.key: p.title for p in book.pages}, root,
                     html_dir, register, book.params.as_dict(),
                     chapter_href=chapter_href, notebooks_href="../../notebooks",
                     fonts_href=None if quarto else "../assets/fonts",
                     sample_notice=sample_notice, stamp=book.stamp)


# --- publishing ------------------------------------------------------------------------------

def staging_dir(period: str, root: Path) -> Path:
    """build/render/<P>/staging: the engines' output (the period lock makes it ours alone)."""
    path = paths.build_dir(root) / "render" / period / "staging"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def _check_complete(book: BookChapters, html_dir: Path, pdf: Path, engine: str) -> None:
    missing = [] if pdf.is_file() and pdf.stat().st_size else [str(pdf)]
    if not (html_dir / "index.html").is_file():
        missing.append(str(html_dir / "index.html"))
    if engine == "builtin":
        missing += [str(html_dir / p.html_name) for p in book.pages
                    if not (html_dir / p.html_name).is_file()]
    missing += [str(html_dir / "code" / f"{p.key}.html") for p in book.pages
                if p.source.endswith(".ipynb") and not (html_dir / "code" / f"{p.key}.html").is_file()]
    if missing:
        raise RenderError("render incomplete, nothing published; missing: " + ", ".join(missing))


def install(edition: ReportPeriod, html_dir: Path, pdf: Path) -> None:
    """Put the rendered html/ and report.pdf into the staged edition (replacing the old)."""
    target = edition.report_dir
    target.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(target / "html", ignore_errors=True)
    shutil.move(str(html_dir), str(target / "html"))
    shutil.move(str(pdf), str(target / "report.pdf"))
