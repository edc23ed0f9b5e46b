"""The observation store: one CSV per reporting department, described by datapackage.json.

One row per indicator, period and revision. A new value for an indicator and period that
already has one is stored as the next revision; reports use the latest revision and the
history stays in the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from planbook import paths
from planbook.errors import EnvironmentFault, PlanbookError
from planbook.files import atomic_write_text, exclusive_lock, shared_lock
from planbook.hashing import ByContent, sha256_bytes, sha256_file  # noqa: F401 - re-exported
from planbook.plan.periods import Period, parse_period
from planbook.store import commit, validator, villages
from planbook.store.schema import (  # noqa: F401
    COLUMNS,
    DATA_LICENSES,
    FIELDS,
    SAMPLE_DATA_NOTE,
    SCHEMA_FILE,
    STATUS_ZH,
    STATUSES,
)


def store_files(data: Path) -> list[Path]:
    """The store's CSV files, in name order."""
    folder = paths.observations_dir(data)
    return sorted(folder.glob("*.csv")) if folder.is_dir() else []


def department_file(data: Path, code: str) -> Path:
    return paths.observations_dir(data) / f"{code}.csv"


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="float64" if c == "value" else
                                      "int64" if c == "revision" else "object")
                         for c in COLUMNS})


def _rel(path: Path, data: Path | None) -> str:
    try:
        return path.relative_to(data.parent).as_posix() if data else path.name
    except ValueError:
        return str(path)


def read_store_file(path: Path, data: Path | None = None) -> pd.DataFrame:
    """One store file, checked by store.validator (an IntakeError naming file, row and column
    for anything malformed: wrong encoding, missing column, truncated row, inf …)."""
    problems = validator.StoreProblems()
    df = validator.stream(path, _rel(path, data), problems)
    problems.raise_if_any()
    return df


def _read_all(data: Path, registry=None, indicators: Iterable[str] | None = None
              ) -> list[pd.DataFrame]:
    problems = validator.StoreProblems()
    frames = []
    keep = None
    if indicators is not None:
        wanted = sorted(set(indicators))
        keep = lambda df: df["indicator_id"].isin(wanted)  # noqa: E731
    for f in store_files(data):
        df = validator.stream(f, _rel(f, data), problems, registry, keep)
        if df is not None:
            df["file"] = f.relative_to(data).as_posix()
            frames.append(df)
    problems.raise_if_any()
    return frames


def load_observations(data: Path | None = None, *,
                      indicators: Iterable[str] | None = None) -> pd.DataFrame:
    """Every stored row (all revisions), plus `file`: the store file it lives in (relative).
    Every file is checked first (store.validator): a damaged store is refused, never read.
    `indicators`: only their rows are kept (every row is still checked, a chunk at a time),
    so memory grows with the rows kept, not with the store."""
    data = data or paths.data_dir()
    if indicators is not None:
        return _concat(_read_all(data, indicators=indicators))
    frame, kept = _whole(data)
    return frame.copy() if kept else frame


# One build reads the whole store several times (its check, the cut-off count, the sample
# notice, the input hashes; each month of a range as often): parsed and checked once, while
# the files' bytes are the same. One store is held: the old one is freed before the next read.
# Only a store of up to KEEP_BYTES of CSV is held: beside a report's own frames, a kept
# million rows cost a build about 100 MiB, more than parsing them again costs in time.
_WHOLE = ByContent()
KEEP_BYTES = 16 * 2**20


def _kept(data: Path) -> bool:
    """Whether the store is small enough to be held parsed (KEEP_BYTES)."""
    return sum(f.stat().st_size for f in store_files(data)) <= KEEP_BYTES


def _whole(data: Path) -> tuple[pd.DataFrame, bool]:
    """Every stored row, checked, and whether that frame is the one held (then callers must
    not change it: they copy or filter it)."""
    if not _kept(data):
        return _concat(_read_all(data)), False
    key = (data.resolve(), tuple((f.name, sha256_file(f)) for f in store_files(data)))
    return _WHOLE.get(key, lambda: _concat(_read_all(data))), True


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    if not frames:
        out = _empty()
        out["file"] = pd.Series(dtype="object")
        return out
    return pd.concat(frames, ignore_index=True)


def received_by(df: pd.DataFrame, as_of: str | None) -> pd.DataFrame:
    """Rows received on or before `as_of` (ISO date): a report's data cut-off. Rows without a
    receipt time (computed ones) are kept."""
    if not as_of or df.empty:
        return df
    got = df["received_at"].astype(str)
    return df[(got == "") | (got.str[:10] <= as_of)]


