"""重大项目推进情况 and 资金投入: the named projects' investment as their departments report it
(store.investment, in 万元), totalled, and set beside the indicator 重点项目累计完成投资.

Pure functions over the projects' latest reports (assess.projects.latest_reports) and the
indicator's assessment. 完成率 of a project is 累计完成投资 ÷ 总投资. The reconciliation: the
named projects are some of the plan's key projects, and their 累计完成投资 counts from 2023 as
the indicator does, so for the same period their sum cannot exceed the indicator's value;
the difference is what the other key projects completed. It is made only where the two
overlap: the indicator has a value for the report's own year and at least one named project
reported investment for that year.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from planbook.assess.projects import ProjectAssessment
from planbook.assess.rules import Assessment
from planbook.plan.registry import Registry
from planbook.store.investment import amount

KEY_INDICATOR = "ind_key_project_investment"
WAN_PER_YI = 10000.0  # 1 亿元 = 10000 万元
_TOLERANCE = 0.005  # 亿元: the indicator's one decimal, rounding


@dataclass(frozen=True)
class ProjectInvestment:
    project_id: str
    name: str
    chapter: str
    task: str
    lead: str
    stage: str | None
    period: str | None
    total: float | None  # 万元
    annual_plan: float | None
    completed: float | None
    image_progress: str
    problems: str
    status_zh: str
    light: str
    sample: bool
    inputs: tuple = ()

    @property
    def share(self) -> float | None:
        """完成率: 累计完成投资 ÷ 总投资."""
        if self.total is None or self.completed is None or self.total <= 0:
            return None
        return self.completed / self.total

    @property
    def reported(self) -> bool:
        return self.total is not None or self.completed is not None \
            or self.annual_plan is not None


def project_investments(registry: Registry, reports: Mapping[str, dict],
                        assessed: Mapping[str, ProjectAssessment]) -> list[ProjectInvestment]:
    """Every named project in registry order, with its latest report's investment (None
    where it reported none) and its stage assessment's status."""
    out = []
    for p in registry.projects.values():
        r = reports.get(p.id) or {}
        pa = assessed[p.id]
        out.append(ProjectInvestment(
            project_id=p.id, name=p.name_zh, chapter=p.chapter, task=p.task, lead=p.lead,
            stage=pa.current_stage, period=pa.reported_period,
            total=amount(r.get("total_investment")),
            annual_plan=amount(r.get("annual_plan_investment")),
            completed=amount(r.get("completed_investment")),
            image_progress=str(r.get("image_progress") or ""),
            problems=str(r.get("problems") or ""), status_zh=pa.status_zh, light=pa.light,
            sample=pa.sample, inputs=pa.inputs))
    return out


@dataclass(frozen=True)
class Totals:
    """Sums over the projects that reported each figure (万元) and how many did."""

    projects: int
    reported: int
    total: float
    annual_plan: float
    completed: float
    inputs: tuple = field(default_factory=tuple)

    @property
    def share(self) -> float | None:
        """累计完成投资 ÷ 总投资 over the projects that reported both."""
        return self.completed / self.total if self.total > 0 else None


def totals(items: list[ProjectInvestment]) -> Totals:
    rep = [i for i in items if i.reported]
    both = [i for i in rep if i.total is not None and i.completed is not None]
    return Totals(projects=len(items), reported=len(rep),
                  total=sum(i.total for i in both),
                  annual_plan=sum(i.annual_plan or 0.0 for i in rep),
                  completed=sum(i.completed for i in both),
                  inputs=tuple(r for i in rep for r in i.inputs))


def totals_by_chapter(items: list[ProjectInvestment]) -> dict[str, Totals]:
    chapters = list(dict.fromkeys(i.chapter for i in items))
    return {c: totals([i for i in items if i.chapter == c]) for c in chapters}


@dataclass(frozen=True)
class Reconciliation:
    """The named projects' 累计完成投资 beside the indicator, both in 亿元."""

    period: str
    overlap: bool
    indicator: float | None  # the indicator's value for the year (亿元)
    indicator_period: str | None
    named: float  # the named projects' sum (亿元), those reporting for the year
    named_projects: int
    difference: float | None  # indicator − named
    consistent: bool | None  # named ≤ indicator (within rounding); None without overlap
    reason: str


def reconcile(items: list[ProjectInvestment], key: Assessment | None,
              year: str) -> Reconciliation:
    """The reconciliation for the report's year `year` (see the module docstring)."""
    mine = [i for i in items if i.completed is not None and i.period == year]
    named = sum(i.completed for i in mine) / WAN_PER_YI
    value = key.latest_value if key is not None else None
    key_period = key.latest_period if key is not None else None
    if value is None or key_period != year or not mine:
        why = ("本期无点名项目报送累计完成投资" if not mine else
               f"重点项目累计完成投资指标无{year}年数据")
        return Reconciliation(year, False, value, key_period, named, len(mine), None, None,
                              f"{why}，无法核对")
    diff = value - named
    ok = diff >= -_TOLERANCE
    reason = ("点名项目累计完成投资不超过指标值，差额为其他重点项目完成的投资" if ok else
              "点名项目累计完成投资超过指标值，两者口径或数据不一致，需核实")
    return Reconciliation(year, True, value, key_period, named, len(mine), diff, ok, reason)
