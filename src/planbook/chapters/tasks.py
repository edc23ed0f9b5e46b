"""The 任务评估 of every task: computed lights, the department's own statement, the named
projects' stages and the evaluator's judgement, each kept apart and marked as what it is.

`TaskEvaluation` is a mixin of `Report`: it uses the report's registry, data folder, period
and assessments. Quoted statements and judgements are registered (provenance.quote) with an
input row pointing at the submission file and row, or at the evaluation file, so
`planbook trace` leads back to them.
"""

from __future__ import annotations

import re
from functools import cached_property

import pandas as pd

from planbook.assess import grades
from planbook.assess.narrative import zh_punct
from planbook.assess.projects import ProjectAssessment, assess_projects, period_project_reports
from planbook.chapters import display, provenance
from planbook.chapters.provenance import num
from planbook.escape import md_text
from planbook.hashing import sha256_file
from planbook.plan.registry import Task
from planbook.store import statements as stmt
from planbook.store.evaluation import (
    EVALUATION_STATUSES,
    GRADES,
    Basis,
    Evaluation,
    check_grades,
    load_evaluation,
)

CHAPTER_NUMBER = {c: n for n, c in enumerate("一二三四五六七八九十", start=1)}
STATEMENT_PARTS = (("progress", "主要进展"), ("problems", "存在问题"),
                   ("next_steps", "下步打算"), ("evidence", "佐证材料"))
NO_STATEMENT = "暂无部门报送"
NO_JUDGEMENT = "暂无评估意见"
MISMATCH = "评估等级与计算灯号不一致"


def task_key(task_id: str) -> str:
    """An ascii label part for a task: 三(二)1 → 3-2-1, 六(四) → 6-4."""
    m = re.match(r"([一二三四五六])(?:[(（]([一二三四五六七八九十])[)）])?(\d+)?", task_id)
    if not m:
        return "x"
    parts = [str(CHAPTER_NUMBER[m[1]])]
    if m[2]:
        parts.append(str(CHAPTER_NUMBER[m[2]]))
    if m[3]:
        parts.append(m[3])
    return "-".join(parts)


