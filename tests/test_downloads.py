"""The table downloads' workbook writer: the bytes openpyxl writes, without openpyxl's cost;
and the sample notice a download of a report on sample data carries (CSV column, XLSX first
row), absent from a real-data report's."""

from __future__ import annotations

import random
from datetime import datetime

import pytest

from planbook.book import downloads
from planbook.book.spec import SAMPLE_NOTICE

STAMP = datetime(2026, 3, 31)
EDGES = [
    [["标签", "数值"], ["a & b", "<1>"], ["=SUM(A1)", "-3"], ["@x", "+y"]],
    [["只有一格"]],
    [["", "空"], ["x", ""]],  # empty cells
    [["a", "b", "c"], ["ragged"]],  # rows of different widths
    [[f"c{i}" for i in range(60)]],  # columns past Z and AZ
    [["line\nbreak", "tab\tinside", 'quote " and \'']],
    [[" leading space"], ["trailing "]],  # openpyxl marks these xml:space
    [["bad \x01 char"]],  # openpyxl refuses it
    [["x" * 40000]],  # openpyxl cuts it to 32767
    [["a"], []],  # an empty row
    [["{when}", "PBPROBETITLE", "𝕏"]],
]


@pytest.mark.parametrize("notice", ["", SAMPLE_NOTICE])
@pytest.mark.parametrize("rows", EDGES)
@pytest.mark.parametrize("title", ["表 2.1 标题", "a & <b>", "{title}", " spaced "])
def test_workbook_bytes_are_openpyxls(rows, title, notice):
    expected = _openpyxl_or_error(rows, title, STAMP, notice)
    try:
        got = downloads.xlsx_bytes(rows, title, STAMP, notice)
    except Exception as exc:  # noqa: BLE001 - compared with openpyxl's own error
        got = type(exc)
    assert got == expected


@pytest.mark.parametrize("notice", ["", SAMPLE_NOTICE])
def test_random_tables_match_openpyxl(notice):
    rng = random.Random(16)
    alphabet = ["a", "B", "中", " ", "&", "<", ">", '"', "=", "-", "@", "1", "𝕏", "{", "}", "\n"]
    # numbers as the tables print them, each with its format (1,449 → #,##0; 37.5% → 0.0%)
    numbers = ["0", "-3", "7", "2025", "1,449", "12,345.6", "99.30", "0.05", "-0.0", "37.5%",
               "100%", "1,000.25%", "467.7", "3.14159", "12345678901234567890"]
    fast = numbered = 0
    for _ in range(400):
        rows = [[rng.choice(numbers) if rng.random() < 0.3 else
                 "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8))).strip()
                 for _ in range(rng.randint(1, 30))] for _ in range(rng.randint(1, 5))]
        stamp = rng.choice([STAMP, datetime(2025, 12, 31, 0, 0, 0, 5)])
        assert (downloads.xlsx_bytes(rows, "t", stamp, notice)
                == _openpyxl_or_error(rows, "t", stamp, notice))
        formats = downloads._formats(rows)
        direct = downloads._parts[notice, formats].workbook(rows, "t", stamp) is not None
        fast += direct
        numbered += direct and bool(formats)
    # the direct writer, not only the fallback, was compared, on tables with numbers too
    assert fast > 150 and numbered > 80


def _openpyxl_or_error(rows, title, stamp, notice=""):
    try:
        return downloads._xlsx_openpyxl(rows, title, stamp, notice)
    except Exception as exc:  # noqa: BLE001
        return type(exc)


# --- the sample notice -----------------------------------------------------------------------

TABLE = [["指标", "2025年", "灯号"], ["地区生产总值", "1,020", "绿灯"], ["=1", "-3+1", "@x"]]


def test_workbook_of_a_sample_report_says_so_above_the_header():
    import io

    import pandas as pd
    from openpyxl import load_workbook

    raw = downloads.xlsx_bytes(TABLE, "表 1 t", STAMP, SAMPLE_NOTICE)
    sheet = load_workbook(io.BytesIO(raw)).active
    assert sheet["A1"].value == SAMPLE_NOTICE and sheet["A1"].font.b
    assert [str(r) for r in sheet.merged_cells.ranges] == ["A1:C1"]  # over the table's width
    assert [[c.value for c in r] for r in sheet.iter_rows(min_row=2)] == [
        ["指标", "2025年", "灯号"], ["地区生产总值", 1020, "绿灯"], ["'=1", "'-3+1", "'@x"]]
    assert sheet["B3"].number_format == "#,##0"  # a number, shown as printed (1,020)
    assert sheet["A2"].font.b and not sheet["A3"].font.b  # the header is still the bold row
    # A reader skipping the notice row gets the table, header and all.
    frame = pd.read_excel(io.BytesIO(raw), header=1)
    assert list(frame.columns) == TABLE[0]
    assert frame.iloc[0].tolist() == ["地区生产总值", 1020, "绿灯"]
    # A real-data report's workbook: the table from row 1, no merged cells, no notice.
    plain = load_workbook(io.BytesIO(downloads.xlsx_bytes(TABLE, "表 1 t", STAMP))).active
    assert plain["A1"].value == "指标" and not plain.merged_cells.ranges
    assert SAMPLE_NOTICE not in str([[c.value for c in r] for r in plain.iter_rows()])


def test_csv_of_a_sample_report_has_the_notice_column_on_every_row():
    import csv
    import io

    import pandas as pd

    raw = downloads.csv_bytes(TABLE + [["短行"]], SAMPLE_NOTICE)
    assert raw.startswith(b"\xef\xbb\xbf")  # still UTF-8 with a BOM for Excel
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["指标", "2025年", "灯号", "数据说明"]
    assert all(r[-1] == SAMPLE_NOTICE for r in rows[1:]) and {len(r) for r in rows} == {4}
    assert rows[2][:3] == ["'=1", "'-3+1", "'@x"] and rows[3] == ["短行", "", "", SAMPLE_NOTICE]
    frame = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(frame.columns) == rows[0] and set(frame["数据说明"]) == {SAMPLE_NOTICE}
    plain = downloads.csv_bytes(TABLE).decode("utf-8-sig")
    assert plain.splitlines()[0] == "指标,2025年,灯号" and "数据说明" not in plain
    assert SAMPLE_NOTICE not in plain
