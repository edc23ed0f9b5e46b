"""Issues 24 and 25: values within their kind's range, slips caught from the first figure,
periods that follow frequency, one time rule for every workbook kind, one time zone.
Real registry (data/plan) and the sample store, read only, except where a project copy is
made."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from planbook import cli, clock
from planbook.assess.rules import assess_indicator
from planbook.errors import ParamsError
from planbook.plan import frequency
from planbook.plan.params import period_refusal
from planbook.plan.periods import parse_period
from planbook.plan.registry import load_registry
from planbook.store import limits, plausibility, statements
from planbook.store.intake import ingest
from planbook.store.observations import load_observations

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
HEADER = "指标编号,期间,数值,单位,数据状态,数据来源,备注\n"
TODAY = date(2026, 12, 6)


@pytest.fixture(scope="module")
def reg():
    return load_registry(DATA)


@pytest.fixture(scope="module")
def store():
    return load_observations(DATA)


def dry(tmp_path: Path, body: str, data: Path = DATA, **kw):
    f = tmp_path / "x.csv"
    f.write_text(HEADER + body, encoding="utf-8")
    return ingest([f], data, dry_run=True, check=False, today=TODAY, **kw)


# ---------------------------------------------------------------- A: limits


@pytest.mark.parametrize("value", ["1e308", "-1e308", "1e-300", "inf"])
def test_absurd_gdp_is_refused_at_intake(tmp_path, value):
    report = dry(tmp_path, f"ind_gdp,2025,{value},亿元,,,\n")
    assert not report.ok and report.problems[0].column == "数值"


@pytest.mark.parametrize("ind_id, value", [
    ("ind_high_skill_talent_trained", 1086.5),  # a count is whole
    ("ind_high_skill_talent_trained", 2e9),  # above the count ceiling
    ("ind_high_skill_talent_trained", -3),
    ("ind_in_county_visit_rate", 100.5),  # a share
    ("ind_gdp", 2e5),  # 20 万亿元
])
def test_values_beyond_their_kind(reg, ind_id, value):
    assert limits.out_of_range(reg.indicators[ind_id], value)


@pytest.mark.parametrize("ind_id, value", [
    ("ind_high_skill_talent_trained", 1086), ("ind_hogs_slaughtered", 19.13),
    ("ind_in_county_visit_rate", 100), ("ind_gdp", -5.5), ("ind_gdp", 0)])
def test_values_within_their_kind(reg, ind_id, value):
    assert limits.out_of_range(reg.indicators[ind_id], value) is None


def test_every_sample_value_is_within_its_limits(reg, store):
    for ind_id, rows in store.groupby("indicator_id"):
        if ind_id in reg.indicators:
            assert not limits.outside(reg.indicators[ind_id], rows["value"]).any(), ind_id


@pytest.mark.parametrize("value", [1e308, -1e308, 1e-300])
def test_absurd_stored_value_is_never_judged(reg, value):
    rows = pd.DataFrame([{"indicator_id": "ind_gdp", "period": "2025", "value": value,
                          "revision": 1, "status": "official", "file_sha256": "x"}])
    a = assess_indicator(reg.indicators["ind_gdp"], rows, parse_period("2025"))
    assert (a.status, a.light, a.latest_value) == ("not_assessed", "grey", None)
    assert "数据有误" in a.reason


# ---------------------------------------------------------------- C: plausibility


def _flags(reg, store, ind_id, period, value):
    ref = plausibility.Reference(store)
    return plausibility.check_value(reg.indicators[ind_id], period, value, ref)


def test_the_two_slips_of_issue_25(tmp_path, reg, store):
    # 上期值 1086 (2026-09); the store's own 2026-10 is left out, as in the issue
    ref = plausibility.Reference(store[store.period != "2026-10"])
    found = plausibility.check_value(reg.indicators["ind_high_skill_talent_trained"],
                                     "2026-10", 11060, ref)
    assert "，".join(f.message for f in found) == "是上期值1086的10.2倍，是2027年目标1500的7.4倍"
    report = dry(tmp_path, "ind_gdp,2026-Q3,1200,亿元,,,\n")
    [p] = report.problems
    assert p.message == "数值需核实：地区生产总值 1200：是2027年目标600的2倍"
    assert (p.row, p.column, p.entry) == (2, "数值", "ind_gdp")
    assert "--confirm" in p.expected
    assert dry(tmp_path, "ind_gdp,2026-Q3,1200,亿元,,,已核实\n").ok
    assert dry(tmp_path, "ind_gdp,2026-Q3,1200,亿元,,,\n", confirm=True).ok


@pytest.mark.parametrize("ind_id, period, value, code", [
    ("ind_gdp", "2025", 5468, "jump"),  # a correction ×10 of the stored 546.8
    ("ind_gdp", "2026", 54.68, "jump"),  # ÷10 of 2025
    ("ind_gdp", "2026", -546.8, "sign"),
    ("ind_gdp", "2026", 1000, "target"),  # 1.7 × the 2027 target, though under ×2 of 2025
    ("ind_high_skill_talent_trained", "2026-10", 1000, "falling"),
    ("ind_high_skill_talent_trained", "2026-11", 3200, "target"),  # 2.1 × 1500
    ("ind_key_project_investment", "2026-11", 150, "falling"),
    ("ind_output_industrial", "2026", 2100, "target"),  # 1.5 × 1376 and a bit
    ("ind_output_industrial", "2026", 200, "baseline"),  # under a third of 688
    ("ind_rural_income_per_capita", "2026", 32000, "target"),  # 元 typed for 万元
    ("ind_pm25", "2026-10", 220, "target"),  # 10 × the ceiling 22
    ("ind_projects_100m_annual", "2026", 300, "target"),  # 10 × a year's 30
    ("ind_in_county_visit_rate", "2026-10", 0.9, "fraction"),
])
def test_subtler_slips_are_flagged(reg, store, ind_id, period, value, code):
    assert code in [f.code for f in _flags(reg, store, ind_id, period, value)]


@pytest.mark.parametrize("ind_id, period, value", [
    ("ind_gdp", "2026", 580), ("ind_gdp", "2026-Q3", 420),
    ("ind_high_skill_talent_trained", "2026-11", 1130),
    ("ind_output_industrial", "2026", 1800), ("ind_projects_100m_annual", "2026-10", 25),
])
def test_ordinary_figures_pass(reg, store, ind_id, period, value):
    assert _flags(reg, store, ind_id, period, value) == []


def test_sample_store_passes_its_own_checks(reg, store):
    """Each sample row against the rows before it: no flag but the falling totals of the
    sample's deliberate 出现倒退 scenario (each row carries a 备注, which confirms it)."""
    rows = store.sort_values(["indicator_id", "period"])
    for ind_id, mine in rows.groupby("indicator_id"):
        ind = reg.indicators.get(ind_id)
        if ind is None:
            continue
        for n in range(len(mine)):
            ref = plausibility.Reference(mine.iloc[:n])
            rec = mine.iloc[n]
            codes = {f.code for f in plausibility.check_value(ind, rec.period, rec.value, ref)}
            assert codes <= {"falling"} and (not codes or rec.note), (ind_id, rec.period)


