"""The one place numbers are formatted for Chinese sentences and tables.

Notebooks quote numbers through planbook.chapters.provenance.num(), which formats them here
and records their id and input rows for the audit register.
"""

from __future__ import annotations

import math

from planbook.plan.registry import COUNT_UNITS

INTEGER_UNITS = COUNT_UNITS | {"万头"}


def fmt_number(value: float | None, unit: str = "", *, digits: int | None = None) -> str:
    """1376 亿元 -> '1,376亿元'; 55 % -> '55.0%'; None -> '—'. Thousands separators always."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if digits is None:
        if unit in INTEGER_UNITS and float(value).is_integer():
            digits = 0
        elif unit == "%":
            digits = 1
        else:
            mag = abs(value)
            digits = 0 if mag >= 1000 else 1 if mag >= 10 else 2 if mag >= 0.1 else 3
            if float(value).is_integer():
                digits = 0
    text = f"{value:,.{digits}f}"
    if text.startswith("-0") and float(text.replace(",", "")) == 0:
        text = text[1:]
    return f"{text}{unit}"


def fmt_percent(share: float | None, digits: int = 1) -> str:
    """A 0..1 share as a percent: 0.523 -> '52.3%'."""
    return "—" if share is None else f"{share * 100:.{digits}f}%"


def fmt_target(op: str, value: float | None, unit: str, year: int, *, every_year: bool = False
               ) -> str:
    sign = {">=": "≥", "<=": "≤", "=": "="}[op]
    when = "每年" if every_year else f"{year}年"
    if value is None:
        return f"{when}完成"
    return f"{when}{sign}{fmt_number(value, unit)}"
