"""Provenance recording: what each output of a chapter notebook was made from.

Inside a notebook, `record()` notes the number id or output kind and the data rows used.
planbook.audit.register builds the register afterwards by reading the executed notebooks,
so each entry knows its cell id and index without any bookkeeping in the notebook. `num()`
and `quote()` are how narrative quotes a number: formatted by planbook.assess.narrative,
recorded here.

Where the records live (`store_records`, applied to every executed notebook before anything
reads it): a cell's records, in the order made, are the list `metadata.planbook.provenance`
of the cell's first display output (the figure, the table, a narrative cell's text/markdown);
a cell with no display output (narrative that came out empty) keeps them in the notebook's
metadata, `planbook.provenance.<cell id>`. The data rows are stored once per notebook, in
`planbook.rows`, and a record lists their positions there. Quarto reads neither: of an output's metadata it reads only
quarto_order, quarto_display and image sizes, and notebook metadata only for ipynb output,
whereas cell metadata would become attributes of the cell's div (/work/quarto-findings.md
§1). So a figure cell keeps exactly one output, the figure, and Quarto gives it the caption.

In the kernel, `record()` still travels as a display output of its own MIME type (the kernel
cannot write into an output already sent, nor into the notebook); `store_records` takes those
outputs out again. `cell_records` is the one reader.
"""

from __future__ import annotations

from collections.abc import Iterable

from planbook.assess.narrative import fmt_number

MIME = "application/vnd.planbook.provenance+json"
REGISTRY_INPUT = "registry:"  # an input row's id prefix when it stands for a registry entry


def _given(value) -> bool:
    """A field with a value: not None, "" or a missing cell (NaN, NA from a frame's records)."""
    if value is None or (isinstance(value, float) and value != value):
        return False
    return str(value) not in ("", "<NA>")


def input_row(r) -> dict:
    """One data row an output used: indicator, period, revision and the submission file."""
    if isinstance(r, dict):
        get = r.get
    else:
        get = lambda k: getattr(r, k, None)  # noqa: E731 - a namedtuple or an Assessment row
    text = lambda k: str(get(k)) if _given(get(k)) else ""  # noqa: E731
    out = {"indicator_id": get("indicator_id"), "period": str(get("period")),
           "revision": int(get("revision") if _given(get("revision")) else 0),
           "file_sha256": text("file_sha256"), "file": text("file")}
    if text("rows"):  # village-derived: the records it was computed from, not the whole file
        out["rows"] = text("rows")
    # A quoted department statement points into its submission: sheet, row, store file.
    for key in ("sheet", "row", "store"):
        if _given(get(key)):
            out[key] = int(get(key)) if key == "row" else str(get(key))
    return out


def record(kind: str, ident: str | None = None, *, text: str | None = None,
           inputs: Iterable = (), value: float | None = None) -> None:
    """Record provenance for the current cell (a no-op outside a kernel); sent as a display
    output of type MIME, which `store_records` moves into metadata after the run. `value`:
    a quoted number's value before formatting (its register hash covers it)."""
    payload = {"kind": kind, "id": ident, "text": text,
               "inputs": [input_row(r) for r in inputs]}
    if value is not None:
        payload["value"] = value
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython is a dependency
        return
    if get_ipython() is None:
        return
    display({MIME: payload}, raw=True)


# ---------------------------------------------------------------- where records are stored

DISPLAY_OUTPUTS = ("display_data", "execute_result")
KEY = "planbook"  # the metadata key (output and notebook) holding planbook's records


def _display_outputs(cell) -> list:
    return [o for o in cell.get("outputs", []) if o.get("output_type") in DISPLAY_OUTPUTS]


def _row_key(row: dict) -> tuple:
    return tuple(sorted(row.items()))


