"""Illustrative progress statements, project stages and evaluator judgements.

The judgements follow the grade scale: each task graded as its 2025 lights imply, two of them
departing one step with a reason (see `sample_judgements`).

Marked 示例 in every text: they illustrate the layout, never the facts. Each statement is
written from its task's own words in the plan (plan.passages: the measures of its paragraph,
the projects it names) through a few varied patterns, so no sentence serves more than three
tasks (tests/test_sample_marks.py counts them). No statement names a real event or date; project stages carry the period's last day as the date
they are stated for, with a note that they are not the project's real stage. Most tasks get
a statement, some none, so the book shows both. Deterministic (seeded by task and project
id). The statements go through the real validation (store.statements) from sample
submission files, data/sample/sample-progress.csv and sample-project-stages.csv (committed,
named by their sha256 in every row), so `planbook trace` leads to them; real rows are never replaced: a task, period and department
with a real statement gets no sample one, and a real evaluation file is left alone.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from planbook import paths
from planbook.plan import passages
from planbook.plan.registry import STAGES, Registry
from planbook.store import sample_evaluation, statements
from planbook.store.commit import transaction
from planbook.store.evaluation import Basis, evaluation_file
from planbook.store.observations import sha256_bytes
from planbook.store.submission import FileResult

SEED = 20230406
# received before the 2025 report's data cut-off (as_of 2026-03-31), as a department's
# yearly statement would be; the cut-off leaves the 2024 statements out of the 2024 report
RECEIVED_AT = "2026-01-20T09:00:00+08:00"
TODAY = date(2026, 11, 1)  # the day the sample is "received": every sample period is over
YEARS = ("2024", "2025")
MONTHS = tuple(f"2026-{m:02d}" for m in range(1, 11))
SAMPLE_FILE = "sample/sample-progress.csv"
EVALUATION_PERIOD = "2025"
EVALUATION_DATE = "2026-03-31"  # the 2025 report's as_of date
# Sentence patterns; each is filled with the task's own measures and projects (plan.passages),
# so a sentence names its task and no two tasks share it. {m}: a measure clause of the plan,
# quoted verbatim; {p}: a project the plan names in the task.
PROGRESS = ("{year}年，本单位{role}推进“{title}”，围绕“{m1}”分解落实年度任务，完成年度计划的{share}%。",
            "{year}年按照方案要求推进“{title}”，重点抓“{m1}”和“{m2}”，年度计划完成{share}%。",
            "本单位将“{m1}”列入{year}年度重点工作清单，{role}事项按月调度，完成年度计划的{share}%。",
            "{year}年围绕“{m2}”按月调度、逐项建立工作台账，“{title}”年度计划完成{share}%。")
PROJECT_NOTE = ("{p}等{n}个项目纳入本年度调度清单，阶段进展见项目推进表。",
                "{p}的推进情况按项目单列报送。")
PROBLEMS = ("“{m1}”涉及的用地、资金等要素保障仍需加强。",
            "“{m2}”涉及多个部门，协调推进偏慢。",
            "{p}前期手续办理周期较长。",
            "“{m1}”的推进进度不均衡，部分事项落后于年度计划。",
            "")
NEXT_STEPS = ("对照年度计划倒排“{m1}”的进度，按月调度、及时预警。",
              "加强与配合单位的会商，推动“{m2}”按期完成。",
              "梳理“{title}”滞后事项清单，逐项明确责任人和完成时限。",
              "把“{m2}”列入下年度重点工作，细化季度节点。")
MONTHLY = ("本月围绕“{m}”按计划推进，完成月度计划的{share}%。",
           "本月“{m}”相关工作完成月度计划的{share}%。",
           "本月重点推进“{m}”，月度计划完成{share}%。")


def _rng(key: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{SEED}:progress:{key}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def _words(registry: Registry, task, rng: np.random.Generator) -> dict[str, str]:
    """The task's own words for the patterns: two measure clauses (its title when the plan
    states none) and a named project (else the task's title)."""
    found = passages.measures(registry.plan_text, task) or [task.title]
    order = rng.permutation(len(found))
    m1, m2 = (_nested(found[i]) for i in (order[0], order[min(1, len(found) - 1)]))
    projects = registry.projects_of(task.id)
    p = projects[int(rng.integers(len(projects)))].name_zh if projects else ""
    return {"title": task.title, "m1": m1, "m2": m2, "p": p or f"“{task.title}”的重点事项",
            "n": str(len(projects))}


def _nested(clause: str) -> str:
    """A quotation inside the patterns' “…”: its own double quotes become single ones."""
    return clause.replace("“", "‘").replace("”", "’")


def _pick(rng: np.random.Generator, patterns: tuple[str, ...], **words: str) -> str:
    text = patterns[int(rng.integers(len(patterns)))].format(**words)
    return f"示例：{text}" if text else ""


def _statement_rows(registry: Registry) -> list[dict]:
    rows = []
    for task in registry.tasks.values():
        if not task.departments or task.id == "二":
            continue  # 六(二)–六(四) name no department: left without a statement
        rng = _rng(task.id)
        if rng.random() < 0.18:
            continue  # some tasks have no statement at all
        writers = [task.lead] + ([task.departments[1]] if len(task.departments) > 1
                                 and rng.random() < 0.15 else [])
        for year in YEARS:
            for dept in writers:
                share = int(rng.integers(12, 22)) * 5  # 60 … 105
                words = _words(registry, task, rng) | {
                    "year": year, "role": "牵头" if dept == task.lead else "配合",
                    "share": str(min(share, 100))}
                progress = _pick(rng, PROGRESS, **words)
                if words["n"] != "0" and rng.random() < 0.6:
                    progress += PROJECT_NOTE[int(rng.integers(len(PROJECT_NOTE)))].format(
                        **words)
                rows.append({
                    "任务编号": task.id, "期间": year, "报送单位": dept,
                    "主要进展": progress,
                    "存在问题": _pick(rng, PROBLEMS, **words),
                    "下步打算": _pick(rng, NEXT_STEPS, **words),
                    "佐证材料": f"示例：《{dept}“{task.title}”{year}年度工作台账》（{year}-12-31）",
                    "数据状态": "sample"})
        for month in MONTHS:  # the briefings' optional short 本月进展, for some months
            if rng.random() < 0.3:
                share = int(rng.integers(14, 21)) * 5  # 70 … 100
                words = _words(registry, task, rng)
                rows.append({"任务编号": task.id, "期间": month, "报送单位": task.lead,
                             "本月进展": _pick(rng, MONTHLY, m=words["m1"], share=str(share)),
                             "数据状态": "sample"})
    return rows


# 累计完成投资 as a share of 总投资 by stage (low, high), and the 形象进度 a stage reads as
_DONE_SHARE = {"未启动": (0.0, 0.0), "谋划": (0.0, 0.0), "前期": (0.0, 0.03), "开工": (0.05, 0.2),
               "在建": (0.2, 0.8), "完工": (0.9, 1.0)}
_IMAGE = {"未启动": "示例：尚未启动", "谋划": "示例：完成项目初步谋划方案",
          "前期": "示例：可研、用地等前期手续办理中", "开工": "示例：已开工，场地平整和基础施工中",
          "在建": "示例：主体工程施工中，完成工程量约{share}%", "完工": "示例：主体完工，进入验收"}
_PROJECT_PROBLEMS = ("示例：用地报批周期较长，影响施工进度。", "示例：资金到位偏慢，需加快争取专项债券。",
                     "示例：政策处理（征迁）尚未全部完成。", "", "", "")
# Named projects' 累计完成投资 together stay below this share of the sample's 重点项目累计完成投资
# (the named projects are some of the key projects, never more than all of them).
NAMED_SHARE_CAP = 0.8
KEY_INVESTMENT = "ind_key_project_investment"


def _investment(rng: np.random.Generator, stage: str) -> dict:
    """Sample investment of a project at `stage` (万元): 总投资 0.5–15 亿元 (log-uniform),
    累计完成 by stage, this year's plan a part of what remains; about one in ten left blank."""
    if rng.random() < 0.1:
        return {}
    total = round(float(np.exp(rng.uniform(np.log(5000), np.log(150000)))), -2)
    low, high = _DONE_SHARE[stage]
    done = round(total * float(rng.uniform(low, high)), -1)
    plan = round((total - done) * float(rng.uniform(0.15, 0.45)), -1) if stage != "完工" else \
        round(total - done, -1)
    share = int(round(done / total * 100)) if total else 0
    return {"总投资": total, "年度计划投资": plan, "累计完成投资": done, "投资单位": "万元",
            "形象进度": _IMAGE[stage].format(share=share),
            "存在问题": _PROJECT_PROBLEMS[int(rng.integers(len(_PROJECT_PROBLEMS)))]}


def _cap_investment(rows: list[dict], cap: float | None) -> None:
    """Scale the rows' 累计完成投资 down (in place) when their sum exceeds `cap` (万元)."""
    total = sum(float(r.get("累计完成投资") or 0) for r in rows)
    if cap is None or total <= cap:
        return
    factor = cap / total
    for r in rows:
        if r.get("累计完成投资"):
            r["累计完成投资"] = round(float(r["累计完成投资"]) * factor, -1)


def _project_rows(registry: Registry, milestones: dict[str, float],
                  key_investment: float | None = None) -> list[dict]:
    """One 2025 stage per project; a project a milestone indicator also tracks gets the stage
    its sample milestone value implies (1 → the asked stage, 0.5 → the one before, 0 → 未启动),
    so the two never disagree. Investment (万元, `_investment`) is drawn with it; the named
    projects' 累计完成投资 stays under NAMED_SHARE_CAP of `key_investment` (亿元, the sample's
    2025 重点项目累计完成投资)."""
    rows = []
    for p in registry.projects.values():
        rng = _rng(p.id)
        target = STAGES.index(p.target_stage)
        if p.indicator and p.indicator in milestones:
            value = milestones[p.indicator]
            stage = (p.target_stage if value >= 1 else
                     STAGES[max(0, target - 1)] if value > 0 else "未启动")
        elif rng.random() < 0.15 or p.indicator:
            continue  # some projects have no stage report
        else:
            stage = ("未启动", *STAGES)[max(0, target + 1 - int(rng.integers(0, 3)))]
        rows.append({"项目编号": p.id, "期间": "2025", "报送单位": p.lead, "当前阶段": stage,
                     "阶段日期": "2025-12-31",
                     "进展说明": f"示例：{p.name_zh}的演示用阶段（{stage}），非该项目实际进展",
                     **_investment(_rng("investment:" + p.id), stage), "数据状态": "sample"})
    _cap_investment(rows, None if key_investment is None
                    else key_investment * 10000 * NAMED_SHARE_CAP)
    columns = ("项目编号", "期间", "报送单位", "当前阶段", "阶段日期", "进展说明", "总投资",
               "年度计划投资", "累计完成投资", "投资单位", "形象进度", "存在问题", "数据状态")
    return [{c: r.get(c, "") for c in columns} for r in rows]


def _write_submission(path: Path, frame: pd.DataFrame) -> bytes:
    content = frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return content


def _keep_real(data: Path) -> set[tuple]:
    """Drop the sample rows from the statement and project stores; return the keys that
    have real rows (these get no sample row)."""
    real = set()
    for folder, columns, key in ((paths.statements_dir(data),
                                  statements.STATEMENT_COLUMNS, "task_id"),
                                 (paths.project_stages_dir(data),
                                  statements.PROJECT_COLUMNS, "project_id")):
        for f in sorted(folder.glob("*.csv")) if folder.is_dir() else []:
            df = statements._read(f, columns)
            keep = df[df["status"] != "sample"]
            real |= set(zip(keep[key], keep["period"], keep["department"], strict=True))
            if keep.empty:
                f.unlink()
            else:
                with transaction(data) as tx:
                    statements.write_table(f, keep, columns, tx)
    return real


def write_progress_sample(data: Path, registry: Registry,
                          observations: pd.DataFrame | None = None) -> list[str]:
    """Regenerate the sample statements and project stages. `observations`: the sample
    figures, whose 2025 milestone values the linked projects' stages follow. The sample
    evaluation file follows the lights, so it is written after all sample rows are stored
    (`write_evaluation`, called by assess.grades.write_sample_evaluation)."""
    real = _keep_real(data)
    milestones: dict[str, float] = {}
    if observations is not None and not observations.empty:
        rows = observations[observations["period"] == "2025"]
        milestones = {str(i): float(v) for i, v in zip(rows["indicator_id"], rows["value"],
                                                         strict=True)}
    stmts = pd.DataFrame([r for r in _statement_rows(registry)
                          if (r["任务编号"], r["期间"], r["报送单位"]) not in real])
    projs = pd.DataFrame([r for r in _project_rows(registry, milestones,
                                                   milestones.get(KEY_INVESTMENT))
                          if (r["项目编号"], r["期间"], r["报送单位"]) not in real])
    lines = []
    for frame, name in ((stmts, SAMPLE_FILE),
                        (projs, SAMPLE_FILE.replace("progress", "project-stages"))):
        if frame.empty:
            continue
        path = data / name
        content = _write_submission(path, frame)
        result = FileResult(path=path, received_at=RECEIVED_AT)
        result.sha256 = sha256_bytes(content)
        rows = statements._validate(path, content, registry, TODAY, result)
        if rows is None:  # the generator and the rules disagree: a bug, say where
            raise AssertionError("; ".join(str(p) for p in result.problems[:5]))
        with transaction(data) as tx:
            statements._store(data, registry, rows, result, tx, source_file=name)
        lines.append(f"示例{'工作进展' if name == SAMPLE_FILE else '项目阶段'} {len(frame)} 行 → "
                     f"{path.relative_to(data.parent).as_posix()}")
    return lines


def remove_progress_sample(data: Path) -> list[str]:
    """Remove the sample statements, project stages, their sample files and a sample
    evaluation file; real rows and a reviewed evaluation stay."""
    before = {f: f.read_bytes() for f in statements.store_files(data)}
    _keep_real(data)
    lines = [f"{f.relative_to(data).as_posix()}：删除示例工作进展/项目阶段"
             for f in before if not f.is_file() or f.read_bytes() != before[f]]
    for name in (SAMPLE_FILE, SAMPLE_FILE.replace("progress", "project-stages")):
        if (data / name).is_file():
            (data / name).unlink()
            lines.append(f"{name}：示例来源文件已删除")
    path = evaluation_file(data, EVALUATION_PERIOD)
    if path.is_file() and (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get(
            "status") == "sample":
        path.unlink()
        lines.append(f"{path.relative_to(data).as_posix()}：示例评估意见已删除")
    return lines


# Departures the sample shows on purpose (the two tasks with the smallest draw): a grade one
# step from the implied one, with a reason, as check_grades requires.
SAMPLE_DEPARTURES = 2
_STEP = {"好": ("较好", "灯号均为绿灯，但部门报送反映的要素保障问题尚未解决，评估组从严评定"),
         "较好": ("一般", "部门报送反映的跨部门协调问题影响后续进度，评估组从严评定"),
         "一般": ("较好", "红灯、黄灯指标为年度波动，部门报送的佐证材料显示整改措施已落实，"
                        "评估组评定高于计算等级"),
         "差": ("一般", "滞后事项已列入督办清单并明确完成时限，评估组评定高于计算等级")}


def sample_judgements(registry: Registry, bases: dict[str, Basis]) -> list[dict]:
    """The sample's judgements, following the scale: a task graded as its lights imply
    (`bases`, assess.grades), except SAMPLE_DEPARTURES tasks departing one step with a reason;
    a task without lights but with a statement graded from the statement (较好 or 一般); a
    task with no evidence at all, and some others, left without a judgement."""
    tasks = [t for t in registry.tasks.values() if t.id != "二" and t.id in bases]
    draws = {t.id: _rng("evaluation:" + t.id).random() for t in tasks}
    graded = [t for t in tasks if draws[t.id] >= 0.2 and bases[t.id].evidence]
    lit = sorted((t for t in graded if bases[t.id].grade), key=lambda t: draws[t.id])
    depart = {t.id for t in lit[:SAMPLE_DEPARTURES]}
    out = []
    for t in graded:
        basis = bases[t.id]
        reason = ""
        if basis.grade is None:  # no light with data: judged from the statement alone
            grade = "较好" if draws[t.id] >= 0.6 else "一般"
        else:
            grade = basis.grade
            if t.id in depart:
                grade, reason = _STEP[basis.grade]
        entry = {"task": t.id, "grade": grade,
                 "opinion": sample_evaluation.opinion(registry, t, grade, basis)}
        if reason:
            entry["reason"] = f"示例：{reason}。本理由仅演示偏离计算等级时的写法。"
        out.append(entry)
    return out


def write_evaluation(data: Path, registry: Registry, bases: dict[str, Basis]) -> str:
    """Write the sample evaluation file of EVALUATION_PERIOD from the period's `bases`
    (assess.grades.period_bases; `planbook sample` computes them once the sample rows are
    stored); a real evaluation file is left alone."""
    path = evaluation_file(data, EVALUATION_PERIOD)
    if path.is_file():
        current = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if current.get("status") != "sample":
            return f"评估意见 {path.name} 为正式文件，未改动"
    tasks = sample_judgements(registry, bases)
    content = {"period": EVALUATION_PERIOD, "evaluator": "评估组（示例）", "date": EVALUATION_DATE,
               "status": "sample", "signoff": "征求意见稿",
               "conclusion": sample_evaluation.conclusion(registry, bases),
               "organisation": sample_evaluation.organisation(registry, EVALUATION_PERIOD,
                                                              EVALUATION_DATE),
               "fields": sample_evaluation.field_texts(registry, bases), "tasks": tasks}
    head = ("# 评估组对各任务的评估意见（store/evaluation.py 说明格式）。\n"
            "# 本文件为 planbook sample 生成的示例：status: sample，意见不代表实际评估。\n"
            "# 等级按评估方法由灯号计算；偏离计算等级的写明 reason（偏离理由）。\n"
            "# conclusion、organisation、fields 为报告“总体评估”一章引用的评估组文字（示例）。\n"
            "# 正式评估时由评估组改写全部意见、将 status 改为 reviewed，并经审定后提交。\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + yaml.safe_dump(content, allow_unicode=True, sort_keys=False,
                                          width=1000), encoding="utf-8")
    return f"示例评估意见 {len(tasks)} 项 → {path.relative_to(data.parent).as_posix()}"
