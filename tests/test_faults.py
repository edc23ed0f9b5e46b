"""Every environment fault is a message: disk full (a small tmpfs), a read-only data folder
(a read-only bind mount) and a damaged statements store each end `planbook ingest` with exit 2,
a Chinese message naming the file, no traceback, and the store unchanged. Mounting needs
root; the tests skip with the reason otherwise."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import planbook

FIXTURES = Path(__file__).parent / "fixtures" / "intake"
SRC = Path(planbook.__file__).resolve().parents[1]
CSV = ("指标编号,期间,数值,单位,数据状态,数据来源,备注\n"
       "gdp,2024,980,亿元,official,统计公报,\nfarmland,2024,0.6,万亩,,台账,\n")


def cli(data: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(SRC), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-m", "planbook.cli", "--data", str(data), *args],
                          capture_output=True, text=True, env=env)


def snapshot(data: Path) -> dict[str, bytes]:
    return {p.relative_to(data).as_posix(): p.read_bytes()
            for p in sorted(data.rglob("*")) if p.is_file()}


def mount(*args: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs or a bind mount needs root")
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"mount not permitted here: {done.stderr.strip()}")


@pytest.fixture
def mounted(tmp_path: Path):
    points: list[Path] = []
    yield points
    for p in reversed(points):
        subprocess.run(["umount", "-l", str(p)], capture_output=True)


def test_disk_full_during_ingest_is_a_message(tmp_path: Path, mounted):
    data = tmp_path / "data"
    data.mkdir()
    mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", str(data))
    mounted.append(data)
    shutil.copytree(FIXTURES / "plan", data / "plan")
    big = tmp_path / "big.csv"
    big.write_text(CSV, encoding="utf-8")
    before = snapshot(data)
    for room in (0, 4096, 16384):  # free space left: none, a block or so, a few blocks
        filler = data / "filler"
        try:
            filler.write_bytes(b"\0" * (2 * 2**20))
        except OSError:
            pass  # the tmpfs is full to the last block
        os.truncate(filler, max(0, filler.stat().st_size - room))
        done = cli(data, "ingest", "--received", "2026-01-15", str(big))
        filler.unlink()
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert "磁盘空间已满" in done.stderr and str(data) in done.stderr, done.stderr
        assert snapshot(data) == before
    done = cli(data, "ingest", "--received", "2026-01-15", str(big))  # space back: it works
    assert done.returncode == 0, done.stderr
    assert not [p for p in data.rglob("*") if p.name.endswith(".tmp")]


def test_read_only_data_folder_is_a_message(tmp_path: Path, mounted):
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "plan", data / "plan")
    sub = tmp_path / "s.csv"
    sub.write_text(CSV, encoding="utf-8")
    mount("--bind", str(data), str(data))
    mounted.append(data)
    mount("-o", "remount,bind,ro", str(data))
    before = snapshot(data)
    for args in (("ingest", "--received", "2026-01-15", str(sub)), ("sample", "--remove")):
        done = cli(data, *args)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert "只读" in done.stderr and str(data) in done.stderr, done.stderr
        assert snapshot(data) == before


@pytest.mark.parametrize("damage", ["short-row", "GBK", "text-revision"])
def test_damaged_statements_store_is_named(tmp_path: Path, damage):
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "plan", data / "plan")
    store = data / "statements" / "fagai.csv"
    store.parent.mkdir(parents=True)
    good = ("task_id,period,department,revision,row,text,status,received_at,file_sha256,"
            "original_name,source_file\n一(一)1,2025,市发改局,1,2,推进,provisional,"
            "2026-01-15T00:00:00+08:00,abc,a.xlsx,\n")
    if damage == "GBK":
        store.write_bytes(good.encode("gbk"))
    elif damage == "text-revision":
        store.write_text(good.replace(",1,2,", ",一,2,"), encoding="utf-8")
    else:
        store.write_text(good.splitlines()[0] + "\n一(一)1,2025,市发改局\n", encoding="utf-8")
    before = snapshot(data)
    done = cli(data, "sample", "--remove")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "statements/fagai.csv" in done.stderr and "第 2 行" in done.stderr, done.stderr
    assert snapshot(data) == before
