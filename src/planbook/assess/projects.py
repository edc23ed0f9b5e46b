"""Where a named project stands: its reported stage read against the stage the plan asks for.

The milestone rules of DESIGN.md, with the asked stage (or a later one) reached meaning the
ask is met: reached (已达要求阶段) green, or done (已完成) green only for a project reported
完工 (a railway the plan asks to be 在建 is not finished when it is 在建); in_progress (any
stage from 谋划 on, short of the asked one) green before the target year, yellow in it;
not_started (未启动) yellow before the target year, red in it; overdue red once the target
year is over; no report gives no_data, grey.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from planbook.assess.narrative import zh_punct
from planbook.assess.rules import DONE, STATUS, _year_end, milestone_light
from planbook.plan.periods import Period, parse_period
from planbook.plan.registry import STAGES, Project, Registry
from planbook.store import statements as stmt

NOT_STARTED = "未启动"
FINISHED = "完工"  # the one stage a reader may call 已完成


@dataclass(frozen=True)
class ProjectAssessment:
    project_id: str
    name: str
    task: str
    lead: str
    target_stage: str
    target_year: int
    current_stage: str | None
    stage_date: str | None
    reported_period: str | None
    status: str
    light: str
    reason: str
    sample: bool = False
    inputs: tuple = field(default_factory=tuple)  # the stage report's row (audit input)

    @property
    def status_zh(self) -> str:
        return STATUS[self.status][0]


def stage_rank(stage: str) -> int:
    """-1 for 未启动, then the order of registry.STAGES."""
    return STAGES.index(stage) if stage in STAGES else -1


def latest_report(reports: pd.DataFrame, project_id: str, period: Period) -> dict | None:
    """The stage report a period's assessment uses: the latest period up to the report's end,
    then the latest stage date and revision (reports holds latest revisions only)."""
    return latest_reports(reports, period).get(project_id)


def latest_reports(reports: pd.DataFrame | None, period: Period) -> dict[str, dict]:
    """`latest_report` of every project at once: one filter and one sort of the whole frame
    (per project, they cost the build's grade check half a second)."""
    if reports is None or reports.empty:
        return {}
    ends = reports["period"].map(lambda p: parse_period(p).end)
    rows = reports[ends <= period.end].assign(_end=ends[ends <= period.end])
    rows = rows.sort_values(["_end", "stage_date", "received_at", "revision"], kind="stable")
    last = rows.drop(columns="_end").drop_duplicates("project_id", keep="last")
    return {r["project_id"]: r for r in last.to_dict("records")}


def assess_project(project: Project, report: dict | None, period: Period,
                   inputs: tuple = ()) -> ProjectAssessment:
    due = project.target_year
    asked = f"{due}年{project.target_stage}"
    base = dict(project_id=project.id, name=zh_punct(project.name_zh), task=project.task,
                lead=project.lead, target_stage=project.target_stage, target_year=due)
    if report is None:
        return ProjectAssessment(**base, current_stage=None, stage_date=None,
                                 reported_period=None, status="no_data", light="grey",
                                 reason=f"要求{asked}，截至{period.end_label_zh}尚无阶段报送")
    stage, when = str(report["stage"]), str(report["stage_date"])
    reached = stage_rank(stage) >= stage_rank(project.target_stage)
    state = ("done" if stage == FINISHED else "reached") if reached else \
        "not_started" if stage == NOT_STARTED else "in_progress"
    head = f"要求{asked}，{when}报告为{stage}"
    if state not in DONE and period.end >= _year_end(due):
        status, light, reason = "overdue", "red", f"{head}，已过目标年仍未达到要求阶段"
    else:
        status, light = state, milestone_light(state, period, due)
        reason = head + ("，已达到要求阶段" if reached else "，尚未达到要求阶段")
    return ProjectAssessment(**base, current_stage=stage, stage_date=when,
                             reported_period=str(report["period"]), status=status, light=light,
                             reason=reason, sample=report.get("status") == "sample",
                             inputs=inputs)


def period_project_reports(data: Path, as_of: str | None, period: Period) -> pd.DataFrame:
    """The latest revision of every stage report received by the data cut-off `as_of`."""
    return stmt.latest_revisions(stmt.as_of(stmt.load_project_stages(data), as_of, period),
                                 "project_id")


def assess_projects(registry: Registry, reports: pd.DataFrame,
                    period: Period) -> dict[str, ProjectAssessment]:
    """Every named project of the registry assessed for `period`, with its report's row as
    the audit input."""
    latest = latest_reports(reports, period)
    out = {}
    for p in registry.projects.values():
        report = latest.get(p.id)
        inputs = (stmt.input_row(report, "project"),) if report else ()
        out[p.id] = assess_project(p, report, period, inputs)
    return out
