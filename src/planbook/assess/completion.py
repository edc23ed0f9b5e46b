"""The 主要指标完成情况表: every indicator of the book in one table, with its base, each
year's value, the final target, the 完成率 its kind allows and the status, and a 合计 row per
chapter and for the plan. Pure functions over `rules.Assessment`s: the statuses are the
assessments' own (the counts are those of the report's Table 1, `tables.aggregate`), the
完成率 is read from the same numbers the rules judged.

完成率 by rule (rules.py):
- schedule (cumulative): (最新累计 − 基数) ÷ (目标 − 基数), the share of the target done;
- growth (level, share, ceiling): the share of the gap from the base to the target closed,
  (最新 − 基期) ÷ (目标 − 基期); a ceiling already under its line reads 控制在上限内 / 超出上限;
- annual: the year's value as a share of the year's target (the rule's own ratio);
- bottom_line: 守住底线 / 未守住底线; milestone: the reported stage in words; info: —.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from planbook.assess import narrative
from planbook.assess.rules import STATUS, Assessment
from planbook.assess.tables import milestone_word
from planbook.plan.periods import LAST_YEAR
from planbook.plan.registry import CHAPTER_TITLES, CHAPTERS, Indicator, Registry

# the order statuses are counted in a 合计 row (as the report's status sentences)
_FIRST = ("achieved", "on_track", "needs_acceleration", "limited", "deterioration",
          "done", "reached", "in_progress", "not_started", "overdue", "no_data")
COUNT_ORDER = _FIRST + tuple(s for s in STATUS if s not in _FIRST)
_EPS = 1e-12


@dataclass(frozen=True)
class Completion:
    """An indicator's 完成率: the share (None where the kind has none) and the cell text."""

    share: float | None
    text: str


def completion(ind: Indicator, a: Assessment) -> Completion:
    """The 完成率 of an indicator's kind (see the module docstring)."""
    rule = a.rule or ind.judged_by
    if a.latest_value is None:
        return Completion(None, "—")
    if rule == "info":
        return Completion(None, "—")
    if rule == "milestone":
        return Completion(None, milestone_word(a))
    if rule == "bottom_line":
        return Completion(None, "守住底线" if a.status == "achieved" else "未守住底线")
    if rule == "annual":
        return Completion(a.ratio, narrative.fmt_percent(a.ratio))
    t = ind.final_target
    if t.value is None:
        return Completion(None, "—")
    base = a.baseline_value
    if rule == "growth" and t.upper and (base is None or base <= t.value + _EPS):
        return Completion(None, "控制在上限内" if t.met_by(a.latest_value) else "超出上限")
    if base is None or abs(t.value - base) < _EPS:
        return Completion(None, "已达到" if t.met_by(a.latest_value) else "—")
    share = (a.latest_value - base) / (t.value - base)
    return Completion(share, narrative.fmt_percent(share))


def _value_text(a: Assessment | None, year: int) -> str:
    """The value the assessment for `year` used when it is of that year (else —): a sub-year
    period says so, 140.8（9月）."""
    if a is None or a.latest_value is None or not a.latest_period \
            or not a.latest_period.startswith(str(year)):
        return "—"
    text = milestone_word(a) if a.kind == "milestone" else _bare(narrative.fmt_number(
        a.latest_value, a.unit), a.unit)
    if a.latest_period != str(year):
        text += f"（{a.latest_period[5:].lstrip('0') or a.latest_period}）"
        if "Q" not in a.latest_period:
            text = text.replace("）", "月）")
    return text


def _bare(text: str, unit: str) -> str:
    """A formatted number without its unit (the 指标 column names the unit once)."""
    return text.removesuffix(unit) if unit and text != "—" else text


def _base_text(a: Assessment) -> str:
    if a.baseline_value is None:
        return "—"
    value = (narrative.fmt_plan_value(a.baseline_value, a.unit) if a.baseline_source == "plan"
             else narrative.fmt_number(a.baseline_value, a.unit))
    return f"{_bare(value, a.unit)}（{a.baseline_year}）"


