"""Intake: reading department files, refusing what cannot be trusted, storing revisions.

The registry is a small fixture (tests/fixtures/intake/plan/), not the real data/plan:
gdp 亿元 level · urbanization_rate % share · detailed_plan milestone (all 市发改局, code
fagai) · new_industrial_firms 家 (市经信局, jingxin) · farmland 万亩, pigs 万头,
waste_sorting_villages % from village records (市农业农村局, nongye).
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from planbook import cli
from planbook.errors import IntakeError
from planbook.store.intake import ingest
from planbook.store.observations import latest, load_observations, read_store_file, sha256_file
from planbook.store.submission import SubmissionRefused
from planbook.store.units import unit_factor

FIXTURES = Path(__file__).parent / "fixtures" / "intake"
REFUSED = FIXTURES / "refused"
ACCEPTED = FIXTURES / "accepted"
TODAY = date(2026, 11, 15)
HEADER = "指标编号,期间,数值,单位,数据状态,数据来源,备注\n"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(FIXTURES / "plan", folder / "plan")
    return folder


def run(files, data: Path, **kw):
    return ingest([Path(f) for f in files], data, today=kw.pop("today", TODAY), check=False,
                  **kw)


def write_csv(path: Path, body: str) -> Path:
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- refused, one fixture each

# fixture, row, column as written, message fragment, value seen, expected fragment
REFUSALS = [
    ("unknown_indicator.csv", 3, "指标编号", "未知指标编号", "gdp_total", "指标编号"),
    ("period_before_plan.csv", 3, "期间", "期间不在方案期内", "2021", "2022"),
    ("period_after_plan.csv", 2, "期间", "期间不在方案期内", "2028", "2027"),
    ("period_later_than_today.csv", 3, "期间", "期间尚未结束", "2026-11", "2026-12-01"),
    ("period_malformed.csv", 2, "期间", "期间格式不对", "2025-13", "2025-Q3"),
    ("value_not_number.csv", 2, "数值", "数值不是数字", "约980", "数字"),
    ("unit_not_convertible.csv", 3, "单位", "单位与登记不一致", "个", "万亩"),
    ("share_out_of_range.csv", 2, "数值", "比率超出 0–100", "101", "0 至 100"),
    ("negative_count.csv", 2, "数值", "计数或实物量不能为负", "-3", "≥ 0"),
    ("duplicate_indicator_period.csv", 2, "指标编号", "同一指标同一期间重复", "gdp", "2、4"),
    ("empty_required_value.csv", 2, "数值", "必填项为空", "", "数值"),
    ("empty_required_indicator.csv", 2, "指标编号", "必填项为空", "", "指标编号"),
    ("status_unknown.csv", 2, "数据状态", "数据状态无效", "final", "部门报送"),
    ("milestone_value.csv", 2, "数值", "节点任务只能填 1、0.5 或 0", "0.3", "0.5"),
    ("village_derived_indicator.csv", 2, "指标编号", "村级台账", "waste_sorting_villages",
     "data/villages"),
    ("percent_on_non_percent.csv", 2, "数值", "百分号只能用于单位为 % 的指标", "5%", "亿元"),
    ("missing_value_column.csv", 1, "数值", "缺少必填列", None, "数值"),
]


@pytest.mark.parametrize("name,row,column,message,seen,expected", REFUSALS,
                         ids=[r[0] for r in REFUSALS])
def test_refused_case(data, name, row, column, message, seen, expected):
    report = run([REFUSED / name], data)
    result = report.files[0]
    assert not report.ok and result.outcome == "refused"
    match = [p for p in result.problems if message in p.message]
    assert match, [str(p) for p in result.problems]
    p = match[0]
    assert (p.file, p.row, p.column) == (name, row, column)
    assert p.value == seen
    assert expected in p.expected
    assert str(p).startswith(f"文件 {name}，第 {row} 行“{column}”列")
    # all or nothing: the valid rows of the file are not stored either
    assert not (data / "observations").exists()
    assert result.rows_accepted == 0 and result.rows_refused == result.rows_read


def test_duplicate_flags_both_rows(data):
    report = run([REFUSED / "duplicate_indicator_period.csv"], data)
    rows = [p.row for p in report.problems if "重复" in p.message]
    assert rows == [2, 4]  # "２０２４" is normalised before comparing


def test_period_refused_until_it_has_ended(data, tmp_path):
    f = write_csv(tmp_path / "oct.csv", "new_industrial_firms,2026-10,30,家,,,\n")
    assert not run([f], data, today=date(2026, 10, 31), dry_run=True).ok
    assert run([f], data, today=date(2026, 11, 1), dry_run=True).ok
    year = write_csv(tmp_path / "year.csv", "gdp,2026,1100,亿元,,,\n")
    assert not run([year], data, today=date(2026, 12, 31), dry_run=True).ok
    assert run([year], data, today=date(2027, 1, 1), dry_run=True).ok


def test_formula_without_cached_value_is_refused(data, tmp_path):
    # openpyxl writes the formula but never computes it, so no cached value is stored
    path = tmp_path / "formula.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "填报"
    ws.append(["指标编号", "期间", "数值", "单位"])
    ws.append(["gdp", "2024", 980, "亿元"])
    ws.append(["new_industrial_firms", "2024", "=10+2", "家"])
    wb.save(path)
    report = run([path], data)
    [p] = report.problems
    assert (p.sheet, p.row, p.column, p.value) == ("填报", 3, "数值", "=10+2")
    assert "公式没有计算结果" in p.message


@pytest.mark.parametrize("name,message,row", [
    ("encoding_utf16.csv", "文件编码无法识别", None),
    ("unsupported_type.xls", "不支持的文件类型", None),
    ("too_many_fields.csv", "列数多于表头", 2),
])
def test_unreadable_files_are_refused(data, name, message, row):
    report = run([REFUSED / name], data)
    assert not report.ok
    [p] = report.problems
    assert message in p.message and p.row == row
    # read as a submission (a .csv): archived all the same; any other type is never read
    assert (report.files[0].archived is not None) == name.endswith(".csv")


def test_missing_file_is_refused_without_stopping_the_others(data, tmp_path):
    report = run([tmp_path / "nowhere.csv", ACCEPTED / "gbk.csv"], data)
    assert [f.outcome for f in report.files] == ["refused", "accepted"]
    assert "无法读取文件" in report.problems[0].message


def test_unknown_columns_are_ignored_with_a_warning(data, tmp_path):
    f = tmp_path / "extra.csv"
    f.write_text("指标编号,指标名称,期间,数值,填报人\ngdp,地区生产总值,2024,980,张三\n",
                 encoding="utf-8")
    messages = []
    report = run([f], data, progress=messages.append)
    assert report.ok and messages == ["[1/1] extra.csv"]
    assert report.files[0].warnings == ["extra.csv：忽略无法识别的列“填报人”"]
    assert any("填报人" in line for line in report.summary_lines())


def test_every_problem_listed_at_once(data):
    report = run([REFUSED / "many_problems.csv"], data)
    found = [(p.row, p.column) for p in report.problems]  # in reading order
    assert found == [(3, "数值"), (4, "数值"), (4, "数据状态"), (5, "期间"), (5, "数值"),
                     (6, "单位")]
    result = report.files[0]
    assert (result.rows_read, result.rows_with_problems, result.rows_refused) == (5, 4, 5)
    lines = report.summary_lines()
    assert lines[0].startswith("[拒绝] many_problems.csv：读取 5 行 = 接受 0 行 + 拒绝 5 行")
    assert sum(line.startswith("  - 文件 many_problems.csv，第") for line in lines) == 6


# ---------------------------------------------------------------- accepted


def test_gbk_csv(data):
    report = run([ACCEPTED / "gbk.csv"], data)
    assert report.ok, report.summary_lines()
    store = load_observations(data)
    gdp = store[store.indicator_id == "gdp"].iloc[0]
    assert gdp.value == 980.5 and gdp.status == "official"  # 正式统计 → official
    assert gdp.source == "2024年建德市国民经济和社会发展统计公报" and gdp.note == "初步核算"
    farmland = store[store.indicator_id == "farmland"].iloc[0]
    assert farmland.status == "provisional"  # empty status defaults to provisional
    assert farmland.file == "observations/nongye.csv"


def test_utf8_bom_csv_with_english_headers(data):
    report = run([ACCEPTED / "utf8_bom.csv"], data)
    assert report.ok, report.summary_lines()
    store = load_observations(data).set_index("indicator_id")
    assert store.loc["new_industrial_firms", "period"] == "2025-09"
    assert store.loc["new_industrial_firms", "note"] == "含新增企业"
    assert store.loc["urbanization_rate", "value"] == 74.2


def test_normalisation_of_what_people_type(data):
    report = run([ACCEPTED / "normalisation.csv"], data)
    assert report.ok, report.summary_lines()
    got = load_observations(data).set_index(["indicator_id", "period"])
    expected = {
        ("gdp", "2024"): (1020, "亿元"),  # full-width digits and comma, spaces
        ("gdp", "2025-Q1"): (237.6, "亿元"),  # 2,376,000 万元 → 亿元
        ("urbanization_rate", "2024"): (55, "%"),  # ５５％
        ("farmland", "2025-09"): (0.15, "万亩"),  # 1500 亩; 2025/9
        ("detailed_plan", "2024"): (0.5, ""),  # 推进中
        ("new_industrial_firms", "2025-09"): (1376, "家"),  # 2025年9月, 1,376
    }
    for key, (value, unit) in expected.items():
        assert got.loc[key, "value"] == pytest.approx(value), key
        assert got.loc[key, "unit"] == unit, key
    assert got.loc[("gdp", "2025-Q1"), "note"] == "换算自 2,376,000万元"


def test_xlsx_numbers_as_text_percent_cells_and_date_periods(data, tmp_path):
    path = tmp_path / "typed.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["市发改局 2025年 填报表"])  # a title row above the header is tolerated
    ws.append(["指标编号", "期间", "数值", "单位", "数据状态", "数据来源", "备注"])
    ws.append(["gdp", 2024, "1,020", "亿元", None, "统计公报", None])  # number stored as text
    ws.append(["urbanization_rate", "2024", 0.55, "%"])  # typed 55% → 0.55, percent format
    ws["C4"].number_format = "0%"
    ws.append(["new_industrial_firms", datetime(2025, 9, 1), 12, "家"])  # Excel made 2025-09 a date
    ws.append([None] * 7)
    wb.save(path)
    report = run([path], data)
    assert report.ok, report.summary_lines()
    got = load_observations(data).set_index(["indicator_id", "period"])["value"]
    assert got[("gdp", "2024")] == 1020
    assert got[("urbanization_rate", "2024")] == 55
    assert got[("new_industrial_firms", "2025-09")] == 12
    assert report.files[0].rows_read == 3


def test_rows_go_to_the_lead_departments_store_with_provenance(data, tmp_path):
    f = write_csv(tmp_path / "mixed.csv", "gdp,2024,980,亿元,official,公报,\n"
                                          "pigs,2024,10.2,万头,,台账,\n")
    report = run([f], data)
    assert [p.name for p in report.files[0].stored_in] == ["fagai.csv", "nongye.csv"]
    store = load_observations(data)
    assert set(store.columns) >= {"submitted_by", "received_at", "revision", "file_sha256"}
    row = store[store.indicator_id == "pigs"].iloc[0]
    assert row.submitted_by == "市农业农村局" and row.file == "observations/nongye.csv"
    assert row.file_sha256 == sha256_file(f) and row.revision == 1
    assert datetime.fromisoformat(row.received_at).tzinfo is not None
    assert (data / "observations" / "datapackage.json").is_file()


def test_unit_conversions():
    assert unit_factor("万元", "亿元") == 1e-4
    assert unit_factor("亿元", "万元") == 1e4
    assert unit_factor("元", "万元") == 1e-4
    assert unit_factor("亩", "万亩") == 1e-4
    assert unit_factor("头", "万头") == 1e-4
    assert unit_factor("亿斤", "斤") == 1e8
    assert unit_factor("个", "家") is None
    assert unit_factor("%", "亿元") is None


# ---------------------------------------------------------------- store and archive


def test_revision_history(data, tmp_path):
    first = write_csv(tmp_path / "first.csv", "gdp,2024,980,亿元,provisional,快报,\n")
    second = write_csv(tmp_path / "second.csv", "gdp,2024,987.3,亿元,official,统计公报,\n")
    assert run([first], data).ok
    assert run([second], data).ok
    raw = read_store_file(data / "observations" / "fagai.csv")
    assert list(raw.revision) == [1, 2] and list(raw.value) == [980, 987.3]
    now = latest(load_observations(data))
    [row] = now.itertuples()
    assert (row.revision, row.value, row.status) == (2, 987.3, "official")
    assert row.file_sha256 == sha256_file(second)


def test_refused_file_leaves_store_byte_for_byte_unchanged(data):
    assert run([ACCEPTED / "gbk.csv"], data).ok
    before = snapshot(data / "observations")
    assert before
    report = run([REFUSED / "many_problems.csv"], data)
    assert not report.ok
    assert snapshot(data / "observations") == before


def test_dry_run_stores_and_archives_nothing(data):
    report = run([ACCEPTED / "gbk.csv", REFUSED / "value_not_number.csv"], data, dry_run=True)
    assert [f.outcome for f in report.files] == ["accepted", "refused"]
    assert report.rows_accepted == 2
    assert not (data / "observations").exists()
    assert not (data / "submissions").exists()
    assert "试运行" in report.summary_lines()[-1]


def test_several_files_store_the_good_ones_and_fail_overall(data):
    files = [ACCEPTED / "gbk.csv", REFUSED / "share_out_of_range.csv", ACCEPTED / "utf8_bom.csv"]
    with pytest.raises(SubmissionRefused) as caught:
        ingest(files, data, today=TODAY)
    err = caught.value
    assert isinstance(err, IntakeError) and err.exit_code == 1
    report = err.report
    assert [f.outcome for f in report.files] == ["accepted", "refused", "accepted"]
    assert len(load_observations(data)) == 4
    # rows read = rows accepted + rows refused, per file and overall
    for f in report.files:
        assert f.rows_read == f.rows_accepted + f.rows_refused
    assert (report.rows_read, report.rows_accepted, report.rows_refused) == (5, 4, 1)
    text = str(err)
    assert "合计 3 个文件（接受 2，拒绝 1）：读取 5 行 = 接受 4 行 + 拒绝 1 行" in text
    assert "share_out_of_range.csv，第 2 行“数值”列" in text


def test_every_submission_is_archived_with_its_outcome(data):
    run([ACCEPTED / "gbk.csv", REFUSED / "negative_count.csv"], data)
    run([ACCEPTED / "gbk.csv"], data)  # the same file again: one copy, two receptions
    for source, outcomes in ((ACCEPTED / "gbk.csv", ["accepted", "duplicate"]),
                             (REFUSED / "negative_count.csv", ["refused"])):
        sha = sha256_file(source)
        archived = data / "submissions" / f"{sha}.csv"
        assert archived.read_bytes() == source.read_bytes()
        record = json.loads((data / "submissions" / f"{sha}.json").read_text("utf-8"))
        assert [r["outcome"] for r in record["receptions"]] == outcomes
        first = record["receptions"][0]
        assert first["original_name"] == source.name
        assert first["rows_read"] == first["rows_accepted"] + first["rows_refused"]
    refused = json.loads((data / "submissions" / f"{sha}.json").read_text("utf-8"))
    assert refused["receptions"][0]["problems"][0]["row"] == 2
    # the resubmission (same sha256) adds nothing
    assert sorted(load_observations(data).revision) == [1, 1]


def test_cli_exit_codes_and_no_traceback(data, capsys):
    assert cli.main(["--data", str(data), "ingest", str(ACCEPTED / "gbk.csv")]) == 0
    out = capsys.readouterr().out
    assert "[接受] gbk.csv：读取 2 行 = 接受 2 行 + 拒绝 0 行" in out
    code = cli.main(["--data", str(data), "ingest", str(REFUSED / "negative_count.csv")])
    captured = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in captured.err + captured.out
    assert "negative_count.csv，第 2 行“数值”列" in captured.err + captured.out


def test_large_refused_file_lists_every_problem_in_the_record(data, tmp_path):
    body = "".join(f"new_industrial_firms,2024-{m:02d},x{m},家,,,\n" for m in range(1, 13)) * 10
    f = write_csv(tmp_path / "big.csv", body)
    report = run([f], data)
    result = report.files[0]
    assert len(result.problems) == 120 + 120  # not a number; duplicate
    lines = report.summary_lines(max_problems=5)
    assert any("另有 235 个问题" in line for line in lines)
    record = json.loads(result.record.read_text("utf-8"))
    assert len(record["receptions"][0]["problems"]) == 240


def test_store_round_trips_through_pandas(data):
    run([ACCEPTED / "normalisation.csv"], data)
    df = pd.read_csv(data / "observations" / "fagai.csv", dtype=str, keep_default_na=False)
    assert df.columns.tolist()[:3] == ["indicator_id", "period", "value"]
    assert "2024" in df.period.tolist()


def test_store_value_formatting_is_unchanged_by_the_vectorised_writer():
    from planbook.store.observations import format_value, format_values

    values = pd.Series([1376.0, 0.2376, -0.0, 1e15, 1e16, 55.00000000000001, float("nan"),
                        float("inf"), 12345678901234.0, 0.1 + 0.2, -3.0])
    assert list(format_values(values)) == [format_value(v) for v in values]


def test_xlsx_problems_name_the_sheet_and_the_cell_as_excel_does(data, tmp_path):
    # the header in row 2 from column B: the cell is named from the header's place in the sheet
    path = tmp_path / "shifted.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append(["市发改局 2025年 填报表"])
    ws.append([None, "指标编号", "期间", "数值", "单位", "数据状态", "数据来源", "备注"])
    ws.append([None, "gdp", "2024", "980", "亿元"])
    ws.append([None, "gdp", "2023", "约九百", "亿元"])
    ws.append([None, "gdp_total", "2024", "5", "亿元"])
    wb.save(path)
    report = run([path], data)
    found = {p.cell: p for p in report.problems}
    assert set(found) == {"D4", "B5"}, [str(p) for p in report.problems]
    assert str(found["D4"]).startswith("文件 shifted.xlsx，工作表“数据”，单元格 D4（数值），条目 gdp："
                                       "数值不是数字；所见：“约九百”；应为：")
    assert "单元格 B5（指标编号）" in str(found["B5"])
    # one message per problem, in Chinese only: no English words in the messages or the report
    text = "\n".join(report.summary_lines())
    assert not re.search(r"\b(row|column|sheet|seen|expected|fix|rows read)\b", text), text
    for p in report.problems:
        assert not re.search(r"[A-Za-z]{3,}", p.message), p.message


def test_csv_problems_name_the_row_as_the_file_shows_it(data, tmp_path):
    f = write_csv(tmp_path / "plain.csv", "gdp,2024,980,亿元,,,\n\ngdp,2023,约九百,亿元,,,\n")
    p, = run([f], data).problems
    assert p.cell is None and p.row == 4  # the blank line 3 counts, as in a text editor
    assert str(p).startswith("文件 plain.csv，第 4 行“数值”列，条目 gdp：数值不是数字")


def test_a_plausibility_flag_names_its_cell(data, tmp_path):
    assert run([write_csv(tmp_path / "before.csv", "gdp,2023,980,亿元,official,公报,\n")],
               data).ok
    path = tmp_path / "slip.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append([None, "指标编号", "期间", "数值", "单位"])
    ws.append([None, "gdp", "2024", 9870, "亿元"])  # ten times last year's
    wb.save(path)
    p, = run([path], data).problems
    assert (p.sheet, p.cell, p.column) == ("数据", "D2", "数值")
    assert str(p).startswith("文件 slip.xlsx，工作表“数据”，单元格 D2（数值），条目 gdp：数值需核实：")
