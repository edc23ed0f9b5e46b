"""`planbook build` end to end on the shipped sample data: the book reviewers actually read."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from conftest import clone_build
from pypdf import PdfReader

from planbook.build import build, expand
from planbook.chapters import catalogue as chapters
from planbook.errors import ExecutionError, PlanbookError

ANNUAL_TITLES = [c.title for c in chapters.ANNUAL] + ["评估方法"]
NOTICE = "示例数据，非官方统计"


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href"):
            if tag in ("img", "script", "link") and a.get(key):
                self.refs.append(a[key])


def _pdf_text(path: Path) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(path).pages)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_html_book_is_complete_offline_and_marked(sample_build):
    html = sample_build / "reports" / "2025" / "html"
    pages = sorted(html.glob("*.html"))
    names = {p.stem for p in pages}
    assert {c.key for c in chapters.ANNUAL if c.key != "00_summary"} <= names
    assert {"index", "methodology"} <= names
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert NOTICE in text, page.name
        assert not re.search(r"""(src|href)=["']https?://""", text), page.name
        parser = _Refs()
        parser.feed(text)
        for ref in parser.refs:
            target = (page.parent / ref.split("#")[0].split("?")[0])
            assert target.is_file(), f"{page.name}: {ref}"
        for title in ANNUAL_TITLES[1:]:
            assert title in text, f"sidebar of {page.name} lacks {title}"
    assert "截至2025年底" in (html / "index.html").read_text(encoding="utf-8")


def test_pdf_has_every_chapter_the_notice_and_enough_pages(sample_build):
    """Every chapter in one of the two PDFs: the evaluation in report.pdf, the appendices in
    the 技术附件 annex.pdf; each marked as sample on every page."""
    annexed = {c.title for c in chapters.ANNUAL if c.annex}
    for name, titles in (("report.pdf", [t for t in ANNUAL_TITLES if t not in annexed]),
                         ("annex.pdf", sorted(annexed))):
        pdf = sample_build / "reports" / "2025" / name
        reader = PdfReader(pdf)
        assert len(reader.pages) > 15, name
        text = _squash(_pdf_text(pdf))
        for title in titles:
            assert _squash(title) in text, (name, title)
        assert text.count(NOTICE) >= len(reader.pages), name  # on every page
        assert "建德市县城承载能力提升" in text


def test_unchanged_rebuild_reuses_cache_and_render(sample_build, tmp_path):
    # In a copy: a build takes the project's locks, and other workers read sample_build.
    root = clone_build(sample_build, tmp_path / "project")
    pdf = root / "reports" / "2025" / "report.pdf"
    before = pdf.read_bytes()
    manifest = (root / "reports" / "2025" / "manifest.json").read_bytes()
    lines = list(build("2025", engine="builtin", root=root))
    # a published period: nothing runs, nothing is rewritten (run.edition)
    assert any("输入未变" in line and "未重写" in line for line in lines), lines
    assert pdf.read_bytes() == before
    assert (root / "reports" / "2025" / "manifest.json").read_bytes() == manifest


def test_default_period_is_2025():
    assert expand("default") == ["2025"]
    assert expand("2026-01..2026-03") == ["2026-01", "2026-02", "2026-03"]


def test_two_builds_give_identical_pdf_text(sample_build, tmp_path):
    from conftest import copy_project

    other = copy_project(tmp_path / "again")
    list(build("2025", engine="builtin", root=other))
    assert _pdf_text(other / "reports" / "2025" / "report.pdf") == \
        _pdf_text(sample_build / "reports" / "2025" / "report.pdf")


def test_failed_build_leaves_the_published_report_intact(sample_build, tmp_path):
    from conftest import copy_project

    root = copy_project(tmp_path / "broken")
    shutil.copytree(sample_build / "reports", root / "reports")
    shutil.copytree(sample_build / "build", root / "build")
    published = {p: p.read_bytes() for p in (root / "reports").rglob("*") if p.is_file()}
    nb_path = root / "notebooks" / "02_county.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("#| label: fig-broken\n1 / 0"))
    nbformat.write(nb, nb_path)
    # published: a changed notebook is refused unless re-issued; the re-issue fails here
    with pytest.raises(PlanbookError, match="--reissue"):
        list(build("2025", engine="builtin", root=root))
    with pytest.raises(ExecutionError) as err:
        list(build("2025", engine="builtin", root=root, reissue=True))
    assert "02_county" in str(err.value) and "ZeroDivisionError" in str(err.value)
    assert {p: p.read_bytes() for p in (root / "reports").rglob("*") if p.is_file()} == published


def test_a_range_builds_months_side_by_side_and_stops_at_a_failure(project: Path):
    from planbook.errors import PlanbookError

    (project / "params" / "2026-03.yml").write_text("period: '2026-03'\n", encoding="utf-8")
    lines: list[str] = []
    with pytest.raises(PlanbookError) as info:
        for line in build("2026-01..2026-03", engine="builtin", root=project, jobs=2):
            lines.append(line)
    assert "2026-03" in str(info.value)
    for n, month in ((1, "2026-01"), (2, "2026-02")):
        assert (project / "reports" / month / "report.pdf").is_file()
        assert any(line.startswith(f"[{n}/3] {month} 完成") for line in lines)


def test_a_failed_render_publishes_none_of_the_new_notebooks(sample_build, tmp_path,
                                                             monkeypatch):
    """The notebooks ran with new data, then the render failed: reports/2025/ keeps the
    previous edition whole (its notebooks too), so HTML, PDF, notebooks and manifest agree."""
    from conftest import copy_project

    import planbook.build as recipe
    from planbook.errors import RenderError

    root = copy_project(tmp_path / "render-fails")
    shutil.copytree(sample_build / "reports", root / "reports")
    shutil.copytree(sample_build / "build", root / "build")
    published = {p: p.read_bytes() for p in (root / "reports").rglob("*") if p.is_file()}
    store = root / "data" / "observations" / "fagai.csv"
    text = store.read_text(encoding="utf-8")
    store.write_text(text.replace("ind_gdp,2025,", "ind_gdp,2025,1", 1), encoding="utf-8")

    def failing(*args, **kwargs):
        raise RenderError("typst crashed")

    monkeypatch.setattr(recipe, "render", failing)
    lines = []
    with pytest.raises(RenderError, match="typst crashed"):
        for line in build("2025", engine="builtin", root=root, reissue=True):
            lines.append(line)
    assert any("执行 " in line and "执行 0 个" not in line for line in lines)  # notebooks ran
    assert {p: p.read_bytes() for p in (root / "reports").rglob("*") if p.is_file()} == published
    assert not (root / "build" / "edition" / "2025").exists()


def test_planbook_render_alone_publishes_the_book_with_its_manifest(sample_build, tmp_path,
                                                                    monkeypatch):
    from conftest import copy_project

    from planbook import cli
    from planbook.audit.verify import verify
    from planbook.run.period import resolve

    root = copy_project(tmp_path / "render-alone")
    shutil.copytree(sample_build / "reports", root / "reports")
    (root / "reports" / "2025" / "report.pdf").write_bytes(b"an older book")
    monkeypatch.setenv("PLANBOOK_ROOT", str(root))
    assert cli.main(["render", "--period", "2025", "--engine", "builtin"]) == 0
    assert verify(resolve("2025", root), rerun=False) == 0  # book and manifest agree
