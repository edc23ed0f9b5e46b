"""The plan as data: indicators, targets, tasks and departments, loaded from data/plan/.

This module is the one place the registry schema and the Chinese meaning of each field live.

indicators.yaml, one mapping per indicator:
    id          指标编号      stable snake_case id
    path        条目          the plan's numbering of the item that states it, e.g. 三(一)1
    also_paths  另见条目      other items stating the same target
    name_zh     指标名称      name_en  English name
    unit        计量单位      the plan's own unit (亿元, %, 个 …); "" for milestones
    kind        指标类型      level 水平值 / cumulative 累计值 / annual 年度值 / share 比率 /
                              ceiling 上限值 / milestone 节点任务
    direction   期望方向      increase 越高越好 / decrease 越低越好 / none
    frequency   报送频率      annual / quarterly / monthly
    baseline    基期值        {value 数值, year 年份}, only where the plan states one
    targets     目标值        [{value 数值, year 目标年份, op 比较, every_year 每年}]; op is
                              >= 不低于/以上, <= 不高于/以内, = 等于, and the strict > 超过/突破,
                              < 优于 (a ceiling) where the plan's word excludes the number itself.
                              `value` is printed at the precision written here (99.98 → 99.98%)
    rule        评估规则      how the target is judged, default by kind (level/share/ceiling →
                              growth 增速比法, cumulative → schedule 时序进度法, annual → annual
                              逐年考核, milestone → milestone 节点任务); set explicitly to
                              bottom_line 底线/保持 (确保, 稳定在, 持续巩固: held every year, any
                              year below the line is red; its targets are every_year) or info
                              说明性 (a statement that sets no target: shown, not judged)
    rule_basis  规则依据      the plan's words that call for bottom_line or info (a substring of
                              the quote); required with those rules
    lead        牵头单位      the body whose remit the indicator is, one of the departments the plan
                              names for its items (path, also_paths); where these name none (二, 六(二))
                              the headline rule: a body named by a plan item that lead_basis cites
    co          配合单位      the other departments named for its items, in plan order (canonical names)
    lead_basis  牵头依据      one Chinese line on every entry: why this body leads
    lead_stated 原文明确      true: the plan itself names the lead (its item names that body alone);
                              false: 推定, the lead is inferred by remit and awaits the 工作专班's
                              confirmation in leads_confirmed.yaml
    headline    总体目标      one of the eight headline targets of chapter 二
    quote       原文          verbatim substring(s) of plan.txt containing the number
    villages    村级口径      the village-record measure the share is computed from (villages.py)
tasks.yaml: id 条目编号, chapter 章, section 节, title 任务名称, departments 责任单位 (in plan order:
    the named bodies an indicator's or project's lead is chosen from; the first leads only the
    task's own statements),
    departments_raw 原文责任单位, indicators 指标.
departments.yaml: name 规范名称, full_name 全称, aliases 别称, type 类型
    (party 党委部门, government 政府部门, township 乡镇街道, enterprise 企业, zone 园区,
    institution 事业单位), code 文件代码 (ascii, names the department's observation file).
projects.yaml (optional; the named-project ledger), one mapping per project the plan names:
    id            项目编号      prj_ + ascii snake_case, unique
    name_zh       项目名称      the plan's words for the project; name_en  English name
    task          所属任务      a task id of tasks.yaml whose text names the project
    lead, co      牵头单位/配合单位  the lead by remit among the task's departments, the others in
                                plan order; a project a milestone indicator tracks has its lead
    lead_basis, lead_stated  牵头依据/原文明确  as for indicators
    target_stage  目标阶段      what the plan asks for by target_year: 谋划 (planning) / 前期
                                (preparatory work, applications) / 开工 (construction starts) /
                                在建 (under construction) / 完工 (completed, in service)
    target_year   目标年份      the plan's year, else its horizon 2027
    year_inferred 年份推定      true when target_year is not written in the plan
    stage_basis   阶段依据      which words of the quote give the target stage
    quote         原文          verbatim substring of plan.txt naming the project
    indicator     对应节点指标  optional: the milestone indicator tracking the same project
leads_confirmed.yaml (optional; the 工作专班's confirmations of inferred leads), one mapping each:
    id            编号          an indicator or project id
    lead          确认牵头单位  the lead confirmed: must equal the registry's lead
    confirmed_by  确认单位      who confirmed it (e.g. 工作专班)
    date          确认日期      YYYY-MM-DD
    note          说明          optional: the meeting, document or remark
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import yaml

from planbook.errors import EnvironmentFault, Problem, RegistryError, StoreDamaged
from planbook.plan.periods import FIRST_YEAR, LAST_YEAR

KINDS = ("level", "cumulative", "annual", "share", "ceiling", "milestone")
KIND_ZH = {"level": "水平值", "cumulative": "累计值", "annual": "年度值", "share": "比率",
           "ceiling": "上限值", "milestone": "节点任务"}
DIRECTIONS = ("increase", "decrease", "none")
FREQUENCIES = ("annual", "quarterly", "monthly")
OPS = (">=", "<=", "=", ">", "<")
#: op -> the sign printed for it (full-width strict signs sit well in Chinese text)
OP_SIGN = {">=": "≥", "<=": "≤", "=": "=", ">": "＞", "<": "＜"}
RULES = ("growth", "schedule", "annual", "bottom_line", "milestone", "info")
RULE_ZH = {"growth": "增速比法", "schedule": "时序进度法", "annual": "逐年考核",
           "bottom_line": "底线保持", "milestone": "节点任务", "info": "说明性表述（不评估）"}
_DEFAULT_RULE = {"level": "growth", "share": "growth", "ceiling": "growth",
                 "cumulative": "schedule", "annual": "annual", "milestone": "milestone"}
DEPARTMENT_TYPES = ("party", "government", "township", "enterprise", "zone", "institution")
# Units the plan counts in whole things; shares and money get decimals.
COUNT_UNITS = frozenset({"个", "家", "人", "名", "条", "座", "幢", "户", "人次", "所", "项"})
# Project stages in order; reaching a later stage than the target counts as reaching it.
STAGES = ("谋划", "前期", "开工", "在建", "完工")
PROJECT_FIELDS = ("id", "name_zh", "name_en", "task", "lead", "co", "lead_basis",
                  "lead_stated", "target_stage", "target_year", "year_inferred", "stage_basis",
                  "quote")
CONFIRMATION_FIELDS = ("id", "lead", "confirmed_by", "date", "note")
# What a lead rests on, as `planbook plan --leads` and the method appendix print it.
LEAD_STATED_ZH = {True: "原文明确", False: "推定"}
LEAD_STATUS = ("原文明确", "已确认", "待确认")
# A plan item id inside a lead_basis sentence: 四(三)3, 六(一), 五(一)1.
_ITEM_REF = re.compile(r"[二三四五六](?:\([一二三四五六七八九十]\))?\d*")
_PROJECT_ID = re.compile(r"^prj_[a-z0-9]+(_[a-z0-9]+)*$")
CHAPTERS = ("二", "三", "四", "五", "六")
CHAPTER_TITLES = {
    "二": "总体目标",
    "三": "全面提升县城承载能力",
    "四": "持续深化“千村示范、万村整治”工程",
    "五": "健全城乡融合发展体制机制",
    "六": "保障措施",
}
_PATH = re.compile(r"^(?P<chapter>[二三四五六])(?P<section>[（(][一二三四五六七八九十][）)])?(?P<item>\d+)?$")


@dataclass(frozen=True)
class Target:
    value: float | None
    year: int
    op: str
    every_year: bool = False
    year_inferred: bool = False

    def met_by(self, value: float) -> bool:
        if self.value is None:
            return value >= 1
        if self.op == ">=":
            return value >= self.value - 1e-9
        if self.op == "<=":
            return value <= self.value + 1e-9
        if self.op == ">":
            return value > self.value + 1e-9
        if self.op == "<":
            return value < self.value - 1e-9
        return abs(value - self.value) <= 1e-9

    @property
    def upper(self) -> bool:
        """A ceiling (<=, <): the value should stay at or under the target."""
        return self.op in ("<=", "<")


@dataclass(frozen=True)
class Baseline:
    value: float
    year: int


@dataclass(frozen=True)
class Indicator:
    id: str
    path: str
    name_zh: str
    name_en: str
    unit: str
    kind: str
    direction: str
    frequency: str
    targets: tuple[Target, ...]
    lead: str
    co: tuple[str, ...] = ()
    quotes: tuple[str, ...] = ()
    baseline: Baseline | None = None
    also_paths: tuple[str, ...] = ()
    headline: bool = False
    lead_basis: str | None = None
    villages: str | None = None
    lead_stated: bool = False
    rule: str = ""  # "" = the kind's default (`judged_by`)
    rule_basis: str | None = None

    @property
    def judged_by(self) -> str:
        """The assessment rule (RULES): the explicit `rule`, else the kind's default."""
        return self.rule or _DEFAULT_RULE[self.kind]

    @property
    def items(self) -> tuple[str, ...]:
        """The plan items that state the indicator, its own first."""
        return (self.path, *self.also_paths)

    @property
    def chapter(self) -> str:
        return self.path[0]

    @property
    def section(self) -> str:
        """三(一) for 三(一)1; 二 for a chapter-level path."""
        m = _PATH.match(self.path)
        return self.path[0] + (m["section"] or "") if m else self.path

    @property
    def final_target(self) -> Target:
        return max(self.targets, key=lambda t: t.year)

    def target_for(self, year: int) -> Target:
        """The target that governs a given year: the earliest target dated that year or later."""
        later = [t for t in self.targets if t.year >= year]
        return min(later, key=lambda t: t.year) if later else self.final_target

    @property
    def departments(self) -> tuple[str, ...]:
        return (self.lead, *self.co)


