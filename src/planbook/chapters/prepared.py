"""A period's report state (data, assessments) prepared once per run, for every chapter.

Each chapter opens its period with `Report.load`, which read the store and assessed all 107
indicators again in every kernel (9 times for an annual report; the briefing also assessed the
previous month). `planbook run` now opens the period once before the kernels start
(`save`), keyed by the run cache's input hashes, and names the file in the kernels'
environment; `Report.load` takes that state when it was prepared for the same parameters
(`load`), and otherwise computes as before (a notebook opened by hand). The state is the
opened Report's own attributes, pickled: the same objects, so every number and provenance
record is what the chapter would have computed itself.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from planbook.plan.params import Params

ENV = "PLANBOOK_PREPARED"  # the prepared file, set in the kernels' environment by `run`
VERSION = 2  # 2: Assessment carries rule and due_share/due_value/due_at


# What every chapter uses, computed before pickling (cached properties of Report/Briefing).
PREPARED = ("assessments", "uses_sample", "village_records", "previous")


def save(rep, path: Path) -> None:
    """Compute what every chapter uses on `rep`, a Report (or Briefing) opened with
    `Report.load(**params)` as the chapters open it, and pickle its attributes to `path`
    (written atomically)."""
    for name in PREPARED:
        getattr(rep, name, None)  # a Report has no `previous`
    state = {"version": VERSION, "params": rep.params, "state": dict(vars(rep))}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            pickle.dump(state, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        # Only a shortcut for the chapters (disk full, read-only folder): without it each
        # chapter opens the period itself, and any fault of the machine surfaces there.
        tmp.unlink(missing_ok=True)


def load(params: Params) -> dict | None:
    """The prepared attributes of the report for `params`, from the file `run` named in the
    kernel's environment, or None (see `read`). A Report's attributes are a subset of a
    Briefing's, so either class can take them."""
    path = os.environ.get(ENV)
    return read(Path(path), params) if path else None


def read(path: Path, params: Params) -> dict | None:
    """The prepared attributes in `path` when they were prepared for `params`; None when not
    (missing or torn file, an older version, another period): the caller computes them."""
    try:
        with open(path, "rb") as fh:
            state = pickle.load(fh)  # noqa: S301 - written by `planbook run` into build/cache
    except Exception:  # noqa: BLE001 - a missing or torn file only costs the computation
        return None
    if not isinstance(state, dict) or state.get("version") != VERSION \
            or state.get("params") != params:
        return None
    return state["state"]
