"""The chapter an evaluation opens with: 总体判断, 主要成效, 存在问题及原因, 对策建议,
规划调整建议 (mid-term) and 评估组织与过程, worded from assess.judgement.

`JudgementSections` is a mixin of `Report` (it uses the report's registry, assessments,
projects, statements and evaluator's file). Each method returns the Markdown of one section,
heading included, for an `output: asis` cell. Every number printed is registered
(provenance.num, labels num-judge-…-<period>); the evaluator's and the departments' words are
quoted (provenance.quote, with the evaluation file or the submission row as input), escaped
with planbook.escape, and never mixed with computed text.
"""

from __future__ import annotations

from functools import cached_property

from planbook.assess import judgement as jd
from planbook.assess.narrative import fmt_number, fmt_target
from planbook.assess.rules import Assessment
from planbook.chapters import provenance
from planbook.chapters.display import capped_list
from planbook.chapters.provenance import num
from planbook.chapters.tasks import task_key
from planbook.escape import md_text
from planbook.plan.periods import parse_period
from planbook.plan.registry import CHAPTER_TITLES, CHAPTERS
from planbook.store import statements as stmt
from planbook.store.evaluation import EVALUATION_STATUSES, METHODS, FieldText

CHAPTER_NUMBER = {c: n for n, c in enumerate("一二三四五六七八九十", start=1)}
LIST_LIMIT = 8  # names listed per item before 等N项
HIGHLIGHTS = 5  # department statements quoted as highlights
# Long lists the PDF cuts short (共N项，列出前M项, and where the rest are); the HTML lists all.
PRINT_LIMIT = 6  # achieved indicators, finished projects
PRINT_CAUSES = 3  # departments' 存在问题 per field
PRINT_NEEDS = 2  # recommendations and requirements per lead department
PACE_RULE = ("判断规则：时间进度为规划期（2023年1月1日至2027年12月31日）已过去的比例；某领域累计类指标"
             "完成进度（已完成量占目标量的比例）的中位数不低于时间进度，且有判定灯号的指标中绿灯"
             "（已达标、符合进度）超过一半，即为“时间过半、任务过半”；无累计类指标的领域只看灯号。")


def field_name(chapter: str) -> str:
    """二、总体目标: the plan's own numbering."""
    return f"{chapter}、{CHAPTER_TITLES[chapter]}"


def _names(items: list[str], limit: int = LIST_LIMIT) -> str:
    shown = "、".join(items[:limit])
    return shown + (f"等{len(items)}项" if len(items) > limit else "")


