"""The chapter notebooks: stored clean, parameterised, labelled; executed for real."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from support import resolve

from planbook.chapters import catalogue as chapters
from planbook.run import execute as pipeline

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
LABEL = re.compile(r"^#\|\s*label:\s*(\S+)", re.M)


def test_every_chapter_has_a_notebook():
    names = {p.stem for p in NOTEBOOKS}
    for kind in ("annual", "briefing"):
        for ch in chapters.chapters_for(kind):
            assert ch.key in names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_source_notebook_is_clean_and_parameterised(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "outputs stored"
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    for key in ("period", "as_of", "data_dir", "kind", "plan_id"):
        assert re.search(rf"^{key} = ", params[0].source, re.M), key
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    for c in code:  # notebooks stay thin: no function or class definitions
        assert not re.search(r"^\s*(def|class) ", c.source, re.M), c.source
    ids = [c.id for c in nb.cells]
    assert len(ids) == len(set(ids))


def test_labels_are_prefixed_and_unique_across_the_book():
    seen = {}
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for c in nb.cells:
            for label in LABEL.findall(c.source):
                assert label.startswith(("fig-", "tbl-")), label
                assert label not in seen, f"{label} in {path.name} and {seen.get(label)}"
                seen[label] = path.name
                if label.startswith("fig-"):
                    assert "#| fig-cap:" in c.source and "#| fig-alt:" in c.source, label
                else:
                    assert "#| tbl-cap:" in c.source, label
    assert len(seen) >= 30


def test_notebooks_match_their_generator(tmp_path):
    """notebooks/ is what scripts/make_notebooks.py writes: the layout has one description."""
    script = (ROOT / "scripts" / "make_notebooks.py").read_text(encoding="utf-8")
    copy = tmp_path / "scripts" / "make_notebooks.py"
    copy.parent.mkdir()
    copy.write_text(script, encoding="utf-8")
    (tmp_path / "src").symlink_to(ROOT / "src")
    (tmp_path / "data").symlink_to(ROOT / "data")
    subprocess.run([sys.executable, str(copy)], check=True, capture_output=True)
    for path in NOTEBOOKS:
        assert (tmp_path / "notebooks" / path.name).read_bytes() == path.read_bytes(), path.name


def _figure_hashes(folder: Path) -> dict[str, str]:
    out = {}
    for path in sorted(folder.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for c in nb.cells:
            labels = LABEL.findall(c.source) if c.cell_type == "code" else []
            for o in c.get("outputs", []):
                svg = o.get("data", {}).get("image/svg+xml")
                if svg and labels:
                    out[labels[0]] = hashlib.sha256(svg.encode()).hexdigest()
    return out


def test_annual_notebooks_execute_for_real_and_figures_are_deterministic(project):
    result = pipeline.run(resolve("2025", project), progress=False)
    published = project / "reports" / "2025" / "notebooks"
    assert sorted(result.executed) == sorted(c.key for c in chapters.ANNUAL)
    for path in published.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
                  if o.output_type == "error"]
        assert not errors, path.name
        for c in nb.cells:
            label = LABEL.findall(c.source) if c.cell_type == "code" else []
            if label and label[0].startswith("fig-"):
                assert any("image/svg+xml" in o.get("data", {}) for o in c.outputs), label
            if label and label[0].startswith("tbl-"):
                assert any("text/markdown" in o.get("data", {}) for o in c.outputs), label
    text = (published / "01_overall.ipynb").read_text(encoding="utf-8")
    assert "截至2025年底" in text and "项指标中" in text
    first = _figure_hashes(published)
    assert len(first) >= 15
    pipeline.run(resolve("2025", project), progress=False, force=True)
    assert _figure_hashes(published) == first
