"""Reading a submitted .csv or .xlsx into tables of text cells, rows numbered as shown.

Streaming and bounded: blank rows are dropped as they pass, a sheet is read to its last real
row whatever its recorded dimensions, and an xlsx is refused unread when it unzips too large.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from planbook.errors import Problem
from planbook.store.submission import (
    ALIASES,
    FIELDS,
    HEADER_SCAN_ROWS,
    MAX_ROWS,
    MAX_UNZIPPED_BYTES,
    TEMPLATE_EXTRAS,
    mib,
)


@dataclass
class Table:
    """One sheet (or the CSV) as text cells: headers as written, row numbers as shown."""

    sheet: str | None
    header_row: int
    headers: list[str]
    cells: pd.DataFrame  # columns 0..n-1, all text, "" for empty
    rows: np.ndarray  # spreadsheet row number of each cells row
    uncached: bool = False  # some cells hold formula text that has no cached result

    def cell(self, pos: int | None, row: int) -> str | None:
        """The Excel name (G4) of the cell at header position `pos` in row `row`."""
        return cell_name(self.sheet, pos, row)


def cell_name(sheet: str | None, pos: int | None, row: int) -> str | None:
    """G4 for header position 6 in row 4 of a sheet; None for a CSV (no cell names) or an
    absent column. A sheet is read from column A, so position 0 is A."""
    if not isinstance(sheet, str) or pos is None:  # a CSV's frames carry None or NaN
        return None
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(pos + 1)}{row}"


def header_key(text: str) -> str:
    return re.sub(r"[\s*＊]", "", unicodedata.normalize("NFKC", str(text))).lower()


HEADER_MAP = {
    **{header_key(h): f for f, pair in FIELDS.items() for h in pair},
    **{header_key(k): v for k, v in ALIASES.items()},
}
EXTRA_KEYS = {header_key(h) for pair in TEMPLATE_EXTRAS.values() for h in pair}


def _is_header(cells: Iterable[object]) -> bool:
    """The indicator id column and two more known ones; a missing column is reported later."""
    found = {HEADER_MAP.get(header_key(c)) for c in cells if c not in (None, "")} - {None}
    return "indicator_id" in found and len(found) >= 3


def read_csv(content: bytes, name: str, problems: list[Problem], *,
              header: Callable[[Iterable[object]], bool] = _is_header) -> list[Table]:
    """`header` recognises the header row (store.statements passes its own)."""
    text = _decode(content)
    if text is None:
        problems.append(Problem("文件编码无法识别（不是 UTF-8 或 GBK）", file=name,
                                expected="另存为“CSV UTF-8（逗号分隔）”或 GBK 编码的 CSV"))
        return []
    head = text[:20000].splitlines()[:HEADER_SCAN_ROWS]
    delimiter = ","
    for i, line in enumerate(head):
        for delim in (",", "\t", ";"):
            cells = next(csv.reader([line], delimiter=delim), [])
            if header(cells):
                delimiter = delim
                break
        else:
            continue
        header_index, headers = i, [c.strip() for c in cells]
        break
    else:
        problems.append(Problem("找不到表头", file=name, row=1,
                                expected="第一行为列名：" + "、".join(
                                    zh for zh, _ in FIELDS.values())))
        return []
    width = len(headers)
    kept: list[pd.DataFrame] = []
    filled = 0
    try:
        # The header row is read as data so that the C parser refuses a row with more
        # fields than the header instead of silently dropping them. Read in chunks, blank
        # rows dropped as they pass: a file of a million empty lines costs no memory.
        chunks = pd.read_csv(io.StringIO(text), sep=delimiter, header=None, dtype=str,
                             skiprows=header_index, keep_default_na=False, na_filter=False,
                             skip_blank_lines=False, engine="c", chunksize=_CHUNK_ROWS)
        for chunk in chunks:
            chunk = chunk.reindex(columns=range(width)).fillna("")
            chunk = chunk[chunk.ne("").any(axis=1)]
            filled += len(chunk)
            if filled > MAX_ROWS + 1:  # + the header row
                problems.append(_too_many_rows(name, None))
                return []
            kept.append(chunk)
    except (pd.errors.ParserError, ValueError) as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if m:  # the parser counts lines from the top of the file, as a spreadsheet does
            problems.append(Problem("列数多于表头", file=name,
                                    row=int(m[2]), value=f"{m[3]} 列",
                                    expected=f"{m[1]} 列，与表头相同"))
        else:
            problems.append(Problem("CSV 格式错误，无法逐行读取（如引号不成对）", file=name,
                                    expected="每行的列数与表头相同"))
        return []
    cells = pd.concat(kept) if kept else pd.DataFrame(columns=range(width), dtype=object)
    cells = cells[cells.index > 0]  # record 0 is the header
    # record n (from the header, 0) is spreadsheet row header_index + 1 + n
    rows = cells.index.to_numpy() + header_index + 1
    cells = cells.reset_index(drop=True)
    return [Table(sheet=None, header_row=header_index + 1, headers=headers, cells=cells,
                   rows=rows)]


_CHUNK_ROWS = 100_000


def _too_many_rows(name: str, sheet: str | None) -> Problem:
    return Problem(f"行数过多：超过 {MAX_ROWS:,} 行数据", file=name, sheet=sheet,
                   expected=f"每个文件不超过 {MAX_ROWS:,} 行数据；拆分为多个文件")


def _decode(content: bytes) -> str | None:
    """UTF-8 (with or without BOM) first, then GBK (as GB18030, its superset)."""
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    for encoding in ("utf-8", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def read_xlsx(content: bytes, name: str, problems: list[Problem],
               warnings: list[str] | None = None, *,
               header: Callable[[Iterable[object]], bool] = _is_header) -> list[Table]:
    import zipfile

    import openpyxl

    # The unzipped size is checked from the zip directory before anything is inflated;
    # zipfile never inflates a member past its declared size, so the check bounds the rest.
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            unzipped = sum(i.file_size for i in zf.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        problems.append(Problem("无法作为 xlsx 读取（文件损坏或不是 Excel 工作簿）", file=name,
                                expected="Excel 工作簿（.xlsx）或 CSV"))
        return []
    if unzipped > MAX_UNZIPPED_BYTES:
        problems.append(Problem(
            f"解压后过大：超过 {mib(MAX_UNZIPPED_BYTES)}", file=name,
            value=mib(unzipped), expected=f"解压后不超过 {mib(MAX_UNZIPPED_BYTES)} 的工作簿"))
        return []
    try:
        values = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        formulas = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception:  # openpyxl raises zipfile, KeyError, InvalidFileException …
        problems.append(Problem("无法作为 xlsx 读取（文件损坏或不是 Excel 工作簿）", file=name,
                                expected="Excel 工作簿（.xlsx）或 CSV"))
        return []
    try:
        tables = []
        for ws in values.worksheets:
            table = _read_sheet(ws, formulas[ws.title], name, problems, header)
            if table is None:
                continue
            if getattr(ws, "sheet_state", "visible") != "visible":
                # Rows nobody sees in Excel must not reach the store unseen.
                problems.append(Problem("隐藏的工作表含数据", file=name,
                                        sheet=ws.title, expected="取消隐藏并核对，或删除该工作表"))
                continue
            tables.append(table)
    finally:
        values.close()
        formulas.close()
    if not tables and not problems:
        problems.append(Problem("找不到表头：没有含列名行的工作表", file=name,
                                expected="列名行包含 指标编号、期间、数值"))
    if len(tables) > 1 and warnings is not None:
        warnings.append(f"{name}：读取了 {len(tables)} 个工作表（"
                        + "、".join(str(t.sheet) for t in tables) + "）")
    return tables


_CONTENT = re.compile(rb"<(?:\w+:)?(?:v|is|f)[\s>/]")
_ROW_NUMBER = re.compile(rb"\sr\s*=\s*[\"'](\d+)[\"']")


def _last_filled_row(ws) -> int | None:
    """The number of the sheet's last row holding a value or formula, found by a scan of the
    sheet's XML (fast: no cell objects), so reading stops at the end of the data however many
    blank or formatted-but-empty rows follow; 0 for no such row, None when unknown."""
    try:
        xml = ws.parent._archive.read(ws._worksheet_path)  # openpyxl's read-only internals
    except Exception:  # noqa: BLE001 - another openpyxl layout: read the sheet to its end
        return None
    last = None
    for match in _CONTENT.finditer(xml):
        last = match
    if last is None:
        return 0
    end = last.start()
    start = end
    while True:
        start = xml.rfind(b"row", 0, start)
        if start < 1:
            return None
        if xml[start - 1:start] in (b"<", b":") and xml[start + 3:start + 4] in b" \t\r\n>":
            break
    tag_end = xml.find(b">", start)
    number = _ROW_NUMBER.search(xml, start, tag_end)
    return int(number[1]) if number else None


def _read_sheet(ws, ws_formulas, name: str, problems: list[Problem],
                header: Callable[[Iterable[object]], bool] = _is_header) -> Table | None:
    """One sheet, streamed: the header row, then the filled rows only, with their numbers.

    The sheet's recorded dimensions are ignored (a sheet "A1:G1048576" of blank rows is
    read to its last real row, not padded to a million); blank rows are dropped as they
    pass, so memory grows with the filled rows only (at most MAX_ROWS)."""
    ws.reset_dimensions()
    ws_formulas.reset_dimensions()
    last = _last_filled_row(ws)
    if last == 0:
        return None
    rows_v = ws.iter_rows(min_row=1, max_row=last)
    # Formulas whose cached result is missing read as empty with data_only=True; the
    # formula text, read in step from the second load, stands in so validation can name it.
    rows_f = ws_formulas.iter_rows(min_row=1, max_row=last)
    header_at = None
    for i, r in enumerate(rows_v):
        next(rows_f, None)
        if header(c.value for c in r):
            header_at, headers = i, [_cell_text(c) for c in r]
            break
        if i + 1 >= HEADER_SCAN_ROWS:
            return None
    if header_at is None:
        return None
    while headers and headers[-1] == "":
        headers.pop()
    width = len(headers)
    body, numbers, uncached = [], [], False
    for n, (r, f) in enumerate(zip(rows_v, rows_f, strict=False), start=header_at + 2):
        texts = [_cell_text(c) for c in r[:width]]
        texts += [""] * (width - len(texts))
        for j, c in enumerate(f[:width]):
            if texts[j] == "" and getattr(c, "data_type", None) == "f":
                texts[j] = str(c.value)
                uncached = True
        if not any(texts):
            continue
        if len(body) >= MAX_ROWS:
            problems.append(_too_many_rows(name, ws.title))
            return None
        body.append(texts)
        numbers.append(n)
    cells = pd.DataFrame(body, columns=list(range(width)), dtype=object)
    return Table(sheet=ws.title, header_row=header_at + 1, headers=headers, cells=cells,
                  rows=np.asarray(numbers, dtype=np.int64), uncached=uncached)


def _cell_text(cell) -> str:
    v = cell.value
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            return str(v)
        # Excel turns a typed "55%" into 0.55 shown with a percent format.
        if "%" in (cell.number_format or ""):
            return f"{_number_text(round(v * 100, 10))}%"
        return _number_text(v)
    if isinstance(v, datetime | date):
        # Excel turns a typed 2025-09 into the date 2025-09-01: read it back as the month.
        if v.day == 1 and (not isinstance(v, datetime) or v.time() == datetime.min.time()):
            return f"{v.year}-{v.month:02d}"
        return v.isoformat()
    return str(v)


def _number_text(v: float) -> str:
    f = float(v)
    return str(int(f)) if f.is_integer() and abs(f) < 1e15 else repr(f)