class JudgementSections:
    """Report methods for the front chapter (notebooks/00b_judgement.ipynb)."""

    # ------------------------------------------------------------------ shared

    @cached_property
    def elapsed(self) -> float:
        return jd.time_elapsed(self.period)

    @cached_property
    def paces(self) -> list[jd.FieldPace]:
        return jd.pace_by_field(self.registry, self.by_id, self.elapsed)

    @cached_property
    def stated_tasks(self) -> set[str]:
        return set(self.statements["task_id"]) if not self.statements.empty else set()

    def _jnum(self, ident: str, value: float | None, unit: str = "", *, inputs=(),
              digits: int | None = None) -> str:
        return num(f"num-judge-{ident}-{self.period.code}", value, unit, inputs=inputs,
                   digits=digits)

    def _pct(self, ident: str, share: float | None, inputs=()) -> str:
        return self._jnum(ident, None if share is None else share * 100, "%", inputs=inputs,
                          digits=1)

    def _value(self, ident: str, a: Assessment) -> str:
        """The latest value of an indicator, registered: 546.8亿元（2025年）."""
        text = self._jnum(ident, a.latest_value, a.unit, inputs=a.inputs)
        if not a.latest_period:
            return text
        return f"{text}（{parse_period(a.latest_period).label_zh}）"

    def _target(self, a: Assessment) -> str:
        return fmt_target(a.target_op or ">=", a.target_value, a.unit, a.target_year or 0,
                          every_year=a.target_every_year)

    def _evaluator_words(self, ident: str, text: str) -> str:
        """The evaluator's words, registered with the evaluation file, escaped."""
        provenance.quote(f"evalj-{ident}-{self.period.code}", text,
                         inputs=[self._evaluation_input()])
        return md_text(text)

    def _evaluator_source(self) -> str:
        ev = self.evaluation
        sample = "，示例" if ev.is_sample else ""
        return f"{md_text(ev.evaluator)}撰写，{md_text(ev.date)}{sample}"

    def _field_texts(self, chapter: str, key: str) -> list[tuple[FieldText, str]]:
        """The evaluator's `key` texts of a chapter, quoted: (entry, escaped text)."""
        ev = self.evaluation
        if ev is None:
            return []
        out = []
        for f in ev.fields_of(chapter):
            text = getattr(f, key)
            if text:
                code = self.registry.departments[f.lead].code if f.lead else "all"
                ident = f"{task_key(f.field)}-{code or 'dept'}-{key}"
                out.append((f, self._evaluator_words(ident, text)))
        return out

    def _field_quote_lines(self, chapter: str, key: str, title: str) -> list[str]:
        texts = self._field_texts(chapter, key)
        if not texts:
            return []
        lines = ["", f"{title}（{self._evaluator_source()}；评估人的判断，非计算结果）：", ""]
        for f, text in texts:
            who = f.field + (f"，{f.lead}" if f.lead else "")
            lines.append(f"> **{who}**：{text}")
            lines.append(">")
        return lines[:-1]

    # ------------------------------------------------------------------ 总体判断

    def overall_judgement(self) -> str:
        """总体判断: time elapsed, lights, cumulative pace by field, 2027 reach, conclusion."""
        items = self.assessments
        every = self._counted_rows(items)
        whole = jd.field_pace("全部", items, self.elapsed)
        lit_rows = self._counted_rows(list(whole.judged))
        end = self.period.end_label_zh
        lines = ["## 总体判断", ""]
        head = (f"截至{end}，规划实施期（2023—2027年）已过去"
                f"{self._pct('elapsed', self.elapsed)}。方案量化监测的"
                f"{self._jnum('total', len(items), '项', inputs=every)}指标中，有判定灯号的"
                f"{self._jnum('judged', len(whole.judged), '项', inputs=lit_rows)}，"
                f"已达标或符合进度（绿灯）"
                f"{self._jnum('green', len(whole.green), '项', inputs=lit_rows)}，占"
                f"{self._pct('green-share', whole.green_share, lit_rows)}。")
        cum_rows = self._counted_rows(list(whole.cumulative))
        if whole.cumulative:
            relation = ("不低于" if whole.median_completion >= self.elapsed else "低于")
            head += (f"有数据的累计类指标"
                     f"{self._jnum('cumulative', len(whole.cumulative), '项', inputs=cum_rows)}，"
                     f"完成进度中位数为{self._pct('median', whole.median_completion, cum_rows)}，"
                     f"{relation}时间进度；其中完成进度达到时间进度的"
                     f"{self._jnum('on-pace', len(whole.on_pace), '项', inputs=cum_rows)}。")
        verdict = {True: "实现", False: "未实现", None: "无法判断"}[whole.holds]
        head += f"就全部指标而言，“时间过半、任务过半”{verdict}。"
        lines += [head, "", "分领域看：", ""]
        holding, lagging = [], []
        for fp in self.paces:
            if not fp.items:
                continue
            ch = CHAPTER_NUMBER[fp.chapter]
            rows = self._counted_rows(list(fp.judged))
            text = (f"- **{field_name(fp.chapter)}**：有判定灯号"
                    f"{self._jnum(f'ch{ch}-judged', len(fp.judged), '项', inputs=rows)}，绿灯"
                    f"{self._jnum(f'ch{ch}-green', len(fp.green), '项', inputs=rows)}"
                    f"（{self._pct(f'ch{ch}-green-share', fp.green_share, rows)}）")
            if fp.cumulative:
                crows = self._counted_rows(list(fp.cumulative))
                text += (f"；累计类指标"
                         f"{self._jnum(f'ch{ch}-cumulative', len(fp.cumulative), '项', inputs=crows)}"
                         f"，完成进度中位数"
                         f"{self._pct(f'ch{ch}-median', fp.median_completion, crows)}")
            if fp.holds is None:
                text += "；暂无可判定的指标。"
            else:
                text += ("；“时间过半、任务过半”" + ("已实现。" if fp.holds else "未实现。"))
                (holding if fp.holds else lagging).append(field_name(fp.chapter))
            lines.append(text)
        reach = jd.projection_reach(items)
        rrows = self._counted_rows([*reach.reaches, *reach.misses, *reach.unknown])
        lines += ["", f"按目前进度推算（评估方法“趋势推算”），{jd.FINAL_YEAR}年到期的"
                  f"{self._jnum('due-final', reach.total, '项', inputs=rrows)}量化目标中，"
                  f"已达到或预计可以实现"
                  f"{self._jnum('reach', len(reach.reaches), '项', inputs=self._counted_rows(list(reach.reaches)))}，"
                  f"预计难以实现"
                  f"{self._jnum('miss', len(reach.misses), '项', inputs=self._counted_rows(list(reach.misses)))}，"
                  f"数据不足无法推算"
                  f"{self._jnum('unknown', len(reach.unknown), '项', inputs=self._counted_rows(list(reach.unknown)))}。"]
        summary = []
        if holding:
            summary.append("、".join(holding) + "进度符合时序要求")
        if lagging:
            summary.append("、".join(lagging) + "进度滞后于时间进度，需加快推进")
        if summary:
            lines += ["", "综合以上数据：" + "；".join(summary) + "。"]
        lines += ["", PACE_RULE]
        ev = self.evaluation
        if ev is not None and ev.conclusion:
            lines += ["", f"**评估组总体结论**（{self._evaluator_source()}；评估人的判断，"
                          "非计算结果）：", "",
                      f"> {self._evaluator_words('conclusion', ev.conclusion)}"]
        else:
            lines += ["", "评估组尚未给出总体结论。"]
        return "\n".join(lines)

    # ------------------------------------------------------------------ 主要成效

    def main_achievements(self) -> str:
        ach = jd.achievements(self.assessments, self.projects)
        lines = ["## 主要成效", ""]
        if ach.achieved:
            lines.append(f"**已达到目标的指标**"
                         f"（{self._jnum('achieved', len(ach.achieved), '项', inputs=self._counted_rows(list(ach.achieved)))}）：")
            lines.append("")
            lines += capped_list([f"- {a.name}{self.mark(a)}："
                                  f"{self._value(f'achieved-{a.indicator_id}', a)}，"
                                  f"目标{self._target(a)}（{a.lead}牵头）" for a in ach.achieved],
                                 PRINT_LIMIT, "其余见报告摘要的主要指标完成情况表")
            lines.append("")
        if ach.ahead:
            lines.append(f"**明显快于进度的指标**（符合进度且进度比不低于{jd.AHEAD:g}，"
                         f"{self._jnum('ahead', len(ach.ahead), '项', inputs=self._counted_rows(list(ach.ahead)))}）：")
            lines.append("")
            for a in ach.ahead:
                lines.append(f"- {a.name}{self.mark(a)}："
                             f"{self._value(f'ahead-{a.indicator_id}', a)}，进度比"
                             f"{self._jnum(f'ahead-ratio-{a.indicator_id}', a.ratio, '', inputs=a.inputs, digits=2)}")
            lines.append("")
        if ach.gains:
            lines += ["**较基期提升最大的指标**（按目标方向计算的相对变化）：", ""]
            for a, g in ach.gains:
                lines.append(f"- {a.name}{self.mark(a)}：由{a.baseline_year}年"
                             f"{fmt_number(a.baseline_value, a.unit)}到"
                             f"{self._value(f'gain-value-{a.indicator_id}', a)}，提升"
                             f"{self._pct(f'gain-{a.indicator_id}', g, a.inputs)}")
            lines.append("")
        done = [*ach.finished, *ach.reached]
        if done:
            rows = [r for p in done for r in p.inputs]
            lines.append(f"**点名项目**：已完工"
                         f"{self._jnum('projects-finished', len(ach.finished), '个', inputs=[r for p in ach.finished for r in p.inputs])}"
                         f"，达到方案要求阶段"
                         f"{self._jnum('projects-reached', len(ach.reached), '个', inputs=rows)}"
                         "（尚未完工）。")
            lines.append("")
            items = [f"- {md_text(p.name)}：{p.current_stage}（{p.stage_date}）"
                     f"{'，示例数据' if p.sample else ''}" for p in ach.finished]
            items += [f"- {md_text(p.name)}：{p.current_stage}，方案要求"
                      f"{p.target_year}年{p.target_stage}" for p in ach.reached]
            lines += capped_list(items, PRINT_LIMIT, "其余见报告摘要的重大项目推进情况表")
            lines.append("")
        if not (ach.achieved or ach.ahead or ach.gains or done):
            lines += ["本期暂无已达标指标、明显快于进度的指标或完工项目。", ""]
        for ch in CHAPTERS:
            lines += self._field_quote_lines(ch, "achievements",
                                             f"**评估组：{field_name(ch)}主要成效**")
        highlights = self._highlights()
        if highlights:
            lines += ["", "**部门报送的工作亮点**（指标全部为绿灯的任务，牵头单位报送的"
                          "主要进展，原文引用）：", ""] + highlights
        return "\n".join(lines)

    def _highlights(self) -> list[str]:
        """The lead departments' 主要进展 of tasks whose lights are all green (好)."""
        out = []
        for t in self.registry.tasks.values():
            if len(out) >= HIGHLIGHTS or t.id == "二" or t.id not in self.task_bases:
                continue
            if self.task_bases[t.id].grade != "好":
                continue
            rows = [r for r in self.statements_of(t.id)
                    if r["department"] == t.lead and r["progress"].strip()]
            if not rows:
                continue
            r = rows[0]
            label = f"hl-{task_key(t.id)}-{self.period.code}"
            provenance.quote(label, r["progress"], inputs=[stmt.input_row(r)])
            sample = "（示例数据）" if r["status"] == "sample" else ""
            out.append(f"- {t.id} {t.title}（{r['department']}）：{md_text(r['progress'])}"
                       f"{sample}")
        return out

    # ------------------------------------------------------------------ 存在问题及原因

    def problems_and_causes(self) -> str:
        lines = ["## 存在问题及原因", ""]
        fields = jd.problems_by_field(self.registry, self.by_id, self.projects,
                                      self.stated_tasks)
        for fp in fields:
            ch = CHAPTER_NUMBER[fp.chapter]
            causes = self._causes(fp.chapter)
            evaluator = self._field_quote_lines(fp.chapter, "problems",
                                                "**评估组分析的问题及原因**")
            if fp.empty and not causes and not evaluator:
                continue
            lines += [f"### {field_name(fp.chapter)}", ""]
            if fp.falling:
                lines.append(f"- **出现倒退**"
                             f"（{self._jnum(f'ch{ch}-falling', len(fp.falling), '项', inputs=self._counted_rows(list(fp.falling)))}）："
                             + "；".join(f"{a.name}{self.mark(a)}（{a.lead}牵头）："
                                         f"{self._why(a)}" for a in fp.falling))
            if fp.slow:
                lines.append(f"- **进展缓慢或逾期**"
                             f"（{self._jnum(f'ch{ch}-slow', len(fp.slow), '项', inputs=self._counted_rows(list(fp.slow)))}）："
                             + _names([f"{a.name}{self.mark(a)}（{a.status_zh}，{a.lead}牵头）"
                                       for a in fp.slow]))
            if fp.late_projects:
                rows = [r for p in fp.late_projects for r in p.inputs]
                lines.append(f"- **点名项目滞后**"
                             f"（{self._jnum(f'ch{ch}-late-projects', len(fp.late_projects), '个', inputs=rows)}）："
                             + "；".join(f"{md_text(p.name)}（{p.lead}牵头）：要求"
                                         f"{p.target_year}年{p.target_stage}，当前"
                                         f"{p.current_stage or '暂无阶段报送'}，{p.status_zh}"
                                         for p in fp.late_projects))
            if fp.no_data:
                lines.append(f"- **暂无数据**"
                             f"（{self._jnum(f'ch{ch}-no-data', len(fp.no_data), '项', inputs=self._counted_rows(list(fp.no_data)))}，"
                             "无法判断进度）："
                             + _names([f"{a.name}（{a.lead}）" for a in fp.no_data]))
            if fp.unreported:
                n = sum(len(ts) for _, ts in fp.unreported)
                lines.append(f"- **牵头单位未报送进展**"
                             f"（{self._jnum(f'ch{ch}-unreported', n, '项任务')}）："
                             + "；".join(f"{d}（{'、'.join(ts)}）" for d, ts in fp.unreported))
            if causes:
                lines += ["", "部门报送的存在问题（原文引用）：", ""]
                lines += capped_list(causes, PRINT_CAUSES, "其余见各章任务评估的部门报送")
            lines += evaluator
            lines.append("")
        return "\n".join(lines)

    def _why(self, a: Assessment) -> str:
        """An assessment's reason, quoted under this chapter's own label (the plan chapters
        quote it as num-<indicator>-<period>; a label names one output)."""
        return provenance.quote(f"num-judge-why-{a.indicator_id.removeprefix('ind_')}-"
                                f"{self.period.code}", a.reason, inputs=a.inputs)

    def _causes(self, chapter: str) -> list[str]:
        """The departments' 存在问题 of the chapter's tasks, quoted (one line per statement)."""
        out = []
        for t in self.registry.tasks.values():
            if t.chapter != chapter or t.id == "二":
                continue
            for r in self.statements_of(t.id):
                if not r["problems"].strip():
                    continue
                code = self.registry.departments[r["department"]].code or "dept"
                label = f"cause-{task_key(t.id)}-{code}-{self.period.code}"
                provenance.quote(label, r["problems"], inputs=[stmt.input_row(r)])
                sample = "（示例数据）" if r["status"] == "sample" else ""
                out.append(f"- {t.id}（{r['department']}）：{md_text(r['problems'])}{sample}")
        return out

    # ------------------------------------------------------------------ 对策建议

    def recommendations(self) -> str:
        """Per field and lead department: the evaluator's recommendation and, beside it, what
        the field's lagging targets and projects now require."""
        lines = ["## 对策建议", ""]
        next_year = self.period.end.year + 1
        lines += [f"以下按领域和牵头单位列出评估组的建议，并附按评估方法测算的要求：指标为此后到目标年"
                  f"所需的年均增速或年均增量，点名项目为{next_year}年底前须达到的阶段。", ""]
        for ch in CHAPTERS:
            needs = self._requirements(ch, next_year)
            words = self._field_texts(ch, "recommendations")
            if not needs and not words:
                continue
            lines += [f"### {field_name(ch)}", ""]
            leads = []
            for f, _ in words:
                if f.lead and f.lead not in leads:
                    leads.append(f.lead)
            leads += sorted((d for d in needs if d not in leads),
                            key=self.registry.department_order)
            general = [(f, t) for f, t in words if not f.lead]
            for f, text in general:
                lines += [f"**{f.field}（评估组建议）**：{text}", ""]
            for dept in leads:
                lines.append(f"- **{dept}**")
                items = [f"    - 评估组建议（{f.field}）：{text}" for f, text in words
                         if f.lead == dept]
                items += [f"    - {need}" for need in needs.get(dept, [])]
                lines += capped_list(items, PRINT_NEEDS, "全部见网页版本节", indent="  ")
            lines.append("")
        if self.evaluation is None or not self.evaluation.fields:
            lines += ["评估组尚未提出分领域建议；上列为测算要求。", ""]
        return "\n".join(lines)

    def _requirements(self, chapter: str, next_year: int) -> dict[str, list[str]]:
        """Per lead department: what each yellow or red indicator and each project behind its
        ask now requires (registered numbers)."""
        out: dict[str, list[str]] = {}
        for i in self.registry.home(chapter):
            a = self.by_id.get(i.id)
            if a is None or a.light not in ("yellow", "red"):
                continue
            req = jd.requirement(a)
            if req is None:
                continue
            ident = f"need-{a.indicator_id}"
            if req.how == "rate":
                word = "增长" if req.value >= 0 else "下降"
                need = (f"此后需年均{word}"
                        f"{self._pct(ident, abs(req.value), a.inputs)}")
            elif req.how == "amount":
                need = ("此后需年均增加" if req.value >= 0 else "此后需年均减少") + \
                    self._jnum(ident, abs(req.value), a.unit, inputs=a.inputs)
            else:
                need = f"每年须达到{self._jnum(ident, req.value, a.unit, inputs=a.inputs)}"
            out.setdefault(a.lead, []).append(
                f"{a.name}（{a.status_zh}）：目标{self._target(a)}，{need}")
        for p in self.registry.projects.values():
            task = self.registry.tasks.get(p.task)
            if task is None or task.chapter != chapter or p.id not in self.projects:
                continue
            pa = self.projects[p.id]
            step = jd.next_stage(pa, next_year)
            if step is None:
                continue
            stage, year = step
            out.setdefault(pa.lead, []).append(
                f"{md_text(pa.name)}：当前{pa.current_stage or '暂无阶段报送'}，{next_year}年底前须达到"
                f"“{stage}”（方案要求{year}年{pa.target_stage}）")
        return out

    # ------------------------------------------------------------------ 规划调整建议

    def adjustment_proposals(self) -> str:
        """规划调整建议 (mid-term only; "" otherwise)."""
        if not jd.adjustment_applies(self.params.kind, self.period):
            return ""
        cands = jd.adjustment_candidates(self.assessments)
        rows = self._counted_rows([c.assessment for c in cands])
        lines = ["## 规划调整建议", "",
                 f"中期评估按目前进度推算{jd.FINAL_YEAR}年目标：推算值低于目标超过"
                 f"{jd.ADJUST_MARGIN:.0%}的目标列为调整候选，由牵头单位论证后提出保持、调整或"
                 f"加大措施的意见（计算方法见评估方法“趋势推算”）。共"
                 f"{self._jnum('adjust', len(cands), '项', inputs=rows)}。", ""]
        for c in cands:
            a = c.assessment
            key = a.indicator_id
            text = (f"- **{a.name}**{self.mark(a)}（{a.lead}牵头）：目标{self._target(a)}，"
                    f"最新值{self._value(f'adjust-latest-{key}', a)}，按目前进度推算"
                    f"{jd.FINAL_YEAR}年为"
                    f"{self._jnum(f'adjust-projected-{key}', a.projected_value, a.unit, inputs=a.inputs)}"
                    f"，低于目标{self._pct(f'adjust-short-{key}', c.shortfall, a.inputs)}")
            if c.required is not None and c.required.how == "rate":
                word = "增长" if c.required.value >= 0 else "下降"
                text += (f"；此后需年均{word}"
                         f"{self._pct(f'adjust-need-{key}', abs(c.required.value), a.inputs)}")
                if c.observed is not None:
                    seen = "增长" if c.observed >= 0 else "下降"
                    text += (f"，而基期以来年均{seen}"
                             f"{self._pct(f'adjust-seen-{key}', abs(c.observed), a.inputs)}")
            elif c.required is not None and c.required.how == "amount":
                text += (f"；此后需年均增加"
                         f"{self._jnum(f'adjust-need-{key}', c.required.value, a.unit, inputs=a.inputs)}")
                if c.observed is not None:
                    text += (f"，而规划期以来年均增加"
                             f"{self._jnum(f'adjust-seen-{key}', c.observed, a.unit, inputs=a.inputs)}")
            lines.append(text + "。")
        if not cands:
            lines.append("各项目标按目前进度推算均可实现或差距在上述幅度以内，暂不提出调整。")
        return "\n".join(lines)

    # ------------------------------------------------------------------ 评估组织与过程

    def evaluation_process(self) -> str:
        lines = ["## 评估组织与过程", ""]
        ev = self.evaluation
        rows = self.statements
        depts = sorted(set(rows["department"]), key=self.registry.department_order) \
            if not rows.empty else []
        received = (f"本期收到部门进展报送{self._jnum('statements', len(rows), '份')}，来自"
                    f"{self._jnum('statement-departments', len(depts), '个')}单位，"
                    f"覆盖任务{self._jnum('statement-tasks', len(self.stated_tasks), '项')}。")
        if ev is None:
            return "\n".join(lines + ["本期尚无评估组文件（data/evaluation/"
                                      f"{self.period.code}.yaml），评估组织与过程未登记。",
                                      "", received])
        org = ev.organisation
        state = EVALUATION_STATUSES[ev.status]
        items = []
        if org.issuer:
            items.append(f"- **编制单位**：{self._evaluator_words('issuer', org.issuer)}")
        items.append(f"- **评估组**：{md_text(ev.evaluator)}"
                     + (f"；{self._evaluator_words('team', org.team)}" if org.team else ""))
        if org.methods:
            items.append("- **评估方式**：" + "、".join(m for m in METHODS if m in org.methods))
        if org.start or org.end:
            items.append(f"- **评估时间**：{md_text(org.start or '未登记')}至"
                         f"{md_text(org.end or '未登记')}")
        items.append(f"- **评估意见日期**：{md_text(ev.date)}（{state}）")
        if org.sources:
            items.append("- **数据来源**：" + "；".join(
                self._evaluator_words(f"source-{n + 1}", s) for n, s in enumerate(org.sources)))
        items.append(f"- **文稿状态**：{ev.signoff or '未登记'}")
        lines += items + ["", received]
        if ev.is_sample:
            lines += ["", "以上组织信息来自示例评估文件，仅演示报告格式，不代表实际评估过程。"]
        return "\n".join(lines)
