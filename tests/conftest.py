"""Shared fixtures: a throw-away copy of the project, so real runs never touch reports/."""

from __future__ import annotations

import fcntl
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


def once_per_run(tmp_path_factory, name: str, make) -> Path:
    """`make(folder)`'s project, made once per test run. Under pytest-xdist every worker is a
    session of its own: the first worker to ask makes it in a folder all workers share (the
    run's base temp), under a lock the others wait on, and all of them read that one. A
    worker that failed half-way leaves no `made` mark: the next one starts it afresh."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        return make(tmp_path_factory.mktemp(name))
    folder = tmp_path_factory.getbasetemp().parent / name
    with open(f"{folder}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes (or the worker dies)
        made = folder.with_name(f"{name}.made")
        if not made.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            made.write_text(str(make(folder)), encoding="utf-8")
        return Path(made.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory) -> Path:
    """The 2025 report built once, for real, from the shipped sample data (built-in engine).
    Shared read-only, by every xdist worker too: a test that must change it works on
    `clone_build(sample_build, ...)`."""
    def make(folder: Path) -> Path:
        root = copy_project(folder / "project")
        assert any("完成" in line for line in build_at(root, "2025"))
        return root

    return once_per_run(tmp_path_factory, "sample-build", make)


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
    the 指标档案, whose inputs now include 2024's record, re-executes. Shared read-only; a
    test that changes a file or runs a command in it works in `working_copy(site_build, ...)`."""
    def make(folder: Path) -> Path:
        root = clone_build(sample_build, folder / "project")
        shutil.rmtree(root / "reports" / "2025")
        assert any("完成" in line for line in build_at(root, "2024"))
        lines = build_at(root, "2025")
        assert any("沿用缓存 10 个" in line for line in lines), lines
        assert any("完成" in line for line in build_at(root, "2026-10"))
        return root

    return once_per_run(tmp_path_factory, "site-build", make)


@pytest.fixture(scope="module")
def working_copy(site_build, tmp_path_factory):
    """A module's own copy of `site_build` as the working root (PLANBOOK_ROOT and the current
    folder): its tests run commands that write (trace, verify, rebuilds) and alter files,
    which must not reach the tests of another worker reading `site_build` at that moment."""
    root = clone_build(site_build, tmp_path_factory.mktemp("working-copy") / "project")
    mp = pytest.MonkeyPatch()
    mp.setenv("PLANBOOK_ROOT", str(root))
    mp.chdir(root)
    yield root
    mp.undo()


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

    def make(folder: Path) -> Path:
        root = clone_build(site_build, folder / "project")
        later = dt.datetime.fromisoformat(AFTER_FINAL_CUTOFF + "T09:00:00").replace(
            tzinfo=clock.JIANDE)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(clock, "now", lambda: later)
            assert any("完成" in line for line in build_at(root, "2027"))
        return root

    return once_per_run(tmp_path_factory, "kind-builds", make)


# Under pytest-xdist (`make test` runs `-n 2 --dist worksteal`) each worker is a session of
# its own; the builds above are made once per run all the same (`once_per_run`). worksteal
# gives each worker half of the items, in this order, and moves tests from the tail of a busy
# worker's queue to an idle one. The order puts the longest work at the head of each half,
# so that it starts at once and runs side by side: the first half opens with the tests on the
# Quarto build of 2025 (its render takes minutes), the second with the Quarto briefing, the
# Quarto render of 2027 (marked `quarto_render`) and the axe-core runs over every page.
FIRST_HALF = ("quarto_build",)
SECOND_HALF = ("quarto_briefing", "quarto_render", "test_a11y.py")


def _leads(item, keys) -> bool:
    names = set(getattr(item, "fixturenames", ()))
    return any(k in names or item.get_closest_marker(k) or item.path.name == k for k in keys)


def pytest_collection_modifyitems(config, items):
    first = [i for i in items if _leads(i, FIRST_HALF)]
    second = [i for i in items if i not in first and _leads(i, SECOND_HALF)]
    rest = [i for i in items if i not in first and i not in second]
    fill = max(0, len(items) // 2 - len(first))
    items[:] = first + rest[:fill] + second + rest[fill:]


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
    """A project copy with `period` built once per run through a real Quarto; its progress
    lines in build-lines.txt (what the analyst was shown)."""
    need_quarto()

    def make(folder: Path) -> Path:
        root = copy_project(folder / "project")
        lines = build_at(root, period, engine="quarto")
        assert any("完成" in line for line in lines)
        (root / "build-lines.txt").write_text("\n".join(lines), encoding="utf-8")
        return root

    return once_per_run(tmp_path_factory, f"quarto-{period}", make)


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
