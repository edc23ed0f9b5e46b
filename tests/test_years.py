"""Data over years: resends that add nothing, plausibility, submission dates (intake fixture
registry), real before sample (assessment), and the sample command keeping real rows."""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from planbook import cli
from planbook.plan.periods import parse_period
from planbook.plan.registry import load_registry
from planbook.store.intake import ingest
from planbook.store.observations import latest, load_observations, read_store_file
from planbook.store.templates import write_templates

FIXTURES = Path(__file__).parent / "fixtures" / "intake"
TODAY = date(2026, 11, 15)
HEADER = "指标编号,期间,数值,单位,数据状态,数据来源,备注\n"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(FIXTURES / "plan", folder / "plan")
    return folder


def csv(path: Path, body: str) -> Path:
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def run(files, data: Path, **kw):
    kw.setdefault("today", TODAY)
    return ingest([Path(f) for f in files], data, check=False, **kw)


def store_bytes(data: Path) -> dict[str, bytes]:
    folder = data / "observations"
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*"))} if folder.is_dir() else {}


# ---------------------------------------------------------------- idempotent intake


def test_same_file_again_is_recognised_and_adds_nothing(data, tmp_path):
    f = csv(tmp_path / "a.csv", "gdp,2024,980,亿元,provisional,快报,\nfarmland,2024,0.6,万亩,,,\n")
    assert run([f], data).ok
    before = store_bytes(data)
    report = run([f], data)
    assert report.ok and report.files[0].outcome == "duplicate"
    assert store_bytes(data) == before
    [line] = [x for x in report.summary_lines() if f.name in x]
    assert line.startswith("[已接收过] a.csv") and "未新增任何数据" in line


def test_only_changed_rows_become_revisions_and_are_listed(data, tmp_path):
    rows = ["gdp,2024,980,亿元,provisional,快报,", "gdp,2023,900,亿元,official,公报,",
            "farmland,2024,0.6,万亩,,台账,"]
    assert run([csv(tmp_path / "first.csv", "\n".join(rows) + "\n")], data).ok
    rows[0] = "gdp,2024,987.3,亿元,provisional,快报,"
    report = run([csv(tmp_path / "second.csv", "\n".join(rows) + "\n")], data)
    f = report.files[0]
    assert (f.rows_new, f.rows_revised, f.rows_unchanged) == (0, 1, 2)
    assert f.changes == ["gdp 2024：980 → 987.3"]
    text = "\n".join(report.summary_lines())
    assert "修订：gdp 2024：980 → 987.3" in text and "与已存相同 2 行未新增版次" in text
    raw = read_store_file(data / "observations" / "fagai.csv")
    assert sorted(zip(raw.period, raw.revision, strict=True)) == [
        ("2023", 1), ("2024", 1), ("2024", 2)]
    # a status change alone is a change too (e.g. a department figure becomes official)
    rows[2] = "farmland,2024,0.6,万亩,official,台账,"
    f = run([csv(tmp_path / "third.csv", "\n".join(rows) + "\n")], data).files[0]
    assert f.changes == ["farmland 2024：0.6 → 0.6（部门报送 → 正式统计）"]


def test_untouched_template_is_skipped_with_a_note(data, tmp_path, capsys):
    out = tmp_path / "out"
    written = write_templates(load_registry(data), parse_period("2025"), out, data)
    xlsx = [p for p in written if p.suffix == ".xlsx"]
    assert cli.main(["--data", str(data), "ingest", *map(str, xlsx), "--received",
                     "2026-02-01"]) == 0
    text = capsys.readouterr().out
    assert text.count("[跳过]") == len(xlsx) and "模板未填写任何数值" in text
    assert not (data / "observations").exists()


def test_templates_say_from_when_they_can_be_sent(data, tmp_path, capsys):
    import openpyxl

    assert cli.main(["--data", str(data), "templates", "--period", "2026-10", "--out",
                     str(tmp_path / "t")]) == 0
    assert "2026-10 的数据自 2026-11-01 起可报送" in capsys.readouterr().out
    figures = [p for p in (tmp_path / "t").glob("*.xlsx") if "工作进展" not in p.name]
    wb = openpyxl.load_workbook(figures[0])
    notes = "\n".join(str(c.value) for c in wb["说明"]["A"] if c.value)
    assert "自 2026-11-01 起可报送" in notes


# ---------------------------------------------------------------- dates


def test_received_date_stamps_rows_and_judges_the_period_rule(data, tmp_path):
    f = csv(tmp_path / "oct.csv", "new_industrial_firms,2026-10,30,家,,,\n")
    assert not run([f], data, today=None, received=date(2026, 10, 31), dry_run=True).ok
    report = run([f], data, today=None, received=date(2026, 11, 5))
    assert report.ok
    [row] = load_observations(data).itertuples()
    assert row.received_at == "2026-11-05T00:00:00+08:00"


