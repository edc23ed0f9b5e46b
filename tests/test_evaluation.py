"""The evaluator's judgement file: data/evaluation/<period>.yaml, validated like the registry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from planbook.plan.registry import load_registry
from planbook.store.evaluation import GRADES, EvaluationError, load_evaluation

ROOT = Path(__file__).resolve().parents[1]
GOOD = {"period": "2025", "evaluator": "评估组", "date": "2026-03-31", "status": "reviewed",
        "tasks": [{"task": "三(二)1", "grade": "较好", "opinion": "交通网络总体推进，建武高速尚在谋划。"},
                  {"task": "六(二)", "grade": "一般", "opinion": "要素保障：用地指标仍偏紧。"}]}


@pytest.fixture(scope="module")
def registry():
    return load_registry(ROOT / "data")


def write(tmp_path: Path, content: dict, period: str = "2025") -> Path:
    folder = tmp_path / "evaluation"
    folder.mkdir(exist_ok=True)
    (folder / f"{period}.yaml").write_text(yaml.safe_dump(content, allow_unicode=True),
                                           encoding="utf-8")
    return tmp_path


def test_good_file_loads_with_text_as_written(tmp_path, registry):
    ev = load_evaluation(write(tmp_path, GOOD), "2025", registry)
    assert ev.evaluator == "评估组" and not ev.is_sample
    assert ev.judgements["三(二)1"].grade == "较好"
    assert ev.judgements["六(二)"].opinion == "要素保障：用地指标仍偏紧。"


def test_no_file_is_no_evaluation(tmp_path, registry):
    assert load_evaluation(tmp_path, "2025", registry) is None


def _task(**changes):
    return {**GOOD, "tasks": [{**GOOD["tasks"][0], **changes}]}


CASES = [
    ("unknown task", _task(task="三(九)9"), "entry 三(九)9, field task: unknown task"),
    ("grade off the scale", _task(grade="优秀"),
     "entry 三(二)1, field grade: grade not on the scale (seen: '优秀'); expected: 好 / 较好 / 一般 / 差"),
    ("empty opinion", _task(opinion=" "), "entry 三(二)1, field opinion: missing field"),
    ("long opinion", _task(opinion="字" * 601), "field opinion: opinion over 600 characters"),
    ("unknown field", _task(score=3), "entry 三(二)1, field score: unknown field"),
    ("twice", {**GOOD, "tasks": [GOOD["tasks"][0], GOOD["tasks"][0]]},
     "entry 三(二)1, field task: task judged twice"),
    ("wrong period", {**GOOD, "period": "2024"}, "field period: period differs from the file"),
    ("bad status", {**GOOD, "status": "final"}, "field status: unknown status"),
]


@pytest.mark.parametrize(("case", "content", "message"), CASES, ids=[c[0] for c in CASES])
def test_malformed_evaluation_is_refused_with_its_entry(tmp_path, registry, case, content,
                                                        message):
    with pytest.raises(EvaluationError) as err:
        load_evaluation(write(tmp_path, content), "2025", registry)
    assert message in str(err.value)
    assert "2025.yaml" in str(err.value)


def test_methodology_defines_every_grade():
    text = (ROOT / "book" / "methodology.qmd").read_text(encoding="utf-8")
    section = text.split("## 任务评估", 1)[1]
    for grade, meaning in GRADES.items():
        assert re.search(rf"\|\s*{grade}\s*\|\s*{re.escape(meaning)}", section), grade


def test_shipped_evaluation_files_are_valid(registry):
    for path in sorted((ROOT / "data" / "evaluation").glob("*.yaml")):
        assert load_evaluation(ROOT / "data", path.stem, registry) is not None
