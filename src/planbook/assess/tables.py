"""Assessments in groups and as text: counts per chapter, section, task or lead (the report's
count tables, heatmap and scorecard) and the per-indicator table and JSON of `planbook status`.
Pure functions over `rules.Assessment`s; the rules themselves are in rules.py."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import fields

import pandas as pd

from planbook.assess import narrative
from planbook.assess.rules import LIGHT_ZH, LIGHTS, STATUS, Assessment
from planbook.plan.registry import CHAPTER_TITLES, CHAPTERS, Registry


def milestone_word(a: Assessment) -> str:
    """A milestone's reported value in words: its status at 1 (已完成, or 已达要求阶段 for a node
    tracking a project asked to reach a stage short of 完工), else 推进中 / 未启动."""
    v = a.latest_value or 0.0
    return a.status_zh if v >= 1 else STATUS["in_progress" if v > 0 else "not_started"][0]


AGGREGATE_BY = ("chapter", "section", "task", "lead")


def aggregate(registry: Registry, assessments: Sequence[Assessment], by: str) -> pd.DataFrame:
    """Counts per status and light, and the share of greens, per chapter, section, task or lead.

    Chapter and section are those of the indicator's own plan item (`Indicator.path`), so each
    indicator counts once; an indicator claimed by several tasks counts under each. The
    share of greens is taken over all indicators of the group, those without data included.
    Columns: the group key (named `by`), title, indicators, one column per status code, one
    per light, green_share. Groups come in plan order.
    """
    if by not in AGGREGATE_BY:
        raise ValueError(f"aggregate by one of {', '.join(AGGREGATE_BY)}, not {by!r}")
    keyed: dict[str, list[Assessment]] = {}
    titles: dict[str, str] = {}
    for a in assessments:
        ind = registry.indicators.get(a.indicator_id)
        if ind is None:
            continue
        if by == "chapter":
            keys = [ind.chapter]
            titles[ind.chapter] = CHAPTER_TITLES.get(ind.chapter, "")
        elif by == "section":
            keys = [ind.section]
            for task in registry.tasks_of(ind.id):
                if task.section == ind.section and task.section_title:
                    titles.setdefault(ind.section, task.section_title)
        elif by == "task":
            keys = [task.id for task in registry.tasks_of(ind.id)]
            titles.update({task.id: task.title for task in registry.tasks_of(ind.id)})
        else:
            keys = [ind.lead]
        for k in keys:
            keyed.setdefault(k, []).append(a)
    if by == "chapter":
        order = [c for c in CHAPTERS if c in keyed] + [k for k in keyed if k not in CHAPTERS]
    elif by == "task":
        order = [t for t in registry.tasks if t in keyed] + \
            [k for k in keyed if k not in registry.tasks]
    elif by == "lead":
        order = sorted(keyed, key=lambda k: (registry.department_order(k), k))
    else:
        order = list(keyed)
    records = []
    for k in order:
        group = keyed[k]
        rec: dict = {by: k, "title": titles.get(k, ""), "indicators": len(group)}
        for code in STATUS:
            rec[code] = sum(1 for a in group if a.status == code)
        for light in LIGHTS:
            rec[light] = sum(1 for a in group if a.light == light)
        rec["green_share"] = rec["green"] / len(group)
        records.append(rec)
    columns = [by, "title", "indicators", *STATUS, *LIGHTS, "green_share"]
    return pd.DataFrame.from_records(records, columns=columns)


STATUS_TABLE_COLUMNS = ("id", "name", "latest", "period", "target", "status", "light")


def status_table(assessments: Sequence[Assessment]) -> pd.DataFrame:
    """What `planbook status` prints: id, name, latest value and its period, target, status in
    Chinese, light. Values are formatted text."""
    rows = []
    for a in assessments:
        if a.kind == "milestone" and a.latest_value is not None:
            latest_text = milestone_word(a)
        else:
            latest_text = narrative.fmt_number(a.latest_value, a.unit)
        target = "—" if a.target_year is None or a.rule == "info" else narrative.fmt_target(
            a.target_op or ">=", None if a.kind == "milestone" else a.target_value, a.unit,
            a.target_year, every_year=a.target_every_year)
        rows.append({"id": a.indicator_id, "name": a.name, "latest": latest_text,
                     "period": a.latest_period or "—", "target": target,
                     "status": a.status_zh, "light": a.light})
    return pd.DataFrame.from_records(rows, columns=list(STATUS_TABLE_COLUMNS))


STATUS_TABLE_ZH = {"id": "编号", "name": "指标", "latest": "最新值", "period": "期间",
                   "target": "目标", "status": "状态", "light": "灯"}


def status_table_zh(assessments: Sequence[Assessment]) -> pd.DataFrame:
    """The status table as the screen shows it: Chinese headers and light words (绿灯…)."""
    table = status_table(assessments)
    table["light"] = table["light"].map(lambda k: LIGHT_ZH.get(k, k))
    return table.rename(columns=STATUS_TABLE_ZH)


def _json_value(v):
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    return v


def to_records(assessments: Sequence[Assessment]) -> list[dict]:
    """One JSON-ready dict per assessment (`planbook status --json`); inputs as dicts."""
    out = []
    for a in assessments:
        rec = {}
        for f in fields(a):
            v = getattr(a, f.name)
            if f.name == "inputs":
                # `rows` only where it says something (village records), as in the register.
                v = [{k: x for k, x in r._asdict().items() if k != "rows" or x} for r in v]
            rec[f.name] = _json_value(v)
        out.append(rec)
    return out

