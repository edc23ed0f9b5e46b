"""指标档案: one entry per indicator in the annual book's appendix, anchored #<indicator id>.

A chapter notebook (a4_dossiers, written by scripts/make_notebooks.py) opens a `Dossier` on
its `Report` and, per indicator, prints its head (`head`), draws its series (`figure`) and
shows every stored row with its revisions (`table`), so each entry's figure, table and
numbers are in the audit register like any chapter's. The labels of the figures, tables and
numbers using an indicator exist only once every notebook has run: `head` leaves a marked
block (USES_CLASS) that the render fills in from the register (planbook.book.dossier).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from planbook import paths
from planbook.assess import narrative
from planbook.assess.narrative import fmt_number, fmt_plan_value
from planbook.chapters import display, figures, history, provenance
from planbook.chapters.catalogue import DOSSIER_PAGE, USES_CLASS
from planbook.escape import md_cell, md_text
from planbook.plan.params import Params
from planbook.plan.registry import KIND_ZH, RULE_ZH, Indicator
from planbook.store import observations, villages

DIRECTION_ZH = {"increase": "越大越好", "decrease": "越小越好", "none": "不设方向"}
FREQ_ZH = {"monthly": "按月", "quarterly": "按季", "annual": "按年"}


@dataclass(frozen=True)
class PastReport:
    """One row source of an entry's 历次评估: a listed period and where its statuses come from."""

    params: Params  # the period's params (label, kind)
    basis: str  # 本期 | 已发布第N版（date） | 未发布，按本期数据重算 | 发布记录无法读取（…），…
    as_of_zh: str  # the cut-off the statuses were computed at, as printed
    statuses: dict[str, tuple[str, str]]  # indicator id -> (status words, light)


def dossier_href(indicator_id: str) -> str:
    """The permalink of an indicator's entry, relative to a page of the HTML book."""
    return f"{DOSSIER_PAGE}.html#{indicator_id}"


def label_stem(indicator_id: str) -> str:
    """ind_gdp → gdp; underscores become hyphens like every other label."""
    return indicator_id.removeprefix("ind_").replace("_", "-")


