"""Downloads published with the HTML book, under html/downloads/:

- every labelled table of the book as `<label>.csv` (UTF-8 with BOM, so Excel reads Chinese)
  and `<label>.xlsx`, with the cells a reader sees; a cell beginning with = + - @ (or a tab
  or carriage return) is prefixed with ' so no spreadsheet runs it as a formula (OWASP CSV
  injection). The HTML captions link to both (`download_links`).
- the period's data, `data-<P>.zip`: a Frictionless data package (datapackage.json plus
  observations.csv, UTF-8 with a BOM like every CSV here): every observation row the report used (the union of the register's
  input rows), with its provenance columns (store file, submission sha256 and archived path,
  village records, the labels that used it); other_inputs.csv lists the register's other
  input rows (village records, statements, projects, evaluations) with the same columns.
  Its cells are neutralised like the tables' (planbook.escape.csv_cell: one rule for every
  CSV and workbook planbook writes).

A report that used sample data (the sample notice of its pages) says so in every download:
the workbook's first row, merged over the table's width, reads 示例数据，非官方统计 (the
header below it); the CSV gets a last column 数据说明 with it on every row, so it stays one
table any reader parses; the data package's title and description say it and both its CSVs
carry the same 数据说明 column (`notice`). A real-data report's downloads carry none of it.

Bytes are deterministic: zip entries carry a fixed date and the workbook's document
properties the edition's date, never the build time.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
import zipfile
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

from planbook import paths
from planbook.book.pages import Captioned, CaptionHook, PageContent
from planbook.book.spec import SAMPLE_NOTICE
from planbook.escape import csv_cell, html_text
from planbook.plan.registry import load_registry
from planbook.run.period import ReportPeriod
from planbook.store import observations
from planbook.store.schema import DATA_LICENSES, FIELDS

if TYPE_CHECKING:
    import pandas as pd

DOWNLOADS = "downloads"
NOTICE_HEADER = "数据说明"  # the CSV column (and data package field title) of the notice
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


# --- tables ----------------------------------------------------------------------------------

class _TableText(HTMLParser):
    """The text of the first <table>'s cells, row by row (a light cell reads 绿灯 …)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._depth = 0
        self._done = False

    def handle_starttag(self, tag, attrs):
        if self._done:
            return
        if tag == "table":
            self._depth += 1
        elif tag == "tr" and self._depth == 1:
            self.rows.append([])
        elif tag in ("td", "th") and self._depth == 1:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag):
        if self._done:
            return
        if tag == "table":
            self._depth -= 1
            self._done = self._depth == 0
        elif tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table_rows(html: str) -> list[list[str]]:
    """Header row then body rows of the first table in `html`."""
    parser = _TableText()
    parser.feed(html)
    return [r for r in parser.rows if r]


# --- Excel-ready cells ---------------------------------------------------------------------------
# A number as printed: thousands separators and decimals kept (leading zeros make it an id).
_NUM = r"-?(?:[1-9]\d{0,2}(?:,\d{3})+|[1-9]\d*|0)(?:\.(?P<dec>\d+))?"
_NUMBER = re.compile(_NUM)
_PERCENT = re.compile(rf"(?P<num>{_NUM})%")
# A value cell as the tables print it: 1,449亿元（2025）, 467.7亿元, 99.3%（2025）.
_VALUE = re.compile(rf"(?P<num>{_NUM.replace('?P<dec>', '?:')})"
                    r"(?P<unit>[^\d\s（）()，,；;：:]{1,8}?)?(?:（(?P<year>\d{4})）)?")
_DATE_WORDS = ("年", "月", "日", "版")  # 2025年 is a period, not a number with a unit


# A word with its year in the same column (推进中（2025）, a milestone's latest state).
_WORD_YEAR = re.compile(r"(?P<word>[^\d（）()]+)（(?P<year>\d{4})）")


def _value_parts(text: str) -> tuple[str, str, str] | None:
    m = _VALUE.fullmatch(text)
    if m is None or (m["unit"] or "").startswith(_DATE_WORDS):
        m = _WORD_YEAR.fullmatch(text)
        return (m["word"], "", m["year"]) if m else None
    return m["num"], m["unit"] or "", m["year"] or ""