@dataclass(frozen=True)
class Task:
    id: str
    chapter: str
    title: str
    departments: tuple[str, ...]
    indicators: tuple[str, ...]
    section: str = ""
    chapter_title: str = ""
    section_title: str = ""
    departments_raw: str | None = None

    @property
    def lead(self) -> str | None:
        return self.departments[0] if self.departments else None


@dataclass(frozen=True)
class Department:
    name: str
    type: str
    full_name: str = ""
    aliases: tuple[str, ...] = ()
    code: str = ""


@dataclass(frozen=True)
class Project:
    """A project or facility the plan names in a task, with the stage it asks for."""

    id: str
    name_zh: str
    name_en: str
    task: str
    lead: str
    target_stage: str
    target_year: int
    quote: str
    co: tuple[str, ...] = ()
    year_inferred: bool = False
    stage_basis: str = ""
    indicator: str | None = None
    lead_basis: str = ""
    lead_stated: bool = False

    @property
    def chapter(self) -> str:
        return self.task[0]

    @property
    def items(self) -> tuple[str, ...]:
        return (self.task,)

    @property
    def departments(self) -> tuple[str, ...]:
        return (self.lead, *self.co)


@dataclass(frozen=True)
class LeadConfirmation:
    """The 工作专班's confirmation of one inferred lead (leads_confirmed.yaml)."""

    id: str
    lead: str
    confirmed_by: str
    date: str
    note: str = ""


