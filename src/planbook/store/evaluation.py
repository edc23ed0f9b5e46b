"""The evaluator's judgement of each task: data/evaluation/<period>.yaml.

Written and reviewed by the analyst who writes the report, versioned in git like the
registry; never computed, never mixed with department text. The file:

    period: "2025"           报告期 (must match the file name)
    evaluator: 评估组         评估人 (who wrote the judgements)
    date: "2026-03-31"       评估日期
    status: reviewed         评估状态: reviewed 已审定 / draft 草稿 / sample 示例
    signoff: 征求意见稿       文稿状态: 征求意见稿 / 审定稿 (optional; printed in 评估组织与过程)
    conclusion: ……           总体结论, the evaluator's overall judgement (optional, ≤ 800 characters)
    organisation:            评估组织 (optional): printed in 评估组织与过程, the issuer on the cover
      issuer: 建德市发展和改革局   编制单位 (the body issuing the report)
      team: ……                评估组构成 (free text)
      methods: [部门自评, 座谈]  评估方式, each one of METHODS
      start: "2026-01-10"      评估起止日期
      end: "2026-03-31"
      sources: [……]            数据来源 (free text each: 统计公报/年鉴, 部门台账 ...)
    fields:                  per plan field (a chapter 二…六 or a section 三(一)), optionally
      - field: 三(一)          per lead department: the evaluator's 成效 / 问题 / 建议
        lead: 经信局           牵头单位 (optional; a department of departments.yaml)
        achievements: ……       主要成效 (each text ≤ 600 characters)
        problems: ……           存在问题及原因
        recommendations: ……    对策建议
    tasks:                   one entry per task judged (a task may be left out: 暂无评估意见)
      - task: 三(二)1         任务编号 (tasks.yaml)
        grade: 较好           评估等级, one of GRADES (the scale book/methodology.qmd defines)
        opinion: ……          评估意见, free text (≤ 600 characters), kept exactly as written
        reason: ……           偏离理由, optional (≤ 300 characters): why the grade departs from
                             the grade the task's lights imply (assess.grades); required then

Validation collects every problem with file, entry (the task id or #n) and field. The file
alone is checked by `parse_evaluation`; its grades against the period's lights by
`check_grades`, where the lights are known (the build's data check, the report itself): a
grade departing from the implied one needs a reason, and a task with no evidence at all (no
light with data, no department statement) cannot be 好.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from planbook import paths
from planbook.errors import EnvironmentFault, PlanbookError, Problem, StoreDamaged
from planbook.plan.registry import Registry

#: The fixed grade scale, best first, with what each grade means (book/methodology.qmd).
GRADES: dict[str, str] = {
    "好": "任务全面推进：量化指标均已达标或符合进度，点名项目达到或快于要求阶段，部门报送充分",
    "较好": "任务总体推进：多数指标符合进度，个别指标或项目需加快，无重大滞后",
    "一般": "任务部分推进：较多指标需加快或进展缓慢，或项目推进明显慢于要求",
    "差": "任务推进滞后：主要指标进展缓慢、出现倒退或节点逾期，须重点督办",
}
EVALUATION_STATUSES = {"reviewed": "已审定", "draft": "草稿", "sample": "示例"}
OPINION_LIMIT = 600
REASON_LIMIT = 300
CONCLUSION_LIMIT = 800
SIGNOFFS = ("征求意见稿", "审定稿")
#: 评估方式 the organisation may name (评估组织与过程 prints them in this order)
METHODS = ("部门自评", "座谈", "实地核查", "问卷", "第三方")
FIELD_TEXTS = (("achievements", "主要成效"), ("problems", "存在问题及原因"),
               ("recommendations", "对策建议"))
_KEYS = ("period", "evaluator", "date", "status", "signoff", "conclusion", "organisation",
         "fields", "tasks")
_TASK_KEYS = ("task", "grade", "opinion", "reason")
_ORG_KEYS = ("issuer", "team", "methods", "start", "end", "sources")
_FIELD_KEYS = ("field", "lead", *(k for k, _ in FIELD_TEXTS))
_FIELD = re.compile(r"^[二三四五六](?:[(（][一二三四五六七八九十][)）])?$")


class EvaluationError(PlanbookError):
    """An evaluation file is malformed; problems lists each entry at fault."""


@dataclass(frozen=True)
class Judgement:
    task: str
    grade: str
    opinion: str
    reason: str = ""  # why the grade departs from the implied one ("" = none given)


@dataclass(frozen=True)
class Basis:
    """What a period's data say about one task (assess.grades.task_bases): the grade its
    lights imply (None: no light with data), those lights in words, and whether a department
    statement exists."""

    grade: str | None
    lights: str
    statement: bool

    @property
    def evidence(self) -> bool:
        return self.grade is not None or self.statement

    def departs(self, grade: str) -> bool:
        """A grade the basis does not support: another grade than the lights imply, or any
        grade where there is no evidence at all."""
        return grade != self.grade if self.grade is not None else not self.statement


@dataclass(frozen=True)
class Organisation:
    """Who evaluated, how, when and from which sources (评估组织与过程)."""

    issuer: str = ""  # 编制单位, named on the cover
    team: str = ""
    methods: tuple[str, ...] = ()
    start: str = ""
    end: str = ""
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class FieldText:
    """The evaluator's words on one plan field (chapter 三 or section 三(一)), optionally for
    one lead department: 主要成效, 存在问题及原因, 对策建议 (any may be "")."""

    field: str  # 三 or 三(一) (half-width parentheses, like task ids)
    lead: str = ""
    achievements: str = ""
    problems: str = ""
    recommendations: str = ""

    @property
    def chapter(self) -> str:
        return self.field[0]


@dataclass
class Evaluation:
    period: str
    evaluator: str
    date: str
    status: str
    judgements: dict[str, Judgement] = field(default_factory=dict)
    file: Path | None = None
    signoff: str = ""  # 征求意见稿 / 审定稿, "" not stated
    conclusion: str = ""
    organisation: Organisation = field(default_factory=Organisation)
    fields: tuple[FieldText, ...] = ()

    def fields_of(self, chapter: str) -> list[FieldText]:
        """The field texts of a plan chapter (the chapter's own first, then its sections)."""
        return [f for f in self.fields if f.chapter == chapter]

    @property
    def is_sample(self) -> bool:
        return self.status == "sample"


def evaluation_file(data: Path, period: str) -> Path:
    return paths.evaluation_dir(data) / f"{period}.yaml"


def load_evaluation(data: Path, period: str, registry: Registry) -> Evaluation | None:
    """The period's evaluation, validated; None when the period has no file yet."""
    path = evaluation_file(data, period)
    if not path.is_file():
        return None
    return parse_evaluation(path, period, registry)


def parse_evaluation(path: Path, period: str, registry: Registry) -> Evaluation:
    problems: list[Problem] = []
    file = str(path)

    def problem(message, entry=None, fld=None, value=None, expected=None):
        problems.append(Problem(message, file=file, entry=entry, field=fld, value=value,
                                expected=expected))

    # Not YAML, not UTF-8, or not the file's shape at all: damaged (exit 2, the line named);
    # a wrong judgement in a well-formed file is an EvaluationError listing every one.
    fix = "改正该行的 YAML 写法（缩进、引号、冒号），或从 git 恢复该文件"
    try:
        data = path.read_bytes()
        raw = yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise StoreDamaged.not_utf8(path, data, exc, hint=fix) from None
    except yaml.YAMLError as exc:
        raise StoreDamaged.yaml(path, exc, hint=fix) from None
    except OSError as exc:
        raise EnvironmentFault.from_os(exc, path, doing="读取") from None
    if not isinstance(raw, dict):
        raise StoreDamaged(f"文件 {file} 已损坏：顶层应为含 period、evaluator、date、status、"
                           f"tasks 的映射，实为 {type(raw).__name__}",
                           hint="版式见 planbook.store.evaluation；或从 git 恢复该文件")
    if raw.get("tasks") is not None and not isinstance(raw.get("tasks"), list):
        raise StoreDamaged(f"文件 {file} 已损坏：字段 tasks 应为评估条目的列表，实为 "
                           f"{type(raw['tasks']).__name__}",
                           hint="版式见 planbook.store.evaluation；或从 git 恢复该文件")
    for key in raw:
        if key not in _KEYS:
            problem("未知字段", fld=str(key), expected="、".join(_KEYS))
    text = {k: "" if raw.get(k) is None else str(raw.get(k)) for k in _KEYS if k != "tasks"}
    if text["period"] != period:
        problem("报告期与文件名不符", fld="period", value=raw.get("period"),
                expected=f'"{period}"')
    if not text["evaluator"].strip():
        problem("缺少字段", fld="evaluator", expected="评估人")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text["date"]):
        problem("日期格式不对", fld="date", value=raw.get("date"), expected='"2026-03-31"')
    if text["status"] not in EVALUATION_STATUSES:
        problem("评估状态无效", fld="status", value=raw.get("status"),
                expected="、".join(f"{k}（{v}）" for k, v in EVALUATION_STATUSES.items()))
    tasks = raw.get("tasks") or []
    if not isinstance(tasks, list):
        problem("应为任务评估的列表", fld="tasks")
        tasks = []
    judgements: dict[str, Judgement] = {}
    for n, entry in enumerate(tasks):
        where = f"#{n + 1}"
        if not isinstance(entry, dict):
            problem("应为含 task、grade、opinion 的映射", entry=where)
            continue
        task = str(entry.get("task") or "")
        where = task or where
        for key in entry:
            if key not in _TASK_KEYS:
                problem("未知字段", entry=where, fld=str(key), expected="、".join(_TASK_KEYS))
        if not task:
            problem("缺少字段", entry=where, fld="task")
        elif task not in registry.tasks or task == "二":
            problem("未知任务编号", entry=where, fld="task", value=task,
                    expected="tasks.yaml 中的任务编号，如 三(二)1")
        elif task in judgements:
            problem("同一任务评估两次", entry=where, fld="task", value=task)
        grade = str(entry.get("grade") or "")
        if grade not in GRADES:
            problem("评估等级不在等级表中", entry=where, fld="grade",
                    value=entry.get("grade"), expected="、".join(GRADES))
        opinion = entry.get("opinion")
        if not isinstance(opinion, str) or not opinion.strip():
            problem("缺少字段", entry=where, fld="opinion", expected="评估意见")
        elif len(opinion) > OPINION_LIMIT:
            problem(f"评估意见超过 {OPINION_LIMIT} 字", entry=where, fld="opinion",
                    value=f"{len(opinion)} 字")
        reason = entry.get("reason")
        if reason is not None and (not isinstance(reason, str) or not reason.strip()):
            problem("偏离理由为空", entry=where, fld="reason",
                    expected="等级偏离指示灯的理由，或删去 reason 字段")
            reason = None
        elif reason is not None and len(reason) > REASON_LIMIT:
            problem(f"偏离理由超过 {REASON_LIMIT} 字", entry=where, fld="reason",
                    value=f"{len(reason)} 字")
        if task and grade in GRADES and isinstance(opinion, str) and task not in judgements:
            judgements[task] = Judgement(task=task, grade=grade, opinion=opinion,
                                         reason=reason or "")
    signoff = "" if raw.get("signoff") is None else str(raw.get("signoff"))
    if signoff and signoff not in SIGNOFFS:
        problem("文稿状态无效", fld="signoff", value=raw.get("signoff"),
                expected=" / ".join(SIGNOFFS))
    conclusion = _text_field(raw.get("conclusion"), CONCLUSION_LIMIT, problem, None,
                             "conclusion")
    organisation = _parse_organisation(raw.get("organisation"), problem)
    fields = _parse_fields(raw.get("fields"), registry, problem)
    if problems:
        raise EvaluationError(f"评估文件有 {len(problems)} 个问题", problems=problems,
                              hint=f"改正 {path.name} 中所列条目")
    return Evaluation(period=period, evaluator=text["evaluator"], date=text["date"],
                      status=text["status"], judgements=judgements, file=path,
                      signoff=signoff, conclusion=conclusion, organisation=organisation,
                      fields=fields)


