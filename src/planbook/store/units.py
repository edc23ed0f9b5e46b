"""Units a department may state: exact conversions within a quantity family."""

from __future__ import annotations

from fractions import Fraction

from planbook.plan.registry import Indicator

# ---------------------------------------------------------------- units

# unit -> (quantity family, size in the family's base unit); exact fractions so that
# 1.5 万亩 becomes exactly 15000 亩.
_COUNT_BASES = ("个", "家", "人", "名", "条", "座", "幢", "户", "人次", "所", "处", "辆", "套",
                "张", "台", "项", "次", "头", "只", "株", "棵", "间", "批", "支", "场", "艘",
                "栋", "片", "村", "种", "件", "床", "位")
_UNITS: dict[str, tuple[str, Fraction]] = {}
for _base in (*_COUNT_BASES, "元"):
    for _prefix, _size in (("", 1), ("万", 10**4), ("亿", 10**8)):
        _UNITS[_prefix + _base] = (_base, Fraction(_size))
_UNITS.update({"千元": ("元", Fraction(1000)), "百万元": ("元", Fraction(10**6))})
_UNITS.update({
    "平方米": ("area", Fraction(1)), "万平方米": ("area", Fraction(10**4)),
    "平方公里": ("area", Fraction(10**6)), "公顷": ("area", Fraction(10**4)),
    "亩": ("area", Fraction(10**4, 15)), "万亩": ("area", Fraction(10**8, 15)),
    "米": ("length", Fraction(1)), "公里": ("length", Fraction(1000)),
    "千米": ("length", Fraction(1000)), "km": ("length", Fraction(1000)),
    "克": ("mass", Fraction(1)), "公斤": ("mass", Fraction(1000)),
    "千克": ("mass", Fraction(1000)), "斤": ("mass", Fraction(500)),
    "万斤": ("mass", Fraction(5 * 10**6)), "亿斤": ("mass", Fraction(5 * 10**10)),
    "吨": ("mass", Fraction(10**6)), "万吨": ("mass", Fraction(10**10)),
    "千瓦": ("power", Fraction(1)), "万千瓦": ("power", Fraction(10**4)),
    "兆瓦": ("power", Fraction(1000)),
})
# Families whose amounts cannot be below zero (money and percentages can: losses, declines).
_NON_NEGATIVE_FAMILIES = frozenset((*_COUNT_BASES, "area", "length", "mass", "power"))


def unit_factor(stated: str, registry_unit: str) -> float | None:
    """Multiplier taking a value in `stated` to `registry_unit`; None if not convertible."""
    if stated == registry_unit:
        return 1.0
    a, b = _UNITS.get(stated), _UNITS.get(registry_unit)
    if a is None or b is None or a[0] != b[0]:
        return None
    return float(a[1] / b[1])


def convertible_units(registry_unit: str) -> list[str]:
    """Units a department may state instead of the registry's (the registry's first)."""
    family = _UNITS.get(registry_unit, (None,))[0]
    others = [u for u, (f, _) in _UNITS.items() if f == family and u != registry_unit]
    return [registry_unit, *others] if family else [registry_unit]


def family_size(unit: str) -> tuple[str | None, float]:
    """A unit's quantity family and its size in the family's base unit ((None, 1) if unknown)."""
    family, size = _UNITS.get(unit, (None, Fraction(1)))
    return family, float(size)


def is_non_negative(ind: Indicator) -> bool:
    """Counts and physical quantities (个, 家, 人, 亩, 公里 …) cannot be negative."""
    return _UNITS.get(ind.unit, ("",))[0] in _NON_NEGATIVE_FAMILIES


def is_share(ind: Indicator) -> bool:
    return ind.kind == "share"


