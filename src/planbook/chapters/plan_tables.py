"""The body's summary tables: 主要指标完成情况表, 重大项目推进情况 (with the reconciliation
against 重点项目累计完成投资) and the 要素保障 section of the safeguards chapter.

`PlanTables` is a mixin of `Report` (it uses the report's registry, period, assessments,
project assessments and statements). The computations are in assess.completion and
assess.investment; here they are displayed, and every number quoted is registered
(provenance.num) with the rows it rests on. Department text (形象进度, 存在问题, statements)
is escaped by the table writers and md_text.
"""

from __future__ import annotations

from functools import cached_property

import pandas as pd

from planbook.assess import completion as comp
from planbook.assess import investment as inv
from planbook.assess.narrative import fmt_percent
from planbook.assess.projects import latest_reports
from planbook.chapters import display, provenance
from planbook.chapters.provenance import num
from planbook.escape import md_text
from planbook.plan.periods import FIRST_YEAR, LAST_YEAR, parse_period
from planbook.plan.registry import CHAPTER_TITLES
from planbook.store import statements as stmt

WIDE_CUE = "表格较宽，可左右滑动查看全表 →"
LAND_TASK = "六(二)"


def _yi(wan: float | None) -> str:
    """An amount stored in 万元, shown in 亿元 with two decimals."""
    return "—" if wan is None else f"{wan / inv.WAN_PER_YI:,.2f}"


def show_wide_table(df: pd.DataFrame, *, lights=None) -> None:
    """A table wider than a phone: in HTML inside its own scrolling box with a cue (shown on
    narrow screens by book.css); the markdown (PDF) as show_table writes it."""
    html = (f'<p class="pb-wide-cue" aria-hidden="true">{WIDE_CUE}</p>'
            f'<div class="pb-wide" tabindex="0" role="region" aria-label="可横向滚动的表格">'
            f"{display.table_html(df, lights=lights or [])}</div>")
    display._display({"text/html": html,
                      "text/markdown": display.table_markdown(df, lights=lights or []),
                      "text/plain": df.to_string(index=False)})


