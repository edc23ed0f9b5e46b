"""Department templates: what a workbook contains, and template → filled → ingest round trips."""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from planbook.plan.periods import parse_period
from planbook.plan.registry import load_registry
from planbook.store.intake import ingest
from planbook.store.observations import latest, load_observations
from planbook.store.templates import HEADERS, target_text, write_templates

FIXTURES = Path(__file__).parent / "fixtures" / "intake"
TODAY = date(2026, 11, 15)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(FIXTURES / "plan", folder / "plan")
    return folder


def templates(data: Path, period: str = "2025") -> dict[str, Path]:
    out = data.parent / "templates"
    written = write_templates(load_registry(data), parse_period(period), out, data)
    return {p.name: p for p in written}


def rows_of(ws) -> dict[str, dict]:
    """Data rows keyed by indicator id, with their spreadsheet row number."""
    header = [c.value for c in ws[1]]
    out = {}
    for r in ws.iter_rows(min_row=2):
        values = dict(zip(header, (c.value for c in r), strict=True))
        out[values["指标编号"]] = {**values, "_row": r[0].row}
    return out


def test_one_workbook_and_csv_twin_per_lead_department(data):
    files = templates(data)
    assert sorted(files) == ["fagai-2025.csv", "fagai-2025.xlsx", "jingxin-2025.csv",
                             "jingxin-2025.xlsx", "nongye-2025.csv", "nongye-2025.xlsx"]
    wb = openpyxl.load_workbook(files["nongye-2025.xlsx"])
    assert wb.sheetnames == ["市农业农村局 2025", "说明"]
    # village-derived indicators are computed from village records, so not asked for
    assert list(rows_of(wb.worksheets[0])) == ["farmland", "pigs"]
    assert files["nongye-2025.csv"].read_bytes().startswith(b"\xef\xbb\xbf")  # BOM for Excel


def test_data_sheet_contents_and_protection(data):
    wb = openpyxl.load_workbook(templates(data)["fagai-2025.xlsx"])
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]] == HEADERS
    assert HEADERS[:1] == ["指标编号"] and "数值" in HEADERS and "数据来源" in HEADERS
    rows = rows_of(ws)
    gdp = rows["gdp"]
    assert gdp["目标值"] == "≥1000（2025年）；≥1376（2027年）"
    assert (gdp["单位"], gdp["期间"], gdp["数据状态"], gdp["上期值"]) == ("亿元", "2025",
                                                                     "部门报送", "暂无")
    assert gdp["数值"] is None
    assert ws.protection.sheet
    locked = {h: ws.cell(row=gdp["_row"], column=n).protection.locked
              for n, h in enumerate(HEADERS, 1)}
    assert locked == {"指标编号": True, "指标名称": True, "单位": True, "目标值": True,
                      "上期值": True, "期间": True, "数值": False, "数据状态": False,
                      "数据来源": False, "备注": False, "期间说明": True}
    assert ws.cell(row=gdp["_row"], column=HEADERS.index("期间") + 1).number_format == "@"


def test_value_cells_carry_data_validation(data):
    files = templates(data)
    wb = openpyxl.load_workbook(files["fagai-2025.xlsx"])
    ws = wb.worksheets[0]
    rows = rows_of(ws)
    col = openpyxl.utils.get_column_letter(HEADERS.index("数值") + 1)

    def rule(ind):
        ref = f"{col}{rows[ind]['_row']}"
        [dv] = [dv for dv in ws.data_validations.dataValidation if ref in dv.sqref]
        return dv

    share = rule("urbanization_rate")
    assert (share.type, share.operator, share.formula1, share.formula2) == (
        "decimal", "between", "0", "100")
    assert rule("gdp").type == "decimal"
    milestone = rule("detailed_plan")
    assert milestone.type == "custom" and "0.5" in milestone.formula1
    assert all(dv.showErrorMessage for dv in ws.data_validations.dataValidation)
    counts = openpyxl.load_workbook(files["jingxin-2025.xlsx"]).worksheets[0]
    [dv] = [dv for dv in counts.data_validations.dataValidation if dv.type == "decimal"]
    assert (dv.operator, dv.formula1) == ("greaterThanOrEqual", "0")


