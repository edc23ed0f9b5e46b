"""Excel-ready table downloads (issue 28): a plain number is a number with the format it is
printed in, a value printed with its unit and year is three columns (值, 单位, 年份), text that
looks like a formula stays text; the CSV holds the same table."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

from openpyxl import load_workbook
from support import as_excel

from planbook.book.downloads import csv_bytes, excel_columns, excel_number, xlsx_bytes

TABLE = [
    ["指标", "目标", "基期", "最新值", "绿灯占比", "编号", "期间"],
    ["规上工业总产值", "2027年≥1,376亿元", "688亿元（2022）", "1,449亿元（2025）", "37.5%", "007",
     "2025年"],
    ["里程碑", "2025年底前完成", "暂无数据", "推进中（2025）", "40.0%", "012", "2024年"],
    ["=HYPERLINK(\"x\")", "—", "", "99.30%（2025）", "0%", "-3", "2023年"],
]


def test_value_columns_are_split_into_value_unit_and_year():
    rows = excel_columns(TABLE)
    assert rows[0] == ["指标", "目标", "基期", "基期单位", "基期年份", "最新值", "最新值单位",
                       "最新值年份", "绿灯占比", "编号", "期间"]
    assert rows[1][2:8] == ["688", "亿元", "2022", "1,449", "亿元", "2025"]
    # a cell without a number stays whole; a word with its year keeps the year apart
    assert rows[2][2:8] == ["暂无数据", "", "", "推进中", "", "2025"]
    assert rows[3][5:8] == ["99.30", "%", "2025"]
    # text columns (a target, a period 2025年, an id with a leading zero) are left alone
    assert [r[1] for r in rows] == [r[1] for r in TABLE]
    assert [r[-2:] for r in rows] == [r[-2:] for r in TABLE]
    assert excel_columns([["指标", "值"], ["a", "x"]]) == [["指标", "值"], ["a", "x"]]


def test_numbers_keep_the_format_they_are_printed_in():
    assert excel_number("1,449") == (1449, "#,##0")
    assert excel_number("1,000.25") == (1000.25, "#,##0.00")
    assert excel_number("99.30") == (99.3, "0.00")
    assert excel_number("37.5%") == (0.375, "0.0%")
    assert excel_number("40.4%") == (0.404, "0.0%")  # the decimal shown, not 0.40399999…
    assert excel_number("-3") == (-3, "0")
    for text in ("007", "+3", "1,44", "2025年", "1.449亿元", "", "—", "1e5"):
        assert excel_number(text) is None, text


def test_the_workbook_holds_numbers_and_the_csv_the_same_table():
    rows = excel_columns(TABLE)
    sheet = load_workbook(io.BytesIO(xlsx_bytes(rows, "表 1 t", datetime(2026, 3, 31)))).active
    cells = [["" if c.value is None else c.value for c in r] for r in sheet.iter_rows()]
    table = list(csv.reader(io.StringIO(csv_bytes(rows).decode("utf-8-sig"))))
    assert cells == as_excel(table)  # the CSV's cells, a number where Excel reads one
    assert sheet["F2"].value == 1449 and sheet["F2"].number_format == "#,##0"
    assert sheet["F4"].value == 99.3 and sheet["F4"].number_format == "0.00"
    assert sheet["I2"].value == 0.375 and sheet["I2"].number_format == "0.0%"
    assert sheet["J2"].value == "007" and sheet["J2"].data_type == "s"
    assert sheet["A1"].value == "指标" and sheet["A1"].data_type == "s"  # headers stay text
    # a formula-like text is neutralised in both files (escape.csv_cell)
    assert sheet["A4"].value == "'=HYPERLINK(\"x\")" and sheet["A4"].data_type == "s"
    assert table[3][0] == "'=HYPERLINK(\"x\")"


def test_the_built_reports_value_cells_are_numeric(sample_build):
    folder = sample_build / "reports" / "2025" / "html" / "downloads"
    sheet = load_workbook(folder / "tbl-county-s1.xlsx").active
    header = [c.value for c in sheet[2]]
    assert header[:9] == ["指标", "牵头单位", "目标", "基期", "基期单位", "基期年份", "最新值",
                          "最新值单位", "最新值年份"]
    body = list(sheet.iter_rows(min_row=3, values_only=True))
    # a value is a number; a cell without one (暂无数据, —) stays text
    assert body and all(isinstance(r[3], int | float) or not re.search(r"\d", r[3])
                        for r in body)
    assert all(isinstance(r[5], int) for r in body if r[5] is not None)
    numeric = text_numbers = 0
    for path in folder.glob("tbl-*.xlsx"):
        for row in load_workbook(path).active.iter_rows(min_row=3):
            for c in row:
                numeric += isinstance(c.value, int | float)
                text_numbers += isinstance(c.value, str) and excel_number(c.value) is not None
    assert text_numbers == 0 and numeric > 1000  # no number of the book is stored as text
