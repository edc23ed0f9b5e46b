"""Write src/planbook/book/assets/reference.docx: the styles of the Word edition (report.docx).

Run after changing the house style (needs python-docx: pip install -e '.[test]'):

    python scripts/make_reference_docx.py

pandoc (both engines) takes every paragraph, character and table style, the page set-up, the
headers and the footers of the Word edition from this file (`--reference-doc`). It starts
from pandoc's own reference document, so every style pandoc writes exists, and sets them
after the conventions of Chinese government documents (GB/T 9704-2012, 党政机关公文格式):

- A4; top margin 37 mm, left 28 mm, text block 156 × 225 mm (right 26 mm, bottom 35 mm);
  22 lines a page: the body's exact line pitch 28.95 pt;
- body 仿宋 三号 (16 pt), first line indented two characters; title 小标宋 二号 (22 pt);
  chapter 黑体 小二, then 黑体 / 楷体 / 仿宋加粗 三号 for the levels below, as 公文 number them;
- page numbers in the 公文 form, 宋体 四号 “— 1 —”: odd pages on the right, even pages on the
  left, one character in from the edge;
- the header of every page: the stamp (period, cut-off, edition) and, when the report used
  sample data, 示例数据，非官方统计 in red. Their text is filled in per report: the header
  holds the placeholders {{STAMP}} and {{NOTICE}} (planbook.book.docx).

Fonts: each style names the office font first (仿宋, 黑体, 楷体, 方正小标宋简体, 宋体, the names
Word on a government PC has), and the font table names a Noto CJK face as each one's
alternative (w:altName), which Word uses where the office font is missing. LibreOffice
ignores w:altName; there fontconfig picks the face (planbook.book.docx.FONTCONFIG maps the
office names onto Noto CJK; without it any CJK face it has).
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt, RGBColor

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "planbook" / "book" / "assets" / "reference.docx"

# Office font (what Word on a government PC has) → the Noto CJK face named as its fallback.
FANGSONG, HEITI, KAITI, XIAOBIAOSONG, SONGTI = "仿宋", "黑体", "楷体", "方正小标宋简体", "宋体"
LATIN = "Times New Roman"
FALLBACK = {FANGSONG: "Noto Serif CJK SC", KAITI: "Noto Serif CJK SC",
            XIAOBIAOSONG: "Noto Serif CJK SC", SONGTI: "Noto Serif CJK SC",
            HEITI: "Noto Sans CJK SC"}
FAMILY = {HEITI: "modern"}  # the rest are roman (serif)

BODY = Pt(16)  # 三号
LINE = Pt(28.95)  # 225 mm / 22 lines
RED = RGBColor(0xB0, 0x00, 0x20)
GREY = RGBColor(0x59, 0x59, 0x59)


def pandoc_reference() -> bytes:
    import pypandoc

    return subprocess.run([pypandoc.get_pandoc_path(), "--print-default-data-file",
                           "reference.docx"], capture_output=True, check=True).stdout


def set_fonts(font, east_asia: str, latin: str = LATIN) -> None:
    """The run font: `latin` for Latin letters and digits, `east_asia` for Chinese."""
    font.name = latin
    fonts = font.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:cs"), latin)


def style(doc, name: str, kind=WD_STYLE_TYPE.PARAGRAPH, base: str | None = None):
    styles = doc.styles
    try:
        st = styles[name]
    except KeyError:
        st = styles.add_style(name, kind)
        st.quick_style = True
    if base:
        st.base_style = styles[base]
    return st


def para(st, *, east_asia=FANGSONG, latin=LATIN, size=BODY, align=None, indent_chars=0,
         line=LINE, before=0, after=0, bold=False, colour=None, keep_next=False,
         page_break=False, outline=None):
    set_fonts(st.font, east_asia, latin)
    st.font.size = size
    st.font.bold = bold
    st.font.italic = False
    st.font.color.rgb = colour or RGBColor(0, 0, 0)
    pf = st.paragraph_format
    if align is not None:
        pf.alignment = align
    if line is None:
        pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
    else:
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        pf.line_spacing = line
    pf.space_before, pf.space_after = Pt(before), Pt(after)
    pf.keep_with_next = keep_next
    pf.page_break_before = page_break
    pf.first_line_indent = size * indent_chars if indent_chars else Pt(0)
    ppr = st.element.get_or_add_pPr()
    ind = ppr.find(qn("w:ind"))
    if ind is not None:
        # In characters too, so the indent follows a changed font size (Word's 首行缩进 2 字符).
        if indent_chars:
            ind.set(qn("w:firstLineChars"), str(indent_chars * 100))
        else:
            ind.attrib.pop(qn("w:firstLineChars"), None)
    if outline is not None:
        for old in ppr.findall(qn("w:outlineLvl")):
            ppr.remove(old)
        ppr.append(parse_xml(f'<w:outlineLvl {nsdecls("w")} w:val="{outline}"/>'))
    return st


def char(st, *, colour=None, size=None, east_asia=None, latin=None):
    if east_asia:
        set_fonts(st.font, east_asia, latin or LATIN)
    if size:
        st.font.size = size
    if colour is not None:
        st.font.color.rgb = colour
    return st


def shade_border(st, fill: str, line: str) -> None:
    """A framed paragraph: a rule on the left and a light fill (评估组意见)."""
    ppr = st.element.get_or_add_pPr()
    ppr.append(parse_xml(f'<w:pBdr {nsdecls("w")}><w:left w:val="single" w:sz="24" '
                         f'w:space="8" w:color="{line}"/></w:pBdr>'))
    ppr.append(parse_xml(f'<w:shd {nsdecls("w")} w:val="clear" w:color="auto" w:fill="{fill}"/>'))


def styles(doc) -> None:
    normal = para(style(doc, "Normal"), align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    normal.paragraph_format.widow_control = True
    for name in ("Body Text", "First Paragraph"):
        para(style(doc, name), align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent_chars=2)
    # pandoc writes table cells (and tight lists, which assets/docx.lua loosens) in Compact:
    # the table text, 仿宋 小五, single-spaced (the report's tables have up to 13 columns).
    para(style(doc, "Compact"), size=Pt(9), line=None, align=WD_ALIGN_PARAGRAPH.LEFT)
    # The cover: sign-off mark, title, subtitle, compiler and cut-off lines.
    para(style(doc, "Signoff Mark", base="Normal"), east_asia=HEITI, align=WD_ALIGN_PARAGRAPH.RIGHT)
    para(style(doc, "Title"), east_asia=XIAOBIAOSONG, size=Pt(22), line=Pt(36), before=120,
         after=24, align=WD_ALIGN_PARAGRAPH.CENTER)
    para(style(doc, "Subtitle"), east_asia=KAITI, align=WD_ALIGN_PARAGRAPH.CENTER, after=12)
    for name in ("Author", "Date", "Cover Line"):
        para(style(doc, name, base="Normal"), align=WD_ALIGN_PARAGRAPH.CENTER)
    # Chapters start a page; 黑体 / 楷体 / 仿宋加粗 below, indented two characters as in 公文.
    para(style(doc, "Heading 1"), east_asia=HEITI, size=Pt(18), line=Pt(36), before=12,
         after=24, align=WD_ALIGN_PARAGRAPH.CENTER, keep_next=True, page_break=True, outline=0)
    para(style(doc, "Heading 2"), east_asia=HEITI, indent_chars=2, keep_next=True, outline=1,
         align=WD_ALIGN_PARAGRAPH.LEFT)
    para(style(doc, "Heading 3"), east_asia=KAITI, indent_chars=2, keep_next=True, outline=2,
         align=WD_ALIGN_PARAGRAPH.LEFT)
    for level in (4, 5, 6):
        para(style(doc, f"Heading {level}"), bold=True, indent_chars=2, keep_next=True,
             outline=level - 1, align=WD_ALIGN_PARAGRAPH.LEFT)
    # Captions (Word's 题注 style and pandoc's two based on it): 黑体 四号, centred; a table's
    # above it, a figure's below.
    for name in ("Caption", "Table Caption", "Image Caption"):
        para(style(doc, name), east_asia=HEITI, size=Pt(14), line=None, before=6, after=6,
             align=WD_ALIGN_PARAGRAPH.CENTER, keep_next=name != "Image Caption")
    # A paragraph holding a picture must not have an exact line height (it would clip it).
    for name in ("Figure", "Captioned Figure"):
        para(style(doc, name, base="Normal"), line=None, align=WD_ALIGN_PARAGRAPH.CENTER,
             keep_next=True, before=6)
    para(style(doc, "Block Text"), east_asia=KAITI, indent_chars=2)
    ev = para(style(doc, "Evaluator", base="Normal"), east_asia=KAITI, indent_chars=2,
              before=4, after=4)
    shade_border(ev, "F1F3FB", "3949AB")
    para(style(doc, "Footnote Text"), size=Pt(12), line=None)
    para(style(doc, "Source Code", base="Normal"), east_asia=FANGSONG, latin="Courier New",
         size=Pt(10.5), line=None, align=WD_ALIGN_PARAGRAPH.LEFT)
    # The header: stamp (and the sample notice) in small type; the footer: 宋体 四号 page number.
    para(style(doc, "Header"), size=Pt(9), line=None, align=WD_ALIGN_PARAGRAPH.CENTER,
         colour=GREY)
    para(style(doc, "Sample Notice", base="Header"), east_asia=HEITI, size=Pt(9), line=None,
         align=WD_ALIGN_PARAGRAPH.CENTER, colour=RED)
    para(style(doc, "Footer"), east_asia=SONGTI, latin=SONGTI, size=Pt(14), line=None)
    para(style(doc, "TOC Heading"), east_asia=HEITI, size=Pt(18), line=Pt(36),
         align=WD_ALIGN_PARAGRAPH.CENTER, after=12)
    # Character styles: the 溯源 label after a caption, light dots, links in the text colour.
    char(style(doc, "Trace Label", WD_STYLE_TYPE.CHARACTER), colour=GREY, size=Pt(9),
         east_asia=FANGSONG, latin=LATIN)
    for name, rgb in (("Light Green", "2E7D32"), ("Light Yellow", "F2B705"),
                      ("Light Red", "C62828"), ("Light Grey", "9E9E9E")):
        char(style(doc, name, WD_STYLE_TYPE.CHARACTER), colour=RGBColor.from_string(rgb))
    link = style(doc, "Hyperlink", WD_STYLE_TYPE.CHARACTER)
    link.font.color.rgb = RGBColor(0, 0, 0)
    link.font.underline = False
    table_style(doc)


def table_style(doc) -> None:
    """pandoc's table style "Table": a full grid of thin rules, the header row shaded."""
    st = style(doc, "Table", WD_STYLE_TYPE.TABLE)
    el = st.element
    for old in el.findall(qn("w:tblPr")) + el.findall(qn("w:tblStylePr")):
        el.remove(old)
    rule = 'w:val="single" w:sz="4" w:space="0" w:color="000000"'
    el.append(parse_xml(
        f'<w:tblPr {nsdecls("w")}><w:jc w:val="center"/><w:tblBorders>'
        + "".join(f"<w:{side} {rule}/>" for side in
                  ("top", "left", "bottom", "right", "insideH", "insideV"))
        + '</w:tblBorders><w:tblCellMar><w:top w:w="20" w:type="dxa"/>'
        '<w:left w:w="57" w:type="dxa"/><w:bottom w:w="20" w:type="dxa"/>'
        '<w:right w:w="57" w:type="dxa"/></w:tblCellMar></w:tblPr>'))
    el.append(parse_xml(
        f'<w:tblStylePr {nsdecls("w")} w:type="firstRow"><w:rPr>'
        f'<w:rFonts w:eastAsia="{HEITI}"/></w:rPr><w:tcPr>'
        '<w:shd w:val="clear" w:color="auto" w:fill="E7E6E6"/></w:tcPr></w:tblStylePr>'))


