"""The sample evaluator's words: task opinions and the front part's texts, drawn from the
plan's own wording.

Each opinion names its task, its indicators and its named projects as the plan writes them
(data/plan/tasks.yaml, indicators.yaml, projects.yaml) and picks its phrasing by a seeded
draw, so no sentence repeats across more than a few tasks. Every text starts with 示例, states
no number the report computes, and invents no dated event: the grades and lights it mentions
are the sample's own (`bases`). Deterministic (seeded by task, field and department).
"""

from __future__ import annotations

import hashlib

import numpy as np

from planbook.plan.registry import CHAPTER_TITLES, Registry, Task
from planbook.store.evaluation import Basis

SEED = 20230406
ISSUER_OF = "发改局"  # 六(一) names 农业农村局、发改局; the 发改局 compiles the evaluation
GOOD = ("好", "较好")

_STANDING = {
    "好": ("各项指标和点名项目均达到进度要求", "整体推进有力，指标和项目均未出现滞后",
          "推进节奏与方案安排一致，未见明显短板"),
    "较好": ("总体按计划推进，个别事项仍需加快", "多数指标符合进度，少数事项进度偏慢",
            "主体工作推进顺利，局部环节有待补强"),
    "一般": ("部分事项进度明显偏慢，需要加大推进力度", "指标完成情况参差不齐，滞后事项较多",
            "推进力度与方案要求尚有差距"),
    "差": ("主要指标进度滞后，需列入重点督办", "多项指标进展缓慢或出现倒退，推进明显滞后",
          "与方案要求差距较大，须加快补短板"),
}
_FOCUS = ("下一步重点关注{x}", "建议把{x}作为年度推进重点", "需持续跟踪{x}的进展",
          "{x}宜纳入月度调度清单", "建议对{x}开展专项核查")
_PROJECT = ("{p}的阶段进度应按月报送", "{p}宜明确下一阶段的节点和责任人",
            "{p}需加强要素保障，确保按期推进")
_NO_LIGHT = ("本任务无可计算灯号，评估组依据部门报送作出判断",
             "本任务暂无有数据的指标或项目，等级依据部门报送评定")


