"""The plan as data: the real registry against plan.txt, and malformed fixture registries."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from support import write_plan

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
        "co": ["农业农村局"], "lead_basis": "城镇老旧小区改造属住建局职责。", "lead_stated": False,
        "quote": "完成44个老旧小区改造"}],
    "tasks": [{"id": "三(二)2", "chapter": "三", "title": "推进城市更新",
               "departments": ["住建局", "农业农村局"], "indicators": ["old_estates"]}],
}


def write_mini(tmp_path: Path, mutate=None) -> Path:
    return write_plan(tmp_path, MINI, MINI_PLAN, mutate)


def test_mini_registry_loads(tmp_path):
    reg = load_registry(write_mini(tmp_path))
    assert list(reg.indicators) == ["old_estates"]


def _ind(d):
    return d["indicators"][0]


CASES = [
    ("missing field", lambda d: _ind(d).pop("unit") and _ind(d).pop("name_zh"),
     "indicators.yaml，条目 old_estates，字段 name_zh：缺少该字段"),
    ("unknown kind", lambda d: _ind(d).update(kind="stock"),
     "条目 old_estates，字段 kind：未知的指标类型"),
    ("quote not in plan", lambda d: _ind(d).update(quote="完成45个老旧小区改造"),
     "字段 quote：引文不是 plan.txt 原文的一段"),
    ("unknown department", lambda d: _ind(d).update(lead="城建局"),
     "字段 lead：未知的单位；所见：“城建局”"),
    ("duplicate id", lambda d: d["indicators"].append(dict(_ind(d))),
     "条目 old_estates，字段 id：编号重复"),
    ("target year outside", lambda d: _ind(d)["targets"][0].update(year=2030),
     "字段 targets.year：目标年份不在方案期内；所见：2030"),
    ("unclaimed indicator", lambda d: d["tasks"][0].update(indicators=[]),
     "条目 old_estates，字段 id：没有任务条目列出该指标"),
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
    assert "未知的指标类型" in err and "Traceback" not in err


def test_real_registry_copy_with_a_broken_quote_is_refused(tmp_path):
    shutil.copytree(DATA / "plan", tmp_path / "plan")
    path = tmp_path / "plan" / "indicators.yaml"
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    entries[0]["quote"] = "这句话不在方案里"
    path.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RegistryError) as err:
        load_registry(tmp_path)
    assert entries[0]["id"] in str(err.value)


# ----------------------------------------------------------------- the named-project ledger

NAMED = ("建金铁路", "建衢铁路", "320国道外迁", "330国道大慈岩段改建", "建武高速",
         "千岛湖通用机场二期", "杭州市第七人民医院浙西院区", "新安江货运码头", "桐溪大桥",
         "紫金大桥")


def test_every_project_quote_is_verbatim_and_names_a_task(registry):
    assert len(registry.projects) >= 40
    for p in registry.projects.values():
        assert p.quote in PLAN, p.id
        assert p.task in registry.tasks, p.id
        assert set(p.departments) <= set(registry.departments), p.id
        if not p.year_inferred:
            assert f"{p.target_year}年" in p.quote, p.id
        if p.indicator:
            assert registry.indicators[p.indicator].kind == "milestone", p.id


def test_the_issue_s_named_projects_are_in_the_ledger(registry):
    names = [p.name_zh for p in registry.projects.values()]
    for name in NAMED:
        assert any(name in n for n in names), name
    jianwu = next(p for p in registry.projects.values() if p.name_zh == "建武高速")
    assert jianwu.target_stage == "谋划" and jianwu.task == "三(二)1"


def test_bridge_and_road_milestones_are_linked_to_projects(registry):
    linked = {p.indicator for p in registry.projects.values()}
    for ind in ("ind_ms_jinqian_railway_relocation_start", "ind_ms_g351_start",
                "ind_ms_tongxi_bridge", "ind_ms_zijin_bridge"):
        assert ind in linked


def test_plan_summary_counts_projects(capsys):
    assert cli.main(["plan", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["projects"] == sum(out["projects_by_stage"].values()) >= 40
    assert cli.main(["plan"]) == 0
    assert "点名项目" in capsys.readouterr().out


PROJECT = {"id": "prj_old_estates", "name_zh": "老旧小区改造", "name_en": "x", "task": "三(二)2",
           "lead": "住建局", "co": ["农业农村局"], "lead_basis": "城镇老旧小区改造属住建局职责。",
           "lead_stated": False, "target_stage": "完工", "target_year": 2027,
           "year_inferred": False, "stage_basis": "完成", "quote": "到2027年，完成44个老旧小区改造"}


def _with_project(**changes):
    def mutate(d):
        d["projects"] = [{**PROJECT, **changes}]
    return mutate


PROJECT_CASES = [
    ("quote not in plan", _with_project(quote="完成45个老旧小区改造"),
     "projects.yaml，条目 prj_old_estates，字段 quote：引文不是 plan.txt 原文的一段"),
    ("unknown task", _with_project(task="三(九)9"),
     "条目 prj_old_estates，字段 task：未知的任务条目；所见：“三(九)9”"),
    ("unknown department", _with_project(co=["城建局"]),
     "字段 co：未知的单位；所见：“城建局”"),
    ("unknown stage", _with_project(target_stage="投产"),
     "字段 target_stage：未知的项目阶段；所见：“投产”；应为：谋划 / 前期 / 开工 / 在建 / 完工"),
    ("year not in quote", _with_project(target_year=2026),
     "字段 target_year：引文中没有该年份"),
    ("bad id", _with_project(id="Old-Estates"), "字段 id：不是项目编号"),
    ("not a milestone", _with_project(indicator="old_estates"),
     "字段 indicator：不是节点任务类指标"),
    ("unknown field", _with_project(stage="完工"), "字段 stage：未知的字段"),
]


def test_mini_registry_with_a_project_loads(tmp_path):
    reg = load_registry(write_mini(tmp_path, _with_project()))
    assert list(reg.projects) == ["prj_old_estates"]
    assert reg.projects_of("三(二)2")[0].departments == ("住建局", "农业农村局")
    assert reg.summary()["projects_by_stage"]["完工"] == 1


@pytest.mark.parametrize(("case", "mutate", "message"), PROJECT_CASES,
                         ids=[c[0] for c in PROJECT_CASES])
def test_malformed_project_is_refused(tmp_path, case, mutate, message):
    with pytest.raises(RegistryError) as err:
        load_registry(write_mini(tmp_path, mutate))
    assert message in str(err.value)


def _task_spans(registry) -> dict[str, tuple[int, int]]:
    """Where each task item's text runs in plan.txt (its heading to the next one)."""
    chapter_at = {ch: re.search(rf"^{ch}、", PLAN, re.M).start() for ch in "三四五六"}
    starts = []
    for t in registry.tasks.values():
        if t.id == "二":
            continue
        base = chapter_at[t.chapter]
        if t.section:
            base = PLAN.index(t.section + t.section_title, base)
        head = (t.section + t.title if t.chapter == "六"
                else "\n" + re.search(r"(\d+)$", t.id)[1] + "." + t.title)
        starts.append((PLAN.index(head, base), t.id))
    starts.sort()
    return {tid: (s, starts[k + 1][0] if k + 1 < len(starts) else len(PLAN))
            for k, (s, tid) in enumerate(starts)}