@dataclass
class Registry:
    indicators: dict[str, Indicator]
    tasks: dict[str, Task]
    departments: dict[str, Department]
    plan_text: str
    files: dict[str, Path] = field(default_factory=dict)
    projects: dict[str, Project] = field(default_factory=dict)
    confirmations: dict[str, LeadConfirmation] = field(default_factory=dict)

    @cached_property
    def _alias_map(self) -> dict[str, str]:
        out = {}
        for d in self.departments.values():
            out[d.name] = d.name
            for a in d.aliases:
                out[a] = d.name
        return out

    def resolve_department(self, name: str) -> str | None:
        """Canonical name for any spelling the plan uses, or None."""
        return self._alias_map.get(name.strip())

    def indicator(self, indicator_id: str) -> Indicator:
        return self.indicators[indicator_id]

    def home(self, chapter: str) -> list[Indicator]:
        """Indicators whose own plan item (`path`) is in a chapter: the counting rule of every
        count in the report, so chapter totals add up to the number of indicators."""
        return [i for i in self.indicators.values() if i.chapter == chapter]

    def cross_listed(self, chapter: str) -> list[Indicator]:
        """Indicators a chapter also states (`also_paths`) whose home is another chapter."""
        return [i for i in self.in_chapter(chapter) if i.chapter != chapter]

    def in_chapter(self, chapter: str) -> list[Indicator]:
        """Indicators stated in a chapter, headline ones included in 二 and in their own chapter."""
        out = []
        for ind in self.indicators.values():
            paths = (ind.path, *ind.also_paths)
            if any(p[0] == chapter for p in paths) or (chapter == "二" and ind.headline):
                out.append(ind)
        return out

    def named_departments(self, items) -> tuple[str, ...]:
        """The departments the plan names for the given items, each once, in plan order."""
        return _named(self.tasks, items)

    def lead_status(self, entry: Indicator | Project) -> str:
        """原文明确 (the plan names the lead), 已确认 (confirmed) or 待确认 (inferred, open)."""
        if entry.lead_stated:
            return "原文明确"
        return "已确认" if entry.id in self.confirmations else "待确认"

    def led_by(self, department: str) -> list[Indicator]:
        return [i for i in self.indicators.values() if i.lead == department]

    @property
    def lead_departments(self) -> list[str]:
        return sorted({i.lead for i in self.indicators.values()}, key=self.department_order)

    def department_order(self, name: str) -> int:
        return list(self.departments).index(name) if name in self.departments else 10_000

    def tasks_of(self, indicator_id: str) -> list[Task]:
        return [t for t in self.tasks.values() if indicator_id in t.indicators]

    def tasks_in(self, chapter: str) -> list[Task]:
        """The task items of a plan chapter (三(一)1 …, 六(一) …), in plan order."""
        return [t for t in self.tasks.values() if t.chapter == chapter and t.id != "二"]

    def projects_of(self, task_id: str) -> list[Project]:
        return [p for p in self.projects.values() if p.task == task_id]

    def projects_in(self, chapter: str) -> list[Project]:
        return [p for p in self.projects.values() if p.chapter == chapter]

    def summary(self) -> dict:
        inds = list(self.indicators.values())
        by_chapter: dict[str, dict] = {}
        for ch in CHAPTERS:
            members = [i for i in inds if i.chapter == ch]
            sections: dict[str, int] = {}
            for i in members:
                sections[i.section] = sections.get(i.section, 0) + 1
            by_chapter[ch] = {"title": CHAPTER_TITLES[ch], "indicators": len(members),
                              "sections": sections}
        by_kind = {k: sum(1 for i in inds if i.kind == k) for k in KINDS}
        by_lead: dict[str, int] = {}
        for i in sorted(inds, key=lambda i: self.department_order(i.lead)):
            by_lead[i.lead] = by_lead.get(i.lead, 0) + 1
        quantified = [i for i in inds if i.kind != "milestone"]
        return {
            "indicators": len(inds),
            "quantified": len(quantified),
            "targets": sum(len(i.targets) for i in quantified),
            "milestones": by_kind["milestone"],
            "tasks": len(self.tasks),
            "departments": len(self.departments),
            "by_chapter": by_chapter,
            "by_kind": by_kind,
            "by_lead_department": by_lead,
            "projects": len(self.projects),
            "projects_by_stage": {st: sum(1 for p in self.projects.values()
                                          if p.target_stage == st) for st in STAGES},
            "projects_by_chapter": {ch: len(self.projects_in(ch)) for ch in CHAPTERS
                                    if self.projects_in(ch)},
        }