def excel_columns(rows: list[list[str]]) -> list[list[str]]:
    """The table with every value column split: a column whose cells print number, unit and
    year together (基期 688亿元（2022）) becomes three, 基期 / 基期单位 / 基期年份, so a
    spreadsheet reads the numbers (a column of plain percentages stays one: 37.5% is a
    number). A cell of the column without a number (暂无数据, —) stays whole in the first.
    The first row is the header."""
    if len(rows) < 2:
        return rows
    width = max(len(r) for r in rows)
    body = [r + [""] * (width - len(r)) for r in rows[1:]]
    header = rows[0] + [""] * (width - len(rows[0]))
    plan: list[tuple[bool, bool] | None] = []  # per column: (unit column, year column)
    for j in range(width):
        cells = [r[j] for r in body if any(ch.isdigit() for ch in r[j])]
        parts = [_value_parts(c) for c in cells]
        if not cells or None in parts:
            plan.append(None)
            continue
        units = {u for _, u, _ in parts}
        unit = bool(units - {""}) and units != {"%"}
        year = any(y for _, _, y in parts)
        plan.append((unit, year) if unit or year else None)
    if not any(plan):
        return rows

    def split(row: list[str], head: bool) -> list[str]:
        out = []
        for j, cell in enumerate(row):
            how = plan[j]
            if how is None:
                out.append(cell)
                continue
            num, unit, year = (_value_parts(cell) or (cell, "", "")) if not head else (
                cell, f"{cell}单位", f"{cell}年份")
            if not head and not how[0] and unit:  # a % column: 37.5% stays a percentage
                num += unit
            out += [num] + ([unit] if how[0] else []) + ([year] if how[1] else [])
        return out

    return [split(header, True)] + [split(r, False) for r in body]


def excel_number(text: str) -> tuple[int | float, str] | None:
    """(value, number format as printed) of a cell that is a plain number or percentage:
    1,449 → (1449, '#,##0'); 99.30 → (99.3, '0.00'); 37.5% → (0.375, '0.0%'); else None."""
    m = _PERCENT.fullmatch(text)
    percent = m is not None
    m = m or _NUMBER.fullmatch(text)
    if m is None:
        return None
    digits = (m["num"] if percent else m[0]).replace(",", "")
    dec = m["dec"] or ""
    fmt = ("#,##0" if "," in m[0] else "0") + (f".{'0' * len(dec)}" if dec else "")
    value: int | float = float(digits) if dec else int(digits)
    if percent:  # 40.4% is 0.404, not 40.4 / 100 = 0.40399999999999997
        return float(Decimal(digits).scaleb(-2)), fmt + "%"
    return value, fmt


def csv_bytes(rows: Iterable[Iterable[str]], notice: str = "") -> bytes:
    """The table as CSV (UTF-8 with BOM). With `notice`, a last column 数据说明 holding it on
    every row (the header's cell names the column): the file stays a table any reader parses,
    and a row copied out of it still says what it is."""
    rows = [[csv_cell(str(c)) for c in row] for row in rows]
    if notice:
        width = max((len(r) for r in rows), default=0)  # a short row is padded, not shifted
        rows = [r + [""] * (width - len(r)) + [NOTICE_HEADER if n == 0 else notice]
                for n, r in enumerate(rows)]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode("utf-8-sig")


def normalised_zip(data: bytes, edit=None) -> bytes:
    """The same archive with a fixed date on every entry (zip headers carry write times);
    `edit(name, bytes) -> bytes` may rewrite an entry."""
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        return zip_entries([(info.filename, edit(info.filename, src.read(info.filename))
                             if edit else src.read(info.filename)) for info in src.infolist()])


