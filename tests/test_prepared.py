"""The period's report state prepared once per run and taken by every chapter's Report.load."""

from __future__ import annotations

from pathlib import Path

from planbook.chapters import prepared
from planbook.chapters.report import Briefing, Report
from planbook.plan.params import load_params


def test_report_load_takes_the_prepared_state_for_its_own_period_only(
        project: Path, tmp_path: Path, monkeypatch):
    params = load_params("2025", project)
    path = tmp_path / "prepared.pickle"
    computed = Report.load(**params.as_dict())
    prepared.save(Report.load(**params.as_dict()), path)

    monkeypatch.setenv(prepared.ENV, str(path))
    rep = Report.load(**params.as_dict())
    assert "assessments" in vars(rep)  # taken, not computed
    assert rep.assessments == computed.assessments
    assert [a.inputs for a in rep.assessments] == [a.inputs for a in computed.assessments]
    assert rep.observations.equals(computed.observations)
    assert rep.uses_sample == computed.uses_sample

    other = Report.load(**load_params("2024", project).as_dict())
    assert "assessments" not in vars(other) and other.params.period == "2024"

    path.write_bytes(b"torn")  # an unreadable file only costs the computation
    assert "assessments" not in vars(Report.load(**params.as_dict()))


def test_a_briefing_is_prepared_with_the_previous_month(project: Path, tmp_path: Path,
                                                        monkeypatch):
    params = load_params("2026-03", project)
    path = tmp_path / "prepared.pickle"
    prepared.save(Briefing.load(**params.as_dict()), path)
    monkeypatch.setenv(prepared.ENV, str(path))
    rep = Briefing.load(**params.as_dict())
    assert isinstance(rep, Briefing) and "previous" in vars(rep)
    monkeypatch.delenv(prepared.ENV)
    assert rep.previous == Briefing.load(**params.as_dict()).previous
