"""The grade a task's lights imply, on the evaluator's scale (store.evaluation.GRADES).

The evaluator grades each task 好 / 较好 / 一般 / 差 (data/evaluation/<period>.yaml). The scale
(评估方法, 任务评估) is written in words; `implied_grade` reads it as a rule on the lights of
the task's indicators and named projects, so a grade that departs from its own scale is seen:

- 好: every light green (all indicators achieved or on schedule, every project at or past
  its asked stage), none without data;
- 差: red lights are at least half of the lit ones (the main items slow, falling back or
  overdue);
- 较好: no red, and green lights are more than half of the lit ones;
- 一般: anything else (some red, or no red but half or fewer green);
- None (no basis): the task has no indicator and no named project, or none has data (grey).

A grade may depart from the implied one: the evaluator knows what the lights do not (a
statement's substance, a site visit). It then needs a reason (store.evaluation.check_grades),
and the task block prints the departure. A task with no basis and no department statement
has no evidence at all: it cannot be 好, and any other grade needs a reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from planbook.assess.projects import ProjectAssessment, assess_projects, period_project_reports
from planbook.assess.rules import LIGHT_ZH, LIGHTS, assess_all
from planbook.plan.periods import Period, parse_period
from planbook.plan.registry import Registry
from planbook.store import observations
from planbook.store import statements as stmt
from planbook.store.evaluation import Basis

NO_BASIS = "无计算依据"  # the implied grade of a task no light speaks for


@dataclass(frozen=True)
class ImpliedGrade:
    """The grade the lights imply (None: no basis) and the counts it was read from."""

    grade: str | None
    green: int = 0
    yellow: int = 0
    red: int = 0
    grey: int = 0

    @property
    def lights_zh(self) -> str:
        """绿灯2项、黄灯1项 (lights in light order, zeros left out); 无 for no item."""
        counts = {"green": self.green, "yellow": self.yellow, "red": self.red,
                  "grey": self.grey}
        return "、".join(f"{LIGHT_ZH[k]}{n}项" for k, n in counts.items() if n) or "无"

    @property
    def grade_zh(self) -> str:
        return self.grade or NO_BASIS


def implied_grade(lights: Iterable[str]) -> ImpliedGrade:
    """The grade the lights of a task's indicators and projects imply (see the module
    docstring; 评估方法 states the same rule). `lights`: green / yellow / red / grey."""
    lights = list(lights)
    unknown = [x for x in lights if x not in LIGHTS]
    if unknown:
        raise ValueError(f"not a light: {unknown[0]!r}")
    n = {k: lights.count(k) for k in LIGHTS}
    lit = n["green"] + n["yellow"] + n["red"]
    if lit == 0:
        grade = None
    elif n["green"] == len(lights):
        grade = "好"
    elif 2 * n["red"] >= lit:
        grade = "差"
    elif n["red"] == 0 and 2 * n["green"] > lit:
        grade = "较好"
    else:
        grade = "一般"
    return ImpliedGrade(grade, n["green"], n["yellow"], n["red"], n["grey"])


def task_lights(registry: Registry, task_id: str, by_id: Mapping[str, object],
                projects: Mapping[str, ProjectAssessment]) -> list[str]:
    """The lights a task's block shows: its indicators' (as assessed), then its projects'.
    A statement the plan sets no target by (status not_assessed) lights nothing to grade."""
    task = registry.tasks[task_id]
    own = [by_id[i].light for i in task.indicators
           if i in by_id and getattr(by_id[i], "status", "") != "not_assessed"]
    return own + [projects[p.id].light for p in registry.projects_of(task_id)
                  if p.id in projects]


def task_bases(registry: Registry, by_id: Mapping[str, object],
               projects: Mapping[str, ProjectAssessment],
               stated: Iterable[str]) -> dict[str, Basis]:
    """Per task (二 aside): the implied grade, the lights in words, whether a department
    statement exists: what store.evaluation.check_grades judges a grade against."""
    stated = set(stated)
    out = {}
    for t in registry.tasks.values():
        if t.id == "二":
            continue
        g = implied_grade(task_lights(registry, t.id, by_id, projects))
        out[t.id] = Basis(grade=g.grade, lights=g.lights_zh, statement=t.id in stated)
    return out


def period_statements(data: Path, as_of: str | None, period: Period) -> pd.DataFrame:
    """The latest revision of each department statement for `period`, by the report's data
    cut-off (frozen periods) — what the task blocks quote."""
    rows = stmt.latest_revisions(stmt.as_of(stmt.load_statements(data), as_of, period),
                                 "task_id")
    if rows.empty:
        return rows
    return rows[rows["period"] == period.code].reset_index(drop=True)


def period_bases(data: Path, registry: Registry, period: Period,
                 as_of: str | None) -> dict[str, Basis]:
    """`task_bases` of a period from the store, as its report computes them (same rows, same
    cut-off): for the build's data check and the sample judgements, outside a report."""
    rows = observations.load_all(data, registry, as_of=as_of, period=period)
    by_id = {a.indicator_id: a for a in assess_all(registry, rows, period)}
    projects = assess_projects(registry, period_project_reports(data, as_of, period), period)
    stated = period_statements(data, as_of, period)
    return task_bases(registry, by_id, projects,
                      set(stated["task_id"]) if not stated.empty else set())


def write_sample_evaluation(data: Path, registry: Registry) -> str:
    """The sample evaluation file, graded from the sample's own lights (`planbook sample`
    calls this once the sample rows are stored: the grades follow them)."""
    from planbook.store import sample_progress

    period = parse_period(sample_progress.EVALUATION_PERIOD)
    bases = period_bases(data, registry, period, sample_progress.EVALUATION_DATE)
    return sample_progress.write_evaluation(data, registry, bases)