def zip_entries(entries: Iterable[tuple[str, bytes]]) -> bytes:
    """An archive of (name, bytes) in order, every entry deflated with the fixed date."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, raw in entries:
            entry = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, raw)
    return out.getvalue()


NOTICE_COLOUR = "B00020"  # the books' banner red; the words carry the meaning, not the colour


def _xlsx_openpyxl(rows: list[list[str]], title: str, stamp: datetime, notice: str = ""
                   ) -> bytes:
    """The workbook as openpyxl writes it (then normalised): the reference `xlsx_bytes`
    matches byte for byte, and the way for any text its writer does not cover. With
    `notice`, row 1 holds it (bold, merged over the table's width) and the table starts on
    row 2."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "data"
    first = 2 if notice else 1
    for r, row in enumerate(rows, start=first):
        for c, value in enumerate(row, start=1):
            number = excel_number(str(value)) if r > first else None
            if number is not None:  # a number Excel sums, shown as printed
                cell = ws.cell(row=r, column=c, value=number[0])
                cell.number_format = number[1]
                continue
            cell = ws.cell(row=r, column=c, value=csv_cell(str(value)))
            cell.data_type = "s"  # never a formula, whatever the text
            if r == first:
                cell.font = Font(bold=True)
    if notice:
        cell = ws.cell(row=1, column=1, value=csv_cell(notice))
        cell.data_type = "s"
        cell.font = Font(bold=True, color=NOTICE_COLOUR)
        width = max((len(r) for r in rows), default=1)
        if width > 1:
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    wb.properties.title = title
    wb.properties.creator = "planbook"
    wb.properties.created = wb.properties.modified = stamp
    wb.properties.lastModifiedBy = "planbook"
    buf = io.BytesIO()
    wb.save(buf)

    def core(name: str, raw: bytes) -> bytes:
        # openpyxl stamps dcterms:modified with the save time whatever the properties say.
        if name != "docProps/core.xml":
            return raw
        when = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
        return re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + when, raw)

    return normalised_zip(buf.getvalue(), core)


# Probe values: set in the probe workbook, found again in its parts to cut them into templates.
_PROBE_TITLE, _PROBE_TEXT = "PBPROBETITLE", "PBPROBETEXT"
_PROBE_STAMP = datetime(2001, 2, 3)
_ILLEGAL = re.compile(r"[\000-\010\013\014\016-\037]")  # openpyxl refuses these
_MAX_CELL = 32767  # openpyxl truncates longer text


