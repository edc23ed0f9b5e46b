"""Leads by remit (issue 23): every indicator and named project is led by a body the plan names
for its item, with a basis; the loader refuses what breaks that; `planbook plan --leads` lists
them; the method appendix counts the confirmed ones."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support import write_plan

from planbook.chapters.methodology import lead_passage
from planbook.errors import RegistryError
from planbook.plan import leads
from planbook.plan.registry import load_registry

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
PLAN = (DATA / "plan" / "plan.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def registry():
    return load_registry(DATA)


def closing_lists() -> dict[str, list[str]]:
    """Item id → the bodies of its closing parenthesis, read from plan.txt itself (not from
    tasks.yaml), for the numbered items of 三, 四 and 五; plus 六(一)'s “X、Y牵头”."""
    out, chapter, section = {}, None, None
    for line in PLAN.splitlines():
        line = line.strip()
        if m := re.match(r"^([二三四五六])、", line):
            chapter = m[1]
        elif (m := re.match(r"^[(（]([一二三四五六七八九十])[)）]", line)) and chapter in "三四五":
            section = f"({m[1]})"
        elif (m := re.match(r"^(\d+)\.", line)) and chapter in "三四五":
            closing = re.findall(r"[(（]([^()（）]*)[)）]。?$", line)[-1]
            out[f"{chapter}{section}{m[1]}"] = [n for n in re.split(r"[、，,]", closing) if n]
    out["六(一)"] = re.search(r"。([^。]*)牵头细化专项方案", PLAN)[1].split("、")
    return out


def test_every_lead_is_a_body_the_plan_names_for_the_item_with_a_basis(registry):
    named_in_plan = closing_lists()

    def named(items):
        out = []
        for item in items:
            for n in named_in_plan.get(item, []):
                d = registry.resolve_department(n)
                assert d, (item, n)
                if d not in out:
                    out.append(d)
        return out

    entries = [*registry.indicators.values(), *registry.projects.values()]
    assert len(registry.indicators) == 107 and len(registry.projects) == 51
    for e in entries:
        assert e.lead_basis and len(e.lead_basis) >= 8, e.id
        assert "\n" not in e.lead_basis, e.id  # one line
        bodies = named(e.items)
        if bodies:
            assert e.lead in bodies, (e.id, e.lead, bodies)
            assert list(e.co) == [d for d in bodies if d != e.lead], e.id
            assert e.lead_stated == (bodies == [e.lead]), e.id
        else:  # 二 and 六(二) name no body: the basis cites an item that names the lead
            cited = re.findall(r"[三四五六]\([一二三四五六七八九十]\)\d*",
                               e.lead_basis.replace("（", "(").replace("）", ")"))
            assert any(e.lead in named([c]) for c in cited), (e.id, e.lead_basis)
            assert not e.lead_stated, e.id
    for p in registry.projects.values():  # a project and its milestone share the lead
        if p.indicator:
            assert registry.indicators[p.indicator].lead == p.lead, p.id


REMIT = {  # the reviewer's findings (issue 23): the body whose remit each one is
    "ind_rural_power_reliability": "供电公司",
    "ind_water_supply_coverage": "水利局",
    "ind_gongfu_station_coverage": "邮政局",
    "ind_elderly_consortia_township_coverage": "民政局",
    "ind_5g_village_coverage": "经信局",
    "ind_ms_ipv6_deployment": "经信局",
    "ind_provincial_forest_towns": "林业局",
    "ind_sports_area_per_capita": "文广旅体局",
    "ind_online_gov_services_share": "数据资源中心",
    "ind_idle_farmhouses_revitalized": "农业农村局",
}


