"""The front chapter's judgement: assess.judgement's pure functions on small fixtures, the
evaluator's extended file, its template and sample, and the built 2025 book's 总体评估."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from planbook.assess import judgement as jd
from planbook.assess.projects import ProjectAssessment
from planbook.assess.rules import Assessment
from planbook.plan.periods import parse_period
from planbook.plan.registry import load_registry
from planbook.store.evaluation import (
    EvaluationError,
    load_evaluation,
    parse_evaluation,
    template_text,
)

ROOT = Path(__file__).resolve().parents[1]


def a(ident="ind_x", kind="level", status="on_track", light="green", *, base=100.0,
      latest=110.0, target=120.0, op=">=", ratio=1.0, projected=None, meets=None,
      latest_period="2025", every_year=False) -> Assessment:
    return Assessment(
        indicator_id=ident, name=ident, kind=kind, unit="", lead="发改局", period="2025",
        baseline_value=base, baseline_year=2022, baseline_source="plan", latest_value=latest,
        latest_period=latest_period, target_value=target, target_year=2027, target_op=op,
        target_every_year=every_year, ratio=ratio, method=None, status=status,
        status_zh=status, light=light, reason="", projected_value=projected,
        projected_meets_target=meets)


def project(pid="p", stage="在建", target="完工", year=2027, status="in_progress",
            light="green") -> ProjectAssessment:
    return ProjectAssessment(project_id=pid, name=pid, task="三(二)1", lead="交通运输局",
                             target_stage=target, target_year=year, current_stage=stage,
                             stage_date="2025-12-31", reported_period="2025", status=status,
                             light=light, reason="")


@pytest.fixture(scope="module")
def registry():
    return load_registry(ROOT / "data")


# ---------------------------------------------------------------- time and pace


def test_the_end_of_2025_is_sixty_percent_of_the_plan_period():
    assert round(jd.time_elapsed(parse_period("2025")), 3) == 0.6
    assert jd.time_elapsed(parse_period("2027")) == 1.0


def test_midterm_adjustments_belong_to_the_midpoint():
    assert jd.adjustment_applies("midterm", parse_period("2026"))
    assert jd.adjustment_applies("annual", parse_period("2025"))
    assert not jd.adjustment_applies("annual", parse_period("2024"))
    assert not jd.adjustment_applies("final", parse_period("2027"))
    assert not jd.adjustment_applies("briefing", parse_period("2025-10"))


def test_completion_of_a_cumulative_target_is_the_share_of_its_distance():
    assert jd.completion(a(kind="cumulative", base=0, latest=30, target=50)) == 0.6
    assert jd.completion(a(kind="cumulative", base=10, latest=30, target=50)) == 0.5
    assert jd.completion(a(kind="level")) is None
    assert jd.completion(a(kind="cumulative", latest=None)) is None


def test_a_field_holds_when_its_median_completion_keeps_pace_and_most_lights_are_green():
    on = a("c1", kind="cumulative", base=0, latest=7, target=10)
    behind = a("c2", kind="cumulative", base=0, latest=4, target=10, status="limited",
               light="red")
    green = a("l1")
    grey = a("g", status="no_data", light="grey", latest=None)
    fp = jd.field_pace("三", [on, behind, green, grey], 0.6)
    assert fp.median_completion == pytest.approx(0.55) and len(fp.on_pace) == 1
    assert len(fp.judged) == 3 and len(fp.green) == 2
    assert fp.holds is False  # median 55% < 60% elapsed
    assert jd.field_pace("三", [on, green], 0.6).holds is True
    assert jd.field_pace("三", [green, behind], 0.6).holds is False  # median 40%
    assert jd.field_pace("六", [grey], 0.6).holds is None  # nothing judged
    # without cumulative targets the lights alone decide
    assert jd.field_pace("五", [green, a("l2", status="limited", light="red"), a("l3")],
                         0.6).holds is True


def test_projection_reach_counts_the_final_year_targets_only():
    items = [a("met", status="achieved"), a("yes", meets=True), a("no", meets=False),
             a("unk"), a("ms", kind="milestone", meets=None),
             a("every", every_year=True, meets=False)]
    r = jd.projection_reach(items)
    assert [x.indicator_id for x in r.reaches] == ["met", "yes"]
    assert [x.indicator_id for x in r.misses] == ["no"]
    assert [x.indicator_id for x in r.unknown] == ["unk"]
    assert r.total == 4


# ---------------------------------------------------------------- achievements, problems


def test_achievements_list_met_ahead_largest_gains_and_finished_projects():
    items = [a("met", status="achieved", latest=130), a("fast", ratio=1.5, latest=118),
             a("slow", ratio=1.0, latest=101),
             a("ceiling", kind="ceiling", op="<=", base=10, latest=5, target=8, ratio=1.3)]
    projects = {"p1": project("p1", stage="完工", status="done"),
                "p2": project("p2", stage="在建", target="在建", status="reached"),
                "p3": project("p3", stage="前期")}
    ach = jd.achievements(items, projects, top=2)
    assert [x.indicator_id for x in ach.achieved] == ["met"]
    assert [x.indicator_id for x in ach.ahead] == ["fast", "ceiling"]
    assert [(x.indicator_id, round(g, 2)) for x, g in ach.gains] == [("ceiling", 0.5),
                                                                      ("met", 0.3)]
    assert [p.project_id for p in ach.finished] == ["p1"]
    assert [p.project_id for p in ach.reached] == ["p2"]


def test_problems_are_grouped_by_field_with_silent_leads(registry):
    ind = next(i for i in registry.home("四"))
    falling = a(ind.id, status="deterioration", light="red")
    by_id = {ind.id: falling}
    fields = jd.problems_by_field(registry, by_id, {}, stated=[])
    four = next(f for f in fields if f.chapter == "四")
    assert [x.indicator_id for x in four.falling] == [ind.id] and not four.slow
    leads = dict(four.unreported)
    tasks = [t for t in registry.tasks.values() if t.chapter == "四"]
    assert sum(len(v) for v in leads.values()) == sum(1 for t in tasks if t.lead)
    stated = {t.id for t in tasks}
    four = next(f for f in jd.problems_by_field(registry, by_id, {}, stated)
                if f.chapter == "四")
    assert four.unreported == ()


# ---------------------------------------------------------------- what is now required


def test_rural_income_now_needs_sixteen_point_nine_percent_a_year():
    income = a("ind_rural_income_per_capita", status="deterioration", light="red",
               base=3.8, latest=3.66, target=5.0, op=">", ratio=-0.22, projected=3.57,
               meets=False)
    req = jd.requirement(income)
    assert req.how == "rate" and req.years == 2.0
    assert round(req.value * 100, 1) == 16.9
    assert jd.observed_rate(income) == pytest.approx(-0.0124, abs=1e-3)
    cands = jd.adjustment_candidates([income])
    assert [c.assessment.indicator_id for c in cands] == ["ind_rural_income_per_capita"]
    assert round(cands[0].shortfall, 3) == 0.286


def test_requirements_by_kind_and_none_once_met():
    cum = jd.requirement(a(kind="cumulative", base=0, latest=40, target=100,
                           status="limited", light="red"))
    assert (cum.how, cum.value) == ("amount", 30.0)
    each = jd.requirement(a(kind="annual", status="limited", light="red", target=300))
    assert (each.how, each.value) == ("each_year", 300)
    assert jd.requirement(a(status="achieved")) is None
    assert jd.requirement(a(latest=None)) is None
    assert jd.requirement(a(latest_period="2027")) is None  # no years left


def test_adjustment_margin_keeps_near_misses_off_the_list():
    near = a("near", projected=110, target=120, meets=False)  # 8.3% short
    far = a("far", projected=80, target=120, meets=False)  # 33% short
    ceiling = a("cap", op="<=", projected=12, target=8, meets=False)  # 50% over
    got = [c.assessment.indicator_id for c in jd.adjustment_candidates([near, far, ceiling])]
    assert got == ["cap", "far"]


def test_the_next_stage_a_project_must_reach():
    assert jd.next_stage(project(stage="前期", target="完工", year=2027), 2026) == ("开工", 2027)
    assert jd.next_stage(project(stage="前期", target="完工", year=2025), 2026) == ("完工", 2025)
    assert jd.next_stage(project(stage=None, target="在建"), 2026) == ("谋划", 2027)
    assert jd.next_stage(project(stage="完工", status="done"), 2026) is None
    assert jd.next_stage(project(stage="在建", target="在建", status="reached"), 2026) is None


# ---------------------------------------------------------------- the evaluator's file

FRONT = {"period": "2025", "evaluator": "评估组", "date": "2026-03-31", "status": "reviewed",
         "signoff": "审定稿", "conclusion": "总体推进平稳。",
         "organisation": {"issuer": "建德市发展和改革局", "methods": ["座谈", "部门自评"],
                          "start": "2026-01-05", "end": "2026-03-31",
                          "sources": ["统计公报", "部门台账"]},
         "fields": [{"field": "四", "problems": "用地偏紧。"},
                    {"field": "三（一）", "lead": "经信局", "recommendations": "加快平台建设。"}],
         "tasks": []}


def write(tmp_path: Path, content: dict) -> Path:
    folder = tmp_path / "evaluation"
    folder.mkdir(exist_ok=True)
    (folder / "2025.yaml").write_text(yaml.safe_dump(content, allow_unicode=True),
                                      encoding="utf-8")
    return tmp_path


def test_the_front_part_of_the_evaluators_file_loads(tmp_path, registry):
    ev = load_evaluation(write(tmp_path, FRONT), "2025", registry)
    assert ev.signoff == "审定稿" and ev.conclusion == "总体推进平稳。"
    assert ev.organisation.issuer == "建德市发展和改革局"
    assert ev.organisation.methods == ("部门自评", "座谈")  # in METHODS order
    assert [(f.field, f.lead) for f in ev.fields] == [("三(一)", "经信局"), ("四", "")]
    assert [f.field for f in ev.fields_of("四")] == ["四"]


@pytest.mark.parametrize("change, entry, fld", [
    ({"signoff": "终稿"}, None, "signoff"),
    ({"organisation": {"methods": ["电话"]}}, "organisation", "methods"),
    ({"organisation": {"start": "2026-03-31", "end": "2026-01-01"}}, "organisation", "end"),
    ({"organisation": {"boss": "x"}}, "organisation", "boss"),
    ({"fields": [{"field": "九", "problems": "x"}]}, "fields 九", "field"),
    ({"fields": [{"field": "三(九)", "problems": "x"}]}, "fields 三(九)", "field"),
    ({"fields": [{"field": "三", "lead": "无此局", "problems": "x"}]}, "fields 三 无此局", "lead"),
    ({"fields": [{"field": "三", "problems": "x"}, {"field": "三", "achievements": "y"}]},
     "fields 三", "field"),
    ({"conclusion": "长" * 900}, None, "conclusion"),
])
def test_a_bad_front_part_is_refused_with_entry_and_field(tmp_path, registry, change, entry,
                                                          fld):
    with pytest.raises(EvaluationError) as err:
        load_evaluation(write(tmp_path, {**FRONT, **change}), "2025", registry)
    assert any(p.entry == entry and p.field == fld for p in err.value.problems), \
        err.value.problems


def test_the_template_names_every_task_and_a_filled_copy_loads(tmp_path, registry):
    text = template_text(registry, "2025")
    for t in registry.tasks:
        if t != "二":
            assert f'task: "{t}"' in text
    raw = yaml.safe_load(text)
    raw.update(evaluator="评估组", date="2026-03-31")
    raw["organisation"]["issuer"] = "建德市发展和改革局"
    raw["tasks"] = [{**e, "grade": "较好", "opinion": "推进顺利。"} for e in raw["tasks"][:2]]
    ev = parse_evaluation(write(tmp_path, raw) / "evaluation" / "2025.yaml", "2025", registry)
    assert ev.fields == () and len(ev.judgements) == 2  # blank field entries are not stated


def test_sample_opinions_vary_and_no_sentence_repeats_across_more_than_three_tasks():
    raw = yaml.safe_load((ROOT / "data" / "evaluation" / "2025.yaml").read_text("utf-8"))
    counts = Counter(s for t in raw["tasks"]
                     for s in {x for x in re.split(r"(?<=。)", t["opinion"]) if x})
    assert max(counts.values()) <= 3, counts.most_common(3)
    assert all(t["opinion"].startswith("示例") for t in raw["tasks"])
    assert raw["conclusion"].startswith("示例") and raw["organisation"]["issuer"].endswith("（示例）")
    assert all(v.startswith("示例") for f in raw["fields"] for k, v in f.items()
               if k not in ("field", "lead"))


# ---------------------------------------------------------------- the built book


def test_the_built_2025_book_opens_with_the_judgement_chapter(sample_build):
    html = sample_build / "reports" / "2025" / "html"
    page = (html / "00b_judgement.html").read_text(encoding="utf-8")
    for heading in ("总体判断", "主要成效", "存在问题及原因", "对策建议", "规划调整建议",
                    "评估组织与过程"):
        assert heading in page, heading
    assert "60.0%" in page and "时间过半、任务过半" in page
    assert "农村居民人均可支配收入" in page and "16.9%" in page
    assert "建德市发展和改革局（示例）" in (html / "index.html").read_text(encoding="utf-8")
    register = (html / "a2_sources.html").read_text(encoding="utf-8")
    assert "num-judge-elapsed-2025" in register and "num-judge-green-share-2025" in register