class _XlsxParts:
    """openpyxl's workbook cut into fixed parts once per process (per notice and per sequence
    of number formats): every part but the sheet's cells, its dimension, its merged range and
    the title and dates of docProps/core.xml is the same bytes for every table with that
    notice and those formats (the formats shape styles.xml and the cells' style numbers).
    Writing the 2025 book's 132 workbooks through openpyxl cost about 5 s; a probe per
    sequence, a handful per book, costs a few milliseconds each."""

    SHEET, CORE = "xl/worksheets/sheet1.xml", "docProps/core.xml"

    def __init__(self, notice: str = "", formats: tuple[str, ...] = ()):
        from openpyxl.compat import safe_string

        self.notice = notice
        self.number_text = safe_string  # how openpyxl writes a number's value
        # Two columns with a notice: openpyxl writes a merged range only over two or more.
        # Then one body row per number format, in the order the table first uses them:
        # openpyxl numbers the formats and the cell styles in that order.
        probe = [[_PROBE_TEXT] * (2 if notice else 1), *([_probe_number(f)] for f in formats)]
        raw = _xlsx_openpyxl(probe, _PROBE_TITLE, _PROBE_STAMP, notice)
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            self.parts = [(i.filename, z.read(i.filename)) for i in z.infolist()]
        sheet = dict(self.parts)[self.SHEET].decode("utf-8")
        first = self._first()
        self.styles = {}  # number format -> the style number openpyxl gives its cells
        for n, fmt in enumerate(formats, start=first + 1):
            found = re.search(rf'<c r="A{n}" s="(\d+)" t="n">', sheet)
            if found is None:
                raise RuntimeError("openpyxl writes workbooks differently than planbook expects")
            self.styles[fmt] = found[1]
        dimension = f'<dimension ref="{self._dimension(probe)}" />'
        merge = f'<mergeCell ref="{self._merged(probe)}" />'
        if sheet.count(dimension) != 1 or sheet.count("<sheetData>") != 1 or (
                notice and sheet.count(merge) != 1):
            raise RuntimeError("openpyxl writes workbooks differently than planbook expects")
        head, rest = sheet.split(dimension)
        self.sheet_head, rest = head + '<dimension ref="', rest.split("<sheetData>")
        self.sheet_mid = '" />' + rest[0] + "<sheetData>"
        tail = "</sheetData>" + rest[1].split("</sheetData>", 1)[1]
        # With a notice the tail holds the merged range, cut out like the dimension.
        self.sheet_tail = tail.split(merge) if notice else [tail]
        core = dict(self.parts)[self.CORE].decode("utf-8")
        when = _PROBE_STAMP.strftime("%Y-%m-%dT%H:%M:%SZ")
        if core.count(when) != 2 or core.count(_PROBE_TITLE) != 1 or (
                self._sheet(probe) != sheet):
            raise RuntimeError("openpyxl writes workbooks differently than planbook expects")
        self.core = core
        self.core_fields = re.compile(f"{re.escape(when)}|{_PROBE_TITLE}")

    def _first(self) -> int:
        return 2 if self.notice else 1

    def _dimension(self, rows: list[list[str]]) -> str:
        width = max(len(r) for r in rows)
        return f"A1:{_column(width)}{len(rows) + self._first() - 1}"

    @staticmethod
    def _merged(rows: list[list[str]]) -> str:
        return f"A1:{_column(max(len(r) for r in rows))}1"

    def _sheet(self, rows: list[list[str]]) -> str | None:
        """The sheet's XML, or None for text the direct writer does not cover."""
        first = self._first()
        out = []
        if self.notice:
            if not _writable(csv_cell(self.notice)) or max(len(r) for r in rows) < 2:
                return None  # (one column: openpyxl merges nothing)
            # openpyxl numbers cell styles as it writes the cells: the notice's first.
            out.append(f'<row r="1"><c r="A1" s="1" t="inlineStr"><is><t>'
                       f"{_xml(csv_cell(self.notice))}</t></is></c></row>")
        header = f' s="{first}"'
        for r, row in enumerate(rows, start=first):
            style = header if r == first else ""
            cells = []
            for c, value in enumerate(row, start=1):
                ref = f"{_column(c)}{r}"
                number = excel_number(str(value)) if r > first else None
                if number is not None:  # a number with its printed format, as openpyxl puts it
                    if number[1] not in self.styles:
                        return None
                    cells.append(f'<c r="{ref}" s="{self.styles[number[1]]}" t="n"><v>'
                                 f"{self.number_text(number[0])}</v></c>")
                    continue
                text = csv_cell(str(value))
                if not _writable(text):
                    return None
                cells.append(f'<c r="{ref}"{style} t="inlineStr" />' if text == "" else
                             f'<c r="{ref}"{style} t="inlineStr"><is><t>{_xml(text)}</t></is></c>')
            out.append(f'<row r="{r}">' + "".join(cells) + "</row>")
        tail = (f'<mergeCell ref="{self._merged(rows)}" />'.join(self.sheet_tail)
                if self.notice else self.sheet_tail[0])
        return (self.sheet_head + self._dimension(rows) + self.sheet_mid + "".join(out)
                + tail)

    def workbook(self, rows: list[list[str]], title: str, stamp: datetime) -> bytes | None:
        """The bytes openpyxl would write, or None for text its writer treats specially."""
        if (stamp.microsecond or stamp.tzinfo or not title or not _writable(title) or not rows
                or not all(rows)):
            return None  # (openpyxl writes no element for an empty row)
        sheet = self._sheet(rows)
        if sheet is None:
            return None
        when = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
        core = self.core_fields.sub(lambda m: _xml(title) if m[0] == _PROBE_TITLE else when,
                                    self.core)
        try:
            made = {self.SHEET: sheet.encode("utf-8"), self.CORE: core.encode("utf-8")}
        except UnicodeEncodeError:  # a lone surrogate: openpyxl's own error
            return None
        return zip_entries((name, made.get(name, raw)) for name, raw in self.parts)


def _formats(rows: list[list[str]]) -> tuple[str, ...] | None:
    """The number formats of the body's number cells, in the order they first appear; None
    when one of them has no probe (openpyxl writes that table)."""
    seen: dict[str, None] = {}
    for row in rows[1:]:
        for value in row:
            number = excel_number(str(value))
            if number is not None and number[1] not in seen:
                probe = excel_number(_probe_number(number[1]))
                if probe is None or probe[1] != number[1]:
                    return None
                seen[number[1]] = None
    return tuple(seen)


def _probe_number(fmt: str) -> str:
    """A printed number excel_number gives format `fmt` (#,##0.00% → 1,000.00%)."""
    core = fmt.removesuffix("%")
    whole, _, dec = core.partition(".")
    return ("1,000" if whole == "#,##0" else "1") + (f".{dec}" if dec else "") + (
        "%" if fmt.endswith("%") else "")


