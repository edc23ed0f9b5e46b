"""Plausibility: values that pass validation but look like a slip of unit, scale or sign.

Checked from the first figure: against the indicator's whole stored history whatever its
status (sample, official or department figures: a slip is a slip whatever it is compared
with), against the size of its target, and against its kind's range.

- jump: the value is ×10 or more, or ÷10 or less, of the last value (both of the same sign):
  the same period's stored value when one exists (a correction), else the latest earlier
  one; amounts other than running totals are compared with a period of the same length only
  (a quarter's or a month's year-to-date is a fraction of the year);
- target: the value is more than TARGET_MULTIPLE[kind] times the plan's last target (or,
  for a level without a target value, its baseline): 11060 名 against a 2027 target of 1500;
- below baseline: a level's annual value under a third of its baseline;
- sign: a negative value where every earlier value is positive;
- fraction: a value below 1 on a % indicator whose last value is above 1 (0.471 for 47.1 %);
- falling total: a cumulative total lower than an earlier period's;
- range: a rate bounded by 100 (every target and the baseline ≤ 100) above 100.
Values no figure can be (a share over 100, a fractional count, 1e308) are refused before
this, by store.limits.

Intake stores a flagged row only when confirmed (`--confirm`, or a 备注 explaining it); the
report's 数据质量 appendix lists the flags of the rows it used, with their 备注.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import pandas as pd

from planbook.plan.periods import Period, parse_period
from planbook.plan.registry import Indicator, Registry
from planbook.store.observations import format_value, latest

JUMP = 10.0
# How far past the plan's last target a value may go before it is a likely slip, per kind.
# A level (GDP, output) grows a few percent a year: half again beyond its 2027 target before
# 2027 is not growth but a misplaced digit or unit. A running total can overshoot more
# (a target met early); a year's amount or a ceiling (a value to bring down) more still.
TARGET_MULTIPLE = {"level": 1.5, "cumulative": 2.0, "annual": 3.0, "ceiling": 3.0}
BELOW_BASELINE = 1 / 3  # a level's year below a third of its baseline
_RANK = {"month": 0, "quarter": 1, "year": 2}


@dataclass(frozen=True)
class Flag:
    indicator_id: str
    period: str
    value: float
    code: str  # jump | target | baseline | sign | fraction | falling | range
    message: str  # Chinese, naming the comparison: 是上期值1086的10.2倍
    reference: float | None = None
    reference_period: str | None = None

    @property
    def text(self) -> str:
        """The value and the comparison: 11060：是上期值1086的10.2倍."""
        return f"{fmt_number(self.value, '')}：{self.message}"


def fmt_number(value: float, unit: str) -> str:
    return f"{format_value(round(float(value), 6))}{unit}"


def times(ratio: float) -> str:
    """10.2倍, 7.4倍, 1/10: one decimal, as the flag says it."""
    if ratio >= 1:
        return f"{ratio:,.1f}".removesuffix(".0") + "倍"
    return "1/" + f"{1 / ratio:,.1f}".removesuffix(".0")


def bounded_by_100(ind: Indicator) -> bool:
    """A % indicator whose every stated number is ≤ 100 measures a rate that cannot pass 100."""
    if ind.unit != "%":
        return False
    numbers = [t.value for t in ind.targets if t.value is not None]
    if ind.baseline is not None:
        numbers.append(ind.baseline.value)
    return bool(numbers) and all(0 <= n <= 100 for n in numbers)


def comparable(ind: Indicator, p: Period, q: Period) -> bool:
    """Whether a value of period q is a fair reference for one of period p: running totals
    always; a year's amount a year's, or an earlier month of the same year to date; any other
    value one of a period of the same length (a quarter is not a year)."""
    if ind.kind == "cumulative":
        return True
    if ind.kind == "annual":
        return p.kind == q.kind and (p.kind == "year" or p.year == q.year)
    return p.kind == q.kind


class Reference:
    """The stored values, every status (real before sample where a period has both, as the
    report reads them), per indicator in period-end order."""

    def __init__(self, rows: pd.DataFrame | None):
        self.series: dict[str, list[tuple[tuple, Period, float]]] = {}
        self.same: dict[tuple[str, str], float] = {}
        if rows is None or rows.empty:
            return
        for ind_id, period, value in zip(*(latest(rows)[c] for c in (
                "indicator_id", "period", "value")), strict=True):
            if pd.isna(value):
                continue
            try:
                p = parse_period(str(period))
            except Exception:  # noqa: BLE001 - check_store names malformed periods
                continue
            self.series.setdefault(str(ind_id), []).append(((p.end, _RANK[p.kind]), p,
                                                            float(value)))
            self.same[(str(ind_id), p.code)] = float(value)
        for s in self.series.values():
            s.sort(key=lambda t: t[0])

    def history(self, ind: Indicator, period: str) -> list[tuple[Period, float]]:
        """Every stored value of a period ending before `period` ends, oldest first."""
        p = parse_period(period)
        s = self.series.get(ind.id, [])
        i = bisect.bisect_left([k for k, _, _ in s], (p.end, -1))
        return [(q, v) for _, q, v in s[:i]]

    def before(self, ind: Indicator, period: str) -> tuple[str, float] | None:
        """The latest value of a comparable period ending before `period` ends."""
        p = parse_period(period)
        for q, value in reversed(self.history(ind, period)):
            if comparable(ind, p, q):
                return q.code, value
        return None


def check_value(ind: Indicator, period: str, value: float, ref: Reference, *,
                same_period: bool = True) -> list[Flag]:
    """The flags of one value against the stored values and the plan's numbers."""
    if ind.kind == "milestone" or pd.isna(value):
        return []
    flags: list[Flag] = []

    def flag(code: str, message: str, rp: str | None = None, rv: float | None = None) -> None:
        flags.append(Flag(ind.id, period, float(value), code, message, rv, rp))

    p = parse_period(period)
    if bounded_by_100(ind) and value > 100:
        flag("range", "超过100%，该比率不会超过100%")
    before = ref.before(ind, period)
    same = ref.same.get((ind.id, p.code)) if same_period else None
    last = (period, same) if same is not None else before
    if last is not None:
        lp, lv = last
        what = "已存值" if same is not None else "上期值"
        if ind.unit == "%" and 0 < abs(value) < 1 and abs(lv) > 1:
            flag("fraction", f"% 指标填了小数，{what}为{fmt_number(lv, '')}：是否应为百分数"
                 "（如 0.471 应填 47.1）", lp, lv)
        elif lv != 0 and value != 0 and (lv > 0) == (value > 0):
            ratio = value / lv
            if ratio >= JUMP or ratio <= 1 / JUMP:
                flag("jump", f"是{what}{fmt_number(lv, '')}的{times(ratio)}", lp, lv)
    history = ref.history(ind, period)
    if value < 0 and history and all(v > 0 for _, v in history):
        flag("sign", f"为负数，此前各期均为正数（上期值{fmt_number(history[-1][1], '')}）",
             history[-1][0].code, history[-1][1])
    _size_flags(ind, p, value, flag)
    if ind.kind == "cumulative" and before is not None and value < before[1]:
        flag("falling", f"低于上期累计值{fmt_number(before[1], '')}（{before[0]}）："
             "累计数不应减少", before[0], before[1])
    return flags


