"""The worked examples of the methodology appendix, computed from the registry and the data.

book/methodology.qmd is hand-written prose; its numbers come from here, through
`{{< include _example-NAME.md >}}` (Quarto's include; the built-in engine expands it too).
`scripts/make_examples.py` writes book/_example-*.md (flat: the render key hashes book/*) and a test checks the files match, so the
examples cannot drift from the registry (the 2027 target of 规上工业总产值 is 1376, 五年翻一番).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from planbook.assess import narrative
from planbook.assess import rules as assess
from planbook.assess.narrative import fmt_number
from planbook.plan.periods import PLAN_END, PLAN_START, parse_period
from planbook.plan.registry import RULE_ZH, RULES, Indicator, Registry
from planbook.store import observations as store

EXAMPLE_INDICATOR = "ind_output_industrial"  # 规上工业总产值: a 2025 and a 2027 target
EXAMPLE_YEAR = "2023"  # the first year after the 2022 baseline
SCHEDULE_YEAR = "2025"


def _num(value: float) -> str:
    return fmt_number(value, "").replace(",", "")


def worked_examples(registry: Registry, frame: pd.DataFrame) -> dict[str, str]:
    """{name: markdown} for book/_example-<name>.md."""
    ind = registry.indicators[EXAMPLE_INDICATOR]
    base = ind.baseline
    mid, final = sorted(ind.targets, key=lambda t: t.year)[:2]
    unit = ind.unit
    target = (f"- **目标。** 中期目标按其自身年份评估：如{ind.name_zh}“{mid.year}年达到"
              f"{_num(mid.value)}{unit}、{final.year}年达到{_num(final.value)}{unit}”"
              f"（指标登记表 `{ind.id}`），{mid.year}年及以前的报告期以{mid.year}年目标为准，"
              f"{mid.year + 1}年起以{final.year}年目标为准。")

    period = parse_period(EXAMPLE_YEAR)
    a = assess.assess_indicator(ind, store.rows_for(frame, [ind.id]), period)
    x, n = a.latest_value, int(EXAMPLE_YEAR) - base.year
    t = ind.target_for(period.year)
    big_n = t.year - base.year
    g_obs = (x / base.value) ** (1 / n) - 1
    g_req = (t.value / base.value) ** (1 / big_n) - 1
    g_fin = (final.value / base.value) ** (1 / (final.year - base.year)) - 1
    sample = any(s == "sample" for s in store.rows_for(frame, [ind.id]).query(
        "period == @EXAMPLE_YEAR")["status"])
    source = "（示例数据）" if sample else ""
    growth = (
        f"**示例。** {ind.name_zh}{base.year}年基期{_num(base.value)}{unit}，"
        f"{mid.year}年目标{_num(mid.value)}{unit}、{final.year}年目标{_num(final.value)}{unit}"
        f"（指标登记表 `{ind.id}`）；{EXAMPLE_YEAR}年值{_num(x)}{unit}{source}。"
        f"{EXAMPLE_YEAR}年的报告以{t.year}年目标为准：\n"
        f"`g实 = ({_num(x)} ÷ {_num(base.value)})^(1/{n}) − 1 = {g_obs * 100:.1f}%`，"
        f"`g需 = ({_num(t.value)} ÷ {_num(base.value)})^(1/{big_n}) − 1 = {g_req * 100:.1f}%`，"
        f"`R = {g_obs * 100:.1f}% ÷ {g_req * 100:.1f}% = {a.ratio:.2f}`，判为“{a.status_zh}”。"
        f"{final.year}年目标（五年翻一番）所需年均增速为 "
        f"`({_num(final.value)} ÷ {_num(base.value)})^(1/{final.year - base.year}) − 1 = "
        f"{g_fin * 100:.1f}%`。\n\n报告中的理由还写出按最新值计的所需增速：{a.reason}。")

    end = parse_period(SCHEDULE_YEAR).end
    done = (end - PLAN_START).days + 1
    total = (PLAN_END - PLAN_START).days + 1
    share = assess.schedule_share(end, PLAN_END.year)
    schedule = (f"{PLAN_END.year}年目标的时序进度即整个规划期（{PLAN_START.year}年1月1日至"
                f"{PLAN_END.year}年12月31日，共{total}天）的已过比例，{SCHEDULE_YEAR}年底为 "
                f"{done} ÷ {total} = {share * 100:.1f}%。报告印出的时序进度保留一位小数，"
                f"“应达”数按印出的时序进度计算（目标 × {share * 100:.1f}%），个数类取整；"
                "灯号按“累计值 ÷ 应达”判定，与页面印出的应达、差额一致，读者可用印出的数字复核。"
                "例如目标2个、时序进度60.0%，应达 2 × 60.0% = 1.2，取整为1个；已完成1个即"
                "“已达时序进度”，判为符合进度（绿灯）。")
    return {"target": target, "growth": growth, "schedule": schedule,
            "rules": rules_text(registry)}


def _line_example(ind: Indicator, values: list[tuple[str, float]], period: str) -> str:
    """One bottom-line case judged by the real rule on the stated values (not the data)."""
    frame = pd.DataFrame([{"indicator_id": ind.id, "period": p, "value": v, "revision": 1,
                           "status": "provisional"} for p, v in values])
    a = assess.assess_indicator(ind, frame, parse_period(period))
    shown = "、".join(f"{p}年{fmt_number(v, ind.unit)}" for p, v in values)
    return f"若{shown}，{period}年判为“{a.status_zh}”（{assess.LIGHT_ZH[a.light]}）：{a.reason}。"


def rules_text(registry: Registry) -> str:
    """The methodology's list of indicators per rule, with a worked bottom-line example: from
    the registry, so a reclassified indicator shows here the day it is reclassified."""
    inds = list(registry.indicators.values())
    lines = []
    for rule in ("bottom_line", "info"):
        members = [i for i in inds if i.judged_by == rule]
        names = "；".join(f"{i.name_zh}（“{i.quotes[0]}”，`{i.id}`）" for i in members)
        lines.append(f"- **{RULE_ZH[rule]}（{len(members)}项）：** {names or '无'}。")
    strict = [i for i in inds for t in i.targets if t.op in (">", "<")]
    lines.append("- **严格比较（" + str(len(strict)) + "项）：** " + "；".join(
        f"{i.name_zh}（“{i.quotes[0]}”，目标{narrative.targets_text(i)}）" for i in strict)
        + "。")
    counts = {r: sum(1 for i in inds if i.judged_by == r) for r in RULES}
    lines.append("- **各规则指标数：** " + "，".join(
        f"{RULE_ZH[r]}{n}项" for r, n in counts.items() if n) + f"，合计{len(inds)}项。")
    line = next((i for i in inds if i.judged_by == "bottom_line" and i.unit == "%"), None)
    if line is not None:
        t = line.final_target
        lines.append("")
        v = float(t.value or 0)
        low = round(v - 0.5, 1)
        lines.append(f"**示例（{line.name_zh}，底线{narrative.targets_text(line)}）。**")
        lines.append("")
        for values, why in (([("2024", v), ("2025", low)], "曾守住后跌破"),
                            ([("2024", round(low - 1, 1)), ("2025", low)], "逐年上升但仍低于底线"),
                            ([("2024", low), ("2025", v)], "重新守住")):
            lines.append(f"- {why}：" + _line_example(line, values, "2025"))
    return "\n".join(lines)


def write_examples(registry: Registry, frame: pd.DataFrame, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for stem, text in worked_examples(registry, frame).items():
        path = folder / f"_example-{stem}.md"
        path.write_text(text + "\n", encoding="utf-8")
        out.append(path)
    return out
