"""The plan's own words for a task: its paragraph in plan.txt and the measures it names.

A task item of chapters 三–五 is the numbered paragraph ("2.加大招商引资力度。…(商务局、…)")
under its section line; a 六 task is the section paragraph itself. `measures` splits the
paragraph after its title sentence into the clauses that state a measure, verbatim (ASCII
punctuation as in the plan), dropping the target clauses (力争…, 到2027年…) and the closing
department parenthesis. Pure functions over the registry's plan text.
"""

from __future__ import annotations

import re

from planbook.plan.registry import Task

_CLAUSE_SPLIT = re.compile(r"[。;；,，:：]")
_DEPARTMENTS = re.compile(r"\([^()]*\)\s*$")


def task_passage(plan_text: str, task: Task) -> str:
    """The paragraph of plan.txt that states `task`, or "" when it is not found."""
    lines = [line.strip() for line in plan_text.splitlines()]
    try:
        at = lines.index(f"{task.chapter}、{task.chapter_title}")
    except ValueError:
        return ""
    item = task.id[len(task.chapter) + len(task.section):]
    in_section = not task.section
    for line in lines[at + 1:]:
        if re.match(r"^[一二三四五六七八九十]+、", line):
            break
        if task.section and line.startswith(task.section):
            if not item:
                return line
            in_section = True
            continue
        if in_section and item and line.startswith(f"{item}."):
            return line
        if in_section and task.section and re.match(r"^\([一二三四五六七八九十]+\)", line):
            break
    return ""


def measures(plan_text: str, task: Task, *, shortest: int = 6, longest: int = 32
             ) -> list[str]:
    """The measure clauses of `task`'s paragraph, in plan order, without duplicates."""
    passage = _DEPARTMENTS.sub("", task_passage(plan_text, task))
    body = passage.split("。", 1)[1] if "。" in passage else passage
    out: list[str] = []
    for clause in _CLAUSE_SPLIT.split(body):
        clause = clause.strip()
        if not shortest <= len(clause) <= longest or clause in out:
            continue
        if clause.startswith(("力争", "到20", "确保", "其中")) or re.search(r"\d", clause):
            continue  # a target, not a measure: the indicators report those
        if clause.count("“") != clause.count("”") or clause.count("(") != clause.count(")"):
            continue  # a clause cut inside a quotation
        out.append(clause)
    return out