def _writable(text: str) -> bool:
    """Text the direct writer puts as openpyxl does: no characters openpyxl refuses, short
    enough not to be cut, no leading or trailing whitespace (openpyxl adds xml:space)."""
    return len(text) <= _MAX_CELL and text == text.strip() and not _ILLEGAL.search(text)


def _xml(text: str) -> str:
    # ElementTree's escaping of element text, which openpyxl's writer uses.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _column(n: int) -> str:
    letters = ""
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


_parts: dict[tuple[str, tuple[str, ...]], _XlsxParts] = {}  # by notice ("" for none), formats
_parts_lock = threading.Lock()


def xlsx_bytes(rows: list[list[str]], title: str, stamp: datetime, notice: str = "") -> bytes:
    """A one-sheet workbook, header row bold, a body cell that is a plain number or
    percentage a number with its printed format (excel_number), every other cell text; its dates are `stamp`; with
    `notice`, a first row saying it above the header. The bytes are openpyxl's (tests compare
    the two writers)."""
    formats = _formats(rows)
    if formats is None:
        return _xlsx_openpyxl(rows, title, stamp, notice)
    with _parts_lock:
        if (notice, formats) not in _parts:
            _parts[notice, formats] = _XlsxParts(notice, formats)
    made = _parts[notice, formats].workbook(rows, title, stamp)
    return made if made is not None else _xlsx_openpyxl(rows, title, stamp, notice)


def stamp_datetime(edition_date: str, as_of: str) -> datetime:
    """The date a download states: the edition's, else the data cut-off (never 'now')."""
    return datetime.fromisoformat((edition_date or as_of)[:10])


def book_tables(contents: list[PageContent]) -> list[tuple[Captioned, str]]:
    """(caption item, HTML) of every labelled table of the book, in book order."""
    return [(b.item, b.html) for c in contents for b in c.blocks
            if b.kind == "table" and b.item is not None and b.item.label and b.html]


def write_table_downloads(contents: list[PageContent], out: Path, stamp: datetime, *,
                          sample: bool = False) -> set[str]:
    """Write downloads/<label>.csv and .xlsx for every table; returns the labels written.
    `sample`: the report used sample data (its pages' notice), so every file says so."""
    folder = out / DOWNLOADS
    folder.mkdir(parents=True, exist_ok=True)
    notice = SAMPLE_NOTICE if sample else ""
    done = set()
    for item, html in book_tables(contents):
        rows = excel_columns(table_rows(html))
        if not rows:
            continue
        title = f"{item.display_number} {item.caption}".strip()
        (folder / f"{item.label}.csv").write_bytes(csv_bytes(rows, notice))
        (folder / f"{item.label}.xlsx").write_bytes(xlsx_bytes(rows, title, stamp, notice))
        done.add(item.label)
    return done


def download_links(item: Captioned, up: str = "") -> str:
    """The caption's links to the table's CSV and XLSX (HTML)."""
    what = html_text(f"{item.display_number}（{item.caption}）")
    href = f"{up}{DOWNLOADS}/{html_text(item.label)}"
    return (f' <span class="pb-downloads">下载：'
            f'<a href="{href}.csv" download aria-label="下载{what}的CSV文件">CSV</a> '
            f'<a href="{href}.xlsx" download aria-label="下载{what}的XLSX文件">XLSX</a></span>')


def with_download_links(hook: CaptionHook, labels: set[str]) -> CaptionHook:
    """`hook`, plus the download links on the HTML caption of every table in `labels`."""

    def caption(item: Captioned, target: str) -> str:
        text = hook(item, target)
        if target == "html" and item.kind == "tbl" and item.label in labels:
            text += download_links(item)
        return text

    return caption


# --- the data package ------------------------------------------------------------------------

EXTRA_FIELDS = [
    {"name": "name_zh", "title": "指标名称", "type": "string"},
    {"name": "name_en", "title": "Indicator (English)", "type": "string"},
    {"name": "file", "title": "数据文件", "type": "string",
     "description": "the store file (or village records) holding the row, relative to data/"},
    {"name": "rows", "title": "村级记录", "type": "string",
     "description": "for values computed from village records: the year and village ids used"},
    {"name": "submission", "title": "报送文件", "type": "string",
     "description": "the archived submission data/submissions/<sha256>.<ext>, when archived"},
    {"name": "labels", "title": "使用它的图表与数字", "type": "string",
     "description": "space-separated labels of the figures, tables and numbers that used it"},
]
DATA_FILE = "observations.csv"