def test_the_issue_s_examples_have_their_remit_lead_and_await_confirmation(registry):
    for ind_id, lead in REMIT.items():
        ind = registry.indicators[ind_id]
        assert ind.lead == lead, (ind_id, ind.lead)
        assert not ind.lead_stated and registry.lead_status(ind) in ("待确认", "已确认")
    # the power-reliability item's bracket starts with 交通运输局, the old (wrong) lead
    assert registry.tasks["五(三)1"].departments[0] == "交通运输局"
    assert registry.indicators["ind_rural_power_reliability"].co == (
        "交通运输局", "水利局", "邮政局")
    # 市委政法委 is named for 三(二)3's 基层治理, and no longer leads its digital infrastructure
    assert not [i.id for i in registry.indicators.values() if i.lead == "市委政法委"]


def test_the_shipped_confirmations_file_loads_and_matches_the_registry(registry):
    assert "leads_confirmed" in registry.files
    for cid, conf in registry.confirmations.items():
        entry = registry.indicators.get(cid) or registry.projects[cid]
        assert conf.lead == entry.lead and conf.confirmed_by and conf.date


# ----------------------------------------------------------------- refused registries

MINI_PLAN = ("到2027年，完成44个老旧小区改造，完成城东新区建设。(住建局、农业农村局)\n"
             "地区生产总值超600亿元。\n农业农村局、发改局牵头细化专项方案。\n")
MINI = {
    "departments": [{"name": n, "type": "government", "code": c} for n, c in
                    (("住建局", "zhujian"), ("农业农村局", "nongye"), ("发改局", "fagai"))],
    "indicators": [
        {"id": "old_estates", "path": "三(二)2", "name_zh": "老旧小区改造", "name_en": "x",
         "unit": "个", "kind": "cumulative", "direction": "increase",
         "targets": [{"value": 44, "year": 2027, "op": ">="}], "lead": "住建局",
         "co": ["农业农村局"], "lead_basis": "城镇老旧小区改造属住建局职责。",
         "lead_stated": False, "quote": "完成44个老旧小区改造"},
        {"id": "east_district", "path": "三(二)2", "name_zh": "城东新区建成", "name_en": "x",
         "unit": "", "kind": "milestone", "direction": "none", "targets": [{"year": 2027}],
         "lead": "住建局", "co": ["农业农村局"], "lead_basis": "城市新区建设属住建局职责。",
         "lead_stated": False, "quote": "完成城东新区建设"},
        {"id": "gdp", "path": "二", "name_zh": "地区生产总值", "name_en": "GDP", "unit": "亿元",
         "kind": "level", "direction": "increase",
         "targets": [{"value": 600, "year": 2027, "op": ">="}], "lead": "发改局", "co": [],
         "lead_basis": "方案未列责任单位；国民经济综合指标属发改局职责，发改局为六(一)所定牵头单位之一。",
         "lead_stated": False, "quote": "地区生产总值超600亿元"}],
    "tasks": [
        {"id": "二", "chapter": "二", "title": "总体目标", "departments": [],
         "indicators": ["gdp"]},
        {"id": "三(二)2", "chapter": "三", "title": "推进城市更新",
         "departments": ["住建局", "农业农村局"], "indicators": ["old_estates", "east_district"]},
        {"id": "六(一)", "chapter": "六", "title": "强化统筹领导",
         "departments": ["农业农村局", "发改局"], "indicators": []}],
    "projects": [
        {"id": "prj_east_district", "name_zh": "城东新区", "name_en": "x", "task": "三(二)2",
         "lead": "住建局", "co": ["农业农村局"], "lead_basis": "城市新区建设属住建局职责。",
         "lead_stated": False, "target_stage": "完工", "target_year": 2027,
         "year_inferred": True, "stage_basis": "完成", "quote": "完成城东新区建设",
         "indicator": "east_district"}],
    "leads_confirmed": [
        {"id": "old_estates", "lead": "住建局", "confirmed_by": "工程工作专班",
         "date": "2026-05-20", "note": "测试"}],
}


def write_mini(tmp_path: Path, mutate=None) -> Path:
    return write_plan(tmp_path, MINI, MINI_PLAN, mutate)


