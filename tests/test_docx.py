"""The Word edition (report.docx, issue 29): built beside report.pdf from the same body
pages, styled from assets/reference.docx, reproducible, and opened by a real office suite:
LibreOffice converts it to PDF headless (Debian libreoffice-writer-nogui; the test is skipped
with a message where it is missing)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

docx = pytest.importorskip("docx", reason="python-docx missing (pip install -e '.[test]')")

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_office = pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice missing: apt-get install libreoffice-writer-nogui "
                            "(.ci/run installs it as root)")
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None
                                   or shutil.which("pdffonts") is None,
                                   reason="pdftotext/pdffonts (poppler-utils) missing")
NOTICE = "示例数据，非官方统计"


def _xml(path: Path, name: str = "word/document.xml") -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(name).decode("utf-8")


def _convert(docx_path: Path, out: Path) -> Path:
    """LibreOffice headless: docx → PDF, with the Noto CJK folder and the office-font aliases
    of book.docx.fontconfig, in a profile of its own."""
    from planbook.book.docx import fontconfig

    out.mkdir(parents=True, exist_ok=True)
    conf = out / "fonts.conf"
    conf.write_text(fontconfig(out / "fc-cache"), encoding="utf-8")
    proc = subprocess.run(
        [SOFFICE, "--headless", "--norestore", f"-env:UserInstallation=file://{out}/profile",
         "--convert-to", "pdf", "--outdir", str(out), str(docx_path)],
        capture_output=True, text=True, timeout=900, check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(out), "FONTCONFIG_FILE": str(conf)})
    pdf = out / docx_path.with_suffix(".pdf").name
    assert proc.returncode == 0 and pdf.is_file(), proc.stderr[-2000:]
    return pdf


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M)[1])


def _text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                          check=True).stdout.decode("utf-8")


def _fonts(pdf: Path) -> list[list[str]]:
    lines = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    return [line.split() for line in lines if line.strip()]


def _body_labels(root: Path, period: str) -> tuple[set[str], set[str]]:
    """The labelled figures and tables of the HTML book's body pages (not the 技术附件)."""
    from planbook.book.spec import book_spec
    from planbook.run.period import resolve

    html = root / "reports" / period / "html"
    figs, tbls = set(), set()
    for page in book_spec(resolve(period, root)).body_pages:
        text = (html / page.html_name).read_text(encoding="utf-8")
        figs |= set(re.findall(r'<figure class="pb-figure" id="(fig-[^"]+)"', text))
        tbls |= set(re.findall(r'<figure class="pb-tbl" id="(tbl-[^"]+)"', text))
    return figs, tbls


def _body_titles(root: Path, period: str) -> list[str]:
    """The chapter titles (h1, with their 第N章 / 附录A) of the HTML book's body pages."""
    from planbook.book.spec import book_spec
    from planbook.run.period import resolve

    html = root / "reports" / period / "html"
    out = []
    for page in book_spec(resolve(period, root)).body_pages:
        h1 = re.search(r"<h1\b[^>]*>(.*?)</h1>", (html / page.html_name).read_text("utf-8"), re.S)
        out.append(re.sub(r"<[^>]+>", "", h1[1]).strip())
    return out


def _docx_labels(path: Path) -> tuple[set[str], set[str]]:
    xml = _xml(path)
    names = set(re.findall(r'<w:bookmarkStart [^>]*w:name="((?:fig|tbl)-[^"]+)"', xml))
    return {n for n in names if n.startswith("fig-")}, {n for n in names if n.startswith("tbl-")}


# --- the 2025 中期评估 ---------------------------------------------------------------------

