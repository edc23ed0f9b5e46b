"""Assessment: where each target stands, its early-warning light, and a projection.

Pure functions over plain data: an `Indicator` from the registry, that indicator's stored
observation rows (all revisions) and a reporting `Period` go in; an `Assessment` comes out.
Nothing here reads or writes a file. The rules, with their formulas, are explained for
readers in book/methodology.qmd; this docstring is the engineer's summary.

Which rows count
    The latest revision of each (indicator, period) (observations.latest), and only periods
    ending on or before the reporting period's end (observations.upto). Where two rows end
    on the same date (2025 and 2025-12), the longer period (the year) is used. Every row an
    assessment used is listed in `Assessment.inputs` for the audit trail.

Real before sample
    Where an (indicator, period) has a non-sample row, its sample rows are never used
    (observations.latest). Where an indicator has any real observation (the plan's stated
    baseline aside, which is neither), its sample observations are dropped altogether, so
    the latest value, the previous one and the trend never compare a real figure with an
    illustrative one. `Assessment.sample` says the latest value used is sample data.

Levels, shares and ceilings: the growth ratio (Statistics Canada / Open SDG)
    x0 = baseline (the registry's; else the earliest observation, and the reason says so),
    x = latest value, n = years baseline -> latest, N = years baseline -> end of the target
    year (years counted in months / 12 between period ends).
        observed rate  g_obs = (x / x0) ** (1/n) - 1
        required rate  g_req = (target / x0) ** (1/N) - 1
        R = g_obs / g_req
    If x0, x or the target is zero or negative the compound rate is undefined; the linear
    rates (x - x0)/n and (target - x0)/N are used instead and the reason says so. Signed
    rates make the same ratio work for ceilings (both rates negative when going the right
    way). Status: achieved when the latest value meets the target; otherwise
    on_track R >= 0.95, needs_acceleration 0.6 <= R < 0.95, limited 0 <= R < 0.6,
    deterioration R < 0. A baseline that already met the target and a latest value that no
    longer does is deterioration. After the target year has ended without the target met:
    limited (deterioration if R < 0), and the reason says the deadline passed.

Shares near the 100% limit (`share_scale`)
    d = distance of the baseline from the limit in the desired direction
    (100 - x0 when rising, x0 when falling). s = 1 when d >= 20, else s = 0.5 + 0.5 * d / 20
    (so s = 0.75 at a baseline of 90%, 0.5 at 100%). Thresholds become 0.95*s and 0.6*s;
    deterioration stays R < 0.

Cumulative totals: schedule progress (时序进度)
    ratio = ((x - b) / (target - b)) / elapsed, b = 0 (the registry's baseline if it states
    one), elapsed = share of the horizon 2023-01-01 .. end of the target year gone at the end
    of the latest observation's period (periods.elapsed_share for the 2027 target), rounded
    to 0.1% as printed (`schedule_share`), so target x printed share gives the printed 应达
    (`schedule_due`, whole for count units). When the
    latest data are older than the reporting period, the data's own date is used (like for
    like) and the reason names it. ratio >= 1 on_track, 0.8 <= ratio < 1
    needs_acceleration, < 0.8 limited; a total lower than the previous one deterioration;
    target met achieved.

Annual targets
    Each complete year is met or not (years_met / years_observed over 2023..2027). The
    status of the reporting year: achieved when met; otherwise needs_acceleration when the
    value reaches at least 90% of the target (ratio = value/target, target/value for <=),
    else limited. In a month or quarter, indicators reported monthly or quarterly are judged
    on the year-to-date: expected = target * months / 12, ratio = ytd / expected, >= 1
    on_track, >= 0.9 needs_acceleration, else limited, achieved once the ytd meets the
    whole year's target. Otherwise the latest complete year stands ("按最近年度数据").

Milestones
    value >= 1 done, > 0 in_progress, else not_started; overdue when not done after the
    end of its due year. A node tracking a named project the plan asks only to reach a stage
    short of 完工 (projects.yaml `indicator`, e.g. 在建) is `reached`, not done, at value 1.
    Lights: done and reached green; in_progress green before the due year, yellow in it;
    not_started yellow before the due year, red in it; overdue red.

Projection (to the end of the governing target year, when that is after the latest data)
    Points: the baseline (or the zero origin of a cumulative) and every later observation.
    Levels, shares, ceilings: compound growth at g_obs from the latest value (linear when any
    value is <= 0); shares clamped to [0, 100]. Cumulative and annual: linear at the average
    rate. With >= 3 points the range is the min and max over the projections made with
    each consecutive span's own rate (and the central one). A year-to-date annual value is
    projected to the year's end at its run rate.

No data gives no_data with a reason, never a guess; data too short for a method says so.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

import pandas as pd

from planbook.assess import narrative
from planbook.plan.periods import (
    FIRST_YEAR,
    LAST_YEAR,
    PLAN_START,
    Period,
    elapsed_share,
    parse_period,
)
from planbook.plan.registry import (
    OP_SIGN,
    Indicator,
    Registry,
    Target,
)
from planbook.store.limits import out_of_range, outside
from planbook.store.observations import latest

# ---------------------------------------------------------------- vocabulary (DESIGN.md)

#: status code -> (Chinese label, default light). Milestones' in_progress / not_started
#: take another light in their due year (see `milestone_light`).
STATUS: dict[str, tuple[str, str]] = {
    "achieved": ("已达标", "green"),
    "on_track": ("符合进度", "green"),
    "needs_acceleration": ("需加快推进", "yellow"),
    "limited": ("进展缓慢", "red"),
    "deterioration": ("出现倒退", "red"),
    "no_data": ("暂无数据", "grey"),
    "done": ("已完成", "green"),
    # a named project (or the node tracking one) at or past the stage the plan asks, short of
    # 完工: the plan's ask is met, the work is not finished, so never worded 已完成
    "reached": ("已达要求阶段", "green"),
    "in_progress": ("推进中", "green"),
    "not_started": ("未启动", "yellow"),
    "overdue": ("已逾期", "red"),
    "not_assessed": ("不作评价", "grey"),
}
DONE = ("done", "reached")  # the statuses of a node or project that has met its ask
LIGHTS = ("green", "yellow", "red", "grey")
LIGHT_ZH = {"green": "绿灯", "yellow": "黄灯", "red": "红灯", "grey": "灰灯"}

# ---------------------------------------------------------------- thresholds

ON_TRACK_R = 0.95  # growth ratio R: on_track at or above
ACCELERATE_R = 0.6  # growth ratio R: needs_acceleration at or above (below: limited)
SHARE_LIMIT = 100.0  # the natural limit of a share, in %
SHARE_ZONE = 20.0  # thresholds shrink when the baseline is closer than this to the limit
SHARE_MIN_SCALE = 0.5  # ... down to this factor at the limit
SCHEDULE_ON = 1.0  # 时序进度 ratio: on_track at or above
SCHEDULE_ACCELERATE = 0.8  # 时序进度 ratio: needs_acceleration at or above
ANNUAL_ACCELERATE = 0.9  # annual: share of the target reached for needs_acceleration
_EPS = 1e-12


class InputRow(NamedTuple):
    """One observation row an assessment used (what the audit trail records)."""

    indicator_id: str
    period: str
    revision: int
    file_sha256: str
    file: str
    rows: str = ""  # which rows of `file` (village records: year and village ids), "" = the row


@dataclass(frozen=True)
class Assessment:
    """Where one indicator stands in one reporting period, with the reason and the rows used.

    `ratio` is R (growth ratio), the 时序进度 ratio (cumulative), or the completion ratio
    (annual); None where no method computed one. `light` follows STATUS except for
    milestones due this year (see `milestone_light`)."""

    indicator_id: str
    name: str
    kind: str
    unit: str
    lead: str
    period: str  # the reporting period
    baseline_value: float | None
    baseline_year: int | None
    baseline_source: str | None  # 'plan' | 'earliest observation' | None
    latest_value: float | None
    latest_period: str | None
    target_value: float | None
    target_year: int | None
    target_op: str | None
    target_every_year: bool
    ratio: float | None  # R, the 时序进度 ratio, or the annual completion ratio
    method: str | None  # growth_ratio | linear_ratio | schedule | annual | annual_ytd | milestone
    status: str
    status_zh: str
    light: str
    reason: str
    projected_value: float | None = None
    projected_year: int | None = None
    projected_meets_target: bool | None = None
    projection_low: float | None = None
    projection_high: float | None = None
    years_met: int | None = None
    years_observed: int | None = None
    inputs: tuple[InputRow, ...] = ()
    sample: bool = False  # the latest value used is illustrative sample data
    rule: str = ""  # the rule that judged it (registry RULES)
    # What the schedule asked for, as printed beside the light and used to set it: the
    # printed 时序进度 (cumulative) or month share (year-to-date), the 应达 value and the date
    # they were taken at (the latest data's period end, like for like).
    due_share: float | None = None
    due_value: float | None = None
    due_at: str | None = None


# ---------------------------------------------------------------- small helpers


@dataclass(frozen=True)
class _Point:
    period: Period
    value: float
    row: InputRow
    sample: bool = False

    @property
    def end(self) -> date:
        return self.period.end


def _fmt(value: float | None, unit: str) -> str:
    return narrative.fmt_number(value, unit)


def _pct(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def _months(a: date, b: date) -> int:
    """Whole months from one period end to another (both are month ends)."""
    return (b.year - a.year) * 12 + (b.month - a.month)


def _years(a: date, b: date) -> float:
    return _months(a, b) / 12


def _year_end(y: int) -> date:
    return date(y, 12, 31)


def _sign_word(rate: float, up: str = "增长", down: str = "下降") -> str:
    return up if rate >= 0 else down


def _text(v) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


_KIND_RANK = {"month": 0, "quarter": 1, "year": 2}


def _candidates(ind: Indicator, rows: pd.DataFrame) -> list[_Point]:
    """The indicator's rows any period may use, in the order `_points` weighs them: the latest
    revision of each stored period (real before sample), with a numeric value. They do not
    depend on the reporting period: `_select` takes a period's from them."""
    if rows is None or rows.empty:
        return []
    if "indicator_id" not in rows.columns:  # the indicator's own rows, unlabelled
        rows = rows.assign(indicator_id=ind.id)
    return indicator_points(rows[rows["indicator_id"] == ind.id]).get(ind.id, [])