class TaskEvaluation:
    """Report methods for the task blocks, the project tables and the summary's task counts."""

    # ------------------------------------------------------------------ the inputs

    @cached_property
    def statements(self) -> pd.DataFrame:
        """The latest revision of each department's statement for this period."""
        # the report's data cut-off applies to statements too (frozen periods)
        return grades.period_statements(self.data, self.params.as_of, self.period)

    @cached_property
    def project_reports(self) -> pd.DataFrame:
        return period_project_reports(self.data, self.params.as_of, self.period)

    @cached_property
    def evaluation(self) -> Evaluation | None:
        """The period's judgements, checked against this period's lights (a departing grade
        without a reason stops the chapter, as it stops the build's data check)."""
        ev = load_evaluation(self.data, self.period.code, self.registry)
        if ev is not None:
            check_grades(ev, self.task_bases)
        return ev

    @cached_property
    def projects(self) -> dict[str, ProjectAssessment]:
        return assess_projects(self.registry, self.project_reports, self.period)

    @cached_property
    def task_bases(self) -> dict[str, Basis]:
        """Per task: the grade its lights imply, the lights in words, a statement or not."""
        stated = set(self.statements["task_id"]) if not self.statements.empty else set()
        return grades.task_bases(self.registry, self.by_id, self.projects, stated)

    def statements_of(self, task_id: str) -> list[dict]:
        """The task's statements, lead department first."""
        rows = self.statements
        if rows.empty:
            return []
        task = self.registry.tasks[task_id]
        mine = [r for r in rows.to_dict("records") if r["task_id"] == task_id]
        order = {d: n for n, d in enumerate(task.departments)}
        return sorted(mine, key=lambda r: (order.get(r["department"], 99),
                                           self.registry.department_order(r["department"])))

    def tasks_of_scope(self, scope: str) -> list[Task]:
        """The tasks of a section (三(一)) or of a whole chapter (六)."""
        return [t for t in self.registry.tasks.values() if t.id != "二" and (
            t.id.startswith(scope) if len(scope) > 1 else t.chapter == scope)]

    # ------------------------------------------------------------------ quoting

    def _statement_label(self, row: dict) -> str:
        code = self.registry.departments[row["department"]].code or "dept"
        return f"stmt-{task_key(row['task_id'])}-{code}-{self.period.code}"

    def _quote_statement(self, row: dict) -> str:
        """The statement as a block quote, registered with its submission row."""
        text = "\n".join(f"{zh}：{row[f]}" for f, zh in STATEMENT_PARTS if row[f].strip())
        provenance.quote(self._statement_label(row), text, inputs=[stmt.input_row(row)])
        lines = []
        for f, zh in STATEMENT_PARTS:
            if row[f].strip():
                lines.append(f"> **{zh}**：{md_text(row[f])}")
        if row.get("monthly", "").strip():
            lines.append(f"> **本月进展**：{md_text(row['monthly'])}")
        return "\n>\n".join(lines)

    def _statement_source(self, row: dict) -> str:
        role = "牵头" if self.registry.tasks[row["task_id"]].lead == row["department"] else "配合"
        sample = "，示例数据" if row["status"] == "sample" else ""
        where = f"{md_text(row['sheet'])}第{row['row']}行" if row["sheet"] else f"第{row['row']}行"
        # the file name is the department's own: text, not markup
        # The PDF names the statement by its label (the register in the 技术附件 gives the
        # file, row and hash); the HTML prints them too.
        return (f"{row['department']}（{role}）报送，{self.period.label_zh}，"
                f"第{row['revision']}版"
                + display.screen_only(f"；报送文件 {md_text(row['original_name'])} {where}"
                                      f"（SHA256 {row['file_sha256'][:12]}…）")
                + f"{sample}；溯源标签 `{self._statement_label(row)}`")

    def _evaluation_input(self) -> dict:
        ev = self.evaluation
        return {"indicator_id": "evaluation", "period": self.period.code, "revision": 0,
                "file_sha256": sha256_file(ev.file),
                "file": ev.file.relative_to(self.data).as_posix()}

    # ------------------------------------------------------------------ the blocks

    def _light(self, light: str) -> str:
        return display.LIGHT_TEXT[light]

    def task_block(self, task: Task) -> str:
        key = task_key(task.id)
        depts = "、".join(task.departments) if task.departments else "方案未列明"
        out = [f"### {task.id} {zh_punct(task.title)}：任务评估", "",
               f"牵头单位：{task.lead or '方案未列明'}；责任单位：{depts}。", ""]
        # 1. computed: indicators and projects
        own = [self.by_id[i] for i in task.indicators if i in self.by_id]
        if own:
            out.append("**指标与灯号**（按评估方法计算）：" + "；".join(
                f"{self._light(a.light)} {a.name}（{a.status_zh}）" for a in own) + "。")
        else:
            out.append("**指标与灯号**：本任务无量化指标或节点任务。")
        out.append("")
        projects = [self.projects[p.id] for p in self.registry.projects_of(task.id)]
        if projects:
            out.append("**点名项目**（要求阶段 → 当前阶段，按评估方法计算灯号）：")
            out.append("")
            for pa in projects:
                now = (f"{pa.current_stage}（{pa.stage_date}）{'，示例数据' if pa.sample else ''}"
                       if pa.current_stage else "暂无阶段报送")
                out.append(f"- {md_text(pa.name)}：要求{pa.target_year}年{pa.target_stage} → {now}　"
                           f"{self._light(pa.light)} {pa.status_zh}")
            out.append("")
        basis = self.task_bases[task.id]
        out += [self._implied_line(task, basis, own, projects), ""]
        # 2. the departments' own words
        rows = self.statements_of(task.id)
        if rows:
            for row in rows:
                out += [f"**部门报送**（{self._statement_source(row)}）：", "",
                        self._quote_statement(row), ""]
            missing = [d for d in task.departments if d not in {r["department"] for r in rows}]
            if missing and task.lead in missing:
                out += [f"牵头单位{task.lead}本期{NO_STATEMENT}。", ""]
        else:
            out += [f"**部门报送**：{NO_STATEMENT}。", ""]
        # 3. the evaluator's judgement
        ev = self.evaluation
        judgement = ev.judgements.get(task.id) if ev else None
        if judgement:
            label = f"eval-{key}-{self.period.code}"
            text = f"{judgement.grade}：{judgement.opinion}"
            provenance.quote(label, text + (f"\n理由：{judgement.reason}" if judgement.reason
                                            else ""), inputs=[self._evaluation_input()])
            state = EVALUATION_STATUSES[ev.status]
            departs = basis.departs(judgement.grade)
            words = [f"**评估组意见**（{md_text(ev.evaluator)}撰写，{md_text(ev.date)}，{state}"
                     + display.screen_only("；评估人的判断，非计算结果、非部门报送")
                     + f"；溯源标签 `{label}`）：评估等级 **{judgement.grade}**。"
                     f"{md_text(judgement.opinion)}"]
            if judgement.reason and not departs:  # a reason the grade no longer needs: kept
                words += ["", f"**等级说明**：{md_text(judgement.reason)}"]
            out += [*display.div_lines("pb-evaluator", words), ""]
            if departs:
                out += [self._departure_line(judgement.grade, judgement.reason, basis), ""]
        else:
            out += [f"**评估组意见**：{NO_JUDGEMENT}。", ""]
        return "\n".join(out)

    def _implied_line(self, task: Task, basis: Basis, own: list, projects: list) -> str:
        """The grade the block's lights imply (assess.grades), registered with their rows."""
        label = f"grade-{task_key(task.id)}-{self.period.code}"
        if basis.grade is None:
            why = ("本任务无量化指标和点名项目" if not own and not projects
                   else "本任务的指标和点名项目均暂无数据")
            text = (f"{grades.NO_BASIS}（{why}，等级依据部门报送和评估组判断）" if basis.statement
                    else f"{grades.NO_BASIS}（{why}，也无部门报送：评定等级须写明理由，且不得评为“好”）")
        else:
            text = f"{basis.grade}（{basis.lights}）"
        inputs = [r for a in own for r in a.inputs] + [r for pa in projects for r in pa.inputs]
        provenance.quote(label, text, inputs=inputs)
        return (f"**按灯号计算的等级**（{display.screen_only('评估方法“任务评估”的规则，')}"
                f"溯源标签 `{label}`）：{text}。")

    def _departure_line(self, grade: str, reason: str, basis: Basis) -> str:
        """Where the evaluator's grade departs from what the lights imply: said, with the
        implied grade and the evaluator's reason (check_grades made sure there is one)."""
        why = f"评估组说明的理由：“{md_text(reason)}”" if reason else "评估组未说明理由。"
        if basis.grade is None:  # no light and no statement: nothing to judge by
            return (f"**评估等级无计算依据**：本任务既无有数据的指标或点名项目，也无部门报送，"
                    f"评估等级“{grade}”仅为评估组判断；无任何依据的任务不得评为“好”。{why}")
        return (f"**{MISMATCH}**：评估组评定为“{grade}”，按灯号计算的等级为“{basis.grade}”"
                f"（{basis.lights}）。{why}")

    def monthly_progress(self, department: str) -> str:
        """A briefing's 本月进展 lines of one department, quoted and registered ("" if none)."""
        rows = self.statements
        if rows.empty:
            return ""
        mine = [r for r in rows.to_dict("records") if r["department"] == department
                and (r["monthly"].strip() or r["progress"].strip())]
        if not mine:
            return ""
        lines = [f"本月进展（{department}报送，原文引用）：", ""]
        for r in sorted(mine, key=lambda r: list(self.registry.tasks).index(r["task_id"])):
            text = r["monthly"] if r["monthly"].strip() else r["progress"]
            provenance.quote(self._statement_label(r), text, inputs=[stmt.input_row(r)])
            title = self.registry.tasks[r["task_id"]].title
            lines.append(f"- {r['task_id']} {title}：{md_text(text)}"
                         + ("（示例数据）" if r["status"] == "sample" else ""))
        return "\n".join(lines) + "\n"

    def task_blocks(self, scope: str) -> str:
        """The 任务评估 blocks of a section (三(一)) or a chapter (六)."""
        return "\n".join(self.task_block(t) for t in self.tasks_of_scope(scope))

    # ------------------------------------------------------------------ tables and counts

    def project_table(self, chapter: str) -> None:
        """The chapter's named projects: quote, asked stage, current stage, status, light."""
        rows, inputs = [], []
        for p in self.registry.projects_in(chapter):
            pa = self.projects[p.id]
            inputs += list(pa.inputs)
            # The lead is named in the task block; a year the plan does not write is 2027
            # (the methodology says so), so the table stays narrow enough for A4.
            rows.append({
                "项目": zh_punct(p.name_zh), "任务": p.task,
                "要求阶段": f"{p.target_year}年{p.target_stage}",
                "当前阶段": (f"{pa.current_stage}（{pa.stage_date}）" if pa.current_stage
                            else "暂无报送"),
                "状态": pa.status_zh, "灯号": pa.light, "方案原文": f"“{p.quote}”"})
        provenance.record("table", inputs=inputs)
        display.show_table(pd.DataFrame(rows, columns=["项目", "任务", "要求阶段", "当前阶段",
                                                       "状态", "灯号", "方案原文"]),
                           lights=["灯号"])

    def task_summary(self) -> str:
        """Tasks by the evaluator's grade, and the tasks without a department statement."""
        tasks = [t for t in self.registry.tasks.values() if t.id != "二"]
        pid = self.period.code
        ev = self.evaluation
        graded = {g: [t for t in tasks if ev and t.id in ev.judgements
                      and ev.judgements[t.id].grade == g] for g in GRADES}
        ungraded = [t for t in tasks if not (ev and t.id in ev.judgements)]
        parts = [f"{g}{num(f'num-grade-{n}-{pid}', len(v), '项')}"
                 for n, (g, v) in enumerate(graded.items(), start=1)]
        total = num(f"num-tasks-total-{pid}", len(tasks), "项")
        text = (f"方案第三至第六部分共有任务{total}（含第六部分的四项保障措施；第二部分总体目标"
                "不是任务，由其指标评估，故比方案条目数少一条）。")
        if ev:
            sample = "（示例评估意见，仅演示格式）" if ev.is_sample else ""
            departing = [t for t in tasks if t.id in ev.judgements
                         and self.task_bases[t.id].departs(ev.judgements[t.id].grade)]
            text += (f"{md_text(ev.evaluator)}（{md_text(ev.date)}）评定{sample}："
                     + "、".join(parts) + f"；{NO_JUDGEMENT}"
                     + num(f"num-grade-none-{pid}", len(ungraded), "项") + "。"
                     + f"各等级均与按灯号计算的等级对照，{MISMATCH}的"
                     + num(f"num-grade-departs-{pid}", len(departing), "项")
                     + ("（" + "、".join(t.id for t in departing) + "，均写明理由，见各任务评估）"
                        if departing else "") + "。")
        else:
            text += f"本期评估组尚未给出评估意见（{NO_JUDGEMENT}）。"
        text += "等级为评估组的判断，与按数据计算的灯号分列。"
        have = set(self.statements["task_id"]) if not self.statements.empty else set()
        missing = [t for t in tasks if t.id not in have]
        text += (f"\n\n本期有部门报送的任务{num(f'num-stmt-tasks-{pid}', len(tasks) - len(missing), '项')}"
                 f"，{NO_STATEMENT}的任务{num(f'num-stmt-missing-{pid}', len(missing), '项')}")
        if missing:
            text += "：\n\n" + "\n".join(
                f"- {t.id} {zh_punct(t.title)}（牵头：{t.lead or '方案未列明'}）" for t in missing)
        else:
            text += "。"
        return text