# ---------------------------------------------------------------- loading and validation

_YAML_FIX = "改正该行的 YAML 写法（缩进、引号、冒号），或从 git 恢复该文件"


def _read_yaml(path: Path, problems: list[Problem]) -> list:
    if not path.is_file():
        problems.append(Problem("file is missing", file=str(path)))
        return []
    # A file that is not YAML at all is damaged, not mistaken: exit 2 at once, naming the
    # line (a wrong entry is a RegistryError listing every one).
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
        # The C loader (when libyaml is present) is several times faster and just as safe.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(text, Loader=loader)  # noqa: S506
    except UnicodeDecodeError as exc:
        raise StoreDamaged.not_utf8(path, raw, exc, hint=_YAML_FIX) from None
    except yaml.YAMLError as exc:
        raise StoreDamaged.yaml(path, exc, hint=_YAML_FIX) from None
    except OSError as exc:
        raise EnvironmentFault.from_os(exc, path, doing="读取") from None
    if data is None:
        return []
    if not isinstance(data, list):
        problems.append(Problem("expected a list of entries at the top level", file=str(path)))
        return []
    return data


class _Entry:
    """Field access on one YAML mapping that records a located problem for each fault."""

    def __init__(self, raw: dict, file: Path, problems: list[Problem], index: int):
        self.raw = raw
        self.file = str(file)
        self.problems = problems
        self.id = str(raw.get("id") or raw.get("name") or f"#{index + 1}")

    def problem(self, message: str, field_name: str, value=None, expected=None) -> None:
        self.problems.append(Problem(message, file=self.file, entry=self.id, field=field_name,
                                     value=value, expected=expected))

    def get(self, name: str, kind=str, *, required: bool = True, default=None):
        if name not in self.raw or self.raw[name] is None or self.raw[name] == "" and required:
            if required:
                self.problem("missing field", name)
            return default
        value = self.raw[name]
        if kind is str and not isinstance(value, str):
            self.problem("expected text", name, value)
            return default
        if kind is list:
            value = value if isinstance(value, list) else [value]
        return value


def _entries(path: Path, problems: list[Problem]) -> Iterator[tuple[dict, _Entry]]:
    """Each mapping of a registry file with its problem-recording accessor; an entry that is
    not a mapping is recorded as a problem and skipped."""
    for n, raw in enumerate(_read_yaml(path, problems)):
        if not isinstance(raw, dict):
            problems.append(Problem("expected a mapping", file=str(path), entry=f"#{n + 1}"))
            continue
        yield raw, _Entry(raw, path, problems, n)


def _number(entry: _Entry, raw, field_name: str) -> float | None:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        entry.problem("expected a number", field_name, raw)
        return None
    return float(raw)


