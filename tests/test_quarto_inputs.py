"""What Quarto would read, checked without Quarto: the executed notebooks of the sample data
for an annual period and a briefing, as published and as staged by `planbook render --engine
quarto` (book profile, index.qmd, staged chapters; the briefing's document project).

The rules come from Quarto 1.10.18's own source (/work/quarto-findings.md §1): an output
whose types Quarto cannot show prints "Unable to display output" into the page, and a figure
cell with more than one display output becomes a multi-output figure whose caption goes to
the first one. So every figure cell holds exactly one output, of a type Quarto renders, and no
output anywhere has another type; the audit records live in metadata Quarto ignores.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from conftest import copy_project
from support import resolve

from planbook.audit.register import register
from planbook.book.pages import cell_options
from planbook.book.quarto import write_quarto_document, write_quarto_index, write_quarto_profile
from planbook.book.spec import book_spec
from planbook.chapters import provenance
from planbook.run import execute

ANNUAL, BRIEFING = "2025", "2026-10"
# The MIME types Quarto renders in both html and typst (display-data.ts priority list).
RENDERABLE = {"image/svg+xml", "image/png", "text/markdown", "text/html", "text/plain"}


@pytest.fixture(scope="module")
def staged(tmp_path_factory) -> Path:
    """2025 and 2026-10 run on the sample data, and their Quarto inputs staged."""
    root = copy_project(tmp_path_factory.mktemp("quarto-inputs") / "project")
    mp = pytest.MonkeyPatch()
    mp.setenv("PLANBOOK_ROOT", str(root))
    for period in (ANNUAL, BRIEFING):
        rp = resolve(period, root)
        execute.run(rp, progress=False)
        book = book_spec(rp)
        if period == BRIEFING:
            write_quarto_document(book, root, sample_notice=True)
        else:
            write_quarto_profile(book, root, register(rp), sample_notice=True)
            write_quarto_index(book, root)
    yield root
    mp.undo()


def _notebooks(root: Path, period: str) -> dict[str, list[Path]]:
    quarto = root / "build" / "quarto" / period
    return {"published": sorted((root / "reports" / period / "notebooks").glob("*.ipynb")),
            "staged": sorted(quarto.glob("chapters/*.ipynb"))
            + sorted(quarto.glob("document/*.ipynb"))}


@pytest.mark.parametrize("period", [ANNUAL, BRIEFING])
def test_every_output_is_of_a_type_quarto_renders(staged, period):
    found = _notebooks(staged, period)
    assert found["published"] and found["staged"]
    figures = 0
    for path in found["published"] + found["staged"]:
        nb = nbformat.read(path, as_version=4)
        for index, cell in enumerate(nb.cells):
            where = f"{path.relative_to(staged)} cell {index}"
            # Cell metadata would become attributes of Quarto's cell div: planbook adds none.
            assert provenance.KEY not in cell.get("metadata", {}), where
            if cell.cell_type != "code":
                continue
            for output in cell.outputs:
                assert set(output.get("data", {})) <= RENDERABLE, where
            label = str(cell_options(cell.source).get("label") or "")
            if label.startswith("fig-"):
                figures += 1
                assert len(cell.outputs) == 1, where
                only = cell.outputs[0]
                assert only.output_type in ("display_data", "execute_result"), where
                assert only.data and set(only.data) <= RENDERABLE, where
                # The figure output carries its own audit record.
                assert provenance.cell_records(nb, index), where
    assert figures or period == BRIEFING


@pytest.mark.parametrize("period", [ANNUAL, BRIEFING])
def test_records_are_read_from_metadata(staged, period):
    """Numbers quoted in asis narrative cells (no display output) are registered too, from
    the notebook's metadata; figures and tables from their output's metadata."""
    entries = register(resolve(period, staged))
    numbers = [e for e in entries if e["kind"] == "number"]
    assert numbers and any(e["kind"] == "table" for e in entries)
    stream_only = 0
    for path in _notebooks(staged, period)["published"]:
        nb = nbformat.read(path, as_version=4)
        assert not provenance.unstored(nb)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and cell.outputs and all(
                    o.output_type == "stream" for o in cell.outputs):
                records = provenance.cell_records(nb, index)
                stream_only += bool(records)
                for r in records:
                    assert any(e["label"] == r["id"] and e["cell_index"] == index
                               for e in numbers), r["id"]
    assert stream_only


def test_store_records_moves_them_out_of_the_outputs():
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    def rec(kind, ident=None):
        return new_output("display_data", data={provenance.MIME: {"kind": kind, "id": ident,
                                                                  "text": "1", "inputs": []}})

    svg = new_output("display_data", data={"image/svg+xml": "<svg/>"})
    stdout = new_output("stream", name="stdout", text="正文\n")
    nb = new_notebook(cells=[
        new_code_cell("#| label: fig-x", outputs=[rec("figure"), svg]),
        new_code_cell("#| output: asis", outputs=[rec("number", "num-a"), stdout,
                                                  rec("number", "num-b")]),
    ])
    nb.cells[1]["id"] = "narrative"
    assert provenance.unstored(nb)
    assert provenance.store_records(nb) == 3 and not provenance.unstored(nb)
    assert provenance.store_records(nb) == 0  # already stored: unchanged
    assert nb.cells[0].outputs == [svg] and nb.cells[1].outputs == [stdout]
    assert [r["kind"] for r in provenance.cell_records(nb, 0)] == ["figure"]
    assert [r["id"] for r in provenance.cell_records(nb, 1)] == ["num-a", "num-b"]
    assert list(nb.metadata["planbook"]["provenance"]) == ["narrative"]
    nbformat.validate(nb)
