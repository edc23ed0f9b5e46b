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
from planbook.plan import leads
from planbook.plan.periods import PLAN_END, PLAN_START, parse_period
from planbook.plan.registry import RULE_ZH, RULES, Indicator, Registry
from planbook.store import observations as store

EXAMPLE_INDICATOR = "ind_output_industrial"  # 规上工业总产值: a 2025 and a 2027 target
EXAMPLE_YEAR = "2023"  # the first year after the 2022 baseline
SCHEDULE_YEAR = "2025"
# The lead whose item shows best why the bracket's first body is not taken as the lead.
EXAMPLE_LEAD = "ind_rural_power_reliability"


def _num(value: float) -> str:
    return fmt_number(value, "").replace(",", "")


def worked_examples(registry: Registry, frame: pd.DataFrame) -> dict[str, str]:
    """{name: markdown} for book/_example-<name>.md."""
    ind = registry.indicators[EXAMPLE_INDICATOR]
    base = ind.baseline
    mid, final = sorted(ind.targets, key=lambda t: t.year)[:2]
    unit = ind.unit
    target = (f"- **目标。** 中期目标按其自身年份评估：如{narrative.zh_punct(ind.name_zh)}“{mid.year}年达到"
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
        f"**示例。** {narrative.zh_punct(ind.name_zh)}{base.year}年基期{_num(base.value)}{unit}，"
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
            "rules": rules_text(registry), "leads": lead_passage(registry)}


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
        names = "；".join(f"{narrative.zh_punct(i.name_zh)}（“{i.quotes[0]}”，`{i.id}`）" for i in members)
        lines.append(f"- **{RULE_ZH[rule]}（{len(members)}项）：** {names or '无'}。")
    strict = [i for i in inds for t in i.targets if t.op in (">", "<")]
    lines.append("- **严格比较（" + str(len(strict)) + "项）：** " + "；".join(
        f"{narrative.zh_punct(i.name_zh)}（“{i.quotes[0]}”，目标{narrative.targets_text(i)}）" for i in strict)
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
        lines.append(f"**示例（{narrative.zh_punct(line.name_zh)}，底线{narrative.targets_text(line)}）。**")
        lines.append("")
        for values, why in (([("2024", v), ("2025", low)], "曾守住后跌破"),
                            ([("2024", round(low - 1, 1)), ("2025", low)], "逐年上升但仍低于底线"),
                            ([("2024", low), ("2025", v)], "重新守住")):
            lines.append(f"- {why}：" + _line_example(line, values, "2025"))
    return "\n".join(lines)


def lead_passage(registry: Registry) -> str:
    """How leads were assigned and how many the 工作专班 has confirmed, from the registry."""
    s = leads.lead_summary(registry)
    rows = {r["id"]: r for r in leads.lead_rows(registry)}
    ex = rows.get(EXAMPLE_LEAD)
    if ex is None or not ex["named"] or ex["lead"] == ex["first_named"]:
        ex = next((r for r in rows.values() if r["named"] and r["lead"] != r["first_named"]),
                  None)
    example = ""
    if ex is not None:
        task = registry.tasks[ex["items"][0]]
        example = (f"（如{task.id}列“{task.departments_raw or '、'.join(task.departments)}”，"
                   f"其中{ex['name_zh']}属{ex['lead']}职责，由{ex['lead']}牵头）")
    text = ("方案在每条任务末尾的括号内列出责任单位，但没有写明由谁牵头，括号中的第一个单位不一定是"
            f"该项工作的主责单位{example}。本报告逐项确定牵头单位：每项指标和点名项目的牵头单位，"
            "从方案为其所在条目列明的责任单位中选取职责所在的单位，其余列明单位按原文顺序为配合单位，"
            "并在指标登记表中写明一句牵头依据（见附录指标档案）。方案未列责任单位的条目（总体目标中"
            "未在其他条目重述的目标、六(二)），按相关条目列明的单位确定，依据中写明所引条目"
            "（如六(一)“农业农村局、发改局牵头”）。登记表载入时逐项核对牵头单位确为所在条目列明的单位。"
            "\n\n")
    whole = f"全部{s['indicators']}项指标和{s['projects']}个点名项目共{s['entries']}项"
    if s["stated"]:
        text += (f"{whole}中，方案原文明确牵头单位的（所在条目只列一个责任单位）{s['stated']}项；"
                 f"其余{s['inferred']}项为按职责推定，")
    else:  # no item with an indicator or project names a single body
        text += (f"{whole}所在的条目都列有多个责任单位或未列责任单位，方案原文没有明确任何一项的"
                 f"牵头单位，{s['inferred']}项均为按职责推定，")
    text += (f"其中牵头单位不是括号中首列单位的{s['not_first_named']}项，按所引条目确定的"
             f"{s['headline_rule']}项。推定的牵头单位须经工程工作专班确认，确认记录存于 "
             f"`{leads.CONFIRMATIONS_FILE}`，载入时核对编号存在、确认的单位与登记表一致。")
    if s["inferred"] == 0:
        text += "全部牵头单位均为方案原文明确，无需确认。"
    elif s["confirmed"] == 0:
        text += f"截至本报告编制，尚无确认记录，{s['pending']}项推定的牵头单位均待确认。"
    elif s["pending"] == 0:
        text += (f"截至本报告编制，{s['confirmed']}项推定的牵头单位均已确认"
                 f"（最近一次{s['last_confirmed']}）。")
    else:
        text += (f"截至本报告编制，已确认{s['confirmed']}项（最近一次{s['last_confirmed']}），"
                 f"待确认{s['pending']}项。")
    if s["pending"]:
        text += ("待确认的牵头单位在确认前按推定使用，牵头单位成绩单、预警清单和月度通报的部门分组均据此"
                 "编制；`planbook plan --leads` 列出全部牵头单位、依据和确认情况。")
    text += ("以上为本登记表版本的确认情况；每项指标在报告编制时的确认情况见附录“指标登记表”"
             "牵头单位一栏（原文明确／已确认／待确认），每项的牵头依据见“指标档案”。")
    return text


def write_examples(registry: Registry, frame: pd.DataFrame, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for stem, text in worked_examples(registry, frame).items():
        path = folder / f"_example-{stem}.md"
        path.write_text(text + "\n", encoding="utf-8")
        out.append(path)
    return out
