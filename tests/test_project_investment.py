"""Project investment on the 项目进展 sheet: accepted in 万元, bad numbers refused with the
cell named, a resend adding nothing."""

from __future__ import annotations

import openpyxl
import pytest
import test_statements as base

from planbook.plan.periods import parse_period
from planbook.store import statements

HEAD = ("项目编号,期间,报送单位,当前阶段,阶段日期,进展说明,总投资,年度计划投资,累计完成投资,"
        "投资单位,形象进度,存在问题\n")
GOOD = (HEAD +
        "prj_jianjin_railway,2025,交通运输局,在建,2025-12-31,,\"1,200,000\",80000,"
        "150000,万元,路基完成 40%,征地拆迁进度偏慢\n"
        "prj_jianqu_railway,2025,交通运输局,前期,2025-12-31,,１２０,8,3.5,亿元,,\n")


# the statements tests' fixtures and helpers: a copy of the plan, the registry, intake
registry, data, run, write = base.registry, base.data, base.run, base.write


def test_investment_is_stored_in_wan_yuan_with_the_unit_stated(tmp_path, data, registry):
    report = run([write(tmp_path / "p.csv", GOOD)], data, registry)
    assert report.ok, report.summary_lines()
    rows = statements.load_project_stages(data).set_index("project_id")
    jj, jq = rows.loc["prj_jianjin_railway"], rows.loc["prj_jianqu_railway"]
    assert (jj["total_investment"], jj["annual_plan_investment"],
            jj["completed_investment"], jj["investment_unit"]) == (
        "1200000", "80000", "150000", "万元")
    assert (jq["total_investment"], jq["completed_investment"], jq["investment_unit"]) == (
        "1200000", "35000", "亿元")
    assert jj["image_progress"] == "路基完成 40%" and jj["problems"] == "征地拆迁进度偏慢"


@pytest.mark.parametrize("cells, column, message", [
    ("abc,80000,150000,万元", "总投资", "不是数字"),
    ("1200000,-5,150000,万元", "年度计划投资", "不能为负"),
    ("1200000,80000,1300000,万元", "累计完成投资", "大于总投资"),
    ("1200000,80000,150000,千元", "投资单位", "投资单位无效"),
    ("1200000,80000,150000,", "投资单位", "投资单位为空"),
])
def test_a_bad_amount_is_refused_with_its_cell_named(tmp_path, data, registry, cells, column,
                                                    message):
    body = HEAD + f"prj_jianjin_railway,2025,交通运输局,在建,2025-12-31,,{cells},,\n"
    result = run([write(tmp_path / "bad.csv", body)], data, registry).files[0]
    assert not result.accepted
    assert [(p.row, p.column) for p in result.problems] == [(2, column)]
    assert message in result.problems[0].message
    assert statements.load_project_stages(data).empty


def test_resending_adds_nothing(tmp_path, data, registry):
    first = write(tmp_path / "p.csv", GOOD)
    assert run([first], data, registry).ok
    before = statements.load_project_stages(data)
    again = run([first], data, registry).files[0]
    assert again.duplicate_of and "已接收过" in "\n".join(
        run([first], data, registry).summary_lines())
    # the same rows in another file (another name, a changed byte elsewhere): no revision
    copy = run([write(tmp_path / "copy.csv", GOOD + "\n")], data, registry).files[0]
    assert copy.accepted and copy.rows_unchanged == 2 and copy.rows_new == 0
    after = statements.load_project_stages(data)
    assert len(after) == len(before) == 2 and set(after["revision"]) == {1}
    # a changed amount is the next revision of that project only
    changed = GOOD.replace("150000,万元", "160000,万元")
    res = run([write(tmp_path / "b.csv", changed)], data, registry).files[0]
    assert (res.rows_revised, res.rows_unchanged) == (1, 1)
    rows = statements.load_project_stages(data)
    assert sorted(rows["revision"]) == [1, 1, 2]


def test_template_asks_for_investment_and_a_blank_row_stays_blank(tmp_path, data, registry):
    out = tmp_path / "out"
    statements.write_templates(registry, parse_period("2025"), out)
    book = out / "jiaotong-2025-工作进展.xlsx"
    wb = openpyxl.load_workbook(book)
    ps = wb[statements.PROJECT_SHEET]
    header = {c.value: i + 1 for i, c in enumerate(ps[1])}
    for name in ("总投资", "年度计划投资", "累计完成投资", "投资单位", "形象进度", "存在问题"):
        assert name in header
    assert ps.cell(row=2, column=header["投资单位"]).value == "万元"
    ps.cell(row=2, column=header["当前阶段"], value="在建")
    ps.cell(row=2, column=header["阶段日期"], value="2025-12-31")
    ps.cell(row=2, column=header["总投资"], value="5000")
    wb.save(book)
    result = run([book], data, registry).files[0]
    assert result.accepted, result.problems
    assert result.rows_read == 1  # the other prefilled rows (unit 万元 only) are blank
    assert statements.load_project_stages(data).iloc[0]["total_investment"] == "5000"
