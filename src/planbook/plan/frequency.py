"""Which periods an indicator is reported for: its frequency decides.

A monthly indicator takes months, a quarterly one quarters, an annual one years; every
indicator also takes whole years (the year's final figure, which the annual report uses).
A quarterly indicator given 2026-10 is refused: a month's figure of it does not exist.

A report of a period asks each indicator for the latest period of its frequency that has
ended by then (`due_period`): the October 2026 briefing shows a quarterly indicator's
2026-Q3 and an annual one's 2025. What a sub-year figure covers follows the plan's
practice as the assessment reads it (assess.rules): a year's amount (kind annual) is the
year to date (1—3季度累计), a running total (cumulative) is the total since the plan began,
and a level, share or ceiling is its value at the period's end, on the year's scale.
"""

from __future__ import annotations

from planbook.plan.periods import Period, parse_period, year
from planbook.plan.registry import Indicator

#: frequency -> the period lengths it is reported for (a year always: the final figure)
PERIOD_KINDS = {"annual": ("year",), "quarterly": ("quarter", "year"),
                "monthly": ("month", "year")}
FREQUENCY_ZH = {"annual": "年度", "quarterly": "季度", "monthly": "月度"}
_KIND_ZH = {"year": "年度 2025", "quarter": "季度 2025-Q3", "month": "月份 2025-09"}


def accepts(ind: Indicator, period: Period) -> bool:
    return period.kind in PERIOD_KINDS.get(ind.frequency, ("year",))


def accepted_text(ind: Indicator) -> str:
    """The periods an indicator takes, as a refusal's `expected` says it."""
    kinds = PERIOD_KINDS.get(ind.frequency, ("year",))
    return f"{FREQUENCY_ZH[ind.frequency]}报送指标，期间填" + " 或 ".join(
        _KIND_ZH[k] for k in kinds)


def due_period(ind: Indicator, report: Period) -> Period:
    """The period a report of `report` asks this indicator for: the latest of its
    frequency ending by the report's end (a year asks every indicator for the year)."""
    if report.kind == "year":
        return report
    if ind.frequency == "annual":  # the last year ended by the report's end
        return year(report.year if report.end.month == 12 else report.year - 1)
    if ind.frequency == "monthly":
        return report if report.kind == "month" else parse_period(
            f"{report.year}-{report.end.month:02d}")
    quarter = report.end.month // 3  # the last quarter ended by the report's end
    if quarter == 0:
        return parse_period(f"{report.year - 1}-Q4")
    return parse_period(f"{report.year}-Q{quarter}")


def period_note(ind: Indicator, period: Period) -> str:
    """What a figure of `period` covers for this indicator, for the template's row."""
    if ind.kind == "milestone":
        return f"截至{period.end_label_zh}的进展"
    if ind.kind == "cumulative":
        return f"2023年以来累计至{period.end_label_zh}"
    if period.kind == "year":
        return f"{period.year}年全年" if ind.kind == "annual" else f"{period.end_label_zh}"
    if ind.kind == "annual":
        if period.kind == "quarter":
            span = "1季度" if period.number == 1 else f"1—{period.number}季度"
        else:
            span = "1月" if period.number == 1 else f"1—{period.number}月"
        return f"{period.year}年{span}累计"
    return f"{period.end_label_zh}（与年度值同口径）"
