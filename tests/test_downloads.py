"""The table downloads' workbook writer: the bytes openpyxl writes, without openpyxl's cost."""

from __future__ import annotations

import random
from datetime import datetime

import pytest

from planbook.book import downloads

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


@pytest.mark.parametrize("rows", EDGES)
@pytest.mark.parametrize("title", ["表 2.1 标题", "a & <b>", "{title}", " spaced "])
def test_workbook_bytes_are_openpyxls(rows, title):
    expected = _openpyxl_or_error(rows, title, STAMP)
    try:
        got = downloads.xlsx_bytes(rows, title, STAMP)
    except Exception as exc:  # noqa: BLE001 - compared with openpyxl's own error
        got = type(exc)
    assert got == expected


def test_random_tables_match_openpyxl():
    rng = random.Random(16)
    alphabet = ["a", "B", "中", " ", "&", "<", ">", '"', "=", "-", "@", "1", "𝕏", "{", "}", "\n"]
    fast = 0
    for _ in range(300):
        rows = [["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8))).strip()
                 for _ in range(rng.randint(1, 30))] for _ in range(rng.randint(1, 5))]
        stamp = rng.choice([STAMP, datetime(2025, 12, 31, 0, 0, 0, 5)])
        assert downloads.xlsx_bytes(rows, "t", stamp) == _openpyxl_or_error(rows, "t", stamp)
        fast += downloads._parts.workbook(rows, "t", stamp) is not None
    assert fast > 100  # the direct writer, not only the fallback, was compared


def _openpyxl_or_error(rows, title, stamp):
    try:
        return downloads._xlsx_openpyxl(rows, title, stamp)
    except Exception as exc:  # noqa: BLE001
        return type(exc)
