"""What a chapter notebook works with: one period's registry, data and assessments.

Notebooks open a `Report` from their injected parameters and call its methods, each of which
either returns markdown (which a `#| output: asis` cell shows with `show_markdown`, built by
`narrative`) or shows a figure or table. The chapter's story stays in the notebook; the computing lives here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path

import pandas as pd

from planbook import paths
from planbook.assess import narrative, tables
from planbook.assess import rules as assess
from planbook.assess.narrative import fmt_number, fmt_target
from planbook.assess.rules import DONE, STATUS, Assessment
from planbook.chapters import display, figures, prepared, provenance
from planbook.chapters.judgement import JudgementSections
from planbook.chapters.plan_tables import PlanTables
from planbook.chapters.provenance import REGISTRY_INPUT, num
from planbook.chapters.tasks import TaskEvaluation, task_key
from planbook.plan.params import Params, check_injected
from planbook.plan.periods import Period, parse_period
from planbook.plan.registry import (
    CHAPTER_TITLES,
    KIND_ZH,
    RULE_ZH,
    Indicator,
    Registry,
    load_registry,
)
from planbook.store import observations, villages

CHAPTER_NUMBER = {c: n for n, c in enumerate("一二三四五六七八九十", start=1)}
STATUS_ORDER = ("achieved", "on_track", "needs_acceleration", "limited", "deterioration",
                "done", "reached", "in_progress", "not_started", "overdue", "no_data")
SEVERITY = {"deterioration": 0, "overdue": 1, "limited": 2, "needs_acceleration": 3}
TREND_KINDS = ("level", "share", "ceiling")
SAMPLE_NOTICE = "示例数据，非官方统计"
REVISION_ROWS = 30  # the 数据质量 revision table lists this many, then counts the rest
SAMPLE_MARK = "†"  # marks a sample-derived value in a report that also has real ones
COUNT_RULE = ("计数口径：每项指标只计一次，计入其方案条目所在的章节，各章合计等于指标总数，"
              "与摘要“各章指标状态统计”表一致；同时见于其他章节的指标在该章注明“另见”，不重复计数。")
WORST_LISTED = 5  # a chapter's 需要重点关注的指标 list shows this many, and says so
SECTION_WORST = 3  # a section's quoted reasons: this many, and says so
TASK_COUNT_RULE = ("任务行按任务计指标：一项指标可属于几项任务，另见于本节的指标也列在其任务下，"
                   "故各行指标数之和可多于本节监测的指标数。")
LIST_LIMIT = 10  # change lists longer than this show their first items and say so


def light_counts(items: list[Assessment]) -> str:
    """Lights as words, in light order: 绿灯3项、黄灯1项 (not 绿绿绿黄)."""
    counts = {k: sum(1 for a in items if a.light == k) for k in display.LIGHT_ZH}
    return "、".join(f"{display.LIGHT_ZH[k]}{n}项" for k, n in counts.items() if n)


def _rows(items) -> list:
    """The data rows a set of assessments rests on, for the audit register."""
    return [r for a in items for r in a.inputs]


def _frame_rows(frame: pd.DataFrame) -> list[dict]:
    """Store rows (observations.load_all's frame) as audit input rows."""
    return [provenance.input_row(r) for r in frame.to_dict("records")]


@dataclass
class Report(TaskEvaluation, JudgementSections, PlanTables):
    params: Params
    registry: Registry
    data: Path
    observations: pd.DataFrame  # every stored row, all revisions, village shares included

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(cls, **injected) -> Report:
        """Open the period a notebook was run for (`Report.load(**parameters)`)."""
        params = check_injected(injected)
        state = prepared.load(params)  # computed once by `planbook run` for all chapters
        if state is not None:
            rep = cls.__new__(cls)
            vars(rep).update(state)
            return rep
        data = params.data_path()
        registry = load_registry(data)
        # Frozen periods: only rows received by the params' as_of (the cut-off) and for
        # periods ending by this one; see observations.input_hashes.
        return cls(params=params, registry=registry, data=data,
                   observations=observations.load_all(data, registry, as_of=params.as_of,
                                                      period=params.parsed_period))

    @property
    def period(self) -> Period:
        return self.params.parsed_period

    @cached_property
    def points(self) -> assess.IndicatorPoints:
        """Every indicator's candidate rows, for assessing any period of this store (this one,
        the previous, the dossier's history) without reading the rows again."""
        return assess.indicator_points(self.observations)

    @cached_property
    def assessments(self) -> list[Assessment]:
        return self.assess(self.period)

    def assess(self, period: Period) -> list[Assessment]:
        """Every indicator assessed for `period` on this store (the latest revision of every
        row; a revised figure changes an earlier period's status)."""
        return assess.assess_all(self.registry, self.observations, period, points=self.points)

    @cached_property
    def by_id(self) -> dict[str, Assessment]:
        return {a.indicator_id: a for a in self.assessments}

    def chapter(self, chapter: str) -> list[Assessment]:
        """The chapter's own indicators (home = its `path` chapter): each counted once."""
        return [self.by_id[i.id] for i in self.registry.home(chapter)]

    def section(self, section: str) -> list[Assessment]:
        return [self.by_id[i.id] for i in self.registry.indicators.values()
                if i.section == section]

    @cached_property
    def uses_sample(self) -> bool:
        return observations.uses_sample(self.data, self.period, frame=self.observations)

    def _ind(self, a: Assessment) -> Indicator:
        return self.registry.indicators[a.indicator_id]

    # ------------------------------------------------------------------ audit rows

    @cached_property
    def _registry_file(self) -> tuple[str, str]:
        """The indicator registry as an input file: (data-relative path, sha256)."""
        path = self.registry.files["indicators"]
        name = path.relative_to(self.data).as_posix() if path.is_relative_to(self.data) \
            else path.as_posix()
        return name, observations.sha256_file(path)

    def _registry_rows(self, ids) -> list[dict]:
        """Indicators' registry entries as input rows (`registry:<indicator id>`, revision 0,
        the report's period): what a count rests on for an indicator no data row stands for
        (暂无数据, 未报送), so that its trace still names every indicator counted. Not `ind_…`:
        they are no observation (the data package lists them with the other inputs)."""
        name, sha = self._registry_file
        return [{"indicator_id": f"{REGISTRY_INPUT}{i}", "period": self.period.code,
                 "revision": 0, "file": name, "file_sha256": sha} for i in ids]

    def _counted_rows(self, items: list[Assessment]) -> list:
        """The rows a count or share of `items` rests on: each indicator's data rows, or its
        registry entry when it has none."""
        return [r for a in items for r in (a.inputs or self._registry_rows([a.indicator_id]))]

    # ------------------------------------------------------------------ narrative

    @cached_property
    def sample_count(self) -> int:
        """Indicators whose latest value used is sample data."""
        return sum(1 for a in self.assessments if a.sample)

    @cached_property
    def mixed(self) -> bool:
        """Real and sample values side by side: every sample-derived value is marked †.
        Decided on the rows (a report-wide fact the run cache keys on), not per chapter."""
        return observations.mixes_real_and_sample(self.observations, self.registry, self.period)

    def mark(self, a: Assessment) -> str:
        return SAMPLE_MARK if self.mixed and a.sample else ""

    def sample_notice(self) -> str:
        """The notice a report built on sample data carries (empty for official data)."""
        if not self.uses_sample:
            return ""
        if self.mixed and self.sample_count:
            text = (f"**{SAMPLE_NOTICE}：本报告含示例数据{self.sample_count}项。** "
                    f"标有{SAMPLE_MARK}的数值来自项目附带的示例数据"
                    "（数据状态为 sample），仅用于演示，不代表建德市官方统计；其余数值为部门报送或"
                    "正式统计数据。同一指标有真实数据时不再使用其示例数据，评估从不把真实数值与示例"
                    "数值相互比较。")
        else:
            text = (f"**{SAMPLE_NOTICE}。** 本报告使用了项目附带的示例数据"
                    "（数据状态为 sample），数值仅用于演示评估方法与报告格式，不代表建德市官方统计。")
        return "\n".join(display.div_lines("callout-warning", [text]))

    def status_sentence(self, items: list[Assessment], scope: str, key: str, *,
                        rule: bool = False) -> str:
        """截至2025年底，本章监测的23项指标中，已达标5项、符合进度9项……"""
        counts = {s: [a for a in items if a.status == s] for s in STATUS_ORDER}
        pid = self.period.code
        parts = []
        for s in STATUS_ORDER:
            if counts[s]:
                n = num(f"num-{key}-{s}-{pid}", len(counts[s]), "项",
                        inputs=self._counted_rows(counts[s]))
                parts.append(f"{STATUS[s][0]}{n}")
        every = self._counted_rows(items)  # a total and a share rest on every item counted
        total = num(f"num-{key}-total-{pid}", len(items), "项", inputs=every)
        greens = sum(1 for a in items if a.light == "green")
        # share * 100 as fmt_percent computes it, so the text is what it printed before.
        share = (num(f"num-{key}-green-share-{pid}", greens / len(items) * 100, "%",
                     inputs=every) if items else "—")
        return (f"截至{self.period.end_label_zh}，{scope}监测的{total}指标中，"
                + "、".join(parts) + f"。绿灯指标占{share}。" + (COUNT_RULE if rule else ""))

    def chapter_overview(self, chapter: str) -> str:
        items = self.chapter(chapter)
        text = self.status_sentence(items, "本章", f"ch{CHAPTER_NUMBER[chapter]}", rule=True)
        also = self.registry.cross_listed(chapter)
        if also:
            text += ("\n\n另见（本章也提及、计入其他章节的指标，不计入上述统计）："
                     + "；".join(f"{narrative.zh_punct(i.name_zh)}（{i.path}）" for i in also) + "。")
        behind = self._worst(items, WORST_LISTED)
        if behind:
            listed = self._listed(items, behind, f"ch{CHAPTER_NUMBER[chapter]}")
            text += f"\n\n需要重点关注的指标{listed}：\n\n" + "\n".join(
                f"- **{a.name}**{self.mark(a)}（{self._ind(a).lead}牵头）：{self.quote(a, chapter)}"
                for a in behind)
        return text

    def changes_since_previous(self) -> str:
        """What changed since the previous period's report, where that period has one."""
        prev = self.period.previous()
        if not (paths.params_dir() / f"{prev.code}.yml").is_file():
            return f"{prev.label_zh}无评估报告，本期不作比较。"
        before = {a.indicator_id: a for a in self.assess(prev)}
        rank = {"green": 0, "yellow": 1, "red": 2, "grey": 3}
        better, worse, new = [], [], []
        for a in self.assessments:
            b = before[a.indicator_id]
            if b.light == "grey" and a.light != "grey":
                new.append(a)
            elif a.light != "grey" and rank[a.light] < rank[b.light]:
                better.append((a, b))
            elif a.light != "grey" and rank[a.light] > rank[b.light]:
                worse.append((a, b))
        pid = self.period.code

        def moved(ident: str, pairs: list[tuple[Assessment, Assessment]]) -> str:
            # A change rests on both assessments: this period's rows and the previous one's.
            rows = [r for a, b in pairs for r in (*self._counted_rows([a]), *b.inputs)]
            return num(f"num-change-{ident}-{pid}", len(pairs), "项", inputs=rows)

        text = (f"与{prev.label_zh}评估相比（按当前各期最新修订数据重新评估上期），"
                f"灯号好转{moved('better', better)}、转差{moved('worse', worse)}，"
                f"新增有数据指标{moved('new', [(a, before[a.indicator_id]) for a in new])}。")
        for title, pairs in (("转差的指标", worse), ("好转的指标", better)):
            if not pairs:
                continue
            shown = pairs[:LIST_LIMIT]
            note = (f"（共{len(pairs)}项，其中列出前{len(shown)}项）" if len(pairs) > len(shown)
                    else "")
            text += f"\n\n{title}{note}：\n\n" + "\n".join(
                f"- **{a.name}**：{b.status_zh} → {a.status_zh}（{a.lead}牵头）"
                for a, b in shown)
        return text

    def quote(self, a: Assessment, chapter: str | None = None) -> str:
        """An assessment's reason, quoted in narrative: registered as num-<indicator>-<period>
        (once per notebook) with the rows it rests on, so its numbers can be traced.

        `chapter`: the plan chapter whose text quotes it. An indicator the plan states in two
        chapters (`also_paths`) is quoted in both chapters' notebooks; outside its own chapter
        the id gets a -ch<N> suffix so that no label is registered twice."""
        ident = f"num-{a.indicator_id.removeprefix('ind_')}-{self.period.code}"
        if chapter and chapter != self._ind(a).chapter:
            ident += f"-ch{CHAPTER_NUMBER[chapter]}"
        return provenance.quote(ident, a.reason, inputs=a.inputs)

    def _listed(self, items: list[Assessment], shown: list[Assessment], key: str) -> str:
        """（共8项，按严重程度列出前5项）: a shortened list says how many it leaves out. Counted:
        the statuses SEVERITY orders (出现倒退, 逾期, 进展缓慢, 需加快推进)."""
        bad = [a for a in items if a.status in SEVERITY]
        n = num(f"num-{key}-attention-{self.period.code}", len(bad), "项",
                inputs=self._counted_rows(bad))
        if len(bad) > len(shown):
            return f"（共{n}，按严重程度列出前{len(shown)}项）"
        return f"（共{n}）"

    def _worst(self, items: list[Assessment], n: int) -> list[Assessment]:
        bad = [a for a in items if a.status in SEVERITY]
        return sorted(bad, key=lambda a: (SEVERITY[a.status], a.ratio if a.ratio is not None
                                          else 0.0, a.indicator_id))[:n]

    def section_heading(self, section: str) -> str:
        tasks = [t for t in self.registry.tasks.values() if t.section and
                 f"{t.chapter}{t.section}" == section]
        title = tasks[0].section_title if tasks else section
        return f"## {narrative.zh_punct(title)}"

    def section_narrative(self, section: str) -> str:
        """Heading, status sentence, and one line per task item with its lead department."""
        items = self.section(section)
        key = f"s{CHAPTER_NUMBER[section[0]]}-{CHAPTER_NUMBER[section[2]]}"  # 三(一) -> s3-1
        lines = [self.section_heading(section), ""]
        if items:
            lines.append(self.status_sentence(items, "本节", key))
        tasks = [t for t in self.registry.tasks.values() if t.section and
                 f"{t.chapter}{t.section}" == section]
        if tasks:
            lines += ["", f"本节任务及责任单位（{TASK_COUNT_RULE}）：", ""]  # blank line before a list
            for t in tasks:
                own = [self.by_id[i] for i in t.indicators if i in self.by_id]
                # The task's count and lights, registered as one quoted phrase with its rows.
                counts = (provenance.quote(f"num-task-{task_key(t.id)}-{self.period.code}",
                                           f"{len(own)}项指标，{light_counts(own)}",
                                           inputs=self._counted_rows(own))
                          if own else "无量化指标")
                depts = "、".join(t.departments) if t.departments else "—"
                lines.append(f"- {t.id} {narrative.zh_punct(t.title)}（牵头：{t.lead or '—'}；责任单位：{depts}）"
                             f"：{counts}")
        worst = self._worst(items, SECTION_WORST)
        if worst:
            lines.append(f"\n本节需要关注的指标{self._listed(items, worst, key)}：")
        for a in worst:
            lines.append(f"\n> **{a.name}**{self.mark(a)} {a.status_zh}：{self.quote(a, section[0])}")
        return "\n".join(lines)

    # ------------------------------------------------------------------ tables

    def indicator_table(self, items: list[Assessment]) -> None:
        """Per indicator: target, baseline, latest value, status and light."""
        rows = []
        for a in items:
            ind = self._ind(a)
            rows.append({
                "指标": a.name, "牵头单位": ind.lead,
                "目标": narrative.targets_text(ind),
                "基期": "—" if a.baseline_value is None else
                f"{self._baseline_number(a)}（{a.baseline_year}）",
                "最新值": self._latest_text(a), "状态": a.status_zh, "灯号": a.light})
        provenance.record("table", inputs=self._counted_rows(items))
        display.show_table(pd.DataFrame(rows), lights=["灯号"],
                           links=self.dossier_links(items, "指标"))

    def dossier_links(self, items: list[Assessment], column: str) -> dict | None:
        """Each indicator's name links to its 指标档案 entry (annual books have one)."""
        if self.params.kind == "briefing":
            return None
        from planbook.chapters.dossier import dossier_href

        return {column: [(dossier_href(a.indicator_id), f"#{a.indicator_id}") for a in items]}

    @staticmethod
    def _baseline_number(a: Assessment) -> str:
        """A baseline the plan states at the plan's precision; an observed one as measured."""
        if a.baseline_source == "plan":
            return narrative.fmt_plan_value(a.baseline_value, a.unit)
        return fmt_number(a.baseline_value, a.unit)

    def _latest_text(self, a: Assessment) -> str:
        if a.latest_value is None:
            return "—"
        if a.kind == "milestone":
            return f"{tables.milestone_word(a)}{self.mark(a)}（{a.latest_period}）"
        return f"{fmt_number(a.latest_value, a.unit)}{self.mark(a)}（{a.latest_period}）"

    def chapter_status_table(self) -> None:
        """Status counts per plan chapter (summary page)."""
        agg = tables.aggregate(self.registry, self.assessments, "chapter")
        self._count_table(agg, "章", lambda k: f"{k}、{CHAPTER_TITLES.get(k, '')}")

    def lead_table(self) -> None:
        agg = tables.aggregate(self.registry, self.assessments, "lead")
        self._count_table(agg, "牵头单位", str)

    def _count_table(self, agg: pd.DataFrame, name: str, label) -> None:
        key = agg.columns[0]
        out = pd.DataFrame({name: agg[key].map(label), "指标数": agg["indicators"]})
        for s in STATUS_ORDER:
            if agg[s].sum():
                out[STATUS[s][0]] = agg[s]
        out["绿灯占比"] = agg["green_share"].map(narrative.fmt_percent)
        provenance.record("table", inputs=self._counted_rows(self.assessments))
        display.show_table(out)

    def warning_table(self, lights=("red", "yellow"), limit: int | None = None, *,
                      reasons: bool = True, pdf_reasons: bool = True) -> None:
        """Red and yellow warnings with the department responsible and the gap in numbers.
        `pdf_reasons=False`: the PDF leaves out the 依据 column (the summary's list; the
        chapters and the 预警清单 give each reason), the HTML keeps it."""
        items = [a for a in self.assessments if a.light in lights]
        items.sort(key=lambda a: (0 if a.light == "red" else 1, SEVERITY.get(a.status, 9),
                                  self.registry.department_order(a.lead), a.indicator_id))
        if limit:
            items = items[:limit]
        columns = ["指标", "牵头单位", "状态", "灯号", "差距"] + (["依据"] if reasons else [])
        rows = [{"指标": a.name + self.mark(a), "牵头单位": a.lead, "状态": a.status_zh, "灯号": a.light,
                 "差距": self.gap_text(a), "依据": a.reason} for a in items]
        provenance.record("table", inputs=_rows(items))
        frame = pd.DataFrame(rows, columns=columns)
        paper = None if pdf_reasons or not reasons else frame.drop(columns=["依据"])
        display.show_table(frame, lights=["灯号"], pdf=paper,
                           links=self.dossier_links(items, "指标"))

    def gap_text(self, a: Assessment) -> str:
        """How far the latest value is from the target (or from schedule for cumulatives):
        the 应达 printed is the one the light was judged against (`Assessment.due_value`)."""
        if a.latest_value is None or a.target_value is None or a.kind == "milestone" \
                or a.status == "not_assessed":
            return "—"
        if a.due_value is not None and a.method == "schedule":
            gap = assess.whole(a.due_value - a.latest_value, a.unit)
            return (f"按{self._due_when(a)}时序进度{narrative.fmt_percent(a.due_share)}应达"
                    f"{fmt_number(a.due_value, a.unit)}，"
                    + (f"差{fmt_number(gap, a.unit)}" if gap > 0 else "已达时序进度"))
        if a.status == "achieved":
            return "已达目标"
        return "距目标差" + narrative.fmt_difference(
            a.target_value - a.latest_value, a.unit,
            max(abs(a.target_value), abs(a.latest_value)))

    def _due_when(self, a: Assessment) -> str:
        """'2025年底（数据时点）' when the schedule was taken at the latest data's date, which
        is earlier than the period's end (like for like); '' at the period's end."""
        if a.due_at and parse_period(a.due_at).end < self.period.end:
            return f"{parse_period(a.due_at).end_label_zh}（数据时点）"
        return ""

    # ------------------------------------------------------------------ figures

    def _series(self, a: Assessment) -> list[tuple[int, float]]:
        rows = observations.upto(observations.latest(
            observations.rows_for(self.observations, [a.indicator_id])), self.period)
        rows = rows[rows["period"].str.len() == 4]
        base = self._ind(a).baseline
        real = (rows["status"] != "sample") & (rows["period"] != (str(base.year) if base else ""))
        if real.any():  # as the assessment: never a real value beside sample ones
            rows = rows[rows["status"] != "sample"]
        return sorted((int(p), float(v)) for p, v in zip(rows["period"], rows["value"],
                                                          strict=True))

    def trend_figure(self, items: list[Assessment]) -> None:
        """Level, share and ceiling indicators: trend against the path to target, projected."""
        series = []
        for a in items:
            if a.kind not in TREND_KINDS:
                continue
            points = self._series(a)
            if not points:
                continue
            base = (a.baseline_year, a.baseline_value) if a.baseline_value is not None else None
            target = (a.target_year, a.target_value) if a.target_value is not None else None
            line = None
            if a.rule == "bottom_line":  # held every year: a line, no path from the baseline
                base, target, line = None, None, a.target_value
            elif a.rule == "info":
                base, target = None, None
            proj = None
            if a.projected_value is not None and a.projected_year:
                proj = (a.projected_year, a.projected_value, a.projection_low, a.projection_high)
            series.append({"name": a.name, "unit": a.unit, "points": points, "baseline": base,
                           "target": target, "line": line, "projection": proj,
                           "status": a.status,
                           "inputs": a.inputs})
        figures.trend_panel(series)

    def schedule_figure(self, items: list[Assessment]) -> None:
        """Cumulative indicators: completed share of target against the schedule."""
        rows = []
        for a in items:
            if a.kind != "cumulative" or not a.target_value:
                continue
            base = a.baseline_value or 0.0
            span = a.target_value - base
            done = ((a.latest_value or base) - base) / span if span else 0.0
            # The marker is the printed 应达 as a share of the target, the point the light was
            # judged against (at the latest data's date); without data, the period's schedule.
            elapsed = ((a.due_value - base) / span if a.due_value is not None and span else
                       assess.schedule_share(self.period.end,
                                             self._ind(a).target_for(self.period.year).year))
            label = (f"{fmt_number(a.latest_value, a.unit)}/"
                     f"{narrative.fmt_plan_value(a.target_value, a.unit)}"
                     if a.latest_value is not None else "暂无数据")
            rows.append({"name": a.name, "completed": done, "elapsed": elapsed,
                         "status": a.status, "label": label, "inputs": a.inputs})
        figures.schedule_bullets(rows)

    def annual_figure(self, items: list[Assessment]) -> None:
        """Annual targets: met or not, year by year up to the period."""
        years = [y for y in range(2023, self.period.year + 1)]
        grid, inputs = {}, []
        for a in items:
            if a.kind != "annual":
                continue
            ind = self._ind(a)
            points = dict(self._series(a))
            grid[a.name] = [None if y not in points else int(ind.target_for(y).met_by(points[y]))
                            for y in years]
            inputs += a.inputs
        frame = pd.DataFrame.from_dict(grid, orient="index", columns=years)
        figures.annual_met(frame, inputs=inputs)

    def heatmap_figure(self, chapters=("二", "三", "四", "五", "六")) -> None:
        """Status counts by plan section."""
        # Only the chosen chapters' indicators: their rows are all the heatmap rests on.
        items = [a for a in self.assessments if self._ind(a).chapter in chapters]
        agg = tables.aggregate(self.registry, items, "section")
        table = pd.DataFrame(index=[f"{s} {t}"[:22] for s, t in zip(agg["section"], agg["title"],
                                                                     strict=True)])
        for s in STATUS_ORDER:
            table[STATUS[s][0]] = agg[s].to_numpy()
        table = table.loc[:, table.sum() > 0]
        figures.status_heatmap(table, inputs=self._counted_rows(items))

    def scorecard_figure(self) -> None:
        agg = tables.aggregate(self.registry, self.assessments, "lead").set_index("lead")
        figures.scorecard(agg[["green", "yellow", "red", "grey"]],
                          inputs=self._counted_rows(self.assessments))

    def dashboard_figure(self) -> None:
        tiles = []
        for a in self.chapter("二"):
            tiles.append({"name": a.name, "value": self._latest_text(a).split("（")[0],
                          "target": fmt_target(a.target_op or ">=", a.target_value, a.unit,
                                               a.target_year or 2027),
                          "light": a.light, "status": a.status_zh,
                          "inputs": self._counted_rows([a])})
        figures.dashboard(tiles)

    # ------------------------------------------------------------------ villages

    @cached_property
    def village_records(self) -> pd.DataFrame:
        return villages.load_villages(self.data, as_of=self.params.as_of, year=self.period.year)

    def village_year(self) -> int | None:
        years = [y for y in self.village_records["year"].unique() if y <= self.period.year]
        return int(max(years)) if years else None

    def _village_inputs(self) -> list[dict]:
        if not len(self.village_records):
            return []
        file = villages.village_file(self.data)
        y = self.village_year()
        recs = self.village_records[self.village_records["year"] == y]
        return [{"indicator_id": "villages", "period": str(y), "revision": 1,
                 "file_sha256": villages.records_sha256(recs),
                 "file": file.relative_to(self.data).as_posix(),
                 "rows": villages.rows_spec(recs)}]

    def village_income_figure(self) -> None:
        y = self.village_year()
        recs = self.village_records[self.village_records["year"] == y]
        figures.village_income(recs, y, inputs=self._village_inputs())

    def village_coverage_figure(self) -> None:
        y = self.village_year()
        recs = self.village_records[self.village_records["year"] == y]
        table = pd.DataFrame({villages.SHORT_ZH[m]: villages.share_by_town(recs, m)
                              .set_index("town")["share"]
                              for m in ("operating_income_ge_50", "operating_income_ge_100",
                                        *villages.FLAGS)})
        figures.village_coverage(table, inputs=self._village_inputs())

    def village_narrative(self) -> str:
        y = self.village_year()
        if y is None:
            return "暂无村级台账数据。"
        recs = self.village_records[self.village_records["year"] == y]
        inputs = self._village_inputs()
        n = num(f"num-villages-count-{y}", len(recs), "个", inputs=inputs)
        s50 = num(f"num-villages-op50-{y}", villages.share(recs, "operating_income_ge_50"), "%",
                  inputs=inputs)
        s100 = num(f"num-villages-op100-{y}", villages.share(recs, "operating_income_ge_100"),
                   "%", inputs=inputs)
        median = num(f"num-villages-median-{y}", float(recs["operating_income"].median()), "万元",
                     inputs=inputs)
        return (f"{y}年村级台账覆盖{n}行政村。集体经济经营性收入50万元以上的行政村占{s50}，"
                f"100万元以上的占{s100}（目标分别为100%和60%以上），经营性收入中位数为{median}。"
                "以下各项占比均由逐村记录计算，不采用手工汇总数。")

    # ------------------------------------------------------------------ data quality

    def coverage_table(self) -> None:
        """Who reported for the period and when: per lead department."""
        used = observations.latest(self.observations)
        in_period = used[used["period"].map(lambda p: p.startswith(str(self.period.year)))]
        as_of = date.fromisoformat(self.params.as_of)
        rows, inputs = [], []
        for dept in self.registry.lead_departments:
            led = [i for i in self.registry.led_by(dept)]
            got = in_period[in_period["indicator_id"].isin({i.id for i in led})]
            # The period's rows counted, and the registry entries of the indicators without any.
            inputs += _frame_rows(got) + self._registry_rows(
                i.id for i in led if i.id not in set(got["indicator_id"]))
            reported = got["indicator_id"].nunique()
            late = got[got["received_at"].map(lambda t: bool(t) and t[:10] > as_of.isoformat())]
            missing = [narrative.zh_punct(i.name_zh) for i in led if i.id not in set(got["indicator_id"])]
            rows.append({"牵头单位": dept, "牵头指标": len(led), "已报送": reported,
                         "报送率": narrative.fmt_percent(reported / len(led)),
                         "逾期报送": len(late), "未报送指标": "、".join(missing[:4])
                         + ("等" if len(missing) > 4 else "") or "—"})
        provenance.record("table", inputs=inputs)
        display.show_table(pd.DataFrame(rows))

    def quality_narrative(self) -> str:
        used = observations.upto(observations.latest(self.observations), self.period)
        by_status = used["status"].value_counts()
        stored = observations.upto(self.observations, self.period)
        revised = stored.groupby(["indicator_id", "period"])["revision"].max()
        n_revised = int((revised > 1).sum())
        no_data = [a.indicator_id for a in self.assessments if a.status == "no_data"]
        pid = self.period.code
        # Each count lists the rows it counted: a revised figure every revision it has.
        keys = set(revised[revised > 1].index)
        history = stored[[k in keys for k in zip(stored["indicator_id"], stored["period"],
                                                 strict=True)]]
        parts = [f"{observations.STATUS_ZH[s]}"
                 + num(f"num-quality-{s}-{pid}", int(by_status.get(s, 0)), "条",
                       inputs=_frame_rows(used[used["status"] == s]))
                 for s in observations.STATUSES]
        rows = num(f"num-quality-rows-{pid}", len(used), "条", inputs=_frame_rows(used))
        n_revised = num(f"num-quality-revised-{pid}", n_revised, "条",
                        inputs=_frame_rows(history))
        no_data = num(f"num-quality-nodata-{pid}", len(no_data), "项",
                      inputs=self._registry_rows(no_data))
        return (f"本期评估使用观测值（各指标各期最新修订版）共{rows}，"
                f"其中{'、'.join(parts)}。有{n_revised}"
                f"经过修订，报告采用最新修订版，历次数值保留在数据库中。"
                f"另有{no_data}指标暂无数据，评估为“暂无数据”，不作推测。")

    def revision_table(self, top: int = REVISION_ROWS) -> None:
        """Revised figures, most revised first, each with its values revision by revision: the
        first `top`, then one row counting the rest (every revision stays in the store). One
        sort and one grouping, so the table stays cheap however many rows are corrected."""
        keys = ["indicator_id", "period"]
        obs = observations.upto(self.observations, self.period).sort_values([*keys, "revision"])
        history = obs.groupby(keys, sort=True).agg(rev=("revision", "max"),
                                                    values=("value", list))
        revised = history[history["rev"] > 1].sort_values("rev", ascending=False, kind="stable")
        shown, rest = revised.iloc[:top], revised.iloc[top:]
        rows = [{"指标": narrative.zh_punct(self.registry.indicators[ind_id].name_zh), "期间": period,
                 "修订次数": int(rev) - 1,
                 "历次数值": " → ".join(observations.format_value(v) for v in values)}
                for (ind_id, period), rev, values in zip(shown.index, shown["rev"],
                                                         shown["values"], strict=True)]
        if len(rest):
            rows.append({"指标": f"其余{len(rest)}条经修订的数据（未逐条列出）", "期间": "—",
                         "修订次数": int((rest["rev"] - 1).sum()),
                         "历次数值": "历次数值均保留在数据库中"})
        listed = set(revised.index)  # every revision of every revised figure, counted ones too
        provenance.record("table", inputs=_frame_rows(obs[[k in listed for k in zip(
            obs["indicator_id"], obs["period"], strict=True)]]))
        display.show_table(pd.DataFrame(rows, columns=["指标", "期间", "修订次数", "历次数值"]),
                           empty="本期没有经过修订的观测值：每个观测值都只报送过一次。")

    def plausibility_table(self) -> None:
        """Real values the plausibility checks flag (×10 jumps, fractions on %, falling totals,
        impossible values), each stored only after confirmation: the 备注 says why."""
        from planbook.store import plausibility

        used = observations.upto(observations.latest(self.observations), self.period)
        flags = plausibility.series_flags(self.registry, used)
        rows = [{"指标": narrative.zh_punct(self.registry.indicators[f.indicator_id].name_zh), "期间": f.period,
                 "提示": f.text, "备注": note or "以 --confirm 确认"} for f, note in flags]
        # A flag rests on its row and on the earlier one it was compared with.
        flagged = {(f.indicator_id, str(p)) for f, _ in flags
                   for p in (f.period, f.reference_period) if p}
        provenance.record("table", inputs=_frame_rows(used[[k in flagged for k in zip(
            used["indicator_id"], used["period"], strict=True)]]))
        display.show_table(pd.DataFrame(rows, columns=["指标", "期间", "提示", "备注"]),
                           empty="本期没有数值合理性提示：入库的数值均未触发合理性检查（示例数据同样检查）。")

    def files_table(self) -> None:
        """Every input with its sha256: registry files whole; for the store and the village
        records, the rows this report can use (received by as_of, periods up to its own)."""
        root = paths.project_root()

        def name(f: Path) -> str:
            return f.relative_to(root).as_posix() if f.is_relative_to(root) else str(f)

        rows = [{"文件": name(f), "SHA256": observations.sha256_file(f)}
                for f in self.registry.files.values() if f.is_file()]
        used = observations.input_hashes(self.data, as_of=self.params.as_of, period=self.period)
        rows += [{"文件": f"{name(f)}（截至{self.params.as_of}接收的本期及以前数据行）", "SHA256": h}
                 for f, h in used.items()]
        # On paper the hash is shortened to fit the page; the HTML table has it in full.
        short = [{"文件": r["文件"], "SHA256（前16位，全文见HTML版）": r["SHA256"][:16] + "…"}
                 for r in rows]
        provenance.record("table", inputs=[])
        display.show_table(pd.DataFrame(rows), pdf=pd.DataFrame(short))

    # ------------------------------------------------------------------ plan appendix

    def registry_table(self, chapter: str) -> None:
        rows = []
        for ind in self.registry.indicators.values():
            if ind.chapter != chapter:
                continue
            rows.append({"编号": ind.id.removeprefix("ind_"), "条目": ind.path,
                         "指标": narrative.zh_punct(ind.name_zh),
                         "类型": f"{KIND_ZH[ind.kind]}（{RULE_ZH[ind.judged_by]}）",
                         "目标": narrative.targets_text(ind),
                         "牵头单位": f"{ind.lead}（{self.registry.lead_status(ind)}）",
                         "方案原文": "；".join(f"“{q}”" for q in ind.quotes)})
        provenance.record("table", inputs=self._registry_rows(
            i.id for i in self.registry.indicators.values() if i.chapter == chapter))
        frame = pd.DataFrame(rows)
        paper = frame.assign(编号=frame["编号"].map(display.breakable_id)) if rows else frame
        display.show_table(frame, pdf=paper)




# ---------------------------------------------------------------------- monthly briefing

LIGHT_TEXT = display.LIGHT_TEXT


class Briefing(Report):
    """The monthly progress briefing (晾晒通报) of 六(四): lights by department, month by month."""

    @cached_property
    def previous(self) -> dict[str, Assessment]:
        prev = self.period.previous()
        return {a.indicator_id: a for a in self.assess(prev)}

    def overview(self) -> str:
        pid = self.period.code
        counts = {light: [a for a in self.assessments if a.light == light]
                  for light in ("green", "yellow", "red", "grey")}
        parts = [f"{display.LIGHT_ZH[k]}"
                 + num(f"num-brief-{k}-{pid}", len(v), "项", inputs=self._counted_rows(v))
                 for k, v in counts.items()]
        new_red = [a for a in self.assessments
                   if a.light == "red" and self.previous[a.indicator_id].light != "red"]
        recovered = [a for a in self.assessments if a.light == "green"
                     and self.previous[a.indicator_id].light in ("yellow", "red")]
        prev = self.period.previous()

        def moved(ident: str, items: list[Assessment]) -> str:
            # A change of light rests on this month's rows and the previous month's.
            rows = [r for a in items for r in (*a.inputs, *self.previous[a.indicator_id].inputs)]
            return num(f"num-brief-{ident}-{pid}", len(items), "项", inputs=rows)

        total = num(f"num-brief-total-{pid}", len(self.assessments), "项",
                    inputs=self._counted_rows(self.assessments))
        text = (f"截至{self.period.end_label_zh}，方案{total}"
                f"监测指标中，{'、'.join(parts)}。与{prev.label_zh}相比，新增红灯"
                f"{moved('newred', new_red)}，转为绿灯{moved('recovered', recovered)}。")
        if new_red:
            text += "\n\n新增红灯：" + "；".join(f"{a.name}（{a.lead}）" for a in new_red) + "。"
        if recovered:
            text += "\n\n转为绿灯：" + "；".join(f"{a.name}（{a.lead}）" for a in recovered) + "。"
        text += ("\n\n说明：按月报送的年度指标以当年累计数对照全年目标的时序进度评估；"
                 "不按月报送的指标沿用最近一期数据，其评估依据中注明数据时点。")
        return text

    def schedule_text(self, a: Assessment) -> str:
        """What the schedule asks for, at the date the light was judged (the latest data's
        period end, named when earlier than the month): the 应达 the light compares with."""
        ind = self._ind(a)
        if a.kind == "milestone":
            return f"{ind.final_target.year}年底前完成"
        if a.target_value is None or a.status == "not_assessed":
            return "—"
        when = self._due_when(a)
        when = f"按{when}：" if when else ""
        if a.due_value is not None and a.method == "schedule":
            return (f"{when}时序进度{narrative.fmt_percent(a.due_share)}，"
                    f"应达{fmt_number(a.due_value, a.unit)}")
        if a.due_value is not None and a.method == "annual_ytd":
            m = round((a.due_share or 0) * 12)
            return f"{when}年内累计应达{fmt_number(a.due_value, a.unit)}（全年目标的{m}/12）"
        op = a.target_op or ">="
        if a.kind == "annual" or a.target_every_year:
            return fmt_target(op, a.target_value, a.unit, a.target_year or 2027, every_year=True)
        return fmt_target(op, a.target_value, a.unit, a.target_year or 2027)

    def change_text(self, a: Assessment) -> str:
        b = self.previous[a.indicator_id]
        if a.latest_value is None or b.latest_value is None or a.latest_period == b.latest_period:
            return "—（本月无新数据）" if a.latest_value is not None else "—"
        if a.sample != b.sample:  # never a real value against a sample one
            return "—（上月为示例数据，不作比较）" if b.sample else "—（本月为示例数据）"
        if a.kind == "milestone":
            return f"{b.status_zh} → {a.status_zh}"
        return narrative.fmt_change(a.latest_value - b.latest_value, a.unit,
                                    max(abs(a.latest_value), abs(b.latest_value)))

    def department_blocks(self) -> str:
        """One block per lead department: its indicators' lights, values against the schedule,
        change since last month, and its milestones due this year or overdue."""
        pid = self.period.code
        out = []
        for dept in self.registry.lead_departments:
            items = [self.by_id[i.id] for i in self.registry.led_by(dept)]
            lights = {k: sum(1 for a in items if a.light == k) for k in LIGHT_TEXT}
            code = self.registry.departments[dept].code
            rows = self._counted_rows(items)
            n = num(f"num-brief-{code}-{pid}", len(items), "项", inputs=rows)
            head = provenance.quote(f"num-brief-{code}-lights-{pid}", "、".join(
                f"{display.LIGHT_ZH[k]}{v}项" for k, v in lights.items() if v), inputs=rows)
            out.append(f"### {dept}\n\n牵头{n}：{head}。\n")
            out.append("| 指标 | 灯号 | 最新值 | 进度要求 | 较上月 |")
            # Dash counts set the column widths (the line is wider than pandoc's 72 columns,
            # so they always apply): 指标 29%, 灯号 16%, 最新值 19%, 进度要求 19%, 较上月 17%.
            out.append("|:---------------------|:-----------|:-------------|:-------------|"
                       ":------------|")
            order = {"red": 0, "yellow": 1, "green": 2, "grey": 3}
            for a in sorted(items, key=lambda a: (order[a.light], a.indicator_id)):
                out.append(f"| {a.name} | {LIGHT_TEXT[a.light]} {a.status_zh} | "
                           f"{self._latest_text(a)} | {self.schedule_text(a)} | "
                           f"{self.change_text(a)} |")
            due = [a for a in items if a.kind == "milestone" and (
                a.status == "overdue" or (a.target_year == self.period.year
                                          and a.status not in DONE))]
            out.append("")
            if due:
                out.append("到期或逾期的节点任务：" + "；".join(
                    f"{a.name}（{a.status_zh}）" for a in due) + "。")
            out.append("")
            out.append(self.monthly_progress(dept))  # the department's own words, if any
        return "\n".join(out)

    def due_indicators(self) -> list[tuple[Indicator, list[str]]]:
        """Indicators a figure is due for this month, with the periods that would satisfy it.

        Monthly indicators are due every month; quarterly ones in a quarter's last month; annual
        ones in March, for the previous year (the annual report's data are as of 31 March).
        """
        p = self.period
        out = []
        for ind in self.registry.indicators.values():
            if ind.villages:
                continue  # computed from village records, not reported
            if ind.frequency == "monthly":
                out.append((ind, [p.code]))
            elif ind.frequency == "quarterly" and p.number % 3 == 0:
                out.append((ind, [f"{p.year}-Q{p.number // 3}"]))  # intake takes no month
            elif ind.frequency == "annual" and p.number == 3:
                out.append((ind, [str(p.year - 1)]))
        return out

    def missing(self) -> list[tuple[Indicator, list[str]]]:
        """未报送: due indicators with no figure (any revision) for the due period."""
        have = set(zip(self.observations["indicator_id"], self.observations["period"],
                       strict=True))
        return [(ind, periods) for ind, periods in self.due_indicators()
                if not any((ind.id, q) in have for q in periods)]

    def missing_table(self) -> None:
        rows = [{"指标": narrative.zh_punct(ind.name_zh), "牵头单位": ind.lead, "报送频率": FREQ_ZH[ind.frequency],
                 "应报期间": " 或 ".join(periods)} for ind, periods in self.missing()]
        # No data row stands for a missing figure: the registry entries name the indicators.
        provenance.record("table", inputs=self._registry_rows(
            ind.id for ind, _ in self.missing()))
        display.show_table(pd.DataFrame(rows, columns=["指标", "牵头单位", "报送频率", "应报期间"]))

    def missing_sentence(self) -> str:
        missing = self.missing()
        due = self.due_indicators()
        pid = self.period.code
        depts = sorted({ind.lead for ind, _ in missing}, key=self.registry.department_order)
        due_n = num(f"num-brief-due-{pid}", len(due), "项",
                    inputs=self._registry_rows(ind.id for ind, _ in due))
        missing_n = num(f"num-brief-missing-{pid}", len(missing), "项",
                        inputs=self._registry_rows(ind.id for ind, _ in missing))
        text = f"本月应报送数据的指标{due_n}，未报送{missing_n}"
        return text + (f"，涉及{'、'.join(depts)}。" if depts else "，全部按时报送。")


FREQ_ZH = {"monthly": "按月", "quarterly": "按季", "annual": "按年"}
