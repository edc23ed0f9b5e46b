"""A period's edition is published whole or not at all (run.publish).

Crashes are real: a subprocess stages a new edition and dies with os._exit at each step of
the swap (or while the edition is being made); the next command must find reports/P whole —
the previous edition, or the new one once it was in place — and no leftovers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import planbook
from planbook.run import publish
from planbook.run.period import resolve

PERIOD = "2025"
PARTS = ("notebooks/00_summary.ipynb", "html/index.html", "html/code/x.html", "report.pdf",
         "manifest.json")
SRC = Path(planbook.__file__).resolve().parents[1]

CRASHER = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from planbook.run import publish
    from planbook.run.period import resolve

    root, crash_at = Path(sys.argv[1]), sys.argv[2]

    def step(name):
        if name == crash_at:
            os._exit(9)  # as kill -9: no cleanup, no finally

    publish._step = step
    with publish.edition(resolve("2025", root)) as ed:
        for part in PARTS:
            path = ed.report_dir / part
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("new " + part, encoding="utf-8")
        (ed.report_dir / "html" / "old-only.html").unlink(missing_ok=True)
        step("making")
""").replace("PARTS", repr(PARTS))


def edition_files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*")) if p.is_file()}


def write_edition(folder: Path, word: str) -> None:
    for part in (*PARTS, "html/old-only.html"):
        path = folder / part
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{word} {part}", encoding="utf-8")


OLD = {p: f"old {p}" for p in (*PARTS, "html/old-only.html")}
NEW = {p: f"new {p}" for p in PARTS}


def crash(root: Path, at: str) -> int:
    env = {**os.environ, "PYTHONPATH": str(SRC), "PLANBOOK_ROOT": str(root)}
    return subprocess.run([sys.executable, "-c", CRASHER, str(root), at], env=env,
                          capture_output=True, text=True, timeout=120).returncode


def leftovers(root: Path) -> list[str]:
    found = [p.name for p in (root / "reports").iterdir() if p.name.startswith(".")]
    found += [str(p.relative_to(root)) for p in (root / "build" / "edition").glob("*")] \
        if (root / "build" / "edition").is_dir() else []
    return found


@pytest.mark.parametrize("at,expected", [
    ("making", OLD),  # killed while the edition was being made (run or render)
    ("staged", OLD),  # staged beside reports/P, nothing moved yet
    ("moved-aside", OLD),  # the previous edition moved aside, the new not yet in
    ("swapped", NEW),  # the new edition in place, the previous not yet removed
    ("cleaned", NEW),
    ("none", NEW),  # no crash
])
def test_a_crash_at_any_step_leaves_one_whole_edition(project, at, expected):
    report = project / "reports" / PERIOD
    write_edition(report, "old")
    assert crash(project, at) == (0 if at == "none" else 9)
    # the next command recovers under the lock before anything else
    with publish.edition(resolve(PERIOD, project)) as ed:
        assert edition_files(ed.report_dir) == expected
    assert edition_files(report) == expected
    assert leftovers(project) == []


def test_the_first_edition_killed_mid_swap_publishes_nothing(project):
    assert crash(project, "staged") == 9
    assert publish.recover(PERIOD, project) == \
        "删除了发布中断的版次"
    assert not (project / "reports" / PERIOD).exists()
    assert leftovers(project) == []


def test_recover_restores_the_previous_edition_after_a_crash_between_renames(project):
    report = project / "reports" / PERIOD
    write_edition(report, "old")
    assert crash(project, "moved-aside") == 9
    assert not report.exists()  # what a reader sees until the next command
    assert publish.recover(PERIOD, project) == \
        "发布中断后已恢复之前的版次"
    assert edition_files(report) == OLD


def test_an_exception_while_making_discards_the_staged_edition(project):
    report = project / "reports" / PERIOD
    write_edition(report, "old")
    with pytest.raises(RuntimeError), publish.edition(resolve(PERIOD, project)) as ed:
        (ed.report_dir / "report.pdf").write_text("half", encoding="utf-8")
        raise RuntimeError("render failed")
    assert edition_files(report) == OLD and leftovers(project) == []


def test_staging_leftovers_of_killed_commands_are_removed(project):
    stale = [project / "build" / "render" / PERIOD / "staging-12345" / "html" / "x.html",
             project / "build" / "staging" / PERIOD / "notebooks" / "a.ipynb",
             project / "build" / "edition" / PERIOD / "report.pdf"]
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 1000)
    with publish.edition(resolve(PERIOD, project)):
        pass
    assert not any(p.exists() for p in stale)
    assert not (project / "build" / "render" / PERIOD).exists()


def test_one_lock_per_period_refuses_a_second_command(project):
    rp = resolve(PERIOD, project)
    with publish.edition(rp) as ed:
        with pytest.raises(publish.PeriodBusy, match="正在生成期间 2025"):
            with publish.edition(resolve(PERIOD, project)):
                pass
        # nested use inside the same command (build → run → render) shares the edition
        with publish.edition(ed) as inner:
            assert inner is ed
    other = resolve("2024", project)
    with publish.edition(rp), publish.edition(other):  # other periods are independent
        pass


def test_trace_and_verify_recover_first(project, capsys):
    from planbook import cli

    report = project / "reports" / PERIOD
    write_edition(report, "old")
    assert crash(project, "moved-aside") == 9
    assert not report.exists()
    cli.main(["trace", "fig-x", "--period", PERIOD])  # the fake edition has no such label
    assert "发布中断后已恢复之前的版次" in capsys.readouterr().err
    assert edition_files(report) == OLD and leftovers(project) == []