def load_all(data: Path | None = None, registry=None, *, as_of: str | None = None,
             period: Period | None = None) -> pd.DataFrame:
    """What reports use: the store, with village-derived indicators computed from the records.

    A report passes its cut-off and period (frozen periods): only rows received by `as_of`
    and for periods ending by `period`'s end, so rows ingested later, or for later periods,
    cannot change it. See `input_hashes`."""
    from planbook.plan.registry import load_registry

    data = data or paths.data_dir()
    registry = registry or load_registry(data)
    # the held parse itself, not a copy of it: only filtered below, each filter a new frame
    # (a copy would hold the store twice while the report's frames are made)
    store = received_by(_whole(data)[0], as_of)
    if period is not None:
        store = upto(store, period)
    derived_ids = {i.id for i in registry.indicators.values() if i.villages}
    store = store[~store["indicator_id"].isin(derived_ids)]
    derived = villages.derived_observations(registry, data, as_of=as_of,
                                            year=period.year if period else None)
    if derived.empty:
        return store.reset_index(drop=True)
    return pd.concat([store, derived], ignore_index=True)


def received_after(data: Path, registry, period: Period, as_of: str) -> int:
    """How many rows of `period`'s report were received after its cut-off `as_of`: what a
    report at that cut-off leaves out (said by `status` and by `build`)."""
    return len(load_all(data, registry, period=period)) - len(
        load_all(data, registry, as_of=as_of, period=period))


def latest(df: pd.DataFrame) -> pd.DataFrame:
    """The latest revision of each indicator and period; real before sample: where an
    (indicator, period) has any non-sample row, its sample rows are never used."""
    if df.empty:
        return df
    if "status" in df.columns:
        order = df.assign(_real=(df["status"] != "sample").astype(int)).sort_values(
            ["indicator_id", "period", "_real", "revision"], kind="stable").drop(columns="_real")
    else:
        order = df.sort_values(["indicator_id", "period", "revision"], kind="stable")
    return order.drop_duplicates(["indicator_id", "period"], keep="last").reset_index(drop=True)


