"""The evaluator's judgement file: data/evaluation/<period>.yaml, validated like the registry."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from planbook.assess.grades import implied_grade, period_bases
from planbook.plan.periods import parse_period
from planbook.plan.registry import load_registry
from planbook.store import sample_progress
from planbook.store.evaluation import (
    GRADES,
    Basis,
    EvaluationError,
    check_grades,
    load_evaluation,
)

ROOT = Path(__file__).resolve().parents[1]
GOOD = {"period": "2025", "evaluator": "评估组", "date": "2026-03-31", "status": "reviewed",
        "tasks": [{"task": "三(二)1", "grade": "较好", "opinion": "交通网络总体推进，建武高速尚在谋划。"},
                  {"task": "六(二)", "grade": "一般", "opinion": "要素保障：用地指标仍偏紧。"}]}


@pytest.fixture(scope="module")
def registry():
    return load_registry(ROOT / "data")


def write(tmp_path: Path, content: dict, period: str = "2025") -> Path:
    folder = tmp_path / "evaluation"
    folder.mkdir(exist_ok=True)
    (folder / f"{period}.yaml").write_text(yaml.safe_dump(content, allow_unicode=True),
                                           encoding="utf-8")
    return tmp_path


def test_good_file_loads_with_text_as_written(tmp_path, registry):
    ev = load_evaluation(write(tmp_path, GOOD), "2025", registry)
    assert ev.evaluator == "评估组" and not ev.is_sample
    assert ev.judgements["三(二)1"].grade == "较好"
    assert ev.judgements["六(二)"].opinion == "要素保障：用地指标仍偏紧。"


def test_no_file_is_no_evaluation(tmp_path, registry):
    assert load_evaluation(tmp_path, "2025", registry) is None


def _task(**changes):
    return {**GOOD, "tasks": [{**GOOD["tasks"][0], **changes}]}


CASES = [
    ("unknown task", _task(task="三(九)9"), "条目 三(九)9，字段 task：未知任务编号"),
    ("grade off the scale", _task(grade="优秀"),
     "条目 三(二)1，字段 grade：评估等级不在等级表中；所见：“优秀”；应为：好、较好、一般、差"),
    ("empty opinion", _task(opinion=" "), "条目 三(二)1，字段 opinion：缺少字段"),
    ("long opinion", _task(opinion="字" * 601), "字段 opinion：评估意见超过 600 字"),
    ("unknown field", _task(score=3), "条目 三(二)1，字段 score：未知字段"),
    ("twice", {**GOOD, "tasks": [GOOD["tasks"][0], GOOD["tasks"][0]]},
     "条目 三(二)1，字段 task：同一任务评估两次"),
    ("wrong period", {**GOOD, "period": "2024"}, "字段 period：报告期与文件名不符"),
    ("bad status", {**GOOD, "status": "final"}, "字段 status：评估状态无效"),
    ("empty reason", _task(reason=" "), "条目 三(二)1，字段 reason：偏离理由为空"),
    ("long reason", _task(reason="字" * 301), "字段 reason：偏离理由超过 300 字"),
]


@pytest.mark.parametrize(("case", "content", "message"), CASES, ids=[c[0] for c in CASES])
def test_malformed_evaluation_is_refused_with_its_entry(tmp_path, registry, case, content,
                                                        message):
    with pytest.raises(EvaluationError) as err:
        load_evaluation(write(tmp_path, content), "2025", registry)
    assert message in str(err.value)
    assert "2025.yaml" in str(err.value)


def test_methodology_defines_every_grade():
    text = (ROOT / "book" / "methodology.qmd").read_text(encoding="utf-8")
    section = text.split("## 任务评估", 1)[1]
    for grade, meaning in GRADES.items():
        assert re.search(rf"\|\s*{grade}\s*\|\s*{re.escape(meaning)}", section), grade


def test_shipped_evaluation_files_are_valid(registry):
    for path in sorted((ROOT / "data" / "evaluation").glob("*.yaml")):
        assert load_evaluation(ROOT / "data", path.stem, registry) is not None


def test_shipped_evaluation_grades_are_supported_by_their_period_s_lights(registry):
    for path in sorted((ROOT / "data" / "evaluation").glob("*.yaml")):
        params = yaml.safe_load((ROOT / "params" / f"{path.stem}.yml").read_text("utf-8"))
        ev = load_evaluation(ROOT / "data", path.stem, registry)
        check_grades(ev, period_bases(ROOT / "data", registry, parse_period(path.stem),
                                      params["as_of"]))


# ----------------------------------------------------------------- the implied grade

G, Y, R, N = "green", "yellow", "red", "grey"
IMPLIED = [
    ("all green", [G, G, G], "好"),
    ("one green", [G], "好"),
    ("green and no data", [G, G, G, N], "较好"),  # a grey light keeps a task from 好
    ("mostly green, a yellow", [G, G, Y], "较好"),
    ("green and yellow even", [G, Y], "一般"),
    ("only yellow", [Y], "一般"),
    ("a red among many", [G, G, G, G, G, Y, Y, R], "一般"),  # 三(二)2 of the issue: not 好
    ("reds a third", [G, G, G, Y, R, R], "一般"),
    ("reds half", [G, R], "差"),
    ("reds half with greys", [G, G, R, R, N, N], "差"),
    ("only red", [R], "差"),
    ("reds most", [G, R, R, Y], "差"),
    ("no item", [], None),
    ("no data at all", [N, N], None),
]


@pytest.mark.parametrize(("case", "lights", "grade"), IMPLIED, ids=[c[0] for c in IMPLIED])
def test_implied_grade_reads_the_scale_as_a_rule(case, lights, grade):
    assert implied_grade(lights).grade == grade


def test_implied_grade_counts_its_lights_in_words():
    g = implied_grade(["red", "green", "green", "grey"])
    assert (g.green, g.yellow, g.red, g.grey) == (2, 0, 1, 1)
    assert g.lights_zh == "绿灯2项、红灯1项、灰灯1项" and g.grade_zh == "一般"
    assert implied_grade([]).lights_zh == "无" and implied_grade([]).grade_zh == "无计算依据"
    with pytest.raises(ValueError, match="not a light"):
        implied_grade(["blue"])


def test_methodology_states_the_rule_and_its_worked_examples_hold():
    section = (ROOT / "book" / "methodology.qmd").read_text("utf-8").split("## 任务评估")[1]
    section = section.split("\n## ")[0]
    assert "按灯号计算的等级" in section and "不得评为“好”" in section and "reason" in section
    words = {"绿": G, "黄": Y, "红": R, "灰": N}
    examples = re.findall(r"((?:[绿黄红灰]灯\d+项、?)+)[^“]*?为“(好|较好|一般|差)”", section)
    assert len(examples) >= 3
    for counts, grade in examples:
        lights = [words[c] for c, n in re.findall(r"([绿黄红灰])灯(\d+)项", counts)
                  for _ in range(int(n))]
        assert implied_grade(lights).grade == grade, counts


# ----------------------------------------------------------------- grades checked


@pytest.fixture(scope="module")
def bases(registry):
    """The 2025 sample's bases, as its report and build compute them."""
    return period_bases(ROOT / "data", registry, parse_period("2025"), "2026-03-31")


