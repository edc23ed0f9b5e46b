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
from planbook.hashing import ByContent, sha256_file
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
        problems.append(Problem("文件不存在", file=str(path),
                                expected="从 git 恢复该文件"))
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
        problems.append(Problem("顶层应为条目的列表（每条以“- ”开头）",
                                file=str(path)))
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
                self.problem("缺少该字段", name)
            return default
        value = self.raw[name]
        if kind is str and not isinstance(value, str):
            self.problem("应为文字", name, value)
            return default
        if kind is list:
            value = value if isinstance(value, list) else [value]
        return value


def _entries(path: Path, problems: list[Problem]) -> Iterator[tuple[dict, _Entry]]:
    """Each mapping of a registry file with its problem-recording accessor; an entry that is
    not a mapping is recorded as a problem and skipped."""
    for n, raw in enumerate(_read_yaml(path, problems)):
        if not isinstance(raw, dict):
            problems.append(Problem("条目应为“字段: 值”的映射", file=str(path),
                                    entry=f"#{n + 1}"))
            continue
        yield raw, _Entry(raw, path, problems, n)


def _number(entry: _Entry, raw, field_name: str) -> float | None:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        entry.problem("应为数字", field_name, raw)
        return None
    return float(raw)


def _lead_stated(e: _Entry) -> bool:
    """lead_stated, required on every indicator and project: true or false, nothing else."""
    value = e.raw.get("lead_stated")
    if value is None:
        e.problem("缺少该字段", "lead_stated",
                  expected="true（方案原文明确牵头单位）或 false（推定）")
        return False
    if not isinstance(value, bool):
        e.problem("应为 true 或 false", "lead_stated", value)
        return False
    return value


