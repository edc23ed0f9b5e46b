"""A published edition's record of its statuses, and the 指标档案's reading of it.

Every render writes `html/statuses.json` into the edition (RECORD, `write_record`): the period,
its data cut-off, edition and date, and per indicator the status, light, latest value and
period, as the report printed them. It is published like the pages (the manifest lists its
sha256 under `outputs`), and a kept edition (reports/editions/<P>/<N>/) keeps its own copy.

The 指标档案 of an annual report shows each earlier report's status of an indicator
(`earlier_periods`: the annual reports up to this one and the last months before its cut-off)
as published: read from the record of that period's latest published edition
(reports/<Q>/html/statuses.json, `read_record`), with that edition's own cut-off. A period never
published, or whose record cannot be read, is recomputed on this report's rows and says so.

Those records are inputs of the report that reads them (`record_inputs`): the run cache keys
the 指标档案 on their sha256 (missing ones too) and the manifest records them. Once a report is
published, the records it read are pinned by that manifest (`pinned`, `as_published`): an
earlier period re-issued later keeps its old record in reports/editions/<Q>/<N>/, which is
what `verify` re-executes against, and a period published after the report is no input of it.
So later editions of earlier periods never make a published report unverifiable; a re-issue of
the report itself (--reissue) reads the records current then.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from planbook import clock, paths
from planbook.hashing import sha256_file
from planbook.plan.params import Params, load_params
from planbook.plan.periods import Period, parse_period

RECORD = "statuses.json"  # under the edition's html/
RECENT_MONTHS = 3  # the monthly briefings an entry lists: the last ones before the cut-off


def record_path(period: str, root: Path | None = None) -> Path:
    """reports/<P>/html/statuses.json: the record of P's latest published edition."""
    return paths.reports_dir(root) / period / "html" / RECORD


def _number(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def record(*, period: str, kind: str, as_of: str, edition: int, edition_date: str,
           assessments) -> dict:
    """The record of one edition: its identity and, per indicator, what it printed."""
    return {
        "period": period, "kind": kind, "as_of": as_of,
        "edition": int(edition), "edition_date": edition_date,
        "indicators": {
            a.indicator_id: {"status": a.status, "status_zh": a.status_zh, "light": a.light,
                             "latest_value": _number(a.latest_value),
                             "latest_period": a.latest_period, "unit": a.unit}
            for a in assessments},
    }


def write_record(html_dir: Path, **fields) -> Path:
    """html/statuses.json; the same record gives the same bytes (sorted keys, no times)."""
    path = html_dir / RECORD
    path.write_text(json.dumps(record(**fields), ensure_ascii=False, indent=1, sort_keys=True)
                    + "\n", encoding="utf-8")
    return path


def date_zh(iso: str) -> str:
    """2025-03-31 → 2025年3月31日."""
    d = date.fromisoformat(iso)
    return f"{d.year}年{d.month}月{d.day}日"


@dataclass(frozen=True)
class Published:
    """An earlier period's statuses as its latest published edition recorded them."""

    period: str
    as_of: str  # that edition's data cut-off
    edition: int
    edition_date: str
    indicators: dict[str, dict]  # indicator id -> status, status_zh, light, latest_*

    @property
    def edition_zh(self) -> str:
        """第1版（2025年4月2日）, 第2版·修订版（…）, as the pages name editions."""
        kind = "·修订版" if self.edition > 1 else ""
        try:
            issued = f"（{date_zh(self.edition_date)}）"
        except ValueError:  # not recorded, or not a date: the edition alone
            issued = ""
        return f"第{self.edition}版{kind}{issued}"


@dataclass(frozen=True)
class Unreadable:
    """A record that exists but cannot be used; `reason` says why, in Chinese."""

    period: str
    reason: str


def read_record(period: str, root: Path | None = None) -> Published | Unreadable | None:
    """The statuses period `period` published (its latest edition), Unreadable when its record
    is there but damaged, None when the period was never published. Never raises: a damaged
    record of another period must not stop this report."""
    path = record_path(period, root)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return Unreadable(period, f"文件无法读取：{type(exc).__name__}")
    except ValueError:
        return Unreadable(period, "不是有效的JSON")
    if not isinstance(data, dict):
        return Unreadable(period, "内容不是记录")
    if data.get("period") != period:
        return Unreadable(period, f"记录的期间为{data.get('period')!r}，与{period}不符")
    try:
        as_of = date.fromisoformat(str(data.get("as_of"))).isoformat()
    except ValueError:
        return Unreadable(period, "缺少有效的数据截至日期")
    edition = data.get("edition")
    if not isinstance(edition, int) or isinstance(edition, bool) or edition < 1:
        return Unreadable(period, "缺少有效的版次")
    indicators = data.get("indicators")
    if not isinstance(indicators, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("status_zh"), str)
            and isinstance(v.get("light"), str) for v in indicators.values()):
        return Unreadable(period, "缺少各指标的状态和灯号")
    return Published(period, as_of, edition, str(data.get("edition_date") or ""), indicators)