def _ind(i):
    return lambda d: d["indicators"][i]


def _set(getter, **changes):
    return lambda d: getter(d).update(changes)


def _drop(getter, name):
    return lambda d: getter(d).pop(name)


def _prj(d):
    return d["projects"][0]


def _conf(d):
    return d["leads_confirmed"][0]


CASES = [
    ("missing basis", _drop(_ind(0), "lead_basis"),
     "indicators.yaml，条目 old_estates，字段 lead_basis：缺少该字段"),
    ("missing stated", _drop(_ind(0), "lead_stated"),
     "indicators.yaml，条目 old_estates，字段 lead_stated：缺少该字段"),
    ("stated not a flag", _set(_ind(0), lead_stated="yes"),
     "条目 old_estates，字段 lead_stated：应为 true 或 false"),
    ("lead not named", _set(_ind(0), lead="发改局", co=["住建局", "农业农村局"]),
     "indicators.yaml，条目 old_estates，字段 lead：牵头单位不在方案为 三(二)2 列出的单位中；"
     "所见：“发改局”；应为：按职责从 住建局、农业农村局 中选一个"),
    ("co incomplete", _set(_ind(0), co=[]),
     "条目 old_estates，字段 co：co 不是方案为 三(二)2 列出的其余单位（按原文顺序）；所见：[]；"
     "应为：[农业农村局]"),
    ("stated with two named", _set(_ind(0), lead_stated=True),
     "条目 old_estates，字段 lead_stated：方案为 三(二)2 列出 2 个单位，牵头单位是推定的"),
    ("headline basis cites nothing", _set(_ind(2), lead_basis="国民经济综合指标属发改局职责。"),
     "条目 gdp，字段 lead_basis：方案没有为 二 列出单位：lead_basis 须引用列有 发改局 的方案条目"),
    ("headline lead not in cited item", _set(_ind(2), lead="住建局"),
     "条目 gdp，字段 lead_basis：方案没有为 二 列出单位：lead_basis 须引用列有 住建局 的方案条目"),
    ("headline stated", _set(_ind(2), lead_stated=True),
     "条目 gdp，字段 lead_stated：方案没有为 二 列出单位，不可能原文明确牵头单位"),
    ("project missing basis", lambda d: _prj(d).pop("lead_basis"),
     "projects.yaml，条目 prj_east_district，字段 lead_basis：缺少该字段"),
    ("project lead not named", lambda d: _prj(d).update(lead="发改局", co=[]),
     "projects.yaml，条目 prj_east_district，字段 lead：牵头单位不在方案为 三(二)2 列出的"
     "单位中"),
    ("project lead differs from its milestone",
     lambda d: _prj(d).update(lead="农业农村局", co=["住建局"]),
     "projects.yaml，条目 prj_east_district，字段 lead：跟踪该项目的节点任务指标 "
     "east_district 由 住建局 牵头；所见：“农业农村局”；"
     "应为：住建局"),
    ("confirmation of an unknown id", _set(_conf, id="ind_nowhere"),
     "leads_confirmed.yaml，条目 ind_nowhere，字段 id：未知的指标或项目编号"),
    ("confirmation of another lead", _set(_conf, lead="农业农村局"),
     "leads_confirmed.yaml，条目 old_estates，字段 lead：确认的牵头单位与登记的牵头单位 住建局 "
     "不同；所见：“农业农村局”；应为：住建局；如工作专班确定由 农业农村局 牵头，先改登记中 "
     "old_estates 的 lead、co 和 lead_basis"),
    ("confirmation without a date", _drop(_conf, "date"),
     "leads_confirmed.yaml，条目 old_estates，字段 date：缺少该字段"),
    ("confirmation with a bad date", _set(_conf, date="20.5.2026"),
     "条目 old_estates，字段 date：不是日期；所见：“20.5.2026”"),
    ("confirmation before the plan", _set(_conf, date="2022-12-31"),
     "条目 old_estates，字段 date：确认日期早于方案印发"),
    ("confirmation without who", _drop(_conf, "confirmed_by"),
     "条目 old_estates，字段 confirmed_by：缺少该字段"),
    ("confirmation twice", lambda d: d["leads_confirmed"].append(dict(_conf(d))),
     "条目 old_estates，字段 id：重复的确认"),
    ("confirmation unknown field", _set(_conf, approved=True),
     "条目 old_estates，字段 approved：未知的字段"),
]