# ---------------------------------------------------------------- D: frequency


def test_periods_follow_frequency(tmp_path):
    report = dry(tmp_path, "ind_gdp,2026-10,560,亿元,,,\nind_urbanization_rate,2026-Q3,70,%,,,\n"
                           "ind_high_skill_talent_trained,2026-Q3,1100,名,,,\n")
    assert [(p.row, p.column, p.message) for p in report.problems] == [
        (r, "期间", "期间与指标的报送频率不符") for r in (2, 3, 4)]
    assert "季度" in report.problems[0].expected


def test_template_asks_each_row_for_its_period(reg):
    p = parse_period("2026-10")
    gdp = frequency.due_period(reg.indicators["ind_gdp"], p)
    assert gdp.code == "2026-Q3"
    assert frequency.due_period(reg.indicators["ind_urbanization_rate"], p).code == "2025"
    assert frequency.due_period(reg.indicators["ind_pm25"], p).code == "2026-10"
    annual = reg.indicators["ind_projects_100m_annual"]
    assert frequency.period_note(annual, parse_period("2026-Q3")) == "2026年1—3季度累计"


def test_templates_write_the_due_period_and_its_note(tmp_path, reg):
    from planbook.store.templates import write_templates

    written = write_templates(reg, parse_period("2026-10"), tmp_path, DATA)
    rows = pd.concat([pd.read_csv(f, dtype=str, encoding="utf-8-sig")
                      for f in written if f.suffix == ".csv"]).set_index("指标编号")
    assert rows.loc["ind_gdp", "期间"] == "2026-Q3"
    assert rows.loc["ind_gdp", "期间说明"].startswith("季度报送")
    assert rows.loc["ind_urbanization_rate", "期间"] == "2025"
    assert rows.loc["ind_projects_100m_annual", "期间说明"] == "月度报送：2026年1—10月累计"


