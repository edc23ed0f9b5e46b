"""Render a period's book to reports/<P>/html/ and reports/<P>/report.pdf.

Recipe: take the period lock → build every output into a staging folder under build/ →
swap html/ and report.pdf into reports/<P>/ only when all are complete → release the lock.
A failed render leaves the previously published report untouched; the pipeline's
reports/<P>/notebooks/ is never touched.

Engines: "quarto" (when `quarto` is on PATH) renders the generated profile; "builtin" reads
the executed notebooks with nbformat and runs pandoc + typst itself; "auto" picks quarto when
it is installed.

A briefing period (`BookChapters.single`) is one document, not a book: the built-in engine
writes one HTML page and a compact PDF (render_html.write_single_html, book.typ pb-brief);
Quarto renders the generated single-document project book.write_quarto_document.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from planbook import paths
from planbook.book import (
    QUARTO_INDEX,
    BookChapters,
    book_chapters,
    quarto_profile_name,
    read_params,
    write_quarto_document,
    write_quarto_profile,
)
from planbook.errors import RenderError
from planbook.pages import (
    Block,
    CaptionHook,
    PageContent,
    collect_refs,
    page_markdown,
    read_page,
)

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


def default_sample_notice(period: str, root: Path | None = None) -> bool:
    """Whether the report must say 示例数据，非官方统计 (any sample observation it can use)."""
    root = root or paths.project_root()
    params = read_params(period, root)
    try:
        from planbook.observations import uses_sample
    except ImportError:  # the store module not there yet: saying "sample" is the safe side
        return True
    return bool(uses_sample(params.data_path(root), period))


def pick_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise RenderError(f"unknown engine {engine!r}", hint=f"use one of {', '.join(ENGINES)}")
    if engine == "auto":
        return "quarto" if shutil.which("quarto") else "builtin"
    if engine == "quarto" and not shutil.which("quarto"):
        raise RenderError("quarto is not on PATH",
                          hint="install it (pip install quarto-cli, or conda) or use --engine builtin")
    return engine


def render(period: str, *, engine: str = "auto", root: Path | None = None,
           sample_notice: bool | None = None,
           caption_hook: CaptionHook | None = None) -> RenderResult:
    """Render `period`'s book (HTML and PDF) and publish it into reports/<period>/.

    Captions carry the audit trail by default (render_code.audit_captions: 溯源 links in
    HTML, labels in the PDF); pass pages.no_caption_links for bare captions. Both engines
    also write the code pages html/code/<notebook>.html.
    """
    from planbook.render_code import audit_captions

    caption_hook = caption_hook or audit_captions
    started = time.monotonic()
    root = Path(root) if root else paths.project_root()
    chosen = pick_engine(engine)
    book = book_chapters(period, root)
    if sample_notice is None:
        sample_notice = default_sample_notice(period, root)
    with period_lock(period, root):
        staging = staging_dir(period, root)
        try:
            if chosen == "quarto" and book.single:
                html_dir, pdf = _render_quarto_document(period, root, staging,
                                                        sample_notice=sample_notice)
                _write_code_pages(period, book, root, html_dir, quarto=True)
            elif chosen == "quarto":
                html_dir, pdf = _render_quarto(period, book, root, staging,
                                               sample_notice=sample_notice)
                _write_code_pages(period, book, root, html_dir, quarto=True)
            else:
                html_dir, pdf = _render_builtin(period, book, root, staging,
                                                sample_notice=sample_notice, hook=caption_hook)
            _check_complete(book, html_dir, pdf, chosen)
            published_html, published_pdf = publish(period, root, html_dir, pdf)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return RenderResult(period, chosen, published_html, published_pdf, len(book.pages),
                        sample_notice, time.monotonic() - started, single=book.single)


# --- the built-in engine ---------------------------------------------------------------------

def _render_builtin(period: str, book: BookChapters, root: Path, staging: Path, *,
                    sample_notice: bool, hook: CaptionHook) -> tuple[Path, Path]:
    from planbook.render_html import write_html
    from planbook.render_pdf import write_pdf

    params = read_params(period, root)
    contents = [read_page(p, root) for p in book.pages]
    add_register_section(period, contents, root)
    refs = collect_refs(contents)
    html_dir = staging / "html"
    write_html(book, contents, refs, params, html_dir, sample_notice=sample_notice, hook=hook)
    _write_code_pages(period, book, root, html_dir, quarto=False,
                      titles={c.page.key: c.title for c in contents})
    pdf = staging / "report.pdf"
    write_pdf(book, contents, refs, params, staging / "typst", pdf,
              sample_notice=sample_notice, hook=hook)
    return html_dir, pdf


def add_register_section(period: str, contents: list[PageContent], root: Path) -> None:
    """Append the audit register to the appendix 数据来源与追溯 (when the book has it)."""
    from planbook.chapters import REGISTER_PAGE
    from planbook.provenance import register
    from planbook.render_code import register_section

    page = next((c for c in contents if c.page.key == REGISTER_PAGE), None)
    if page is None:
        return
    titles = {c.page.key: c.title for c in contents}
    head, table_md, table_html = register_section(register(period, root), titles, period)
    page.blocks += [Block("md", head), Block("rich", table_md, table_html)]


def _write_code_pages(period: str, book: BookChapters, root: Path, html_dir: Path, *,
                      quarto: bool, titles: dict[str, str] | None = None) -> None:
    from planbook.book import quarto_source
    from planbook.params import load_params
    from planbook.provenance import register
    from planbook.render_code import write_code_pages

    def chapter_href(page) -> str:
        # Quarto writes a chapter's page where its (staged) source sits, index.html at the top.
        if not quarto or page.kind == "index":
            return f"../{page.html_name}"
        return "../" + Path(quarto_source(page, period)).with_suffix(".html").as_posix()

    write_code_pages(book.pages, titles or {p.key: p.title for p in book.pages}, root,
                     html_dir, register(period, root), load_params(period, root).as_dict(),
                     chapter_href=chapter_href, notebooks_href="../../notebooks",
                     fonts_href=None if quarto else "../assets/fonts")


# --- the Quarto engine -----------------------------------------------------------------------

def write_quarto_index(period: str, book: BookChapters, root: Path) -> Path:
    """Quarto books need index.qmd: the summary notebook, converted, with its figure files.

    Generated (git-ignored) for the period last rendered; figures go to build/quarto/<P>/.
    """
    content = read_page(book.index, root)
    assets_root = paths.build_dir(root) / "quarto" / period
    rel = assets_root.relative_to(root).as_posix()
    for name, data in content.assets.items():
        (assets_root / name).parent.mkdir(parents=True, exist_ok=True)
        (assets_root / name).write_bytes(data)
    for block in content.blocks:
        if block.asset and not block.asset.startswith(rel):
            block.asset = f"{rel}/{block.asset}"
    from planbook.render_code import audit_captions

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


def _render_quarto_document(period: str, root: Path, staging: Path, *,
                            sample_notice: bool) -> tuple[Path, Path]:
    folder = write_quarto_document(period, root, sample_notice=sample_notice)
    return _run_quarto(quarto_document_command(staging / "quarto"), folder, staging)


def _render_quarto(period: str, book: BookChapters, root: Path, staging: Path, *,
                   sample_notice: bool) -> tuple[Path, Path]:
    write_quarto_profile(period, root, sample_notice=sample_notice)
    write_quarto_index(period, book, root)
    return _run_quarto(quarto_command(period, staging / "quarto"), root, staging)


def _run_quarto(command: list[str], cwd: Path, staging: Path) -> tuple[Path, Path]:
    """Run `command` (its --output-dir is staging/quarto); returns (html dir, staged PDF)."""
    out = staging / "quarto"
    out.mkdir(parents=True)
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise RenderError(f"quarto render failed (exit {proc.returncode}):\n"
                          f"{(proc.stderr or proc.stdout)[-2000:]}")
    pdf = out / "report.pdf"
    if not pdf.is_file():
        found = sorted(out.rglob("*.pdf"))
        if len(found) != 1:
            raise RenderError(f"quarto render wrote no single PDF in {out}")
        pdf = found[0]
    moved = staging / "report.pdf"
    shutil.move(pdf, moved)
    return out, moved


# --- publishing ------------------------------------------------------------------------------

def staging_dir(period: str, root: Path) -> Path:
    path = paths.build_dir(root) / "render" / period / f"staging-{os.getpid()}"
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


def publish(period: str, root: Path, html_dir: Path, pdf: Path) -> tuple[Path, Path]:
    """Swap the staged html/ and report.pdf into reports/<P>/, restoring the old on failure."""
    target = paths.reports_dir(root) / period
    target.mkdir(parents=True, exist_ok=True)
    final_html, final_pdf = target / "html", target / "report.pdf"
    old = html_dir.parent / "previous-html"
    had_html = final_html.exists()
    if had_html:
        os.replace(final_html, old)
    try:
        os.replace(html_dir, final_html)
        os.replace(pdf, final_pdf)  # atomic on one filesystem: never a half-written PDF
    except OSError:
        if final_html.exists() and had_html:
            shutil.rmtree(final_html, ignore_errors=True)
        if had_html:
            os.replace(old, final_html)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return final_html, final_pdf


def lock_path(period: str, root: Path) -> Path:
    return paths.build_dir(root) / f"render-{period}.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


@contextlib.contextmanager
def period_lock(period: str, root: Path) -> Iterator[Path]:
    """One render per period at a time; a lock left by a dead process is taken over."""
    path = lock_path(period, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                pid = int(path.read_text().strip() or 0)
            except (OSError, ValueError):
                pid = 0
            if pid and _alive(pid):
                raise RenderError(
                    f"another render of period {period} is running (pid {pid}); "
                    "not starting a second one",
                    hint=f"wait for it to finish; if no planbook runs, delete {path}") from None
            path.unlink(missing_ok=True)  # stale: its process is gone
            continue
        with os.fdopen(fd, "w") as fh:
            fh.write(f"{os.getpid()}\n")
        break
    else:
        raise RenderError(f"could not take the render lock {path}")
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):
            if path.read_text().strip() == str(os.getpid()):
                path.unlink()