def _departing(bases, task_id):
    """A grade on the scale other than the one the task's lights imply."""
    return next(g for g in GRADES if g != bases[task_id].grade)


def test_a_departing_grade_needs_a_reason_located_with_its_fix(tmp_path, registry, bases):
    task = next(t for t, b in bases.items() if b.grade is not None)
    grade = _departing(bases, task)
    entry = {"task": task, "grade": grade, "opinion": "评估组意见。"}
    ev = load_evaluation(write(tmp_path, {**GOOD, "tasks": [entry]}), "2025", registry)
    with pytest.raises(EvaluationError) as err:
        check_grades(ev, bases)
    text = str(err.value)
    assert f"2025.yaml，条目 {task}，字段 reason：等级偏离指示灯" in text
    assert f"对应等级{bases[task].grade}" in text and bases[task].lights in text
    assert f"应为：reason：评为{grade}的理由（偏离理由），或 grade：{bases[task].grade}" in text
    assert "改正方法：在 2025.yaml 所列条目中加 `reason:`" in text
    # with a reason it stands; graded as the lights imply it needs none
    entry["reason"] = "实地督查发现……"
    check_grades(load_evaluation(write(tmp_path, {**GOOD, "tasks": [entry]}), "2025",
                                 registry), bases)
    agree = {"task": task, "grade": bases[task].grade, "opinion": "评估组意见。"}
    check_grades(load_evaluation(write(tmp_path, {**GOOD, "tasks": [agree]}), "2025",
                                 registry), bases)


