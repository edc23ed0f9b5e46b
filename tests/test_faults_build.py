"""Faults of the machine during `planbook build` (issue 24): a full disk (the whole project on
a small tmpfs, filled to a few free-space levels) and a read-only reports/ (a read-only bind
mount) each end the build with exit 2 and a Chinese message naming the path, no traceback;
the published edition is byte-identical and no staging is left; with the space back, a build
of another period and of the same one succeed. Mounting needs root; skipped otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import copy_project
from test_faults import mount, mounted, snapshot  # noqa: F401 - mounted is a fixture

import planbook

SRC = Path(planbook.__file__).resolve().parents[1]
PERIOD, OTHER = "2026-10", "2026-09"  # briefings: a build takes seconds


def build(root: Path, period: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(SRC), "PLANBOOK_ROOT": str(root),
           "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-m", "planbook.cli", "build", "--period", period,
                           "--engine", "builtin"], cwd=root, env=env, capture_output=True,
                          text=True)


def no_staging(root: Path) -> list[Path]:
    build_dir = root / "build"
    left = [*build_dir.glob("edition/*"), *build_dir.glob("render/*/staging"),
            *(root / "reports").glob(".*.new"), *(root / "reports").glob(".*.old")]
    return left


def fill(mnt: Path, room: int) -> Path:
    filler = mnt / "filler"
    try:
        with open(filler, "wb") as fh:
            while True:
                fh.write(b"\0" * 2**20)
    except OSError:
        pass  # the tmpfs is full to the last block
    os.truncate(filler, max(0, filler.stat().st_size - room))
    return filler


def test_disk_full_during_build_is_a_message(tmp_path: Path, mounted):  # noqa: F811
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    mount("-t", "tmpfs", "-o", "size=300m", "tmpfs", str(mnt))
    mounted.append(mnt)
    root = copy_project(mnt / "project")
    first = build(root, PERIOD)
    assert first.returncode == 0, first.stderr
    published = snapshot(root / "reports" / PERIOD)
    for room in (0, 200_000, 2_000_000):  # none, while executing, while rendering
        filler = fill(mnt, room)
        done = build(root, OTHER)
        filler.unlink()
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr, done.stderr
        assert "磁盘空间已满" in done.stderr and str(root) in done.stderr, done.stderr
        assert snapshot(root / "reports" / PERIOD) == published
        assert not (root / "reports" / OTHER).exists()
        assert not no_staging(root), no_staging(root)
    for period in (OTHER, PERIOD):  # space back: another period builds, the same is unchanged
        done = build(root, period)
        assert done.returncode == 0, done.stderr
    assert snapshot(root / "reports" / PERIOD) == published


def test_read_only_reports_is_a_message(tmp_path: Path, mounted):  # noqa: F811
    root = copy_project(tmp_path / "project")
    first = build(root, PERIOD)
    assert first.returncode == 0, first.stderr
    reports = root / "reports"
    mount("--bind", str(reports), str(reports))
    mounted.append(reports)
    mount("-o", "remount,bind,ro", str(reports))
    published = snapshot(reports)
    done = build(root, OTHER)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert "只读" in done.stderr and str(reports) in done.stderr, done.stderr
    assert snapshot(reports) == published
    assert not no_staging(root), no_staging(root)