def _target_text(ind: Indicator, final_year: int) -> str:
    """The final target without its unit; its year only when not the column's."""
    if ind.judged_by == "info":
        return "—"
    t = ind.final_target
    if ind.kind == "milestone":
        return "完成" if t.year == final_year else f"{t.year}年完成"
    text = _bare(narrative.fmt_target(t.op, t.value, ind.unit, t.year,
                                      every_year=t.every_year), ind.unit)
    return text.removeprefix(f"{final_year}年")


def count_text(items: Sequence[Assessment]) -> str:
    """已达标5项、符合进度9项……: the statuses counted, in the report's order."""
    parts = [f"{STATUS[s][0]}{n}项" for s in COUNT_ORDER
             if (n := sum(1 for a in items if a.status == s))]
    return "、".join(parts) or "—"


def counts(items: Sequence[Assessment]) -> dict[str, int]:
    """Per status code, how many of `items` (every code of STATUS, zeros included)."""
    return {s: sum(1 for a in items if a.status == s) for s in STATUS}


@dataclass(frozen=True)
class CompletionTable:
    """The table's rows (one dict per indicator or 合计 row, `kind` indicator / chapter /
    plan) and the years shown."""

    rows: list[dict]
    years: tuple[int, ...]

    def totals(self) -> dict[str, dict[str, int]]:
        """The 合计 rows' counts, per chapter (二 … 六) and "plan"."""
        return {r["chapter"] if r["kind"] == "chapter" else "plan": r["counts"]
                for r in self.rows if r["kind"] != "indicator"}

    def indicators(self) -> list[dict]:
        return [r for r in self.rows if r["kind"] == "indicator"]


def completion_table(registry: Registry, assessments: Sequence[Assessment],
                     by_year: Mapping[int, Mapping[str, Assessment]]) -> CompletionTable:
    """Every assessed indicator of the registry under its own chapter (`Indicator.chapter`,
    each counted once, as Table 1), in registry order, with a 合计 row after each chapter
    and one for the plan. `by_year`: per year shown, every indicator assessed for that year
    (the year's value is the one that year's assessment used)."""
    years = tuple(sorted(by_year))
    by_id = {a.indicator_id: a for a in assessments}
    rows: list[dict] = []
    every: list[Assessment] = []
    present = [c for c in CHAPTERS if any(i.chapter == c for i in registry.indicators.values())]
    for chapter in present:
        mine = [(i, by_id[i.id]) for i in registry.indicators.values()
                if i.chapter == chapter and i.id in by_id]
        for ind, a in mine:
            done = completion(ind, a)
            rows.append({
                "kind": "indicator", "chapter": chapter, "indicator_id": ind.id,
                "name": ind.name_zh, "unit": ind.unit, "base": _base_text(a),
                "values": {y: _value_text(by_year[y].get(ind.id), y) for y in years},
                "target": _target_text(ind, LAST_YEAR), "completion": done.text, "share": done.share,
                "status": a.status_zh, "light": a.light, "sample": a.sample})
        items = [a for _, a in mine]
        every += items
        rows.append({"kind": "chapter", "chapter": chapter,
                     "name": f"{chapter}、{CHAPTER_TITLES.get(chapter, '')} 合计",
                     "n": len(items), "counts": counts(items), "status": count_text(items)})
    rows.append({"kind": "plan", "chapter": "", "name": "全方案合计", "n": len(every),
                 "counts": counts(every), "status": count_text(every)})
    return CompletionTable(rows=rows, years=years)


def completion_frame(table: CompletionTable, final_year: int) -> pd.DataFrame:
    """The table as the page shows it: 指标（单位）, 基期, one column per year, the final
    target, 完成率, 评价; a 合计 row names the count of indicators and the statuses."""
    records = []
    for r in table.rows:
        if r["kind"] == "indicator":
            unit = f"（{r['unit']}）" if r["unit"] else ""
            rec = {"指标": r["name"] + unit, "基期": r["base"],
                   **{f"{y}年": r["values"][y] for y in table.years},
                   f"{final_year}目标": r["target"], "完成率": r["completion"],
                   "评价": r["status"]}
        else:
            rec = {"指标": f"{r['name']}（{r['n']}项）", "基期": "",
                   **{f"{y}年": "" for y in table.years}, f"{final_year}目标": "",
                   "完成率": "", "评价": r["status"]}
        records.append(rec)
    return pd.DataFrame.from_records(records)
