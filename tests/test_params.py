"""params.py: params/<period>.yml is read strictly; every refusal names the file and the key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from planbook.errors import ParamsError, PeriodError
from planbook.plan.params import (
    REQUIRED,
    Params,
    check_injected,
    load_params,
    params_file,
    resolve_period,
)

GOOD = {
    "2025": 'period: "2025"\nas_of: 2025-12-31\ndata_dir: data\nkind: annual\n'
            "plan_id: jiande-2023-2027\n",
    "2026-10": 'period: "2026-10"\nas_of: 2026-10-31\ndata_dir: data\nkind: briefing\n'
               "plan_id: jiande-2023-2027\n",
}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "params").mkdir()
    for period, text in GOOD.items():
        (tmp_path / "params" / f"{period}.yml").write_text(text, encoding="utf-8")
    return tmp_path


def write(root: Path, period: str, text: str) -> Path:
    path = root / "params" / f"{period}.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_loads_with_strings_throughout(root: Path):
    p = load_params("2025", root)
    assert p == Params(period="2025", as_of="2025-12-31", data_dir="data", kind="annual",
                       plan_id="jiande-2023-2027")
    assert list(p.as_dict()) == list(REQUIRED)  # exactly what papermill injects
    assert all(isinstance(v, str) for v in p.as_dict().values())
    assert p.parsed_period.kind == "year"
    assert load_params("2026-10", root).parsed_period.kind == "month"


def test_data_path_is_relative_to_the_root_unless_absolute(root: Path, tmp_path: Path):
    p = load_params("2025", root)
    assert p.data_path(root) == root / "data"
    elsewhere = tmp_path / "other-data"
    write(root, "2024", GOOD["2025"].replace('"2025"', '"2024"').replace("2025-12-31",
                                                                          "2024-12-31")
          .replace("data_dir: data", f"data_dir: {elsewhere}"))
    assert load_params("2024", root).data_path(root) == elsewhere


def test_a_year_written_as_a_number_is_accepted(root: Path):
    write(root, "2025", GOOD["2025"].replace('"2025"', "2025"))
    assert load_params("2025", root).period == "2025"


@pytest.mark.parametrize("edit, expected", [
    (lambda t: t.replace("kind: annual\n", ""), "缺少键 kind"),
    (lambda t: t.replace("as_of: 2025-12-31\n", "").replace("plan_id: jiande-2023-2027\n", ""),
     "缺少键 as_of、plan_id"),
    (lambda t: t + "author: 统计局\n", "有未知的键 author"),
    (lambda t: t.replace("kind: annual\n", "kinds: annual\n"),
     "缺少键 kind；有未知的键 kinds"),
])
def test_missing_and_unknown_keys_are_named_with_the_file(root: Path, edit, expected):
    path = write(root, "2025", edit(GOOD["2025"]))
    with pytest.raises(ParamsError) as info:
        load_params("2025", root)
    message = str(info.value)
    assert str(path) in message
    assert expected in message
    assert "period、as_of、data_dir、kind、plan_id" in message  # the fix


@pytest.mark.parametrize("edit, expected", [
    (lambda t: t.replace("kind: annual", "kind: yearly"), "的键 kind 为 yearly，不是已知的报告类型"),
    (lambda t: t.replace("as_of: 2025-12-31", "as_of: 2025年底"), "的键 as_of 为 2025年底，不是日期"),
    (lambda t: t.replace('period: "2025"', 'period: "2024"'),
     "的键 period 为 2024，而文件名是期间 2025"),
])
def test_bad_values_are_named(root: Path, edit, expected):
    path = write(root, "2025", edit(GOOD["2025"]))
    with pytest.raises(ParamsError) as info:
        load_params("2025", root)
    assert str(path) in str(info.value) and expected in str(info.value)


def test_an_impossible_date_is_refused_naming_the_key(root: Path):
    path = write(root, "2025", GOOD["2025"].replace("as_of: 2025-12-31", "as_of: 2025-13-45"))
    with pytest.raises(ParamsError) as info:
        load_params("2025", root)
    assert str(path) in str(info.value) and "as_of" in str(info.value)


def test_a_malformed_period_value_names_file_and_key(root: Path):
    path = write(root, "2025", GOOD["2025"].replace('period: "2025"', 'period: "2025年"'))
    with pytest.raises(PeriodError) as info:
        load_params("2025", root)
    assert f"{path} 的键 period" in str(info.value)


@pytest.mark.parametrize("text, expected", [
    ("period: [2025\n", "不是有效的 YAML"),
    ("- 2025\n- annual\n", "应由“键: 值”的行组成"),
])
def test_a_file_that_is_not_a_mapping_is_refused(root: Path, text, expected):
    write(root, "2025", text)
    with pytest.raises(ParamsError, match=expected):
        load_params("2025", root)


def test_a_period_without_a_file_is_refused_naming_the_file(root: Path):
    with pytest.raises(ParamsError) as info:
        load_params("2027", root)
    assert str(params_file("2027", root)) in str(info.value)
    assert "planbook period new 2027" in str(info.value)


def test_default_is_the_latest_year_file(root: Path):
    write(root, "2023", GOOD["2025"].replace("2025", "2023"))
    assert resolve_period("default", root) == "2025"  # 2026-10 is a month, not a year file
    assert resolve_period("2026-10", root) == "2026-10"
    assert load_params("default", root).period == "2025"


def test_default_yml_chooses_the_period(root: Path):
    write(root, "default", 'period: "2026-10"\n')
    assert resolve_period("default", root) == "2026-10"
    write(root, "default", "kind: annual\n")
    with pytest.raises(ParamsError, match="缺少键 period"):
        resolve_period("default", root)


def test_default_without_any_year_file_is_refused(tmp_path: Path):
    (tmp_path / "params").mkdir()
    with pytest.raises(ParamsError, match="没有年度参数文件"):
        resolve_period("default", tmp_path)


def test_check_injected_refuses_unset_parameters():
    values = {"period": "2025", "as_of": "2025-12-31", "data_dir": "data", "kind": "",
              "plan_id": None}
    with pytest.raises(ParamsError, match="参数未设置：kind、plan_id"):
        check_injected(values)
    values.update(kind="annual", plan_id="jiande-2023-2027")
    assert check_injected(values).kind == "annual"


@pytest.mark.parametrize("period, edit, expected", [
    ("2025", lambda t: t.replace("kind: annual", "kind: briefing"),
     "的键 kind 为 briefing，但 2025 是年份"),
    ("2026-10", lambda t: t.replace("kind: briefing", "kind: annual"),
     "的键 kind 为 annual，但 2026-10 是月份"),
    ("2025", lambda t: t.replace("plan_id: jiande-2023-2027", "plan_id: 42"),
     "的键 plan_id 为 42，不是本方案的编号"),
    ("2025", lambda t: t.replace("as_of: 2025-12-31", "as_of: 1900-01-01"),
     "的键 as_of 为 1900-01-01，不在 2025-12-31 至"),
    ("2025", lambda t: t.replace("as_of: 2025-12-31", "as_of: 2025-06-30"),
     "的键 as_of 为 2025-06-30，不在"),
    ("2025", lambda t: t.replace("as_of: 2025-12-31", "as_of: 2099-01-01"),
     "的键 as_of 为 2099-01-01，不在"),
    ("2025", lambda t: t + "kind: briefing\n", "键 kind 出现两次（第 4 行和第 6 行）"),
    ("2025", lambda t: t + 'period: "2025"\n', "键 period 出现两次"),
])
def test_params_must_fit_the_period_they_name(root: Path, period, edit, expected):
    path = write(root, period, edit(GOOD[period]))
    with pytest.raises(ParamsError) as info:
        load_params(period, root)
    assert str(path) in str(info.value) and expected in str(info.value)


def test_the_shipped_params_all_pass():
    """Each shipped params file is valid on the day after its cut-off; until then (2027's final
    report, cut-off 2028-03-31) it is refused with the one message for a future cut-off."""
    shipped = Path(__file__).resolve().parents[1]
    for path in sorted((shipped / "params").glob("[0-9]*.yml")):
        as_of = dt.date.fromisoformat(yaml.safe_load(path.read_text(encoding="utf-8"))["as_of"])
        after = as_of + dt.timedelta(days=1)
        assert load_params(path.stem, shipped, today=after).period == path.stem
        if as_of > dt.date.today():
            with pytest.raises(ParamsError, match="截止"):
                load_params(path.stem, shipped, today=as_of - dt.timedelta(days=1))