def _to_points(ind_id: str, records: Iterable[dict]) -> list[_Point]:
    points = []
    for rec in records:
        value = pd.to_numeric(rec.get("value"), errors="coerce")
        if value is None or pd.isna(value):
            continue
        p = parse_period(rec["period"])
        row = InputRow(ind_id, p.code, int(rec.get("revision") or 0),
                       _text(rec.get("file_sha256")), _text(rec.get("file")),
                       _text(rec.get("rows")))
        points.append(_Point(p, float(value), row, rec.get("status") == "sample"))
    return points


def _select(ind: Indicator, points: list[_Point], period: Period) -> list[_Point]:
    """The candidates a period uses: ending by its end, one per date."""
    points = [q for q in points if q.period.end <= period.end]
    # Real before sample: one real observation (the plan's own baseline aside) and the
    # indicator's sample observations are never compared with it.
    plan_base = str(ind.baseline.year) if ind.baseline is not None else None
    if any(not q.sample and q.period.code != plan_base for q in points):
        points = [q for q in points if not q.sample]
    by_end: dict[date, _Point] = {}
    for point in points:
        p = point.period
        have = by_end.get(p.end)
        if have is None or _KIND_RANK[p.kind] > _KIND_RANK[have.period.kind]:
            by_end[p.end] = point
    return [by_end[d] for d in sorted(by_end)]