def _load_departments(path: Path, problems: list[Problem]) -> dict[str, Department]:
    out: dict[str, Department] = {}
    seen_alias: dict[str, str] = {}
    for _raw, e in _entries(path, problems):
        name = e.get("name")
        dtype = e.get("type")
        if dtype and dtype not in DEPARTMENT_TYPES:
            e.problem("未知的单位类型", "type", dtype, " / ".join(DEPARTMENT_TYPES))
        if not name:
            continue
        if name in out:
            e.problem("单位名称重复", "name", name)
            continue
        aliases = tuple(str(a) for a in e.get("aliases", list, required=False, default=[]))
        for spelling in (name, *aliases):
            if spelling in seen_alias:
                e.problem(f"该写法已用于 {seen_alias[spelling]}", "aliases", spelling)
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
            e.problem("不是方案条目编号", "path", ipath, "如 三(一)1、四(二)、二")
        kind = e.get("kind")
        if kind and kind not in KINDS:
            e.problem("未知的指标类型", "kind", kind, " / ".join(KINDS))
        direction = e.get("direction")
        if direction and direction not in DIRECTIONS:
            e.problem("未知的方向", "direction", direction, " / ".join(DIRECTIONS))
        frequency = e.get("frequency", required=False, default="annual")
        if frequency not in FREQUENCIES:
            e.problem("未知的频度", "frequency", frequency, " / ".join(FREQUENCIES))
        quotes = [str(q) for q in e.get("quote", list, default=[])]
        for q in quotes:
            if q not in plan_text:
                e.problem("引文不是 plan.txt 原文的一段", "quote", q,
                          "从 data/plan/plan.txt 逐字复制该句")
        lead = e.get("lead")
        co = [str(c) for c in e.get("co", list, required=False, default=[])]
        for dept_field, names in (("lead", [lead] if lead else []), ("co", co)):
            for d in names:
                if d not in departments:
                    e.problem("未知的单位", dept_field, d, "departments.yaml 中的规范名称")
        lead_basis = e.get("lead_basis")
        lead_stated = _lead_stated(e)
        baseline = None
        if raw.get("baseline") is not None:
            b = raw["baseline"]
            if not isinstance(b, dict) or "value" not in b or "year" not in b:
                e.problem("基期值须有 value 和 year", "baseline", b)
            else:
                value = _number(e, b["value"], "baseline.value")
                if value is not None:
                    baseline = Baseline(value=value, year=int(b["year"]))
        targets = []
        for t in e.get("targets", list, default=[]):
            if not isinstance(t, dict) or "year" not in t:
                e.problem("目标须有 year（以及 value、op）", "targets", t)
                continue
            year = t["year"]
            if not isinstance(year, int) or not FIRST_YEAR <= year <= LAST_YEAR:
                e.problem("目标年份不在方案期内", "targets.year", year,
                          f"{FIRST_YEAR}–{LAST_YEAR}")
                continue
            op = t.get("op", ">=")
            if op not in OPS:
                e.problem("未知的比较符", "targets.op", op, " / ".join(OPS))
            value = None
            if kind != "milestone" or "value" in t:
                if "value" not in t:
                    e.problem("目标缺少 value", "targets.value")
                    continue
                value = _number(e, t["value"], "targets.value")
            targets.append(Target(value=value, year=year, op=op,
                                  every_year=bool(t.get("every_year", False)),
                                  year_inferred=bool(t.get("year_inferred", False))))
        rule = e.get("rule", required=False, default="")
        rule_basis = e.get("rule_basis", required=False)
        if rule and rule not in RULES:
            e.problem("未知的评估规则", "rule", rule, " / ".join(RULES))
        elif rule in ("schedule", "annual", "milestone", "growth") and kind in _DEFAULT_RULE \
                and rule != _DEFAULT_RULE[kind]:
            e.problem(f"评估规则 {rule} 不适用于类型为 {kind} 的指标", "rule", rule,
                      f"删去该字段（该类型的规则为 {_DEFAULT_RULE[kind]}），或 bottom_line / info")
        elif rule in ("bottom_line", "info"):
            if kind in ("milestone", "cumulative") and rule == "bottom_line":
                e.problem("底线是每年都须保持的水平，不适用于该类型", "rule", rule,
                          "只用于 level、share、ceiling 或 annual 类型的指标")
            if not rule_basis:
                e.problem("缺少该字段", "rule_basis",
                          expected="方案原文中要求该规则的字句（确保、稳定在……）")
            elif not any(rule_basis in q for q in quotes):
                e.problem("rule_basis 不在该指标的引文中", "rule_basis", rule_basis,
                          "从该指标的 quote 逐字复制")
        if rule == "bottom_line":  # a line is held every year, whatever the file says
            targets = [replace(t, every_year=True) for t in targets]
        if not ind_id or not ipath or not kind or not lead or kind not in KINDS:
            continue
        if not targets and not any(p.entry == e.id and p.field and p.field.startswith("targets")
                                   for p in problems):
            e.problem("没有目标", "targets", expected="至少一条 {value, year, op}")
            continue
        if not targets:
            continue
        if ind_id in out:
            e.problem("编号重复", "id", ind_id)
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
                e.problem("未知的单位", "departments", d, "departments.yaml 中的规范名称")
        dept_raw = e.get("departments_raw", required=False)
        if dept_raw and dept_raw not in plan_text:
            e.problem("departments_raw 不是 plan.txt 的原文", "departments_raw", dept_raw,
                      "从 data/plan/plan.txt 逐字复制")
        inds = [str(i) for i in e.get("indicators", list, required=False, default=[])]
        for i in inds:
            if i not in indicators:
                e.problem("未知的指标", "indicators", i)
        if not task_id or not title or not chapter:
            continue
        if task_id in out:
            e.problem("编号重复", "id", task_id)
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
                e.problem("未知的字段", name, expected="、".join(PROJECT_FIELDS))
        pid = e.get("id")
        if pid and not _PROJECT_ID.match(pid):
            e.problem("不是项目编号", "id", pid, "prj_ 加小写英文字母、数字和下划线")
        quote = e.get("quote")
        if quote and quote not in plan_text:
            e.problem("引文不是 plan.txt 原文的一段", "quote", quote,
                      "从 data/plan/plan.txt 逐字复制")
        task = e.get("task")
        if task and task not in tasks:
            e.problem("未知的任务条目", "task", task, "tasks.yaml 中的编号，如 三(二)1")
        lead = e.get("lead")
        co = [str(c) for c in e.get("co", list, required=False, default=[])]
        for dept_field, names in (("lead", [lead] if lead else []), ("co", co)):
            for d in names:
                if d not in departments:
                    e.problem("未知的单位", dept_field, d, "departments.yaml 中的规范名称")
        lead_basis = e.get("lead_basis")
        lead_stated = _lead_stated(e)
        stage = e.get("target_stage")
        if stage and stage not in STAGES:
            e.problem("未知的项目阶段", "target_stage", stage, " / ".join(STAGES))
        year = raw.get("target_year")
        if isinstance(year, bool) or not isinstance(year, int) or not (
                FIRST_YEAR <= year <= LAST_YEAR):
            e.problem("目标年份不在方案期内", "target_year", year,
                      f"{FIRST_YEAR}–{LAST_YEAR} 年间的年份")
            year = None
        inferred = raw.get("year_inferred", False)
        if not isinstance(inferred, bool):
            e.problem("应为 true 或 false", "year_inferred", inferred)
        elif not inferred and year and quote and f"{year}年" not in quote:
            e.problem("引文中没有该年份", "target_year", year,
                      "year_inferred: true，或改用写明该年份的引文")
        indicator = e.get("indicator", required=False)
        if indicator is not None:
            ind = indicators.get(indicator)
            if ind is None:
                e.problem("未知的指标", "indicator", indicator)
            elif ind.kind != "milestone":
                e.problem("不是节点任务类指标", "indicator", indicator,
                          "kind 为 milestone 的指标")
        if not all((pid, quote, task, lead, stage, year)) or pid in out:
            if pid in out:
                e.problem("编号重复", "id", pid)
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
                problem(f"牵头单位不在方案为 {items} 列出的单位中",
                        "lead", entry.lead, f"按职责从 {'、'.join(named)} 中选一个，并在 "
                        "lead_basis 中写明理由")
                continue
            pool, order = named, [d for d in named if d != entry.lead]
            if list(entry.co) != order:
                problem(f"co 不是方案为 {items} 列出的其余单位（按原文顺序）", "co",
                        list(entry.co), "[" + ", ".join(order) + "]")
            if entry.lead_stated and named != (entry.lead,):
                problem(f"方案为 {items} 列出 {len(named)} 个单位，牵头单位是推定的，不是原文明确的",
                        "lead_stated", True,
                        "false（工作专班确认后在 leads_confirmed.yaml 中记一条确认）")
        else:
            if entry.lead_stated:
                problem(f"方案没有为 {items} 列出单位，不可能原文明确牵头单位",
                        "lead_stated", True, "false")
            if not entry.lead_basis:
                continue  # reported as a missing field
            pool = _named(tasks, _cited_items(entry.lead_basis, tasks))
            if entry.lead not in pool:
                problem(f"方案没有为 {items} 列出单位：lead_basis 须引用列有 {entry.lead} 的方案条目",
                        "lead_basis", entry.lead_basis,
                        "引用这样一个条目的句子，如 六(一)（农业农村局、发改局牵头），或相关任务条目"
                        "如 四(三)3")
                continue
            stray = [d for d in entry.co if d not in pool or d == entry.lead]
            if stray or list(entry.co) != [d for d in pool if d in entry.co]:
                problem("co 须是所引方案条目列出的其他单位（按原文顺序）",
                        "co", list(entry.co), "[" + ", ".join(d for d in pool
                                                               if d != entry.lead) + "] 或其中几个")
        linked = indicators.get(entry.indicator) if indicators and getattr(
            entry, "indicator", None) else None
        if linked is not None and linked.lead != entry.lead:
            problem(f"跟踪该项目的节点任务指标 {linked.id} 由 {linked.lead} 牵头", "lead",
                    entry.lead, f"{linked.lead}（两者牵头单位相同）")