class Dossier:
    def __init__(self, rep):
        self.rep = rep

    # ------------------------------------------------------------------ status over time

    @cached_property
    def earlier_periods(self) -> list[Params]:
        """The annual reports up to this one and the last months before its cut-off, each as
        its params (chapters.history.earlier_periods)."""
        return history.earlier_periods(self.rep.period, self.rep.params.as_of)

    @cached_property
    def history(self) -> dict[str, PastReport]:
        """Per listed period, by code: its statuses as published (the record of its latest
        edition, chapters.history), this report's own for this period, and for a period never
        published or whose record cannot be read, recomputed on this report's rows (the latest
        revision of every row received by this cut-off), each saying which it is."""
        rep = self.rep
        out = {}
        for params in self.earlier_periods:
            if params.period == rep.period.code:
                out[params.period] = PastReport(params, "本期", rep.params.as_of_zh, {
                    i: (a.status_zh, a.light) for i, a in rep.by_id.items()})
                continue
            found = history.read_record(params.period)
            if isinstance(found, history.Published):
                out[params.period] = PastReport(
                    params, f"已发布{found.edition_zh}", history.date_zh(found.as_of),
                    {i: (str(v["status_zh"]), str(v["light"]))
                     for i, v in found.indicators.items()})
                continue
            basis = ("未发布，按本期数据重算" if found is None else
                     f"发布记录无法读取（{found.reason}），按本期数据重算")
            out[params.period] = PastReport(
                params, basis, f"{rep.params.as_of_zh}（本期截止日）",
                {a.indicator_id: (a.status_zh, a.light)
                 for a in rep.assess(params.parsed_period)})
        return out

    def history_table(self, ind_id: str) -> list[str]:
        """The entry's 历次评估: its lead-in and a markdown table, a row per listed period
        saying where its status comes from (本期, 已发布第N版, or recomputed and why)."""
        lines = [
            "**历次评估**（各年度、中期评估和近几个月通报。已发布的一期读取其最新版次发布时记录的状态，"
            "数据截至为该期报告自己的截止日；未发布或发布记录无法读取的一期按本期数据重算，"
            "并注明）：", "",
            # dashes set the columns' shares of the width (pandoc): the basis is the longest
            "| 报告 | 依据 | 数据截至 | 状态 | 灯号 |",
            "|:---------|:---------------|:------------|:--------|:----|",
        ]
        for params in self.earlier_periods:
            past = self.history[params.period]
            kind = "月度通报" if params.kind == "briefing" else params.kind_zh
            status, light = past.statuses.get(ind_id, ("该期报告未评估本指标", ""))
            cells = (f"{params.label_zh}{kind}", past.basis, past.as_of_zh, status,
                     display.LIGHT_ZH.get(light, light) or "—")
            # a published record is read, not trusted: its words are text, not markup
            lines.append("| " + " | ".join(md_cell(c) for c in cells) + " |")
        return lines

    # ------------------------------------------------------------------ rows

    @cached_property
    def _sorted_rows(self) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
        # The store up to the period sorted once, then split by indicator: each indicator's
        # rows in the order a stable sort of its own rows gives (ties keep the stored order),
        # without filtering and sorting the whole store twice per entry (head and table).
        df = observations.upto(self.rep.observations, self.rep.period).sort_values(
            ["period", "revision"], kind="stable")
        return df, {str(k): g for k, g in df.groupby("indicator_id", sort=False)}

    def rows(self, ind_id: str) -> pd.DataFrame:
        """Every stored row of the indicator up to the period, every revision, oldest first."""
        df, by_id = self._sorted_rows
        found = by_id.get(ind_id)
        return found if found is not None else df.iloc[0:0]

    # ------------------------------------------------------------------ the entry

    def head(self, ind_id: str) -> str:
        rep = self.rep
        ind: Indicator = rep.registry.indicators[ind_id]
        a = rep.by_id[ind_id]
        pid = rep.period.code
        stem = label_stem(ind_id)
        tasks = [t for t in rep.registry.tasks.values() if ind_id in t.indicators]
        items = "；".join(f"{t.id} {narrative.zh_punct(t.title)}" for t in tasks) or ind.path
        paths_text = "、".join((ind.path, *ind.also_paths))
        definition = (f"{KIND_ZH[ind.kind]}指标，单位{ind.unit or '—'}，"
                      f"{DIRECTION_ZH.get(ind.direction, ind.direction)}，{FREQ_ZH[ind.frequency]}报送")
        if ind.villages:
            definition += (f"；由村级台账逐村计算（{villages.MEASURES[ind.villages][0]}的行政村"
                           "占比），不采用手工汇总数")
        definition += f"；评估规则：{RULE_ZH[ind.judged_by]}" + (
            f"（方案用语“{ind.rule_basis}”）" if ind.rule_basis else "")
        targets = narrative.targets_text(ind)
        baseline = (f"{fmt_plan_value(ind.baseline.value, ind.unit)}（{ind.baseline.year}年，方案所载）"
                    if ind.baseline else
                    (f"{fmt_number(a.baseline_value, ind.unit)}（{a.baseline_year}年，最早观测值）"
                     if a.baseline_value is not None else "方案未给出"))
        status = provenance.quote(f"num-dossier-{stem}-{pid}", a.reason, inputs=a.inputs)
        lines = [
            f"## {narrative.zh_punct(ind.name_zh)} {{#{ind_id}}}", "",
            # The English name marked as English (WCAG 3.1.2: a screen reader switches voice).
            f"[*{ind.name_en}*]{{lang=en}} · 编号 `{ind_id}`", "",
            f"- **定义**：{definition}。",
            f"- **方案条目**：{paths_text}（{items}）。",
            "- **方案原文**：" + "；".join(f"“{q}”" for q in ind.quotes) + "。",
            f"- **牵头单位**：{ind.lead}（{rep.registry.lead_status(ind)}）"
            + (f"；**配合单位**：{'、'.join(ind.co)}" if ind.co else "") + "。"
            + (f"**牵头依据**：{ind.lead_basis.rstrip('。；;.')}。" if ind.lead_basis else ""),
            f"- **基期**：{baseline}；**目标**：{targets}。",
            f"- **本期评估**：{a.status_zh}（{display.LIGHT_ZH[a.light]}）。{status}", "",
            *self.history_table(ind_id),
        ]
        lines += ["", "**数据来源与报送文件**：", ""]
        rows = self.rows(ind_id)
        if rows.empty:
            lines.append("- 暂无数据。")
        for (source, file, sha), _ in rows.groupby(["source", "file", "file_sha256"],
                                                  sort=False, dropna=False):
            sub = paths.archived_submission(rep.data, str(sha or ""))
            where = (f"报送文件 `{sub.relative_to(rep.data.parent).as_posix()}`" if sub
                     else f"SHA256 `{str(sha)[:16]}…`")
            lines.append(f"- {md_text(source)}（`{file}`，{where}）")
        lines += ["", *display.div_lines(USES_CLASS, [
            "使用本指标的图、表和数字见附录“数据来源与追溯”的登记表，"
            f"或运行 `planbook trace {ind_id} --period {pid}`。"], {"data-indicator": ind_id})]
        return "\n".join(lines)

    def figure(self, ind_id: str) -> None:
        """The indicator's annual values against baseline and target."""
        a = self.rep.by_id[ind_id]
        points = self.rep._series(a)
        item = {"name": a.name, "unit": a.unit, "points": points,
                "baseline": (a.baseline_year, a.baseline_value)
                if a.baseline_value is not None else None,
                "target": (a.target_year, a.target_value) if a.target_value is not None else None,
                "projection": None, "status": a.status, "inputs": a.inputs}
        figures.trend_panel([item] if points else [], columns=1)

    def table(self, ind_id: str) -> None:
        """The stored rows, revisions shown as such: a superseded value says 已被修订. Per period
        the latest SHOWN_REVISIONS are listed and earlier ones counted (series_table)."""
        rows = self.rows(ind_id)
        shown = shown_rows(rows)
        provenance.record("table", inputs=[provenance.input_row(r) for r in
                                           shown[0].to_dict("records")])
        display.show_table(series_table(rows, self.rep.registry.indicators[ind_id].unit, shown))


