"""All-or-nothing intake (store.commit): an ingest killed at any write, rename, fsync,
truncate or unlink leaves the data package old or new, never half; the next command finishes
or rolls back the interrupted commit and says so; a resend then works. Same small registry as
test_intake.py; the kills are injected with strace (`-e inject=SYSCALL:signal=KILL:when=N`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest

import planbook
from planbook import cli
from planbook.store import commit
from planbook.store.intake import ingest

FIXTURES = Path(__file__).parent / "fixtures" / "intake"
SRC = Path(planbook.__file__).resolve().parents[1]
HEADER = "指标编号,期间,数值,单位,数据状态,数据来源,备注\n"
FIRST = HEADER + "gdp,2024,980,亿元,official,统计公报,\nfarmland,2024,0.6,万亩,,台账,\n"
# Appends to two department files, creates a third (and datapackage.json), archives, records.
SECOND = HEADER + ("gdp,2025,1010,亿元,official,统计公报,\nfarmland,2025,0.62,万亩,,台账,\n"
                   "new_industrial_firms,2025-09,12,家,,月报,\n")
SYSCALLS = ("write", "rename", "renameat", "renameat2", "fsync", "fdatasync", "ftruncate",
            "unlink", "unlinkat")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SRC), "PYTHONDONTWRITEBYTECODE": "1",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def ingest_cmd(data: Path, file: Path) -> list[str]:
    return [sys.executable, "-m", "planbook.cli", "--data", str(data), "ingest",
            "--received", "2026-01-15", str(file)]


def snapshot(data: Path) -> dict[str, bytes]:
    return {p.relative_to(data).as_posix(): p.read_bytes()
            for p in sorted(data.rglob("*")) if p.is_file()}


@pytest.fixture
def seeded(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "plan", data / "plan")
    (tmp_path / "first.csv").write_text(FIRST, encoding="utf-8")
    (tmp_path / "second.csv").write_text(SECOND, encoding="utf-8")
    done = subprocess.run(ingest_cmd(data, tmp_path / "first.csv"), env=_env(),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return data, tmp_path / "second.csv"


def test_commit_journal_roll_forward_and_back(tmp_path: Path):
    """The protocol itself: a journal present means finish; staged files alone mean undo."""
    data = tmp_path / "data"
    (data / "a").mkdir(parents=True)
    (data / "a" / "x.csv").write_text("h\n1\n")
    tx = commit.Commit(data)
    tx.append(data / "a" / "x.csv", b"2\n")
    tx.write(data / "a" / "y.csv", b"new\n")
    assert commit.recover(data).endswith("2 个）")  # staged, no journal: rolled back
    assert sorted(p.name for p in (data / "a").iterdir()) == ["x.csv"]
    tx = commit.Commit(data)
    tx.append(data / "a" / "x.csv", b"2\n")
    tx.write(data / "a" / "y.csv", b"new\n")
    steps = []

    def crash(name):
        steps.append(name)
        if name == "append":
            raise SystemExit("killed")

    commit._step, saved = crash, commit._step
    try:
        with pytest.raises(SystemExit):
            tx.apply()
    finally:
        commit._step = saved
    assert "已按提交日志完成" in commit.recover(data)
    assert (data / "a" / "x.csv").read_text() == "h\n1\n2\n"
    assert (data / "a" / "y.csv").read_text() == "new\n"
    assert commit.recover(data) is None
    assert sorted(p.name for p in data.rglob("*")) == ["a", "x.csv", "y.csv"]


@pytest.mark.skipif(not shutil.which("strace"), reason="strace is not installed")
def test_ingest_killed_at_every_step_leaves_old_or_new(seeded, tmp_path: Path, capsys):
    data, second = seeded
    old = snapshot(data)
    clean = tmp_path / "clean" / "data"  # every copy is a folder named data: paths shown in
    shutil.copytree(data, clean)          # the record (data/observations/…) read the same
    log = tmp_path / "calls.log"
    done = subprocess.run(["strace", "-o", str(log), "-e", "trace=" + ",".join(SYSCALLS),
                           *ingest_cmd(clean, second)], env=_env(), capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    new = snapshot(clean)
    assert new != old
    counts = {c: 0 for c in SYSCALLS}  # how many of each call one ingest makes
    for line in log.read_text().splitlines():
        name = line.split("(", 1)[0]
        if name in counts:
            counts[name] += 1
    probe = subprocess.run(["strace", "-f", "-o", os.devnull, "-e", "trace=write",
                            "-e", "inject=write:signal=KILL:when=1", "sh", "-c", "echo x"],
                           capture_output=True)
    if probe.returncode not in (-9, 137):
        pytest.skip("strace cannot inject signals here (ptrace not permitted)")

    def kill(job):
        call, n = job
        work = tmp_path / f"k-{call}-{n}" / "data"
        shutil.copytree(data, work)
        subprocess.run(["strace", "-o", os.devnull, "-e", f"trace={call}",
                        "-e", f"inject={call}:signal=KILL:when={n}", *ingest_cmd(work, second)],
                       env=_env(), capture_output=True)
        return call, n, work

    # Every rename, truncate and unlink; every other write and fsync (staging writes come in
    # runs of the same kind): each step kind of the protocol is hit, in about 30 runs.
    jobs = [(c, n) for c in SYSCALLS for n in range(1, counts[c] + 1)
            if c not in ("write", "fsync") or n % 2 or n == counts[c]]
    assert len(jobs) > 20, counts
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        runs = list(pool.map(kill, jobs))
    outcomes = {"old": 0, "new": 0}
    for call, n, work in runs:
        capsys.readouterr()
        assert cli.main(["--data", str(work), "plan"]) == 0  # the next command recovers
        said = capsys.readouterr().err
        got = snapshot(work)
        state = "old" if got == old else "new" if got == new else None
        assert state, f"{call} #{n}: half a commit: " + ", ".join(
            k for k in sorted(set(got) | set(new)) if got.get(k) != new.get(k))
        outcomes[state] += 1
        if "中断" in said:
            assert ("已回滚" in said) or ("已按提交日志完成" in said), said
        again = ingest([second], work, received=date(2026, 1, 15), check=False)
        assert again.ok, again.summary_lines()
        after = snapshot(work)
        for k, v in new.items():  # a resend stores what one clean ingest stores
            if k.startswith("observations/"):
                assert after[k] == v, (call, n, k)
        assert not [k for k in after if k.endswith((".tmp", commit.TEMP_TAG))]
    assert outcomes["old"] and outcomes["new"], outcomes