def _text_field(value, limit: int, problem, entry, fld: str) -> str:
    """An optional free-text field: a non-empty string within `limit` characters, else ""
    with a problem (None and a missing field are fine)."""
    if value is None or value == "":  # left empty (a template's blank): not stated
        return ""
    if not isinstance(value, str) or not value.strip():
        problem("应为文字", entry=entry, fld=fld, value=value,
                expected="评估组的文字，或删去该字段")
        return ""
    if len(value) > limit:
        problem(f"{fld} 超过 {limit} 字", entry=entry, fld=fld,
                value=f"{len(value)} 字")
    return value.strip()


def _date_field(value, problem, entry, fld: str) -> str:
    text = "" if value is None else str(value)
    if text and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        problem("不是日期", entry=entry, fld=fld, value=value, expected='"2026-03-31"')
        return ""
    return text


def _text_list(value, problem, entry, fld: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problem("应为文字的列表", entry=entry, fld=fld, value=value)
        return ()
    return tuple(v.strip() for v in value)


def _parse_organisation(raw, problem) -> Organisation:
    if raw is None:
        return Organisation()
    where = "organisation"
    if not isinstance(raw, dict):
        problem("应为含 issuer、team、methods、start、end、sources 的映射",
                entry=where)
        return Organisation()
    for key in raw:
        if key not in _ORG_KEYS:
            problem("未知字段", entry=where, fld=str(key), expected="、".join(_ORG_KEYS))
    methods = _text_list(raw.get("methods"), problem, where, "methods")
    for m in methods:
        if m not in METHODS:
            problem("未知评估方式", entry=where, fld="methods", value=m,
                    expected=" / ".join(METHODS))
    start = _date_field(raw.get("start"), problem, where, "start")
    end = _date_field(raw.get("end"), problem, where, "end")
    if start and end and end < start:
        problem("结束日期早于开始日期", entry=where, fld="end", value=end,
                expected=f"{start} 或之后")
    return Organisation(
        issuer=_text_field(raw.get("issuer"), 100, problem, where, "issuer"),
        team=_text_field(raw.get("team"), OPINION_LIMIT, problem, where, "team"),
        methods=tuple(m for m in METHODS if m in methods), start=start, end=end,
        sources=_text_list(raw.get("sources"), problem, where, "sources"))


def _parse_fields(raw, registry: Registry, problem) -> tuple[FieldText, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problem("应为分领域条目的列表", fld="fields")
        return ()
    out: list[FieldText] = []
    seen: set[tuple[str, str]] = set()
    sections = {f"{t.chapter}{t.section}" for t in registry.tasks.values() if t.section}
    for n, entry in enumerate(raw):
        where = f"fields#{n + 1}"
        if not isinstance(entry, dict):
            problem("应为含 field 与评估组文字的映射", entry=where)
            continue
        name = str(entry.get("field") or "").replace("（", "(").replace("）", ")")
        lead = "" if entry.get("lead") is None else str(entry.get("lead"))
        where = f"fields {name}" + (f" {lead}" if lead else "") if name else where
        for key in entry:
            if key not in _FIELD_KEYS:
                problem("未知字段", entry=where, fld=str(key),
                        expected="、".join(_FIELD_KEYS))
        if not _FIELD.match(name) or (len(name) > 1 and name not in sections):
            problem("未知的方案领域", entry=where, fld="field", value=entry.get("field"),
                    expected="方案的章（二…六）或节（如 三(一)）")
            continue
        if lead and lead not in registry.departments:
            problem("未知部门", entry=where, fld="lead", value=lead,
                    expected="departments.yaml 中的部门")
            continue
        if (name, lead) in seen:
            problem("同一领域写了两次", entry=where, fld="field", value=name)
            continue
        seen.add((name, lead))
        texts = {k: _text_field(entry.get(k), OPINION_LIMIT, problem, where, k)
                 for k, _ in FIELD_TEXTS}
        if not any(texts.values()):
            continue  # a template's entry left blank
        out.append(FieldText(field=name, lead=lead, **texts))
    order = {c: n for n, c in enumerate("二三四五六")}
    return tuple(sorted(out, key=lambda f: (order[f.chapter], len(f.field) > 1, f.field)))


def _raw_file(data: Path, period: str) -> dict:
    """The period's evaluation file as plain YAML, unvalidated ({} when missing or broken):
    for the cover and the Word edition (the build's data check and the report validate it)."""
    path = evaluation_file(data, period)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, yaml.YAMLError):
        return {}
    return raw if isinstance(raw, dict) else {}


def issuer(data: Path, period: str) -> str:
    """The issuing body the period's evaluation file names (organisation.issuer), read
    without validation for the cover ("" when there is none)."""
    org = _raw_file(data, period).get("organisation")
    value = org.get("issuer") if isinstance(org, dict) else None
    return value.strip() if isinstance(value, str) else ""


def signoff_of(data: Path, period: str) -> str:
    """The period's evaluation file's sign-off (征求意见稿 / 审定稿), read without validation
    for the Word edition's cover and header ("" when not stated or not one of SIGNOFFS)."""
    value = _raw_file(data, period).get("signoff")
    return value if isinstance(value, str) and value in SIGNOFFS else ""


def check_grades(ev: Evaluation, bases: dict[str, Basis]) -> None:
    """Refuse grades the period's lights do not support and no reason explains: every
    departing grade without a reason, and 好 for a task with no evidence at all (a reason
    cannot stand in for evidence). `bases`: per task id, from assess.grades.task_bases."""
    problems = []
    file = str(ev.file) if ev.file else None
    for task, j in ev.judgements.items():
        basis = bases.get(task)
        if basis is None:
            continue
        if not basis.evidence and j.grade == "好":
            problems.append(Problem(
                "评为“好”但没有任何依据：无有数据的指标或点名项目，也无部门报送", file=file,
                entry=task, field="grade", value=j.grade,
                expected="较好、一般或差并写明理由，或先取得部门报送"))
        elif basis.departs(j.grade) and not j.reason:
            if basis.grade is None:
                message = "没有任何依据（无有数据的指示灯，也无部门报送）且未写偏离理由"
            else:
                message = (f"等级偏离指示灯（{basis.lights}，对应等级{basis.grade}）且未写偏离理由")
            problems.append(Problem(
                message, file=file, entry=task, field="reason", value=j.grade,
                expected=f"reason：评为{j.grade}的理由（偏离理由）"
                         + (f"，或 grade：{basis.grade}" if basis.grade else "")))
    if problems:
        name = ev.file.name if ev.file else f"{ev.period}.yaml"
        raise EvaluationError(
            f"{ev.period} 的评估有 {len(problems)} 个等级得不到指示灯支持", problems=problems,
            hint=f"在 {name} 所列条目中加 `reason:` 说明等级偏离指示灯的理由，或改为指示灯对应的"
                 "等级（规则见 评估方法·任务评估）；没有任何依据的任务不能评为“好”")


def template_text(registry: Registry, period: str) -> str:
    """The evaluator's file to fill in for `period`: every key with what it means, one
    entry per plan field and per task (grades and texts left empty: validation names each
    one still empty until it is written or the entry deleted)."""
    def q(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [
        f"# 评估组文件：data/evaluation/{period}.yaml（格式见 planbook.store.evaluation）。",
        "# 填写后放入 data/evaluation/，`planbook build` 前校验；留空的条目请填写或删除。",
        f"period: {q(period)}",
        "evaluator: \"\"            # 评估人（撰写评估意见的评估组）",
        "date: \"\"                 # 评估日期，如 \"2026-03-31\"",
        "status: draft             # reviewed 已审定 / draft 草稿",
        "signoff: 征求意见稿        # 文稿状态：" + " / ".join(SIGNOFFS),
        f"conclusion: \"\"           # 总体结论（不超过{CONCLUSION_LIMIT}字）",
        "organisation:",
        "  issuer: \"\"             # 编制单位（印在封面）",
        "  team: \"\"               # 评估组构成",
        "  methods: []             # 评估方式，可选：" + "、".join(METHODS),
        "  start: \"\"              # 评估开始日期",
        "  end: \"\"                # 评估结束日期",
        "  sources: []             # 数据来源，如 统计公报、统计年鉴；部门台账",
        f"fields:                   # 分领域的主要成效、存在问题及原因、对策建议（每项不超过{OPINION_LIMIT}字）",
    ]
    chapters = [c for c in ("三", "四", "五", "六")
                if any(t.chapter == c for t in registry.tasks.values())]
    for c in chapters:
        lines += [f"- field: {c}               # 可改为某一节（如 {c}(一)），并可加 lead: 牵头单位",
                  "  achievements: \"\"", "  problems: \"\"", "  recommendations: \"\""]
    lines.append("tasks:                    # 各任务评估：grade 为 " + " / ".join(GRADES))
    for t in registry.tasks.values():
        if t.id == "二":
            continue
        lines += [f"- task: {q(t.id)}          # {t.title}（牵头：{t.lead or '方案未列明'}）",
                  "  grade: \"\"", "  opinion: \"\""]
    return "\n".join(lines) + "\n"


def write_template(registry: Registry, period: str, out: Path) -> list[Path]:
    """The evaluator's file template under `out` (planbook templates)."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"评估组文件-{period}.yaml"
    path.write_text(template_text(registry, period), encoding="utf-8")
    return [path]