class PlanTables:
    """Report methods for the 主要指标完成情况表, the project investment table and 要素保障."""

    # ------------------------------------------------------------------ 主要指标完成情况表

    @cached_property
    def yearly_assessments(self) -> dict[int, dict]:
        """Every indicator assessed for each plan year up to the report's (the value a year
        shows is the one that year's assessment used)."""
        out = {}
        for year in range(FIRST_YEAR, self.period.year + 1):
            items = (self.assessments if str(year) == self.period.code
                     else self.assess(parse_period(str(year))))
            out[year] = {a.indicator_id: a for a in items}
        return out

    @cached_property
    def completion(self) -> comp.CompletionTable:
        return comp.completion_table(self.registry, self.assessments, self.yearly_assessments)

    def completion_note(self) -> str:
        """What the table counts and how 完成率 is read, with the plan's totals registered."""
        pid = self.period.code
        plan = self.completion.totals()["plan"]
        total = num(f"num-completion-total-{pid}", sum(plan.values()), "项",
                    inputs=self._counted_rows(self.assessments))
        years = "、".join(f"{y}年" for y in self.completion.years)
        return (f"下表列出本报告评估的全部{total}指标（每项指标计入其方案原文所在章，与表1"
                f"“各章指标状态统计”口径相同，各章合计行与表1逐项一致），给出基期值、{years}"
                f"各年度值、{LAST_YEAR}年目标、完成率和评价。完成率按指标类型计算：累计型为"
                "（累计值−基数）÷（目标−基数）；水平、比重类为基期至目标差距已缩小的比例；"
                "年度目标为当年值占当年目标的比例；上限值已在上限内的写“控制在上限内”；"
                "底线指标写是否守住底线；节点任务写所处阶段。某年无该年度数据的写“—”；"
                "数值为年内月度或季度的，括号注明月份或季度。")

    def completion_table_view(self) -> None:
        """The 主要指标完成情况表 with a 合计 row per chapter and for the plan."""
        table = self.completion
        frame = comp.completion_frame(table, LAST_YEAR)
        marks = [self.mark(self.by_id[r["indicator_id"]]) if r["kind"] == "indicator" else ""
                 for r in table.rows]
        frame["指标"] = [n + m for n, m in zip(frame["指标"], marks, strict=True)]
        inputs = self._counted_rows(self.assessments) + [
            r for y, items in self.yearly_assessments.items() if str(y) != self.period.code
            for a in items.values() for r in a.inputs]
        provenance.record("table", inputs=inputs)
        show_wide_table(frame)

    # ------------------------------------------------------------------ 重大项目推进情况

    @cached_property
    def project_investments(self) -> list[inv.ProjectInvestment]:
        return inv.project_investments(self.registry,
                                       latest_reports(self.project_reports, self.period),
                                       self.projects)

    @cached_property
    def reconciliation(self) -> inv.Reconciliation:
        return inv.reconcile(self.project_investments, self.by_id.get(inv.KEY_INDICATOR),
                             self.period.code[:4])

    def project_investment_table(self) -> None:
        """Every named project: stage, investment (亿元), 完成率, 形象进度, 存在问题; a 合计 row."""
        items = self.project_investments
        rows = []
        for i in items:
            rows.append({"项目": i.name + ("（示例）" if i.sample else ""), "任务": i.task,
                         "当前阶段": i.stage or "暂无报送", "总投资": _yi(i.total),
                         "年度计划投资": _yi(i.annual_plan), "累计完成投资": _yi(i.completed),
                         "完成率": fmt_percent(i.share), "形象进度": i.image_progress or "—",
                         "存在问题": i.problems or "—"})
        t = inv.totals(items)
        rows.append({"项目": f"合计（{t.reported}个项目报送投资）", "任务": "", "当前阶段": "",
                     "总投资": _yi(t.total), "年度计划投资": _yi(t.annual_plan),
                     "累计完成投资": _yi(t.completed), "完成率": fmt_percent(t.share),
                     "形象进度": "", "存在问题": ""})
        provenance.record("table", inputs=list(t.inputs))
        frame = pd.DataFrame(rows)
        frame = frame.rename(columns={c: f"{c}（亿元）" for c in
                                      ("总投资", "年度计划投资", "累计完成投资")})
        show_wide_table(frame)

    def project_investment_text(self) -> str:
        """The totals and the reconciliation with 重点项目累计完成投资, numbers registered."""
        pid = self.period.code
        t = inv.totals(self.project_investments)
        rows = list(t.inputs)
        n = num(f"num-prj-count-{pid}", t.projects, "个", inputs=self._projects_file_rows())
        reported = num(f"num-prj-invest-reported-{pid}", t.reported, "个", inputs=rows)
        text = (f"方案点名项目共{n}，其中{reported}报送了投资情况（累计完成投资为2023年1月1日"
                "以来的累计数，与“重点项目累计完成投资”指标同口径；完成率为累计完成投资占总投资"
                "的比例）。")
        if t.reported:
            text += (f"报送项目总投资合计{num(f'num-prj-invest-total-{pid}', t.total / 1e4, '亿元', inputs=rows, digits=2)}，"
                     f"本年度计划投资{num(f'num-prj-invest-plan-{pid}', t.annual_plan / 1e4, '亿元', inputs=rows, digits=2)}，"
                     f"累计完成投资{num(f'num-prj-invest-done-{pid}', t.completed / 1e4, '亿元', inputs=rows, digits=2)}，"
                     f"完成率{num(f'num-prj-invest-share-{pid}', (t.share or 0) * 100, '%', inputs=rows)}。")
        return text + "\n\n" + self.reconciliation_text()

    def _projects_file_rows(self) -> list[dict]:
        """The project registry as an input row (what a count of named projects rests on)."""
        from planbook.store.observations import sha256_file

        path = self.registry.files.get("projects")
        if path is None:
            return []
        name = path.relative_to(self.data).as_posix() if path.is_relative_to(self.data) \
            else path.as_posix()
        return [{"indicator_id": f"{provenance.REGISTRY_INPUT}projects", "revision": 0,
                 "period": self.period.code, "file": name, "file_sha256": sha256_file(path)}]

    def reconciliation_text(self) -> str:
        rec = self.reconciliation
        pid = self.period.code
        key = self.by_id.get(inv.KEY_INDICATOR)
        rows = list(inv.totals(self.project_investments).inputs) + list(key.inputs if key else [])
        head = "**与“重点项目累计完成投资”指标核对**。"
        if not rec.overlap:
            return f"{head}{rec.reason}。"
        indicator = num(f"num-prj-recon-indicator-{pid}", rec.indicator, "亿元",
                        inputs=list(key.inputs))
        named = num(f"num-prj-recon-named-{pid}", rec.named, "亿元", inputs=rows, digits=2)
        diff = num(f"num-prj-recon-diff-{pid}", rec.difference, "亿元", inputs=rows, digits=2)
        share = num(f"num-prj-recon-share-{pid}", rec.named / rec.indicator * 100
                    if rec.indicator else None, "%", inputs=rows)
        return (f"{head}{rec.period}年重点项目累计完成投资{indicator}，其中{rec.named_projects}个"
                f"点名项目报送的累计完成投资合计{named}，占{share}；差额{diff}。{rec.reason}。")

    # ------------------------------------------------------------------ 要素保障

    def funding_text(self) -> str:
        """资金投入: the named projects' planned and completed investment per chapter."""
        pid = self.period.code
        by = inv.totals_by_chapter(self.project_investments)
        lines = ["**资金投入。** 方案要求“加强资金统筹……加快构建财政投入撬动、金融重点倾斜、"
                 "社会积极参与的多元投入机制”，未设资金投入的量化指标。以下按各部门报送的点名"
                 "项目投资反映资金投入情况（部门报送口径，非财政决算数）：", ""]
        for chapter, t in by.items():
            if not t.reported:
                lines.append(f"- {chapter}、{CHAPTER_TITLES.get(chapter, '')}：点名项目"
                             f"{t.projects}个，均未报送投资。")
                continue
            rows = list(t.inputs)
            lines.append(
                f"- {chapter}、{CHAPTER_TITLES.get(chapter, '')}：点名项目{t.projects}个，"
                f"{t.reported}个报送投资；本年度计划投资"
                f"{num(f'num-fund-plan-ch{chapter}-{pid}', t.annual_plan / 1e4, '亿元', inputs=rows, digits=2)}，"
                f"2023年以来累计完成"
                f"{num(f'num-fund-done-ch{chapter}-{pid}', t.completed / 1e4, '亿元', inputs=rows, digits=2)}。")
        return "\n".join(lines)

    def land_text(self) -> str:
        """用地保障: the 六(二) indicator the plan states, the projects naming land as their
        problem, and the statements of the 六(二) task."""
        pid = self.period.code
        lines = ["**用地保障。**"]
        task = self.registry.tasks.get(LAND_TASK)
        for ind_id in (task.indicators if task else ()):
            a = self.by_id.get(ind_id)
            if a is not None:
                lines.append(f"方案明确“{self.registry.indicators[ind_id].quotes[0]}”。"
                             f"该指标{a.status_zh}{self.mark(a)}：{self.quote(a)}。")
        land = [i for i in self.project_investments if "用地" in i.problems]
        lines.append(f"点名项目中，报送的存在问题涉及用地的"
                     f"{num(f'num-land-projects-{pid}', len(land), '个', inputs=[r for i in land for r in i.inputs] or self._projects_file_rows())}"
                     + ("：" + "；".join(f"{i.name}（{md_text(i.problems)}）" for i in land)
                        if land else "") + "。")
        said = self.statements_of(LAND_TASK) if task else []
        if said:
            lines.append("各部门对“强化要素保障”的报送：")
            for r in said:
                provenance.quote(self._statement_label(r), r["progress"],
                                 inputs=[stmt.input_row(r)])
                lines.append(f"- {r['department']}：{md_text(r['progress'])}"
                             + ("（示例数据）" if r["status"] == "sample" else ""))
        else:
            lines.append("本期没有部门报送“强化要素保障”（方案第六部分第二项未列明责任单位）"
                         "的工作进展。")
        return "\n\n".join(lines)
