"""`planbook period new P`: the kind of P, the house cut-off, refusals, the next commands."""

from __future__ import annotations

import datetime as dt

import pytest

from planbook import cli
from planbook.errors import ParamsError
from planbook.plan.params import check_cutoff, house_cutoff, load_params, new_params
from planbook.plan.periods import parse_period

D = dt.date


@pytest.fixture
def root(tmp_path):
    (tmp_path / "params").mkdir()
    return tmp_path


def test_the_house_rule_follows_the_shipped_params():
    # params/2025.yml: as_of 2026-03-31; params/2026-10.yml: as_of 2026-11-10
    assert house_cutoff(parse_period("2025")) == D(2026, 3, 31)
    assert house_cutoff(parse_period("2026-10")) == D(2026, 11, 10)
    assert house_cutoff(parse_period("2026-12")) == D(2027, 1, 10)


@pytest.mark.parametrize(("period", "today", "kind", "as_of"), [
    ("2026-11", D(2026, 12, 20), "briefing", "2026-12-10"),
    ("2026", D(2027, 5, 1), "annual", "2027-03-31"),
    ("2025", D(2026, 4, 1), "midterm", "2026-03-31"),
    ("2027", D(2028, 3, 31), "final", "2028-03-31"),
])
def test_a_period_gets_its_kind_and_the_house_cut_off(root, period, today, kind, as_of):
    path, notes = new_params(period, today=today, root=root)
    assert path == root / "params" / f"{period}.yml" and notes == []
    p = load_params(period, root, today=today)
    assert (p.kind, p.as_of, p.data_dir) == (kind, as_of, "data")


def test_a_year_may_take_another_kind_it_allows(root):
    new_params("2027", today=D(2028, 4, 2), root=root, kind="annual")
    assert load_params("2027", root, today=D(2028, 4, 2)).kind == "annual"
    with pytest.raises(ParamsError, match="不能编制中期评估"):
        new_params("2026", today=D(2027, 4, 2), root=root, kind="midterm")


def test_a_house_cut_off_not_yet_reached_is_today_and_says_so(root):
    path, notes = new_params("2026-11", today=D(2026, 12, 7), root=root)
    assert load_params("2026-11", root).as_of == "2026-12-07"
    assert "2026-12-10" in notes[0] and "--reissue" in notes[0]


@pytest.mark.parametrize(("period", "kw", "words"), [
    ("2026-12", {}, "尚未结束"),
    ("2026-Q3", {}, "季度"),
    ("2028", {}, "方案期"),
    ("2026-11", {"as_of": D(2026, 12, 8)}, "今天"),
    ("2026-11", {"as_of": D(2026, 11, 29)}, "早于"),
])
def test_refusals_name_the_rule(root, period, kw, words):
    with pytest.raises(ParamsError, match=words):
        new_params(period, today=D(2026, 12, 7), root=root, **kw)
    assert not list((root / "params").iterdir())


def test_an_existing_file_is_kept_unless_replaced(root):
    new_params("2026-09", today=D(2026, 12, 7), root=root)
    with pytest.raises(ParamsError, match="已存在"):
        new_params("2026-09", today=D(2026, 12, 7), root=root, as_of=D(2026, 10, 31))
    assert load_params("2026-09", root).as_of == "2026-10-10"
    new_params("2026-09", today=D(2026, 12, 7), root=root, as_of=D(2026, 10, 31), replace=True)
    assert load_params("2026-09", root).as_of == "2026-10-31"


def test_check_cutoff_bounds():
    month = parse_period("2026-11")
    check_cutoff(month, D(2026, 11, 30), D(2026, 12, 1))  # the last day itself is allowed
    with pytest.raises(ParamsError):
        check_cutoff(month, D(2026, 12, 2), D(2026, 12, 1))


def test_a_new_month_builds_and_a_missing_one_says_how(project, capsys, monkeypatch):
    monkeypatch.setattr(cli, "_today", lambda: D(2026, 12, 7))
    assert cli.main(["build", "--period", "2026-11"]) == 2
    assert "planbook period new 2026-11" in capsys.readouterr().err
    assert cli.main(["period", "new", "2026-11"]) == 0
    out = capsys.readouterr().out
    for command in ("planbook templates --period 2026-11", "planbook ingest",
                    "planbook build --period 2026-11"):
        assert command in out
    assert cli.main(["period", "new", "2026-11"]) == 1  # kept
    assert "--force" in capsys.readouterr().err
    assert cli.main(["build", "--period", "2026-11", "--engine", "builtin"]) == 0
    assert (project / "reports" / "2026-11" / "report.pdf").is_file()
    assert cli.main(["period", "new", "2026-12", "--as-of", "2027-01-10"]) == 1
    assert "尚未结束" in capsys.readouterr().err
