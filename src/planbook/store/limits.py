"""What a value can be at all: the range of each kind of quantity, in one table.

Checked twice: intake refuses a value outside its range (figure_rows), and the assessment
never judges one (assess.rules marks it 不作评价), so a value that slipped into the store
by another way (a hand edit, an old file) is never printed as 已达标.

A limit is not a plausibility judgement (store.plausibility flags a value that is possible
but unlikely and lets a 备注 confirm it); a value beyond these cannot be a figure of the
county at all, so no 备注 admits it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from planbook.plan.registry import Indicator
from planbook.store.units import family_size

# Smallest non-zero magnitude, in the registry's unit: no indicator is written with more
# than six decimals, so 1e-300 is a machine artefact, not a figure (it prints as 0.0).
MIN_MAGNITUDE = 1e-6
# Decimals tolerated on a whole count (float noise of 1.5 万人 → 15000 人).
_WHOLE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Limit:
    """Bounds of a quantity family, in the family's base unit (元, 个, 平方米, 克 …)."""

    low: float
    high: float
    whole: bool  # a count of things: whole numbers in its base unit
    reason: str  # why, as the refusal message says it


# Jiande: some 2,300 km² and 450,000 residents, GDP some 550 亿元 (2025). Each ceiling is far
# above anything the county can report, yet far below what a unit or scale slip produces.
_COUNT = Limit(0, 1e9, True, "计数为不小于 0 的整数，且低于 10 亿（全市常住人口约 45 万，"
                            "年游客人次约 2,000 万）")
LIMITS: dict[str, Limit] = {
    "元": Limit(-1e13, 1e13, False, "金额绝对值低于 10 万亿元（全市地区生产总值约 550 亿元）"),
    "area": Limit(0, 1e11, False, "面积不小于 0，且低于 10 万平方公里（全市约 2,300 平方公里）"),
    "length": Limit(0, 1e9, False, "长度不小于 0，且低于 100 万公里"),
    "mass": Limit(0, 1e14, False, "重量不小于 0，且低于 1 亿吨"),
    "power": Limit(0, 1e9, False, "功率不小于 0，且低于 10 亿千瓦"),
    "%": Limit(-100, 1e4, False, "百分数不低于 −100%（降幅不超过 100%），且不超过 10000%"),
    "share": Limit(0, 100, False, "比率在 0 至 100 之间（单位 %）"),
    "milestone": Limit(0, 1, False, "节点任务只能填 1、0.5 或 0"),
}
# Any other unit (倍, 微克/立方米 …): finite and below a ceiling no county figure reaches.
OTHER = Limit(-1e12, 1e12, False, "数值绝对值低于 1 万亿")


def limit_of(ind: Indicator) -> tuple[Limit, float]:
    """The limit of an indicator and the size of its unit in the limit's base unit."""
    if ind.kind == "share":
        return LIMITS["share"], 1.0
    if ind.kind == "milestone":
        return LIMITS["milestone"], 1.0
    family, size = family_size(ind.unit)
    if family is None:
        return (LIMITS["%"], 1.0) if ind.unit == "%" else (OTHER, 1.0)
    return (LIMITS[family] if family in LIMITS else _COUNT), size


def outside(ind: Indicator, values) -> np.ndarray:
    """Per value (in the registry's unit): True where it cannot be this indicator's."""
    v = np.asarray(values, dtype=float)
    limit, size = limit_of(ind)
    with np.errstate(over="ignore", invalid="ignore"):
        base = v * size
        bad = ~np.isfinite(base) | (base < limit.low) | (base > limit.high)
        bad |= (v != 0) & (np.abs(v) < MIN_MAGNITUDE)
        if limit.whole:
            bad |= np.abs(base - np.round(base)) > _WHOLE_TOLERANCE * np.maximum(1.0, np.abs(base))
    return bad


def out_of_range(ind: Indicator, value: float) -> str | None:
    """Why a value (in the registry's unit) cannot be this indicator's, or None if it can."""
    if not outside(ind, [value])[0]:
        return None
    if value is None or not math.isfinite(value):
        return "不是有限的数"
    if value != 0 and abs(value) < MIN_MAGNITUDE:
        return f"{value:g} 过小（非零数值的绝对值不小于 {MIN_MAGNITUDE:g}）"
    return f"{value:g}{ind.unit}超出合理范围：{limit_of(ind)[0].reason}"


def range_text(ind: Indicator) -> str:
    """What the indicator's values may be, for a refusal's `expected`."""
    return f"{limit_of(ind)[0].reason}；非零数值的绝对值不小于 {MIN_MAGNITUDE:g}"
