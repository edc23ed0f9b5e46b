"""Shared fixtures: a throw-away copy of the project, so real runs never touch reports/."""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT_PARTS = ("_quarto.yml", "book", "notebooks", "params", "data", "src")
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def copy_project(dest: Path) -> Path:
    """Copy what a build reads into `dest` (src too: the run cache hashes the library)."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in PROJECT_PARTS:
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.is_file():
            shutil.copy2(src, dest / part)
    return dest


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A fresh project copy as the working root (PLANBOOK_ROOT) for one test."""
    root = copy_project(tmp_path / "project")
    monkeypatch.setenv("PLANBOOK_ROOT", str(root))
    monkeypatch.chdir(root)
    return root


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory) -> Path:
    """The 2025 report built once, for real, from the shipped sample data (built-in engine)."""
    root = copy_project(tmp_path_factory.mktemp("sample-build") / "project")
    lines = build_at(root, "2025")
    assert any("完成" in line for line in lines)
    return root


# The day the 2027 总结评估's cut-off (2028-03-31) has passed: its build is refused before.
AFTER_FINAL_CUTOFF = "2028-04-02"


@pytest.fixture(scope="session")
def kind_builds(tmp_path_factory) -> Path:
    """One project with every other report kind built once, for real (built-in engine):
    2024 (annual), 2026-10 (briefing) and 2027 (final, with the clock set after its cut-off;
    no figure of 2027 exists, so its gaps show as gaps). 2025 (midterm) is `sample_build`."""
    import datetime as dt

    from planbook import clock

    root = copy_project(tmp_path_factory.mktemp("kind-builds") / "project")
    for period in ("2024", "2026-10"):
        assert any("完成" in line for line in build_at(root, period))
    later = dt.datetime.fromisoformat(AFTER_FINAL_CUTOFF + "T09:00:00").replace(
        tzinfo=clock.JIANDE)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(clock, "now", lambda: later)
        assert any("完成" in line for line in build_at(root, "2027"))
    return root


def build_at(root: Path, period: str, *, engine: str = "builtin", **kw) -> list[str]:
    """Build a period of the project at `root` (builtin engine unless told), with PLANBOOK_ROOT
    pointing there for the build only; its progress lines (the build publishes once they are
    all read)."""
    from planbook.build import build

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PLANBOOK_ROOT", str(root))
        return list(build(period, engine=engine, root=root, **kw))


# --- Quarto (optional for users; .ci/run installs 1.10.18 from ../shared/quarto/) ------------

QUARTO_MISSING = ("QUARTO TEST SKIPPED: `quarto` is not on PATH; install Quarto 1.10.18 with "
                  "`bash ../shared/quarto/install.sh PREFIX` and put PREFIX/bin on PATH "
                  "(.ci/run does this into build/quarto-1.10.18)")


def need_quarto() -> None:
    """Skip (saying why) when quarto is absent; fail instead where it must run
    (PLANBOOK_REQUIRE_QUARTO=1, set by .ci/run once it has installed Quarto)."""
    if shutil.which("quarto") is None:
        if os.environ.get("PLANBOOK_REQUIRE_QUARTO"):
            pytest.fail("PLANBOOK_REQUIRE_QUARTO is set but `quarto` is not on PATH")
        warnings.warn(QUARTO_MISSING, stacklevel=2)
        pytest.skip(QUARTO_MISSING)


def _quarto_built(tmp_path_factory, period: str) -> Path:
    """A project copy with `period` built once through a real Quarto; its progress lines in
    build-lines.txt (what the analyst was shown)."""
    need_quarto()
    root = copy_project(tmp_path_factory.mktemp(f"quarto-{period}") / "project")
    lines = build_at(root, period, engine="quarto")
    assert any("完成" in line for line in lines)
    (root / "build-lines.txt").write_text("\n".join(lines), encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def quarto_build(tmp_path_factory) -> Path:
    """The 2025 report (midterm book) built once through a real Quarto (a build took 18 min here
    under load, most of it the render)."""
    return _quarto_built(tmp_path_factory, "2025")


@pytest.fixture(scope="session")
def quarto_briefing(tmp_path_factory) -> Path:
    """The 2026-10 briefing (a single document) built once through a real Quarto."""
    return _quarto_built(tmp_path_factory, "2026-10")


@pytest.fixture(scope="module")
def browser():
    """Debian chromium driven by playwright, one per test module (browser, a11y, site)."""
    if not CHROMIUM.exists():
        reason = ("BROWSER TEST SKIPPED: /usr/bin/chromium is missing; install it with "
                  "`apt-get install chromium` (.ci/run does this as root)")
        warnings.warn(reason, stacklevel=1)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()
