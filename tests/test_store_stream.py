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


@pytest.mark.parametrize("held", [True, False], ids=["small-store-held", "large-store-not"])
def test_a_build_parses_a_small_store_once_and_a_large_one_each_time(tmp_path, monkeypatch,
                                                                      held):
    """A build reads the whole store for its check, its cut-off count, its sample notice and
    its input hashes: a store within KEEP_BYTES is parsed once and held while its bytes are
    the same; a larger one is parsed each time (a held copy of a million rows beside the
    report's own frames cost more memory than the parse costs time) and checked a chunk at a
    time. Either way the results are the same."""
    from planbook.hashing import ByContent
    from planbook.plan.periods import parse_period
    from planbook.plan.registry import load_registry
    from planbook.store import observations

    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    monkeypatch.setattr(observations, "_WHOLE", ByContent())
    if not held:
        monkeypatch.setattr(observations, "KEEP_BYTES", 0)
    parsed: list[bool] = []
    real = observations._read_all

    def counted(data, registry=None, indicators=None):
        parsed.append(indicators is None)  # True: parsed whole; False: checked in chunks
        return real(data, registry, indicators)
    monkeypatch.setattr(observations, "_read_all", counted)
    registry, period = load_registry(data), parse_period("2025")
    observations.check_store(data, registry, whole=True)
    rows = [observations.load_all(data, registry, as_of="2026-03-31", period=period)
            for _ in range(2)]
    hashes = observations.input_hashes(data, as_of="2026-03-31", period=period)
    assert parsed == ([True] if held else [False, True, True])
    pd.testing.assert_frame_equal(rows[0], rows[1])
    # the hashes from the held parse are those of each file read on its own
    expected = {}
    for f in store_files(data):
        df = observations.upto(observations.received_by(
            observations.read_store_file(f), "2026-03-31"), period)
        expected[f] = observations._csv_sha256(
            df.sort_values(["indicator_id", "period", "revision"], kind="stable"))
    assert {f: hashes[f] for f in expected} == expected
    # the same bytes written again: still held; a row removed: parsed again, and seen
    f = store_files(data)[0]
    text = f.read_text(encoding="utf-8")
    f.write_text(text, encoding="utf-8")
    before = len(observations.load_observations(data))
    assert parsed.count(True) == (1 if held else 3)
    f.write_text("".join(text.splitlines(keepends=True)[:-1]), encoding="utf-8")
    assert len(observations.load_observations(data)) == before - 1
    assert parsed.count(True) == (2 if held else 4)
