"""pipeline.run for real: papermill executes tiny chapter notebooks in a temporary project.

The project's own notebooks are not used: these tests are about execution, caching,
publishing and failure, and the fixture chapters run in about a second each.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from support import resolve

import planbook
from planbook import cli
from planbook.chapters.catalogue import Chapter
from planbook.errors import ExecutionError, ParamsError
from planbook.plan.params import load_params
from planbook.plan.registry import load_registry
from planbook.run import execute as pipeline
from planbook.run import period as run_period
from planbook.store.schema import COLUMNS

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
PERIOD = "2025"

SUMMARY = Chapter("00_summary", "报告摘要", None, reads_all=True)
COUNTY = Chapter("02_county", "全面提升县城承载能力", "三")
VILLAGES = Chapter("03_villages", "持续深化“千村示范、万村整治”工程", "四")
BROKEN = Chapter("broken", "故意出错的章节", "三")
CHAPTERS = [SUMMARY, COUNTY, VILLAGES]

PLAN = """二、总体目标
到2027年，县城综合承载能力明显提升。
三、全面提升县城承载能力
（一）推进城市更新
1.改造老旧小区50个。
四、持续深化“千村示范、万村整治”工程
（一）推进乡村建设
1.创建未来乡村20个。
"""
DEPARTMENTS = """
- {name: 住建局, type: government, code: zjj}
- {name: 农业农村局, type: government, code: nyj}
"""
INDICATORS = """
- id: old_estates
  path: 三(一)1
  name_zh: 老旧小区改造
  name_en: old housing estates renovated
  unit: 个
  kind: cumulative
  direction: increase
  quote: [改造老旧小区50个]
  lead: 住建局
  lead_basis: 本条只列住建局。
  lead_stated: true
  targets: [{value: 50, year: 2027, op: ">="}]
- id: future_villages
  path: 四(一)1
  name_zh: 未来乡村
  name_en: future villages
  unit: 个
  kind: cumulative
  direction: increase
  quote: [创建未来乡村20个]
  lead: 农业农村局
  lead_basis: 本条只列农业农村局。
  lead_stated: true
  targets: [{value: 20, year: 2027, op: ">="}]
"""
TASKS = """
- {id: 三(一)1, chapter: 三, title: 推进城市更新, departments: [住建局], indicators: [old_estates]}
- {id: 四(一)1, chapter: 四, title: 推进乡村建设, departments: [农业农村局], indicators: [future_villages]}
"""
PARAMS = """\
period: "2025"
as_of: 2025-12-31
data_dir: data
kind: annual
plan_id: jiande-2023-2027
"""
LIBRARY_FILES = pipeline.library_files  # before the `tiny` fixture replaces it
PARAMETERS_CELL = 'period = ""\nas_of = ""\ndata_dir = ""\nkind = ""\nplan_id = ""'


def chapter_notebook(title: str, reads: str | None = None,
                     parameters: str | None = PARAMETERS_CELL) -> nbformat.NotebookNode:
    """A thin chapter: checks its parameters, imports planbook, reads its department's file."""
    cells = []
    if parameters is not None:
        cells.append(new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    cells += [
        new_markdown_cell(f"# {title}"),
        new_code_cell(textwrap.dedent("""\
            import os
            from pathlib import Path

            import planbook
            from planbook.plan.params import check_injected

            p = check_injected(dict(period=period, as_of=as_of, data_dir=data_dir, kind=kind,
                                    plan_id=plan_id))
            assert Path(os.environ["PLANBOOK_ROOT"]).resolve() == Path.cwd().resolve()
            print("planbook", planbook.__version__, "period", p.period)""")),
    ]
    if reads:
        cells.append(new_code_cell(
            f"#| label: tbl-rows\nprint(Path(data_dir, 'observations', '{reads}').read_text())"))
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    return nb


def _row(indicator: str, value: int, status: str, lead: str, revision: int) -> str:
    """One store row of 2025 (received before the 2025 cut-off)."""
    return (f"{indicator},2025,{value},个,{status},示例,{lead},"
            f"2026-01-20T09:00:00+08:00,{revision},,\n")


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch) -> Path:
    """A three-chapter project with its own two-department registry (not conftest's copy).

    The library's source is a cache input; the cache sees a snapshot of it here, so colleagues
    editing src/planbook while these tests run cannot invalidate the cache between two runs.
    """
    lib = tmp_path / "lib"
    package = Path(planbook.__file__).parent
    shutil.copytree(package, lib, ignore=shutil.ignore_patterns("__pycache__"))
    snapshot = {f"src/planbook/{p.relative_to(lib).as_posix()}": p
                for p in sorted(lib.rglob("*.py"))}
    monkeypatch.setattr(pipeline, "library_files", lambda root: snapshot)
    root = tmp_path / "project"
    plan = root / "data" / "plan"
    plan.mkdir(parents=True)
    (plan / "plan.txt").write_text(PLAN, encoding="utf-8")
    (plan / "departments.yaml").write_text(DEPARTMENTS, encoding="utf-8")
    (plan / "indicators.yaml").write_text(INDICATORS, encoding="utf-8")
    (plan / "tasks.yaml").write_text(TASKS, encoding="utf-8")
    obs = root / "data" / "observations"
    obs.mkdir()
    # the store's own columns (store.schema.COLUMNS): `run` checks the store before it starts
    header = ",".join(COLUMNS) + "\n"
    (obs / "zjj.csv").write_text(header + _row("old_estates", 31, "sample", "住建局", 1),
                                 encoding="utf-8")
    (obs / "nyj.csv").write_text(header + _row("future_villages", 12, "sample", "农业农村局", 1),
                                 encoding="utf-8")
    (root / "data" / "villages").mkdir()
    (root / "params").mkdir()
    (root / "params" / f"{PERIOD}.yml").write_text(PARAMS, encoding="utf-8")
    (root / "_quarto.yml").write_text("project:\n  type: book\n", encoding="utf-8")
    nbs = root / "notebooks"
    nbs.mkdir()
    nbformat.write(chapter_notebook(SUMMARY.title), nbs / SUMMARY.notebook)
    nbformat.write(chapter_notebook(COUNTY.title, "zjj.csv"), nbs / COUNTY.notebook)
    nbformat.write(chapter_notebook(VILLAGES.title, "nyj.csv"), nbs / VILLAGES.notebook)
    shutil.copy(FIXTURES / "broken.ipynb", nbs / BROKEN.notebook)
    return root


