"""Provenance recording: what each output of a chapter notebook was made from.

Inside a notebook, `record()` attaches a small display output of its own MIME type to the
cell being executed: the number id or output kind, and the data rows used. Neither engine
renders that MIME type; planbook.audit.register builds the register afterwards by reading the
executed notebooks, so each entry knows its cell id and index without any bookkeeping in the
notebook. `num()` and `quote()` are how narrative quotes a number: formatted by
planbook.assess.narrative, recorded here.
"""

from __future__ import annotations

from collections.abc import Iterable

from planbook.assess.narrative import fmt_number

MIME = "application/vnd.planbook.provenance+json"


def input_row(r) -> dict:
    """One data row an output used: indicator, period, revision and the submission file."""
    if isinstance(r, dict):
        get = r.get
    else:
        get = lambda k: getattr(r, k, None)  # noqa: E731 - a namedtuple or an Assessment row
    out = {"indicator_id": get("indicator_id"), "period": str(get("period")),
           "revision": int(get("revision") or 0), "file_sha256": get("file_sha256") or "",
           "file": get("file") or ""}
    if get("rows"):  # village-derived: the records it was computed from, not the whole file
        out["rows"] = str(get("rows"))
    return out


def record(kind: str, ident: str | None = None, *, text: str | None = None,
           inputs: Iterable = ()) -> None:
    """Attach provenance to the current cell's outputs (a no-op outside a kernel)."""
    payload = {"kind": kind, "id": ident, "text": text,
               "inputs": [input_row(r) for r in inputs]}
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython is a dependency
        return
    if get_ipython() is None:
        return
    display({MIME: payload}, raw=True)


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
    """Format a number quoted in narrative and record it (id, text, input rows) for the audit."""
    text = fmt_number(value, unit, digits=digits)
    record("number", number_id, text=text, inputs=inputs)
    return text


_QUOTED: set[str] = set()  # ids already registered in this kernel (one notebook)


def quote(number_id: str, text: str, *, inputs: Iterable = ()) -> str:
    """A sentence computed elsewhere (an assessment's reason) quoted in narrative; its id is
    registered once per notebook however often the sentence is quoted."""
    if number_id not in _QUOTED:
        _QUOTED.add(number_id)
        record("number", number_id, text=text, inputs=inputs)
    return text
