"""Render a period's book to reports/<P>/html/, reports/<P>/report.pdf, its Word edition
reports/<P>/report.docx and (an evaluation) reports/<P>/annex.pdf, the 技术附件.

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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from planbook import paths
from planbook.book.code import audit_captions, register_section, write_code_pages
from planbook.book.docx import DOCX, finish_for
from planbook.book.dossier import add_indicator_uses, write_statuses
from planbook.book.downloads import (
    DOWNLOADS,
    stamp_datetime,
    with_download_links,
    write_data_package,
    write_table_downloads,
)
from planbook.book.pages import Block, CaptionHook, PageContent, collect_refs, read_page
from planbook.book.portal import period_summary, write_period_summary
from planbook.book.quarto import QuartoRun, render_quarto_book, render_quarto_document
from planbook.book.spec import ANNEX_PDF, BookChapters, book_spec
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
    annex: Path | None = None  # the 技术附件 (annex.pdf) of an evaluation
    messages: tuple[str, ...] = ()  # Quarto's warnings (quarto.quarto_messages)
    log: Path | None = None  # Quarto's whole output (quarto.quarto_log)

    def notes(self) -> list[str]:
        """What the analyst is told of Quarto's own messages, in Chinese, each once."""
        if not self.messages:
            return []
        return ([f"Quarto 给出 {len(self.messages)} 条提示（完整输出：{self.log}）："]
                + [f"  {m}" for m in self.messages])

    @property
    def index_html(self) -> Path:
        return self.html_dir / "index.html"

    def __str__(self) -> str:
        note = "（含示例数据提示）" if self.sample_notice else ""
        if self.single:
            return (f"已生成 {self.period} 工作进展通报{note}：单页 HTML 与 PDF，"
                    f"{self.engine} 引擎，用时 {self.seconds:.1f} 秒\n"
                    f"  HTML: {self.index_html}\n  PDF:  {self.pdf}\n"
                    f"  Word: {self.pdf.with_name(DOCX)}")
        annex = f"\n  技术附件: {self.annex}" if self.annex else ""
        return (f"已生成 {self.period} 评估报告{note}：{self.pages} 个页面（摘要、各章与附录），"
                f"{self.engine} 引擎，用时 {self.seconds:.1f} 秒\n"
                f"  HTML: {self.index_html}\n  PDF:  {self.pdf}\n"
                f"  Word: {self.pdf.with_name(DOCX)}{annex}")