SERIES_COLUMNS = ["期间", "数值", "修订", "数据状态", "数据来源", "接收时间"]
# Per period, the revisions an entry lists: the latest one and the two before it. A store with
# many rounds of corrections would otherwise list every one, page after page of the PDF (at
# 100x the sample's rows the appendix alone was 40 MB); the earlier ones are counted on one line
# and `planbook trace <indicator>` lists them all.
SHOWN_REVISIONS = 3


def shown_rows(rows: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """The rows an entry lists (per period the latest SHOWN_REVISIONS, in `rows`' order, which
    is by period and revision) and, per period, how many earlier revisions it leaves out."""
    if rows.empty:
        return rows, {}
    newest_first = rows.groupby("period", sort=False).cumcount(ascending=False)
    keep = (newest_first < SHOWN_REVISIONS).to_numpy()
    left_out = rows.loc[~keep].groupby("period", sort=False).size()
    return rows.loc[keep], {str(k): int(v) for k, v in left_out.items()}


def series_table(rows: pd.DataFrame, unit: str,
                 shown: tuple[pd.DataFrame, dict[str, int]] | None = None) -> pd.DataFrame:
    """An indicator's stored rows as the entry lists them: each revision on its own line, the
    one the report uses marked 采用 and every superseded one 已被修订; a period with more than
    SHOWN_REVISIONS revisions first says how many earlier ones are not listed. `shown`:
    shown_rows(rows), when the caller has it."""
    latest = (dict(zip(rows["period"], rows.groupby("period")["revision"].transform("max"),
                       strict=True)) if len(rows) else {})
    listed, left_out = shown if shown is not None else shown_rows(rows)
    left_out = dict(left_out)  # counted lines are taken out as they are written
    out = []
    for rec in listed.to_dict("records"):
        period, rev = rec["period"], int(rec["revision"])
        if period in left_out:
            n = left_out.pop(period)
            out.append({"期间": period, "数值": "—",
                        "修订": f"更早的{n}个版本（已被修订，未列出）",
                        "数据状态": "—", "数据来源": "—", "接收时间": "—"})
        out.append({
            "期间": period, "数值": fmt_number(rec["value"], unit),
            "修订": f"第{rev}版" + ("（采用）" if rev == latest[period] else "（已被修订）"),
            "数据状态": observations.STATUS_ZH.get(rec["status"], rec["status"]),
            "数据来源": rec["source"] or "—",
            "接收时间": (str(rec.get("received_at") or "")[:10] or "—")})
    return pd.DataFrame(out, columns=SERIES_COLUMNS)