def _lead_stated(e: _Entry) -> bool:
    """lead_stated, required on every indicator and project: true or false, nothing else."""
    value = e.raw.get("lead_stated")
    if value is None:
        e.problem("missing field", "lead_stated",
                  expected="true (the plan itself names the lead) or false (inferred, 推定)")
        return False
    if not isinstance(value, bool):
        e.problem("expected true or false", "lead_stated", value)
        return False
    return value


def _load_departments(path: Path, problems: list[Problem]) -> dict[str, Department]:
    out: dict[str, Department] = {}
    seen_alias: dict[str, str] = {}
    for _raw, e in _entries(path, problems):
        name = e.get("name")
        dtype = e.get("type")
        if dtype and dtype not in DEPARTMENT_TYPES:
            e.problem("unknown department type", "type", dtype, " / ".join(DEPARTMENT_TYPES))
        if not name:
            continue
        if name in out:
            e.problem("duplicate department name", "name", name)
            continue
        aliases = tuple(str(a) for a in e.get("aliases", list, required=False, default=[]))
        for spelling in (name, *aliases):
            if spelling in seen_alias:
                e.problem(f"spelling already used by {seen_alias[spelling]}", "aliases", spelling)
            seen_alias[spelling] = name
        out[name] = Department(name=name, type=dtype or "", aliases=aliases,
                               full_name=e.get("full_name", required=False, default=""),
                               code=e.get("code", required=False, default=""))
    return out


def _load_indicators(path: Path, problems: list[Problem], plan_text: str,
                     departments: dict[str, Department]) -> dict[str, Indicator]:
    out: dict[str, Indicator] = {}
    for raw, e in _entries(path, problems):
        ind_id = e.get("id")
        ipath = e.get("path")
        if ipath and not _PATH.match(ipath):
            e.problem("not a plan item path", "path", ipath, "like 三(一)1, 四(二), 二")
        kind = e.get("kind")
        if kind and kind not in KINDS:
            e.problem("unknown kind", "kind", kind, " / ".join(KINDS))
        direction = e.get("direction")
        if direction and direction not in DIRECTIONS:
            e.problem("unknown direction", "direction", direction, " / ".join(DIRECTIONS))
        frequency = e.get("frequency", required=False, default="annual")
        if frequency not in FREQUENCIES:
            e.problem("unknown frequency", "frequency", frequency, " / ".join(FREQUENCIES))
        quotes = [str(q) for q in e.get("quote", list, default=[])]
        for q in quotes:
            if q not in plan_text:
                e.problem("quote is not a verbatim substring of plan.txt", "quote", q,
                          "copy the sentence from data/plan/plan.txt exactly")
        lead = e.get("lead")
        co = [str(c) for c in e.get("co", list, required=False, default=[])]
        for dept_field, names in (("lead", [lead] if lead else []), ("co", co)):
            for d in names:
                if d not in departments:
                    e.problem("unknown department", dept_field, d,
                              "a canonical name from departments.yaml")
        lead_basis = e.get("lead_basis")
        lead_stated = _lead_stated(e)
        baseline = None
        if raw.get("baseline") is not None:
            b = raw["baseline"]
            if not isinstance(b, dict) or "value" not in b or "year" not in b:
                e.problem("baseline needs value and year", "baseline", b)
            else:
                value = _number(e, b["value"], "baseline.value")
                if value is not None:
                    baseline = Baseline(value=value, year=int(b["year"]))
        targets = []
        for t in e.get("targets", list, default=[]):
            if not isinstance(t, dict) or "year" not in t:
                e.problem("target needs year (and value, op)", "targets", t)
                continue
            year = t["year"]
            if not isinstance(year, int) or not FIRST_YEAR <= year <= LAST_YEAR:
                e.problem("target year outside the plan", "targets.year", year,
                          f"{FIRST_YEAR}–{LAST_YEAR}")
                continue
            op = t.get("op", ">=")
            if op not in OPS:
                e.problem("unknown comparison", "targets.op", op, " / ".join(OPS))
            value = None
            if kind != "milestone" or "value" in t:
                if "value" not in t:
                    e.problem("target needs a value", "targets.value")
                    continue
                value = _number(e, t["value"], "targets.value")
            targets.append(Target(value=value, year=year, op=op,
                                  every_year=bool(t.get("every_year", False)),
                                  year_inferred=bool(t.get("year_inferred", False))))
        rule = e.get("rule", required=False, default="")
        rule_basis = e.get("rule_basis", required=False)
        if rule and rule not in RULES:
            e.problem("unknown rule", "rule", rule, " / ".join(RULES))
        elif rule in ("schedule", "annual", "milestone", "growth") and kind in _DEFAULT_RULE \
                and rule != _DEFAULT_RULE[kind]:
            e.problem(f"rule {rule} does not fit kind {kind}", "rule", rule,
                      f"omit it (the kind's rule is {_DEFAULT_RULE[kind]}), or bottom_line / info")
        elif rule in ("bottom_line", "info"):
            if kind in ("milestone", "cumulative") and rule == "bottom_line":
                e.problem("a bottom line is a level held every year", "rule", rule,
                          "use it on a level, share, ceiling or annual indicator")
            if not rule_basis:
                e.problem("missing field", "rule_basis",
                          expected="the plan's words calling for this rule (确保, 稳定在 …)")
            elif not any(rule_basis in q for q in quotes):
                e.problem("rule_basis is not in the quote", "rule_basis", rule_basis,
                          "copy the words from the indicator's quote")
        if rule == "bottom_line":  # a line is held every year, whatever the file says
            targets = [replace(t, every_year=True) for t in targets]
        if not ind_id or not ipath or not kind or not lead or kind not in KINDS:
            continue
        if not targets and not any(p.entry == e.id and p.field and p.field.startswith("targets")
                                   for p in problems):
            e.problem("no target", "targets", expected="at least one {value, year, op}")
            continue
        if not targets:
            continue
        if ind_id in out:
            e.problem("duplicate id", "id", ind_id)
            continue
        out[ind_id] = Indicator(
            id=ind_id, path=ipath, name_zh=e.get("name_zh", default=ind_id),
            name_en=e.get("name_en", default=""), unit=str(raw.get("unit") or ""), kind=kind,
            direction=direction or "none", frequency=frequency, targets=tuple(targets),
            lead=lead, co=tuple(co), quotes=tuple(quotes), baseline=baseline,
            also_paths=tuple(e.get("also_paths", list, required=False, default=[])),
            headline=bool(raw.get("headline", False)),
            lead_basis=lead_basis, lead_stated=lead_stated,
            villages=e.get("villages", required=False),
            rule=rule if rule in RULES else "", rule_basis=rule_basis,
        )
    return out