def _load_confirmations(path: Path, problems: list[Problem], indicators: dict[str, Indicator],
                        projects: dict[str, Project]) -> dict[str, LeadConfirmation]:
    import datetime as dt

    out: dict[str, LeadConfirmation] = {}
    for raw, e in _entries(path, problems):
        for name in raw:
            if name not in CONFIRMATION_FIELDS:
                e.problem("未知的字段", name, expected="、".join(CONFIRMATION_FIELDS))
        cid, lead, by = e.get("id"), e.get("lead"), e.get("confirmed_by")
        note = e.get("note", required=False, default="")
        entry = indicators.get(cid) or projects.get(cid) if cid else None
        if cid and entry is None:
            e.problem("未知的指标或项目编号", "id", cid,
                      "indicators.yaml 或 projects.yaml 中的编号（planbook plan --leads 列出）")
        if entry is not None and lead and lead != entry.lead:
            e.problem(f"确认的牵头单位与登记的牵头单位 {entry.lead} 不同", "lead",
                      lead, f"{entry.lead}；如工作专班确定由 {lead} 牵头，先改登记中 {cid} 的 "
                      "lead、co 和 lead_basis")
        date = raw.get("date")
        if isinstance(date, str):
            try:
                date = dt.date.fromisoformat(date)
            except ValueError:
                pass
        if date is None:
            e.problem("缺少该字段", "date", expected="YYYY-MM-DD")
        elif not isinstance(date, dt.date) or isinstance(date, dt.datetime):
            e.problem("不是日期", "date", raw.get("date"), "YYYY-MM-DD")
            date = None
        elif date < dt.date(2023, 4, 6):
            e.problem("确认日期早于方案印发（2023-04-06）", "date",
                      date.isoformat(), "工作专班确认牵头单位的日期")
            date = None
        if cid in out:
            e.problem("重复的确认", "id", cid, "每个指标或项目一条")
            continue
        if entry is not None and lead == entry.lead and by and date:
            out[cid] = LeadConfirmation(id=cid, lead=lead, confirmed_by=by,
                                        date=date.isoformat(), note=note)
    return out