def published_bytes(root: Path) -> dict[str, bytes]:
    folder = pipeline.published_dir(PERIOD, root)
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_run_executes_publishes_and_then_reuses_the_cache(tiny: Path):
    result = pipeline.run(resolve(PERIOD, tiny), chapters=CHAPTERS, progress=False)

    assert result.executed == ["00_summary", "02_county", "03_villages"]
    assert result.cached == []
    assert result.output == tiny / "reports" / PERIOD / "notebooks"
    assert sorted(p.name for p in result.output.iterdir()) == [
        "00_summary.ipynb", "02_county.ipynb", "03_villages.ipynb"]
    assert set(result.seconds) == {"00_summary", "02_county", "03_villages"}

    nb = nbformat.read(result.output / "02_county.ipynb", as_version=4)
    tagged = {t for c in nb.cells for t in c.metadata.get("tags", [])}
    assert {"parameters", "injected-parameters"} <= tagged
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "parameters" in tags or "injected-parameters" in tags:
            assert "remove-cell" in tags, "parameter cells must be hidden from every engine"
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata["tags"])
    assert injected.id == "injected-parameters"
    assert 'period = "2025"' in injected.source
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs)
    assert f"planbook {planbook.__version__} period 2025" in text
    assert "old_estates,2025,31" in text  # read through data_dir with cwd = project root
    # No machine-specific paths in what is published.
    assert nb.metadata.papermill.input_path == "notebooks/02_county.ipynb"
    assert nb.metadata.papermill.output_path == "reports/2025/notebooks/02_county.ipynb"
    assert nb.metadata.planbook["chapter"] == "02_county"
    assert str(tiny) not in (result.output / "02_county.ipynb").read_text(encoding="utf-8")

    cache = json.loads((tiny / "build" / "cache" / PERIOD / "02_county.json").read_text())
    assert cache["inputs"]["data/observations/zjj.csv"]
    assert "data/observations/nyj.csv" not in cache["inputs"]
    assert cache["environment"]["planbook"] == planbook.__version__

    before = published_bytes(tiny)
    again = pipeline.run(resolve(PERIOD, tiny), chapters=CHAPTERS, progress=False)
    assert again.executed == []
    assert again.cached == ["00_summary", "02_county", "03_villages"]
    assert not again.published
    assert published_bytes(tiny) == before

    # One department's file changes: only the chapters reading it run again.
    with open(tiny / "data" / "observations" / "zjj.csv", "a", encoding="utf-8") as fh:
        fh.write(_row("old_estates", 33, "provisional", "住建局", 2))
    third = pipeline.run(resolve(PERIOD, tiny), chapters=CHAPTERS, progress=False)
    assert third.executed == ["00_summary", "02_county"]
    assert third.cached == ["03_villages"]
    after = published_bytes(tiny)
    assert after["03_villages.ipynb"] == before["03_villages.ipynb"]
    assert after["02_county.ipynb"] != before["02_county.ipynb"]
    assert b"old_estates,2025,33" in after["02_county.ipynb"]