def _load_tasks(path: Path, problems: list[Problem], plan_text: str,
                departments: dict[str, Department], indicators: dict[str, Indicator]
                ) -> dict[str, Task]:
    out: dict[str, Task] = {}
    for raw, e in _entries(path, problems):
        task_id = e.get("id")
        title = e.get("title")
        chapter = e.get("chapter")
        depts = [str(d) for d in e.get("departments", list, required=False, default=[])]
        for d in depts:
            if d not in departments:
                e.problem("unknown department", "departments", d,
                          "a canonical name from departments.yaml")
        dept_raw = e.get("departments_raw", required=False)
        if dept_raw and dept_raw not in plan_text:
            e.problem("departments_raw is not verbatim in plan.txt", "departments_raw", dept_raw)
        inds = [str(i) for i in e.get("indicators", list, required=False, default=[])]
        for i in inds:
            if i not in indicators:
                e.problem("unknown indicator", "indicators", i)
        if not task_id or not title or not chapter:
            continue
        if task_id in out:
            e.problem("duplicate id", "id", task_id)
            continue
        out[task_id] = Task(
            id=task_id, chapter=chapter, title=title, departments=tuple(depts),
            indicators=tuple(inds), section=str(raw.get("section") or ""),
            chapter_title=str(raw.get("chapter_title") or ""),
            section_title=str(raw.get("section_title") or ""), departments_raw=dept_raw)
    return out


