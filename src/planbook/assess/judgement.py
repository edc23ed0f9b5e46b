"""The judgement an evaluation opens with: pure functions over a period's assessments.

What the front chapter (总体判断, 主要成效, 存在问题及原因, 对策建议, 规划调整建议) says is
computed here from plain data: the indicators' `Assessment`s, the named projects'
`ProjectAssessment`s and the period. Nothing reads a file; the chapter (chapters.judgement)
words the results and registers every number it prints.

The rules, stated where the numbers are printed:

- 时间进度 (time elapsed): the share of the plan horizon 2023-01-01..2027-12-31 gone at the end
  of the reporting period (periods.elapsed_share; 60.0% at the end of 2025).
- 符合进度: an indicator with a judged light (green, yellow or red) whose light is green
  (已达标, 符合进度, and nodes done or on time); grey ones (暂无数据, 不作评价) are not judged.
- 完成进度 of a cumulative target: (latest - baseline) / (target - baseline), baseline 0
  unless the plan states one.
- "时间过半、任务过半" holds for a field (a plan chapter) when the median 完成进度 of its
  cumulative targets with data is at least the 时间进度 (a field without such targets is
  judged on the lights alone), and more than half of its judged indicators are green.
- 提前完成: on schedule with a schedule ratio or growth ratio of at least AHEAD.
- 2027年目标可达: already met, or projected to meet the target at the current pace (rules'
  projection); a target with no projection is counted apart.
- 规划调整建议 (mid-term): a target for the plan's last year whose projection falls short by
  more than ADJUST_MARGIN of the target.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from planbook.assess.projects import ProjectAssessment
from planbook.assess.rules import DONE, Assessment
from planbook.plan.periods import BASELINE_YEAR, PLAN_END, Period, elapsed_share, parse_period
from planbook.plan.registry import CHAPTERS, STAGES, Registry

FINAL_YEAR = PLAN_END.year
MIDPOINT_YEAR = (BASELINE_YEAR + 1 + FINAL_YEAR) // 2  # 2025
AHEAD = 1.2  # ratio at or above which an on-schedule target is 提前完成
ADJUST_MARGIN = 0.20  # projection short of the target by more than this share: 调整候选
GAIN_KINDS = ("level", "share", "ceiling")
LIT = ("green", "yellow", "red")
FINISHED = "完工"


def time_elapsed(period: Period) -> float:
    """Share of the plan period gone at the end of `period` (0..1)."""
    return elapsed_share(period)


def adjustment_applies(kind: str, period: Period) -> bool:
    """规划调整建议 belong to the mid-term evaluation: the `midterm` kind, or an annual report
    of the plan's midpoint year (2025) while no kind says so."""
    return kind == "midterm" or (kind == "annual" and period.kind == "year"
                                 and period.year == MIDPOINT_YEAR)


def _years_left(a: Assessment) -> float | None:
    """Years from the end of the latest data to the end of the target year."""
    if a.latest_period is None or a.target_year is None:
        return None
    end = parse_period(a.latest_period).end
    left = (date(a.target_year, 12, 31) - end).days / 365.25
    return round(left, 2) if left > 0 else None


def completion(a: Assessment) -> float | None:
    """完成进度 of a cumulative target: the share of the distance baseline → target covered."""
    if a.kind != "cumulative" or a.latest_value is None or a.target_value is None:
        return None
    base = a.baseline_value or 0.0
    if a.target_value == base:
        return None
    return (a.latest_value - base) / (a.target_value - base)


def judged(items: Iterable[Assessment]) -> list[Assessment]:
    """The indicators with a judged light (green, yellow, red)."""
    return [a for a in items if a.light in LIT]


@dataclass(frozen=True)
class FieldPace:
    """One plan chapter's pace: its lights and its cumulative targets against time elapsed."""

    chapter: str
    items: tuple[Assessment, ...]  # every indicator counted in the chapter (home)
    judged: tuple[Assessment, ...]
    green: tuple[Assessment, ...]
    cumulative: tuple[Assessment, ...]  # cumulative targets with data
    on_pace: tuple[Assessment, ...]  # of these, 完成进度 at least the time elapsed
    median_completion: float | None
    elapsed: float

    @property
    def green_share(self) -> float | None:
        return len(self.green) / len(self.judged) if self.judged else None

    @property
    def holds(self) -> bool | None:
        """时间过半、任务过半 (see the module docstring); None: nothing judged."""
        if not self.judged:
            return None
        pace = self.median_completion is None or self.median_completion >= self.elapsed
        return pace and 2 * len(self.green) > len(self.judged)