def _points(ind: Indicator, rows: pd.DataFrame, period: Period) -> list[_Point]:
    """The indicator's usable rows: latest revision, ending by the period's end, one per date."""
    return _select(ind, _candidates(ind, rows), period)


IndicatorPoints = dict[str, list[_Point]]


def indicator_points(observations: pd.DataFrame | None) -> IndicatorPoints:
    """Every indicator's candidate rows (`_candidates`), computed over the whole store at once:
    what `assess_all` needs for any period. Assessing several periods of one store (the
    dossier's history, the previous period) computes them once and passes them on."""
    if observations is None or observations.empty:
        return {}
    df = observations
    if "revision" not in df.columns:
        df = df.assign(revision=1)
    # Parsed once per distinct period string, as `_candidates` does row by row.
    codes = {v: parse_period(v).code for v in df["period"].unique()}
    df = df.assign(period=df["period"].map(codes).astype(object))
    # One stable sort of the store picks, per indicator, the same rows as a sort of each
    # indicator's own rows (the indicator is the first key; ties keep their stored order).
    # Records taken once for the whole store (not per indicator), each indicator's in order.
    groups: dict[str, list[dict]] = {}
    for rec in latest(df).to_dict("records"):
        key = rec["indicator_id"]
        if not pd.isna(key):  # as groupby: rows without an indicator belong to none
            groups.setdefault(str(key), []).append(rec)
    return {key: _to_points(key, recs) for key, recs in groups.items()}


def share_scale(baseline: float, rising: bool) -> float:
    """Threshold factor for a share whose baseline is near its natural limit (0 or 100%).

    d = 100 - baseline when the share should rise, baseline when it should fall;
    s = 1 for d >= 20, else 0.5 + 0.5 * d / 20 (0.75 at a baseline of 90%, 0.5 at 100%).
    """
    d = SHARE_LIMIT - baseline if rising else baseline
    d = max(0.0, d)
    if d >= SHARE_ZONE:
        return 1.0
    return SHARE_MIN_SCALE + (1 - SHARE_MIN_SCALE) * d / SHARE_ZONE


def growth_status(r: float, scale: float = 1.0) -> str:
    """Status for a growth ratio R (latest value not yet meeting the target)."""
    if r < 0:
        return "deterioration"
    if r >= ON_TRACK_R * scale - _EPS:
        return "on_track"
    if r >= ACCELERATE_R * scale - _EPS:
        return "needs_acceleration"
    return "limited"


def schedule_status(ratio: float) -> str:
    """Status for a 时序进度 ratio (total not falling, target not yet met)."""
    if ratio >= SCHEDULE_ON - _EPS:
        return "on_track"
    if ratio >= SCHEDULE_ACCELERATE - _EPS:
        return "needs_acceleration"
    return "limited"


def milestone_light(status: str, period: Period, due_year: int) -> str:
    """done and reached green; in_progress green before the due year, yellow in it; not_started yellow
    before the due year, red in it; overdue red."""
    if status in ("in_progress", "not_started") and period.year >= due_year:
        return "yellow" if status == "in_progress" else "red"
    return STATUS[status][1]


def _target_text(t: Target | None, unit: str) -> str:
    if t is None:
        return "—"
    return narrative.fmt_target(t.op, t.value, unit, t.year, every_year=t.every_year)


def _target_phrase(t: Target, unit: str) -> str:
    """'2025年目标≥1,000亿元' for reasons (the target at the plan's own precision)."""
    return f"{t.year}年目标{OP_SIGN[t.op]}{_plan(t.value, unit)}"


#: the verb of "方能于2027年达到…": a strict target is passed, not reached
_REACH = {">=": "达到", "<=": "达到", "=": "达到", ">": "超过", "<": "低于"}


def _plan(value: float | None, unit: str) -> str:
    return narrative.fmt_plan_value(value, unit)