def _size_flags(ind: Indicator, p: Period, value: float, flag) -> None:
    """Against the size the plan gives the indicator: its last target, its baseline."""
    multiple = TARGET_MULTIPLE.get(ind.kind)
    targets = [t for t in ind.targets if t.value is not None and t.value > 0]
    final = max(targets, key=lambda t: t.year) if targets else None
    base = ind.baseline.value if ind.baseline is not None and ind.baseline.value > 0 else None
    if multiple is not None and final is not None and value > multiple * final.value:
        flag("target", f"是{final.year}年目标{fmt_number(final.value, '')}的"
             f"{times(value / final.value)}", str(final.year), final.value)
    elif multiple is not None and final is None and base is not None \
            and value > multiple * base:
        flag("baseline", f"是基期值{fmt_number(base, '')}的{times(value / base)}",
             str(ind.baseline.year), base)
    if ind.kind == "level" and p.kind == "year" and base is not None \
            and 0 <= value < BELOW_BASELINE * base:
        flag("baseline", f"是基期值{fmt_number(base, '')}的{times(value / base)}",
             str(ind.baseline.year), base)


def check_rows(registry: Registry, rows: pd.DataFrame, store: pd.DataFrame
               ) -> dict[object, list[Flag]]:
    """Flags of each new row (index -> flags), against the store's values; checked once
    per distinct (indicator, period, value)."""
    ref = Reference(store)
    out: dict[object, list[Flag]] = {}
    seen: dict[tuple, list[Flag]] = {}
    for idx, ind_id, period, value in zip(rows.index, rows["indicator_id"], rows["period"],
                                          rows["value"], strict=True):
        ind = registry.indicators.get(ind_id)
        if ind is None:
            continue
        key = (ind_id, period, value)
        if key not in seen:
            seen[key] = check_value(ind, period, float(value), ref)
        if seen[key]:
            out[idx] = seen[key]
    return out


def series_flags(registry: Registry, used: pd.DataFrame) -> list[tuple[Flag, str]]:
    """Flags of the real rows a report uses, each against the real rows before it, with the
    row's 备注 (how it was explained when stored)."""
    real = used[used["status"] != "sample"] if not used.empty else used
    ref = Reference(real)
    out = []
    for rec in real.sort_values(["indicator_id", "period"]).to_dict("records"):
        ind = registry.indicators.get(rec["indicator_id"])
        if ind is None or pd.isna(rec["value"]):
            continue
        for f in check_value(ind, str(rec["period"]), float(rec["value"]), ref,
                             same_period=False):
            out.append((f, str(rec.get("note") or "")))
    return out
