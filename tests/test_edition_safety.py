"""Editions are never destroyed (issue 24): a refused re-issue removes nothing, a crash
between a swap's renames is restored (not republished as edition 1), a damaged manifest is
named, never a traceback, and its period is refused rather than published anew.

Each test builds the 2026-10 briefing (a few seconds) in a fresh project copy."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

import planbook
from planbook import cli
from tests.conftest import build_at

PERIOD = "2026-10"
SRC = Path(planbook.__file__).resolve().parents[1]
KEY = "ind_key_project_investment"
HEADER = "指标编号,期间,数值,单位,数据状态,数据来源,备注\n"


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def planbook_cli(root: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(SRC), "PLANBOOK_ROOT": str(root)}
    return subprocess.Popen([sys.executable, "-m", "planbook.cli", *args], cwd=root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def held(lock: Path) -> bool:
    """Whether another process holds the flock on `lock`."""
    if not lock.exists():
        return False
    fd = os.open(lock, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def backfill(root: Path, capsys) -> None:
    """A 2026-10 figure received within the briefing's cut-off: its inputs change."""
    late = root / "fagai-late.csv"
    late.write_text(HEADER + f"{KEY},2026-10,186.0,亿元,official,发改局月报,\n", encoding="utf-8")
    assert cli.main(["ingest", str(late), "--received", "2026-11-02"]) == 0
    capsys.readouterr()


def test_two_concurrent_reissues_leave_edition_1_byte_identical(project, capsys):
    build_at(project, PERIOD)
    first = tree(project / "reports" / PERIOD)
    lock = project / "build" / "locks" / f"{PERIOD}.lock"
    args = ("build", "--period", PERIOD, "--engine", "builtin", "--reissue")
    a = planbook_cli(project, *args)
    deadline = time.monotonic() + 60
    while not held(lock) and a.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    b = planbook_cli(project, *args)  # starts while a holds the period
    _, b_err = b.communicate(timeout=120)
    _, a_err = a.communicate(timeout=300)
    assert a.returncode == 0, a_err
    assert b.returncode != 0 and "期间 2026-10" in b_err
    kept = project / "reports" / "editions" / PERIOD / "1"
    assert tree(kept) == first
    assert not list(kept.parent.glob(".*"))  # no copy on its way in left behind
    # a later re-issue keeps edition 2 and leaves edition 1 as it was
    assert cli.main(list(args)) == 0
    assert tree(kept) == first and (kept.parent / "2").is_dir()


def test_a_crash_between_the_renames_then_a_plain_build_restores_and_refuses(project, capsys):
    build_at(project, PERIOD)
    reports = project / "reports"
    first = tree(reports / PERIOD)
    # the state a kill between swap's two renames leaves: the edition moved aside, the new
    # one beside it not yet in place
    os.rename(reports / PERIOD, reports / f".{PERIOD}.old")
    (reports / f".{PERIOD}.new").mkdir()
    backfill(project, capsys)
    assert cli.main(["build", "--period", PERIOD, "--engine", "builtin"]) == 1
    out, err = capsys.readouterr()
    assert "发布中断后已恢复之前的版次" in out
    assert "已发布第1版" in err and "--reissue" in err
    assert tree(reports / PERIOD) == first
    assert not (reports / f".{PERIOD}.old").exists() and not (reports / f".{PERIOD}.new").exists()


def test_damaged_manifests_are_named_and_their_period_refused(project, capsys):
    build_at(project, PERIOD)
    assert cli.main(["build", "--period", PERIOD, "--engine", "builtin", "--reissue"]) == 0
    capsys.readouterr()
    reports = project / "reports"
    # a kept edition's manifest emptied by a kill: the portal lists the rest and says so
    (reports / "editions" / PERIOD / "1" / "manifest.json").write_bytes(b"")
    lines = build_at(project, "2026-09")
    warning = [line for line in lines if "警告" in line]
    assert warning and "editions/2026-10/1" in warning[0]
    portal = (reports / "index.html").read_text(encoding="utf-8")
    assert "reports/2026-09" not in portal and "2026-09/html/index.html" in portal
    assert "editions/2026-10/1/" not in portal and "2026-10/html/index.html" in portal
    # the published edition's manifest emptied: the period is refused, not republished
    published = reports / PERIOD
    (published / "manifest.json").write_bytes(b"")
    before = tree(published)
    assert cli.main(["build", "--period", PERIOD, "--engine", "builtin"]) == 2
    err = capsys.readouterr().err
    assert "manifest.json" in err and "为空" in err and "Traceback" not in err
    assert "恢复" in err  # what to do
    assert tree(published) == before


def test_an_ingest_during_a_build_waits_and_the_edition_verifies(project, capsys):
    data = project / "data"
    later = project / "fagai-after-cutoff.csv"
    later.write_text(HEADER + f"{KEY},2026-10,188.0,亿元,official,发改局月报,\n",
                     encoding="utf-8")
    building = planbook_cli(project, "build", "--period", PERIOD, "--engine", "builtin")
    deadline = time.monotonic() + 120
    while not held(data) and building.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert building.poll() is None, "the build ended before the test saw it read the data"
    ingest = planbook_cli(project, "ingest", str(later), "--received", "2026-11-20")
    _, ingest_err = ingest.communicate(timeout=300)
    _, build_err = building.communicate(timeout=300)
    assert building.returncode == 0, build_err
    assert ingest.returncode == 0, ingest_err
    assert "正被另一个命令写入或读取" in ingest_err  # it did not land inside the build
    assert cli.main(["verify", "--period", PERIOD]) == 0
    assert capsys.readouterr().out.startswith(f"核验通过 {PERIOD}")


def test_verify_compares_pages_and_archives_and_trace_warns(project, capsys):
    import hashlib
    import json

    backfill(project, capsys)  # archived under data/submissions/<sha256>.csv
    build_at(project, PERIOD)
    edition = project / "reports" / PERIOD
    manifest = json.loads((edition / "manifest.json").read_text(encoding="utf-8"))
    page = edition / "html" / "index.html"
    html = page.read_text(encoding="utf-8")
    [forged] = [e for e in manifest["register"] if e["kind"] == "number"
                and e["text"][:1].isdigit() and html.count(e["text"]) == 1][:1]
    other = ("2" if forged["text"][0] == "1" else "1") + forged["text"][1:]
    page.write_text(html.replace(forged["text"], other), encoding="utf-8")
    manifest["outputs"]["html/index.html"] = hashlib.sha256(page.read_bytes()).hexdigest()
    (edition / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1)
                                           + "\n", encoding="utf-8")
    [archive] = [p for p in (project / "data" / "submissions").iterdir()
                 if p.suffix == ".csv"]
    archive.write_bytes(archive.read_bytes().replace(b"186.0", b"196.0"))

    assert cli.main(["verify", "--period", PERIOD]) == 1
    err = capsys.readouterr().err
    assert f"reports/{PERIOD}/html/index.html" in err and forged["label"] in err
    assert archive.name in err and "归档的报送文件已被改动" in err
    assert "--reissue" not in err.split("改正方法：")[1] or "输入已变" in err  # advice that works
    assert "从备份恢复" in err and "planbook build --period 2026-10\n" not in err

    assert cli.main(["trace", KEY, "--period", PERIOD]) == 0
    out, err = capsys.readouterr()
    assert "归档后被改动" in out and "警告" in err and archive.name in err