def _project(times: Sequence[float], values: Sequence[float], horizon: float, *,
             compound: bool, central_rate: float) -> tuple[float, float | None, float | None]:
    """Central projection at `horizon` (years on the same axis as `times`) from the last
    point at `central_rate`, and with >= 3 points the min/max over each span's own rate."""
    t_last, x_last = times[-1], values[-1]
    dt = horizon - t_last

    def at(rate: float) -> float:
        return x_last * (1 + rate) ** dt if compound else x_last + rate * dt

    central = at(central_rate)
    if len(times) < 3:
        return central, None, None
    spans = []
    for i in range(1, len(times)):
        span = times[i] - times[i - 1]
        if span <= 0:
            continue
        x0, x1 = values[i - 1], values[i]
        rate = (x1 / x0) ** (1 / span) - 1 if compound else (x1 - x0) / span
        spans.append(at(rate))
    candidates = [central, *spans]
    return central, min(candidates), max(candidates)


def _clamp_share(ind: Indicator, v: float | None) -> float | None:
    if v is None or ind.kind != "share":
        return v
    return min(SHARE_LIMIT, max(0.0, v))


# ---------------------------------------------------------------- the assessment


class _Builder:
    """Collects the fields of one Assessment; `done()` fills status label and light."""

    def __init__(self, ind: Indicator, period: Period):
        self.ind = ind
        self.period = period
        self.f: dict = {
            "indicator_id": ind.id, "name": ind.name_zh, "kind": ind.kind, "unit": ind.unit,
            "lead": ind.lead, "period": period.code, "baseline_value": None,
            "baseline_year": None, "baseline_source": None, "latest_value": None,
            "latest_period": None, "target_value": None, "target_year": None,
            "target_op": None, "target_every_year": False, "ratio": None, "method": None,
            "sample": False, "rule": ind.judged_by,
        }
        if ind.baseline is not None:
            self.set(baseline_value=ind.baseline.value, baseline_year=ind.baseline.year,
                     baseline_source="plan")
        self.target(ind.target_for(period.year))

    def set(self, **kw) -> _Builder:
        self.f.update(kw)
        return self

    def target(self, t: Target) -> None:
        self.set(target_value=t.value, target_year=t.year, target_op=t.op,
                 target_every_year=t.every_year)

    def latest(self, p: _Point) -> None:
        self.set(latest_value=p.value, latest_period=p.period.code, sample=p.sample)

    def done(self, status: str, reason: str, *, light: str | None = None,
             inputs: Iterable[InputRow] = ()) -> Assessment:
        label, default_light = STATUS[status]
        seen: dict[tuple, InputRow] = {}
        for r in inputs:
            seen.setdefault((r.period, r.revision), r)
        return Assessment(**self.f, status=status, status_zh=label, light=light or default_light,
                          reason=reason, inputs=tuple(seen.values()))


def assess_indicator(ind: Indicator, rows: pd.DataFrame, period: Period, *,
                     short_of_finish: bool = False) -> Assessment:
    """Status, light, reason and projection of one indicator for one reporting period.

    `rows` are the indicator's stored observation rows, all revisions (other indicators'
    rows are ignored); the latest revision of each period ending by `period` is used.
    `short_of_finish`: a milestone tracking a named project asked to reach a stage before
    完工 (assess_all finds these in the registry).
    """
    return _assess(ind, _points(ind, rows, period), period, short_of_finish=short_of_finish)


def _assess(ind: Indicator, points: list[_Point], period: Period, *,
            short_of_finish: bool = False) -> Assessment:
    rule = ind.judged_by
    # A value no figure of this kind can be (store.limits) is a data error, never judged:
    # 1e308 would otherwise be 已达标 and print as a 309-digit number.
    bad = [q for q, out in zip(points, outside(ind, [q.value for q in points]), strict=True)
           if out]
    if bad:
        b = _Builder(ind, period)
        # the period named, the value not: an absurd number is never printed as a figure
        b.set(latest_period=bad[-1].period.code, sample=bad[-1].sample)
        why = "；".join(f"{q.period.label_zh}数值{out_of_range(ind, q.value)}" for q in bad[-3:])
        return b.done("not_assessed", f"数据有误，不作评价：{why}；请核实后重新报送",
                      inputs=[q.row for q in bad])
    if rule == "milestone":
        return _assess_milestone(ind, points, period, short_of_finish=short_of_finish)
    if rule == "schedule":
        return _assess_cumulative(ind, points, period)
    if rule == "annual":
        return _assess_annual(ind, points, period)
    if rule == "bottom_line":
        return _assess_bottom_line(ind, points, period)
    if rule == "info":
        return _assess_info(ind, points, period)
    return _assess_growth(ind, points, period)


# ---------------------------------------------------------------- levels, shares, ceilings


