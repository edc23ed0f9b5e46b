"""planbook's papermill engine: nbclient execution that writes the notebook once, at the end.

papermill's own engine rewrites the whole output notebook at every cell's start and end, so a
chapter's cost grew with cells × notebook size (60% of the parent's busy CPU, measured). This
engine keeps everything else of papermill (parameter injection, metadata.papermill, cell
statuses, PapermillExecutionError) and saves only in `notebook_complete`, which papermill calls
whether the run succeeded or not: a failed or crashed chapter still leaves its partial notebook.

`planbook run` goes one step further: it gives no output path (papermill then writes nothing,
not even its final copy) and takes the executed notebook from the KEEP list, to finish it in
memory and write it once, or to keep it as it stands when the chapter failed.
"""

from __future__ import annotations

from nbformat.v4 import new_notebook
from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

ENGINE = "planbook"
# An engine argument: a list the executed notebook is appended to, also when execution failed
# (planbook runs without an output path and writes the notebook itself, once).
KEEP = "planbook_keep"


class _SaveAtEnd(NotebookExecutionManager):
    """papermill's execution manager, writing the notebook only when execution concluded."""

    _final = False

    def save(self, **kwargs):
        if self._final:
            super().save(**kwargs)

    def notebook_complete(self, **kwargs):
        self._final = True  # papermill calls this in a `finally`: success, error or dead kernel
        super().notebook_complete(**kwargs)


class SaveAtEndEngine(NBClientEngine):
    @classmethod
    def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=True,
                         log_output=False, autosave_cell_every=30, **kwargs):
        # Engine.execute_notebook with our manager; kept in step with papermill 2.x.
        keep = kwargs.pop(KEEP, None)
        nb_man = _SaveAtEnd(nb, output_path=output_path, progress_bar=progress_bar,
                            log_output=log_output, autosave_cell_every=autosave_cell_every)
        if keep is not None:
            keep.append(nb_man.nb)  # papermill edits this object in place (its error markers)
        nb_man.notebook_start()
        try:
            cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
        finally:
            nb_man.cleanup_pbar()
            nb_man.notebook_complete()
        if keep is not None and not _failed(nb_man.nb):
            # papermill serializes what we return even without an output path (0.13 s for the
            # 4.7 MB 指标档案); the caller has the notebook. A failed one goes back: papermill
            # marks its error cell in it and raises PapermillExecutionError.
            return new_notebook(metadata=nb_man.nb.metadata)
        return nb_man.nb


def _failed(nb) -> bool:
    """What papermill's raise_for_execution_errors looks for: an error output or a cell marked
    with an exception (a SystemExit(0) counts too here: papermill then decides)."""
    return any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", ())
               ) or any(c.get("metadata", {}).get("papermill", {}).get("exception")
                        for c in nb.cells)


papermill_engines.register(ENGINE, SaveAtEndEngine)