def test_received_in_the_future_is_a_usage_error(data, tmp_path, capsys):
    f = csv(tmp_path / "oct.csv", "new_industrial_firms,2026-10,30,家,,,\n")
    assert cli.main(["--data", str(data), "ingest", str(f), "--received", "2999-01-01"]) == 2
    assert cli.main(["--data", str(data), "ingest", str(f), "--received", "soon"]) == 2


def test_period_not_ended_is_reported_once_per_file(data, tmp_path):
    body = "".join(f"gdp,2026-{m},{900 + m},亿元,,,\n" for m in (11, 12)) + \
        "new_industrial_firms,2026-12,40,家,,,\nfarmland,2026,1,万亩,,,\n"
    report = run([csv(tmp_path / "late.csv", body)], data, today=date(2026, 11, 15))
    found = [p for p in report.problems if "期间尚未结束" in p.message]
    assert len(found) == 1
    p = found[0]
    assert "共 4 行（第 2、3、4、5 行）" in p.message
    assert "2026-11 自 2026-12-01 起可报送" in p.expected and "2026 自 2027-01-01" in p.expected


# ---------------------------------------------------------------- plausibility


@pytest.mark.parametrize("first, second, word", [
    ("gdp,2024,980,亿元,,,", "gdp,2025,9800,亿元,,,", "倍"),
    ("gdp,2024,980,亿元,,,", "gdp,2025,98,亿元,,,", "1/10"),
    ("urbanization_rate,2024,70.1,%,,,", "urbanization_rate,2025,0.71,%,,,", "小数"),
    ("new_industrial_firms,2025,64,家,,,", "new_industrial_firms,2026-01,12,家,,,",
     "累计数不应减少"),
])
def test_implausible_values_need_confirmation(data, tmp_path, first, second, word):
    assert run([csv(tmp_path / "first.csv", first + "\n")], data).ok
    f = csv(tmp_path / "second.csv", second + "\n")
    dry = run([f], data, dry_run=True)
    assert not dry.ok and word in dry.problems[0].message
    assert dry.problems[0].row == 2 and dry.problems[0].column == "数值"
    assert "--confirm" in dry.problems[0].expected
    before = store_bytes(data)
    assert not run([f], data).ok
    assert store_bytes(data) == before
    report = run([f], data, confirm=True)
    assert report.ok and report.files[0].confirmed
    assert "已确认：" in "\n".join(report.summary_lines())


def test_a_note_explaining_the_value_confirms_it(data, tmp_path):
    assert run([csv(tmp_path / "a.csv", "gdp,2024,980,亿元,,,\n")], data).ok
    f = csv(tmp_path / "b.csv", "gdp,2025,9800,亿元,,,统计口径调整，已核实\n")
    report = run([f], data)
    assert report.ok
    assert "统计口径调整" in report.files[0].confirmed[0]


def test_sample_values_are_references_for_plausibility(data, tmp_path):
    """A first real figure is checked too: against the sample history (issue 25)."""
    assert run([csv(tmp_path / "a.csv", "gdp,2024,980,亿元,sample,,\n")], data).ok
    report = run([csv(tmp_path / "b.csv", "gdp,2025,9800,亿元,,,\n")], data)
    assert not report.ok and "是上期值980的10倍" in report.problems[0].message


def test_physical_range_on_a_bounded_rate():
    from planbook.store import plausibility
    from planbook.store.limits import out_of_range

    reg = load_registry(Path(__file__).resolve().parents[1] / "data")
    share = reg.indicators["ind_in_county_visit_rate"]  # shares over 100 are refused outright
    bounded = dataclasses.replace(share, kind="level")
    assert plausibility.bounded_by_100(bounded)
    ref = plausibility.Reference(None)
    [flag] = plausibility.check_value(bounded, "2025", 120.0, ref)
    assert flag.code == "range"
    pct = dataclasses.replace(share, kind="level")  # a % change, not a share
    # a fall of more than 100% is no figure at all: refused by the limits, not flagged
    assert out_of_range(pct, -150.0) and not out_of_range(pct, -100.0)


def test_archive_record_lists_changes_and_confirmations(data, tmp_path):
    assert run([csv(tmp_path / "a.csv", "gdp,2024,980,亿元,,,\n")], data).ok
    f = csv(tmp_path / "b.csv", "gdp,2024,9.8,亿元,,,\n")
    result = run([f], data, confirm=True).files[0]
    record = json.loads(result.record.read_text("utf-8"))["receptions"][-1]
    assert record["changes"] == ["gdp 2024：980 → 9.8"] and record["confirmed"]
    assert latest(load_observations(data)).value.tolist() == [9.8]


# ---------------------------------------------------------------- real before sample