def store_records(nb) -> int:
    """Move the records `record()` sent as MIME outputs into metadata (in place): the cell's
    first display output, else the notebook's `planbook.provenance.<cell id>`. Returns how
    many were moved; a notebook already stored is left as it is.

    A data row is stored once per notebook, in `planbook.rows`; a record lists the positions
    of its rows there (`rows`) instead of the rows (`inputs`): the same rows were repeated by
    every figure series, table and number resting on them (cell_records gives them back)."""
    moved = 0
    by_cell: dict[str, list[dict]] = {}
    table = list(nb.metadata.get(KEY, {}).get("rows", []))
    position = {_row_key(r): n for n, r in enumerate(table)}

    def compact(payload: dict) -> dict:
        out = {k: v for k, v in payload.items() if k != "inputs"}
        refs = []
        for row in payload.get("inputs", []):
            key = _row_key(row)
            if key not in position:
                position[key] = len(table)
                table.append(row)
            refs.append(position[key])
        out["rows"] = refs
        return out

    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        payloads = [compact(o["data"][MIME]) for o in _display_outputs(cell)
                    if MIME in o.get("data", {})]
        if not payloads:
            continue
        cell["outputs"] = [o for o in cell["outputs"] if MIME not in o.get("data", {})]
        moved += len(payloads)
        shown = _display_outputs(cell)
        if shown:
            meta = shown[0].setdefault("metadata", {}).setdefault(KEY, {})
            meta["provenance"] = list(meta.get("provenance", [])) + payloads
        else:
            by_cell.setdefault(str(cell.get("id") or index), []).extend(payloads)
    if by_cell:
        meta = nb.metadata.setdefault(KEY, {})
        meta["provenance"] = {**meta.get("provenance", {}), **by_cell}
    if table:
        nb.metadata.setdefault(KEY, {})["rows"] = table
    return moved


def unstored(nb) -> bool:
    """True when `nb` still carries records as MIME outputs (not passed through
    store_records, e.g. executed by an older planbook)."""
    return any(MIME in o.get("data", {}) for c in nb.cells if c.get("cell_type") == "code"
               for o in _display_outputs(c))


def cell_records(nb, index: int) -> list[dict]:
    """The records of cell `index`, in the order `record()` made them, each with its
    `inputs` (the data rows, from the notebook's row table)."""
    cell = nb.cells[index]
    records = None
    for output in _display_outputs(cell):
        stored = output.get("metadata", {}).get(KEY, {}).get("provenance")
        if stored is not None:
            records = stored
            break
    if records is None:
        records = nb.metadata.get(KEY, {}).get("provenance", {}).get(
            str(cell.get("id") or index), [])
    table = nb.metadata.get(KEY, {}).get("rows", [])
    out = []
    for r in records:
        if "rows" in r:
            r = {**{k: v for k, v in r.items() if k != "rows"},
                 "inputs": [dict(table[n]) for n in r["rows"]]}
        out.append(dict(r))
    return out


# ---------------------------------------------------------------- output bytes

IMAGE_TYPES = ("image/svg+xml", "image/png", "image/jpeg")
TABLE_TYPES = ("text/markdown", "text/html")


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def output_bytes(data: dict) -> bytes | None:
    """The bytes a figure or table output publishes: SVG text as written to the HTML book's
    figure file, PNG/JPEG decoded; a table's pipe-table markdown (else its HTML)."""
    import base64

    for mime in IMAGE_TYPES:
        if mime in data:
            raw = _text(data[mime])
            return raw.encode("utf-8") if mime == "image/svg+xml" else base64.b64decode(raw)
    for mime in TABLE_TYPES:
        if mime in data:
            return _text(data[mime]).encode("utf-8")
    return None


# ---------------------------------------------------------------- quoted numbers

def num(number_id: str, value: float | None, unit: str = "", *, inputs: Iterable = (),
        digits: int | None = None) -> str:
    """Format a number quoted in narrative and record it (id, text, value, input rows) for the
    audit."""
    text = fmt_number(value, unit, digits=digits)
    # A plain float for the JSON record (numpy scalars are not JSON); NaN has no value.
    plain = None if value is None or value != value else float(value)
    record("number", number_id, text=text, inputs=inputs, value=plain)
    return text


_QUOTED: set[str] = set()  # ids already registered in this kernel (one notebook)


def quote(number_id: str, text: str, *, inputs: Iterable = ()) -> str:
    """A sentence computed elsewhere (an assessment's reason) quoted in narrative; its id is
    registered once per notebook however often the sentence is quoted."""
    if number_id not in _QUOTED:
        _QUOTED.add(number_id)
        record("number", number_id, text=text, inputs=inputs)
    return text
