"""`--data` on every command: read (and written) where it points, recorded in the manifest,
and a folder that does not exist refused with exit 2 before anything runs."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from planbook import cli, files
from planbook.audit.manifest import write_manifest
from planbook.run.period import resolve

FIXTURE_PLAN = Path(__file__).parent / "fixtures" / "intake" / "plan"

COMMANDS = [
    ["plan"], ["templates", "--period", "2025", "--out", "{tmp}/t"], ["ingest", "{tmp}/x.csv"],
    ["status", "--period", "2025"], ["sample"], ["run", "--period", "2025"],
    ["render", "--period", "2025"], ["build", "--period", "2025"],
    ["trace", "fig-x", "--period", "2025"], ["verify", "--period", "2025"],
]


@pytest.fixture
def small(tmp_path) -> Path:
    """A data package with the small intake registry (3 departments, 7 indicators)."""
    folder = tmp_path / "small"
    shutil.copytree(FIXTURE_PLAN, folder / "plan")
    return folder


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("where", ["before", "after"])
def test_a_missing_data_folder_is_a_usage_error(project, tmp_path, capsys, command, where):
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    missing = ["--data", str(tmp_path / "nowhere")]
    argv = missing + args if where == "before" else [args[0], *missing, *args[1:]]
    before = sorted(p.relative_to(project) for p in project.rglob("*"))
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "nowhere" in err and "目录不存在" in err and "Traceback" not in err
    assert sorted(p.relative_to(project) for p in project.rglob("*")) == before


def test_plan_reads_the_given_registry(project, small, capsys):
    assert cli.main(["--data", str(small), "plan", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["departments"] == 3 and summary["indicators"] == 7


def test_templates_are_for_the_given_registry(project, small, tmp_path, capsys):
    out = tmp_path / "templates"
    assert cli.main(["--data", str(small), "templates", "--period", "2025", "--out",
                     str(out)]) == 0
    assert sorted(p.name for p in out.glob("*-2025.xlsx")) == [
        "fagai-2025.xlsx", "jingxin-2025.xlsx", "nongye-2025.xlsx"]


def test_ingest_stores_into_the_given_folder(project, small, tmp_path, capsys):
    before = (project / "data" / "observations" / "fagai.csv").read_bytes()
    f = tmp_path / "x.csv"
    f.write_text("指标编号,期间,数值\ngdp,2024,980\n", encoding="utf-8")
    assert cli.main(["ingest", "--data", str(small), str(f)]) == 0
    assert (small / "observations" / "fagai.csv").is_file()
    assert (project / "data" / "observations" / "fagai.csv").read_bytes() == before


def test_status_reads_the_given_store(project, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(project / "data", copy)
    store = copy / "observations" / "fagai.csv"
    df = pd.read_csv(store, dtype=str, keep_default_na=False)
    df.loc[(df.indicator_id == "ind_gdp") & (df.period == "2025"), "value"] = "999.9"
    df.to_csv(store, index=False, lineterminator="\n")
    assert cli.main(["--data", str(copy), "status", "--period", "2025", "--json"]) == 0
    [gdp] = [r for r in json.loads(capsys.readouterr().out) if r["indicator_id"] == "ind_gdp"]
    assert "999.9" in json.dumps(gdp)
    assert cli.main(["status", "--period", "2025", "--json"]) == 0
    [gdp] = [r for r in json.loads(capsys.readouterr().out) if r["indicator_id"] == "ind_gdp"]
    assert "999.9" not in json.dumps(gdp)


def test_sample_writes_into_the_given_folder(project, tmp_path, capsys):
    given = tmp_path / "given"
    shutil.copytree(project / "data" / "plan", given / "plan")
    before = {p: p.read_bytes() for p in (project / "data").rglob("*") if p.is_file()}
    assert cli.main(["sample", "--data", str(given)]) == 0
    assert (given / "observations" / "fagai.csv").is_file()
    assert {p: p.read_bytes() for p in (project / "data").rglob("*") if p.is_file()} == before


def test_the_manifest_records_the_data_folder(project, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(project / "data", copy)
    rp = resolve("2025", project, data=copy)
    now = datetime.now(UTC)
    manifest = json.loads(write_manifest(rp, [], engine="builtin", started=now,
                                         finished=now).read_text("utf-8"))
    assert manifest["parameters"]["data_dir"] == str(copy.resolve())
    import stat

    mode = stat.S_IMODE(rp.manifest.stat().st_mode)  # the umask's, not mkstemp's 0600
    assert mode == 0o666 & ~files.umask()
    assert any(k.startswith(str(copy.resolve())) for k in manifest["inputs"])


BAD_PERIODS = ["", "2025-13", "../../tmp/x", "2025年", "2030", "2026-Q3", "2026-01..x",
               "2026-05..2026-01"]


@pytest.mark.parametrize("command", [
    ["status", "--json"], ["templates", "--out", "{tmp}/t"], ["run"], ["render"], ["build"],
    ["trace", "fig-x"], ["verify"]], ids=lambda c: c[0])
def test_every_bad_period_is_a_usage_error_naming_it(project, tmp_path, capsys, command):
    for given in BAD_PERIODS:
        if command[0] in ("status", "templates") and given in ("2030", "2026-Q3"):
            continue  # well-formed: status and templates need no params file
        argv = [a.replace("{tmp}", str(tmp_path)) for a in command] + ["--period", given]
        assert cli.main(argv) == 2, given
        err = capsys.readouterr().err
        assert f"--period {given!r}" in err and "Traceback" not in err