def _assess_growth(ind: Indicator, points: list[_Point], period: Period) -> Assessment:
    b = _Builder(ind, period)
    t = ind.target_for(period.year)
    unit = ind.unit
    if ind.baseline is not None:
        base_end = _year_end(ind.baseline.year)
        if period.end < base_end:
            return b.done("no_data", f"报告期{period.label_zh}早于基期{ind.baseline.year}年，无法评估")
        x0, base_label = ind.baseline.value, f"{ind.baseline.year}年"
        base_rows = [p.row for p in points if p.end == base_end]
        prefix = ""
    else:
        if not points:
            return b.done("no_data", f"截至{period.end_label_zh}尚无观测数据")
        first = points[0]
        base_end, x0, base_label = first.end, first.value, first.period.label_zh
        base_rows = [first.row]
        b.set(baseline_value=x0, baseline_year=first.period.year,
              baseline_source="earliest observation")
        prefix = "规划未给出基期值，以最早观测值为基期；"
    if not points:
        return b.done("no_data", f"截至{period.end_label_zh}尚无观测数据")
    post = [p for p in points if p.end > base_end]
    last = points[-1]
    if last.end < base_end:
        return b.done("no_data", f"截至{period.end_label_zh}尚无基期（{base_label}）以来的观测数据")
    b.latest(last)
    stale = ""
    if last.period.kind == "year" and period.kind != "year":
        stale = "（按最近年度数据）"
    elif last.period.kind == "year" and last.end.year < period.year:
        stale = f"（{period.year}年数据暂缺，按最近年度数据）"
    met = t.met_by(last.value)
    if not post:
        if met:
            return b.done("achieved", f"{prefix}{base_label}值{_fmt(last.value, unit)}已达到"
                          f"{_target_phrase(t, unit)}，其后尚无新数据", inputs=base_rows)
        why = ("仅有一期观测值，无法计算增速" if ind.baseline is None
               else f"基期（{base_label}）以来尚无观测数据，无法计算增速")
        return b.done("no_data", f"{prefix}{why}", inputs=base_rows)

    used = base_rows + [p.row for p in post]
    n = _years(base_end, last.end)
    big_n = _years(base_end, _year_end(t.year))
    x = last.value
    tv = float(t.value if t.value is not None else 0.0)
    compound = x0 > 0 and x > 0 and tv > 0
    if compound:
        g_obs = (x / x0) ** (1 / n) - 1
        g_req = (tv / x0) ** (1 / big_n) - 1 if big_n > 0 else None
        method = "growth_ratio"
    else:
        g_obs = (x - x0) / n
        g_req = (tv - x0) / big_n if big_n > 0 else None
        method = "linear_ratio"
    b.set(method=method)
    latest_label = f"{last.period.label_zh}值{_fmt(x, unit)}{stale}"
    if compound:
        observed = f"较{base_label}基期{_fmt(x0, unit)}年均{_sign_word(g_obs)}{_pct(abs(g_obs))}"
    else:
        nonpos = "基期值为0" if x0 == 0 else "基期值、最新值或目标值非正"
        observed = (f"{nonpos}，复合增长率无法计算，改用线性增速：较{base_label}基期"
                    f"{_fmt(x0, unit)}年均{_sign_word(g_obs, '增加', '减少')}"
                    f"{_fmt(abs(g_obs), unit)}")

    # projection (baseline point and every later observation)
    b.set(**_growth_projection(ind, base_end, x0, post, t))

    baseline_met = t.met_by(x0)
    r = None
    if g_req is not None and not baseline_met and abs(g_req) > _EPS:
        r = g_obs / g_req
    b.set(ratio=r)
    rest = _years(last.end, _year_end(t.year))
    if g_req is not None and not met and rest > 0:
        # What decides action is the rate needed from now; R still compares base rates.
        g_now = (tv / x) ** (1 / rest) - 1 if compound else (tv - x) / rest
        rate = (_pct(abs(g_now)) if compound else _fmt(abs(g_now), unit))
        base_rate = (_pct(abs(g_req)) if compound else _fmt(abs(g_req), unit))
        words = ("增长", "下降") if compound else ("增加", "减少")
        required = (f"按{last.period.label_zh}值计，此后需年均{_sign_word(g_now, *words)}{rate}"
                    f"方能于{t.year}年{_REACH[t.op]}{_plan(tv, unit)}（按{base_label}基期计所需年均"
                    f"{_sign_word(g_req, *words)}{base_rate}，R据此计算）")
    elif compound and g_req is not None:
        required = (f"需年均{_sign_word(g_req)}{_pct(abs(g_req))}方能于{t.year}年"
                    f"{_REACH[t.op]}{_plan(tv, unit)}")
    elif g_req is not None:
        required = (f"需年均{_sign_word(g_req, '增加', '减少')}{_fmt(abs(g_req), unit)}"
                    f"方能于{t.year}年{_REACH[t.op]}{_plan(tv, unit)}")
    else:
        required = f"基期不早于目标年{t.year}年，无法计算所需增速"
    r_text = f"，R={r:.2f}" if r is not None else ""
    head = f"{prefix}{latest_label}，{observed}"

    if met:
        return b.done("achieved", f"{head}，已达到{_target_phrase(t, unit)}{r_text}",
                      inputs=used)
    if baseline_met:
        return b.done("deterioration", f"{head}；基期值已达到{_target_phrase(t, unit)}，"
                      f"现已回落至未达标", inputs=used)
    if period.end > _year_end(t.year) or last.end >= _year_end(t.year):
        # The target year's own figure decides it: no growth ratio can put it on track.
        moving_away = r is not None and r < 0 or (r is None and (x - x0) * (tv - x0) < 0)
        status = "deterioration" if moving_away else "limited"
        when = "已过" if period.end > _year_end(t.year) else "已到"
        return b.done(status, f"{head}，{required}{r_text}；目标年限{t.year}年{when}，仍未达标",
                      inputs=used)
    if r is None:
        return b.done("limited", f"{head}，{required}；未达标", inputs=used)
    scale = 1.0
    note = ""
    if ind.kind == "share":
        scale = share_scale(x0, rising=tv > x0)
        if scale < 1.0:
            limit = "100%上限" if tv > x0 else "0下限"
            note = (f"；基期值接近{limit}，阈值按系数{scale:.2f}缩放"
                    f"（符合进度R≥{ON_TRACK_R * scale:.2f}，需加快R≥{ACCELERATE_R * scale:.2f}）")
    status = growth_status(r, scale)
    return b.done(status, f"{head}，{required}{r_text}{note}", inputs=used)


