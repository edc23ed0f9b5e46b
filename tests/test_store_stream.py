"""The store read a chunk at a time (validator.stream) gives exactly what the whole-file read
gives, keeps only the rows asked for, and lists a damaged file's problems as read() does:
memory bounded by what is kept, not by the store (bench/bench_memory.py measures it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from planbook.store import validator
from planbook.store.observations import load_observations, store_files

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "data" / "observations", tmp_path / "data" / "observations")
    return tmp_path / "data"


def both(path: Path, **kw):
    p1, p2 = validator.StoreProblems(), validator.StoreProblems()
    return validator.read(path, path.name, p1), validator.stream(path, path.name, p2, **kw), \
        p1, p2


@pytest.mark.parametrize("chunk", [3, 7, validator.CHUNK])
def test_stream_equals_read(data, monkeypatch, chunk):
    monkeypatch.setattr(validator, "CHUNK", chunk)
    for f in store_files(data):
        whole, streamed, p1, p2 = both(f)
        pd.testing.assert_frame_equal(streamed, whole)
        assert p1.count == p2.count == 0


def test_stream_keeps_only_wanted(data, monkeypatch):
    monkeypatch.setattr(validator, "CHUNK", 5)
    full = load_observations(data)
    some = load_observations(data, indicators=["ind_gdp", "ind_nonexistent"])
    expected = full[full["indicator_id"] == "ind_gdp"].reset_index(drop=True)
    assert len(some) and set(some["indicator_id"]) == {"ind_gdp"}
    pd.testing.assert_frame_equal(some, expected)


def test_shares_texts(data):
    f = data / "observations" / "fagai.csv"
    df = validator.stream(f, f.name, validator.StoreProblems())
    assert df["file_sha256"].map(id).nunique() == df["file_sha256"].nunique()


@pytest.mark.parametrize("change", ["repeat_across_chunks", "ragged", "bad_value", "gbk"])
def test_damaged_file_same_problems(data, monkeypatch, change):
    monkeypatch.setattr(validator, "CHUNK", 4)
    f = data / "observations" / "fagai.csv"
    lines = f.read_text(encoding="utf-8").split("\n")
    if change == "repeat_across_chunks":
        lines.append(lines[1])
    elif change == "ragged":
        lines[6] += ",extra"
    elif change == "bad_value":
        cells = lines[9].split(",")
        cells[2] = "inf"
        lines[9] = ",".join(cells)
    text = "\n".join(lines)
    f.write_bytes(text.encode("gbk") if change == "gbk" else text.encode("utf-8"))
    whole, streamed, p1, p2 = both(f, keep=lambda df: df["indicator_id"] == "ind_gdp")
    assert p1.count and p2.count == p1.count
    assert [vars(p) for p in p2.items] == [vars(p) for p in p1.items]


@pytest.mark.parametrize("chunk", [1, 4, 20_000])
def test_input_hash_streamed_same_bytes(data, chunk):
    from planbook.store import observations

    for f in store_files(data):
        df = observations.read_store_file(f)
        for part in (df, df.iloc[:0]):
            assert observations._csv_sha256(part, chunk) == observations.sha256_bytes(
                observations._to_csv(part).encode("utf-8"))