def page(doc) -> None:
    """A4 after GB/T 9704: margins, line grid, the header and the 公文 page number."""
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance, section.footer_distance = Mm(15), Mm(25)
    # No line grid: the body's exact 28.95 pt pitch gives the 22 lines; a grid would also
    # space tables, captions and the header at that pitch.
    sect = section._sectPr
    for old in sect.findall(qn("w:docGrid")):
        sect.remove(old)
    doc.settings.odd_and_even_pages_header_footer = True
    for header in (section.header, section.even_page_header):
        header.is_linked_to_previous = False
        first = header.paragraphs[0]
        first.text = "{{STAMP}}"
        first.style = doc.styles["Header"]
        notice = header.add_paragraph("{{NOTICE}}", style=doc.styles["Sample Notice"])
        # A thin rule under the header block.
        notice.paragraph_format.space_after = Pt(2)
        notice._p.get_or_add_pPr().append(parse_xml(
            f'<w:pBdr {nsdecls("w")}><w:bottom w:val="single" w:sz="4" w:space="1" '
            'w:color="808080"/></w:pBdr>'))
    odd, even = section.footer, section.even_page_footer
    for footer, align in ((odd, WD_ALIGN_PARAGRAPH.RIGHT), (even, WD_ALIGN_PARAGRAPH.LEFT)):
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0]
        p.style = doc.styles["Footer"]
        p.alignment = align
        # 单页码居右空一字，双页码居左空一字
        side = "right" if align == WD_ALIGN_PARAGRAPH.RIGHT else "left"
        p._p.get_or_add_pPr().append(parse_xml(
            f'<w:ind {nsdecls("w")} w:{side}="280" w:{side}Chars="100"/>'))
        p.add_run("— ")
        for inner in ('<w:fldChar w:fldCharType="begin"/>',
                      '<w:instrText xml:space="preserve"> PAGE </w:instrText>',
                      '<w:fldChar w:fldCharType="separate"/>', "<w:t>1</w:t>",
                      '<w:fldChar w:fldCharType="end"/>'):
            p._p.append(parse_xml(f'<w:r {nsdecls("w")}>{inner}</w:r>'))
        p.add_run(" —")


