"""A named project's investment as a department reports it on the 项目进展 sheet.

Four optional columns beside the stage: 总投资, 年度计划投资 (this period's plan), 累计完成投资
(completed since the plan began, 1 January 2023, so that the sum over the named projects
can be set beside the indicator 重点项目累计完成投资), and 投资单位 (万元 or 亿元, the unit
of the three numbers; the template writes 万元). Numbers are checked as figures are
(store.figure_rows): a plain number, thousands commas and full-width digits read, never
negative; 累计完成投资 and 年度计划投资 not above 总投资. Stored in 万元 whatever the unit
stated (exact: 1 亿元 = 10000 万元), with the unit stated kept beside them.
"""

from __future__ import annotations

import math
import re
import unicodedata

from planbook.store.units import unit_factor

STORED_UNIT = "万元"
UNITS = ("万元", "亿元")
NUMBER_FIELDS = ("total_investment", "annual_plan_investment", "completed_investment")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")


def parse_amount(text: str) -> float | None:
    """A number as a department types it (1,376 / １３７６ / 1376.5); None if not one."""
    s = unicodedata.normalize("NFKC", text).strip()
    if _GROUPED.fullmatch(s):
        s = s.replace(",", "")
    try:
        value = float(s)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def stored_text(value: float | None) -> str:
    """A stored amount: shortest exact text ("" for none); 12000.0 → 12000."""
    if value is None:
        return ""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def check_investment(raw: dict, check) -> dict:
    """The row's investment columns validated, in 万元 (text, "" when blank), with the unit
    stated; every problem added to `check` (a statements._RowCheck) with its column."""
    out = {f: "" for f in NUMBER_FIELDS} | {"investment_unit": ""}
    given = {f: raw.get(f, "").strip() for f in NUMBER_FIELDS}
    unit_text = unicodedata.normalize("NFKC", raw.get("investment_unit", "")).strip()
    if not any(given.values()):
        return out  # no investment reported: the unit column (prefilled) is ignored
    factor = None
    if not unit_text:
        check.add("investment_unit", "投资单位为空", unit_text,
                  "万元 或 亿元")
    elif unit_text not in UNITS:
        check.add("investment_unit", "投资单位无效", unit_text,
                  "万元 或 亿元")
    else:
        factor = unit_factor(unit_text, STORED_UNIT)
        out["investment_unit"] = unit_text
    values: dict[str, float | None] = {}
    for f in NUMBER_FIELDS:
        if not given[f]:
            values[f] = None
            continue
        v = parse_amount(given[f])
        if v is None:
            check.add(f, "投资额不是数字", raw[f],
                      "一个数字（不带单位），如 12000 或 1,200.5")
        elif v < 0:
            check.add(f, "投资额不能为负", raw[f], "≥ 0")
            v = None
        values[f] = v
    total = values["total_investment"]
    for f, what in (("completed_investment", "累计完成投资"),
                    ("annual_plan_investment", "年度计划投资")):
        v = values[f]
        if total is not None and v is not None and v > total * (1 + 1e-9):
            check.add(f, f"{what}大于总投资", raw[f],
                      f"不超过总投资 {raw['total_investment'].strip()}")
    if factor is not None:
        for f in NUMBER_FIELDS:
            out[f] = stored_text(None if values[f] is None else values[f] * factor)
    return out


def amount(text) -> float | None:
    """A stored amount (万元) back as a number; None for "" or a missing cell."""
    if text is None or (isinstance(text, float) and math.isnan(text)) or str(text) == "":
        return None
    return float(text)