_REGISTRY_FILES = ("plan.txt", "departments.yaml", "indicators.yaml", "tasks.yaml",
                   "projects.yaml", "leads_confirmed.yaml")
_LOADED = ByContent()  # the last registry loaded, by its files' content


def load_registry(data: Path | None = None) -> Registry:
    """Load and validate data/plan/; every problem found is reported at once in a RegistryError.

    A build asks for the registry five or six times (each month of a range as often): it is
    parsed and checked once while data/plan/'s files hold the same bytes. Each caller gets
    its own Registry over the same frozen entries."""
    from planbook import paths

    plan = paths.plan_dir(data or paths.data_dir())
    try:
        # the path as given too: the Registry's `files` carry it (manifests name them)
        key = (plan, plan.resolve(), tuple((name, sha256_file(plan / name))
                                           for name in _REGISTRY_FILES
                                           if (plan / name).is_file()))
    except OSError:  # unreadable: the load names the file
        registry = _load_registry(plan)
    else:
        registry = _LOADED.get(key, lambda: _load_registry(plan))
    return replace(registry, **{f: dict(getattr(registry, f)) for f in (
        "indicators", "tasks", "departments", "files", "projects", "confirmations")})


def _load_registry(plan: Path) -> Registry:
    problems: list[Problem] = []
    plan_file = plan / "plan.txt"
    if not plan_file.is_file():
        raise RegistryError(f"缺少方案原文 {plan_file}",
                            hint="把方案全文复制到 data/plan/plan.txt")
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
            problems.append(Problem("没有任务条目列出该指标", file=str(files["indicators"]),
                                    entry=ind_id, field="id",
                                    expected="在 tasks.yaml 中所属任务的 indicators 下列出它"))
    if problems:
        raise RegistryError(f"方案登记（data/plan/）有 {len(problems)} 处问题", problems=problems,
                            hint="改正 data/plan/ 中列出的条目，再运行 planbook plan 检查")
    return Registry(indicators=indicators, tasks=tasks, departments=departments,
                    plan_text=plan_text, files={"plan": plan_file, **files},
                    projects=projects, confirmations=confirmations)