def upto(df: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Rows whose period ends on or before the end of `period`."""
    if df.empty:
        return df
    # Parsed once per distinct period: a large store repeats a few dozen periods.
    ends = df["period"].map({p: parse_period(p).end for p in df["period"].unique()})
    return df[ends <= period.end]


def uses_sample(data: Path | None = None, period: Period | str | None = None, *,
                frame: pd.DataFrame | None = None, as_of: str | None = None) -> bool:
    """Whether any observation a report for `period` (cut-off `as_of`) can use is illustrative
    sample data. `frame` is load_all's result already loaded, when the caller has it."""
    data = data or paths.data_dir()
    if period is not None:
        period = parse_period(period) if isinstance(period, str) else period
    df = load_all(data, as_of=as_of, period=period) if frame is None else frame
    if period is not None:
        df = upto(df, period)
    return bool((latest(df)["status"] == "sample").any())


def input_hashes(data: Path, *, as_of: str | None, period: Period) -> dict[Path, str]:
    """What a report for `period` with cut-off `as_of` reads from the data, per file: the
    sha256 of the rows it can use (received by the cut-off, period ending by its end), not of
    the whole file. A later ingest (a later period, or a row received after the cut-off)
    leaves these hashes, and so the report, unchanged."""
    out = {}
    # from the store held parsed (the same checked rows read_store_file gives, in file order),
    # one file's rows copied out at a time; a store too large to be held, a file at a time
    store = _whole(data)[0] if _kept(data) else None
    rows_of = store.groupby("file", sort=False).indices if store is not None else {}
    for f in store_files(data):
        at = rows_of.get(f.relative_to(data).as_posix())
        df = read_store_file(f) if at is None else store.iloc[at].drop(columns="file")
        df = upto(received_by(df, as_of), period)
        # in key order: rows appended after others hash as if the file were sorted
        df = df.sort_values(["indicator_id", "period", "revision"], kind="stable")
        out[f] = _csv_sha256(df)
    vfile = villages.village_file(data)
    if vfile.is_file():
        out[vfile] = villages.records_sha256(
            villages.load_villages(data, as_of=as_of, year=period.year))
    return out


def mixes_real_and_sample(frame: pd.DataFrame, registry, period: Period) -> bool:
    """Whether the rows a report uses (load_all's, up to `period`) hold both real figures
    (the plan's stated baselines aside) and sample ones: then every sample value is marked."""
    used = latest(upto(frame, period))
    if used.empty:
        return False
    sample = used["status"] == "sample"
    base = {i.id: str(i.baseline.year) for i in registry.indicators.values()
            if i.baseline is not None}
    plan_base = used["period"] == used["indicator_id"].map(lambda i: base.get(i, ""))
    return bool(sample.any() and (~sample & ~plan_base).any())


def report_fact(data: Path, registry, *, as_of: str | None, period: Period) -> str:
    """The report-wide fact a chapter's output depends on beyond its own departments' files
    (the run cache keys on it): whether real and sample figures are mixed."""
    try:
        frame = load_all(data, registry, as_of=as_of, period=period)
    except (KeyError, ValueError, PlanbookError):  # a malformed store: check_store names it
        return "unreadable"
    return "mixed" if mixes_real_and_sample(frame, registry, period) else "single"


def next_revisions(existing: pd.DataFrame, keys: Iterable[tuple[str, str]]) -> list[int]:
    """Revision number each new (indicator_id, period) row gets: one more than the stored max."""
    current: dict[tuple[str, str], int] = {}
    if not existing.empty:
        grouped = existing.groupby(["indicator_id", "period"])["revision"].max()
        current = {k: int(v) for k, v in grouped.items()}
    return [current.get(k, 0) + 1 for k in keys]


_atomic_write_text = atomic_write_text  # the store's writes keep the files' modes


@contextlib.contextmanager
def store_lock(data: Path) -> Iterator[None]:
    """Exclusive hold on the data package while it is read, changed and rewritten.

    Every writer (ingest, sample) takes it from reading the store through the commit of its
    change (store.commit), so concurrent ingests queue instead of losing each other's rows;
    on taking it, a commit a kill interrupted is finished or rolled back (commit.recover).
    An flock on the data folder itself (no lock file): the kernel releases it if the process
    dies.
    """
    def waiting() -> None:
        print(f"planbook：{data} 正被另一个命令写入或读取，等它完成 …", file=sys.stderr)

    try:
        held = exclusive_lock(data, on_wait=waiting)
        held.__enter__()
    except OSError as exc:
        raise EnvironmentFault.from_os(exc, data, doing="锁定数据文件夹") from None
    try:
        commit.say(commit.recover(data))  # a commit a kill interrupted: finished or undone
        yield
    finally:
        held.__exit__(None, None, None)


@contextlib.contextmanager
def read_lock(data: Path) -> Iterator[None]:
    """Shared hold on the data package while a build or verify reads it: any number of
    readers at once, no writer (store_lock) meanwhile, so everything one build reads and
    hashes is one state of the store; an ingest waits for it, or lands before it starts."""
    def waiting() -> None:
        print(f"planbook: {data} 正在被写入（ingest/sample），等它完成后再读取 …", file=sys.stderr)

    if not Path(data).is_dir():  # a missing data folder is reported by whoever reads it
        yield
        return
    with shared_lock(data, on_wait=waiting):
        yield


def _csv_sha256(df: pd.DataFrame, chunk: int = 20_000) -> str:
    """sha256 of _to_csv(df)'s UTF-8 bytes, written a chunk of rows at a time: the same bytes
    (rows are formatted one by one), without the whole file's text in memory."""
    digest = hashlib.sha256()
    for start in range(0, max(len(df), 1), chunk):
        text = _to_csv(df.iloc[start:start + chunk])
        digest.update((text if start == 0 else text.split("\n", 1)[1]).encode("utf-8"))
    return digest.hexdigest()


def _to_csv(df: pd.DataFrame) -> str:
    out = df[list(COLUMNS)].copy()
    out["value"] = format_values(out["value"])
    return out.to_csv(index=False, lineterminator="\n")


def format_values(values: pd.Series) -> pd.Series:
    """format_value over a column at once: every append rewrites the whole store file."""
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    out = np.full(len(v), "", dtype=object)
    finite = ~np.isnan(v)
    with np.errstate(invalid="ignore"):
        whole = finite & (np.mod(v, 1) == 0) & (np.abs(v) < 1e15)
    out[whole] = v[whole].astype(np.int64).astype(str)
    other = finite & ~whole
    out[other] = [repr(x) for x in v[other].tolist()]
    return pd.Series(out, index=values.index, dtype=object)


def format_value(v: float) -> str:
    """Shortest text that reads back as the same float (1376 not 1376.0)."""
    if pd.isna(v):
        return ""
    f = float(v)
    return str(int(f)) if f.is_integer() and abs(f) < 1e15 else repr(f)


def store_file_text(df: pd.DataFrame) -> str:
    """One store file's text, sorted so the same rows give the same bytes."""
    return _to_csv(df.sort_values(["indicator_id", "period", "revision"], kind="stable"))


def write_store_file(path: Path, df: pd.DataFrame, tx=None) -> None:
    """Write one store file (in `tx`, a store.commit.Commit, or atomically on its own)."""
    if tx is not None:
        tx.write(path, store_file_text(df).encode("utf-8"))
    else:
        _atomic_write_text(path, store_file_text(df))


def append_rows(data: Path, code: str, rows: pd.DataFrame, tx=None) -> Path:
    """Append new rows (revision already set) to a department's store file, in `tx` (else in
    a commit of its own): only the new lines are written (the journal keeps the old size)."""
    if tx is None:
        with commit.transaction(data) as own:
            return append_rows(data, code, rows, own)
    path = department_file(data, code)
    text = _to_csv(rows[list(COLUMNS)])
    if _ends_whole(path):
        tx.append(path, text.split("\n", 1)[1].encode("utf-8"))  # without the header
    else:  # a new file (or one without its final newline: rewritten whole, checked)
        old = read_store_file(path, data) if path.is_file() else _empty()
        both = pd.concat([old[list(COLUMNS)], rows[list(COLUMNS)]], ignore_index=True)
        write_store_file(path, both, tx)
    write_datapackage(data, tx, adding=[path])
    return path


def _ends_whole(path: Path) -> bool:
    """Whether `path` is a store file ending in a newline (rows can be appended to it)."""
    try:
        with open(path, "rb") as fh:
            if fh.readline().rstrip(b"\r\n").lstrip(b"\xef\xbb\xbf").decode(
                    "utf-8", "replace") != ",".join(COLUMNS):
                return False
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) == b"\n"
    except OSError:
        return False


