"""Provenance rows stored once per notebook: records refer to them and read back whole."""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from planbook.chapters import provenance


def rec(kind, inputs, ident=None):
    return new_output("display_data", data={provenance.MIME: {
        "kind": kind, "id": ident, "text": "1", "inputs": inputs}})


def row(ind, period):
    return provenance.input_row({"indicator_id": ind, "period": period, "revision": 1,
                                 "file_sha256": "ab" * 32, "file": "observations/x.csv"})


def test_each_row_is_stored_once_and_records_read_back_their_rows():
    a, b, c = row("ind_a", "2024"), row("ind_a", "2025"), row("ind_b", "2025")
    series = [a, b, c, a, b, c]  # a figure's series repeat the rows a table also used
    svg = new_output("display_data", data={"image/svg+xml": "<svg/>"})
    nb = new_notebook(cells=[
        new_code_cell("#| label: fig-x", outputs=[rec("figure", series), svg]),
        new_code_cell("#| output: asis", outputs=[rec("number", [c, a], "num-a")]),
    ])
    nb.cells[1]["id"] = "narrative"
    assert provenance.store_records(nb) == 2
    assert nb.metadata["planbook"]["rows"] == [a, b, c]
    stored = nb.cells[0].outputs[0]["metadata"]["planbook"]["provenance"][0]
    assert stored["rows"] == [0, 1, 2, 0, 1, 2] and "inputs" not in stored
    assert provenance.cell_records(nb, 0)[0]["inputs"] == series
    assert provenance.cell_records(nb, 1) == [{"kind": "number", "id": "num-a", "text": "1",
                                               "inputs": [c, a]}]
    nbformat.validate(nb)