def test_mini_registry_with_leads_loads_and_counts_its_confirmation(tmp_path):
    reg = load_registry(write_mini(tmp_path))
    assert reg.lead_status(reg.indicators["old_estates"]) == "已确认"
    assert reg.lead_status(reg.indicators["gdp"]) == "待确认"
    s = leads.lead_summary(reg)
    assert (s["entries"], s["stated"], s["confirmed"], s["pending"], s["headline_rule"]) == \
        (4, 0, 1, 3, 1)
    text = lead_passage(reg)
    assert "已确认1项（最近一次2026-05-20），待确认3项" in text
    assert "共4项" in text and "按所引条目确定的1项" in text


@pytest.mark.parametrize(("case", "mutate", "message"), CASES, ids=[c[0] for c in CASES])
def test_a_broken_lead_or_confirmation_is_refused_with_its_place(tmp_path, case, mutate,
                                                                 message):
    with pytest.raises(RegistryError) as err:
        load_registry(write_mini(tmp_path, mutate))
    assert message in str(err.value)


# ----------------------------------------------------------------- the command


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-m", "planbook.cli", "--data", str(DATA), "plan",
                           *args], capture_output=True, text=True, env=env, timeout=120,
                          check=False)


def test_plan_leads_lists_every_lead_with_its_basis(registry):
    done = _cli("--leads")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("牵头单位核对清单：指标 107 项、点名项目 51 个，共 158 项")
    for e in (*registry.indicators.values(), *registry.projects.values()):
        assert f" {e.id} {e.name_zh}｜" in out, e.id
    power = next(line for line in out.splitlines() if "ind_rural_power_reliability" in line)
    assert "配合：交通运输局、水利局、邮政局" in power and "推定·待确认" in power
    assert "原文首列：交通运输局" in power
    heads = [line for line in out.splitlines() if line.startswith("【牵头单位：")]
    assert "【牵头单位：供电公司】指标 1 项、项目 0 个（待确认 1）" in heads
    assert len(heads) == len({e.lead for e in (*registry.indicators.values(),
                                              *registry.projects.values())})
    assert "依据：" in out

    by_item = _cli("--leads", "--by", "item").stdout
    assert "【方案条目：五(三)1】" in by_item and "牵头：供电公司" in by_item

    done = _cli("--leads", "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    rows = {r["id"]: r for r in payload["entries"]}
    assert len(rows) == 158 and payload["summary"]["entries"] == 158
    assert payload["summary"]["pending"] + payload["summary"]["confirmed"] + \
        payload["summary"]["stated"] == 158
    power = rows["ind_rural_power_reliability"]
    assert power["lead"] == "供电公司" and power["source_zh"] == "推定"
    assert power["first_named"] == "交通运输局" and power["lead_basis"]
    assert rows["prj_express_logistics_network"]["kind_zh"] == "项目"


def test_a_reader_that_stops_early_gets_no_traceback():
    """`planbook plan --leads | head`: the reader leaves (here at once: `true` reads nothing);
    the command ends quietly, exit 0, no traceback."""
    proc = subprocess.run(f"{sys.executable} -m planbook.cli --data {DATA} plan --leads | true;"
                          " echo rc=${PIPESTATUS[0]}", shell=True, executable="/bin/bash",
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    assert "rc=0" in proc.stdout
