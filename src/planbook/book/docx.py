"""The Word edition (report.docx): the evaluation's body as a .docx an office can edit,
comment and issue (征求意见稿 → 审定稿), built beside report.pdf from the same pages.

pandoc writes it (`-t docx`) with the project's reference document (assets/reference.docx,
made by scripts/make_reference_docx.py: A4 after GB/T 9704, 仿宋 三号 body, 公文 page
numbers, the header) and assets/docx.lua (tables with Word header rows that repeat, widths
fitted to the page, numbers right-aligned; light dots and the evaluator's box as Word styles;
alt text on figures; links to pages outside the body unlinked). Figures go in as PNG at 300 ppi
(typst draws the book's SVGs). Then the package is finished here: the header's placeholders
get the stamp and the sample notice, the document properties the edition's date, and every
zip entry a fixed time, so the same edition gives the same bytes.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from planbook.book.assets import ASSETS, font_dir
from planbook.book.downloads import normalised_zip
from planbook.book.pages import PageContent, Ref, page_markdown, png_name
from planbook.book.pandoc import READER, pandoc_path, run_pandoc
from planbook.book.pdf import typst_child
from planbook.book.spec import SAMPLE_NOTICE, BookChapters
from planbook.errors import RenderError
from planbook.escape import md_text
from planbook.plan.params import Params

DOCX = "report.docx"
REFERENCE = ASSETS / "reference.docx"
FILTER = "docx.lua"
PNG_PPI = 300  # print resolution

# fontconfig for LibreOffice (which ignores the docx's w:altName fallbacks): the office font
# names of reference.docx onto the Noto CJK faces. The tests convert with it; a Linux reader
# may copy it to ~/.config/fontconfig/conf.d/.
FONTCONFIG_ALIASES = {"仿宋": "Noto Serif CJK SC", "楷体": "Noto Serif CJK SC",
                      "方正小标宋简体": "Noto Serif CJK SC", "宋体": "Noto Serif CJK SC",
                      "黑体": "Noto Sans CJK SC"}


def fontconfig(cache: Path) -> str:
    """A fonts.conf: the system's, the Noto CJK folder, the office names as aliases."""
    aliases = "".join(f"<alias binding=\"same\"><family>{office}</family><prefer>"
                      f"<family>{noto}</family></prefer></alias>"
                      for office, noto in FONTCONFIG_ALIASES.items())
    return ('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>'
            '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
            f"<dir>{font_dir()}</dir><cachedir>{cache}</cachedir>{aliases}</fontconfig>\n")


def cover_markdown(book: BookChapters, params: Params, signoff: str) -> str:
    """The first page: sign-off mark (征求意见稿/审定稿), title, kind, compiler and the stamp
    (period, cut-off, edition)."""
    lines = []
    if signoff:
        lines += ['::: {custom-style="Signoff Mark"}', md_text(signoff), ":::", ""]
    lines += ['::: {custom-style="Title"}', md_text(book.title), ":::", "",
              '::: {custom-style="Subtitle"}', md_text(params.label_zh + params.kind_zh), ":::",
              "", '::: {custom-style="Cover Line"}', md_text(book.compiler), ":::", "",
              '::: {custom-style="Cover Line"}', md_text(book.stamp), ":::", ""]
    return "\n".join(lines)


def docx_markdown(book: BookChapters, contents: list[PageContent], refs: dict[str, Ref],
                  params: Params, *, signoff: str, hook) -> str:
    # Each page in a div naming its heading numbers (assets/number_headings.lua).
    pages = [f'::::::::: {{.pb-page pb-prefix="{c.page.heading_prefix}" '
             f'pb-number="{c.page.number}"}}\n\n{page_markdown(c, "docx", refs, hook)}'
             "\n:::::::::" for c in contents]
    return cover_markdown(book, params, signoff) + "\n\n" + "\n\n".join(pages)