def write_datapackage(data: Path, tx=None, *, adding: Iterable[Path] = ()) -> Path:
    """datapackage.json: a Frictionless Data Package with one resource per store file
    (`adding`: store files `tx` creates). Unchanged content is not rewritten."""
    folder = paths.observations_dir(data)
    schema = {"fields": FIELDS, "primaryKey": ["indicator_id", "period", "revision"]}
    files = sorted({*store_files(data), *adding}, key=lambda p: p.name)
    resources = [{
        "name": f.stem.lower().replace("_", "-"),
        "path": f.name,
        "profile": "tabular-data-resource",
        "format": "csv",
        "encoding": "utf-8",
        "schema": SCHEMA_FILE,  # one Table Schema shared by every department's file
    } for f in files]
    package = {
        "profile": "tabular-data-package",
        "name": "jiande-plan-observations",
        "title": "建德市县城承载能力提升和深化“千万工程”实施方案监测数据",
        "description": SAMPLE_DATA_NOTE,
        "licenses": DATA_LICENSES,
        "resources": resources,
    }
    path = folder / "datapackage.json"
    for target, doc in ((folder / SCHEMA_FILE, schema), (path, package)):
        text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
        if tx is not None:
            tx.write(target, text.encode("utf-8"))
        else:
            _atomic_write_text(target, text)
    return path


def rows_for(df: pd.DataFrame, indicator_ids: Iterable[str]) -> pd.DataFrame:
    ids = set(indicator_ids)
    return df[df["indicator_id"].isin(ids)]


def parse_periods(df: pd.DataFrame) -> pd.Series:
    return df["period"].map(parse_period)


def check_store(data: Path, registry, *, whole: bool = False) -> None:
    """Refuse a store a report cannot trust: every problem at once, with file, row and column
    (store.validator, plus indicator ids the registry does not know). `whole`: the caller
    reads the whole store next anyway (a build), so a store small enough to be held
    (KEEP_BYTES) is parsed once, whole, and held for it; otherwise a chunk at a time and
    nothing kept."""
    if whole and _kept(data):
        known = {*registry.indicators, ""}
        with contextlib.suppress(PlanbookError):  # read again below, to name every problem
            if _whole(data)[0]["indicator_id"].isin(known).all():
                return
    _read_all(data, registry, indicators=())  # checked a chunk at a time, nothing kept