def field_pace(chapter: str, items: Iterable[Assessment], elapsed: float) -> FieldPace:
    items = tuple(items)
    lit = tuple(judged(items))
    cum = tuple(a for a in items if completion(a) is not None)
    shares = {a.indicator_id: completion(a) for a in cum}
    return FieldPace(
        chapter=chapter, items=items, judged=lit,
        green=tuple(a for a in lit if a.light == "green"), cumulative=cum,
        on_pace=tuple(a for a in cum if shares[a.indicator_id] >= elapsed),
        median_completion=statistics.median(shares.values()) if shares else None,
        elapsed=elapsed)


def pace_by_field(registry: Registry, by_id: Mapping[str, Assessment],
                  elapsed: float) -> list[FieldPace]:
    """Every plan chapter's pace, each indicator in its home chapter (as the book counts)."""
    return [field_pace(ch, [by_id[i.id] for i in registry.home(ch) if i.id in by_id], elapsed)
            for ch in CHAPTERS]


@dataclass(frozen=True)
class Reach:
    """The targets of the plan's last year: met or projected to be met, projected to miss,
    and without a projection."""

    reaches: tuple[Assessment, ...]
    misses: tuple[Assessment, ...]
    unknown: tuple[Assessment, ...]

    @property
    def total(self) -> int:
        return len(self.reaches) + len(self.misses) + len(self.unknown)


def projection_reach(items: Iterable[Assessment], final_year: int = FINAL_YEAR) -> Reach:
    """The quantified targets due in `final_year` (not every-year holds, not milestones),
    sorted by whether the projection reaches them."""
    due = [a for a in items if a.target_year == final_year and a.kind != "milestone"
           and not a.target_every_year and a.target_value is not None
           and a.status != "not_assessed"]
    reaches = [a for a in due if a.status == "achieved" or a.projected_meets_target is True]
    misses = [a for a in due if a not in reaches and a.projected_meets_target is False]
    unknown = [a for a in due if a not in reaches and a not in misses]
    return Reach(tuple(reaches), tuple(misses), tuple(unknown))


# ---------------------------------------------------------------- 主要成效


def gain(a: Assessment) -> float | None:
    """Relative change from the baseline in the target's direction (a ceiling's fall is a
    gain); None without both values or with a zero baseline."""
    if (a.kind not in GAIN_KINDS or a.baseline_value in (None, 0) or a.latest_value is None
            or a.target_op is None):
        return None
    change = (a.latest_value - a.baseline_value) / abs(a.baseline_value)
    return -change if a.target_op in ("<=", "<") else change


@dataclass(frozen=True)
class Achievements:
    achieved: tuple[Assessment, ...]
    ahead: tuple[Assessment, ...]  # on schedule with ratio >= AHEAD
    gains: tuple[tuple[Assessment, float], ...]  # largest relative gains, best first
    finished: tuple[ProjectAssessment, ...]  # named projects at 完工
    reached: tuple[ProjectAssessment, ...]  # at or past the asked stage, short of 完工


def achievements(items: Iterable[Assessment], projects: Mapping[str, ProjectAssessment],
                 top: int = 5) -> Achievements:
    items = list(items)
    achieved = [a for a in items if a.status == "achieved"]
    ahead = sorted((a for a in items if a.status == "on_track" and a.ratio is not None
                    and a.ratio >= AHEAD), key=lambda a: (-a.ratio, a.indicator_id))
    gains = sorted(((a, g) for a in items if (g := gain(a)) is not None and g > 0),
                   key=lambda p: (-p[1], p[0].indicator_id))[:top]
    finished = [p for p in projects.values() if p.current_stage == FINISHED]
    reached = [p for p in projects.values() if p.status in DONE and p.current_stage != FINISHED]
    return Achievements(tuple(achieved), tuple(ahead), tuple(gains), tuple(finished),
                        tuple(reached))


# ---------------------------------------------------------------- 存在问题


@dataclass(frozen=True)
class FieldProblems:
    """One plan chapter's problems: falling and slow indicators, overdue or late projects,
    indicators without data, and tasks whose lead department sent no statement."""

    chapter: str
    falling: tuple[Assessment, ...]  # 出现倒退
    slow: tuple[Assessment, ...]  # other red lights: 进展缓慢, 已逾期
    late_projects: tuple[ProjectAssessment, ...]  # red projects: overdue or behind the ask
    no_data: tuple[Assessment, ...]
    unreported: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())  # (lead, task ids)

    @property
    def empty(self) -> bool:
        return not (self.falling or self.slow or self.late_projects or self.no_data
                    or self.unreported)