def font_table(xml: str) -> str:
    """Declare the office fonts with their Noto CJK alternative (w:altName) and GB2312."""
    entries = "".join(
        f'<w:font w:name="{name}"><w:altName w:val="{alt}"/><w:charset w:val="86"/>'
        f'<w:family w:val="{FAMILY.get(name, "roman")}"/><w:pitch w:val="variable"/></w:font>'
        for name, alt in FALLBACK.items())
    return xml.replace("</w:fonts>", entries + "</w:fonts>")


def theme(xml: str) -> str:
    """The theme's East Asian fonts: 黑体 for headings (major), 仿宋 for text (minor)."""
    def fix(block: str, face: str) -> str:
        block = re.sub(r'<a:ea typeface="[^"]*"\s*/>', f'<a:ea typeface="{face}"/>', block)
        return re.sub(r'<a:font script="Hans" typeface="[^"]*"\s*/>',
                      f'<a:font script="Hans" typeface="{face}"/>', block)

    xml = re.sub(r"<a:majorFont>.*?</a:majorFont>", lambda m: fix(m[0], HEITI), xml, flags=re.S)
    return re.sub(r"<a:minorFont>.*?</a:minorFont>", lambda m: fix(m[0], FANGSONG), xml,
                  flags=re.S)


def fixed_zip(raw: bytes, edit: dict) -> bytes:
    """The package with `edit` applied to named parts, fixed timestamps, same entry order."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename in edit:
                data = edit[info.filename](data.decode("utf-8")).encode("utf-8")
            fixed = zipfile.ZipInfo(info.filename, (1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(fixed, data)
    return out.getvalue()


def main() -> int:
    doc = Document(io.BytesIO(pandoc_reference()))
    styles(doc)
    page(doc)
    # pandoc reads the reference's body only for its section properties: leave it empty.
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    core = doc.core_properties
    core.title, core.author, core.comments = "planbook Word 版样式", "planbook", ""
    buf = io.BytesIO()
    doc.save(buf)
    dated = re.compile(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*")
    raw = fixed_zip(buf.getvalue(), {
        "word/fontTable.xml": font_table,
        "word/theme/theme1.xml": theme,
        "docProps/core.xml": lambda x: dated.sub(r"\g<1>2023-01-01T00:00:00Z", x),
    })
    OUT.write_bytes(raw)
    print(f"wrote {OUT.relative_to(ROOT)} ({len(raw):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