def test_instructions_sheet_in_chinese(data):
    wb = openpyxl.load_workbook(templates(data)["fagai-2025.xlsx"])
    text = "\n".join(str(c.value) for c in wb["说明"]["A"] if c.value)
    for phrase in ("填报说明", "数值（必填）", "1 = 已完成，0.5 = 推进中，0 = 未启动",
                   "planbook ingest", "退回", "期间尚未结束", "亿元"):
        assert phrase in text, phrase


def test_target_text_kinds(data):
    reg = load_registry(data)
    assert target_text(reg.indicators["pigs"]) == "每年≥10"
    assert target_text(reg.indicators["detailed_plan"]) == "2025年底前完成"


def test_last_value_is_the_latest_revision_before_the_period(data, tmp_path):
    f = tmp_path / "history.csv"
    f.write_text("指标编号,期间,数值,单位\n"
                 "gdp,2023,900,亿元\ngdp,2024-Q4,95,亿元\ngdp,2024,980,亿元\n"
                 "gdp,2025-Q1,240,亿元\ndetailed_plan,2024,0.5,\n", encoding="utf-8")
    ingest([f], data, today=TODAY)
    f2 = tmp_path / "revised.csv"
    f2.write_text("指标编号,期间,数值,单位\ngdp,2024,987,亿元\n", encoding="utf-8")
    ingest([f2], data, today=TODAY)
    rows = rows_of(openpyxl.load_workbook(templates(data)["fagai-2025.xlsx"]).worksheets[0])
    assert rows["gdp"]["上期值"] == "987（2024年）"  # revision 2; the year, not its Q4
    assert rows["detailed_plan"]["上期值"] == "推进中（2024年）"
    later = rows_of(openpyxl.load_workbook(
        templates(data, "2025-Q2")["fagai-2025-Q2.xlsx"]).worksheets[0])
    assert later["gdp"]["上期值"] == "240（2025年第一季度）"


def test_xlsx_round_trip(data):
    path = templates(data)["fagai-2025.xlsx"]
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    rows = rows_of(ws)
    value, source = HEADERS.index("数值") + 1, HEADERS.index("数据来源") + 1
    ws.cell(row=rows["gdp"]["_row"], column=value, value="1,020")  # typed as text
    ws.cell(row=rows["gdp"]["_row"], column=source, value="2025年统计公报")
    cell = ws.cell(row=rows["urbanization_rate"]["_row"], column=value, value=0.731)
    cell.number_format = "0.0%"  # what Excel stores when someone types 73.1%
    ws.cell(row=rows["detailed_plan"]["_row"], column=value, value=1)
    wb.save(path)
    report = ingest([path], data, today=TODAY)
    result = report.files[0]
    assert (result.rows_read, result.rows_accepted, result.rows_skipped) == (3, 3, 0)
    got = latest(load_observations(data)).set_index("indicator_id")
    assert got.loc["gdp", "value"] == 1020 and got.loc["gdp", "source"] == "2025年统计公报"
    assert got.loc["urbanization_rate", "value"] == pytest.approx(73.1)
    assert got.loc["detailed_plan", "value"] == 1
    assert set(got["period"]) == {"2025"} and set(got["status"]) == {"provisional"}
    assert set(got["submitted_by"]) == {"市发改局"}


def test_blank_template_rows_are_skipped_not_refused(data):
    path = templates(data)["nongye-2025.xlsx"]
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    ws.cell(row=rows_of(ws)["pigs"]["_row"], column=HEADERS.index("数值") + 1, value=10.4)
    wb.save(path)
    report = ingest([path], data, today=TODAY)
    result = report.files[0]
    assert (result.rows_read, result.rows_accepted, result.rows_skipped) == (1, 1, 1)
    assert "未填写的 1 行已跳过" in report.summary_lines()[0]


def test_unfilled_template_is_skipped_not_refused(data):
    report = ingest([templates(data)["jingxin-2025.xlsx"]], data, today=TODAY, check=False)
    assert report.ok and report.files[0].outcome == "empty"
    assert "模板未填写任何数值" in report.summary_lines()[0]


