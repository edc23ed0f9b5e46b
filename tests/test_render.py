"""The book: built for real (papermill, pandoc, typst) from fixture chapter notebooks."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from pypdf import PdfReader

sys.path.insert(0, str(Path(__file__).parent))
from render_fixture import (  # noqa: E402
    CHAPTERS,
    PERIOD,
    REPO,
    SECRET,
    built_project,
)
from support import render_period, resolve  # noqa: E402

from planbook.audit.register import register  # noqa: E402
from planbook.book.html import ANNEX_HREF, DOCX_HREF, PDF_HREF, PORTAL_HREF
from planbook.book.pages import cell_options  # noqa: E402
from planbook.book.quarto import (  # noqa: E402
    write_quarto_document,
    write_quarto_index,
    write_quarto_profile,
)
from planbook.book.render import pick_engine  # noqa: E402
from planbook.book.spec import SAMPLE_NOTICE, book_spec  # noqa: E402
from planbook.chapters import catalogue, display  # noqa: E402
from planbook.errors import RenderError  # noqa: E402
from planbook.run.publish import lock_path  # noqa: E402

TITLES = [t for _, t in CHAPTERS] + ["评估方法"]
ANNEXED = {c.title for c in catalogue.ANNUAL if c.annex}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return built_project(tmp_path_factory)


@pytest.fixture(scope="module")
def html_dir(project) -> Path:
    return project / "reports" / PERIOD / "html"


@pytest.fixture(scope="module")
def pdf_text(project) -> str:
    return _pdf_text(project / "reports" / PERIOD / "report.pdf")


def _pdf_text(path: Path) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(path).pages)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _pages(html_dir: Path) -> list[Path]:
    return sorted(html_dir.glob("*.html"))


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img" or tag == "script":
            self.refs.append((tag, a.get("src") or ""))
        elif tag in ("link", "a") and a.get("href"):
            self.refs.append((tag, a["href"]))


def _copy_project(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("build"))
    return dst


def _tree_hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# --- the book's structure -------------------------------------------------------------------

def test_book_chapters_come_from_one_place(project):
    book = book_spec(resolve(PERIOD, project))
    assert book.index.key == "00_summary" and book.index.html_name == "index.html"
    # 第一章 总体评估, then the plan's own numbers: 二、总体目标 … 六、保障措施
    assert [p.key for p in book.parts[0].pages] == [k for k, _ in CHAPTERS[1:7]]
    assert [p.number for p in book.parts[0].pages] == ["1", "2", "3", "4", "5", "6"]
    assert [(p.key, p.number) for p in book.appendices] == [
        ("methodology", "A"), ("a1_indicators", "B"), ("a2_sources", "C"), ("a3_quality", "D"),
        ("a4_dossiers", "E")]
    assert book.appendices[0].source == "book/methodology.qmd"


def test_cell_options_are_read_as_yaml():
    src = "#| label: fig-x\n#| fig-cap: 标题：含冒号\n#| echo: false\nprint(1)\n#| not: option"
    assert cell_options(src) == {"label": "fig-x", "fig-cap": "标题：含冒号", "echo": False}
    assert cell_options("x = 1") == {}
    assert cell_options("#| label: [unclosed\nx = 1") == {}  # not YAML: no options
    opts = cell_options(src)
    opts["label"] = "changed"  # a caller's copy: the parsed options are kept unchanged
    assert cell_options(src)["label"] == "fig-x"


def test_the_render_stage_does_not_import_the_chapters_plotting():
    # matplotlib costs a render about 0.3 s of imports it never uses.
    code = ("import sys, planbook.cli, planbook.build, planbook.book.render; "
            "print(sorted(m for m in ('matplotlib', 'seaborn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    assert out.stdout.strip() == "[]"


# --- HTML -----------------------------------------------------------------------------------

def test_every_chapter_and_appendix_page_exists(project, html_dir):
    names = {p.name for p in _pages(html_dir)}
    expected = {p.html_name for p in book_spec(resolve(PERIOD, project)).pages}
    assert expected == names
    for page in _pages(html_dir):
        text = page.read_text(encoding="utf-8")
        assert 'lang="zh-CN"' in text
    index = (html_dir / "index.html").read_text(encoding="utf-8")
    assert "报告摘要" in index and "建德市" in index


def test_every_img_script_link_resolves_to_a_file(html_dir):
    checked = 0
    for page in _pages(html_dir):
        parser = _Refs()
        parser.feed(page.read_text(encoding="utf-8"))
        for tag, ref in parser.refs:
            parts = urlsplit(ref)
            assert not parts.scheme and not parts.netloc, f"{page.name}: external {tag} {ref}"
            if not parts.path:  # same-page anchor
                continue
            if ref == PORTAL_HREF:  # the portal of every period: written by `build`, not render
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if ref in (PDF_HREF, ANNEX_HREF, DOCX_HREF):  # the PDFs and Word edition, by html/
                assert target.parent == html_dir.resolve().parent and target.is_file(), ref
                continue
            assert target.is_file(), f"{page.name}: <{tag}> {ref} does not resolve"
            assert html_dir.resolve() in target.parents
            checked += 1
    assert checked > 100


def test_no_external_url_anywhere(html_dir):
    for path in html_dir.rglob("*"):
        if path.suffix in (".html", ".js", ".css"):
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"https?://", text), f"{path.name} names an external URL"
            assert "mathjax" not in text.lower() and "cdn" not in text.lower()
        elif path.suffix == ".svg":
            # Only XML namespace/DTD identifiers, which browsers never fetch.
            urls = set(re.findall(r"https?://[^\s\"'>]+", path.read_text(encoding="utf-8")))
            assert all("w3.org" in u or "purl.org" in u or "creativecommons.org" in u
                       for u in urls), urls


def test_sidebar_lists_every_page_on_every_page(project, html_dir):
    book = book_spec(resolve(PERIOD, project))
    for page in _pages(html_dir):
        text = page.read_text(encoding="utf-8")
        nav = text[text.index('<ul class="pb-nav" id="pb-nav">'): text.index("</ul>", text.index("pb-nav"))]
        for p in book.pages:
            assert f'href="{p.html_name}"' in nav, f"{page.name} lacks {p.html_name}"
        for title in TITLES:
            assert title.replace("“", "&ldquo;") in nav or title in nav
        assert "附录" in nav and 'aria-current="page"' in nav


def test_sample_banner_on_every_page(html_dir):
    for page in _pages(html_dir):
        assert f'class="pb-sample-banner" role="region" aria-label="数据说明">{SAMPLE_NOTICE}<' in page.read_text(
            encoding="utf-8"), page.name


def test_code_and_parameters_never_show(html_dir):
    for page in _pages(html_dir):
        text = page.read_text(encoding="utf-8")
        assert SECRET not in text
        assert "plan_id" not in text and "jiande-2023-2027" not in text
        assert "display.show_" not in text and "import " not in text


def test_figures_tables_numbered_and_cross_referenced(html_dir):
    ch1 = (html_dir / "01_overall.html").read_text(encoding="utf-8")
    assert '<figure class="pb-figure" id="fig-overall-trend"' in ch1
    # one crosswalk: 01_overall reports on the plan's 二、, so it is 第二章, its figures 图 2.1
    assert '<span class="pb-num">图 2.1</span>' in ch1 and '<span class="pb-num">表 2.1</span>' in ch1
    assert '<a href="#fig-overall-trend">图 2.1</a>' in ch1
    assert 'alt="折线图：总体目标主要指标2022—2025年走势"' in ch1
    assert "第二章" in ch1 and "2.1</span>" in ch1 and "第1章" not in ch1
    assert "截至2026-03-31" in ch1  # asis output rendered as markdown with the parameter
    assert '<pre tabindex="0"><code>普通输出' in ch1
    # status lights become coloured dots with their Chinese label
    assert 'class="pb-light pb-light-red"' in ch1 and "红灯" in ch1
    appendix = (html_dir / "a3_quality.html").read_text(encoding="utf-8")
    assert "附录D" in appendix and '<span class="pb-num">图 D.1</span>' in appendix
    index = (html_dir / "index.html").read_text(encoding="utf-8")
    assert '<a href="methodology.html#sec-methodology">附录A</a>' in index
    assert '<span class="pb-num">图 1</span>' in index  # the summary is unnumbered


def test_search_index_is_a_script_with_chinese_text(html_dir):
    js = (html_dir / "assets" / "search-index.js").read_text(encoding="utf-8")
    assert js.startswith("window.PB_SEARCH_INDEX = ")
    assert "农村生活污水治理行政村覆盖率" in js


# --- PDF ------------------------------------------------------------------------------------

def test_pdf_has_every_title_and_the_sample_notice(project, pdf_text):
    reader = PdfReader(project / "reports" / PERIOD / "report.pdf")
    assert len(reader.pages) > 15
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=1)  # A4
    squashed = _squash(pdf_text)
    annex = _squash(_pdf_text(project / "reports" / PERIOD / "annex.pdf"))
    for title in TITLES:  # the appendices of the 技术附件 in annex.pdf
        assert _squash(title) in (annex if title in ANNEXED else squashed), title
    assert "目录" in squashed and "第二章" in squashed and "附录A" in squashed
    assert "第1章" not in squashed and "第六章" in squashed
    assert "图2.1" in squashed and "表2.1" in squashed
    assert SECRET not in squashed
    # the sample line is on every page, the cover included
    for page in reader.pages:
        assert _squash(SAMPLE_NOTICE) in _squash(page.extract_text())


def test_two_builds_give_identical_pdf_text(project, pdf_text, tmp_path):
    again = _copy_project(project, tmp_path / "again")
    render_period(resolve(PERIOD, again), engine="builtin", sample_notice=True)
    pdf = again / "reports" / PERIOD / "report.pdf"
    assert _pdf_text(pdf) == pdf_text
    assert pdf.read_bytes() == (project / "reports" / PERIOD / "report.pdf").read_bytes()
    assert _tree_hashes(again / "reports" / PERIOD / "html") == _tree_hashes(
        project / "reports" / PERIOD / "html")


def test_official_only_report_has_no_notice(project, tmp_path):
    root = _copy_project(project, tmp_path / "official")
    result = render_period(resolve(PERIOD, root), engine="builtin", sample_notice=False)
    assert not result.sample_notice
    for page in result.html_dir.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert SAMPLE_NOTICE not in text and "pb-sample-banner\"" not in text
    assert _squash(SAMPLE_NOTICE) not in _squash(_pdf_text(result.pdf))
    # Nor does anything else leaving the book: table downloads, data package, portal record.
    _assert_downloads_say(result.html_dir, sample=False)
    _assert_downloads_say(project / "reports" / PERIOD / "html", sample=True)


def _assert_downloads_say(html_dir: Path, *, sample: bool) -> None:
    import json
    import zipfile

    from openpyxl import load_workbook

    files = sorted((html_dir / "downloads").iterdir())
    assert any(f.suffix == ".xlsx" for f in files) and any(f.suffix == ".zip" for f in files)
    for f in files:
        if f.suffix == ".xlsx":
            text = str([[c.value for c in r] for r in load_workbook(f).active.iter_rows()])
        elif f.suffix == ".zip":
            with zipfile.ZipFile(f) as z:
                text = "".join(z.read(n).decode("utf-8") for n in z.namelist())
        else:
            text = f.read_text(encoding="utf-8-sig")
        assert (SAMPLE_NOTICE in text) == sample, f.name
        if f.suffix == ".xlsx" and sample:
            assert load_workbook(f).active["A1"].value == SAMPLE_NOTICE
    summary = json.loads((html_dir / "period.json").read_text(encoding="utf-8"))
    assert summary["sample"] is sample


# --- publishing -----------------------------------------------------------------------------

def test_failed_render_leaves_previous_report_intact(project, tmp_path):
    root = _copy_project(project, tmp_path / "failing")
    report = root / "reports" / PERIOD
    before = _tree_hashes(report)
    (report / "notebooks" / "03_villages.ipynb").write_text("{not a notebook", encoding="utf-8")
    with pytest.raises(RenderError, match="03_villages.ipynb"):
        render_period(resolve(PERIOD, root), engine="builtin", sample_notice=True)
    after = _tree_hashes(report)
    after.pop("notebooks/03_villages.ipynb")
    before.pop("notebooks/03_villages.ipynb")
    assert after == before
    assert not list((root / "build" / "render" / PERIOD).glob("staging*"))
    assert not (root / "build" / "edition" / PERIOD).exists()


def test_library_render_alone_drops_the_stale_manifest(project, tmp_path):
    root = _copy_project(project, tmp_path / "alone")
    report = root / "reports" / PERIOD
    (report / "manifest.json").write_text("{}", encoding="utf-8")  # an older book's
    render_period(resolve(PERIOD, root), engine="builtin", sample_notice=True)
    # the library render cannot write the audit manifest: the stale one goes, not stays
    assert not (report / "manifest.json").exists() and (report / "report.pdf").is_file()


def test_notebook_with_an_error_output_is_refused(project, tmp_path):
    import nbformat

    root = _copy_project(project, tmp_path / "erroring")
    path = root / "reports" / PERIOD / "notebooks" / "02_county.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[-1].outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue="坏数据",
                                                   traceback=[])]
    nbformat.write(nb, path)
    with pytest.raises(RenderError, match="ValueError：坏数据"):
        render_period(resolve(PERIOD, root), engine="builtin", sample_notice=True)


def test_concurrent_render_is_refused_and_a_dead_holders_lock_is_free(project, tmp_path):
    from planbook.run.publish import PeriodBusy

    root = _copy_project(project, tmp_path / "locked")
    lock = lock_path(PERIOD, root)
    lock.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time; fh = open(sys.argv[1], 'w'); "
        "fcntl.flock(fh, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)"),
        str(lock)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        before = _tree_hashes(root / "reports" / PERIOD)
        with pytest.raises(PeriodBusy, match=f"正在生成期间 {PERIOD}"):
            render_period(resolve(PERIOD, root), engine="builtin", sample_notice=True)
        assert _tree_hashes(root / "reports" / PERIOD) == before
    finally:
        holder.kill()
        holder.wait()
    # the holder was killed: the kernel dropped its lock, the next render goes ahead; a lock
    # file naming a live, unrelated PID (the old scheme's stale lock) is no obstacle either
    lock.write_text(f"{os.getpid()}\n")
    result = render_period(resolve(PERIOD, root), engine="builtin", sample_notice=True)
    assert result.pdf.is_file()


def test_auto_picks_builtin_without_quarto(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert pick_engine("auto") == "builtin"
    with pytest.raises(RenderError, match="找不到 quarto"):
        pick_engine("quarto")
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/quarto")
    assert pick_engine("auto") == "quarto"


# --- Quarto configuration -------------------------------------------------------------------

def test_quarto_yml_follows_the_rules():
    cfg = yaml.safe_load((REPO / "_quarto.yml").read_text(encoding="utf-8"))
    assert cfg["project"]["type"] == "book"
    book = cfg["book"]
    assert book["title"].startswith("建德市县城承载能力提升") and book["title"].endswith("年度评估报告")
    assert book["output-file"] == "report"
    assert book["sidebar"]["style"] == "docked"
    assert "chapters" not in book and "appendices" not in book  # lists live in the profile
    assert cfg["lang"] == "zh" and cfg["number-sections"] is True
    assert cfg["execute"]["echo"] is False and cfg["execute"].get("enabled") is not True
    assert set(cfg["format"]) == {"html", "typst"}
    assert cfg["format"]["html"]["toc"] is True
    typst_cfg = cfg["format"]["typst"]
    header = typst_cfg["include-in-header"][0]["text"]
    assert '#set text(font: ("Noto Serif CJK SC",)' in header
    # Font paths are generated per render (relative, staged fonts): see the profile test.
    assert "font-paths" not in typst_cfg
    assert "papersize" not in typst_cfg and "mainfont" not in typst_cfg  # orange-book ignores


def test_generated_profile_lists_existing_chapters_with_unique_labels(project):
    import nbformat

    rp = resolve(PERIOD, project)
    profile_path = write_quarto_profile(book_spec(rp), project, register(rp), sample_notice=True)
    assert profile_path.name == f"_quarto-{PERIOD}.yml"
    # The period's own project: the shared _quarto.yml beside the profile and the pages, flat.
    folder = profile_path.parent
    assert folder == project / "build" / "quarto" / PERIOD / "book"
    assert (folder / "_quarto.yml").read_bytes() == (project / "_quarto.yml").read_bytes()
    write_quarto_index(book_spec(rp), project)
    profile = yaml.safe_load(profile_path.read_text(encoding="utf-8"))
    chapters = profile["book"]["chapters"]
    assert chapters[0] == "index.qmd"
    listed = [chapters[0]] + [c for part in chapters[1:] for c in part["chapters"]]
    listed += profile["book"]["appendices"]
    assert profile["book"]["appendices"][0] == "methodology.qmd"
    for rel in listed:
        assert "/" not in rel and (folder / rel).is_file(), rel
    # the methodology's worked examples are in place (no include left to resolve)
    assert "{{< include" not in (folder / "methodology.qmd").read_text(encoding="utf-8")
    assert "execute" not in profile
    font_paths = profile["format"]["typst"]["font-paths"]
    assert font_paths == ["../../fonts"]
    assert all((folder / p / "NotoSerifCJKsc-Regular.otf").is_file() for p in font_paths)
    assert SAMPLE_NOTICE in profile["format"]["html"]["include-before-body"][0]["text"]
    # the Word edition, in the reference document's styles (relative to the project)
    assert (folder / profile["format"]["docx"]["reference-doc"]).is_file()
    labels: list[str] = []
    for rel in listed:
        if rel.endswith(".ipynb"):
            nb = nbformat.read(folder / rel, as_version=4)
            for cell in nb.cells:
                if cell.cell_type == "code" and "label" in cell_options(cell.source):
                    labels.append(str(cell_options(cell.source)["label"]))
    assert labels and len(labels) == len(set(labels))
    assert all(lab.startswith(("fig-", "tbl-")) for lab in labels)
    index = (folder / "index.qmd").read_text(encoding="utf-8")
    assert index.count("# 报告摘要") == 1 and "{#fig-summary-trend" in index
    # The caption ends with the audit suffix (label for typst, 溯源 link for html).
    assert re.search(r"\n: 报告摘要指标状态一览`#\"\u3000〔tbl-summary-status〕\";`\{=typst\} "
                     r"`<a class=\"pb-trace\" href=\"code/00_summary\.html#[^\"]+\"[^`]*>溯源</a>`"
                     r"\{=html\} \{#tbl-summary-status\}", index)


def test_briefing_quarto_config_is_a_single_document(tmp_path):
    """The briefing's Quarto config (quarto.write_quarto_document) against QUARTO.md's rules:
    its own default project (not the book), one staged notebook, html + plain typst."""
    import nbformat
    import typst
    from conftest import copy_project

    from planbook.book.quarto import quarto_document_command

    root = copy_project(tmp_path / "brief")
    period = "2026-10"
    executed = root / "reports" / period / "notebooks"
    executed.mkdir(parents=True)
    # The notebook as stored (no outputs) is enough for the config and the staging.
    shutil.copyfile(root / "notebooks" / "briefing.ipynb", executed / "briefing.ipynb")
    folder = write_quarto_document(book_spec(resolve(period, root)), root, sample_notice=True)
    # Quarto takes the nearest _quarto.yml up from the rendered folder: this one, not the
    # book's, and no book profile is involved.
    assert folder != root and root in folder.parents
    assert not (root / f"_quarto-{period}.yml").exists()
    assert "--profile" not in quarto_document_command(tmp_path)
    cfg = yaml.safe_load((folder / "_quarto.yml").read_text(encoding="utf-8"))
    assert cfg["project"]["type"] == "default" and "book" not in cfg
    assert cfg["project"]["render"] == ["index.ipynb"]
    filters = [f if isinstance(f, str) else f["path"] for f in cfg["filters"]]
    for rel in cfg["project"]["render"] + filters:
        assert (folder / rel).is_file(), rel
    assert cfg["title"] == "月度工作进展晾晒通报" and cfg["subtitle"].startswith("2026年10月")
    assert cfg["lang"] == "zh" and cfg["number-sections"] is False
    assert cfg["execute"] == {"enabled": False, "echo": False, "warning": False}
    assert "enabled: true" not in (folder / "_quarto.yml").read_text(encoding="utf-8")
    assert set(cfg["format"]) == {"html", "typst", "docx"}  # docx: the Word edition
    assert (folder / cfg["format"]["docx"]["reference-doc"]).is_file()
    html_cfg, typst_cfg = cfg["format"]["html"], cfg["format"]["typst"]
    assert html_cfg["toc"] is True and html_cfg["html-math-method"] == "plain"
    assert SAMPLE_NOTICE in html_cfg["include-before-body"][0]["text"]
    # the built-in pages' stylesheet (light dots, banner, web font), shipped after the render
    assert 'href="assets/book.css"' in html_cfg["include-in-header"][0]["text"]
    assert 'class="pb-stamp"' in html_cfg["include-after-body"][0]["text"]
    assert typst_cfg["papersize"] == "a4" and typst_cfg["toc"] is False
    assert typst_cfg["mainfont"] == "Noto Serif CJK SC" and "template" not in typst_cfg
    assert typst_cfg["font-paths"] == ["../../fonts"]  # relative to the document folder
    font_paths = [str(folder / p) for p in typst_cfg["font-paths"]]
    assert all(Path(p, "NotoSerifCJKsc-Regular.otf").is_file() for p in font_paths)
    header = "".join(h["text"] for h in typst_cfg["include-in-header"])
    assert '#set text(font: ("Noto Serif CJK SC",)' in header and SAMPLE_NOTICE in header
    # The header is valid typst: compile it over a page set the way Quarto's template does.
    doc = tmp_path / "header.typ"
    doc.write_text(header + '#set page(paper: "a4", numbering: "1")\n= 总体情况\n'
                   "#pagebreak()\n正文\n", encoding="utf-8")
    typst.compile(str(doc), output=str(tmp_path / "header.pdf"),
                  font_paths=font_paths, ignore_system_fonts=True)
    # The staged notebook: no H1 (the title comes from the config), unique prefixed labels,
    # captions carrying the audit suffix.
    nb = nbformat.read(folder / "index.ipynb", as_version=4)
    assert not any(re.search(r"^# ", c.source, re.M) for c in nb.cells
                   if c.cell_type == "markdown")
    labels = [str(cell_options(c.source)["label"]) for c in nb.cells
              if c.cell_type == "code" and "label" in cell_options(c.source)]
    assert labels and len(labels) == len(set(labels))
    assert all(lab.startswith(("fig-", "tbl-")) for lab in labels)
    caps = [cell_options(c.source)["tbl-cap"] for c in nb.cells
            if c.cell_type == "code" and "tbl-cap" in cell_options(c.source)]
    assert caps and all('href="code/briefing.html#' in cap for cap in caps)


@pytest.mark.skipif(shutil.which("quarto") is None, reason="quarto is not on PATH")
def test_quarto_renders_for_real(project, tmp_path):
    root = _copy_project(project, tmp_path / "quarto")
    result = render_period(resolve(PERIOD, root), engine="quarto", sample_notice=True)
    assert result.engine == "quarto" and result.pdf.is_file() and result.index_html.is_file()


# --- display --------------------------------------------------------------------------------

def test_show_table_outputs_for_both_engines():
    import pandas as pd

    df = pd.DataFrame({"指标": ["甲|乙", "丙"], "数值": [1.5, None], "灯": ["green", "grey"]})
    assert display.light_columns(df) == ["灯"]
    md = display.table_markdown(df)
    lines = md.splitlines()
    assert lines[0] == "| 指标 | 数值 | 灯 |"
    assert lines[1].startswith("|:") and lines[1].split("|")[2].endswith(":")  # numbers right
    assert "甲\\|乙" in md and "绿灯" in md and "—" in md
    html = display.table_html(df)
    # a column of short cells stays on one line (pb-nowrap); the text is as written
    assert 'class="pb-light pb-light-green"' in html and ">甲|乙</td>" in html
    assert '<td class="num">—</td>' in html


def test_show_figure_svg_is_deterministic():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def make():
        fig, ax = plt.subplots()
        ax.plot([2023, 2024], [1, 2])
        return fig

    a, b = display.figure_svg(make()), display.figure_svg(make())
    assert a == b
    assert "<dc:date>" not in a and "Matplotlib v" not in a