def test_library_version_and_force_re_execute(tiny: Path, monkeypatch, capsys):
    chapters = [VILLAGES]
    pipeline.run(resolve(PERIOD, tiny), chapters=chapters, progress=False)
    assert pipeline.run(resolve(PERIOD, tiny), chapters=chapters, progress=False).cached
    # A change to planbook's source re-executes although __version__ did not change.
    with open(tiny.parent / "lib" / "assess" / "rules.py", "a", encoding="utf-8") as fh:
        fh.write("\n# a library change\n")
    result = pipeline.run(resolve(PERIOD, tiny), chapters=chapters)
    assert result.executed == ["03_villages"]
    assert "[已变：src/planbook/assess/rules.py]" in capsys.readouterr().err
    monkeypatch.setattr(planbook, "__version__", "99.0.0")
    assert pipeline.run(resolve(PERIOD, tiny), chapters=chapters,
                        progress=False).executed == ["03_villages"]
    result = pipeline.run(resolve(PERIOD, tiny), chapters=chapters, force=True, jobs=1)
    assert result.executed == ["03_villages"]
    err = capsys.readouterr().err
    assert "03_villages" in err and "执行" in err  # the progress line
    assert "TCP without encryption" not in err


def test_a_kernel_that_fails_to_start_is_started_again(tiny: Path, monkeypatch, capsys):
    import papermill

    real, calls = papermill.execute_notebook, []

    def flaky(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 1:  # as when another process took the kernel's port
            raise RuntimeError("Kernel died before replying to kernel_info")
        return real(*args, **kwargs)

    monkeypatch.setattr(papermill, "execute_notebook", flaky)
    result = pipeline.run(resolve(PERIOD, tiny), chapters=[VILLAGES])
    assert result.executed == ["03_villages"] and len(calls) == 2
    assert "内核未能启动（RuntimeError），重新启动" in capsys.readouterr().err


def test_the_longest_chapter_starts_first_even_on_a_cold_run(tiny: Path, monkeypatch):
    import papermill

    real, started = papermill.execute_notebook, []

    def spy(*args, **kwargs):
        started.append(Path(args[0]).stem)
        return real(*args, **kwargs)

    monkeypatch.setattr(papermill, "execute_notebook", spy)
    # Never timed: the notebook with most code cells is estimated longest, not book order.
    src = tiny / "notebooks" / VILLAGES.notebook
    nb = nbformat.read(src, as_version=4)
    nb.cells += [new_code_cell(f"x{i} = {i}") for i in range(40)]
    nbformat.write(nb, src)
    assert (pipeline.estimate_seconds(src)
            > pipeline.estimate_seconds(tiny / "notebooks" / COUNTY.notebook))
    pipeline.run(resolve(PERIOD, tiny), chapters=CHAPTERS, progress=False, jobs=1)
    assert started == ["03_villages", "02_county", "00_summary"]

    # Timed: last run's seconds decide, here or (verify's fresh copy) from another root.
    for key, seconds in (("00_summary", 9.0), ("02_county", 0.5), ("03_villages", 1.0)):
        entry = tiny / "build" / "cache" / PERIOD / f"{key}.json"
        entry.write_text(json.dumps({**json.loads(entry.read_text()), "seconds": seconds}))
    order = pipeline._longest_first(CHAPTERS, PERIOD, tiny.parent / "elsewhere", timings=tiny)
    assert [c.key for c in order] == ["00_summary", "03_villages", "02_county"]
    started.clear()
    pipeline.run(resolve(PERIOD, tiny), chapters=CHAPTERS, progress=False, jobs=1, force=True)
    assert started == ["00_summary", "03_villages", "02_county"]


def test_a_fresh_execution_returns_what_run_publishes_and_writes_nothing(tiny: Path):
    # What verify compares: every chapter executed again, in memory.
    rp = resolve(PERIOD, tiny)
    fresh = pipeline.execute_fresh(rp, chapters=CHAPTERS, jobs=1)
    assert list(fresh) == [c.key for c in CHAPTERS]
    assert not (tiny / "reports").exists()
    assert not pipeline.cache_dir(PERIOD, tiny).exists()
    assert not pipeline.staging_dir(PERIOD, tiny).exists()

    pipeline.run(rp, chapters=CHAPTERS, progress=False)
    for chapter in CHAPTERS:
        published = nbformat.read(pipeline.published_dir(PERIOD, tiny) / chapter.notebook,
                                  as_version=4)
        again = fresh[chapter.key]
        assert [(c.source, c.get("outputs"), c.metadata.get("tags")) for c in again.cells] == [
            (c.source, c.get("outputs"), c.metadata.get("tags")) for c in published.cells]
        assert again.metadata.planbook == published.metadata.planbook
        assert again.metadata.papermill.output_path == published.metadata.papermill.output_path


def test_input_hashes_name_every_input_and_notice_a_vanished_file(tiny: Path):
    params = load_params(PERIOD, tiny)
    registry = load_registry(tiny / "data")
    hashes = pipeline.input_hashes(COUNTY, params, tiny, registry)
    assert {"notebooks/02_county.ipynb", "params/2025.yml", "data/plan/plan.txt",
            "data/plan/indicators.yaml", "data/observations/zjj.csv"} <= set(hashes)
    assert "data/observations/nyj.csv" not in hashes
    # planbook's own source is an input: a library change invalidates the cache.
    assert any(k.endswith("planbook/run/execute.py") for k in hashes)
    assert all(len(v) == 64 for v in hashes.values())

    (tiny / "data" / "plan" / "tasks.yaml").unlink()
    (tiny / "data" / "observations" / "zjj.csv").unlink()
    gone = pipeline.input_hashes(COUNTY, params, tiny, registry)
    assert gone["data/plan/tasks.yaml"] == "missing"
    assert "data/observations/zjj.csv" not in gone
    assert gone != hashes


def test_a_failing_cell_names_chapter_cell_and_error_and_publishes_nothing(
        tiny: Path, monkeypatch, capsys):
    good = [COUNTY, VILLAGES]
    pipeline.run(resolve(PERIOD, tiny), chapters=good, progress=False)
    before = published_bytes(tiny)
    # A source change makes COUNTY run again next to the broken chapter.
    nb = chapter_notebook(COUNTY.title + "（修订）", "zjj.csv")
    nbformat.write(nb, tiny / "notebooks" / COUNTY.notebook)

    with pytest.raises(ExecutionError) as info:
        pipeline.run(resolve(PERIOD, tiny), chapters=[*good, BROKEN], progress=False)
    message = str(info.value)
    assert "章节 broken《故意出错的章节》（notebooks/broken.ipynb）" in message
    assert "第 4 个单元格 tbl-ratio" in message
    assert "ZeroDivisionError: division by zero" in message
    assert "build/failed/2025/broken.ipynb" in message
    [failure] = info.value.failures
    assert (failure.label, failure.cell, failure.ename) == ("tbl-ratio", 4, "ZeroDivisionError")

    kept = tiny / "build" / "failed" / PERIOD / "broken.ipynb"
    failed_nb = nbformat.read(kept, as_version=4)
    errors = [o for c in failed_nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert errors and errors[0].ename == "ZeroDivisionError"
    assert not any('"not reached"' in o.get("text", "") for c in failed_nb.cells
                   if c.cell_type == "code" for o in c.outputs)

    assert published_bytes(tiny) == before  # the revised county chapter is not published
    cache = tiny / "build" / "cache" / PERIOD
    assert not (cache / "broken.json").exists()

    # The CLI prints the same message without a traceback and exits 1.
    monkeypatch.setenv("PLANBOOK_ROOT", str(tiny))
    monkeypatch.setattr(run_period, "chapters_for", lambda kind: (*good, BROKEN))
    capsys.readouterr()
    code = cli.main(["run", "--period", PERIOD])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "第 4 个单元格 tbl-ratio" in err and "ZeroDivisionError" in err
    assert "Traceback" not in err
    # The chapters that succeeded were cached; only the broken one ran again.
    assert "02_county        缓存" in err
    assert published_bytes(tiny) == before

    # Once fixed, the run publishes and the failed notebook is cleared away.
    monkeypatch.setattr(run_period, "chapters_for", lambda kind: tuple(good))
    assert cli.main(["run", "--period", PERIOD]) == 0
    assert not kept.exists()
    assert published_bytes(tiny) != before


def test_a_notebook_without_a_parameters_cell_is_refused(tiny: Path):
    nbformat.write(chapter_notebook("无参数", parameters=None),
                   tiny / "notebooks" / "no_parameters.ipynb")
    chapter = Chapter("no_parameters", "无参数", None)
    with pytest.raises(ParamsError, match=r"notebooks/no_parameters\.ipynb：没有标记为 parameters 的单元格"):
        pipeline.run(resolve(PERIOD, tiny), chapters=[COUNTY, chapter], progress=False)
    assert not (tiny / "reports").exists()  # refused before anything executed


def test_a_parameters_cell_must_set_exactly_the_params_keys(tiny: Path):
    path = tiny / "notebooks" / "partial.ipynb"
    nbformat.write(chapter_notebook("缺参数", parameters='period = ""\nyear = 2025'), path)
    with pytest.raises(ParamsError) as info:
        pipeline.check_notebook(path, tiny)
    message = str(info.value)
    assert "notebooks/partial.ipynb" in message
    assert "未设置 as_of、data_dir、kind、plan_id" in message
    assert "设置了未知的参数 year" in message


def test_a_missing_chapter_notebook_is_refused(tiny: Path):
    with pytest.raises(ExecutionError, match=r"缺少章节笔记本 notebooks/a9_none\.ipynb"):
        pipeline.run(resolve(PERIOD, tiny), chapters=[Chapter("a9_none", "无", None)],
                     progress=False)


def test_the_library_files_are_planbooks_own_source(tmp_path: Path):
    package = Path(planbook.__file__).resolve().parent
    elsewhere = LIBRARY_FILES(tmp_path)  # a project root the package is not installed under
    assert elsewhere["planbook/run/execute.py"] == package / "run" / "execute.py"
    assert not any("__pycache__" in k for k in elsewhere)
    inside = LIBRARY_FILES(package.parents[1])  # the development checkout: src/planbook/...
    assert inside["src/planbook/run/execute.py"] == package / "run" / "execute.py"


@pytest.mark.parametrize("edit, key", [
    (lambda text: text.replace("kind: annual\n", ""), "缺少键 kind"),
    (lambda text: text + "author: someone\n", "有未知的键 author"),
])
def test_bad_params_are_refused_naming_file_and_key(tiny: Path, edit, key):
    path = tiny / "params" / f"{PERIOD}.yml"
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(ParamsError) as info:
        pipeline.run(resolve(PERIOD, tiny), chapters=CHAPTERS, progress=False)
    assert str(path) in str(info.value) and key in str(info.value)


def test_run_alone_publishes_its_notebooks_without_a_stale_book(tiny: Path):
    """The html, PDF and manifest described other notebooks: run alone drops them with the
    new notebooks' edition (render makes the book again); unchanged notebooks keep them."""
    report = tiny / "reports" / PERIOD
    pipeline.run(resolve(PERIOD, tiny), chapters=CHAPTERS, progress=False)
    for part in ("html/index.html", "report.pdf", "manifest.json"):
        (report / part).parent.mkdir(parents=True, exist_ok=True)
        (report / part).write_text("book of these notebooks", encoding="utf-8")
    again = pipeline.run(resolve(PERIOD, tiny), chapters=CHAPTERS, progress=False)
    assert not again.published and (report / "report.pdf").is_file()  # same notebooks
    again = pipeline.run(resolve(PERIOD, tiny), chapters=CHAPTERS, progress=False, force=True)
    # re-executed: the notebooks' bytes may or may not change; the book goes only if they did
    assert (report / "report.pdf").is_file() == (not again.published)
    store = tiny / "data" / "observations" / "zjj.csv"
    store.write_text(store.read_text(encoding="utf-8").replace(",31,", ",32,"), encoding="utf-8")
    changed = pipeline.run(resolve(PERIOD, tiny), chapters=CHAPTERS, progress=False)
    assert changed.published and changed.executed
    assert sorted(p.relative_to(report).as_posix() for p in report.rglob("*") if p.is_file()) \
        == [f"notebooks/{c.notebook}" for c in CHAPTERS]