def _growth_projection(ind: Indicator, base_end: date, x0: float, post: list[_Point],
                       t: Target) -> dict:
    """Compound growth from the latest value at the baseline->latest rate (linear when any
    value is <= 0), to the end of the target year; nothing when the data reach that year."""
    horizon_end = _year_end(t.year)
    last = post[-1]
    if last.end >= horizon_end:
        return {}
    times = [0.0] + [_years(base_end, p.end) for p in post]
    values = [x0] + [p.value for p in post]
    compound = all(v > 0 for v in values)
    n = times[-1]
    rate = (last.value / x0) ** (1 / n) - 1 if compound else (last.value - x0) / n
    central, low, high = _project(times, values, _years(base_end, horizon_end),
                                  compound=compound, central_rate=rate)
    central = _clamp_share(ind, central)
    return {"projected_value": central, "projected_year": t.year,
            "projected_meets_target": t.met_by(central),
            "projection_low": _clamp_share(ind, low), "projection_high": _clamp_share(ind, high)}


# ---------------------------------------------------------------- cumulative


def _elapsed(end: date, target_year: int) -> float:
    """Share of 2023-01-01 .. end of the target year gone at `end` (0..1)."""
    if target_year == LAST_YEAR:
        return elapsed_share(Period(end=end, year=end.year, kind="month", number=end.month))
    total = (_year_end(target_year) - PLAN_START).days + 1
    done = (end - PLAN_START).days + 1
    return max(0.0, min(1.0, done / total))


def schedule_share(end: date, target_year: int) -> float:
    """时序进度 as the report prints it: the elapsed share rounded to 0.1%, so that a reader
    multiplying the printed share by the target gets the printed 应达 (60.0%, not 60.022%)."""
    return round(_elapsed(end, target_year), 3)


def whole(value: float, unit: str) -> float:
    """A count unit's value rounded half up to a whole number (应达18家, not 18.0家)."""
    if unit in narrative.INTEGER_UNITS:
        return float(math.floor(value + 0.5))
    return value


def schedule_due(ind: Indicator, target: Target, end: date) -> tuple[float, float]:
    """(printed 时序进度, what the schedule asks for by `end`): base + (target - base) x share,
    whole for count units. The base is the registry's baseline, else 0."""
    share = schedule_share(end, target.year)
    base = ind.baseline.value if ind.baseline is not None else 0.0
    return share, whole(base + (float(target.value or 0.0) - base) * share, ind.unit)


def _assess_cumulative(ind: Indicator, points: list[_Point], period: Period) -> Assessment:
    b = _Builder(ind, period)
    unit = ind.unit
    base = ind.baseline.value if ind.baseline is not None else 0.0
    base_year = ind.baseline.year if ind.baseline is not None else FIRST_YEAR - 1
    b.set(baseline_value=base, baseline_year=base_year, baseline_source="plan")
    if period.end < PLAN_START:
        return b.done("no_data", f"报告期{period.label_zh}早于规划期起点（2023年1月1日），无法评估")
    t = ind.target_for(period.year)
    pts = [p for p in points if p.end >= PLAN_START]
    if not pts:
        return b.done("no_data", f"截至{period.end_label_zh}规划期内尚无累计数据")
    last = pts[-1]
    b.latest(last)
    b.set(method="schedule")
    used = [p.row for p in pts]
    x, tv = last.value, float(t.value or 0.0)
    when = last.period.end_label_zh
    stale = ""
    if last.end < period.end:
        stale = f"（最新数据为{when}，按该时点计）"
    # projection: origin (end of 2022, value b) and every observation, linear
    origin = _year_end(FIRST_YEAR - 1)
    horizon_end = _year_end(t.year)
    if last.end < horizon_end:
        times = [0.0] + [_years(origin, p.end) for p in pts]
        values = [base] + [p.value for p in pts]
        rate = (x - base) / times[-1]
        central, low, high = _project(times, values, _years(origin, horizon_end),
                                      compound=False, central_rate=rate)
        b.set(projected_value=central, projected_year=t.year,
              projected_meets_target=t.met_by(central), projection_low=low,
              projection_high=high)
    if abs(tv - base) < _EPS:
        return b.done("achieved" if t.met_by(x) else "limited",
                      f"{when}累计{_fmt(x, unit)}，目标{_plan(tv, unit)}与基数相同", inputs=used)
    completed = (x - base) / (tv - base)
    elapsed, due = schedule_due(ind, t, last.end)
    # The light is judged against the 应达 the page prints (rounded to whole things for
    # counts), so a printed "应达1个" with 1 done is on schedule, never yellow.
    ratio = (x - base) / (due - base) if abs(due - base) > _EPS else (
        1.0 if x >= due else 0.0)
    b.set(ratio=ratio, due_share=elapsed, due_value=due, due_at=last.period.code)
    head = (f"截至{when}累计{_fmt(x, unit)}{stale}，完成{t.year}年目标{_plan(tv, unit)}的"
            f"{_pct(completed)}，时序进度{_pct(elapsed)}（应达{_fmt(due, unit)}），"
            f"完成应达数的{_pct(ratio)}")
    if t.met_by(x):
        return b.done("achieved", f"截至{when}累计{_fmt(x, unit)}，已达到"
                      f"{_target_phrase(t, unit)}", inputs=used)
    if len(pts) >= 2 and x < pts[-2].value - _EPS:
        prev = pts[-2]
        return b.done("deterioration", f"{head}；累计值低于上期（{prev.period.label_zh}"
                      f"{_fmt(prev.value, unit)}），出现倒退", inputs=used)
    if period.end > horizon_end:
        return b.done("limited", f"{head}；目标年限{t.year}年已过，仍未达标", inputs=used)
    return b.done(schedule_status(ratio), head, inputs=used)