def test_every_project_quote_lies_in_the_text_of_its_task(registry):
    spans = _task_spans(registry)
    for p in registry.projects.values():
        start, end = spans[p.task]
        assert any(start <= m.start() < end for m in re.finditer(re.escape(p.quote), PLAN)), p.id


def test_registry_is_read_again_when_its_bytes_change_and_a_failed_load_is_not_kept(tmp_path):
    """A build asks for the registry several times and gets it parsed once, keyed by the
    files' content: a file rewritten with the same size and time is read again, and a
    registry that failed to load is never served."""
    import os

    data = tmp_path / "data"
    shutil.copytree(DATA / "plan", data / "plan")
    first, again = load_registry(data), load_registry(data)
    assert first.indicators == again.indicators and first.indicators is not again.indicators
    path = data / "plan" / "indicators.yaml"
    text, stat = path.read_text(encoding="utf-8"), path.stat()
    old = first.indicators["ind_gdp"].name_zh
    assert text.count(f"name_zh: {old}") == 1
    path.write_text(text.replace(f"name_zh: {old}", f"name_zh: {old[::-1]}"), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the same time, the same size
    assert load_registry(data).indicators["ind_gdp"].name_zh == old[::-1]
    path.write_text(text + "- id: [\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(Exception):  # noqa: B017 - damaged YAML, every time it is asked
            load_registry(data)
    path.write_text(text, encoding="utf-8")
    assert load_registry(data).indicators["ind_gdp"].name_zh == old
