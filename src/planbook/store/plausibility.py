"""Plausibility: values that pass validation but look like a slip of unit, scale or sign.

Checked against the last *real* value (non-sample, latest revision) of the same indicator:
the same period's stored value when one exists (a correction), else the latest earlier one.
Sample figures are illustrative, so a real value is never judged against them.

- jump: the value is ×10 or more, or ÷10 or less, of the last value (both of the same sign);
  annual amounts are compared year with year only (a month's year-to-date is a fraction);
- fraction: a value below 1 on a % indicator whose last value is above 1 (0.471 for 47.1 %);
- falling total: a cumulative total lower than an earlier period's;
- range: a value outside what the quantity can physically be (a % change below −100, a
  rate bounded by 100 — every target and the baseline ≤ 100 — above 100).

Intake stores a flagged row only when confirmed (`--confirm`, or a 备注 explaining it); the
report's 数据质量 appendix lists the flags of the rows it used, with their 备注.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import pandas as pd

from planbook.plan.periods import parse_period
from planbook.plan.registry import Indicator, Registry
from planbook.store.observations import format_value

JUMP = 10.0
_RANK = {"month": 0, "quarter": 1, "year": 2}


@dataclass(frozen=True)
class Flag:
    indicator_id: str
    period: str
    value: float
    code: str  # jump | fraction | falling | range
    message: str  # Chinese, with the reference value
    reference: float | None = None
    reference_period: str | None = None


def fmt_number(value: float, unit: str) -> str:
    return f"{format_value(round(float(value), 6))}{unit}"


def bounded_by_100(ind: Indicator) -> bool:
    """A % indicator whose every stated number is ≤ 100 measures a rate that cannot pass 100."""
    if ind.unit != "%":
        return False
    numbers = [t.value for t in ind.targets if t.value is not None]
    if ind.baseline is not None:
        numbers.append(ind.baseline.value)
    return bool(numbers) and all(0 <= n <= 100 for n in numbers)


def _range_flag(ind: Indicator, value: float) -> str | None:
    if ind.unit == "%" and value < -100:
        return f"数值 {fmt_number(value, '%')} 低于 −100%，百分比降幅不可能超过 100%"
    if bounded_by_100(ind) and value > 100:
        return f"数值 {fmt_number(value, '%')} 超过 100%，该比率不会超过 100%"
    return None


class Reference:
    """The real values of the store, per indicator in period-end order."""

    def __init__(self, rows: pd.DataFrame):
        self.series: dict[str, list[tuple[tuple, str, float]]] = {}
        self.same: dict[tuple[str, str], float] = {}
        if rows is None or rows.empty:
            return
        real = rows[rows["status"] != "sample"]
        if real.empty:
            return
        real = real.sort_values(["indicator_id", "period", "revision"], kind="stable")
        real = real.drop_duplicates(["indicator_id", "period"], keep="last")
        for ind_id, period, value in zip(real["indicator_id"], real["period"], real["value"],
                                         strict=True):
            if pd.isna(value):
                continue
            try:
                p = parse_period(str(period))
            except Exception:  # noqa: BLE001 - check_store names malformed periods
                continue
            key = (p.end, _RANK[p.kind])
            self.series.setdefault(str(ind_id), []).append((key, p.code, float(value)))
            self.same[(str(ind_id), p.code)] = float(value)
        for s in self.series.values():
            s.sort()

    def before(self, ind: Indicator, period: str) -> tuple[str, float] | None:
        """The latest real value of a period ending before `period` ends (annual amounts:
        the previous year only)."""
        p = parse_period(period)
        s = self.series.get(ind.id, [])
        i = bisect.bisect_left(s, ((p.end, -1),))
        for _key, code, value in reversed(s[:i]):
            if ind.kind == "annual" and (p.kind != "year" or len(code) != 4):
                continue
            return code, value
        return None


def check_value(ind: Indicator, period: str, value: float, ref: Reference, *,
                same_period: bool = True) -> list[Flag]:
    """The flags of one value against the store's real values."""
    if ind.kind == "milestone" or pd.isna(value):
        return []
    flags: list[Flag] = []

    def flag(code: str, message: str, rp: str | None = None, rv: float | None = None) -> None:
        flags.append(Flag(ind.id, period, float(value), code, message, rv, rp))

    text = _range_flag(ind, value)
    if text:
        flag("range", text)
    before = ref.before(ind, period)
    same = ref.same.get((ind.id, parse_period(period).code)) if same_period else None
    last = (period, same) if same is not None else before
    if last is not None:
        lp, lv = last
        shown = f"{fmt_number(lv, ind.unit)}（{lp}）"
        if ind.unit == "%" and 0 < abs(value) < 1 and abs(lv) > 1:
            flag("fraction", f"% 指标填了小数 {fmt_number(value, '')}，上期值为 {shown}"
                 "：是否应为百分数（如 0.471 应填 47.1）", lp, lv)
        elif lv != 0 and value != 0 and (lv > 0) == (value > 0):
            ratio = value / lv
            if ratio >= JUMP or ratio <= 1 / JUMP:
                times = f"{ratio:.3g} 倍" if ratio >= 1 else f"1/{1 / ratio:.3g}"
                flag("jump", f"数值为上期值 {shown} 的 {times}：请核对单位和数量级", lp, lv)
    if ind.kind == "cumulative" and before is not None and value < before[1]:
        flag("falling", f"累计值由 {fmt_number(before[1], ind.unit)}（{before[0]}）"
             f"降至 {fmt_number(value, ind.unit)}：累计数不应减少", before[0], before[1])
    return flags


def check_rows(registry: Registry, rows: pd.DataFrame, store: pd.DataFrame
               ) -> dict[object, list[Flag]]:
    """Flags of each new row (index -> flags), against the store's real values; checked once
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