def test_a_task_with_no_evidence_at_all_cannot_be_good(tmp_path, registry, bases):
    bare = next(t for t, b in bases.items() if not b.evidence)  # 六(三): nothing at all
    assert bases[bare] == Basis(grade=None, lights="无", statement=False)

    def judged(**entry):
        content = {**GOOD, "tasks": [{"task": bare, "opinion": "意见。", **entry}]}
        return load_evaluation(write(tmp_path, content), "2025", registry)

    with pytest.raises(EvaluationError) as err:  # a reason does not stand in for evidence
        check_grades(judged(grade="好", reason="氛围浓厚。"), bases)
    assert f"条目 {bare}，字段 grade：评为“好”但没有任何依据" in str(err.value)
    with pytest.raises(EvaluationError) as err:
        check_grades(judged(grade="一般"), bases)
    assert f"条目 {bare}，字段 reason：没有任何依据" in str(err.value)
    check_grades(judged(grade="一般", reason="督查组现场检查。"), bases)
    # statements alone are evidence: a task without lights but with a statement needs no reason
    stated = next(t for t, b in bases.items() if b.grade is None and b.statement)
    ev = load_evaluation(write(tmp_path, {**GOOD, "tasks": [
        {"task": stated, "grade": "好", "opinion": "意见。"}]}), "2025", registry)
    check_grades(ev, bases)


def test_build_refuses_a_departing_grade_without_reason_before_running(sample_build, tmp_path):
    from conftest import copy_project

    from planbook.build import build

    root = copy_project(tmp_path / "project")
    shutil.copytree(sample_build / "build", root / "build")  # chapters cached: no kernel starts
    path = root / "data" / "evaluation" / "2025.yaml"
    content = yaml.safe_load(path.read_text("utf-8"))
    departing = next(t for t in content["tasks"] if "reason" in t)
    del departing["reason"]
    path.write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")
    with pytest.raises(EvaluationError) as err:
        list(build("2025", engine="builtin", root=root))
    text = str(err.value)
    assert f"2025.yaml，条目 {departing['task']}，字段 reason" in text and "改正方法：" in text
    assert not (root / "reports" / "2025").exists()


def test_shipped_sample_grades_follow_the_scale_or_say_why(registry, bases):
    ev = load_evaluation(ROOT / "data", "2025", registry)
    assert ev.is_sample
    departing = {t for t, j in ev.judgements.items() if bases[t].departs(j.grade)}
    assert len(departing) == sample_progress.SAMPLE_DEPARTURES  # shown on purpose, once or twice
    for task, j in ev.judgements.items():
        assert bases[task].evidence, task  # a task with nothing to go on is left ungraded
        assert bool(j.reason) == (task in departing), task
        assert j.reason == "" or j.reason.startswith("示例")
    # the three: no longer 好 with red lights, 差 with all green, 好 on nothing
    for task, j in ev.judgements.items():
        b = bases[task]
        if task not in departing and b.grade is not None:
            assert j.grade == b.grade


def test_sample_judgements_follow_the_bases_given():
    reg = load_registry(ROOT / "data")
    ids = [t for t in reg.tasks if t != "二"]
    cycle = [Basis("好", "绿灯1项", True), Basis("差", "红灯1项", False),
             Basis(None, "无", True), Basis(None, "无", False), Basis("一般", "黄灯1项", True)]
    bases = {t: cycle[n % len(cycle)] for n, t in enumerate(ids)}
    out = sample_progress.sample_judgements(reg, bases)
    assert out == sample_progress.sample_judgements(reg, bases)  # deterministic
    assert all(bases[j["task"]].evidence for j in out)
    reasons = [j for j in out if "reason" in j]
    assert len(reasons) == sample_progress.SAMPLE_DEPARTURES
    for j in out:
        b = bases[j["task"]]
        assert b.departs(j["grade"]) == ("reason" in j)
        assert j["grade"] in GRADES and j["opinion"].startswith("示例")