def package_name(period: str) -> str:
    return f"data-{period}.zip"


def data_rows(rp: ReportPeriod, register: list[dict],
              frame: Callable[[], pd.DataFrame] | None = None) -> list[dict]:
    """Every observation row the report used, once, with its provenance and its labels.
    `frame`: gives the rows the report read (load_all with its cut-off), which hold every row
    it cites; asked only when the register cites a row. Default: load the store."""
    labels: dict[tuple, list[str]] = {}
    for e in register:
        for r in e["inputs"]:
            key = (r["indicator_id"], str(r["period"]), int(r["revision"]))
            if e["label"] not in labels.setdefault(key, []):
                labels[key].append(e["label"])
    if not labels:  # nothing cites a row (a book without data): an empty package
        return []
    registry = load_registry(rp.data)
    frame = frame() if frame is not None else observations.load_all(rp.data, registry)
    # Only the rows the register cites become records (the store may be far larger).
    used = [(i, str(p), int(r)) in labels
            for i, p, r in zip(frame["indicator_id"], frame["period"], frame["revision"],
                               strict=True)]
    out = []
    names = [f["name"] for f in FIELDS]
    # Per source file, not per row: a revised store cites each file thousands of times, and
    # finding its archived submission lists the archive folder.
    submissions: dict[str, str] = {}
    for rec in frame.loc[used].to_dict("records"):
        key = (rec["indicator_id"], str(rec["period"]), int(rec["revision"]))
        ind = registry.indicators.get(rec["indicator_id"])
        sha = rec.get("file_sha256") or ""
        if sha not in submissions:
            sub = paths.archived_submission(rp.data, sha)
            submissions[sha] = rp.rel(sub) if sub else ""
        row = {name: _plain(rec.get(name)) for name in names}
        row["value"] = "" if rec["value"] != rec["value"] else format(float(rec["value"]), "g")
        row.update(name_zh=ind.name_zh if ind else "", name_en=ind.name_en if ind else "",
                   file=_plain(rec.get("file")), rows=_plain(rec.get("rows")),
                   submission=submissions[sha], labels=" ".join(labels[key]))
        out.append(row)
    out.sort(key=lambda r: (r["indicator_id"], r["period"], int(r["revision"])))
    return out


OTHER_FILE = "other_inputs.csv"
OTHER_FIELDS = [
    {"name": "input_id", "title": "输入编号", "type": "string",
     "description": "what the row is: villages (village records), statement:…, project:…, "
                    "evaluation:… (see the register in manifest.json)"},
    {"name": "period", "title": "期间", "type": "string"},
    {"name": "revision", "title": "修订版次", "type": "integer"},
    {"name": "file", "title": "数据文件", "type": "string"},
    {"name": "file_sha256", "title": "来源文件SHA256", "type": "string"},
    {"name": "rows", "title": "所用记录", "type": "string"},
    {"name": "submission", "title": "报送文件", "type": "string"},
    {"name": "labels", "title": "使用它的图表与数字", "type": "string"},
]


def other_rows(rp: ReportPeriod, register: list[dict]) -> list[dict]:
    """The register's input rows that are not indicator observations (village records,
    department statements, project ledgers, evaluations), once each, with their labels."""
    out: dict[tuple, dict] = {}
    for e in register:
        for r in e["inputs"]:
            if str(r["indicator_id"]).startswith("ind_"):
                continue
            key = (str(r["indicator_id"]), str(r["period"]), int(r["revision"]),
                   r.get("file") or "", r.get("rows") or "")
            row = out.get(key)
            if row is None:
                sub = paths.archived_submission(rp.data, r.get("file_sha256") or "")
                row = out[key] = {
                    "input_id": key[0], "period": key[1], "revision": str(key[2]),
                    "file": key[3], "file_sha256": r.get("file_sha256") or "", "rows": key[4],
                    "submission": rp.rel(sub) if sub else "", "labels": ""}
            if e["label"] not in row["labels"].split():
                row["labels"] = (row["labels"] + " " + e["label"]).strip()
    return [out[k] for k in sorted(out)]


