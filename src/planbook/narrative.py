"""Chinese sentences that quote computed numbers, and the one place numbers are formatted.

Every number a sentence quotes goes through `num()`, which gives it a stable id
(e.g. num-ind-gdp-2025) and records the data rows it came from for the audit register.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from planbook import provenance

# Units where the plan writes whole numbers; shares and money get decimals.
COUNT_UNITS = frozenset({"个", "家", "人", "名", "条", "座", "幢", "户", "人次", "所", "项"})
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


def num(number_id: str, value: float | None, unit: str = "", *, inputs: Iterable = (),
        digits: int | None = None) -> str:
    """Format a number quoted in narrative and record it (id, text, input rows) for the audit."""
    text = fmt_number(value, unit, digits=digits)
    provenance.record("number", number_id, text=text, inputs=inputs)
    return text


_QUOTED: set[str] = set()  # ids already registered in this kernel (one notebook)


def quote(number_id: str, text: str, *, inputs: Iterable = ()) -> str:
    """A sentence computed elsewhere (an assessment's reason) quoted in narrative; its id is
    registered once per notebook however often the sentence is quoted."""
    if number_id not in _QUOTED:
        _QUOTED.add(number_id)
        provenance.record("number", number_id, text=text, inputs=inputs)
    return text