# ---------------------------------------------------------------- annual


def _annual_ratio(value: float, t: Target) -> float | None:
    tv = t.value
    if tv is None:
        return None
    if t.upper:
        return tv / value if value > 0 else None
    return value / tv if tv > 0 else None


def _assess_annual(ind: Indicator, points: list[_Point], period: Period) -> Assessment:
    b = _Builder(ind, period)
    unit = ind.unit
    years = [p for p in points if p.end.month == 12 and p.end.day == 31
             and FIRST_YEAR <= p.end.year <= LAST_YEAR]
    met_list = [ind.target_for(p.end.year).met_by(p.value) for p in years]
    b.set(years_met=sum(met_list), years_observed=len(years))
    tally = f"；{FIRST_YEAR}年以来{len(years)}个年度中{sum(met_list)}个达标" if years else ""

    ytd = None
    if ind.frequency in ("monthly", "quarterly") and period.kind != "year":
        in_year = [p for p in points if p.end.year == period.year and p.period.kind != "year"
                   and p.end.month < 12]
        ytd = in_year[-1] if in_year else None
    if ytd is not None:
        t = ind.target_for(period.year)
        b.target(t)
        b.latest(ytd)
        m = ytd.end.month
        tv = float(t.value or 0.0)
        expected = whole(tv * m / 12, unit)  # as printed: 应达37个, not 36.7个
        b.set(method="annual_ytd")
        run_rate = ytd.value * 12 / m
        b.set(projected_value=run_rate, projected_year=period.year,
              projected_meets_target=t.met_by(run_rate))
        b.set(due_share=m / 12, due_value=expected, due_at=ytd.period.code)
        head = (f"{period.year}年1—{m}月累计{_fmt(ytd.value, unit)}，按年度目标"
                f"{_plan(tv, unit)}的{m}/12进度应达{_fmt(expected, unit)}")
        used = [ytd.row] + [p.row for p in years]
        if not t.upper and t.met_by(ytd.value):
            b.set(ratio=ytd.value / expected if expected > 0 else None)
            return b.done("achieved", f"{head}，已达到全年目标{tally}", inputs=used)
        if t.upper:
            ratio = expected / ytd.value if ytd.value > 0 else None
        else:
            ratio = ytd.value / expected if expected > 0 else None
        b.set(ratio=ratio)
        if ratio is None:
            return b.done("limited", f"{head}，无法计算进度比{tally}", inputs=used)
        status = ("on_track" if ratio >= 1 - _EPS else
                  "needs_acceleration" if ratio >= ANNUAL_ACCELERATE - _EPS else "limited")
        return b.done(status, f"{head}，进度比{ratio:.2f}{tally}", inputs=used)

    if not years:
        return b.done("no_data", f"截至{period.end_label_zh}规划期内尚无年度数据")
    last = years[-1]
    y = last.end.year
    t = ind.target_for(y)
    b.target(t)
    b.latest(last)
    b.set(method="annual")
    used = [p.row for p in years]
    note = ""
    if y < period.year:
        note = f"{period.year}年数据尚未报送，按最近年度数据（{y}年）：" if period.kind == "year" \
            else f"按最近年度数据（{y}年）："
    # projection: linear trend of the annual amounts to the final target year
    final = ind.final_target
    if len(years) >= 2 and final.year > y:
        times = [float(p.end.year) for p in years]
        values = [p.value for p in years]
        rate = (values[-1] - values[0]) / (times[-1] - times[0])
        central, low, high = _project(times, values, float(final.year), compound=False,
                                      central_rate=rate)
        b.set(projected_value=central, projected_year=final.year,
              projected_meets_target=final.met_by(central), projection_low=low,
              projection_high=high)
    ratio = _annual_ratio(last.value, t)
    b.set(ratio=ratio)
    head = f"{note}{y}年{_fmt(last.value, unit)}，{_target_text(t, unit)}"
    if t.met_by(last.value):
        return b.done("achieved", f"{head}，当年达标{tally}", inputs=used)
    if ratio is not None and ratio >= ANNUAL_ACCELERATE - _EPS:
        return b.done("needs_acceleration", f"{head}，完成目标的{_pct(ratio)}，未达标{tally}",
                      inputs=used)
    done_text = f"完成目标的{_pct(ratio)}，" if ratio is not None else ""
    return b.done("limited", f"{head}，{done_text}未达标{tally}", inputs=used)


