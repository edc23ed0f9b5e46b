"""The lead register: every indicator and named project with its lead, co-responsible bodies,
basis, and whether the plan states the lead (原文明确) or it is inferred by remit (推定) and, if
so, whether the 工作专班 has confirmed it (leads_confirmed.yaml). `planbook plan --leads` prints
it for the 工作专班 to go through; the method appendix (评估方法) quotes its counts.
"""

from __future__ import annotations

from planbook.plan.registry import LEAD_STATED_ZH, LEAD_STATUS, Indicator, Project, Registry

GROUPINGS = ("lead", "item", "status")
CONFIRMATIONS_FILE = "data/plan/leads_confirmed.yaml"


def _row(registry: Registry, entry: Indicator | Project) -> dict:
    named = registry.named_departments(entry.items)
    conf = registry.confirmations.get(entry.id)
    return {
        "kind": "indicator" if isinstance(entry, Indicator) else "project",
        "kind_zh": "指标" if isinstance(entry, Indicator) else "项目",
        "id": entry.id, "name_zh": entry.name_zh, "items": list(entry.items),
        "lead": entry.lead, "co": list(entry.co), "lead_basis": entry.lead_basis or "",
        "lead_stated": entry.lead_stated, "source_zh": LEAD_STATED_ZH[entry.lead_stated],
        "status_zh": registry.lead_status(entry),
        # the plan's bracket for the item; its first body is what the lead used to be
        "named": list(named), "first_named": named[0] if named else None,
        "confirmation": None if conf is None else {
            "confirmed_by": conf.confirmed_by, "date": conf.date, "note": conf.note},
    }


def lead_rows(registry: Registry) -> list[dict]:
    """One row per indicator, then per named project, in registry (plan) order."""
    return [_row(registry, e) for e in (*registry.indicators.values(),
                                        *registry.projects.values())]


def lead_summary(registry: Registry, rows: list[dict] | None = None) -> dict:
    rows = lead_rows(registry) if rows is None else rows
    status = {s: sum(r["status_zh"] == s for r in rows) for s in LEAD_STATUS}
    dates = sorted(r["confirmation"]["date"] for r in rows if r["confirmation"])
    return {
        "entries": len(rows),
        "indicators": sum(r["kind"] == "indicator" for r in rows),
        "projects": sum(r["kind"] == "project" for r in rows),
        "stated": status["原文明确"],
        "inferred": len(rows) - status["原文明确"],
        "confirmed": status["已确认"],
        "pending": status["待确认"],
        # items naming no body (二, 六(二)): the lead rests on a plan item the basis cites
        "headline_rule": sum(not r["named"] for r in rows),
        # leads other than the first body of the item's bracket (the old rule)
        "not_first_named": sum(bool(r["named"]) and r["lead"] != r["first_named"]
                               for r in rows),
        "last_confirmed": dates[-1] if dates else None,
        "by_status": status,
    }


def _group_key(registry: Registry, by: str):
    items = list(registry.tasks)
    if by == "lead":
        return (lambda r: r["lead"]), (lambda k: registry.department_order(k))
    if by == "item":
        return ((lambda r: r["items"][0]),
                (lambda k: items.index(k) if k in items else len(items)))
    return (lambda r: r["status_zh"]), (lambda k: ("待确认", "已确认", "原文明确").index(k))


def lead_lines(registry: Registry, by: str = "lead") -> list[str]:
    """The register as text for the 工作专班: a summary line, then one group per lead
    department (or plan item, or confirmation status), each entry with its basis."""
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {GROUPINGS}")
    rows = lead_rows(registry)
    s = lead_summary(registry, rows)
    lines = [f"牵头单位核对清单：指标 {s['indicators']} 项、点名项目 {s['projects']} 个，共 "
             f"{s['entries']} 项；原文明确 {s['stated']} 项，推定 {s['inferred']} 项（已确认 "
             f"{s['confirmed']} 项、待确认 {s['pending']} 项）；牵头单位不是原文括号中首列单位的 "
             f"{s['not_first_named']} 项，方案未列责任单位、按所引条目确定的 "
             f"{s['headline_rule']} 项。",
             f"工作专班确认后记入 {CONFIRMATIONS_FILE}（编号、确认的牵头单位、确认单位、日期、说明）。"]
    key, order = _group_key(registry, by)
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(key(r), []).append(r)
    title = {"lead": "牵头单位", "item": "方案条目", "status": "确认情况"}[by]
    for k in sorted(groups, key=order):
        members = groups[k]
        n_ind = sum(r["kind"] == "indicator" for r in members)
        pending = sum(r["status_zh"] == "待确认" for r in members)
        lines += ["", f"【{title}：{k}】指标 {n_ind} 项、项目 {len(members) - n_ind} 个"
                      f"（待确认 {pending}）"]
        for r in members:
            co = "、".join(r["co"]) or "—"
            first = ("" if not r["named"] or r["lead"] == r["first_named"]
                     else f"；原文首列：{r['first_named']}")
            where = "、".join(r["items"])
            who = "" if by == "lead" else f"｜牵头：{r['lead']}"
            lines.append(f"  {r['kind_zh']} {r['id']} {r['name_zh']}｜条目 {where}{who}｜"
                         f"配合：{co}｜{r['source_zh']}·{r['status_zh']}{first}")
            lines.append(f"      依据：{r['lead_basis']}")
            if r["confirmation"]:
                c = r["confirmation"]
                lines.append(f"      确认：{c['confirmed_by']}（{c['date']}）"
                             + (f"：{c['note']}" if c["note"] else ""))
    return lines