# SVG → PNG: typst draws each figure on a page of its own size, in a child process (as
# book.pdf compiles: typst keeps what it loaded).
_TYPST_PNG = """\
import sys
from pathlib import Path
import typst
main, fonts, ppi = sys.argv[1:4]
names = Path(main).with_suffix(".txt").read_text(encoding="utf-8").splitlines()
try:
    pages = typst.compile(main, format="png", ppi=float(ppi), font_paths=[fonts],
                          ignore_system_fonts=True)
except Exception as exc:
    print(exc, file=sys.stderr)
    sys.exit(1)
pages = pages if isinstance(pages, list) else [pages]
for name, data in zip(names, pages, strict=True):
    Path(main).parent.joinpath(name).write_bytes(data)
"""


def figures_png(work: Path, svgs: list[str]) -> None:
    """Write `name.png` beside every `name.svg` under `work` (paths relative to it)."""
    if not svgs:
        return
    main = work / "figures.typ"
    body = "\n#pagebreak()\n".join(f'#image("{name}")' for name in svgs)
    main.write_text("#set page(width: auto, height: auto, margin: 0pt, fill: white)\n" + body,
                    encoding="utf-8")
    main.with_suffix(".txt").write_text("\n".join(png_name(s) for s in svgs), encoding="utf-8")
    detail = typst_child(_TYPST_PNG, str(main), str(font_dir()), str(PNG_PPI), writes=work)
    if detail is not None:
        raise RenderError(f"typst 无法把图转成 PNG：{detail}", hint=f"生成的源文件保留在 {main}")


def write_docx(book: BookChapters, contents: list[PageContent], refs: dict[str, Ref],
               params: Params, work: Path, out: Path, *,
               sample_notice: bool | Callable[[], bool], hook) -> Path:
    """report.docx of `contents` (the report's body pages) at `out`; `work` holds the
    markdown and the figure files. `sample_notice` may be a function, asked once pandoc ran
    (the render reads it from the data meanwhile)."""
    signoff = book.signoff
    work.mkdir(parents=True, exist_ok=True)
    svgs = []
    for c in contents:
        for name, data in c.assets.items():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            (work / name).write_bytes(data)
            if name.endswith(".svg"):
                svgs.append(name)
    figures_png(work, svgs)
    markdown = docx_markdown(book, contents, refs, params, signoff=signoff, hook=hook)
    (work / "report.md").write_text(markdown, encoding="utf-8")
    raw = work / "pandoc.docx"
    cmd = [pandoc_path(), "-f", READER, "-t", "docx", "--reference-doc", str(REFERENCE),
           "--resource-path", str(work), "-M", "lang=zh-CN",
           "--lua-filter", str(ASSETS / "number_headings.lua"),
           "--lua-filter", str(ASSETS / "formats.lua"),
           "--lua-filter", str(ASSETS / FILTER), "-o", str(raw)]
    # pandoc dates the package by SOURCE_DATE_EPOCH (finish() fixes every date too)
    epoch = {"SOURCE_DATE_EPOCH": str(_epoch(book.edition_date or params.as_of))}
    proc = run_pandoc(cmd, markdown.encode("utf-8"), env=epoch)
    if proc.returncode:
        raise RenderError(f"pandoc -t docx 运行失败：{proc.stderr.decode('utf-8', 'replace')[:500]}")
    if callable(sample_notice):
        sample_notice = sample_notice()
    out.write_bytes(finish_for(book, raw.read_bytes(), sample_notice=sample_notice))
    return out


def finish_for(book: BookChapters, raw: bytes, *, sample_notice: bool) -> bytes:
    """`finish` with the book's stamp (after its sign-off), notice, title and date; also
    what Quarto's report.docx gets, whose header holds the same placeholders."""
    stamp = f"{book.signoff}｜{book.stamp}" if book.signoff else book.stamp
    return finish(raw, stamp=stamp, notice=SAMPLE_NOTICE if sample_notice else "",
                  title=book.title, compiler=book.compiler,
                  date=book.edition_date or book.params.as_of)


def _epoch(iso: str) -> int:
    from datetime import UTC, datetime

    return int(datetime.fromisoformat(iso[:10]).replace(tzinfo=UTC).timestamp())