def _plain(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


NOTICE_FIELD = {
    "name": "notice", "title": NOTICE_HEADER, "type": "string",
    "description": f"{SAMPLE_NOTICE} on every row: the report used sample data, as every "
                   "page of it says (present only then); which observations are sample "
                   "the status column tells (sample)"}


def _fields(sample: bool = False) -> list[dict]:
    fields = []
    for f in FIELDS:
        f = json.loads(json.dumps(f))
        if f["name"] == "received_at":
            f["type"] = "string"  # ISO text; empty for derived rows
        if f["name"] == "value":
            f["constraints"] = {}
        fields.append(f)
    return fields + EXTRA_FIELDS + ([NOTICE_FIELD] if sample else [])


def package_descriptor(rp: ReportPeriod, sample: bool = False) -> dict:
    """The data package's descriptor; `sample`: the report used sample data, which its
    title, description and a `notice` field of each resource then say."""
    mark = f"（{SAMPLE_NOTICE}）" if sample else ""
    about = ({"description": f"{SAMPLE_NOTICE}：本期报告使用了示例数据（planbook sample 生成），"
                             "数字不是官方统计；observations.csv 的 status 列为 sample 的行是示例数据。"
                             "许可协议（CC BY 4.0）不改变这一点：示例数据是虚构的。"}
             if sample else {})
    notice = [NOTICE_FIELD] if sample else []
    return {
        "profile": "tabular-data-package",
        "name": f"jiande-plan-report-{rp.code}".lower(),
        "title": f"建德市实施方案评估报告{rp.params.label_zh}所用数据"
                 f"（数据截至{rp.params.as_of_zh}）{mark}",
        **about,
        "licenses": DATA_LICENSES,
        "version": str(rp.edition),
        **({"created": f"{rp.edition_date[:10]}T00:00:00Z"} if rp.edition_date else {}),
        "resources": [{
            "name": "observations", "path": DATA_FILE, "profile": "tabular-data-resource",
            "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
            "title": f"本期报告使用的观测值及其来源{mark}",
            "schema": {"fields": _fields(sample),
                       "primaryKey": ["indicator_id", "period", "revision"]},
        }, {
            "name": "other_inputs", "path": OTHER_FILE, "profile": "tabular-data-resource",
            "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
            "title": f"本期报告使用的其他输入（村级台账、进展报送、项目台账、评估意见）{mark}",
            "schema": {"fields": OTHER_FIELDS + notice},
        }],
    }


def _csv_row(row: dict) -> dict:
    """A data package row (every value a string) neutralised like the tables' CSVs: a
    department's 数据来源 or 备注 "=HYPERLINK(…)" is text in any spreadsheet; numbers stay."""
    return {k: csv_cell(v) for k, v in row.items()}


def write_data_package(rp: ReportPeriod, register: list[dict], out: Path,
                       frame: Callable[[], pd.DataFrame] | None = None, *,
                       sample: bool = False) -> Path:
    """downloads/data-<P>.zip: datapackage.json + observations.csv and other_inputs.csv
    (UTF-8 with a BOM, like the tables' CSVs: Excel on a Chinese Windows reads them right;
    frictionless and the csv readers given utf-8-sig skip it). `sample`: the report used
    sample data: both CSVs get the `notice` column (数据说明) saying so."""
    extra = {NOTICE_FIELD["name"]: SAMPLE_NOTICE} if sample else {}
    rows = [{**r, **extra} for r in data_rows(rp, register, frame)]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=[f["name"] for f in _fields(sample)],
                            lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(_csv_row(r) for r in rows)
    other = io.StringIO()
    writer = csv.DictWriter(other, fieldnames=[f["name"] for f in OTHER_FIELDS]
                            + list(extra), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(_csv_row({**r, **extra}) for r in other_rows(rp, register))
    descriptor = json.dumps(package_descriptor(rp, sample), ensure_ascii=False, indent=2) + "\n"
    folder = out / DOWNLOADS
    folder.mkdir(parents=True, exist_ok=True)
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("datapackage.json", descriptor.encode("utf-8"))
        z.writestr(DATA_FILE, buf.getvalue().encode("utf-8-sig"))
        z.writestr(OTHER_FILE, other.getvalue().encode("utf-8-sig"))
    path = folder / package_name(rp.code)
    path.write_bytes(normalised_zip(raw.getvalue()))
    return path
