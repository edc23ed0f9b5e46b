"""Department progress statements and project stage reports: intake, templates, the stores."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from planbook import cli
from planbook.plan.periods import parse_period
from planbook.plan.registry import load_registry
from planbook.store import statements

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2026, 3, 1)
HEAD = "任务编号,期间,报送单位,主要进展,存在问题,下步打算,佐证材料,数据状态\n"
GOOD = (HEAD +
        '三(二)1,2025,交通运输局,"示例：已完成年度计划的85%，推进顺利。 ",'
        '要素保障仍需加强，,继续推进。,《示例工作方案》（2025-06-30）；《示例进展报告》（2025-12-20）,示例\n'
        "三（二）2,2025,住建局,示例：已完成年度计划的70%（含“城市更新”）。,,,,\n")
BAD = (HEAD +
       "三(二)1,2025,交通运输局,示例：完成。,,,,\n"
       "三(九)9,2025,交通运输局,示例：完成。,,,,\n"
       "三(二)2,2025,住建局,,问题,,,\n"
       "三(二)2,2025,卫生健康局,示例,,,《无日期的文件》,\n")


@pytest.fixture(scope="module")
def registry():
    return load_registry(ROOT / "data")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "plan", folder / "plan")
    return folder


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def snapshot(data: Path) -> dict[str, bytes]:
    out = {}
    for name in ("statements", "projects"):
        folder = data / name
        if folder.is_dir():
            out |= {p.relative_to(data).as_posix(): p.read_bytes()
                    for p in sorted(folder.rglob("*")) if p.is_file()}
    return out


def run(files, data, registry, **kw):
    return statements.ingest([Path(f) for f in files], data, today=TODAY, check=False,
                             registry=registry, **kw)


def test_good_file_is_stored_exactly_as_written_and_archived(tmp_path, data, registry):
    src = write(tmp_path / "good.csv", GOOD)
    report = run([src], data, registry)
    assert report.ok, report.summary_lines()
    rows = statements.load_statements(data)
    assert len(rows) == 2
    first = rows[rows["task_id"] == "三(二)1"].iloc[0]
    # full-width punctuation and the trailing space stay; the id is normalised to be matched
    assert first["progress"] == "示例：已完成年度计划的85%，推进顺利。 "
    assert first["evidence"] == "《示例工作方案》（2025-06-30）；《示例进展报告》（2025-12-20）"
    assert first["status"] == "sample" and first["revision"] == 1 and first["row"] == 2
    second = rows[rows["task_id"] == "三(二)2"].iloc[0]
    assert second["progress"] == "示例：已完成年度计划的70%（含“城市更新”）。"
    assert second["department"] == "住建局" and second["status"] == "provisional"
    sha = report.files[0].sha256
    assert (data / "submissions" / f"{sha}.csv").read_bytes() == src.read_bytes()
    record = json.loads((data / "submissions" / f"{sha}.json").read_text(encoding="utf-8"))
    assert record["receptions"][0]["outcome"] == "accepted"
    assert first["file_sha256"] == sha and first["original_name"] == "good.csv"
    row = statements.input_row(first.to_dict())
    assert row["file"] == f"submissions/{sha}.csv" and row["row"] == 2


def test_a_second_statement_is_the_next_revision(tmp_path, data, registry):
    run([write(tmp_path / "a.csv", GOOD)], data, registry)
    again = GOOD.replace("85%", "90%")
    assert run([write(tmp_path / "b.csv", again)], data, registry).ok
    rows = statements.load_statements(data)
    mine = rows[rows["task_id"] == "三(二)1"].sort_values("revision")
    assert list(mine["revision"]) == [1, 2]
    latest = statements.latest_revisions(rows, "task_id")
    assert "90%" in latest[latest["task_id"] == "三(二)1"].iloc[0]["progress"]


def test_bad_file_is_refused_with_rows_located_and_the_store_unchanged(tmp_path, data, registry):
    run([write(tmp_path / "good.csv", GOOD)], data, registry)
    before = snapshot(data)
    report = run([write(tmp_path / "bad.csv", BAD)], data, registry)
    assert not report.ok
    found = {(p.row, p.column, p.message.split(" /")[0]) for p in report.files[0].problems}
    assert (3, "任务编号", "未知任务编号") in found
    assert (4, "主要进展", "主要进展为空") in found
    assert (5, "报送单位", "不是该任务的责任单位") in found
    assert (5, "佐证材料", "佐证材料缺少日期") in found
    assert report.files[0].rows_read == 4 and report.files[0].rows_refused == 4
    assert snapshot(data) == before
    sha = report.files[0].sha256
    record = json.loads((data / "submissions" / f"{sha}.json").read_text(encoding="utf-8"))
    assert record["receptions"][0]["outcome"] == "refused"
    assert any(p["row"] == 3 for p in record["receptions"][0]["problems"])


@pytest.mark.parametrize(("line", "column", "message"), [
    ("三(二)1,2025,交通运输局," + "示" * 1001 + ",,,,", "主要进展", "文字超过 1000 字"),
    ("三(二)1,2025,交通运输局,示例,,,《方案》（2026-01-05）,", "佐证材料", "日期晚于期间末"),
    ("三(二)1,2026-05,交通运输局,示例,,,,", "期间", "期间尚未结束"),
    ("三(二)1,2025-Q3,交通运输局,示例,,,,", "期间", "期间格式不对"),
    ("三(二)1,2025,交建局,示例,,,,", "报送单位", "未知单位"),
    ("三(二)1,2025,交通运输局,示例,,,,final", "数据状态", "数据状态无效"),
])
def test_each_rule_names_its_column(tmp_path, data, registry, line, column, message):
    report = run([write(tmp_path / "x.csv", HEAD + line + "\n")], data, registry)
    problems = report.files[0].problems
    assert [(p.row, p.column) for p in problems] == [(2, column)], problems
    assert message in problems[0].message


def test_same_task_twice_is_refused(tmp_path, data, registry):
    body = HEAD + "三(二)1,2025,交通运输局,示例甲,,,,\n三(二)1,2025,交通运输局,示例乙,,,,\n"
    problems = run([write(tmp_path / "d.csv", body)], data, registry).files[0].problems
    assert [p.row for p in problems] == [3] and "第 2 行" in problems[0].expected


def test_filled_template_with_statements_and_project_stages(tmp_path, data, registry):
    out = tmp_path / "out"
    paths = statements.write_templates(registry, parse_period("2025"), out)
    book = out / "jiaotong-2025-工作进展.xlsx"
    assert book in paths
    wb = openpyxl.load_workbook(book)
    ws, ps = wb[statements.STATEMENT_SHEET], wb[statements.PROJECT_SHEET]
    header = [c.value for c in ws[1]]
    assert header[:2] == ["任务编号", "任务名称"] and "本月进展" not in header
    col = {h: i + 1 for i, h in enumerate(header)}
    assert ws.cell(row=2, column=col["任务编号"]).value == "三(二)1"
    ws.cell(row=2, column=col["主要进展"], value="示例：已完成年度计划的80%。")
    pheader = {c.value: i + 1 for i, c in enumerate(ps[1])}
    ids = [ps.cell(row=r, column=1).value for r in range(2, ps.max_row + 1)]
    r = ids.index("prj_jianjin_railway") + 2
    ps.cell(row=r, column=pheader["当前阶段"], value="前期")
    ps.cell(row=r, column=pheader["阶段日期"], value="2025-06-30")
    wb.save(book)
    report = run([book], data, registry)
    assert report.ok, report.summary_lines()
    assert report.files[0].rows_read == 2 and report.files[0].rows_skipped > 0
    stages = statements.load_project_stages(data)
    got = stages.iloc[0]
    assert (got["project_id"], got["stage"], got["stage_date"], got["sheet"], got["row"]) == (
        "prj_jianjin_railway", "前期", "2025-06-30", "项目进展", r)


def test_project_stage_rules(tmp_path, data, registry):
    head = "项目编号,期间,报送单位,当前阶段,阶段日期,进展说明\n"
    body = (head + "prj_jianjin_railway,2025,交通运输局,动工,2025-06-30,\n"
            "prj_jianqu_railway,2025,交通运输局,前期,2026-02-01,\n"
            "prj_g320_relocation,2025,卫生健康局,前期,2025-02-01,\n"
            "prj_nowhere,2025,交通运输局,前期,2025-02-01,\n")
    problems = run([write(tmp_path / "p.csv", body)], data, registry).files[0].problems
    assert [(p.row, p.column) for p in problems] == [
        (2, "当前阶段"), (3, "阶段日期"), (4, "报送单位"), (5, "项目编号")]


def test_monthly_template_and_short_monthly_progress(tmp_path, data, registry):
    out = tmp_path / "out"
    statements.write_templates(registry, parse_period("2026-01"), out)
    header = [c.value for c in openpyxl.load_workbook(
        out / "jiaotong-2026-01-工作进展.xlsx")[statements.STATEMENT_SHEET][1]]
    assert "本月进展" in header
    head = "任务编号,期间,报送单位,本月进展\n"
    ok = run([write(tmp_path / "m.csv", head + "三(二)1,2026-01,交通运输局,示例：按计划推进。\n")],
             data, registry)
    assert ok.ok
    long = run([write(tmp_path / "l.csv", head + "三(二)1,2026-01,交通运输局," + "字" * 201
                      + "\n")], data, registry)
    assert [p.column for p in long.files[0].problems] == ["本月进展"]


def test_cli_routes_progress_files_and_exits_1_on_refusal(tmp_path, data, capsys):
    good, bad = write(tmp_path / "good.csv", GOOD), write(tmp_path / "bad.csv", BAD)
    assert cli.main(["--data", str(data), "ingest", "--dry-run", str(good)]) == 0
    assert "[接受] good.csv" in capsys.readouterr().out
    assert cli.main(["--data", str(data), "ingest", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "[拒绝] bad.csv" in out and "第 3 行“任务编号”列" in out
    assert snapshot(data) == {}


def test_three_sends_of_one_workbook_leave_one_revision(tmp_path, data, registry):
    """The rule of every workbook kind: a resent file is [已接收过], a row equal to the stored
    latest revision adds none, the receipt counts new, revised and unchanged."""
    out = tmp_path / "out"
    statements.write_templates(registry, parse_period("2025"), out)
    book = out / "jiaotong-2025-工作进展.xlsx"
    wb = openpyxl.load_workbook(book)
    ws, ps = wb[statements.STATEMENT_SHEET], wb[statements.PROJECT_SHEET]
    col = {c.value: i + 1 for i, c in enumerate(ws[1])}
    pcol = {c.value: i + 1 for i, c in enumerate(ps[1])}
    ws.cell(row=2, column=col["主要进展"], value="已完成年度计划的80%。")
    ws.cell(row=3, column=col["主要进展"], value="按计划推进。")
    ps.cell(row=2, column=pcol["当前阶段"], value="前期")
    ps.cell(row=2, column=pcol["阶段日期"], value="2025-06-30")
    wb.save(book)

    first = run([book], data, registry).files[0]
    assert (first.outcome, first.rows_new, first.rows_revised, first.rows_unchanged) == (
        "accepted", 3, 0, 0)
    stored = snapshot(data)
    again = run([book], data, registry).files[0]
    assert again.outcome == "duplicate"
    assert any(line.startswith("[已接收过]") for line in run([book], data, registry)
               .summary_lines())
    # the same rows in other bytes (a read-only column retyped): nothing new either
    ws.cell(row=2, column=col["任务名称"], value="（已核对）")
    wb.save(copy := tmp_path / "copy.xlsx")
    report = run([copy], data, registry)
    third = report.files[0]
    assert (third.outcome, third.rows_new, third.rows_revised, third.rows_unchanged) == (
        "accepted", 0, 0, 3)
    assert "新增 0 行、修订 0 行、与已存相同 3 行未新增版次" in report.summary_lines()[0]
    assert snapshot(data) == stored
    for rows in (statements.load_statements(data), statements.load_project_stages(data)):
        assert set(rows["revision"]) == {1}
    # one changed statement and one changed stage: two revisions, named in the receipt
    ws.cell(row=3, column=col["主要进展"], value="已开工。")
    ps.cell(row=2, column=pcol["当前阶段"], value="开工")
    wb.save(changed := tmp_path / "changed.xlsx")
    fourth = run([changed], data, registry).files[0]
    assert (fourth.rows_new, fourth.rows_revised, fourth.rows_unchanged) == (0, 2, 1)
    assert any("主要进展 有改动" in c for c in fourth.changes)
    assert any("前期 → 开工" in c for c in fourth.changes)
    stages = statements.load_project_stages(data)
    assert sorted(stages["revision"]) == [1, 2]
    assert sorted(statements.load_statements(data)["revision"]) == [1, 1, 2]
