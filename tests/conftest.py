"""Shared fixtures: a throw-away copy of the project, so real runs never touch reports/."""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import pytest

# As planbook/__init__ does, before any test module imports openpyxl ahead of planbook
# (openpyxl reads it once; with lxml its workbook bytes differ and the build refuses).
os.environ.setdefault("OPENPYXL_LXML", "False")

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
    """The 2025 report built once, for real, from the shipped sample data (built-in engine).
    Shared read-only: a test that must change it works on `clone_build(sample_build, ...)`."""
    root = copy_project(tmp_path_factory.mktemp("sample-build") / "project")
    lines = build_at(root, "2025")
    assert any("完成" in line for line in lines)
    return root


def clone_build(built: Path, dest: Path) -> Path:
    """A private copy of a built project (inputs, run cache and published reports): a few
    seconds of copying instead of a build; what it rebuilds with unchanged inputs comes from
    the copied cache. Real copies, not hard links: tests rewrite files in place."""
    shutil.copytree(built, dest, symlinks=True)
    return dest


@pytest.fixture(scope="session")
def site_build(sample_build, tmp_path_factory) -> Path:
    """2024 published, then 2025, then the 2026-10 briefing, in one project: the report site
    as a user who builds year after year has it (2025's 指标档案 shows what 2024 published).
    Made from a copy of `sample_build` with 2025 unpublished first, its run cache kept: only
    the 指标档案, whose inputs now include 2024's record, re-executes. Shared read-only (a
    test that alters a file restores it before it returns); copy it with `clone_build`."""
    root = clone_build(sample_build, tmp_path_factory.mktemp("site-build") / "project")
    shutil.rmtree(root / "reports" / "2025")
    assert any("完成" in line for line in build_at(root, "2024"))
    lines = build_at(root, "2025")
    assert any("沿用缓存 10 个" in line for line in lines), lines
    assert any("完成" in line for line in build_at(root, "2026-10"))
    return root


# The day the 2027 总结评估's cut-off (2028-03-31) has passed: its build is refused before.
AFTER_FINAL_CUTOFF = "2028-04-02"


@pytest.fixture(scope="session")
def kind_builds(site_build, tmp_path_factory) -> Path:
    """One project with every other report kind built once, for real (built-in engine):
    2024 (annual) and 2026-10 (briefing) as `site_build` has them, and 2027 (final, with the
    clock set after its cut-off; no figure of 2027 exists, so its gaps show as gaps), built in
    a copy of it. 2025 (midterm) is `sample_build`."""
    import datetime as dt

    from planbook import clock

    root = clone_build(site_build, tmp_path_factory.mktemp("kind-builds") / "project")
    later = dt.datetime.fromisoformat(AFTER_FINAL_CUTOFF + "T09:00:00").replace(
        tzinfo=clock.JIANDE)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(clock, "now", lambda: later)
        assert any("完成" in line for line in build_at(root, "2027"))
    return root


# Under pytest-xdist (`make test` runs `-n 2 --dist loadgroup`) each worker is a session of
# its own: a worker that needs a built-in build makes its own (about a minute) and its tests
# read or clone only that one, so no test sees another process change its build. The Quarto
# builds cost minutes each: every test that reads one, or renders through Quarto itself
# (marked `quarto_render`), runs in the group "quarto", on one worker, and reads no built-in
# build. (Groups need pytest < 9: pytest 9 names items by a field xdist 3.8 does not set.)
SHARED_BUILDS = {"sample_build", "site_build", "kind_builds"}
QUARTO_BUILDS = {"quarto_build", "quarto_briefing"}


# tryfirst: xdist's own hook reads the groups from the markers, so they must be set before it.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if QUARTO_BUILDS & names or item.get_closest_marker("quarto_render"):
            assert not SHARED_BUILDS & names, f"{item.nodeid}: a Quarto test reads a built-in build"
            item.add_marker(pytest.mark.xdist_group("quarto"))


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
