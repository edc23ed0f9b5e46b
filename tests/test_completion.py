"""The 主要指标完成情况表 and the project investment builders (assess.completion,
assess.investment): 合计 rows against Table 1, 完成率 per kind, the reconciliation."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from planbook.assess import completion as comp
from planbook.assess import investment as inv
from planbook.assess import tables
from planbook.chapters import Report

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def rep():
    return Report.load(period="2025", as_of="2026-03-31", data_dir=str(ROOT / "data"),
                       kind="annual", plan_id="jiande-2023-2027")


def test_total_rows_are_the_counts_of_table_1(rep):
    table = rep.completion
    agg = tables.aggregate(rep.registry, rep.assessments, "chapter").set_index("chapter")
    totals = table.totals()
    assert list(totals) == [*agg.index, "plan"]
    for chapter, row in agg.iterrows():
        got = totals[chapter]
        assert sum(got.values()) == row["indicators"]
        assert {s: n for s, n in got.items() if n} == {
            s: int(row[s]) for s in got if int(row[s])}
    assert sum(totals["plan"].values()) == len(rep.assessments) == agg["indicators"].sum()
    # every indicator once, under its own chapter
    ids = [r["indicator_id"] for r in table.indicators()]
    assert sorted(ids) == sorted(a.indicator_id for a in rep.assessments)


def test_the_frame_has_a_column_per_year_and_the_totals_in_words(rep):
    frame = comp.completion_frame(rep.completion, 2027)
    assert list(frame.columns) == ["指标", "基期", "2023年", "2024年", "2025年", "2027目标",
                                   "完成率", "评价"]
    key = frame[frame["指标"] == "重点项目累计完成投资（亿元）"].iloc[0]
    assert (key["基期"], key["2025年"], key["2027目标"]) == ("0（2022）", "140.8", "≥220")
    assert key["完成率"] == "64.0%"  # 140.8 / 220
    last = frame.iloc[-1]
    assert last["指标"] == f"全方案合计（{len(rep.assessments)}项）"
    assert last["评价"].startswith("已达标") and last["完成率"] == ""


def test_completion_by_kind(rep):
    by_id, reg = rep.by_id, rep.registry

    def of(ind_id, **change):
        a = replace(by_id[ind_id], **change)
        return comp.completion(reg.indicators[ind_id], a)

    # cumulative: share of the target done
    assert of("ind_key_project_investment", latest_value=110.0).text == "50.0%"
    # a ceiling falling from above its line: the gap closed
    gap = of("ind_income_ratio_urban_rural", baseline_value=1.92, latest_value=1.81)
    assert gap.text == "50.0%"
    # a ceiling already under its line
    assert of("ind_income_ratio_urban_rural", baseline_value=1.6,
              latest_value=1.65).text == "控制在上限内"
    assert of("ind_key_project_investment", latest_value=None).text == "—"
    milestone = next(a for a in rep.assessments if a.kind == "milestone"
                     and a.latest_value is not None)
    assert of(milestone.indicator_id).text in ("已完成", "已达要求阶段", "推进中", "未启动")


def _project(pid, total, done, period="2025", plan=None):
    return inv.ProjectInvestment(
        project_id=pid, name=pid, chapter="三", task="三(一)1", lead="发改局", stage="在建",
        period=period, total=total, annual_plan=plan, completed=done, image_progress="",
        problems="", status_zh="", light="green", sample=False)


def test_totals_and_the_reconciliation(rep):
    items = [_project("a", 100000, 40000, plan=20000), _project("b", 50000, 10000),
             _project("c", None, None)]
    t = inv.totals(items)
    assert (t.projects, t.reported, t.total, t.completed, t.annual_plan) == (
        3, 2, 150000, 50000, 20000)
    assert t.share == pytest.approx(1 / 3)
    key = replace(rep.by_id["ind_key_project_investment"], latest_value=12.0,
                  latest_period="2025")
    rec = inv.reconcile(items, key, "2025")
    assert rec.overlap and rec.named == 5.0 and rec.difference == 7.0 and rec.consistent
    too_much = inv.reconcile(items, replace(key, latest_value=4.0), "2025")
    assert too_much.consistent is False and "需核实" in too_much.reason
    assert not inv.reconcile(items, replace(key, latest_period="2024"), "2025").overlap
    assert not inv.reconcile([_project("a", 1, 1, period="2024")], key, "2025").overlap


def test_the_sample_reconciles_and_the_text_prints_the_difference(rep):
    rec = rep.reconciliation
    assert rec.overlap and rec.consistent and rec.difference > 0
    text = rep.project_investment_text()
    assert "与“重点项目累计完成投资”指标核对" in text and "差额" in text
    assert "资金投入" in rep.funding_text() and "用地保障" in rep.land_text()