def test_csv_twin_round_trip_saved_as_gbk(data, tmp_path):
    twin = templates(data)["jingxin-2025.csv"]
    with open(twin, encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0] == HEADERS
    table[1][HEADERS.index("数值")] = "１２"
    table[1][HEADERS.index("备注")] = "含技改转规企业"
    filled = tmp_path / "jingxin-2025-filled.csv"
    # what Excel on Chinese Windows writes when saving as "CSV (逗号分隔)"
    with open(filled, "w", encoding="gbk", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows(table)
    report = ingest([filled], data, today=TODAY)
    assert report.ok
    [row] = load_observations(data).itertuples()
    assert (row.indicator_id, row.period, row.value, row.note) == (
        "new_industrial_firms", "2025", 12, "含技改转规企业")


def test_monthly_template_period(data):
    wb = openpyxl.load_workbook(templates(data, "2026-10")["jingxin-2026-10.xlsx"])
    rows = rows_of(wb.worksheets[0])
    assert rows["new_industrial_firms"]["期间"] == "2026-10"


def test_no_template_cell_is_a_formula(tmp_path):
    """Targets like "=1（2027年）" once became 28 formula cells: every cell, in the workbooks
    and their CSV twins, is text or a number, never something Excel would run."""
    import csv as csvlib

    from planbook.store.templates import FORMULA_START, write_templates

    data = Path(__file__).resolve().parents[1] / "data"
    written = write_templates(load_registry(data), parse_period("2025"), tmp_path, data)
    risky = []
    for path in written:
        if path.suffix == ".xlsx":
            for ws in openpyxl.load_workbook(path).worksheets:
                for row in ws.iter_rows():
                    for c in row:
                        if c.data_type == "f" or (isinstance(c.value, str) and c.value.startswith(
                                FORMULA_START) and not c.quotePrefix):
                            risky.append(f"{path.name}!{c.coordinate} {c.value!r}")
        else:
            with open(path, encoding="utf-8-sig", newline="") as fh:
                for row in csvlib.reader(fh):
                    risky += [f"{path.name} {v!r}" for v in row if v.startswith(FORMULA_START)
                              and not v.lstrip("+-").replace(".", "", 1).isdigit()]
    assert risky == []
    text = (tmp_path / "fagai-2025.csv").read_text(encoding="utf-8-sig")
    assert "＝" in text or "≥" in text


def test_a_sample_last_value_says_so_and_the_template_still_ingests(data, tmp_path):
    """A 上期值 that is sample data is marked in the cell (workbook and CSV twin) and the 说明
    sheet explains the mark; a real figure of the same period replaces it, unmarked."""
    f = tmp_path / "sample.csv"
    f.write_text("指标编号,期间,数值,单位,数据状态\ngdp,2024,980,亿元,sample\n"
                 "detailed_plan,2024,0.5,,sample\n", encoding="utf-8")
    assert ingest([f], data, today=TODAY).ok
    files = templates(data)
    wb = openpyxl.load_workbook(files["fagai-2025.xlsx"])
    rows = rows_of(wb.worksheets[0])
    assert rows["gdp"]["上期值"] == "980（2024年，示例数据）"
    assert rows["detailed_plan"]["上期值"] == "推进中（2024年，示例数据）"
    assert rows["urbanization_rate"]["上期值"] == "暂无"
    notes = "\n".join(str(c.value) for c in wb["说明"]["A"] if c.value)
    assert "上期值注明“示例数据”的" in notes and "非官方统计" in notes
    with open(files["fagai-2025.csv"], encoding="utf-8-sig", newline="") as fh:
        twin = {r["指标编号"]: r for r in csv.DictReader(fh)}
    assert twin["gdp"]["上期值"] == "980（2024年，示例数据）"
    # Intake ignores the column: a filled template goes back in as before.
    ws = wb.worksheets[0]
    ws.cell(row=rows["gdp"]["_row"], column=HEADERS.index("数值") + 1, value=1001)
    wb.save(files["fagai-2025.xlsx"])
    report = ingest([files["fagai-2025.xlsx"]], data, today=TODAY)
    assert report.ok and report.files[0].rows_accepted == 1
    # The department's real 2024 figure wins over the sample one: no mark, no 说明 line.
    real = tmp_path / "real.csv"
    real.write_text("指标编号,期间,数值,单位\ngdp,2024,987,亿元\ndetailed_plan,2024,1,\n",
                    encoding="utf-8")
    assert ingest([real], data, today=TODAY).ok
    wb = openpyxl.load_workbook(templates(data)["fagai-2025.xlsx"])
    rows = rows_of(wb.worksheets[0])
    assert (rows["gdp"]["上期值"], rows["detailed_plan"]["上期值"]) == ("987（2024年）",
                                                                   "已完成（2024年）")
    notes = "\n".join(str(c.value) for c in wb["说明"]["A"] if c.value)
    assert "示例数据" not in notes
