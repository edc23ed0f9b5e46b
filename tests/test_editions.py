"""Frozen periods and editions, end to end on a copy of the sample data (the issue's "done
when"): 2025 built (a copy of the session's `sample_build`), ingest a real 2026-10 figure,
verify and rebuild 2025 unchanged, status of 2026-10 uses the figure, a resend changes
nothing, `planbook sample` keeps it; then a back-filled 2025 figure: a plain rebuild is
refused, `--reissue` issues edition 2 and keeps edition 1 byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import clone_build

from planbook import cli
from planbook.build import build

KEY = "ind_key_project_investment"  # 重点项目累计完成投资: sample months through 2026-10
HEADER = "指标编号,期间,数值,单位,数据状态,数据来源,备注\n"


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def store(root: Path) -> dict[str, bytes]:
    return {**tree(root / "data" / "observations"), **tree(root / "data" / "villages")}


@pytest.fixture
def project(sample_build, tmp_path, monkeypatch) -> Path:
    """A copy of the session's 2025 build (its build said 完成) as the working root."""
    root = clone_build(sample_build, tmp_path / "project")
    monkeypatch.setenv("PLANBOOK_ROOT", str(root))
    monkeypatch.chdir(root)
    return root


def test_year_after_year(project, capsys):
    # 1. 2025 built: edition 1, dated the day it was issued, cut-off = the params' as_of
    manifest = json.loads((project / "reports/2025/manifest.json").read_text("utf-8"))
    assert manifest["edition"] == 1 and manifest["edition_date"]
    assert manifest["parameters"]["as_of"] == "2026-03-31"
    published = tree(project / "reports" / "2025")

    # 2. a real 2026-10 figure, received within 2026-10's cut-off (the clock is later)
    real = project / "fagai-2026-10.csv"
    real.write_text(HEADER + f"{KEY},2026-10,186.4,亿元,provisional,发改局重点项目月报,\n",
                    encoding="utf-8")
    assert cli.main(["ingest", str(real), "--received", "2026-11-05"]) == 0
    capsys.readouterr()

    # 3. verify 2025 re-executes against exactly its rows and passes
    assert cli.main(["verify", "--period", "2025"]) == 0
    assert capsys.readouterr().out.startswith("核验通过 2025")

    # 4. rebuilding 2025 leaves the published report byte for byte as it was
    lines = list(build("2025", engine="builtin", root=project))
    assert any("输入未变" in line and "未重写" in line for line in lines), lines
    assert tree(project / "reports" / "2025") == published

    # 5. status of 2026-10 uses the real figure, and not against sample months
    assert cli.main(["status", "--period", "2026-10", "--json"]) == 0
    [row] = [r for r in json.loads(capsys.readouterr().out) if r["indicator_id"] == KEY]
    assert row["latest_value"] == 186.4 and row["latest_period"] == "2026-10"
    assert row["status"] != "deterioration" and row["sample"] is False

    # 6. the same file again changes nothing in the store
    before = store(project)
    assert cli.main(["ingest", str(real), "--received", "2026-11-06"]) == 0
    assert "[已接收过]" in capsys.readouterr().out
    assert store(project) == before

    # 7. planbook sample keeps the real figure
    assert cli.main(["sample"]) == 0
    assert "保留真实观测值 1 行" in capsys.readouterr().out
    assert cli.main(["status", "--period", "2026-10", "--json"]) == 0
    [row] = [r for r in json.loads(capsys.readouterr().out) if r["indicator_id"] == KEY]
    assert row["latest_value"] == 186.4

    # a back-filled 2025 figure (received before 2025's cut-off) changes 2025's inputs:
    # a plain rebuild is refused with the action to take, nothing rewritten
    late = project / "fagai-2025.csv"
    late.write_text(HEADER + f"{KEY},2025,170.2,亿元,official,统计公报,\n", encoding="utf-8")
    assert cli.main(["ingest", str(late), "--received", "2026-03-20"]) == 0
    capsys.readouterr()
    assert cli.main(["build", "--period", "2025", "--engine", "builtin"]) == 1
    err = capsys.readouterr().err
    assert "已发布第1版" in err and "--reissue" in err and "fagai.csv" in err
    assert tree(project / "reports" / "2025") == published
    # `run` alone would replace the published notebooks: refused the same way
    assert cli.main(["run", "--period", "2025"]) == 1
    assert "--reissue" in capsys.readouterr().err
    assert tree(project / "reports" / "2025") == published

    # --reissue: edition 2 (修订版) in place, edition 1 kept unchanged
    assert cli.main(["build", "--period", "2025", "--engine", "builtin", "--reissue"]) == 0
    assert "发布修订版：第2版" in capsys.readouterr().out
    manifest = json.loads((project / "reports/2025/manifest.json").read_text("utf-8"))
    assert manifest["edition"] == 2 and manifest["edition_date"]
    assert manifest["parameters"]["as_of"] >= "2026-03-31"
    assert tree(project / "reports" / "editions" / "2025" / "1") == published
    # the kept edition's 全部报告 link (../../index.html from its html/) reaches the portal
    kept_link = project / "reports" / "editions" / "2025" / "index.html"
    assert 'url=../../index.html' in kept_link.read_text("utf-8")
    # the new edition is itself frozen: verify passes, a plain rebuild rewrites nothing
    assert cli.main(["verify", "--period", "2025"]) == 0
    second = tree(project / "reports" / "2025")
    assert cli.main(["build", "--period", "2025", "--engine", "builtin"]) == 0
    assert "已发布第2版·修订版" in capsys.readouterr().out
    assert tree(project / "reports" / "2025") == second