# ---------------------------------------------------------------- B: one time rule


def test_plan_range_and_future_cut_off_refused_with_one_message():
    assert "不在方案期内" in period_refusal("2028")
    assert "不在方案期内" in period_refusal("2028", kind="final")  # the 总结评估 is 2027's
    assert "晚于今天" in period_refusal("2027", kind="final", as_of="2028-03-31", today=TODAY)
    why = period_refusal("2026-12", as_of="2026-12-31", today=TODAY)
    assert "晚于今天" in why
    assert period_refusal("2026-10", as_of="2026-11-10", today=TODAY) is None


@pytest.mark.parametrize("argv", [["templates", "--period", "2028", "--out", "OUT"],
                                  ["status", "--period", "2028"],
                                  ["build", "--period", "2028"]])
def test_commands_refuse_a_period_beyond_the_plan_alike(tmp_path, capsys, argv):
    argv = [a.replace("OUT", str(tmp_path / "t")) for a in argv]
    assert cli.main(argv) != 0
    assert "期间 2028 不在方案期内（2023—2027 年）" in capsys.readouterr().err
    assert not (tmp_path / "t").exists()


def test_params_with_a_future_cut_off_are_refused(project, monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    (project / "params" / "2026-11.yml").write_text(
        'period: "2026-11"\nas_of: "2026-12-10"\ndata_dir: data\nkind: briefing\n'
        "plan_id: jiande-2023-2027\n", encoding="utf-8")
    from planbook.plan.params import load_params

    with pytest.raises(ParamsError, match="晚于今天"):
        load_params("2026-11", project)


STATEMENT = ("任务编号,期间,报送单位,主要进展,存在问题,下步打算,佐证材料\n"
             "三(二)1,{period},交通运输局,示例,,,{evidence}\n")


def _statement(tmp_path, period="2025", evidence="《方案》（2025-06-30）"):
    f = tmp_path / "s.csv"
    f.write_text(STATEMENT.format(period=period, evidence=evidence), encoding="utf-8")
    return f


def test_statements_take_received_like_figures(project, tmp_path):
    data = project / "data"
    report = statements.ingest([_statement(tmp_path, "2024", "《方案》（2024-06-30）")], data,
                               received=date(2025, 3, 1))
    assert report.files[0].received_at == "2025-03-01T00:00:00+08:00"
    refused = statements.ingest([_statement(tmp_path, "2025-06")], data, dry_run=True,
                                received=date(2025, 3, 1), check=False)
    assert "期间尚未结束" in refused.problems[0].message
    with pytest.raises(Exception, match="晚于今天"):
        statements.ingest([_statement(tmp_path, "2027")], data, received=date(2099, 1, 1))


def test_evidence_and_stage_dates_follow_one_rule(tmp_path, project):
    late = statements.ingest([_statement(tmp_path, evidence="《总结》（2026-01-05）")],
                             project / "data", dry_run=True, check=False, today=TODAY)
    [p] = late.problems
    assert (p.column, p.message) == ("佐证材料", "日期晚于期间末")


# ---------------------------------------------------------------- E: one zone


def test_every_stamp_is_in_jiande(project, tmp_path):
    assert clock.stamp().endswith("+08:00")
    f = tmp_path / "a.csv"
    f.write_text(HEADER + "ind_gdp,2026-Q3,420,亿元,,,\n", encoding="utf-8")
    assert ingest([f], project / "data", check=False).ok
    stored = load_observations(project / "data")
    real = stored[stored.status != "sample"]["received_at"]
    assert all(re.search(r"\+08:00$", t) for t in real)
    report = statements.ingest([_statement(tmp_path)], project / "data")
    assert report.files[0].received_at.endswith("+08:00")

