"""`planbook sample`: deterministic, honest (sample row by row), varied enough for every status."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

from planbook import cli
from planbook.assess import rules as assess
from planbook.plan.periods import parse_period
from planbook.plan.registry import load_registry
from planbook.store import observations, villages

ROOT = Path(__file__).resolve().parents[1]


def _snapshot(data: Path) -> dict[str, bytes]:
    return {p.relative_to(data).as_posix(): p.read_bytes()
            for p in sorted(data.rglob("*")) if p.is_file()}


def test_sample_is_deterministic_and_matches_the_committed_data(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "plan", data / "plan")
    assert cli.main(["--data", str(data), "sample"]) == 0
    first = _snapshot(data)
    assert cli.main(["--data", str(data), "sample"]) == 0
    assert _snapshot(data) == first
    committed = _snapshot(ROOT / "data")
    for name, content in first.items():
        assert committed[name] == content, f"data/{name} differs from `planbook sample`"


def test_every_row_is_marked_and_only_plan_baselines_are_official():
    reg = load_registry(ROOT / "data")
    obs = observations.load_observations(ROOT / "data")
    assert set(obs["status"]) == {"sample", "official"}
    official = obs[obs["status"] == "official"]
    for row in official.itertuples():
        ind = reg.indicators[row.indicator_id]
        assert ind.baseline is not None and row.period == str(ind.baseline.year)
        assert row.value == ind.baseline.value
        assert any(q in row.source for q in ind.quotes)
    vil = villages.load_villages(ROOT / "data")
    assert set(vil["status"]) == {"sample"}


def test_villages_cover_229_villages_in_16_towns():
    vil = villages.load_villages(ROOT / "data")
    assert vil["village_id"].nunique() == 229
    assert set(vil["town"]) == set(villages.TOWNS) and len(villages.TOWNS) == 16
    assert sorted(vil["year"].unique()) == [2022, 2023, 2024, 2025]
    assert vil["name"].str.contains("示例").all()  # plainly fictional


def test_village_shares_are_computed_from_the_records():
    reg = load_registry(ROOT / "data")
    derived = villages.derived_observations(reg, ROOT / "data")
    vil = villages.load_villages(ROOT / "data")
    y2025 = vil[vil["year"] == 2025]
    row = derived[(derived["indicator_id"] == "ind_village_op_income_50w_share")
                  & (derived["period"] == "2025")].iloc[0]
    expected = 100 * (y2025["operating_income"] >= 50).sum() / len(y2025)
    assert row["value"] == round(expected, 4)
    assert row["status"] == "sample" and row["file"] == "villages/villages.csv"


def test_every_status_occurs_in_the_2025_report():
    from planbook.assess.projects import assess_projects, period_project_reports

    reg = load_registry(ROOT / "data")
    period = parse_period("2025")
    results = assess.assess_all(reg, observations.load_all(ROOT / "data", reg), period)
    # the named projects' statuses are printed too (已达要求阶段 is a project's word)
    projects = assess_projects(reg, period_project_reports(ROOT / "data", None, period), period)
    seen = Counter([a.status for a in results] + [p.status for p in projects.values()])
    for status in assess.STATUS:
        assert seen[status] > 0, f"no {status} in the 2025 sample report"


def test_monthly_values_for_2026_and_missing_years():
    obs = observations.load_observations(ROOT / "data")
    months = obs[obs["period"].str.startswith("2026-")]
    assert sorted(months["period"].unique()) == [f"2026-{m:02d}" for m in range(1, 11)]
    yearly = obs[obs["period"].str.len() == 4]
    per_ind = yearly.groupby("indicator_id")["period"].nunique()
    assert (per_ind < 4).any()  # some indicators miss years