def pick_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise RenderError(f"未知的渲染引擎 {engine}", hint=f"取其一：{'、'.join(ENGINES)}")
    if engine == "auto":
        return "quarto" if shutil.which("quarto") else "builtin"
    if engine == "quarto" and not shutil.which("quarto"):
        raise RenderError("找不到 quarto（不在 PATH 中）",
                          hint="安装它（pip install quarto-cli 或 conda），或改用 --engine builtin")
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
    facts = _Facts(rp)
    messages, log = (), None
    with publish.edition(rp) as edition:
        book = book_spec(edition)  # the staged edition's notebooks
        _check_executed(book, root, engine=chosen)
        staging = staging_dir(period, root)
        try:
            if chosen == "quarto":
                if sample_notice is None:
                    sample_notice = facts.sample_notice
                ran = _render_quarto(rp, book, root, staging, register, facts,
                                     sample_notice=sample_notice)
                html_dir, pdf, messages, log = ran.html_dir, ran.pdf, ran.messages, ran.log
                docx = staging / DOCX
                if docx.is_file():  # the same header, dates and zip times as the built-in's
                    docx.write_bytes(finish_for(book, docx.read_bytes(),
                                                sample_notice=sample_notice))
            else:
                html_dir, pdf, sample_notice = _render_builtin(
                    rp, book, root, staging, register, facts, sample_notice=sample_notice,
                    hook=caption_hook)
            _check_complete(book, html_dir, pdf, chosen)
            install(edition, html_dir, pdf)
            if not rp.staged:
                (edition.report_dir / "manifest.json").unlink(missing_ok=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    final = rp.report_dir  # reports/<P>/ once swapped in (alone), else the caller's staging
    return RenderResult(period, chosen, final / "html", final / "report.pdf", len(book.pages),
                        sample_notice, time.monotonic() - started, single=book.single,
                        annex=final / ANNEX_PDF if book.annex else None,
                        messages=messages, log=log)


def _check_executed(book: BookChapters, root: Path, *, engine: str) -> None:
    """Both engines render stored outputs only: before anything is written, say which of the
    period's notebooks have not been executed yet, and the exact commands that fix it."""
    missing = [Path(p.source).name for p in book.pages
               if p.source.endswith(".ipynb") and not (root / p.source).is_file()]
    if missing:
        period = book.period
        shown = "、".join(missing[:4]) + (f" 等 {len(missing)} 个" if len(missing) > 4 else "")
        raise RenderError(
            f"{period} 的笔记本尚未执行（缺少 {shown}），渲染只读取已执行的笔记本",
            hint=f"先运行 planbook run --period {period}，再运行 planbook render --period "
                 f"{period} --engine {engine}；或一条命令完成：planbook build --period {period} "
                 f"--engine {engine}")


class _Facts:
    """What the render needs of the period's data, read once: whether the report must carry
    the sample notice, and the assessments (the portal's counts). Both from the rows the
    report read: received by its cut-off, for periods up to its own."""

    def __init__(self, rp: ReportPeriod):
        self.rp = rp

    @cached_property
    def _registry(self):
        from planbook.plan.registry import load_registry

        if not (paths.plan_dir(self.rp.data) / "indicators.yaml").is_file():
            return None
        return load_registry(self.rp.data)

    @cached_property
    def rows(self):
        """The rows the report reads (its cut-off and period), loaded once."""
        from planbook.store.observations import load_all

        rp = self.rp
        return load_all(rp.data, self._registry, as_of=rp.params.as_of, period=rp.period)

    @cached_property
    def sample_notice(self) -> bool:
        """Whether the report must say 示例数据，非官方统计 (any sample observation it can
        use), from the rows read once."""
        return bool(uses_sample(self.rp.data, self.rp.period, frame=self.rows))

    @cached_property
    def assessments(self) -> list:
        """The period's assessments, as the notebooks compute them; none for a book made
        without the plan registry (e.g. a hand-made test book)."""
        from planbook.assess.rules import assess_all

        registry = self._registry
        if registry is None:
            return []
        prepared = _prepared_assessments(self.rp, registry, self.rows)
        return prepared if prepared is not None else assess_all(registry, self.rows,
                                                                 self.rp.period)


def _render_quarto(rp: ReportPeriod, book: BookChapters, root: Path, staging: Path,
                   register: list[dict], facts: _Facts, *, sample_notice: bool
                   ) -> QuartoRun:
    """html/, report.pdf (and report.docx) through Quarto, with what the built-in engine's html/ holds
    besides Quarto's pages: the tables' downloads (written first: the captions link them),
    the code pages and the data files."""
    contents = [read_page(p, root) for p in book.pages]
    extra = staging / "downloads"
    labels = write_table_downloads(contents, extra, stamp_datetime(book.edition_date,
                                                                   book.params.as_of),
                                   sample=sample_notice)
    downloads = {i.label: i for c in contents for i in c.items if i.label in labels}
    if book.single:
        ran = render_quarto_document(book, root, staging, sample_notice=sample_notice,
                                     downloads=downloads)
    else:
        ran = render_quarto_book(book, root, staging, register, sample_notice=sample_notice,
                                 downloads=downloads)
    shutil.move(extra / DOWNLOADS, ran.html_dir / DOWNLOADS)
    _write_code_pages(book, root, ran.html_dir, register, sample_notice=sample_notice)
    _write_data_files(rp, book, register, ran.html_dir, facts, sample_notice)
    return ran


def _write_data_files(rp: ReportPeriod, book: BookChapters, register: list[dict],
                      html_dir: Path, facts: _Facts, sample_notice: bool) -> None:
    """What html/ holds besides the pages, either engine: the data package, period.json (the
    portal's counts), both saying whether the report used sample data, and statuses.json (the
    statuses later reports read as published)."""
    write_data_package(rp, register, html_dir, frame=lambda: facts.rows, sample=sample_notice)
    write_period_summary(html_dir, period_summary(rp, book, facts.assessments,
                                                  sample=sample_notice))
    write_statuses(rp, facts.assessments, html_dir)


def _prepared_assessments(rp: ReportPeriod, registry, frame) -> list | None:
    """The assessments `planbook run` prepared for the chapters (chapters.prepared), when
    they were made for these parameters from this registry and exactly these rows: then they
    are what assess_all would return (it reads nothing else), without its cost. None
    otherwise (not prepared, or made from other data)."""
    from planbook.chapters import prepared
    from planbook.run.execute import cache_dir

    for path in sorted(cache_dir(rp.code, rp.root).glob("prepared-*.pickle")):
        state = prepared.read(path, rp.params)
        if (state is not None and "assessments" in state
                and state["registry"] == registry and state["observations"].equals(frame)):
            return state["assessments"]
    return None


# --- the built-in engine ---------------------------------------------------------------------

def _render_builtin(rp: ReportPeriod, book: BookChapters, root: Path, staging: Path,
                    register: list[dict], facts: _Facts, *, sample_notice: bool | None,
                    hook: CaptionHook) -> tuple[Path, Path, bool]:
    """html/ (with its downloads and period.json) and report.pdf in `staging`; returns them
    and the sample notice used."""
    from planbook.book.docx import write_docx
    from planbook.book.html import write_html
    from planbook.book.pdf import write_pdf

    params = book.params
    contents = [read_page(p, root) for p in book.pages]
    add_register_section(book.period, contents, register)
    add_indicator_uses(contents, register, book.period)
    refs = collect_refs(contents)
    html_dir = staging / "html"
    pdf = staging / "report.pdf"
    body = [c for c in contents if not c.page.annex]
    annex = [c for c in contents if c.page.annex]
    notice: Future[bool] = Future()
    if sample_notice is not None:
        notice.set_result(sample_notice)
    # The PDF is the longest branch (pandoc per page, then typst in its own process): it
    # starts first, and the sample notice its title page needs is read from the data while
    # its pandoc runs. Meanwhile this thread writes the downloads and the HTML book, and
    # another the code pages: all only read `contents`. Download links are on HTML captions
    # only, so the PDF takes the caption hook as given.
    with ThreadPoolExecutor(4) as pool:
        pdf_job = pool.submit(write_pdf, book, body, refs, params, staging / "typst", pdf,
                              sample_notice=notice.result, hook=hook)
        annex_job = pool.submit(write_pdf, book, annex, refs, params, staging / "typst-annex",
                                staging / ANNEX_PDF, sample_notice=notice.result, hook=hook,
                                annex=True) if annex else None
        # The Word edition: the report's body, like report.pdf.
        docx_job = pool.submit(write_docx, book, body, refs, params, staging / "docx",
                               staging / DOCX, sample_notice=notice.result, hook=hook)
        code_job = None
        try:
            if not notice.done():
                try:
                    notice.set_result(facts.sample_notice)
                except BaseException as exc:
                    notice.set_exception(exc)
                    raise
            code_job = pool.submit(_write_code_pages, book, root, html_dir, register,
                                   titles={c.page.key: c.title for c in contents},
                                   sample_notice=notice.result())
            stamp = stamp_datetime(book.edition_date, params.as_of)
            links = with_download_links(hook, write_table_downloads(
                contents, html_dir, stamp, sample=notice.result()))
            write_html(book, contents, refs, params, html_dir, sample_notice=notice.result(),
                       hook=links)
            _write_data_files(rp, book, register, html_dir, facts, notice.result())
        finally:
            # The PDF's error first if several failed; nothing left running.
            pdf_job.result()
            if annex_job is not None:
                annex_job.result()
            docx_job.result()
            if code_job is not None:
                code_job.result()
    return html_dir, pdf, notice.result()


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
                      titles: dict[str, str] | None = None, sample_notice: bool = False) -> None:
    # Either engine's pages sit flat in html/ with the web font in html/assets/fonts/.
    write_code_pages(book.pages, titles or {p.key: p.title for p in book.pages}, root,
                     html_dir, register, book.params.as_dict(),
                     chapter_href=lambda page: f"../{page.html_name}",
                     notebooks_href="../../notebooks", fonts_href="../assets/fonts",
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
    annex = pdf.with_name(ANNEX_PDF)  # the built-in engine's 技术附件 (Quarto: one PDF)
    if engine == "builtin" and book.annex and not (annex.is_file() and annex.stat().st_size):
        missing.append(str(annex))
    docx = pdf.with_name(DOCX)  # the Word edition, either engine
    if not (docx.is_file() and docx.stat().st_size):
        missing.append(str(docx))
    if not (html_dir / "index.html").is_file():
        missing.append(str(html_dir / "index.html"))
    missing += [str(html_dir / p.html_name) for p in book.pages
                if not (html_dir / p.html_name).is_file()]
    missing += [str(html_dir / "code" / f"{p.key}.html") for p in book.pages
                if p.source.endswith(".ipynb") and not (html_dir / "code" / f"{p.key}.html").is_file()]
    if missing:
        raise RenderError("渲染不完整，未发布任何文件；缺少：" + "、".join(missing),
                          hint="查看上面的渲染输出，排除问题后重新运行同一命令")


def install(edition: ReportPeriod, html_dir: Path, pdf: Path) -> None:
    """Put the rendered html/, report.pdf, report.docx and annex.pdf (when made, next to
    `pdf`) into the staged edition (replacing the old)."""
    target = edition.report_dir
    target.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(target / "html", ignore_errors=True)
    shutil.move(str(html_dir), str(target / "html"))
    shutil.move(str(pdf), str(target / "report.pdf"))
    (target / DOCX).unlink(missing_ok=True)
    if pdf.with_name(DOCX).is_file():
        shutil.move(str(pdf.with_name(DOCX)), str(target / DOCX))
    (target / ANNEX_PDF).unlink(missing_ok=True)
    if pdf.with_name(ANNEX_PDF).is_file():
        shutil.move(str(pdf.with_name(ANNEX_PDF)), str(target / ANNEX_PDF))