_NOTICE_PARA = re.compile(r"<w:p\b(?:(?!<w:p\b).)*?\{\{NOTICE\}\}.*?</w:p>", re.S)
_DATED = re.compile(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*")


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def finish(raw: bytes, *, stamp: str, notice: str, title: str, compiler: str, date: str
           ) -> bytes:
    """pandoc's package with the header filled in (the stamp; the sample notice, or its line
    removed), the core properties (title, author, the edition's date) and fixed zip times."""
    when = f"{date[:10]}T00:00:00Z"

    def header(xml: str) -> str:
        xml = xml.replace("{{STAMP}}", _xml_text(stamp))
        if notice:
            return xml.replace("{{NOTICE}}", _xml_text(notice))
        return _NOTICE_PARA.sub("", xml)

    def core(xml: str) -> str:
        xml = _DATED.sub(lambda m: m[1] + when, xml)
        xml = re.sub(r"<dc:title>[^<]*</dc:title>", f"<dc:title>{_xml_text(title)}</dc:title>",
                     xml)
        if "<dc:title>" not in xml:
            xml = xml.replace("</cp:coreProperties>",
                              f"<dc:title>{_xml_text(title)}</dc:title></cp:coreProperties>")
        creator = f"<dc:creator>{_xml_text(compiler)}</dc:creator>"
        if "<dc:creator>" in xml:
            return re.sub(r"<dc:creator>[^<]*</dc:creator>", creator, xml)
        return xml.replace("</cp:coreProperties>", creator + "</cp:coreProperties>")

    def edit(name: str, data: bytes) -> bytes:
        if name == "word/document.xml":
            return table_grids(data.decode("utf-8")).encode("utf-8")
        if re.fullmatch(r"word/header\d*\.xml", name):
            return header(data.decode("utf-8")).encode("utf-8")
        if name == "docProps/core.xml":
            return core(data.decode("utf-8")).encode("utf-8")
        return data

    return normalised_zip(raw, edit)


_SECTION = re.compile(r"<w:pgSz\b([^>]*)>.*?<w:pgMar\b([^>]*)>", re.S)
_TABLE = re.compile(r"<w:tbl>.*?</w:tblGrid>", re.S)


def table_grids(xml: str) -> str:
    """Column widths in the page's own width. pandoc writes a table's share of the text width
    (w:tblW pct) but its grid in twips of a 14 cm text block, and LibreOffice lays a fixed
    table out by the grid: scale each grid to the share of the reference's 156 mm."""
    section = _SECTION.search(xml)
    if section is None:
        return xml
    size = dict(re.findall(r'w:(w|h)="(\d+)"', section[1]))
    margins = dict(re.findall(r'w:(left|right)="(\d+)"', section[2]))
    if "w" not in size:
        return xml
    text_width = int(size["w"]) - int(margins.get("left", 0)) - int(margins.get("right", 0))

    def scale(m: re.Match) -> str:
        block = m[0]
        share = re.search(r'<w:tblW w:type="pct" w:w="(\d+)"', block)
        cols = [int(w) for w in re.findall(r'<w:gridCol w:w="(\d+)"', block)]
        if share is None or not cols or not sum(cols):
            return block
        target = text_width * int(share[1]) / 5000
        new = iter(round(c * target / sum(cols)) for c in cols)
        return re.sub(r'<w:gridCol w:w="\d+"', lambda _: f'<w:gridCol w:w="{next(new)}"', block)

    return _TABLE.sub(scale, xml)


def docx_text(path: Path) -> str:
    """The text a reader sees in a .docx: every paragraph of the body, headers and footers,
    one line each (verify compares it with a re-render's)."""
    lines = []
    with zipfile.ZipFile(path) as z:
        names = ["word/document.xml"] + sorted(n for n in z.namelist()
                                               if re.fullmatch(r"word/(header|footer)\d*\.xml", n))
        for name in names:
            xml = z.read(name).decode("utf-8")
            for para in re.findall(r"<w:p\b.*?</w:p>", xml, re.S):
                text = "".join(re.findall(r"<w:t(?:\s[^>]*)?>([^<]*)</w:t>", para))
                if text:
                    lines.append(text)
    return "\n".join(lines) + "\n"

