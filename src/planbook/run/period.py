"""One reporting period, resolved once where a command starts and passed down.

`resolve("2025")` reads params/2025.yml (checked by planbook.plan.params), picks the chapter
notebooks for its kind (annual book or single-document briefing), settles the data folder
(the params' `data_dir`, or the command line's `--data`) and derives every folder the later
stages write to. Run, book and audit take this object; none of them reads a params file again.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from planbook import paths
from planbook.chapters.catalogue import Chapter, chapters_for, source_notebook
from planbook.errors import UsageError
from planbook.plan.params import Params, load_params, params_file, resolve_period
from planbook.plan.periods import Period


@dataclass(frozen=True)
class ReportPeriod:
    """A period as every stage after the command line sees it."""

    params: Params  # the checked params (data_dir replaced by --data when given)
    root: Path  # the project root (absolute)
    chapters: tuple[Chapter, ...]  # the notebooks, in book order
    data: Path  # the data package read (absolute)
    edition: int = 1  # 版次: 1 for the first issue of the period, 2.. for each re-issue (修订版)
    edition_date: str = ""  # 版次日期 (ISO): the day the edition was issued, never the build time
    # Where this edition is being assembled (run.publish.edition), None once published: every
    # stage writes and reads the edition through report_dir, so a staged command never
    # touches reports/<P>/ until the whole edition is swapped in.
    edition_dir: Path | None = None

    @property
    def code(self) -> str:
        """2025, 2026-10: the period's code, also its folder name under reports/ and build/."""
        return self.params.period

    @property
    def period(self) -> Period:
        return self.params.parsed_period

    @property
    def kind(self) -> str:
        return self.params.kind

    @property
    def single(self) -> bool:
        """One document (the monthly briefing), not a book."""
        return self.kind == "briefing"

    @property
    def params_file(self) -> Path:
        return params_file(self.code, self.root)

    @property
    def staged(self) -> bool:
        """Whether this period's edition is being assembled in staging (see run.publish)."""
        return self.edition_dir is not None

    @property
    def published_dir(self) -> Path:
        """reports/<P>/: where the edition is published."""
        return paths.reports_dir(self.root) / self.code

    @property
    def report_dir(self) -> Path:
        """The edition (html/, report.pdf, notebooks/, manifest.json): reports/<P>/, or while
        a command assembles it, its staging folder (run.publish)."""
        return self.edition_dir or self.published_dir

    @property
    def notebooks_dir(self) -> Path:
        """reports/<P>/notebooks/: the published executed notebooks."""
        return self.report_dir / "notebooks"

    @property
    def manifest(self) -> Path:
        return self.report_dir / "manifest.json"

    def build_path(self, *parts: str) -> Path:
        """build/<parts…>/<P>: the period's caches and staging areas (git-ignored)."""
        return paths.build_dir(self.root).joinpath(*parts) / self.code

    def source_notebook(self, chapter: Chapter) -> Path:
        return source_notebook(chapter, self.root)

    def rel(self, path: Path) -> str:
        """Root-relative posix path, as manifests and messages print it."""
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def moved(self, root: Path) -> ReportPeriod:
        """The same period in a copy of the project (verify re-executes in one). A data folder
        given relative to the project moves with it; an absolute one is read in place."""
        root = root.resolve()
        return dataclasses.replace(self, root=root, data=self.params.data_path(root).resolve())


def resolve(spec: str, root: Path | None = None, *, data: Path | None = None) -> ReportPeriod:
    """Resolve `spec` (a period code or `default`) into a ReportPeriod.

    `data` (the command line's --data) replaces the params' data_dir: the notebooks are run
    with it injected, so the report, its cache key and its manifest all name what was read.
    """
    root = (root or paths.project_root()).resolve()
    params = load_params(resolve_period(spec, root), root)
    if data is not None:
        if not Path(data).is_dir():
            raise UsageError(f"--data {data}：没有这个文件夹",
                             hint="--data 应指向数据包（含 plan/ 和 observations/ 的文件夹），"
                                  "或不加 --data 而使用 ./data")
        params = dataclasses.replace(params, data_dir=str(Path(data).resolve()))
    rp = ReportPeriod(params=params, root=root, chapters=chapters_for(params.kind),
                      data=params.data_path(root).resolve())
    return _as_published(rp)


def _as_published(rp: ReportPeriod) -> ReportPeriod:
    """A published period is seen as its edition was built (run.edition)."""
    manifest = published(rp)
    return as_published(rp, manifest) if manifest is not None else rp


def published(rp: ReportPeriod) -> dict | None:
    """The published edition's manifest, or None when the period has not been published."""
    try:
        return published_state(rp)
    except UnreadableEdition:
        return None  # verify and build name an unreadable manifest


class UnreadableEdition(UsageError):
    """A published edition's manifest cannot be read: its edition, cut-off and inputs are
    unknown, so the period is neither rebuilt as new nor re-issued until someone looks."""


def read_manifest(path: Path) -> dict:
    """An edition's manifest.json as a dict; UnreadableEdition naming the file otherwise."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        why = "为空" if isinstance(exc, ValueError) and not path.read_bytes().strip() else \
            f"无法读取（{type(exc).__name__}: {exc}）"
        raise UnreadableEdition(f"{path}：已发布版次的清单{why}", hint=_unreadable_hint(path)) \
            from None
    if not isinstance(manifest, dict):
        raise UnreadableEdition(f"{path}：已发布版次的清单不是一个 JSON 对象",
                                hint=_unreadable_hint(path))
    return manifest


def _unreadable_hint(path: Path) -> str:
    return (f"从备份恢复 {path}（或整个版次文件夹）后重试；本期不会被当作未发布而重新发布。"
            "确认该版次作废时，手动删除该版次文件夹后再 planbook build")


def published_state(rp: ReportPeriod) -> dict | None:
    """Like `published`, but a manifest that is there and cannot be read is an error
    (UnreadableEdition, exit 2) rather than "never published": a build must not republish a
    period whose published edition it cannot read."""
    if not rp.manifest.is_file():
        return None
    manifest = read_manifest(rp.manifest)
    pdf = rp.report_dir / "report.pdf"
    if not pdf.is_file():  # `run` alone drops the manifest with the book: this is damage
        raise UnreadableEdition(f"{pdf}：已发布版次缺少 PDF（清单在，报告不全）",
                                hint=_unreadable_hint(pdf))
    return manifest


def as_published(rp: ReportPeriod, manifest: dict) -> ReportPeriod:
    """The period as its published edition was built: edition, date and data cut-off."""
    as_of = (manifest.get("parameters") or {}).get("as_of") or rp.params.as_of
    return dataclasses.replace(
        rp, params=dataclasses.replace(rp.params, as_of=str(as_of)),
        edition=int(manifest.get("edition") or 1),
        edition_date=str(manifest.get("edition_date") or ""))