KEY = "ind_key_project_investment"  # 重点项目累计完成投资: cumulative, monthly sample rows


def _real(project: Path, name: str, body: str, received: str = "2026-11-05") -> None:
    f = csv(project / name, body)
    assert cli.main(["ingest", str(f), "--received", received]) == 0


def test_assessment_never_compares_real_with_sample(project):
    from planbook.assess.rules import assess_indicator
    from planbook.store.observations import load_all

    data = project / "data"
    reg = load_registry(data)
    ind = reg.indicators[KEY]
    before = assess_indicator(ind, load_all(data, reg), parse_period("2026-10"))
    assert before.sample and before.latest_value == 188.7
    _real(project, "real.csv", f"{KEY},2026-10,185.2,亿元,provisional,发改局月报,\n")
    obs = load_all(data, reg)
    a = assess_indicator(ind, obs, parse_period("2026-10"))
    assert (a.latest_value, a.latest_period, a.sample) == (185.2, "2026-10", False)
    assert a.status != "deterioration"
    sample_sha = {r.file_sha256 for r in obs[obs.status == "sample"].itertuples()}
    assert not any(r.file_sha256 in sample_sha for r in a.inputs)
    # the month before still has only sample data: its own assessment stays sample
    assert assess_indicator(ind, obs, parse_period("2026-09")).sample


def test_real_row_wins_over_sample_row_of_the_same_period(project):
    _real(project, "real.csv", f"{KEY},2026-10,185.2,亿元,provisional,发改局月报,\n")
    rows = latest(load_observations(project / "data"))
    [row] = rows[(rows.indicator_id == KEY) & (rows.period == "2026-10")].itertuples()
    assert (row.value, row.status) == (185.2, "provisional")


def test_a_mixed_report_marks_sample_values_and_counts_them(project):
    from planbook.chapters.report import SAMPLE_MARK, Briefing

    _real(project, "real.csv", f"{KEY},2026-10,185.2,亿元,provisional,发改局月报,\n")
    rep = Briefing.load(period="2026-10", as_of="2026-11-10", data_dir="data",
                        kind="briefing", plan_id="jiande-2023-2027")
    assert rep.mixed
    n = sum(1 for a in rep.assessments if a.sample)
    assert f"本报告含示例数据{n}项" in rep.sample_notice()
    real = rep.by_id[KEY]
    assert SAMPLE_MARK not in rep._latest_text(real)
    fake = next(a for a in rep.assessments if a.sample and a.latest_value is not None)
    assert rep._latest_text(fake).count(SAMPLE_MARK) == 1
    assert rep.change_text(real) == "—（上月为示例数据，不作比较）"


def test_sample_remove_touches_nothing_real(project, capsys):
    data = project / "data"
    _real(project, "real.csv", f"{KEY},2026-10,185.2,亿元,provisional,发改局月报,\n")
    obs = load_observations(data)
    real_before = obs[obs.status != "sample"].drop(columns="file").sort_values(
        ["indicator_id", "period", "revision"]).reset_index(drop=True)
    assert cli.main(["sample", "--remove"]) == 0
    out = capsys.readouterr().out
    assert "删除示例数据" in out and "真实数据和方案基期值未改动" in out
    after = load_observations(data)
    assert not (after.status == "sample").any()
    assert after.drop(columns="file").sort_values(["indicator_id", "period", "revision"]) \
        .reset_index(drop=True).equals(real_before)
    text = (data / "villages" / "villages.csv").read_text("utf-8")
    assert ",sample," not in text
    assert cli.main(["sample", "--remove"]) == 0
    assert "没有示例数据" in capsys.readouterr().out


def test_sample_never_deletes_or_overwrites_real_rows(project, capsys):
    data = project / "data"
    _real(project, "real.csv", f"{KEY},2026-10,185.2,亿元,provisional,发改局月报,\n")
    vfile = data / "villages" / "villages.csv"
    lines = vfile.read_text("utf-8").splitlines()
    real = [ln.replace(",sample,", ",provisional,") for ln in lines[1:] if ",2025," in ln]
    vfile.write_text("\n".join([lines[0], *[ln for ln in lines[1:] if ",2025," not in ln],
                                *real]) + "\n", encoding="utf-8")
    assert cli.main(["sample"]) == 0
    out = capsys.readouterr().out
    assert "保留真实观测值 1 行" in out and "保留真实村级台账 229 行" in out
    rows = latest(load_observations(data))
    [row] = rows[(rows.indicator_id == KEY) & (rows.period == "2026-10")].itertuples()
    assert (row.value, row.status) == (185.2, "provisional")
    after = vfile.read_text("utf-8").splitlines()
    assert all(ln in after for ln in real)
    assert not any(",2025," in ln and ",sample," in ln for ln in after)