def _load_projects(path: Path, problems: list[Problem], plan_text: str,
                   departments: dict[str, Department], indicators: dict[str, Indicator],
                   tasks: dict[str, Task]) -> dict[str, Project]:
    out: dict[str, Project] = {}
    for raw, e in _entries(path, problems):
        for name in raw:
            if name not in (*PROJECT_FIELDS, "indicator"):
                e.problem("unknown field", name, expected=", ".join(PROJECT_FIELDS))
        pid = e.get("id")
        if pid and not _PROJECT_ID.match(pid):
            e.problem("not a project id", "id", pid, "prj_ followed by ascii snake_case")
        quote = e.get("quote")
        if quote and quote not in plan_text:
            e.problem("quote is not a verbatim substring of plan.txt", "quote", quote,
                      "copy the words from data/plan/plan.txt exactly")
        task = e.get("task")
        if task and task not in tasks:
            e.problem("unknown task", "task", task, "an id of tasks.yaml, like 三(二)1")
        lead = e.get("lead")
        co = [str(c) for c in e.get("co", list, required=False, default=[])]
        for dept_field, names in (("lead", [lead] if lead else []), ("co", co)):
            for d in names:
                if d not in departments:
                    e.problem("unknown department", dept_field, d,
                              "a canonical name from departments.yaml")
        lead_basis = e.get("lead_basis")
        lead_stated = _lead_stated(e)
        stage = e.get("target_stage")
        if stage and stage not in STAGES:
            e.problem("unknown stage", "target_stage", stage, " / ".join(STAGES))
        year = raw.get("target_year")
        if isinstance(year, bool) or not isinstance(year, int) or not (
                FIRST_YEAR <= year <= LAST_YEAR):
            e.problem("target year outside the plan", "target_year", year,
                      f"a year {FIRST_YEAR}–{LAST_YEAR}")
            year = None
        inferred = raw.get("year_inferred", False)
        if not isinstance(inferred, bool):
            e.problem("expected true or false", "year_inferred", inferred)
        elif not inferred and year and quote and f"{year}年" not in quote:
            e.problem("the year is not in the quote", "target_year", year,
                      "year_inferred: true, or a quote that states the year")
        indicator = e.get("indicator", required=False)
        if indicator is not None:
            ind = indicators.get(indicator)
            if ind is None:
                e.problem("unknown indicator", "indicator", indicator)
            elif ind.kind != "milestone":
                e.problem("not a milestone indicator", "indicator", indicator,
                          "an indicator of kind: milestone")
        if not all((pid, quote, task, lead, stage, year)) or pid in out:
            if pid in out:
                e.problem("duplicate id", "id", pid)
            continue
        out[pid] = Project(
            id=pid, name_zh=e.get("name_zh", default=pid), name_en=e.get("name_en", default=""),
            task=task, lead=lead, co=tuple(co), target_stage=stage, target_year=year,
            quote=quote, year_inferred=bool(inferred),
            stage_basis=e.get("stage_basis", required=False, default=""), indicator=indicator,
            lead_basis=lead_basis or "", lead_stated=lead_stated)
    return out


def _named(tasks: dict[str, Task], items) -> tuple[str, ...]:
    out: list[str] = []
    for item in items:
        task = tasks.get(item)
        for d in task.departments if task else ():
            if d not in out:
                out.append(d)
    return tuple(out)


def _cited_items(basis: str, tasks: dict[str, Task]) -> list[str]:
    """The plan items a lead_basis cites that name departments (六(一), 四(三)3 …)."""
    text = basis.replace("（", "(").replace("）", ")")
    return [m for m in dict.fromkeys(_ITEM_REF.findall(text))
            if m in tasks and tasks[m].departments]


def _check_leads(entries, file: Path, tasks: dict[str, Task], problems: list[Problem],
                 indicators: dict[str, Indicator] | None = None) -> None:
    """Each lead is a department the plan names for the entry's items, co the others in plan
    order; where the items name none (二, 六(二)), the headline rule: the lead and co are named
    by a plan item the lead_basis cites. lead_stated only where the plan names the lead alone."""
    for entry in entries:
        def problem(message, field_name, value=None, expected=None, _id=entry.id):
            problems.append(Problem(message, file=str(file), entry=_id, field=field_name,
                                    value=value, expected=expected))

        items = "、".join(entry.items)
        named = _named(tasks, entry.items)
        if named:
            if entry.lead not in named:
                problem(f"the lead is not one of the departments the plan names for {items}",
                        "lead", entry.lead, f"one of {'、'.join(named)}, by remit, with a "
                        "lead_basis saying why")
                continue
            pool, order = named, [d for d in named if d != entry.lead]
            if list(entry.co) != order:
                problem(f"co is not the other departments the plan names for {items}, in plan "
                        "order", "co", list(entry.co), "[" + ", ".join(order) + "]")
            if entry.lead_stated and named != (entry.lead,):
                problem(f"the plan names {len(named)} departments for {items}, so the lead is "
                        "inferred, not stated", "lead_stated", True,
                        "false (and a confirmation in leads_confirmed.yaml once the 工作专班 "
                        "has confirmed it)")
        else:
            if entry.lead_stated:
                problem(f"the plan names no department for {items}, so it cannot state the lead",
                        "lead_stated", True, "false")
            if not entry.lead_basis:
                continue  # reported as a missing field
            pool = _named(tasks, _cited_items(entry.lead_basis, tasks))
            if entry.lead not in pool:
                problem(f"the plan names no department for {items}: the lead_basis must cite a "
                        f"plan item that names {entry.lead}", "lead_basis", entry.lead_basis,
                        "a sentence citing such an item, e.g. 六(一) (农业农村局、发改局牵头) or "
                        "the related task item like 四(三)3")
                continue
            stray = [d for d in entry.co if d not in pool or d == entry.lead]
            if stray or list(entry.co) != [d for d in pool if d in entry.co]:
                problem("co must be other departments of the cited plan item(s), in plan order",
                        "co", list(entry.co), "[" + ", ".join(d for d in pool
                                                               if d != entry.lead) + "] or fewer")
        linked = indicators.get(entry.indicator) if indicators and getattr(
            entry, "indicator", None) else None
        if linked is not None and linked.lead != entry.lead:
            problem(f"the milestone indicator {linked.id} tracking this project is led by "
                    f"{linked.lead}", "lead", entry.lead, f"{linked.lead} (the same lead for both)")


