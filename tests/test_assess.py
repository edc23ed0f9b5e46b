"""Worked examples for planbook.assess on a small fixture registry built here (not the plan
or the sample data). Each table row: indicator, observation rows, reporting period, and the
status (and ratio, light, reason fragment) expected."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from planbook.assess import rules as assess
from planbook.assess import tables
from planbook.plan.periods import parse_period
from planbook.plan.registry import Baseline, Indicator, Registry, Target, Task

# ---------------------------------------------------------------- fixture registry


def ind(id, kind, targets, *, baseline=None, unit="", frequency="annual", path="三(一)1",
        lead="发改局", direction="increase", rule="", rule_basis=None):
    return Indicator(id=id, path=path, name_zh=f"指标{id}", name_en=id, unit=unit, kind=kind,
                     direction=direction, frequency=frequency,
                     targets=tuple(Target(*t) for t in targets), lead=lead,
                     baseline=Baseline(*baseline) if baseline else None, rule=rule,
                     rule_basis=rule_basis)


IND = {
    # 规上工业总产值: intermediate 2025 target, then 2027
    "output": ind("output", "level", [(1000, 2025, ">="), (1200, 2027, ">=")],
                  baseline=(688, 2022), unit="亿元"),
    "level": ind("level", "level", [(200, 2027, ">=")], baseline=(100, 2022), unit="亿元"),
    "beyond": ind("beyond", "level", [(100, 2027, ">=")], baseline=(120, 2022), unit="亿元"),
    "zero": ind("zero", "level", [(30, 2027, ">=")], baseline=(0, 2022), unit="家"),
    "negative": ind("negative", "level", [(10, 2027, ">=")], baseline=(-5, 2022), unit="亿元"),
    "nobase": ind("nobase", "level", [(80, 2027, ">=")], unit="个"),
    "only2025": ind("only2025", "level", [(1000, 2025, ">=")], baseline=(688, 2022),
                    unit="亿元"),
    "pm25": ind("pm25", "ceiling", [(22, 2027, "<=")], baseline=(28, 2022), unit="微克/立方米",
                direction="decrease"),
    "share": ind("share", "share", [(98, 2027, ">=")], baseline=(90, 2022), unit="%",
                 path="四(一)2"),
    "far_share": ind("far_share", "share", [(80, 2027, ">=")], baseline=(50, 2022), unit="%",
                     path="四(一)2"),
    "estates": ind("estates", "cumulative", [(44, 2027, ">=")], unit="个", path="三(二)1",
                   lead="住建局"),
    "estates25": ind("estates25", "cumulative", [(30, 2025, ">=")], unit="个",
                     path="三(二)1", lead="住建局"),
    "projects": ind("projects", "annual", [(30, 2027, ">=", True)], unit="个", path="五(一)1"),
    "projects_m": ind("projects_m", "annual", [(30, 2027, ">=", True)], unit="个",
                      frequency="monthly", path="五(一)1"),
    "plan_done": ind("plan_done", "milestone", [(None, 2025, ">=")], path="六(一)1",
                     lead="住建局"),
    # 确保…水质达标率100%, 稳定在99%以上: bottom lines held every year
    "water": ind("water", "share", [(100, 2027, ">=", True)], unit="%", rule="bottom_line",
                 rule_basis="确保"),
    "supply": ind("supply", "share", [(99, 2027, ">=", True)], baseline=(90, 2022), unit="%",
                  rule="bottom_line", rule_basis="稳定在"),
    # 全市划分为50个规划单元: a statement, not a target
    "units": ind("units", "level", [(50, 2027, ">=")], unit="个", rule="info",
                 rule_basis="全市划分为"),
    # 突破5万元: strictly above
    "income": ind("income", "level", [(5, 2027, ">")], baseline=(3, 2022), unit="万元"),
    # 优于22: strictly below
    "pm25_strict": ind("pm25_strict", "ceiling", [(22, 2027, "<")], baseline=(28, 2022),
                       unit="微克/立方米", direction="decrease"),
}


def rows(ind_id, *obs):
    """obs: (period, value) or (period, value, revision)."""
    out = []
    for o in obs:
        period, value, revision = (*o, 1) if len(o) == 2 else o
        out.append({"indicator_id": ind_id, "period": period, "value": value, "unit": "",
                    "status": "provisional", "source": "", "submitted_by": "",
                    "received_at": "", "revision": revision, "note": "",
                    "file_sha256": f"sha-{period}-{revision}", "file": "observations/X.csv"})
    return pd.DataFrame(out)


def run(ind_id, obs, period):
    return assess.assess_indicator(IND[ind_id], rows(ind_id, *obs), parse_period(period))


def cagr(a, b, years):
    return (b / a) ** (1 / years) - 1


def R(x0, x, n, target, big_n):
    return cagr(x0, x, n) / cagr(x0, target, big_n)


ELAPSED_2025 = 0.600  # 1096 / 1826 days of 2023-01-01 .. 2027-12-31, as printed (0.1%)

# ---------------------------------------------------------------- the table

CASES = [
    # id, indicator, observations, period, status, ratio (None = not computed), reason part
    ("level on track", "level", [("2022", 100), ("2025", 152)], "2025", "on_track",
     R(100, 152, 3, 200, 5), "R=1.01"),
    ("level needs acceleration", "level", [("2025", 130)], "2025", "needs_acceleration",
     R(100, 130, 3, 200, 5), "R=0.61"),
    ("level limited (intermediate 2025 target)", "output", [("2025", 812)], "2025", "limited",
     R(688, 812, 3, 1000, 3), "R=0.43"),
    ("level deterioration", "level", [("2025", 90)], "2025", "deterioration",
     cagr(100, 90, 3) / cagr(100, 200, 5), "年均下降"),
    ("level achieved", "level", [("2025", 210)], "2025", "achieved",
     R(100, 210, 3, 200, 5), "已达到2027年目标≥200亿元"),
    ("after 2025 the 2027 target governs", "output", [("2025", 1010)], "2026", "on_track",
     R(688, 1010, 3, 1200, 5), "2027年达到1,200亿元"),
    ("baseline beyond target, still met", "beyond", [("2025", 110)], "2025", "achieved",
     None, "已达到"),
    ("baseline beyond target, fell below", "beyond", [("2025", 95)], "2025", "deterioration",
     None, "基期值已达到"),
    ("zero baseline: linear rates", "zero", [("2025", 15)], "2025", "needs_acceleration",
     (15 / 3) / (30 / 5), "复合增长率无法计算，改用线性增速"),
    ("negative baseline: linear rates", "negative", [("2025", -2)], "2025", "limited",
     (3 / 3) / (15 / 5), "改用线性增速"),
    ("falls negative from a positive baseline", "level", [("2024", -5)], "2024",
     "deterioration", (-105 / 2) / (100 / 5), "非正"),
    ("no plan baseline: earliest observation", "nobase", [("2023", 50), ("2025", 60)], "2025",
     "needs_acceleration", R(50, 60, 2, 80, 4), "规划未给出基期值，以最早观测值为基期；2025年值60个，较2023年基期50个"),
    ("single observation, no baseline", "nobase", [("2024", 50)], "2025", "no_data", None,
     "仅有一期观测值，无法计算增速"),
    ("single observation meeting the target", "nobase", [("2024", 85)], "2025", "achieved",
     None, "已达到"),
    ("target year passed, not met", "only2025", [("2026", 900)], "2026", "limited",
     R(688, 900, 4, 1000, 3), "目标年限2025年已过，仍未达标"),
    ("target year passed and falling", "only2025", [("2026", 600)], "2026", "deterioration",
     R(688, 600, 4, 1000, 3), "目标年限2025年已过"),
    ("period before the baseline", "level", [("2025", 150)], "2021", "no_data", None,
     "早于基期2022年"),
    ("no rows at all", "level", [], "2025", "no_data", None, "尚无观测数据"),
    ("only the baseline row", "level", [("2022", 100)], "2025", "no_data", None,
     "基期（2022年）以来尚无观测数据"),
    ("revised observation: latest revision counts", "output",
     [("2025", 812, 1), ("2025", 1010, 2)], "2025", "achieved", R(688, 1010, 3, 1000, 3),
     "2025年值1,010亿元"),
    ("annual data in a month: latest annual value stands", "level", [("2025", 152)],
     "2026-10", "on_track", R(100, 152, 3, 200, 5), "按最近年度数据"),
    ("monthly level at month end", "level", [("2025-06", 140)], "2025-06", "on_track",
     R(100, 140, 2.5, 200, 5), "2025年6月值"),
    # ceilings
    ("ceiling achieved", "pm25", [("2025", 21)], "2025", "achieved", R(28, 21, 3, 22, 5),
     "已达到2027年目标≤22"),
    ("ceiling at the ceiling is achieved", "pm25", [("2025", 22)], "2025", "achieved",
     R(28, 22, 3, 22, 5), "已达到"),
    ("ceiling not achieved", "pm25", [("2025", 27)], "2025", "limited", R(28, 27, 3, 22, 5),
     "需年均下降"),
    ("ceiling rising", "pm25", [("2025", 30)], "2025", "deterioration", R(28, 30, 3, 22, 5),
     "年均增长"),
    # shares near 100: scale 0.75 at a 90% baseline -> on_track from R 0.7125, acceleration 0.45
    ("share near 100 on track by scaling", "share", [("2025", 94)], "2025", "on_track",
     R(90, 94, 3, 98, 5), "阈值按系数0.75缩放"),
    ("share near 100 acceleration by scaling", "share", [("2025", 92.4)], "2025",
     "needs_acceleration", R(90, 92.4, 3, 98, 5), "接近100%上限"),
    ("share far from 100 unscaled", "far_share", [("2025", 57)], "2025", "limited",
     R(50, 57, 3, 80, 5), "R=0.45"),
    # cumulative (时序进度)
    ("cumulative on track", "estates", [("2025", 27)], "2025", "on_track",
     27 / 26, "时序进度60.0%（应达26个），完成应达数的103.8%"),
    ("cumulative needs acceleration", "estates", [("2025", 23)], "2025", "needs_acceleration",
     23 / 26, "完成2027年目标44个的52.3%"),
    ("cumulative limited", "estates", [("2025", 15)], "2025", "limited",
     15 / 26, "完成应达数的57.7%"),
    ("cumulative achieved", "estates", [("2025", 44)], "2025", "achieved", 44 / 26,
     "已达到"),
    ("cumulative deterioration", "estates", [("2024", 20), ("2025", 18)], "2025",
     "deterioration", 18 / 26, "累计值低于上期（2024年20个）"),
    ("cumulative 2022 row is zero", "estates", [("2022", 0), ("2025", 27)], "2025", "on_track",
     27 / 26, "截至2025年底累计27个"),
    ("cumulative at a month end", "estates", [("2026-10", 35)], "2026-10", "on_track",
     35 / round(44 * round(((pd.Timestamp("2026-10-31") - pd.Timestamp("2023-01-01")).days
                            + 1) / 1826, 3)),
     "截至2026年10月底"),
    ("cumulative older data", "estates", [("2025", 27)], "2026-10", "on_track",
     27 / 26, "最新数据为2025年底，按该时点计"),
    ("cumulative intermediate target", "estates25", [("2024", 21)], "2024", "on_track",
     21 / 20, "时序进度66.7%（应达20个）"),
    ("cumulative target year passed", "estates25", [("2026", 25)], "2026", "limited",
     25 / 30, "目标年限2025年已过"),
    ("cumulative period before the horizon", "estates", [("2025", 27)], "2022", "no_data",
     None, "早于规划期起点"),
    ("cumulative without data", "estates", [], "2025", "no_data", None, "尚无累计数据"),
    # annual
    ("annual met", "projects", [("2023", 32)], "2023", "achieved", 32 / 30, "当年达标"),
    ("annual within 90%", "projects", [("2023", 32), ("2024", 28)], "2024",
     "needs_acceleration", 28 / 30, "完成目标的93.3%"),
    ("annual below 90%", "projects", [("2023", 32), ("2024", 28), ("2025", 25)], "2025",
     "limited", 25 / 30, "2023年以来3个年度中1个达标"),
    ("annual year missing: latest year stands", "projects", [("2024", 31)], "2025",
     "achieved", 31 / 30, "2025年数据尚未报送，按最近年度数据（2024年）"),
    ("annual reported yearly, month period", "projects", [("2025", 31)], "2026-10",
     "achieved", 31 / 30, "按最近年度数据（2025年）"),
    ("annual ytd on schedule", "projects_m", [("2025", 31), ("2026-10", 25)], "2026-10",
     "on_track", 25 / 25, "按年度目标30个的10/12进度应达25个"),
    ("annual ytd slightly behind", "projects_m", [("2026-10", 23)], "2026-10",
     "needs_acceleration", 23 / 25, "进度比0.92"),
    ("annual ytd behind", "projects_m", [("2026-10", 20)], "2026-10", "limited", 20 / 25,
     "进度比0.80"),
    ("annual ytd already met", "projects_m", [("2026-06", 31)], "2026-10", "achieved",
     31 / 15, "已达到全年目标"),
    ("annual December ytd is the year", "projects_m", [("2025-12", 29)], "2025",
     "needs_acceleration", 29 / 30, "2025年29个"),
    ("annual no data", "projects", [], "2025", "no_data", None, "尚无年度数据"),
    # bottom lines: the line holds or not; growth does not enter
    ("bottom line held", "water", [("2023", 100), ("2025", 100)], "2025", "achieved", None,
     "守住底线；2023年以来2个年度中2个守住底线"),
    ("bottom line never held", "water", [("2024", 99.3), ("2025", 99.5)], "2025", "limited",
     None, "低于底线0.5个百分点，未守住底线"),
    ("bottom line broken after holding", "water", [("2024", 100), ("2025", 99.5)], "2025",
     "deterioration", None, "此前年度曾守住，现已跌破"),
    ("bottom line below despite growth", "supply", [("2023", 93), ("2025", 98.7)], "2025",
     "limited", None, "底线≥99%"),
    ("bottom line at a month", "supply", [("2025", 99.2), ("2026-10", 99.1)], "2026-10",
     "achieved", None, "2026年10月值99.1%"),
    ("bottom line no data in the plan period", "water", [], "2025", "no_data", None,
     "规划期内尚无数据"),
    # information: shown, never judged
    ("statement not judged", "units", [("2025", 40)], "2025", "not_assessed", None,
     "不作评价"),
    # strict comparisons (突破, 优于): the number itself does not meet the target
    ("strict above: equal is not met", "income", [("2027", 5)], "2027", "limited",
     math.log(5 / 3) / math.log(5 / 3), "方能于2027年超过5万元，R=1.00；目标年限2027年已到"),
    ("strict above: beyond is met", "income", [("2026", 5.01)], "2026", "achieved",
     ((5.01 / 3) ** (1 / 4) - 1) / ((5 / 3) ** (1 / 5) - 1), "已达到2027年目标＞5万元"),
    ("strict below: equal is not met", "pm25_strict", [("2026", 22)], "2026", "on_track",
     ((22 / 28) ** (1 / 4) - 1) / ((22 / 28) ** (1 / 5) - 1), "方能于2027年低于22微克/立方米"),
    # milestones, due 2025
    ("milestone done", "plan_done", [("2025", 1)], "2025", "done", None, "已完成"),
    ("milestone in progress", "plan_done", [("2024", 0.5)], "2024", "in_progress", None,
     "推进中（0.5）"),
    ("milestone not started", "plan_done", [("2024", 0)], "2024", "not_started", None, "未启动"),
    ("milestone overdue", "plan_done", [("2025", 0.5)], "2026", "overdue", None, "已逾期"),
    # a report covering the whole due year is past the deadline when the task is not done
    ("milestone overdue at the due year's end", "plan_done", [("2025", 0.5)], "2025", "overdue",
     None, "已逾期"),
    ("milestone due this year, mid-year", "plan_done", [("2025-06", 0.5)], "2025-06",
     "in_progress", None, "推进中"),
    ("milestone overdue within a month", "plan_done", [("2026-01", 0)], "2026-01", "overdue",
     None, "已逾期"),
    ("milestone without data", "plan_done", [], "2026", "no_data", None, "已过2025年底的完成时限"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_worked_examples(case):
    _, ind_id, obs, period, status, ratio, part = case
    a = run(ind_id, obs, period)
    assert a.status == status, a.reason
    assert a.status_zh == assess.STATUS[status][0]
    if ratio is None:
        assert a.ratio is None, a.reason
    else:
        assert a.ratio == pytest.approx(ratio, rel=1e-9), a.reason
    assert part in a.reason


def test_a_node_tracking_a_project_asked_short_of_finish_is_reached_not_done():
    """1 on a node whose project the plan asks only to reach 在建 (or 开工 ...) means that
    stage is reached: 已达要求阶段, green, never 已完成 (a reader understands: finished)."""
    a = assess.assess_indicator(IND["plan_done"], rows("plan_done", ("2025", 1)),
                                parse_period("2025"), short_of_finish=True)
    assert (a.status, a.status_zh, a.light) == ("reached", "已达要求阶段", "green")
    assert "已完成" not in a.reason
    late = assess.assess_indicator(IND["plan_done"], rows("plan_done", ("2025", 0.5)),
                                   parse_period("2026"), short_of_finish=True)
    assert late.status == "overdue"


def test_every_status_is_produced():
    seen = {run(c[1], c[2], c[3]).status for c in CASES}
    seen.add(assess.assess_indicator(IND["plan_done"], rows("plan_done", ("2025", 1)),
                                     parse_period("2025"), short_of_finish=True).status)
    assert seen == set(assess.STATUS)


def test_reason_names_the_numbers():
    a = run("output", [("2022", 688), ("2025", 812)], "2025")
    assert a.reason == ("2025年值812亿元，较2022年基期688亿元年均增长5.7%，需年均增长13.3%"
                        "方能于2025年达到1,000亿元，R=0.43；目标年限2025年已到，仍未达标")
    assert (a.baseline_value, a.baseline_year, a.baseline_source) == (688, 2022, "plan")
    assert (a.latest_value, a.latest_period) == (812, "2025")
    assert (a.target_value, a.target_year, a.target_op) == (1000, 2025, ">=")
    assert a.method == "growth_ratio"
    assert a.light == "red"


def test_registry_baseline_beats_an_observation_for_the_baseline_year():
    a = run("level", [("2022", 90), ("2025", 152)], "2025")
    assert a.baseline_value == 100
    assert a.ratio == pytest.approx(R(100, 152, 3, 200, 5))


def test_revisions_latest_counts_and_inputs_name_it():
    a = run("output", [("2022", 688), ("2025", 812, 1), ("2025", 1010, 2)], "2025")
    assert a.latest_value == 1010
    assert [(r.period, r.revision, r.file_sha256) for r in a.inputs] == [
        ("2022", 1, "sha-2022-1"), ("2025", 2, "sha-2025-2")]
    assert a.inputs[0].file == "observations/X.csv"
    assert a.inputs[0].indicator_id == "output"


def test_rows_after_the_period_are_ignored():
    a = run("level", [("2024", 130), ("2025", 210)], "2024")
    assert a.latest_period == "2024"
    assert all(r.period != "2025" for r in a.inputs)


def test_year_row_preferred_to_december_row():
    a = run("level", [("2025-12", 150), ("2025", 152)], "2025")
    assert a.latest_value == 152 and a.latest_period == "2025"


def test_other_indicators_rows_are_ignored():
    mixed = pd.concat([rows("level", ("2025", 152)), rows("output", ("2025", 10))])
    a = assess.assess_indicator(IND["level"], mixed, parse_period("2025"))
    assert a.latest_value == 152


# ---------------------------------------------------------------- lights

LIGHT_CASES = [
    ("level", [("2025", 210)], "2025", "green"),
    ("level", [("2025", 152)], "2025", "green"),
    ("level", [("2025", 130)], "2025", "yellow"),
    ("output", [("2025", 812)], "2025", "red"),
    ("level", [("2025", 90)], "2025", "red"),
    ("level", [], "2025", "grey"),
    ("plan_done", [("2025", 1)], "2025", "green"),
    ("plan_done", [("2024", 0.5)], "2024", "green"),  # in progress before the due year
    ("plan_done", [("2025-06", 0.5)], "2025-06", "yellow"),  # in progress in the due year
    ("plan_done", [("2024", 0)], "2024", "yellow"),  # not started before the due year
    ("plan_done", [("2025-06", 0)], "2025-06", "red"),  # not started in the due year
    ("plan_done", [("2025", 0.5)], "2026", "red"),  # overdue
]


@pytest.mark.parametrize("ind_id,obs,period,light", LIGHT_CASES)
def test_lights(ind_id, obs, period, light):
    assert run(ind_id, obs, period).light == light


# ---------------------------------------------------------------- share scaling


@pytest.mark.parametrize("baseline,rising,scale", [
    (50, True, 1.0), (80, True, 1.0), (90, True, 0.75), (96, True, 0.6), (100, True, 0.5),
    (5, False, 0.625), (30, False, 1.0)])
def test_share_scale(baseline, rising, scale):
    assert assess.share_scale(baseline, rising) == pytest.approx(scale)


# ---------------------------------------------------------------- annual tallies


def test_annual_years_met_counting():
    a = run("projects", [("2022", 40), ("2023", 32), ("2024", 28), ("2025", 30), ("2026", 29)],
            "2026")
    assert (a.years_met, a.years_observed) == (2, 4)  # 2022 is before the plan
    assert [r.period for r in a.inputs] == ["2023", "2024", "2025", "2026"]


def test_annual_ytd_projects_the_year_at_run_rate():
    a = run("projects_m", [("2026-10", 20)], "2026-10")
    assert a.method == "annual_ytd"
    assert a.projected_value == pytest.approx(24)
    assert a.projected_year == 2026 and a.projected_meets_target is False


# ---------------------------------------------------------------- projections


def test_projection_range_with_three_points():
    a = run("level", [("2023", 110), ("2024", 115), ("2025", 130)], "2025")
    central = 130 * (1 + cagr(100, 130, 3)) ** 2
    spans = [130 * (1 + g) ** 2 for g in (0.10, 115 / 110 - 1, 130 / 115 - 1)]
    assert a.projected_year == 2027
    assert a.projected_value == pytest.approx(central)
    assert a.projection_low == pytest.approx(min(spans))
    assert a.projection_high == pytest.approx(max(spans))
    assert a.projected_meets_target is False
    assert a.projection_low <= a.projected_value <= a.projection_high


def test_projection_two_points_has_no_range():
    a = run("level", [("2025", 152)], "2025")
    assert a.projected_value == pytest.approx(152 * (1.52 ** (1 / 3)) ** 2)
    assert a.projected_meets_target is True
    assert a.projection_low is None and a.projection_high is None


def test_projection_cumulative_is_linear():
    a = run("estates", [("2024", 15), ("2025", 27)], "2025")
    assert a.projected_value == pytest.approx(27 + 9 * 2)
    assert a.projected_meets_target is True
    assert a.projection_low == pytest.approx(27 + 7.5 * 2)  # 2023-2024 pace
    assert a.projection_high == pytest.approx(27 + 12 * 2)  # 2024-2025 pace


def test_projection_share_is_clamped():
    a = run("share", [("2023", 96), ("2024", 99)], "2024")
    assert a.projected_value == 100
    assert a.projection_high == 100


def test_projection_linear_for_non_positive_values():
    a = run("zero", [("2025", 15)], "2025")
    assert a.projected_value == pytest.approx(25)
    assert a.projected_meets_target is False


def test_no_projection_when_data_reach_the_target_year():
    a = run("output", [("2025", 812)], "2025")
    assert a.projected_value is None and a.projected_meets_target is None


# ---------------------------------------------------------------- many indicators


def fixture_registry() -> Registry:
    ids = ["level", "output", "pm25", "estates", "projects", "plan_done"]
    tasks = {
        "三(一)1": Task(id="三(一)1", chapter="三", title="工业提质", departments=("发改局",),
                       indicators=("level", "output", "pm25"), section="三(一)"),
        "三(二)1": Task(id="三(二)1", chapter="三", title="老旧小区", departments=("住建局",),
                       indicators=("estates", "output"), section="三(二)"),
        "五(一)1": Task(id="五(一)1", chapter="五", title="项目", departments=("发改局",),
                       indicators=("projects",), section="五(一)"),
        "六(一)1": Task(id="六(一)1", chapter="六", title="方案", departments=("住建局",),
                       indicators=("plan_done",), section="六(一)"),
    }
    return Registry(indicators={i: IND[i] for i in ids}, tasks=tasks, departments={},
                    plan_text="")


def fixture_observations() -> pd.DataFrame:
    return pd.concat([
        rows("level", ("2025", 152)),  # on_track
        rows("output", ("2025", 812)),  # limited
        rows("pm25", ("2025", 21)),  # achieved
        rows("estates", ("2025", 23)),  # needs_acceleration
        # projects: no data
        rows("plan_done", ("2025", 0.5)),  # in_progress, due this year: yellow
    ], ignore_index=True)


def test_assess_all_in_registry_order():
    reg = fixture_registry()
    out = assess.assess_all(reg, fixture_observations(), parse_period("2025"))
    assert [a.indicator_id for a in out] == list(reg.indicators)
    assert [a.status for a in out] == ["on_track", "limited", "achieved",
                                       "needs_acceleration", "no_data", "overdue"]


def test_assess_all_with_no_observations():
    reg = fixture_registry()
    out = assess.assess_all(reg, pd.DataFrame(columns=["indicator_id", "period", "value"]),
                            parse_period("2025"))
    assert {a.status for a in out} == {"no_data"}


def test_aggregate_counts():
    reg = fixture_registry()
    out = assess.assess_all(reg, fixture_observations(), parse_period("2025"))
    by_chapter = tables.aggregate(reg, out, "chapter").set_index("chapter")
    assert list(by_chapter.index) == ["三", "五", "六"]
    assert by_chapter.loc["三", "indicators"] == 4
    assert by_chapter.loc["三", ["achieved", "on_track", "needs_acceleration", "limited"]
                          ].tolist() == [1, 1, 1, 1]
    assert by_chapter.loc["三", "green"] == 2
    assert by_chapter.loc["三", "green_share"] == pytest.approx(0.5)
    assert by_chapter.loc["三", "title"] == "全面提升县城承载能力"
    assert by_chapter.loc["五", "no_data"] == 1 and by_chapter.loc["五", "grey"] == 1
    assert by_chapter.loc["六", "red"] == 1  # the milestone due 2025 is overdue at its end

    by_task = tables.aggregate(reg, out, "task").set_index("task")
    assert list(by_task.index) == list(reg.tasks)
    assert by_task.loc["三(二)1", "indicators"] == 2  # output counts under both tasks
    assert by_task.loc["三(二)1", "title"] == "老旧小区"

    by_section = tables.aggregate(reg, out, "section").set_index("section")
    assert by_section["indicators"].sum() == len(out)

    by_lead = tables.aggregate(reg, out, "lead").set_index("lead")
    assert by_lead.loc["发改局", "indicators"] == 4
    assert by_lead.loc["住建局", "needs_acceleration"] == 1
    assert by_lead.loc["住建局", "overdue"] == 1
    with pytest.raises(ValueError):
        tables.aggregate(reg, out, "county")


def test_status_table_and_records():
    reg = fixture_registry()
    out = assess.assess_all(reg, fixture_observations(), parse_period("2025"))
    table = tables.status_table(out)
    assert list(table.columns) == list(tables.STATUS_TABLE_COLUMNS)
    first = table.iloc[0].to_dict()
    assert first == {"id": "level", "name": "指标level", "latest": "152亿元", "period": "2025",
                     "target": "2027年≥200亿元", "status": "符合进度", "light": "green"}
    assert table.iloc[5]["latest"] == "推进中"
    assert table.iloc[5]["target"] == "2025年完成"
    assert table.iloc[4]["latest"] == "—"

    records = tables.to_records(out)
    json.dumps(records, ensure_ascii=False)
    required = {"indicator_id", "name", "kind", "unit", "baseline_value", "baseline_year",
                "latest_value", "latest_period", "target_value", "target_year", "ratio",
                "status", "light", "reason", "projected_value", "projected_meets_target"}
    assert all(required <= set(r) for r in records)
    assert records[0]["inputs"][0] == {"indicator_id": "level", "period": "2025",
                                       "revision": 1, "file_sha256": "sha-2025-1",
                                       "file": "observations/X.csv"}
    assert all(not (isinstance(v, float) and math.isnan(v)) for r in records for v in r.values())


# ---------------------------------------------------------------- sentences a reader can check


def test_required_rate_is_stated_from_the_latest_value_and_names_its_base():
    a = run("level", [("2025", 110)], "2025")
    g_now = (200 / 110) ** (1 / 2) - 1
    g_base = 2 ** (1 / 5) - 1
    assert f"按2025年值计，此后需年均增长{g_now * 100:.1f}%方能于2027年达到200亿元" in a.reason
    assert f"按2022年基期计所需年均增长{g_base * 100:.1f}%，R据此计算" in a.reason


def test_printed_schedule_reproduces_the_printed_due_count():
    a = run("estates", [("2025", 15)], "2025")
    assert "时序进度60.0%（应达26个）" in a.reason  # 44 x 60.0% = 26.4 -> 26, not 26.41
    ind = IND["estates"]
    share, due = assess.schedule_due(ind, ind.final_target, parse_period("2025").end)
    assert (share, due) == (0.6, 26.0)


def test_counts_are_whole_and_amounts_keep_decimals():
    assert assess.whole(18.007, "家") == 18.0
    assert assess.whole(840.3, "幢") == 840.0
    assert assess.whole(840.3, "亿元") == 840.3


def test_assess_all_over_the_whole_store_equals_each_indicator_assessed_alone():
    """assess_all picks every indicator's rows from the whole store at once (one sort, once
    for several periods); each status, reason and input row must be what assessing the
    indicator alone gives: revisions, sample beside real, quarters and months beside years,
    unnumeric values, rows in stored (not sorted) order."""
    store = pd.concat([
        rows("level", ("2025", 152, 2), ("2022", 100), ("2025", 140, 1), ("2024-Q4", 130),
             ("2024", 131), ("2026-03", 150), ("2023", "n/a")),
        rows("output", ("2025", 812), ("2024", 700, 3), ("2024", 690, 1)),
        rows("pm25", ("2025", 21), ("2023", 26)),
        rows("estates", ("2026-10", 35), ("2025", 23), ("2024", 20), ("2025", 24, 2)),
        rows("projects", ("2025", 12), ("2026", 31)),
        rows("projects_m", ("2025-06", 12), ("2025-12", 28), ("2025-09", 15)),
        rows("plan_done", ("2025", 0.5), ("2024", 0.2)),
        rows("nobase", ("2023", 50), ("2025", 60)),
        rows("share", ("2025", 94)),
    ], ignore_index=True)
    # Sample rows beside real ones: a real one of the same period wins whatever its revision.
    sample = rows("level", ("2025", 999, 5), ("2027", 300)).assign(status="sample")
    only_sample = rows("far_share", ("2024", 55), ("2025", 57)).assign(status="sample")
    store = pd.concat([store, sample, only_sample], ignore_index=True).sample(
        frac=1, random_state=7).reset_index(drop=True)
    reg = Registry(indicators=dict(IND), tasks={}, departments={}, plan_text="")
    points = assess.indicator_points(store)
    for code in ("2021", "2023", "2024", "2025-06", "2025", "2026-10", "2026", "2027"):
        period = parse_period(code)
        alone = [assess.assess_indicator(i, store, period) for i in reg.indicators.values()]
        assert assess.assess_all(reg, store, period) == alone, code
        assert assess.assess_all(reg, store, period, points=points) == alone, code


def test_assess_all_on_the_sample_store_equals_each_indicator_assessed_alone():
    from pathlib import Path

    from planbook.plan.registry import load_registry
    from planbook.store import observations

    data = Path(__file__).resolve().parents[1] / "data"
    reg = load_registry(data)
    store = observations.load_all(data, reg)
    points = assess.indicator_points(store)
    for code in ("2023", "2025", "2026-03", "2026-10"):
        period = parse_period(code)
        alone = [assess.assess_indicator(i, store, period) for i in reg.indicators.values()]
        assert assess.assess_all(reg, store, period, points=points) == alone, code
