"""Reporting periods (2025, 2025-Q3, 2025-09), parsed in one place, and the plan horizon."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from planbook.errors import PeriodError

PLAN_START = date(2023, 1, 1)
PLAN_END = date(2027, 12, 31)
BASELINE_YEAR = 2022
FIRST_YEAR, LAST_YEAR = 2023, 2027

_PATTERN = re.compile(r"^(?P<year>\d{4})(?:-(?:Q(?P<q>[1-4])|(?P<m>0[1-9]|1[0-2])))?$")


@dataclass(frozen=True, order=True)
class Period:
    """A year, a quarter or a month. Ordered by end date, then by length (a month before its year)."""

    end: date
    year: int
    kind: str  # "year" | "quarter" | "month"
    number: int = 0  # quarter 1-4 or month 1-12; 0 for a year

    @property
    def code(self) -> str:
        if self.kind == "year":
            return str(self.year)
        if self.kind == "quarter":
            return f"{self.year}-Q{self.number}"
        return f"{self.year}-{self.number:02d}"

    def __str__(self) -> str:
        return self.code

    @property
    def start(self) -> date:
        if self.kind == "year":
            return date(self.year, 1, 1)
        if self.kind == "quarter":
            return date(self.year, 3 * self.number - 2, 1)
        return date(self.year, self.number, 1)

    @property
    def label_zh(self) -> str:
        if self.kind == "year":
            return f"{self.year}年"
        if self.kind == "quarter":
            return f"{self.year}年第{'一二三四'[self.number - 1]}季度"
        return f"{self.year}年{self.number}月"

    @property
    def end_label_zh(self) -> str:
        """截至……: 2025年底, 2025年9月底."""
        if self.kind == "year":
            return f"{self.year}年底"
        return f"{self.year}年{self.end.month}月底"

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        if self.kind == "year":
            return year(self.year - 1)
        if self.kind == "quarter":
            return parse_period(f"{self.year - 1}-Q4" if self.number == 1 else
                                f"{self.year}-Q{self.number - 1}")
        if self.number == 1:
            return parse_period(f"{self.year - 1}-12")
        return parse_period(f"{self.year}-{self.number - 1:02d}")

    def contains(self, other: Period) -> bool:
        return self.start <= other.start and other.end <= self.end

    def months_elapsed_in_year(self) -> int:
        return self.end.month


def _month_end(y: int, m: int) -> date:
    return date(y, m, calendar.monthrange(y, m)[1])


def year(y: int) -> Period:
    return Period(end=date(y, 12, 31), year=y, kind="year")


def parse_period(text: object, *, where: str = "") -> Period:
    """Parse '2025', '2025-Q3' or '2025-09'. Anything else raises PeriodError saying what is accepted."""
    raw = str(text).strip()
    if isinstance(text, float) and text.is_integer():
        raw = str(int(text))
    match = _PATTERN.match(raw)
    if not match:
        raise PeriodError(
            f"{where + '：' if where else ''}期间 {raw!r} 不是年份、季度或月份",
            hint="写年份（2025）、季度（2025-Q3）或月份（2025-09）",
        )
    y = int(match["year"])
    if match["q"]:
        q = int(match["q"])
        return Period(end=_month_end(y, 3 * q), year=y, kind="quarter", number=q)
    if match["m"]:
        m = int(match["m"])
        return Period(end=_month_end(y, m), year=y, kind="month", number=m)
    return year(y)


def elapsed_share(period: Period) -> float:
    """Share of the plan horizon 2023-01-01..2027-12-31 elapsed at the end of the period (0..1)."""
    total = (PLAN_END - PLAN_START).days + 1
    done = (period.end - PLAN_START).days + 1
    return max(0.0, min(1.0, done / total))


def months_between(first: Period, last: Period) -> list[Period]:
    """Every month from first to last inclusive (both months), for `build --period A..B`."""
    if first.kind != "month" or last.kind != "month":
        raise PeriodError(f"范围须是两个月份，收到 {first}..{last}",
                          hint="写 2026-01..2026-10")
    if last < first:
        raise PeriodError(f"范围 {first}..{last} 的终点早于起点",
                          hint="先写较早的月份")
    out, p = [], first
    while p <= last:
        out.append(p)
        p = parse_period(f"{p.year + 1}-01" if p.number == 12 else f"{p.year}-{p.number + 1:02d}")
    return out
