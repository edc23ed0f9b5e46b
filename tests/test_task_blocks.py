"""任务评估 in the book: every task's block in the 2025 sample build, in both engines; the
project tables; statements traced to their submissions; the sample's honesty."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml
from pypdf import PdfReader

from planbook.assess.projects import assess_project
from planbook.audit.register import register
from planbook.audit.trace import lookup
from planbook.book.quarto import write_quarto_profile
from planbook.book.spec import book_spec
from planbook.chapters.tasks import task_key
from planbook.escape import md_text
from planbook.plan.periods import parse_period
from planbook.plan.registry import Project, load_registry
from planbook.run.period import resolve
from planbook.store import statements

ROOT = Path(__file__).resolve().parents[1]
REG = load_registry(ROOT / "data")
TASKS = [t for t in REG.tasks.values() if t.id != "二"]
PAGE = {"三": "02_county", "四": "03_villages", "五": "04_integration", "六": "05_safeguards"}


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def html(sample_build) -> dict[str, str]:
    folder = sample_build / "reports" / "2025" / "html"
    return {p.stem: p.read_text(encoding="utf-8") for p in folder.glob("*.html")}


@pytest.fixture(scope="module")
def pdf_text(sample_build) -> str:
    reader = PdfReader(sample_build / "reports" / "2025" / "report.pdf")
    return _squash("".join(p.extract_text() for p in reader.pages))


def test_every_task_of_three_to_six_has_a_block_in_both_engines(html, pdf_text):
    assert len(TASKS) == 38
    for t in TASKS:
        heading = f"{t.id} {t.title}：任务评估"
        page = html[PAGE[t.chapter]]
        assert heading in page, heading
        assert _squash(heading) in pdf_text, heading
    # a task without a statement or a judgement says so plainly
    safeguards = html["05_safeguards"]
    block = safeguards.split("六(三) 强化氛围营造：任务评估")[1].split("六(四)")[0]
    assert "暂无部门报送" in block
    assert "暂无部门报送" in pdf_text and "暂无评估意见" in pdf_text


def test_evaluator_words_are_set_apart_and_marked(html, pdf_text):
    page = html["02_county"]
    divs = re.findall(r'<div class="pb-evaluator">(.*?)</div>', page, re.S)
    assert divs and all("评估组意见" in d and "非计算结果、非部门报送" in d for d in divs)
    # never mixed: no light and no department text inside the evaluator's box
    assert not any("pb-dot" in d or "主要进展" in d for d in divs)
    assert "评估组意见" in pdf_text and "评估等级" in pdf_text


def test_named_projects_appear_with_quotes_and_stages(html, pdf_text):
    county = html["02_county"]
    for name in ("建金铁路", "建衢铁路", "320国道外迁", "330国道大慈岩段改建工程", "建武高速",
                 "千岛湖通用机场二期项目", "杭州市第七人民医院浙西院区", "新安江货运码头整合提升"):
        p = next(p for p in REG.projects.values() if p.name_zh == name)
        assert name in county and p.quote in county, name
        assert f"{p.target_year}年{p.target_stage}" in county
    assert "点名项目要求阶段与当前阶段" in pdf_text
    assert "2027年谋划" in pdf_text  # 建武高速's asked stage


def _block(html: dict[str, str], task) -> str:
    page = html[PAGE[task.chapter]]
    head = f"{task.id} {task.title}：任务评估</h3>"  # the heading, not the toc entry
    start = page.index(head)
    nxt = page.find("：任务评估</h3>", start + len(head))
    return page[start:nxt if nxt > 0 else None]


def test_a_grade_departing_from_the_lights_is_said_with_the_implied_grade_and_reason(
        html, pdf_text, sample_build):
    from planbook.assess.grades import period_bases

    rp = resolve("2025", sample_build)
    bases = period_bases(rp.data, REG, rp.params.parsed_period, rp.params.as_of)
    ev = yaml.safe_load((rp.data / "evaluation" / "2025.yaml").read_text(encoding="utf-8"))
    judged = {j["task"]: j for j in ev["tasks"]}
    departing = [t for t in TASKS if t.id in judged and bases[t.id].departs(judged[t.id]["grade"])]
    assert departing  # the sample shows the form on purpose
    for t in TASKS:
        block = _block(html, t)
        # every block shows the grade its lights imply, registered and traceable
        assert "按灯号计算的等级" in block, t.id
        if t in departing:
            j, b = judged[t.id], bases[t.id]
            assert "评估等级与计算灯号不一致" in block, t.id
            assert f"评估组评定为“{j['grade']}”，按灯号计算的等级为“{b.grade}”（{b.lights}）" in block
            assert f"评估组说明的理由：“{j['reason']}”" in block
        else:
            assert "评估等级与计算灯号不一致" not in block, t.id
    assert "评估等级与计算灯号不一致" in pdf_text and _squash(departing[0].id) in pdf_text
    found = lookup(f"grade-{task_key(departing[0].id)}-2025", rp)
    assert len(found) == 1 and found[0]["inputs"]  # the rows of the lights it counts
    index = html["index"]
    assert f"评估等级与计算灯号不一致的{len(departing)}项" in index
    assert all(t.id in index for t in departing)


def test_project_statuses_say_reached_not_finished_in_blocks_and_tables(html):
    county = html["02_county"] + html["03_villages"] + html["04_integration"]
    lines = re.findall(r"<li>([^<：]+)：要求(\d{4})年(\S+?) → (\S+?)（.*?</span>\S+ (\S+)</li>",
                       county)
    rows = re.findall(r"<tr><td[^>]*>([^<]+)</td><td[^>]*>[^<]+</td><td[^>]*>\d{4}年[^<]+</td>"
                      r"<td[^>]*>(\S+?)（[^<]*</td><td[^>]*>([^<]+)</td>", county)
    assert lines and rows
    reached = 0
    for stage, status in [(x[3], x[4]) for x in lines] + [(r[1], r[2]) for r in rows]:
        if status in ("已完成", "已达要求阶段"):
            assert (status == "已完成") == (stage == "完工"), (stage, status)
            reached += status == "已达要求阶段"
    assert reached  # the sample has projects at their asked stage, not finished


def test_summary_counts_tasks_by_grade_and_lists_missing_statements(html):
    index = html["index"]
    assert "共有任务38项" in index
    for grade in ("好", "较好", "一般", "差"):
        assert re.search(rf"[、：]{grade}\d+项", index), grade
    assert "暂无部门报送的任务" in index and "六(四) 强化督导服务" in index


def test_quoted_statement_traces_to_its_submission_file_and_row(sample_build):
    rp = resolve("2025", sample_build)
    rows = statements.latest_revisions(statements.load_statements(rp.data), "task_id")
    row = rows[(rows["task_id"] == "三(二)1") & (rows["period"] == "2025")].iloc[0]
    code = REG.departments[row["department"]].code
    found = lookup(f"stmt-{task_key('三(二)1')}-{code}-2025", rp)
    assert len(found) == 1 and found[0]["notebook"].endswith("02_county.ipynb")
    (source,) = found[0]["inputs"]
    submission = rp.data / source["file"]
    assert submission.is_file() and source["row"] == int(row["row"])
    # the row the trace names holds the quoted text, exactly
    lines = pd.read_csv(submission, dtype=str, keep_default_na=False)
    assert lines.iloc[source["row"] - 2]["主要进展"] == row["progress"]
    assert row["progress"] in found[0]["text"]
    evaluation = lookup("eval-3-2-1-2025", rp)[0]["inputs"][0]
    assert evaluation["file"] == "evaluation/2025.yaml"


def test_quarto_path_carries_the_blocks_structurally(sample_build):
    rp = resolve("2025", sample_build)
    path = write_quarto_profile(book_spec(rp), sample_build, register(rp), sample_notice=True)
    profile = yaml.safe_load(path.read_text(encoding="utf-8"))
    listed = [c for part in profile["book"]["chapters"][1:] for c in part["chapters"]]
    chapter = next(c for c in listed if c.endswith("05_safeguards.ipynb"))
    nb = nbformat.read(path.parent / chapter, as_version=4)
    text = "".join(o.get("data", {}).get("text/markdown", "") for c in nb.cells
                   if c.cell_type == "code" for o in c.get("outputs", []))
    assert "### 六(一) 强化统筹领导：任务评估" in text
    assert '<div class="pb-evaluator">' in text and "暂无部门报送" in text


# ----------------------------------------------------------------- pure pieces

def test_project_light_follows_the_milestone_rules_against_the_asked_stage():
    p = Project(id="prj_x", name_zh="某项目", name_en="x", task="三(二)1", lead="交通运输局",
                target_stage="在建", target_year=2026, quote="q")
    y25, m26, y26 = parse_period("2025"), parse_period("2026-06"), parse_period("2026")

    def at(stage, period):
        report = {"stage": stage, "stage_date": "2025-12-31", "period": "2025",
                  "status": "provisional"}
        a = assess_project(p, report, period)
        return a.status, a.light

    assert at("完工", y25) == ("done", "green")
    assert at("在建", y25) == ("reached", "green")
    assert at("前期", y25) == ("in_progress", "green")
    assert at("前期", m26) == ("in_progress", "yellow")  # a month of the target year
    assert at("未启动", y25) == ("not_started", "yellow")
    assert at("未启动", m26) == ("not_started", "red")
    assert at("开工", y26) == ("overdue", "red")  # the annual report of the target year
    none = assess_project(p, None, y25)
    assert (none.status, none.light) == ("no_data", "grey") and "尚无阶段报送" in none.reason


def test_a_project_at_its_asked_stage_is_not_called_finished():
    """在建 where the plan asks 在建 meets the ask; only 完工 is 已完成 (a reader of 已完成
    understands: built)."""
    p = Project(id="prj_x", name_zh="某铁路", name_en="x", task="三(二)1", lead="交通运输局",
                target_stage="在建", target_year=2027, quote="q")
    y25 = parse_period("2025")

    def word(stage):
        report = {"stage": stage, "stage_date": "2025-12-31", "period": "2025"}
        return assess_project(p, report, y25).status_zh

    assert word("在建") == "已达要求阶段" and word("完工") == "已完成"
    assert word("开工") == "推进中" and word("未启动") == "未启动"
    early = Project(**{**vars(p), "target_stage": "谋划"})
    assert assess_project(early, {"stage": "前期", "stage_date": "2025-12-31",
                                  "period": "2025"}, y25).status_zh == "已达要求阶段"


def test_a_node_tracking_a_project_short_of_finish_is_counted_as_reached():
    """The registry links 打造“万亩千亿”高能级战略平台 (a node) to a project the plan asks to be
    在建: at 1 it is 已达要求阶段 wherever it is printed or counted, never 已完成."""
    from planbook.assess.rules import assess_all
    from planbook.store import observations

    short = {p.indicator for p in REG.projects.values()
             if p.indicator and p.target_stage != "完工"}
    assert "ind_ms_wanmu_qianyi_platform" in short
    rows = observations.load_all(ROOT / "data", REG, as_of="2026-03-31",
                                 period=parse_period("2025"))
    rows.loc[rows["indicator_id"].isin(short), "value"] = 1.0
    assessed = {a.indicator_id: a for a in assess_all(REG, rows, parse_period("2025"))}
    for ind in short:
        assert (assessed[ind].status, assessed[ind].status_zh) == ("reached", "已达要求阶段")
    finished = next(p.indicator for p in REG.projects.values()
                    if p.indicator and p.target_stage == "完工")
    if assessed[finished].latest_value == 1:
        assert assessed[finished].status_zh == "已完成"


def test_quoted_text_is_shown_exactly_not_interpreted_as_markdown():
    assert task_key("三(二)1") == "3-2-1" and task_key("六(四)") == "6-4"
    md = md_text("**不是粗体** <b>x</b> | 1. 第一\n第二行")
    assert md == "\\*\\*不是粗体\\*\\* \\<b\\>x\\<\\/b\\> \\| 1\\. 第一\\\n第二行"


def test_sample_statements_stages_and_judgements_are_marked_and_generic():
    data = ROOT / "data"
    st = statements.load_statements(data)
    assert len(st) and (st["status"] == "sample").all()
    for col in ("progress", "problems", "next_steps", "evidence"):
        texts = [t for t in st[col] if t]
        assert all(t.startswith("示例") for t in texts), col
    annual = st[st["period"] == "2025"]
    covered = set(annual["task_id"])
    assert len(covered) >= 0.7 * len(TASKS) and len(covered) < len(TASKS)  # most, not all
    stages = statements.load_project_stages(data)
    assert (stages["status"] == "sample").all() and stages["note"].str.startswith("示例").all()
    # no invented event dates: a sample stage is stated for the period's last day
    assert set(stages["stage_date"]) == {"2025-12-31"}
    ev = yaml.safe_load((data / "evaluation" / "2025.yaml").read_text(encoding="utf-8"))
    assert ev["status"] == "sample"
    assert all(j["opinion"].startswith("示例") for j in ev["tasks"])
    assert date.fromisoformat(ev["date"])


def test_briefing_quotes_the_month_s_short_progress():
    from planbook.chapters import Briefing

    rep = Briefing.load(period="2026-10", as_of="2026-11-10", data_dir=str(ROOT / "data"),
                        kind="briefing", plan_id="jiande-2023-2027")
    month = rep.statements
    assert len(month) and set(month["period"]) == {"2026-10"}
    blocks = rep.department_blocks()
    row = month.iloc[0]
    assert f"本月进展（{row['department']}报送，原文引用）" in blocks
    assert f"{row['task_id']} " in blocks and md_text(row["monthly"]) in blocks


# A block's labels as its lines open (a wrapped line or a table cell never starts so).
BLOCK_LABELS = ("牵头单位：", "指标与灯号（", "点名项目（", "按灯号计算的等级（", "部门报送（")


def test_task_block_paragraphs_start_at_one_indent_in_the_pdf(sample_build):
    """Every labelled line of a 任务评估 block starts at the same x in the PDF: typst indents
    only a paragraph that follows a paragraph unless told `all: true`, which made the blocks
    ragged (after a list or a heading the label sat at the margin)."""
    import subprocess
    import xml.etree.ElementTree as ET

    pdf = sample_build / "reports" / "2025" / "report.pdf"
    xml = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True,
                         text=True, check=True).stdout
    ns = {"x": "http://www.w3.org/1999/xhtml"}
    starts: dict[str, set[float]] = {}
    for line in ET.fromstring(xml).iterfind(".//x:line", ns):
        words = line.findall("x:word", ns)
        first = words[0].text or "" if words else ""
        for label in BLOCK_LABELS:
            if first.startswith(label):
                starts.setdefault(label, set()).add(round(float(words[0].get("xMin")), 0))
    assert set(starts) == set(BLOCK_LABELS), starts
    xs = set().union(*starts.values())
    assert max(xs) - min(xs) <= 1, starts