def problems_by_field(registry: Registry, by_id: Mapping[str, Assessment],
                      projects: Mapping[str, ProjectAssessment],
                      stated: Iterable[str]) -> list[FieldProblems]:
    """Per plan chapter (二…六). `stated`: the task ids with a department statement."""
    stated = set(stated)
    out = []
    for ch in CHAPTERS:
        items = [by_id[i.id] for i in registry.home(ch) if i.id in by_id]
        red = sorted((a for a in items if a.light == "red"),
                     key=lambda a: (a.ratio if a.ratio is not None else 0.0, a.indicator_id))
        late = [p for p in projects.values() if p.light == "red"
                and registry.tasks.get(p.task) and registry.tasks[p.task].chapter == ch]
        silent: dict[str, list[str]] = {}
        for t in registry.tasks.values():
            if t.chapter == ch and t.id != "二" and t.lead and t.id not in stated:
                silent.setdefault(t.lead, []).append(t.id)
        out.append(FieldProblems(
            chapter=ch, falling=tuple(a for a in red if a.status == "deterioration"),
            slow=tuple(a for a in red if a.status != "deterioration"),
            late_projects=tuple(sorted(late, key=lambda p: p.project_id)),
            no_data=tuple(a for a in items if a.status == "no_data"),
            unreported=tuple((d, tuple(ts)) for d, ts in silent.items())))
    return out


# ---------------------------------------------------------------- what is now required


@dataclass(frozen=True)
class Requirement:
    """What a target now needs from the latest data to its deadline: a yearly growth rate
    (`rate`, a share), a yearly amount (`amount`, in the indicator's unit) or the target
    itself each year (`each_year`)."""

    indicator_id: str
    how: str  # rate | amount | each_year
    value: float
    years: float  # years left (0 for each_year)
    deadline: int


def requirement(a: Assessment) -> Requirement | None:
    """The growth a target not yet met now needs (None: met, no data, or past its year)."""
    if a.status in ("achieved", "no_data", "not_assessed") or a.kind == "milestone":
        return None
    if a.target_value is None or a.latest_value is None or a.target_year is None:
        return None
    if a.kind == "annual" or a.target_every_year:
        return Requirement(a.indicator_id, "each_year", a.target_value, 0.0, a.target_year)
    years = _years_left(a)
    if years is None:
        return None
    if a.kind == "cumulative":
        return Requirement(a.indicator_id, "amount", (a.target_value - a.latest_value) / years,
                           years, a.target_year)
    if a.latest_value > 0 and a.target_value > 0:
        rate = (a.target_value / a.latest_value) ** (1 / years) - 1
        return Requirement(a.indicator_id, "rate", rate, years, a.target_year)
    return Requirement(a.indicator_id, "amount", (a.target_value - a.latest_value) / years,
                       years, a.target_year)


def observed_rate(a: Assessment) -> float | None:
    """The yearly pace so far: compound growth from the baseline (levels, shares, ceilings),
    or the yearly amount (cumulative); None without both values."""
    if a.latest_value is None or a.baseline_value is None or a.latest_period is None:
        return None
    base_year = a.baseline_year or BASELINE_YEAR
    years = (parse_period(a.latest_period).end - date(base_year, 12, 31)).days / 365.25
    if years <= 0:
        return None
    if a.kind == "cumulative":
        return (a.latest_value - a.baseline_value) / years
    if a.latest_value > 0 and a.baseline_value > 0:
        return (a.latest_value / a.baseline_value) ** (1 / years) - 1
    return None


def next_stage(p: ProjectAssessment, next_year: int) -> tuple[str, int] | None:
    """The stage a named project must reach by the end of `next_year`, and the year the plan
    asks its final stage: the asked stage when it is due by then, else one stage on from the
    current one (never past the asked stage). None when the ask is met."""
    if p.status in DONE or p.current_stage == FINISHED:
        return None
    target = STAGES.index(p.target_stage)
    current = STAGES.index(p.current_stage) if p.current_stage in STAGES else -1
    if current >= target:
        return None
    stage = target if p.target_year <= next_year else min(target, current + 1)
    return STAGES[stage], p.target_year


@dataclass(frozen=True)
class Adjustment:
    """A target the mid-term evaluation proposes to review: its projection, shortfall and the
    pace it now needs against the pace so far."""

    assessment: Assessment
    shortfall: float  # share of the target the projection misses by
    required: Requirement | None
    observed: float | None


def shortfall(a: Assessment) -> float | None:
    """How far the projection falls short of the target, as a share of the target (≤ 0:
    projected to meet it)."""
    if a.projected_value is None or not a.target_value or a.target_op is None:
        return None
    gap = (a.target_value - a.projected_value) / abs(a.target_value)
    return -gap if a.target_op in ("<=", "<") else gap


def adjustment_candidates(items: Iterable[Assessment], margin: float = ADJUST_MARGIN,
                          final_year: int = FINAL_YEAR) -> list[Adjustment]:
    """The targets of the plan's last year projected to miss by more than `margin`, worst
    first."""
    out = []
    for a in projection_reach(items, final_year).misses:
        short = shortfall(a)
        if short is not None and short > margin:
            out.append(Adjustment(a, short, requirement(a), observed_rate(a)))
    return sorted(out, key=lambda x: (-x.shortfall, x.assessment.indicator_id))