def _load_confirmations(path: Path, problems: list[Problem], indicators: dict[str, Indicator],
                        projects: dict[str, Project]) -> dict[str, LeadConfirmation]:
    import datetime as dt

    out: dict[str, LeadConfirmation] = {}
    for raw, e in _entries(path, problems):
        for name in raw:
            if name not in CONFIRMATION_FIELDS:
                e.problem("unknown field", name, expected=", ".join(CONFIRMATION_FIELDS))
        cid, lead, by = e.get("id"), e.get("lead"), e.get("confirmed_by")
        note = e.get("note", required=False, default="")
        entry = indicators.get(cid) or projects.get(cid) if cid else None
        if cid and entry is None:
            e.problem("unknown indicator or project id", "id", cid,
                      "an id of indicators.yaml or projects.yaml (`planbook plan --leads`)")
        if entry is not None and lead and lead != entry.lead:
            e.problem(f"the confirmed lead differs from the registry's lead {entry.lead}", "lead",
                      lead, f"{entry.lead}; if the 工作专班 decided on {lead}, change lead, co "
                      f"and lead_basis of {cid} in the registry first")
        date = raw.get("date")
        if isinstance(date, str):
            try:
                date = dt.date.fromisoformat(date)
            except ValueError:
                pass
        if date is None:
            e.problem("missing field", "date", expected="YYYY-MM-DD")
        elif not isinstance(date, dt.date) or isinstance(date, dt.datetime):
            e.problem("not a date", "date", raw.get("date"), "YYYY-MM-DD")
            date = None
        elif date < dt.date(2023, 4, 6):
            e.problem("confirmed before the plan was issued (2023-04-06)", "date",
                      date.isoformat(), "the date the 工作专班 confirmed the lead")
            date = None
        if cid in out:
            e.problem("duplicate confirmation", "id", cid, "one entry per indicator or project")
            continue
        if entry is not None and lead == entry.lead and by and date:
            out[cid] = LeadConfirmation(id=cid, lead=lead, confirmed_by=by,
                                        date=date.isoformat(), note=note)
    return out


def load_registry(data: Path | None = None) -> Registry:
    """Load and validate data/plan/; every problem found is reported at once in a RegistryError."""
    from planbook import paths

    plan = paths.plan_dir(data or paths.data_dir())
    problems: list[Problem] = []
    plan_file = plan / "plan.txt"
    if not plan_file.is_file():
        raise RegistryError(f"{plan_file}: the plan text is missing",
                            hint="copy the plan text to data/plan/plan.txt")
    plan_text = plan_file.read_text(encoding="utf-8")
    files = {name: plan / f"{name}.yaml" for name in ("departments", "indicators", "tasks")}
    departments = _load_departments(files["departments"], problems)
    indicators = _load_indicators(files["indicators"], problems, plan_text, departments)
    tasks = _load_tasks(files["tasks"], problems, plan_text, departments, indicators)
    projects: dict[str, Project] = {}
    if (plan / "projects.yaml").is_file():  # optional: a data package may name no projects
        files["projects"] = plan / "projects.yaml"
        projects = _load_projects(files["projects"], problems, plan_text, departments,
                                  indicators, tasks)
    _check_leads(indicators.values(), files["indicators"], tasks, problems)
    if projects:
        _check_leads(projects.values(), files["projects"], tasks, problems, indicators)
    confirmations: dict[str, LeadConfirmation] = {}
    if (plan / "leads_confirmed.yaml").is_file():  # optional: nothing confirmed yet
        files["leads_confirmed"] = plan / "leads_confirmed.yaml"
        confirmations = _load_confirmations(files["leads_confirmed"], problems, indicators,
                                            projects)
    claimed = {i for t in tasks.values() for i in t.indicators}
    for ind_id in indicators:
        if ind_id not in claimed:
            problems.append(Problem("no task claims this indicator", file=str(files["indicators"]),
                                    entry=ind_id, field="id",
                                    expected="list it under `indicators` of its task in tasks.yaml"))
    if problems:
        raise RegistryError(f"the plan registry has {len(problems)} problem(s)", problems=problems,
                            hint="correct the named entries in data/plan/ and run `planbook plan`")
    return Registry(indicators=indicators, tasks=tasks, departments=departments,
                    plan_text=plan_text, files={"plan": plan_file, **files},
                    projects=projects, confirmations=confirmations)
