"""Editions: a published period stays as published; re-issuing it is a stated act.

A period's first build publishes edition 1 (第1版), dated the day it was issued. The
manifest (reports/<P>/manifest.json) records the edition, its date and its data cut-off
(`parameters.as_of`: rows received later are not in it, see observations.load_all). From then
on the period is resolved as published (`as_published`): verify, trace and render see the
edition's cut-off and number, and a plain rebuild changes nothing. Including newer data takes
`planbook build --period P --reissue`: the next edition (修订版), its cut-off the later of the
params' as_of and its issue day, published in place while the previous edition is kept,
unchanged, under reports/editions/<P>/<n>/.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from datetime import date
from pathlib import Path

from planbook import paths
from planbook.run.period import (  # noqa: F401
    ReportPeriod,
    UnreadableEdition,
    as_published,
    published,
    published_state,
    read_manifest,
)


def first(rp: ReportPeriod, issued: date) -> ReportPeriod:
    return dataclasses.replace(rp, edition=1, edition_date=issued.isoformat())


def next_edition(rp: ReportPeriod, manifest: dict, issued: date) -> ReportPeriod:
    """The re-issue: edition + 1, dated `issued`, cut-off the later of as_of and that day."""
    from planbook.plan.params import load_params

    as_of = max(load_params(rp.code, rp.root).as_of, issued.isoformat())
    return dataclasses.replace(
        rp, params=dataclasses.replace(rp.params, as_of=as_of),
        edition=int(manifest.get("edition") or 1) + 1, edition_date=issued.isoformat())


def editions_dir(rp: ReportPeriod) -> Path:
    """reports/editions/<P>/: every earlier edition of the period, one folder each."""
    return paths.reports_dir(rp.root) / "editions" / rp.code


def stage_keep(rp: ReportPeriod, edition: int) -> Path:
    """Copy the published edition beside its kept place, reports/editions/<P>/.<edition>.new/,
    for `place_kept` to rename in once the new edition is complete. Called under the period
    lock: a leftover of that name is a killed command's, and replaced."""
    tmp = editions_dir(rp) / f".{edition}.new"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(rp.report_dir, tmp, symlinks=True)
    return tmp


def place_kept(tmp: Path, edition: int) -> Path:
    """Rename the staged copy to reports/editions/<P>/<edition>/. A kept edition of that
    number already there (a re-issue killed between this rename and its publish) is the
    same edition and is never replaced: the copy is dropped instead."""
    target = tmp.parent / str(edition)
    if target.exists():
        shutil.rmtree(tmp)
    else:
        os.rename(tmp, target)
    return target


def label(edition: int, edition_date: str) -> str:
    """第1版（2026-03-31）, 第2版·修订版（…）."""
    kind = "·修订版" if edition > 1 else ""
    return f"第{edition}版{kind}（{edition_date or '日期未记录'}）"