def _rng(key: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{SEED}:evaluation-text:{key}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def _q(text: str) -> str:
    """Quoted as the plan's words: “…”, unless the text already holds the plan's quotes."""
    return text if "“" in text else f"“{text}”"


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def _names(registry: Registry, task: Task) -> tuple[list[str], list[str]]:
    inds = [registry.indicators[i].name_zh for i in task.indicators if i in registry.indicators]
    projects = [p.name_zh for p in registry.projects_of(task.id)]
    return inds, projects


def opinion(registry: Registry, task: Task, grade: str, basis: Basis) -> str:
    """A task's sample 评估意见: its title and lights, a standing in words, and a focus
    naming one of its own indicators or projects."""
    rng = _rng(task.id)
    inds, projects = _names(registry, task)
    if basis.grade is None:
        first = f"示例：{_q(task.title)}{_pick(rng, _NO_LIGHT)}，示例评定为“{grade}”。"
    else:
        first = (f"示例：{_q(task.title)}按灯号（{basis.lights}）计算为“{basis.grade}”，"
                 f"示例评定为“{grade}”。")
    parts = [first, f"{task.title}{_pick(rng, _STANDING[grade])}。"]
    if inds:
        x = _q(inds[int(rng.integers(len(inds)))])
        parts.append(_pick(rng, _FOCUS).format(x=x) + "。")
    if projects:
        p = _q(projects[int(rng.integers(len(projects)))])
        parts.append(_pick(rng, _PROJECT).format(p=p) + "。")
    elif not inds:
        parts.append(f"建议{task.lead or '牵头单位'}细化{_q(task.title)}的年度目标和佐证材料。")
    return "".join(parts)


def _chapter_tasks(registry: Registry, chapter: str) -> list[Task]:
    return [t for t in registry.tasks.values() if t.chapter == chapter and t.id != "二"]


def _share_good(tasks: list[Task], bases: dict[str, Basis]) -> float:
    lit = [bases[t.id].grade for t in tasks if t.id in bases and bases[t.id].grade]
    return sum(1 for g in lit if g in GOOD) / len(lit) if lit else 0.0


def conclusion(registry: Registry, bases: dict[str, Basis]) -> str:
    """The sample's overall conclusion: the fields that go well and those that lag, by the
    share of each chapter's tasks whose lights imply 好 or 较好."""
    good, lagging = [], []
    for ch in ("三", "四", "五", "六"):
        share = _share_good(_chapter_tasks(registry, ch), bases)
        (good if share >= 0.5 else lagging).append(_q(CHAPTER_TITLES[ch]))
    text = "示例：规划实施总体平稳，"
    if good:
        text += "、".join(good) + "各项任务总体推进较好；"
    if lagging:
        text += "、".join(lagging) + "部分任务进度滞后，需加大推进力度；"
    return (text + "中期以后应聚焦滞后指标和重点项目，按年度倒排进度。"
            "本结论仅演示报告格式，不代表实际评估结论。")


def _lead_of(tasks: list[Task]) -> str:
    """The department leading most of `tasks` (plan order on ties)."""
    counts: dict[str, int] = {}
    for t in tasks:
        if t.lead:
            counts[t.lead] = counts.get(t.lead, 0) + 1
    return max(counts, key=lambda d: (counts[d], -list(counts).index(d))) if counts else ""


def field_texts(registry: Registry, bases: dict[str, Basis]) -> list[dict]:
    """Per chapter 三…六, and for its most frequent lead department: 成效, 问题, 建议 naming
    the chapter's own tasks and indicators."""
    out = []
    for ch in ("三", "四", "五", "六"):
        tasks = _chapter_tasks(registry, ch)
        if not tasks:
            continue
        rng = _rng("field:" + ch)
        good = [t for t in tasks if bases.get(t.id) and bases[t.id].grade in GOOD]
        weak = [t for t in tasks if bases.get(t.id) and bases[t.id].grade in ("一般", "差")]
        entry = {"field": ch}
        if good:
            titles = "、".join(_q(t.title) for t in good[:3])
            entry["achievements"] = (f"示例：{titles}等任务推进有力，"
                                     + _pick(rng, ("相关指标总体符合进度。",
                                                   "指标和项目进度与方案安排基本一致。")))
        if weak:
            titles = "、".join(_q(t.title) for t in weak[:3])
            entry["problems"] = (f"示例：{titles}等任务进度偏慢，"
                                 + _pick(rng, ("主要原因是项目前期工作周期长、要素保障不足。",
                                               "主要原因是跨部门协同不够、资金和用地保障偏紧。")))
        target = weak[0] if weak else tasks[0]
        inds, _ = _names(registry, target)
        focus = _q(inds[0] if inds else target.title)
        entry["recommendations"] = (f"示例：围绕{_q(CHAPTER_TITLES[ch])}，建议以{focus}为抓手，"
                                    "建立滞后事项清单，按月调度、及时预警。")
        out.append(entry)
        lead = _lead_of(tasks)
        mine = [t for t in tasks if t.lead == lead]
        if lead and len(mine) > 1:
            titles = "、".join(_q(t.title) for t in mine[:2])
            out.append({"field": ch, "lead": lead,
                        "recommendations": f"示例：建议{lead}统筹{titles}等牵头任务，"
                                           "逐项明确年度节点和责任人。"})
    return out


def organisation(registry: Registry, period: str, end: str) -> dict:
    """Who evaluated and how: illustrative, named as such."""
    dept = registry.departments.get(ISSUER_OF)
    issuer = (dept.full_name or dept.name) if dept else "评估组"
    return {"issuer": f"{issuer}（示例）",
            "team": "示例：由牵头单位和统计、财政等部门人员组成评估组，本文件仅演示格式。",
            "methods": ["部门自评", "座谈", "实地核查"],
            "start": f"{int(period) + 1}-01-05", "end": end,
            "sources": ["统计公报、统计年鉴（官方统计数据）", "各部门工作台账和进展报送（部门报送）",
                        "项目附带的示例数据（仅演示）"]}
