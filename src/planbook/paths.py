"""The one place project paths are derived, anchored on the project root."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The project root: $PLANBOOK_ROOT, else the nearest folder above the cwd with _quarto.yml."""
    env = os.environ.get("PLANBOOK_ROOT")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "_quarto.yml").is_file() and (folder / "data").is_dir():
            return folder
    # Installed in development mode: src/planbook/paths.py -> project root two levels up.
    return Path(__file__).resolve().parents[2]


def data_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "data"


def plan_dir(data: Path) -> Path:
    return data / "plan"


def observations_dir(data: Path) -> Path:
    return data / "observations"


def villages_dir(data: Path) -> Path:
    return data / "villages"


def statements_dir(data: Path) -> Path:
    """Departments' progress statements per task (store.statements)."""
    return data / "statements"


def project_stages_dir(data: Path) -> Path:
    """Departments' reports of each named project's current stage (store.statements)."""
    return data / "projects"


def evaluation_dir(data: Path) -> Path:
    """The evaluator's judgement per period: <period>.yaml (store.evaluation)."""
    return data / "evaluation"


def archive_dir(data: Path) -> Path:
    """Every submitted file, kept under its sha256 with its outcome."""
    return data / "submissions"


def params_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "params"


def notebooks_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "notebooks"


def book_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "book"


def reports_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "reports"


def build_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "build"


def archived_submission(data: Path, sha256: str) -> Path | None:
    """data/submissions/<sha256>.<ext>: the submitted file itself (<sha256>.json is its
    outcome record); None when it was never submitted through `ingest` (e.g. sample data)."""
    folder = archive_dir(data)
    if not sha256 or not folder.is_dir():
        return None
    return next((p for p in sorted(folder.glob(f"{sha256}.*")) if p.suffix != ".json"), None)
