"""Provenance: what each output of a chapter notebook was made from.

Inside a notebook, `record()` attaches a small display output of its own MIME type to the
cell being executed: the number id or output kind, and the data rows used. Neither engine
renders that MIME type; the register is built afterwards by reading the executed notebooks,
so each entry knows its cell id and index without any bookkeeping in the notebook.
"""

from __future__ import annotations

from collections.abc import Iterable

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
