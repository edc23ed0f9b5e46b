"""planbook's papermill engine: nbclient execution that writes the notebook once, at the end.

papermill's own engine rewrites the whole output notebook at every cell's start and end, so a
chapter's cost grew with cells × notebook size (60% of the parent's busy CPU, measured). This
engine keeps everything else of papermill (parameter injection, metadata.papermill, cell
statuses, PapermillExecutionError) and saves only in `notebook_complete`, which papermill calls
whether the run succeeded or not: a failed or crashed chapter still leaves its partial notebook.
"""

from __future__ import annotations

from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

ENGINE = "planbook"


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
        nb_man = _SaveAtEnd(nb, output_path=output_path, progress_bar=progress_bar,
                            log_output=log_output, autosave_cell_every=autosave_cell_every)
        nb_man.notebook_start()
        try:
            cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
        finally:
            nb_man.cleanup_pbar()
            nb_man.notebook_complete()
        return nb_man.nb


papermill_engines.register(ENGINE, SaveAtEndEngine)
