"""Issue 26: sample department statements that look like real ones. Each is written from its
task's own words in the plan (plan.passages), varied, marked 示例, naming no dated event, and
no sentence serves more than three tasks."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pandas as pd

from planbook.plan import passages
from planbook.plan.registry import load_registry

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
TEXTS = ("主要进展", "存在问题", "下步打算", "本月进展")
MAX_TASKS_PER_SENTENCE = 3


def _statements() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "sample-progress.csv", dtype=str).fillna("")


def _sentences(text: str) -> list[str]:
    return [s.removeprefix("示例：").strip() for s in re.split(r"[。；;！？]", text)
            if s.removeprefix("示例：").strip()]


def test_every_task_with_a_department_has_its_passage_and_measures():
    reg = load_registry(ROOT / "data")
    for task in reg.tasks.values():
        if not task.departments:
            continue
        passage = passages.task_passage(reg.plan_text, task)
        assert passage and task.title in passage, task.id
        assert passage in reg.plan_text  # verbatim
        found = passages.measures(reg.plan_text, task)
        assert found, task.id
        assert all(m in passage and not re.search(r"\d", m) for m in found), task.id


def test_no_sentence_of_the_sample_statements_serves_more_than_three_tasks():
    frame = _statements()
    tasks_of: dict[str, set[str]] = defaultdict(set)
    for row in frame.to_dict("records"):
        for column in TEXTS:
            for sentence in _sentences(row[column]):
                tasks_of[sentence].add(row["任务编号"])
    assert tasks_of
    worst = {s: sorted(t) for s, t in tasks_of.items() if len(t) > MAX_TASKS_PER_SENTENCE}
    assert not worst, worst
    stages = pd.read_csv(SAMPLE / "sample-project-stages.csv", dtype=str)
    notes = stages["进展说明"].value_counts()
    assert notes.max() <= MAX_TASKS_PER_SENTENCE, notes.head()


def test_each_statement_quotes_its_own_task_and_is_marked_without_dated_events():
    reg = load_registry(ROOT / "data")
    frame = _statements()
    for row in frame.to_dict("records"):
        task = reg.tasks[row["任务编号"]]
        texts = [row[c] for c in TEXTS if row[c]]
        assert texts and all(t.startswith("示例：") for t in texts), row
        assert not any(re.search(r"\d{4}-\d{2}-\d{2}|\d+月\d+日", t) for t in texts), row
        own = {m.replace("“", "‘").replace("”", "’")
               for m in passages.measures(reg.plan_text, task)} | {task.title}
        main = row["主要进展"] or row["本月进展"]
        assert any(m in main for m in own), (task.id, main)
    # varied: the 主要进展 of the yearly rows use more than one pattern
    openings = {t[3:9] for t in frame["主要进展"] if t}
    assert len(openings) > 3