def earlier_periods(period: Period, as_of: str, root: Path | None = None) -> list[Params]:
    """The reports an annual report's 指标档案 lists, each as its params (params/<P>.yml): the
    annual reports up to this one (itself included) and the last RECENT_MONTHS monthly
    briefings whose own cut-off is not after this report's `as_of` (a briefing cut off later,
    e.g. March's on 10 April, is no earlier report than one cut off on 31 March)."""
    folder = paths.params_dir(root)
    cut = date.fromisoformat(as_of)
    # This report's own cut-off has passed (the command checked it): so has any earlier
    # period's that is not later, whatever day the kernel's clock says.
    day = max(cut, clock.today())
    annual, months = [], []
    for f in sorted(folder.glob("*.yml")):
        if f.stem == "default":
            continue
        try:
            p = parse_period(f.stem)
        except Exception:  # noqa: BLE001 - a file that is not a period's params
            continue
        if p.kind == "year" and p.year <= period.year:
            annual.append(load_params(f.stem, root, today=day))
        elif p.kind == "month" and p.end <= cut:
            params = load_params(f.stem, root, today=day)
            if date.fromisoformat(params.as_of) <= cut:
                months.append(params)
    return annual + months[-RECENT_MONTHS:]


def record_inputs(params: Params, root: Path | None = None) -> list[Path]:
    """The records the annual report of `params` reads (present or not): every earlier
    period's of earlier_periods, not its own."""
    return [record_path(p.period, root)
            for p in earlier_periods(params.parsed_period, params.as_of, root)
            if p.period != params.period]


def _record_period(rel: str) -> str | None:
    """'2024' for the manifest path reports/2024/html/statuses.json; None for other inputs."""
    parts = Path(rel).parts
    if len(parts) == 4 and parts[0] == "reports" and parts[2:] == ("html", RECORD):
        return parts[1]
    return None


def pinned(recorded: dict[str, str], root: Path | None = None) -> dict[str, Path]:
    """The records a published report read (its manifest's inputs, path -> sha256), each as a
    file holding those bytes now: at its place if unchanged, else in the kept edition of that
    period that holds them (the period was re-issued since). One no edition holds is absent."""
    reports = paths.reports_dir(root)
    root = reports.parent
    out = {}
    for rel, sha in recorded.items():
        period = _record_period(rel)
        if period is None:
            continue
        kept = sorted((reports / "editions" / period).glob(f"*/html/{RECORD}"))
        for candidate in (root / rel, *kept):
            if candidate.is_file() and sha256_file(candidate) == sha:
                out[rel] = candidate
                break
    return out


def as_published(recorded: dict[str, str], now: dict[str, str], root: Path | None = None
                 ) -> dict[str, str]:
    """The inputs `now` (manifest.input_files) as the published report read them: a record it
    read that a kept edition still holds counts as unchanged, and a record published after it
    is no input of it. Every other input is compared as it is."""
    held = pinned(recorded, root)
    out = {k: v for k, v in now.items() if _record_period(k) is None or k in recorded}
    out.update({rel: recorded[rel] for rel in held})
    return dict(sorted(out.items()))