def test_word_edition_is_published_and_recorded(sample_build):
    """report.docx sits beside report.pdf, the manifest records its hash like the PDF's, and
    the book, the portal and the PDF's neighbours link it."""
    report = sample_build / "reports" / "2025"
    path = report / "report.docx"
    assert path.is_file() and path.stat().st_size > 100_000
    manifest = json.loads((report / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["outputs"]["report.docx"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert "report.pdf" in manifest["outputs"]
    index = (report / "html" / "index.html").read_text(encoding="utf-8")
    assert '<a href="../report.docx">下载 Word 版（report.docx）</a>' in index
    portal = (sample_build / "reports" / "index.html").read_text(encoding="utf-8")
    assert 'href="2025/report.docx"' in portal and "Word 版" in portal


def test_word_edition_styles_page_and_header(sample_build):
    """python-docx reads the 公文 set-up: A4 with GB/T 9704 margins, 仿宋 三号 body, 小标宋
    title, 黑体/楷体 headings with the Noto CJK fallbacks named, the stamp, the sign-off and
    the sample notice in the header of every page, 公文 page numbers."""
    path = sample_build / "reports" / "2025" / "report.docx"
    doc = docx.Document(str(path))
    section = doc.sections[0]
    mm = lambda v: round(v / 36000)  # noqa: E731 - EMU → mm
    assert (mm(section.page_width), mm(section.page_height)) == (210, 297)
    assert (mm(section.top_margin), mm(section.bottom_margin), mm(section.left_margin),
            mm(section.right_margin)) == (37, 35, 28, 26)

    def east_asia(name: str) -> str:
        fonts = doc.styles[name].element.rPr.rFonts
        return fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia")

    assert east_asia("Normal") == "仿宋" and doc.styles["Normal"].font.size.pt == 16
    assert east_asia("Title") == "方正小标宋简体" and doc.styles["Title"].font.size.pt == 22
    assert east_asia("Heading 2") == "黑体" and east_asia("Heading 3") == "楷体"
    assert doc.styles["Body Text"].paragraph_format.line_spacing.pt == pytest.approx(28.95)
    fonts = _xml(path, "word/fontTable.xml")
    for office, noto in (("仿宋", "Noto Serif CJK SC"), ("黑体", "Noto Sans CJK SC")):
        assert re.search(f'<w:font w:name="{office}"><w:altName w:val="{noto}"/>', fonts)

    from planbook.book.spec import book_spec
    from planbook.run.period import resolve

    stamp = book_spec(resolve("2025", sample_build)).stamp
    for header in (section.header, section.even_page_header):
        lines = [p.text for p in header.paragraphs]
        assert lines == [f"征求意见稿｜{stamp}", NOTICE], lines
    assert doc.settings.odd_and_even_pages_header_footer
    for footer, align in ((section.footer, "right"), (section.even_page_footer, "left")):
        xml = footer._element.xml
        assert "PAGE" in xml and f'w:jc w:val="{align}"' in xml
        assert footer.paragraphs[0].text == "— 1 —"
    # the chapters as the HTML body names and numbers them, sections numbered below
    assert [p.text for p in doc.paragraphs
            if p.style.name == "Heading 1"] == _body_titles(sample_build, "2025")
    assert any(p.style.name == "Heading 2" and p.text.startswith("1.1\u3000")
               for p in doc.paragraphs)
    first = [p for p in doc.paragraphs if p.text][:2]
    assert (first[0].text, first[0].style.name) == ("征求意见稿", "Signoff Mark")
    assert first[1].style.name == "Title" and first[1].text.endswith("中期评估报告")


def test_word_edition_tables_figures_and_trace_labels(sample_build):
    """The HTML body's every labelled figure and table, as Word tables with a repeating
    header row (numbers right-aligned) and 300 ppi PNG pictures with alt text, each caption
    in a caption style and ending in its 溯源 label in small type."""
    path = sample_build / "reports" / "2025" / "report.docx"
    figs, tbls = _body_labels(sample_build, "2025")
    assert len(figs) >= 10 and len(tbls) >= 10
    assert _docx_labels(path) == (figs, tbls)
    xml = _xml(path)
    tables = re.findall(r"<w:tbl>.*?</w:tbl>", xml, re.S)
    assert len(tables) >= len(tbls)
    assert all('<w:tblHeader w:val="on" />' in t for t in tables)
    assert sum('<w:jc w:val="right" />' in t for t in tables) >= len(tables) // 2
    alts = re.findall(r'<wp:docPr descr="([^"]*)"', xml)
    assert len(alts) >= len(figs) and all(alts) and not any("〔" in a for a in alts)
    with zipfile.ZipFile(path) as z:
        media = [n for n in z.namelist() if n.startswith("word/media/")]
        assert media and all(n.endswith(".png") for n in media)
    # a figure drawn at 75% of the 156 mm text block holds about 300 pixels an inch
    from PIL import Image

    cx = int(re.search(r'<wp:extent cx="(\d+)"', xml)[1])  # EMU
    with zipfile.ZipFile(path) as z:
        first = Image.open(z.open(sorted(media)[0]))
    assert first.width / (cx / 914400) > 250
    for label in figs | tbls:
        caption = re.search(r'<w:p><w:pPr><w:pStyle w:val="(ImageCaption|TableCaption)" />'
                            r'(?:(?!</w:p>).)*〔' + re.escape(label) + "〕", xml, re.S)
        assert caption, label
    assert xml.count('<w:rStyle w:val="TraceLabel" />') == len(figs | tbls)
    doc = docx.Document(str(path))
    assert doc.styles["Trace Label"].font.size.pt <= 9


def test_word_edition_is_reproducible(sample_build, tmp_path):
    """A second render of the same pages gives the same bytes: fixed zip times, the
    edition's date in the document properties, no build time anywhere."""
    from planbook.book.code import audit_captions
    from planbook.book.docx import write_docx
    from planbook.book.pages import collect_refs, read_page
    from planbook.book.spec import book_spec
    from planbook.run.period import resolve

    published = sample_build / "reports" / "2025" / "report.docx"
    book = book_spec(resolve("2025", sample_build))
    contents = [read_page(p, sample_build) for p in book.pages]
    body = [c for c in contents if not c.page.annex]
    again = write_docx(book, body, collect_refs(contents), book.params, tmp_path / "work",
                       tmp_path / "report.docx", sample_notice=True, hook=audit_captions)
    assert again.read_bytes() == published.read_bytes()
    with zipfile.ZipFile(published) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode("utf-8")
    when = (book.edition_date or book.params.as_of)[:10]
    assert core.count(f"{when}T00:00:00Z") == 2 and "<dc:title>" in core


@needs_office
@needs_poppler
def test_libreoffice_opens_the_2025_word_edition(sample_build, tmp_path):
    """LibreOffice converts report.docx; the PDF has a sane length, every figure and table
    caption of the HTML body, Chinese text that extracts, the header on every page, and no
    missing glyph: every font embedded, no replacement character."""
    path = sample_build / "reports" / "2025" / "report.docx"
    pdf = _convert(path, tmp_path / "lo")
    pages = _pages(pdf)
    assert 60 <= pages <= 400, pages
    text = _text(pdf)
    assert "\ufffd" not in text and "\u25a1" not in text
    squashed = re.sub(r"\s+", "", text)
    assert "建德市县城承载能力提升" in squashed and "报告摘要" in squashed
    assert squashed.count(NOTICE) >= pages  # the header of every page
    assert squashed.count("征求意见稿｜") >= pages
    figs, tbls = _body_labels(sample_build, "2025")
    for label in figs | tbls:
        assert f"〔{label}〕" in squashed, label
    fonts = _fonts(pdf)
    assert fonts and all(f[-5] == "yes" for f in fonts), fonts  # emb column
    assert any("CJK" in f[0] for f in fonts)
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True,
                            check=True).stdout.splitlines()[2:]
    assert len(images) >= len(figs)


# --- the monthly briefing -------------------------------------------------------------------

@needs_office
@needs_poppler
def test_briefing_word_edition(kind_builds, tmp_path):
    """The 2026-10 briefing gets its Word edition too: stamp and sample notice in the header,
    its tables and figures, and LibreOffice opens it."""
    report = kind_builds / "reports" / "2026-10"
    path = report / "report.docx"
    doc = docx.Document(str(path))
    header = [p.text for p in doc.sections[0].header.paragraphs]
    assert header[-1] == NOTICE and "数据截至" in header[0]
    figs, tbls = _body_labels(kind_builds, "2026-10")
    assert _docx_labels(path) == (figs, tbls)
    manifest = json.loads((report / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["outputs"]["report.docx"] == hashlib.sha256(path.read_bytes()).hexdigest()
    pdf = _convert(path, tmp_path / "lo")
    assert 3 <= _pages(pdf) <= 60
    squashed = re.sub(r"\s+", "", _text(pdf))
    assert "工作进展通报" in squashed and "预警清单" in squashed
    assert "\ufffd" not in squashed
    assert all(f[-5] == "yes" for f in _fonts(pdf))
