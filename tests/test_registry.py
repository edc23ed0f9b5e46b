"""The plan as data: the real registry against plan.txt, and malformed fixture registries."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from planbook import cli
from planbook.errors import RegistryError
from planbook.plan.registry import KINDS, load_registry

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
PLAN = (DATA / "plan" / "plan.txt").read_text(encoding="utf-8")
CHINESE_NUMERALS = "一二三四五六七八九十"


@pytest.fixture(scope="module")
def registry():
    return load_registry(DATA)


def plan_items() -> list[tuple[str, str]]:
    """(item id, closing department text) for every numbered task item of 三, 四 and 五."""
    items, chapter, section = [], None, None
    for line in PLAN.splitlines():
        line = line.strip()
        m = re.match(r"^([二三四五六])、", line)
        if m:
            chapter = m[1]
            continue
        m = re.match(r"^[(（]([一二三四五六七八九十])[)）]", line)
        if m and chapter in "三四五":
            section = f"({m[1]})"
            continue
        m = re.match(r"^(\d+)\.", line)
        if m and chapter in "三四五":
            closing = re.findall(r"[(（]([^()（）]*)[)）]。?$", line)
            items.append((f"{chapter}{section}{m[1]}", closing[-1] if closing else ""))
    return items


def test_plan_copy_is_byte_for_byte():
    shared = ROOT.parent / "shared" / "plan" / "jiande-plan-2023-2027.txt"
    if shared.is_file():  # only on the developers' machines; CI reads the committed copy
        assert shared.read_bytes() == (DATA / "plan" / "plan.txt").read_bytes()


def test_registry_loads_with_expected_breadth(registry):
    summary = registry.summary()
    assert summary["quantified"] >= 70
    assert summary["milestones"] >= 5
    assert set(summary["by_kind"]) == set(KINDS)
    assert all(summary["by_kind"][k] > 0 for k in KINDS)


def test_every_quote_is_verbatim(registry):
    for ind in registry.indicators.values():
        assert ind.quotes, ind.id
        for q in ind.quotes:
            assert q in PLAN, (ind.id, q)


def test_every_numbered_task_item_has_an_entry(registry):
    items = plan_items()
    assert len(items) == 34  # 三: 14, 四: 11, 五: 9
    for item_id, _ in items:
        assert item_id in registry.tasks, item_id


def test_closing_department_lists_resolve(registry):
    for item_id, closing in plan_items():
        assert closing, f"{item_id}: no closing department list found"
        names = [n for n in re.split(r"[、，,]", closing) if n]
        resolved = [registry.resolve_department(n) for n in names]
        assert None not in resolved, (item_id, names, resolved)
        assert list(registry.tasks[item_id].departments) == resolved, item_id


def test_headline_targets_and_multi_target_sentences(registry):
    headline = [i for i in registry.indicators.values() if i.headline]
    assert len(headline) == 8
    output = [i for i in registry.indicators.values() if i.baseline and i.baseline.value == 688]
    assert len(output) == 1
    targets = {(t.year, t.value) for t in output[0].targets}
    assert {(2025, 1000), (2027, 1376)} <= targets
    chains = [i for i in registry.indicators.values()
              if any("1条50亿元、1条10亿元、8条亿元级" in q for q in i.quotes)]
    assert sorted(i.final_target.value for i in chains) == [1, 1, 8]


def test_plan_command_json(capsys):
    assert cli.main(["plan", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("indicators", "targets", "milestones", "tasks", "departments", "by_chapter"):
        assert key in out
    assert cli.main(["plan"]) == 0
    assert "按牵头单位" in capsys.readouterr().out


# ----------------------------------------------------------------- malformed registries

MINI_PLAN = "到2027年，完成44个老旧小区改造。(住建局、农业农村局)\n"
MINI = {
    "departments": [
        {"name": "住建局", "type": "government", "code": "zhujian"},
        {"name": "农业农村局", "type": "government", "code": "nongye"},
    ],
    "indicators": [{
        "id": "old_estates", "path": "三(二)2", "name_zh": "老旧小区改造", "name_en": "x",
        "unit": "个", "kind": "cumulative", "direction": "increase",
        "targets": [{"value": 44, "year": 2027, "op": ">="}], "lead": "住建局",
        "co": ["农业农村局"], "quote": "完成44个老旧小区改造"}],
    "tasks": [{"id": "三(二)2", "chapter": "三", "title": "推进城市更新",
               "departments": ["住建局", "农业农村局"], "indicators": ["old_estates"]}],
}


def write_mini(tmp_path: Path, mutate=None) -> Path:
    data = json.loads(json.dumps(MINI, ensure_ascii=False))
    if mutate:
        mutate(data)
    plan = tmp_path / "plan"
    plan.mkdir(parents=True)
    (plan / "plan.txt").write_text(MINI_PLAN, encoding="utf-8")
    for name, entries in data.items():
        (plan / f"{name}.yaml").write_text(yaml.safe_dump(entries, allow_unicode=True),
                                           encoding="utf-8")
    return tmp_path


def test_mini_registry_loads(tmp_path):
    reg = load_registry(write_mini(tmp_path))
    assert list(reg.indicators) == ["old_estates"]


def _ind(d):
    return d["indicators"][0]


CASES = [
    ("missing field", lambda d: _ind(d).pop("unit") and _ind(d).pop("name_zh"),
     "indicators.yaml, entry old_estates, field name_zh: missing field"),
    ("unknown kind", lambda d: _ind(d).update(kind="stock"),
     "entry old_estates, field kind: unknown kind"),
    ("quote not in plan", lambda d: _ind(d).update(quote="完成45个老旧小区改造"),
     "field quote: quote is not a verbatim substring"),
    ("unknown department", lambda d: _ind(d).update(lead="城建局"),
     "field lead: unknown department (seen: '城建局')"),
    ("duplicate id", lambda d: d["indicators"].append(dict(_ind(d))),
     "entry old_estates, field id: duplicate id"),
    ("target year outside", lambda d: _ind(d)["targets"][0].update(year=2030),
     "field targets.year: target year outside the plan (seen: 2030)"),
    ("unclaimed indicator", lambda d: d["tasks"][0].update(indicators=[]),
     "entry old_estates, field id: no task claims this indicator"),
]


@pytest.mark.parametrize(("case", "mutate", "message"), CASES, ids=[c[0] for c in CASES])
def test_malformed_registry_is_refused(tmp_path, case, mutate, message):
    with pytest.raises(RegistryError) as err:
        load_registry(write_mini(tmp_path, mutate))
    assert message in str(err.value)


def test_cli_prints_registry_error_without_traceback(tmp_path, capsys):
    data = write_mini(tmp_path, lambda d: _ind(d).update(kind="stock"))
    assert cli.main(["--data", str(data), "plan"]) == 1
    err = capsys.readouterr().err
    assert "unknown kind" in err and "Traceback" not in err


def test_real_registry_copy_with_a_broken_quote_is_refused(tmp_path):
    shutil.copytree(DATA / "plan", tmp_path / "plan")
    path = tmp_path / "plan" / "indicators.yaml"
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    entries[0]["quote"] = "这句话不在方案里"
    path.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RegistryError) as err:
        load_registry(tmp_path)
    assert entries[0]["id"] in str(err.value)