# ---------------------------------------------------------------- bottom lines, information


def _assess_bottom_line(ind: Indicator, points: list[_Point], period: Period) -> Assessment:
    """A line to hold every year of the plan (确保, 稳定在, 持续巩固): the latest value holds it
    or not; growth does not enter. Below the line is red: 出现倒退 when an earlier year of
    the plan held it, else 进展缓慢."""
    b = _Builder(ind, period)
    unit = ind.unit
    t = ind.target_for(period.year)
    b.set(method="bottom_line")
    pts = [p for p in points if p.end >= PLAN_START]
    if not pts:
        return b.done("no_data", f"截至{period.end_label_zh}规划期内尚无数据")
    last = pts[-1]
    b.latest(last)
    years = [p for p in pts if p.period.kind == "year" and p.end.year <= LAST_YEAR]
    held = [ind.target_for(p.end.year).met_by(p.value) for p in years]
    b.set(years_met=sum(held), years_observed=len(years))
    missed = [str(p.end.year) for p, ok in zip(years, held, strict=True) if not ok]
    tally = (f"；{FIRST_YEAR}年以来{len(years)}个年度中{sum(held)}个守住底线"
             + (f"（{'、'.join(missed)}年未守住）" if missed else "")) if years else ""
    line = f"底线{OP_SIGN[t.op]}{_plan(t.value, unit)}"
    head = f"{last.period.label_zh}值{_fmt(last.value, unit)}，{line}（逐年保持）"
    used = [p.row for p in pts]
    if t.met_by(last.value):
        return b.done("achieved", f"{head}，守住底线{tally}", inputs=used)
    gap_text = narrative.fmt_difference(float(t.value or 0.0) - last.value, unit,
                                        max(abs(float(t.value or 0.0)), abs(last.value)))
    earlier = any(ok for p, ok in zip(years, held, strict=True) if p.end < last.end)
    status = "deterioration" if earlier else "limited"
    why = "，此前年度曾守住，现已跌破" if earlier else ""
    return b.done(status, f"{head}，低于底线{gap_text}，未守住底线{why}{tally}", inputs=used)


def _assess_info(ind: Indicator, points: list[_Point], period: Period) -> Assessment:
    """A statement of the plan that sets no target to progress toward: shown, not judged."""
    b = _Builder(ind, period)
    b.set(method="info")
    pts = [p for p in points if p.end >= PLAN_START]
    basis = f"方案表述“{ind.rule_basis}”为规划安排的说明，不设进度目标，不作评价"
    if not pts:
        return b.done("not_assessed", f"{basis}；截至{period.end_label_zh}尚无报送值")
    last = pts[-1]
    b.latest(last)
    return b.done("not_assessed", f"{basis}；{last.period.label_zh}报送值"
                  f"{_fmt(last.value, ind.unit)}", inputs=[last.row])


# ---------------------------------------------------------------- milestones


def _assess_milestone(ind: Indicator, points: list[_Point], period: Period, *,
                      short_of_finish: bool = False) -> Assessment:
    """`short_of_finish`: the node tracks a named project asked to reach a stage before 完工;
    1 then means that stage is reached (`reached`), not that the work is finished."""
    b = _Builder(ind, period)
    t = ind.target_for(period.year)
    due = t.year
    b.set(method="milestone")
    if not points:
        late = f"（已过{due}年底的完成时限）" if period.end >= _year_end(due) else ""
        return b.done("no_data", f"节点任务应于{due}年底前完成，截至{period.end_label_zh}"
                      f"尚无进展报送{late}")
    last = points[-1]
    b.latest(last)
    v = last.value
    done = "reached" if short_of_finish else "done"
    state = done if v >= 1 - _EPS else "in_progress" if v > _EPS else "not_started"
    head = (f"节点任务应于{due}年底前完成，{last.period.label_zh}报告状态为"
            f"{STATUS[state][0]}（{v:g}）")
    if state != done and period.end >= _year_end(due):
        return b.done("overdue", f"{head}，已逾期", inputs=[last.row])
    light = milestone_light(state, period, due)
    tail = "，今年到期" if state != done and period.year == due else ""
    return b.done(state, head + tail, light=light, inputs=[last.row])


# ---------------------------------------------------------------- many indicators


def assess_all(registry: Registry, observations: pd.DataFrame, period: Period, *,
               points: IndicatorPoints | None = None) -> list[Assessment]:
    """Assess every indicator of the registry, in registry order. `points`: the store's
    `indicator_points(observations)` when the caller has them (several periods of one store)."""
    if points is None:
        points = indicator_points(observations)
    # A node tracking a named project the plan asks only to start or build (在建, 开工 ...)
    # has met its ask at that stage: `reached`, worded as the project is, not 已完成.
    short = {p.indicator for p in registry.projects.values()
             if p.indicator and p.target_stage != "完工"}
    return [_assess(ind, _select(ind, points.get(ind.id, []), period), period,
                    short_of_finish=ind.id in short)
            for ind in registry.indicators.values()]
