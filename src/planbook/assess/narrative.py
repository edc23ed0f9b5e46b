"""The one place numbers are formatted for Chinese sentences and tables.

Notebooks quote numbers through planbook.chapters.provenance.num(), which formats them here
and records their id and input rows for the audit register.
"""

from __future__ import annotations

import math
import re

from planbook.plan.registry import COUNT_UNITS, OP_SIGN, Indicator

INTEGER_UNITS = COUNT_UNITS | {"万头"}


def value_digits(value: float, unit: str = "") -> int:
    """The decimals a measured value is printed with: whole counts, 0.1 for percentages (0.01
    just under 100%), otherwise by magnitude (1,376 / 546.8 / 3.66 / 0.056)."""
    if unit in INTEGER_UNITS and float(value).is_integer():
        return 0
    if unit == "%":
        # A share just under 100% keeps its second decimal: 99.97% is not 100.0%.
        return 2 if 99.95 <= abs(value) < 100 else 1
    if float(value).is_integer():
        return 0
    return _magnitude_digits(value)


def _magnitude_digits(value: float) -> int:
    """Decimals by size, for units without a fixed precision: 1,376 / 546.8 / 3.66 / 0.056."""
    mag = abs(value)
    return 0 if mag >= 1000 else 1 if mag >= 10 else 2 if mag >= 0.1 else 3


def fmt_number(value: float | None, unit: str = "", *, digits: int | None = None) -> str:
    """1376 亿元 -> '1,376亿元'; 55 % -> '55.0%'; None -> '—'. Thousands separators always."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if digits is None:
        digits = value_digits(value, unit)
    text = f"{value:,.{digits}f}"
    if text.startswith("-0") and float(text.replace(",", "")) == 0:
        text = text[1:]
    return f"{text}{unit}"


def plan_digits(value: float) -> int:
    """The decimals a registry number was written with: 99.98 -> 2, 3.8 -> 1, 1376 -> 0."""
    text = repr(float(value))
    if "e" in text or text.endswith(".0"):
        return 0
    return len(text.split(".")[1])


def fmt_plan_value(value: float | None, unit: str = "") -> str:
    """A target or baseline as the plan wrote it: 99.98%, 3.8平方米, 1,376亿元, 55%."""
    if value is None:
        return "—"
    return fmt_number(value, unit, digits=plan_digits(value))


def _change_digits(diff: float, unit: str, ref: float | None) -> int:
    """A difference takes the decimals of the values it is taken between (`ref`, the larger),
    so 188.7 − 183.9 is 4.8亿元, not 4.80; a real gap never prints as zero (99.98% against
    99.95% is 0.03个百分点, not 0.0)."""
    if unit in INTEGER_UNITS:
        digits = 0
    elif unit == "%":
        digits = 1
    else:
        digits = _magnitude_digits(ref if ref is not None else diff)
    while digits < 3 and abs(diff) > 1e-9 and round(abs(diff), digits) == 0:
        digits += 1
    return digits


def fmt_difference(diff: float, unit: str, ref: float | None = None) -> str:
    """The size of a gap between two values, unsigned: '0.6个百分点' for percentages."""
    digits = _change_digits(diff, unit, ref)
    return f"{abs(diff):,.{digits}f}{'个百分点' if unit == '%' else unit}"


def fmt_change(diff: float, unit: str, ref: float | None = None) -> str:
    """A change between two values: '+0.6个百分点' for percentages, '+12亿元', '持平' for none
    (below a thousandth). `ref`: the larger of the two values, for the decimals."""
    if round(abs(diff), _change_digits(diff, unit, ref)) == 0:
        return "持平"
    return f"{'+' if diff > 0 else '−'}{fmt_difference(diff, unit, ref)}"


def fmt_percent(share: float | None, digits: int = 1) -> str:
    """A 0..1 share as a percent: 0.523 -> '52.3%'."""
    return "—" if share is None else f"{share * 100:.{digits}f}%"


def fmt_target(op: str, value: float | None, unit: str, year: int, *, every_year: bool = False
               ) -> str:
    """'2027年≥99.98%': the comparison and the target value at the plan's own precision."""
    when = "每年" if every_year else f"{year}年"
    if value is None:
        return f"{when}完成"
    return f"{when}{OP_SIGN[op]}{fmt_plan_value(value, unit)}"


def targets_text(ind: Indicator) -> str:
    """Every target of an indicator as tables print it: '2025年≥1,000亿元；2027年≥1,376亿元',
    '每年≥99%' for a bottom line, '2027年底前完成' for a milestone; a statement that sets no
    target says so."""
    if ind.judged_by == "info":
        return "不设进度目标（说明性表述）"
    if ind.kind == "milestone":
        return f"{ind.final_target.year}年底前完成"
    return "；".join(fmt_target(t.op, t.value, ind.unit, t.year, every_year=t.every_year)
                    for t in ind.targets)


_CJK = r"\u3400-\u9fff\uf900-\ufaff“”‘’、。"
_PAIR = re.compile(r"\(([^()]*)\)")
_MARKS = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！"}
_MARK = re.compile(rf"(?<=[{_CJK}）])([,;:?!])|([,;:?!])(?=[{_CJK}（])")


def zh_punct(text: str) -> str:
    """Headings and prose in full-width Chinese punctuation: the plan's ASCII marks next to
    Chinese text become Chinese ones ("发展优势产业,实施…" → "发展优势产业，实施…",
    "(未来乡村)" → "（未来乡村）", "第6版(IPv6)" → "第6版（IPv6）"). Marks between digits or
    Latin letters stay (2026-03-31, 09:00, 1,376, a:b). The one function for it, applied
    where names, titles and headings are made; quotations of the plan are never passed
    through it, so they stay verbatim."""
    def pair(m: re.Match) -> str:
        before = text[m.start() - 1] if m.start() else ""
        chinese = re.search(f"[{_CJK}]", m.group(1) + before)
        return f"（{m.group(1)}）" if chinese else m.group(0)

    previous = None
    while previous != text:  # nested pairs, innermost first
        previous, text = text, _PAIR.sub(pair, text)
    return _MARK.sub(lambda m: _MARKS[m.group(1) or m.group(2)], text)
